#include <catch2/catch.hpp>

#include <string>

#include "protocol/frame_reader.hpp"

using namespace wsbridge::protocol;

namespace {

std::optional<std::string> read(std::string_view frame, ClientFrameFields& fields,
                                std::size_t keep_bytes = 64) {
    return read_client_frame(frame, keep_bytes, fields);
}

std::string nested_arrays(std::size_t depth) {
    return "{\"x\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

}  // namespace

TEST_CASE("the reader keeps the four known top-level fields", "[frame_reader]") {
    ClientFrameFields f;
    REQUIRE_FALSE(read(R"({"id":-7,"data":"a\u00e9","format":"text","type":"data"})", f));
    CHECK(f.type.kind == JsonKind::string);
    CHECK(f.type.text == "data");
    CHECK(f.format.text == "text");
    CHECK(f.data.kind == JsonKind::string);
    CHECK(f.data.length == 3);
    CHECK(f.data_bytes == srmudp::Bytes{'a', 0xC3, 0xA9});
    CHECK(f.id.kind == JsonKind::integer);
    CHECK(f.id.integer == -7);
}

TEST_CASE("the reader skips unknown fields and everything nested", "[frame_reader]") {
    ClientFrameFields f;
    REQUIRE_FALSE(read(R"({"x":{"type":"nested","data":[1,{"id":2}]},"type":"data","y":[]})", f));
    CHECK(f.type.text == "data");
    CHECK(f.data.kind == JsonKind::absent);
    CHECK(f.id.kind == JsonKind::absent);
    CHECK(f.format.kind == JsonKind::absent);
}

TEST_CASE("the reader records the kind of each known field", "[frame_reader]") {
    const std::pair<std::string_view, JsonKind> cases[] = {
        {R"({"id":null})", JsonKind::null},
        {R"({"id":false})", JsonKind::boolean},
        {R"({"id":9223372036854775807})", JsonKind::integer},
        {R"({"id":-9223372036854775808})", JsonKind::integer},
        {R"({"id":9223372036854775808})", JsonKind::big_integer},
        {R"({"id":18446744073709551615})", JsonKind::big_integer},
        {R"({"id":1.0})", JsonKind::fraction},
        {R"({"id":1e2})", JsonKind::fraction},
        {R"({"id":"s"})", JsonKind::string},
        {R"({"id":{"a":1}})", JsonKind::object},
        {R"({"id":[1]})", JsonKind::array},
    };
    for (const auto& [frame, kind] : cases) {
        CAPTURE(frame);
        ClientFrameFields f;
        REQUIRE_FALSE(read(frame, f));
        CHECK(f.id.kind == kind);
    }
    ClientFrameFields f;
    REQUIRE_FALSE(read(R"({"id":-9223372036854775808})", f));
    CHECK(f.id.integer == INT64_MIN);
}

TEST_CASE("the reader keeps a bounded prefix of long strings", "[frame_reader]") {
    ClientFrameFields f;
    const std::string long_type(1000, 't');
    REQUIRE_FALSE(read("{\"type\":\"" + long_type + "\"}", f, 10));
    CHECK(f.type.text == std::string(10, 't'));
    CHECK(f.type.length == 1000);
}

TEST_CASE("the reader refuses frames that are not a JSON object", "[frame_reader]") {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"[1,2]", "got an array"}, {"\"data\"", "got a string"}, {"42", "got an integer"},
        {"null", "got null"},      {"true", "got a boolean"},    {"1.5", "got a number"}};
    for (const auto& [frame, got] : cases) {
        CAPTURE(frame);
        ClientFrameFields f;
        const auto error = read(frame, f);
        REQUIRE(error);
        CHECK_THAT(*error, Catch::StartsWith("a frame must be a JSON object"));
        CHECK_THAT(*error, Catch::Contains(std::string(got)));
    }
}

