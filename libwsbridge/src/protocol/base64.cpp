// Base64, RFC 4648 section 4 (standard alphabet, '=' padding), with the strict decoding that
// section 3.5 allows: characters outside the alphabet (whitespace too) are rejected, and so are
// encodings whose pad bits are not zero, so that each byte string has one accepted encoding.
#include "protocol/base64.hpp"

#include <array>

#include "protocol/utf8.hpp"
#include "wsbridge/protocol.hpp"

namespace wsbridge::protocol {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kNotInAlphabet = 0xFF;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
    std::array<std::uint8_t, 256> table{};
    for (auto& entry : table)
        entry = kNotInAlphabet;
    for (std::size_t i = 0; i < kAlphabet.size(); ++i)
        table[static_cast<std::uint8_t>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
    return table;
}
constexpr std::array<std::uint8_t, 256> kDecodeTable = make_decode_table();

std::size_t padding_length(std::string_view text) noexcept {
    const std::size_t n = text.size();
    if (n >= 2 && text[n - 1] == '=' && text[n - 2] == '=') return 2;
    if (n >= 1 && text[n - 1] == '=') return 1;
    return 0;
}

Base64Fault fault_at(Base64Fault::Kind kind, std::string_view text, std::size_t position) {
    return Base64Fault{kind, position, text[position]};
}

}  // namespace

std::size_t base64_decoded_size(std::string_view text) noexcept {
    return text.size() / 4 * 3 - padding_length(text);
}

void base64_append(srmudp::ByteView bytes, std::string& out) {
    out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t group = std::uint32_t{bytes[i]} << 16 |
                                    std::uint32_t{bytes[i + 1]} << 8 | std::uint32_t{bytes[i + 2]};
        out.push_back(kAlphabet[group >> 18 & 0x3F]);
        out.push_back(kAlphabet[group >> 12 & 0x3F]);
        out.push_back(kAlphabet[group >> 6 & 0x3F]);
        out.push_back(kAlphabet[group & 0x3F]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 0) return;
    std::uint32_t group = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) group |= std::uint32_t{bytes[i + 1]} << 8;
    out.push_back(kAlphabet[group >> 18 & 0x3F]);
    out.push_back(kAlphabet[group >> 12 & 0x3F]);
    out.push_back(rest == 2 ? kAlphabet[group >> 6 & 0x3F] : '=');
    out.push_back('=');
}

std::optional<Base64Fault> base64_decode_into(std::string_view text, srmudp::Bytes& out) {
    if (text.size() % 4 != 0) return Base64Fault{Base64Fault::Kind::bad_length, text.size(), 0};
    const std::size_t data_chars = text.size() - padding_length(text);
    out.resize(base64_decoded_size(text));
    std::size_t written = 0;
    std::uint32_t pending = 0;  // bits decoded but not yet written, in the low `pending_bits`
    unsigned pending_bits = 0;
    for (std::size_t i = 0; i < data_chars; ++i) {
        const std::uint8_t value = kDecodeTable[static_cast<std::uint8_t>(text[i])];
        if (value == kNotInAlphabet) {
            const auto kind = text[i] == '=' ? Base64Fault::Kind::misplaced_padding
                                             : Base64Fault::Kind::bad_character;
            return fault_at(kind, text, i);
        }
        pending = pending << 6 | value;
        pending_bits += 6;
        if (pending_bits >= 8) {
            pending_bits -= 8;
            out[written++] = static_cast<std::uint8_t>(pending >> pending_bits);
            pending &= (std::uint32_t{1} << pending_bits) - 1;
        }
    }
    // What is left are the pad bits of the last character; RFC 4648 3.5 lets us demand zeros.
    if (pending != 0) return fault_at(Base64Fault::Kind::nonzero_bits, text, data_chars - 1);
    return std::nullopt;
}

std::string describe(const Base64Fault& fault) {
    const std::string number = std::to_string(fault.position + 1);
    const std::string shown = printable_excerpt(std::string_view(&fault.character, 1), 1);
    switch (fault.kind) {
        case Base64Fault::Kind::bad_length:
            return "its length " + std::to_string(fault.position) + " is not a multiple of 4";
        case Base64Fault::Kind::bad_character:
            return "character " + number + " is '" + shown + "'";
        case Base64Fault::Kind::misplaced_padding:
            return "padding '=' at character " + number + " is not at the end";
        case Base64Fault::Kind::nonzero_bits:
            return "character " + number + " '" + shown +
                   "' sets bits beyond the last byte (not the canonical encoding)";
    }
    return "it is not valid";
}

}  // namespace wsbridge::protocol

namespace wsbridge {

std::string base64_encode(srmudp::ByteView bytes) {
    std::string out;
    protocol::base64_append(bytes, out);
    return out;
}

std::optional<srmudp::Bytes> base64_decode(std::string_view text) {
    srmudp::Bytes out;
    if (protocol::base64_decode_into(text, out)) return std::nullopt;
    return out;
}

}  // namespace wsbridge
