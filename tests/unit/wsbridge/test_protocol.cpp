#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "wsbridge/protocol.hpp"

using namespace wsbridge;
using srmudp::MessageKind;

namespace {

const Limits kDefault;

ClientData decode_ok(std::string_view frame, const Limits& limits = kDefault) {
    auto result = decode_client_text_frame(frame, limits);
    if (const auto* error = std::get_if<FrameError>(&result)) FAIL(error->message);
    return std::get<ClientData>(std::move(result));
}

FrameError decode_error(std::string_view frame, const Limits& limits = kDefault) {
    auto result = decode_client_text_frame(frame, limits);
    REQUIRE(std::holds_alternative<FrameError>(result));
    return std::get<FrameError>(std::move(result));
}

srmudp::Bytes bytes_of(std::string_view text) {
    return srmudp::to_bytes(srmudp::as_bytes(text));
}

std::string data_frame(std::string_view format, std::string_view data_json) {
    return "{\"type\":\"data\",\"format\":\"" + std::string(format) +
           "\",\"data\":" + std::string(data_json) + "}";
}

}  // namespace

// ---- Decoding client frames -----------------------------------------------------------------

TEST_CASE("the seed's text and binary data frames decode", "[protocol]") {
    const ClientData text = decode_ok(R"({"type":"data","format":"text","data":"Nachricht"})");
    CHECK(text.kind == MessageKind::text);
    CHECK(text.data == bytes_of("Nachricht"));
    CHECK_FALSE(text.id);

    const ClientData binary = decode_ok(R"({"type":"data","format":"binary","data":"AAEC/w=="})");
    CHECK(binary.kind == MessageKind::binary);
    CHECK(binary.data == srmudp::Bytes{0, 1, 2, 0xFF});
}

TEST_CASE("field order - whitespace and unknown fields do not matter", "[protocol]") {
    const ClientData d = decode_ok(
        "{\n  \"data\" : \"x\",\n  \"extra\": {\"a\": [1, {\"b\": null}]},\n"
        "  \"format\": \"text\", \"version\": 2,\r\n \"type\": \"data\"\t}\n");
    CHECK(d.kind == MessageKind::text);
    CHECK(d.data == bytes_of("x"));
}