TEST_CASE("the reader reports JSON syntax errors with their offset", "[frame_reader]") {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"", "invalid JSON at offset 0: the frame is empty"},
        {"   ", "invalid JSON at offset 3: the frame is empty"},
        {R"({"type":"data)", "invalid JSON at offset 13: missing a closing quote"},
        {R"({"type" "data"})", "invalid JSON at offset 8: expected ':' after a field name"},
        {R"({"type":"data",})",
         "invalid JSON at offset 15: expected a field name in double quotes"},
        {R"({"a":1} x)", "invalid JSON at offset 8: unexpected text after the JSON value"},
        {R"({"a":1}{})", "invalid JSON at offset 7: unexpected text after the JSON value"},
        {R"({"a":nan})", "invalid JSON at offset 6: not a valid JSON value"},
        {R"({"a":1 /* c */})", "invalid JSON at offset 7: expected ',' or '}' after a field"},
        {R"({"a":"\x"})", "invalid JSON at offset 6: invalid escape sequence in a string"},
        {R"({"a":"\ud800"})", "unpaired UTF-16 surrogate"},
        {R"({"a":"\ud800\u0041"})", "unpaired UTF-16 surrogate"},
        {R"({"a":"x\udc00"})",
         "invalid JSON at offset 14: a \\u escape is an unpaired UTF-16 surrogate"},
        {R"({"data":"\udfff","type":"data"})", "unpaired UTF-16 surrogate"},
        {R"({"\udc00":1})", "unpaired UTF-16 surrogate"},
        {R"({"x":["\ude00"]})", "unpaired UTF-16 surrogate"},
        {R"({"a":"\u12G4"})", "four hex digits"},
        {"{\"a\":\"\xC3\x28\"}", "a string is not valid UTF-8"},
        {"{\"a\":\"\xED\xA0\x80\"}", "a string is not valid UTF-8"},
        {R"({"a":1.})", "missing digits after a decimal point"},
        {R"({"a":1e})", "missing digits in an exponent"},
        {R"({"a":[1 2]})", "expected ',' or ']' after an array element"},
    };
    for (const auto& [frame, expected] : cases) {
        CAPTURE(frame);
        ClientFrameFields f;
        const auto error = read(frame, f);
        REQUIRE(error);
        CHECK_THAT(*error, Catch::Contains(std::string(expected)));
    }
}

TEST_CASE("a NUL byte in the frame is an error - not an early end", "[frame_reader]") {
    ClientFrameFields f;
    const auto error = read(std::string_view("{\"a\":1}\0junk", 12), f);
    REQUIRE(error);
    CHECK(*error == "invalid JSON at offset 7: a NUL byte is not allowed in JSON text");
    // An escaped NUL inside a string is fine.
    ClientFrameFields g;
    REQUIRE_FALSE(read(R"({"data":"a\u0000b"})", g));
    CHECK(g.data_bytes == srmudp::Bytes{'a', 0, 'b'});
}

TEST_CASE("the reader bounds nesting depth", "[frame_reader]") {
    ClientFrameFields f;
    CHECK_FALSE(read(nested_arrays(kMaxJsonDepth - 1), f));  // object + 63 arrays = 64 levels
    const auto error = read(nested_arrays(kMaxJsonDepth), f);
    REQUIRE(error);
    CHECK(*error == "JSON nested deeper than 64 levels");
    // A million open brackets are refused at level 65, not after recursing a million times.
    const auto deep = read("{\"x\":" + std::string(1'000'000, '['), f);
    REQUIRE(deep);
    CHECK(*deep == "JSON nested deeper than 64 levels");
}

TEST_CASE("a known field given twice is refused - an unknown one is not", "[frame_reader]") {
    for (std::string_view name : {"type", "format", "data", "id"}) {
        CAPTURE(name);
        ClientFrameFields f;
        const std::string n(name);
        const auto error = read("{\"" + n + "\":1,\"x\":{},\"" + n + "\":2}", f);
        REQUIRE(error);
        CHECK(*error == "field '" + n + "' appears more than once");
    }
    ClientFrameFields f;
    CHECK_FALSE(read(R"({"x":1,"x":2,"type":"data"})", f));
    // Escapes in names are resolved before comparing.
    const auto escaped = read(R"({"type":"data","t\u0079pe":"data"})", f);
    REQUIRE(escaped);
    CHECK_THAT(*escaped, Catch::Contains("'type'"));
}

TEST_CASE("describe names JSON kinds for error messages", "[frame_reader]") {
    CHECK(describe(JsonKind::array) == "an array");
    CHECK(describe(JsonKind::object) == "an object");
    CHECK(describe(JsonKind::string) == "a string");
    CHECK(describe(JsonKind::big_integer) == "an integer");
}
