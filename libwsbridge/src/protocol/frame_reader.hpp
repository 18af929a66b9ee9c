// Reads a client's JSON text frame into the few fields the bridge knows, with bounded memory:
// a SAX pass that keeps only "type", "format", "data" and "id" of the top-level object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "srmudp/bytes.hpp"

namespace wsbridge::protocol {

// Objects and arrays nested deeper than this (the frame's own object is level 1) are refused:
// no client frame needs it, and it bounds the parser's state.
inline constexpr std::size_t kMaxJsonDepth = 64;

// What JSON value a field held, for "must be a string, got an array" messages.
enum class JsonKind {
    absent,
    null,
    boolean,
    integer,
    big_integer,
    fraction,
    string,
    object,
    array
};

// "null", "a boolean", "an integer", "a number with a fraction or exponent", "a string", ...
std::string_view describe(JsonKind kind) noexcept;

struct JsonField {
    JsonKind kind = JsonKind::absent;
    std::string text;          // a string value's first keep_bytes bytes
    std::size_t length = 0;    // a string value's whole length in bytes
    std::int64_t integer = 0;  // an integer value (kind integer)
};

struct ClientFrameFields {
    JsonField type;
    JsonField format;
    JsonField id;
    JsonField data;  // text stays empty: a string "data" goes whole into data_bytes
    srmudp::Bytes data_bytes;
};

// Parses frame (strict JSON, RFC 8259, strings validated as UTF-8) and fills out with the
// top-level fields; other fields and everything nested are skipped. String values of type,
// format and id are kept up to keep_bytes. Returns an error message, without a key in it, if
// the frame is not valid JSON ("invalid JSON at offset N: ..."), not an object, nested deeper
// than kMaxJsonDepth, or gives one of the four fields twice.
std::optional<std::string> read_client_frame(std::string_view frame, std::size_t keep_bytes,
                                             ClientFrameFields& out);

}  // namespace wsbridge::protocol