TEST_CASE("JSON escapes in text data are decoded to UTF-8", "[protocol]") {
    const ClientData d = decode_ok(data_frame("text", R"("\u00e9\ud83d\ude00\n\"\\\/\u0000")"));
    CHECK(d.data == bytes_of(std::string_view("\xC3\xA9\xF0\x9F\x98\x80\n\"\\/\0", 11)));
}

TEST_CASE("a lone low surrogate escape never becomes invalid UTF-8 text", "[protocol]") {
    const FrameError e = decode_error(data_frame("text", R"("ok\udc00")"));
    CHECK(e.severity == Severity::recoverable);
    CHECK_THAT(e.message, Catch::StartsWith("invalid JSON at offset"));
    CHECK_THAT(e.message, Catch::Contains("unpaired UTF-16 surrogate"));
}

TEST_CASE("empty messages are messages", "[protocol]") {
    CHECK(decode_ok(data_frame("text", "\"\"")).data.empty());
    const ClientData binary = decode_ok(data_frame("binary", "\"\""));
    CHECK(binary.kind == MessageKind::binary);
    CHECK(binary.data.empty());
}

TEST_CASE("ids are kept exactly as the client wrote them", "[protocol]") {
    const auto id_of = [](std::string_view id_json) {
        const ClientData d = decode_ok(R"({"type":"data","format":"text","data":"x","id":)" +
                                       std::string(id_json) + "}");
        REQUIRE(d.id);
        return *d.id;
    };
    CHECK(id_of("\"m-1\"") == MessageTag{std::string("m-1")});
    CHECK(id_of("42") == MessageTag{std::int64_t{42}});
    CHECK(id_of("\"42\"") == MessageTag{std::string("42")});  // a string stays a string
    CHECK(id_of("-1") == MessageTag{std::int64_t{-1}});
    CHECK(id_of("9223372036854775807") == MessageTag{std::numeric_limits<std::int64_t>::max()});
    CHECK(id_of("-9223372036854775808") == MessageTag{std::numeric_limits<std::int64_t>::min()});
    CHECK(id_of("\"\\u00f1\"") == MessageTag{std::string("\xC3\xB1")});
    CHECK(id_of("\"" + std::string(256, 'i') + "\"") == MessageTag{std::string(256, 'i')});

    CHECK(encode_ack(id_of("\"m-1\"")) == R"({"type":"ack","id":"m-1"})");
    CHECK(encode_ack(id_of("42")) == R"({"type":"ack","id":42})");
    CHECK(encode_ack(id_of("\"42\"")) == R"({"type":"ack","id":"42"})");
    CHECK(encode_ack(id_of("-9223372036854775808")) ==
          R"({"type":"ack","id":-9223372036854775808})");
}

TEST_CASE("bad ids are recoverable errors naming 'id'", "[protocol]") {
    for (std::string_view id : {"1.5", "1e3", "true", "null", "[1]", "{}", "9223372036854775808"}) {
        CAPTURE(id);
        const FrameError e = decode_error(R"({"type":"data","format":"text","data":"x","id":)" +
                                          std::string(id) + "}");
        CHECK(e.severity == Severity::recoverable);
        CHECK_THAT(e.message, Catch::Contains("'id'"));
        CHECK_FALSE(e.id);
    }
    const FrameError too_long = decode_error(R"({"type":"data","format":"text","data":"x","id":")" +
                                             std::string(257, 'i') + "\"}");
    CHECK(too_long.message == "field 'id' is 257 bytes long; the limit is 256");
    CHECK(decode_error(R"({"type":"data","format":"text","data":"x","id":true})").message ==
          "field 'id' must be a string or an integer, got a boolean");
}

TEST_CASE("errors after a valid id carry the id for the error frame", "[protocol]") {
    const FrameError format = decode_error(R"({"type":"data","format":"hex","data":"x","id":7})");
    REQUIRE(format.id);
    CHECK(*format.id == MessageTag{std::int64_t{7}});
    const FrameError type = decode_error(R"({"type":"ping","id":"a"})");
    REQUIRE(type.id);
    CHECK(*type.id == MessageTag{std::string("a")});
    const FrameError base64 =
        decode_error(R"({"type":"data","format":"binary","data":"!","id":"b"})");
    REQUIRE(base64.id);
    CHECK(*base64.id == MessageTag{std::string("b")});
    const Limits small = Limits::for_message_size(2);
    const FrameError big =
        decode_error(R"({"type":"data","format":"text","data":"xyz","id":3})", small);
    CHECK(big.severity == Severity::close_too_big);
    REQUIRE(big.id);
    CHECK(*big.id == MessageTag{std::int64_t{3}});
}

TEST_CASE("invalid JSON is a recoverable error with its offset", "[protocol]") {
    const FrameError e = decode_error(R"({"type":"data","format":"text","data":"abc})");
    CHECK(e.severity == Severity::recoverable);
    CHECK(e.message == "invalid JSON at offset 43: missing a closing quote");
    CHECK_FALSE(e.id);
    CHECK(decode_error("{\"type\":\"data\",\"data\":\"\xFF\"}").severity == Severity::recoverable);
    CHECK(decode_error("").severity == Severity::recoverable);
}

TEST_CASE("JSON that is not an object is a recoverable error", "[protocol]") {
    for (std::string_view frame : {"[]", "\"data\"", "1", "null", "false"}) {
        CAPTURE(frame);
        const FrameError e = decode_error(frame);
        CHECK(e.severity == Severity::recoverable);
        CHECK_THAT(e.message, Catch::Contains("JSON object"));
    }
}

