// UTF-8 checks and the text helpers that make error messages safe to show and to log.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wsbridge::protocol {

// Length of the well-formed UTF-8 sequence at the start of text (1 to 4), or 0 if it does not
// start with one (RFC 3629 section 4: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text) noexcept;

// True if text is well-formed UTF-8 throughout.
bool is_valid_utf8(std::string_view text) noexcept;

// text with every byte that does not start a well-formed sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view text);

// text for an error message: printable ASCII as it is, every other byte as \xNN, cut after
// max_bytes input bytes with "..." appended. The result is plain ASCII, so it cannot break a log
// line or an HTTP response.
std::string printable_excerpt(std::string_view text, std::size_t max_bytes);

}  // namespace wsbridge::protocol
