#include <catch2/catch.hpp>

#include <string>

#include "protocol/utf8.hpp"
#include "wsbridge/protocol.hpp"

using namespace wsbridge::protocol;

TEST_CASE("well-formed UTF-8 is accepted up to the edges of RFC 3629", "[utf8]") {
    for (std::string_view text : std::initializer_list<std::string_view>{
             "", "plain ASCII \x01\x7F",
             "\xC2\x80",                  // U+0080, smallest two-byte form
             "\xC3\xA9",                  // e acute
             "\xDF\xBF",                  // U+07FF
             "\xE0\xA0\x80",              // U+0800, smallest three-byte form
             "\xE2\x82\xAC",              // euro sign
             "\xED\x9F\xBF",              // U+D7FF, just below the surrogates
             "\xEE\x80\x80",              // U+E000, just above them
             "\xEF\xBF\xBF",              // U+FFFF
             "\xF0\x90\x80\x80",          // U+10000, smallest four-byte form
             "\xF0\x9F\x98\x80",          // grinning face
             "\xF4\x8F\xBF\xBF",          // U+10FFFF, the last code point
             std::string_view("a\0b", 3)  // NUL is a character like any other
         }) {
        CAPTURE(text);
        CHECK(is_valid_utf8(text));
        CHECK(to_valid_utf8(text) == text);
    }
}

TEST_CASE("ill-formed UTF-8 is rejected", "[utf8]") {
    for (std::string_view text : {
             "\x80",              // lone continuation byte
             "\xBF",              //
             "\xC0\x80",          // overlong NUL
             "\xC1\xBF",          // overlong
             "\xE0\x80\x80",      // overlong three-byte
             "\xE0\x9F\xBF",      // overlong U+07FF
             "\xED\xA0\x80",      // U+D800 surrogate
             "\xED\xBF\xBF",      // U+DFFF surrogate
             "\xF0\x8F\xBF\xBF",  // overlong four-byte
             "\xF4\x90\x80\x80",  // U+110000
             "\xF5\x80\x80\x80",  // lead byte beyond U+10FFFF
             "\xFF",              //
             "\xE2\x82",          // truncated
             "\xF0\x9F\x98",      // truncated
             "\xC3",              // truncated at the end
             "ok\xC3(",           // bad continuation
         }) {
        CAPTURE(text);
        CHECK_FALSE(is_valid_utf8(text));
        CHECK(is_valid_utf8(to_valid_utf8(text)));
    }
}

TEST_CASE("utf8_sequence_length measures one character", "[utf8]") {
    CHECK(utf8_sequence_length("") == 0);
    CHECK(utf8_sequence_length("ab") == 1);
    CHECK(utf8_sequence_length("\xC3\xA9x") == 2);
    CHECK(utf8_sequence_length("\xE2\x82\xAC") == 3);
    CHECK(utf8_sequence_length("\xF0\x9F\x98\x80") == 4);
    CHECK(utf8_sequence_length("\xF0\x9F\x98") == 0);
}

TEST_CASE("to_valid_utf8 replaces each bad byte by U+FFFD and keeps the rest", "[utf8]") {
    CHECK(to_valid_utf8("a\xFF"
                        "b") ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(to_valid_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(to_valid_utf8("\xC3\xA9\xC0\x80") == "\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("printable_excerpt escapes and cuts", "[utf8]") {
    CHECK(printable_excerpt("hex", 32) == "hex");
    CHECK(printable_excerpt("a\nb\x7F", 32) == "a\\x0ab\\x7f");
    CHECK(printable_excerpt("\xC3\xA9", 32) == "\\xc3\\xa9");
    CHECK(printable_excerpt("abcdef", 3) == "abc...");
    CHECK(printable_excerpt("abc", 3) == "abc");
    CHECK(printable_excerpt("", 3).empty());
}

TEST_CASE("the public is_valid_utf8 takes bytes", "[utf8]") {
    const srmudp::Bytes good = {0xE2, 0x82, 0xAC};
    const srmudp::Bytes bad = {0xED, 0xA0, 0x80};
    CHECK(wsbridge::is_valid_utf8(good));
    CHECK_FALSE(wsbridge::is_valid_utf8(bad));
    CHECK(wsbridge::is_valid_utf8(srmudp::ByteView()));
}