TEST_CASE("a missing - mistyped or unknown type is a recoverable error naming 'type'",
          "[protocol]") {
    const FrameError missing = decode_error(R"({"format":"text","data":"x"})");
    CHECK(missing.severity == Severity::recoverable);
    CHECK(missing.message == "field 'type' is missing; a client frame has \"type\":\"data\"");
    const FrameError mistyped = decode_error(R"({"type":["data"],"format":"text","data":"x"})");
    CHECK(mistyped.message == "field 'type' must be the string \"data\", got an array");
    const FrameError unknown = decode_error(R"({"type":"status","format":"text","data":"x"})");
    CHECK(unknown.severity == Severity::recoverable);
    CHECK(unknown.message ==
          "unknown frame type \"status\" in field 'type'; a client frame has \"type\":\"data\"");
    CHECK_THAT(decode_error(R"({"type":"Data"})").message, Catch::Contains("\"Data\""));
    CHECK_THAT(decode_error(R"({"type":"data\u0000"})").message, Catch::Contains("'type'"));
}

TEST_CASE("format is required and must be text or binary", "[protocol]") {
    const FrameError missing = decode_error(R"({"type":"data","data":"x"})");
    CHECK(missing.severity == Severity::recoverable);
    CHECK(missing.message == "field 'format' must be \"text\" or \"binary\" and is missing");
    CHECK(decode_error(R"({"type":"data","format":"hex","data":"x"})").message ==
          "field 'format' must be \"text\" or \"binary\", got \"hex\"");
    CHECK(decode_error(R"({"type":"data","format":1,"data":"x"})").message ==
          "field 'format' must be \"text\" or \"binary\", got an integer");
    CHECK(decode_error(R"({"type":"data","format":"TEXT","data":"x"})").message ==
          "field 'format' must be \"text\" or \"binary\", got \"TEXT\"");
    // A long or unprintable value is shown shortened and escaped.
    const FrameError long_format =
        decode_error(R"({"type":"data","format":")" + std::string(100, 'f') + "\\n\"}");
    CHECK(long_format.message ==
          "field 'format' must be \"text\" or \"binary\", got \"" + std::string(32, 'f') + "...\"");
    CHECK_THAT(decode_error(R"({"type":"data","format":"a\nb","data":""})").message,
               Catch::Contains("got \"a\\x0ab\""));
}

TEST_CASE("data is required and must be a string", "[protocol]") {
    CHECK(decode_error(R"({"type":"data","format":"text"})").message ==
          "field 'data' is missing; it must be a string");
    CHECK(decode_error(R"({"type":"data","format":"binary"})").message ==
          "field 'data' is missing; it must be a base64 string");
    CHECK(decode_error(data_frame("text", "12")).message ==
          "field 'data' must be a string, got an integer");
    CHECK(decode_error(data_frame("binary", "[1,2]")).message ==
          "field 'data' must be a base64 string, got an array");
    CHECK(decode_error(data_frame("text", "null")).severity == Severity::recoverable);
}

TEST_CASE("invalid base64 in binary data is a recoverable error", "[protocol]") {
    const FrameError bad_char = decode_error(data_frame("binary", "\"abcd!fgh\""));
    CHECK(bad_char.severity == Severity::recoverable);
    CHECK(bad_char.message == "field 'data' is not valid base64 (character 5 is '!')");
    CHECK(decode_error(data_frame("binary", "\"Zg\"")).message ==
          "field 'data' is not valid base64 (its length 2 is not a multiple of 4)");
    CHECK_THAT(decode_error(data_frame("binary", "\"Zm9v\\nZg=\"")).message,
               Catch::Contains("'\\x0a'"));
    CHECK_THAT(decode_error(data_frame("binary", "\"Zh==\"")).message,
               Catch::Contains("not the canonical encoding"));
    // Text data is not base64: the same string is a fine text message.
    CHECK(decode_ok(data_frame("text", "\"abcd!fgh\"")).data == bytes_of("abcd!fgh"));
}

