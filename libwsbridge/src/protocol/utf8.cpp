// UTF-8 validation by the table of well-formed byte sequences in RFC 3629 section 4, which
// excludes overlong forms, the UTF-16 surrogates U+D800..U+DFFF and code points above U+10FFFF.
#include "protocol/utf8.hpp"

#include <cstdint>

#include "wsbridge/protocol.hpp"

namespace wsbridge::protocol {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

bool in_range(char c, std::uint8_t lo, std::uint8_t hi) noexcept {
    const auto b = static_cast<std::uint8_t>(c);
    return b >= lo && b <= hi;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text) noexcept {
    if (text.empty()) return 0;
    const auto lead = static_cast<std::uint8_t>(text[0]);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    // The second byte's range is what rules out overlong forms, surrogates and > U+10FFFF.
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) lo = 0xA0;
        if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) lo = 0x90;
        if (lead == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (text.size() < length || !in_range(text[1], lo, hi)) return 0;
    for (std::size_t i = 2; i < length; ++i) {
        if (!in_range(text[i], 0x80, 0xBF)) return 0;
    }
    return length;
}

bool is_valid_utf8(std::string_view text) noexcept {
    std::size_t i = 0;
    while (i < text.size()) {
        // ASCII runs are the common case in JSON text; skip them without the table.
        if (static_cast<std::uint8_t>(text[i]) < 0x80) {
            ++i;
            continue;
        }
        const std::size_t length = utf8_sequence_length(text.substr(i));
        if (length == 0) return false;
        i += length;
    }
    return true;
}

std::string to_valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t length = utf8_sequence_length(text.substr(i));
        if (length == 0) {
            out.append(kReplacementCharacter);
            ++i;
        } else {
            out.append(text.substr(i, length));
            i += length;
        }
    }
    return out;
}

std::string printable_excerpt(std::string_view text, std::size_t max_bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    const std::size_t shown = text.size() < max_bytes ? text.size() : max_bytes;
    for (std::size_t i = 0; i < shown; ++i) {
        const auto b = static_cast<std::uint8_t>(text[i]);
        if (b >= 0x20 && b < 0x7F) {
            out.push_back(static_cast<char>(b));
        } else {
            out.append("\\x");
            out.push_back(kHex[b >> 4]);
            out.push_back(kHex[b & 0x0F]);
        }
    }
    if (shown < text.size()) out.append("...");
    return out;
}

}  // namespace wsbridge::protocol

namespace wsbridge {

bool is_valid_utf8(srmudp::ByteView bytes) noexcept {
    return protocol::is_valid_utf8(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace wsbridge
