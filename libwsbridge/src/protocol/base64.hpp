// Base64 with the standard alphabet and padding (RFC 4648 section 4), decoded strictly: every
// byte string has exactly one accepted encoding (section 3.5, canonical encoding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "srmudp/bytes.hpp"

namespace wsbridge::protocol {

// Why a text is not canonical base64, and where (0-based byte position in the text).
struct Base64Fault {
    enum class Kind {
        bad_length,         // length is not a multiple of 4
        bad_character,      // a byte outside the alphabet (whitespace included)
        misplaced_padding,  // '=' other than as the last one or two characters
        nonzero_bits,       // the character before the padding has bits set that must be zero
    };
    Kind kind = Kind::bad_length;
    std::size_t position = 0;
    char character = 0;
};

// The size of the bytes that text decodes to if it is valid: 3 per 4 characters minus one per
// '='. Only meaningful when text.size() is a multiple of 4; lets callers check a size limit
// before decoding.
std::size_t base64_decoded_size(std::string_view text) noexcept;

// Appends the base64 of bytes to out.
void base64_append(srmudp::ByteView bytes, std::string& out);

// Decodes text into out (replacing its contents). On a fault returns it; out is then unspecified.
std::optional<Base64Fault> base64_decode_into(std::string_view text, srmudp::Bytes& out);

// A sentence fragment for an error message, e.g. "character 5 is '!'" (1-based character
// numbers, as a person counts).
std::string describe(const Base64Fault& fault);

}  // namespace wsbridge::protocol