TEST_CASE("messages above the limit close the session with 1009", "[protocol]") {
    const Limits limits = Limits::for_message_size(10);
    CHECK(decode_ok(data_frame("text", "\"0123456789\""), limits).data.size() == 10);
    const FrameError text = decode_error(data_frame("text", "\"0123456789a\""), limits);
    CHECK(text.severity == Severity::close_too_big);
    CHECK(text.message == "message of 11 bytes exceeds the limit of 10 bytes");
    CHECK(close_code(text.severity) == 1009);

    const std::string ten = base64_encode(srmudp::Bytes(10, 7));
    const std::string eleven = base64_encode(srmudp::Bytes(11, 7));
    CHECK(decode_ok(data_frame("binary", "\"" + ten + "\""), limits).data.size() == 10);
    CHECK(decode_error(data_frame("binary", "\"" + eleven + "\""), limits).message ==
          "message of 11 bytes exceeds the limit of 10 bytes");
    // The decoded size follows from the length: a too long string is refused before decoding,
    // even if it is not base64 at all.
    const FrameError early =
        decode_error(data_frame("binary", "\"" + std::string(16, '!') + "\""), limits);
    CHECK(early.severity == Severity::close_too_big);
    CHECK(early.message == "message of 12 bytes exceeds the limit of 10 bytes");
}

TEST_CASE("frames above the frame limit are refused before parsing", "[protocol]") {
    Limits limits;
    limits.max_frame_bytes = 100;
    const std::string junk(101, '{');  // not JSON: the size alone decides
    const FrameError e = decode_error(junk, limits);
    CHECK(e.severity == Severity::close_too_big);
    CHECK(e.message == "frame of 101 bytes exceeds the limit of 100 bytes");
    CHECK(decode_error(std::string(100, '{'), limits).severity == Severity::recoverable);
}

TEST_CASE("a 16 MiB binary message fits the default frame limit", "[protocol]") {
    const srmudp::Bytes message(kDefaultMaxMessageBytes, 0xA5);
    const std::string frame = encode_data(MessageKind::binary, message);
    CHECK(frame.size() <= kDefault.max_frame_bytes);
    const ClientData d = decode_ok(frame);
    CHECK(d.data == message);
}

TEST_CASE("binary WebSocket frames are raw binary messages", "[protocol]") {
    const srmudp::Bytes raw = {'{', 0, 0xFF, '"'};
    auto result = decode_client_binary_frame(raw, kDefault);
    REQUIRE(std::holds_alternative<ClientData>(result));
    const auto& d = std::get<ClientData>(result);
    CHECK(d.kind == MessageKind::binary);
    CHECK(d.data == raw);
    CHECK_FALSE(d.id);
    CHECK(std::get<ClientData>(decode_client_binary_frame({}, kDefault)).data.empty());

    const srmudp::Bytes huge(20'000'000, 0);
    auto too_big = decode_client_binary_frame(huge, kDefault);
    REQUIRE(std::holds_alternative<FrameError>(too_big));
    const auto& e = std::get<FrameError>(too_big);
    CHECK(e.severity == Severity::close_too_big);
    CHECK(e.message == "message of 20000000 bytes exceeds the limit of 16777216 bytes");
}

TEST_CASE("limits: the frame limit follows the message limit", "[protocol]") {
    CHECK(kDefault.max_message_bytes == 16u << 20);
    CHECK(kDefault.max_frame_bytes == (16u << 20) / 3 * 4 + 4 + kFrameOverheadBytes);
    CHECK(kDefault.max_id_length == 256);
    CHECK(max_frame_bytes_for(0) == kFrameOverheadBytes);
    CHECK(max_frame_bytes_for(3) == 4 + kFrameOverheadBytes);
    CHECK(max_frame_bytes_for(4) == 8 + kFrameOverheadBytes);
    const std::size_t max = std::numeric_limits<std::size_t>::max();
    CHECK(max_frame_bytes_for(max) == max);
    CHECK(Limits::for_message_size(30).max_frame_bytes == 40 + kFrameOverheadBytes);
}

