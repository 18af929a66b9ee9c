#include <catch2/catch.hpp>

#include <string>

#include "protocol/base64.hpp"
#include "wsbridge/protocol.hpp"

using namespace wsbridge;
using protocol::Base64Fault;

namespace {

srmudp::Bytes bytes_of(std::string_view text) {
    return srmudp::to_bytes(srmudp::as_bytes(text));
}

std::optional<Base64Fault> fault_of(std::string_view text) {
    srmudp::Bytes out;
    return protocol::base64_decode_into(text, out);
}

}  // namespace

TEST_CASE("base64 matches the RFC 4648 section 10 test vectors", "[base64]") {
    const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                     {"f", "Zg=="},
                                                                     {"fo", "Zm8="},
                                                                     {"foo", "Zm9v"},
                                                                     {"foob", "Zm9vYg=="},
                                                                     {"fooba", "Zm9vYmE="},
                                                                     {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        CAPTURE(plain);
        CHECK(base64_encode(srmudp::as_bytes(plain)) == encoded);
        const auto decoded = base64_decode(encoded);
        REQUIRE(decoded);
        CHECK(*decoded == bytes_of(plain));
    }
}

TEST_CASE("base64 uses the standard alphabet - '+' and '/'", "[base64]") {
    const srmudp::Bytes high = {0xFB, 0xFF};
    CHECK(base64_encode(high) == "+/8=");
    CHECK(base64_decode("+/8=") == high);
    CHECK_FALSE(base64_decode("-_8="));  // the URL-safe alphabet (section 5) is not accepted
}

TEST_CASE("base64 round-trips every byte value at every length remainder", "[base64]") {
    srmudp::Bytes all(256);
    for (std::size_t i = 0; i < all.size(); ++i)
        all[i] = static_cast<std::uint8_t>(i);
    for (std::size_t length = 0; length <= all.size(); ++length) {
        const srmudp::Bytes input(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(length));
        const std::string encoded = base64_encode(input);
        CHECK(encoded.size() == (length + 2) / 3 * 4);
        CHECK(protocol::base64_decoded_size(encoded) == length);
        const auto decoded = base64_decode(encoded);
        REQUIRE(decoded);
        CHECK(*decoded == input);
    }
}

TEST_CASE("base64 rejects lengths that are not a multiple of 4", "[base64]") {
    for (std::string_view text : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9v\n", "Zm9vYg==="}) {
        CAPTURE(text);
        const auto fault = fault_of(text);
        REQUIRE(fault);
        CHECK(fault->kind == Base64Fault::Kind::bad_length);
        CHECK(fault->position == text.size());
    }
    CHECK(protocol::describe(*fault_of("Zm9vY")) == "its length 5 is not a multiple of 4");
}

TEST_CASE("base64 rejects characters outside the alphabet - whitespace included", "[base64]") {
    const std::pair<std::string_view, std::size_t> cases[] = {
        {"abcd!fgh", 4}, {"Zm 9", 2}, {"Zm9v\r\nZg", 4}, {"Zm9v\tZg=", 4},
        {"Zm9-", 3},     {"Zm9_", 3}, {"\xC3\xA9QQ", 0}, {std::string_view("Zm\0v", 4), 2}};
    for (const auto& [text, position] : cases) {
        CAPTURE(text);
        const auto fault = fault_of(text);
        REQUIRE(fault);
        CHECK(fault->kind == Base64Fault::Kind::bad_character);
        CHECK(fault->position == position);
    }
    CHECK(protocol::describe(*fault_of("abcd!fgh")) == "character 5 is '!'");
    CHECK(protocol::describe(*fault_of("Zm 9")) == "character 3 is ' '");
    CHECK(protocol::describe(*fault_of("Zm9v\nZg=")) == "character 5 is '\\x0a'");
}

TEST_CASE("base64 accepts '=' only as the last one or two characters", "[base64]") {
    const std::pair<std::string_view, std::size_t> cases[] = {
        {"Z===", 1}, {"====", 0}, {"=Zg=", 0}, {"Zg==Zg==", 2}, {"Zm=v", 2}, {"Zg=v", 2}};
    for (const auto& [text, position] : cases) {
        CAPTURE(text);
        const auto fault = fault_of(text);
        REQUIRE(fault);
        CHECK(fault->kind == Base64Fault::Kind::misplaced_padding);
        CHECK(fault->position == position);
    }
    CHECK(protocol::describe(*fault_of("Zg==Zg==")) ==
          "padding '=' at character 3 is not at the end");
}

TEST_CASE("base64 rejects non-canonical encodings with pad bits set", "[base64]") {
    // "Zh==": 'h' = 0b100001 leaves 0001 after the byte; "Zm9=": '9' = 0b111101 leaves 01.
    for (std::string_view text : {"Zh==", "Zm9=", "Zm9vZm9vZh=="}) {
        CAPTURE(text);
        const auto fault = fault_of(text);
        REQUIRE(fault);
        CHECK(fault->kind == Base64Fault::Kind::nonzero_bits);
        CHECK(fault->position == text.size() - (text[text.size() - 2] == '=' ? 3 : 2));
    }
    CHECK(base64_decode("Zg=="));
    CHECK(base64_decode("Zm8="));
    CHECK_THAT(protocol::describe(*fault_of("Zh==")), Catch::Contains("character 2 'h'"));
}

TEST_CASE("base64_decoded_size counts padding", "[base64]") {
    CHECK(protocol::base64_decoded_size("") == 0);
    CHECK(protocol::base64_decoded_size("Zg==") == 1);
    CHECK(protocol::base64_decoded_size("Zm8=") == 2);
    CHECK(protocol::base64_decoded_size("Zm9v") == 3);
    CHECK(protocol::base64_decoded_size("Zm9vZm9vZm9v") == 9);
}

TEST_CASE("base64_append appends to what is there", "[base64]") {
    std::string out = "prefix:";
    protocol::base64_append(srmudp::as_bytes("foo"), out);
    CHECK(out == "prefix:Zm9v");
}