TEST_CASE("close codes", "[protocol]") {
    CHECK(close_code(Severity::recoverable) == 0);
    CHECK(close_code(Severity::close_policy) == 1008);
    CHECK(close_code(Severity::close_too_big) == 1009);
}

// ---- Encoding bridge frames -----------------------------------------------------------------

TEST_CASE("status names are the seed's", "[protocol]") {
    CHECK(status_name(Status::connected) == "CONNECTED");
    CHECK(status_name(Status::udp_waiting) == "UDP_WAITING");
    CHECK(status_name(Status::udp_established) == "UDP_ESTABLISHED");
    CHECK(status_name(Status::reconnecting) == "RECONNECTING");
    CHECK(status_name(Status::error) == "ERROR");
}

TEST_CASE("status frames have the seed's fields in its order", "[protocol]") {
    CHECK(encode_status(Status::udp_established, "c-1",
                        "UDP connection established with remote peer") ==
          R"({"type":"status","status":"UDP_ESTABLISHED","connection_id":"c-1",)"
          R"("message":"UDP connection established with remote peer"})");
    LinkStats stats;
    stats.rtt_ms = 12.5;
    stats.bytes_sent = 1;
    stats.bytes_received = 2;
    stats.messages_sent = 3;
    stats.messages_received = 4;
    stats.retransmissions = 5;
    stats.packets_lost = std::numeric_limits<std::uint64_t>::max();
    CHECK(encode_status(Status::connected, "c", "ok", stats) ==
          R"({"type":"status","status":"CONNECTED","connection_id":"c","message":"ok",)"
          R"("stats":{"rtt_ms":12.5,"bytes_sent":1,"bytes_received":2,"messages_sent":3,)"
          R"("messages_received":4,"retransmissions":5,"packets_lost":18446744073709551615}})");
}

TEST_CASE("an unknown RTT is null - never an invalid number", "[protocol]") {
    LinkStats stats;
    for (double rtt : {std::nan(""), std::numeric_limits<double>::infinity(), -1.0}) {
        stats.rtt_ms = rtt;
        CHECK_THAT(encode_status(Status::reconnecting, "c", "m", stats),
                   Catch::Contains("\"stats\":{\"rtt_ms\":null,\"bytes_sent\":0"));
    }
    stats.rtt_ms = 1.0 / 3.0;
    CHECK_THAT(encode_status(Status::reconnecting, "c", "m", stats),
               Catch::Contains("\"rtt_ms\":0.333,"));
}

TEST_CASE("data frames are written exactly as the seed shows them", "[protocol]") {
    CHECK(encode_data(MessageKind::text, srmudp::as_bytes("Empfangene Nachricht")) ==
          R"({"type":"data","format":"text","data":"Empfangene Nachricht"})");
    CHECK(encode_data(MessageKind::binary, srmudp::Bytes{0, 1, 2}) ==
          R"({"type":"data","format":"binary","data":"AAEC"})");
    CHECK(encode_data(MessageKind::text, {}) == R"({"type":"data","format":"text","data":""})");
    CHECK(encode_data(MessageKind::binary, {}) == R"({"type":"data","format":"binary","data":""})");
}

TEST_CASE("text data is escaped as JSON requires", "[protocol]") {
    const std::string_view text("q\"b\\n\n\t\x01\0/\xC3\xA9", 12);
    CHECK(encode_data(MessageKind::text, srmudp::as_bytes(text)) ==
          "{\"type\":\"data\",\"format\":\"text\",\"data\":"
          "\"q\\\"b\\\\n\\n\\t\\u0001\\u0000/\xC3\xA9\"}");
}

TEST_CASE("text from the peer that is not UTF-8 is sent as binary - losslessly", "[protocol]") {
    const srmudp::Bytes bad = {'a', 0xFF, 'b'};
    const std::string frame = encode_data(MessageKind::text, bad);
    CHECK(frame == R"({"type":"data","format":"binary","data":"Yf9i"})");
    CHECK(decode_ok(frame).data == bad);
}

TEST_CASE("binary that happens to be valid UTF-8 stays binary", "[protocol]") {
    const std::string frame = encode_data(MessageKind::binary, srmudp::as_bytes("hello"));
    CHECK(frame == R"({"type":"data","format":"binary","data":"aGVsbG8="})");
    const ClientData d = decode_ok(frame);
    CHECK(d.kind == MessageKind::binary);
    CHECK(d.data == bytes_of("hello"));
}

TEST_CASE("encode_data and decode round-trip text and binary", "[protocol]") {
    srmudp::Bytes every_byte(256);
    for (std::size_t i = 0; i < every_byte.size(); ++i)
        every_byte[i] = static_cast<std::uint8_t>(i);
    const std::pair<MessageKind, srmudp::Bytes> messages[] = {
        {MessageKind::text,
         bytes_of("Hallo, Welt! \xC3\xA4\xC3\xB6\xC3\xBC \xE4\xB8\xAD\xE6\x96\x87 "
                  "\xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF")},
        {MessageKind::text, bytes_of(std::string_view("ctl \0\x01\x1F\x7F \" \\ / \r\n", 17))},
        {MessageKind::text, {}},
        {MessageKind::binary, every_byte},
        {MessageKind::binary, {}},
        {MessageKind::binary, {0}},
    };
    for (const auto& [kind, data] : messages) {
        const std::string frame = encode_data(kind, data);
        CAPTURE(frame);
        CHECK(is_valid_utf8(srmudp::as_bytes(frame)));
        const ClientData d = decode_ok(frame);
        CHECK(d.kind == kind);
        CHECK(d.data == data);
    }
}

TEST_CASE("error frames have the seed's fields and an optional id", "[protocol]") {
    CHECK(encode_error("c-1", "remote peer unreachable") ==
          R"({"type":"error","connection_id":"c-1","message":"remote peer unreachable"})");
    CHECK(encode_error("c-1", "failed", MessageTag{std::string("m\"1")}) ==
          R"({"type":"error","connection_id":"c-1","message":"failed","id":"m\"1"})");
    CHECK(encode_error("", "failed", MessageTag{std::int64_t{-5}}) ==
          R"({"type":"error","connection_id":"","message":"failed","id":-5})");
}

TEST_CASE("encoders never write invalid UTF-8", "[protocol]") {
    const std::string frame =
        encode_error("c\xFF", "bad \xC0\x80 text", MessageTag{std::string("\xED\xA0\x80")});
    CHECK(is_valid_utf8(srmudp::as_bytes(frame)));
    CHECK(frame ==
          "{\"type\":\"error\",\"connection_id\":\"c\xEF\xBF\xBD\",\"message\":\"bad "
          "\xEF\xBF\xBD\xEF\xBF\xBD text\",\"id\":\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}");
    CHECK(is_valid_utf8(srmudp::as_bytes(encode_status(Status::error, "\x80", "\xFE"))));
    CHECK(is_valid_utf8(srmudp::as_bytes(encode_ack(MessageTag{std::string("\xC3")}))));
}

TEST_CASE("decode errors can be sent back as error frames", "[protocol]") {
    const FrameError e = decode_error(R"({"type":"data","format":"hex","data":"x","id":"q"})");
    CHECK(encode_error("c", e.message, e.id) ==
          R"({"type":"error","connection_id":"c","message":"field 'format' must be \"text\" or )"
          R"(\"binary\", got \"hex\"","id":"q"})");
}
