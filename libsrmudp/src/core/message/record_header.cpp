// Record headers: RFC 9000 section 16 variable-length integers carrying (size << 1) | kind.
#include "core/message/record_header.hpp"

namespace srmudp::message {

namespace {

// Largest value each varint length can hold (RFC 9000 section 16, table 4).
constexpr std::uint64_t kMax1 = 63;
constexpr std::uint64_t kMax2 = 16383;
constexpr std::uint64_t kMax4 = 1073741823;

std::size_t varint_size(std::uint64_t value) noexcept {
    if (value <= kMax1) return 1;
    if (value <= kMax2) return 2;
    if (value <= kMax4) return 4;
    return 8;
}

// The length prefix, 0b00/01/10/11, for a varint of 1/2/4/8 bytes.
std::uint8_t length_prefix(std::size_t size) noexcept {
    switch (size) {
        case 1:
            return 0x00;
        case 2:
            return 0x40;
        case 4:
            return 0x80;
        default:
            return 0xc0;
    }
}

}  // namespace

std::size_t record_header_size(std::uint64_t message_size) noexcept {
    if (message_size > kMaxRecordMessageSize) return 0;
    return varint_size(message_size << 1);
}

std::size_t record_header_size_from_first_byte(std::uint8_t first) noexcept {
    return std::size_t{1} << (first >> 6);
}

std::size_t encode_record_header(const RecordHeader& header, MutableByteView out) noexcept {
    const std::size_t size = record_header_size(header.message_size);
    if (size == 0 || out.size() < size) return 0;
    std::uint64_t value = (header.message_size << 1) | static_cast<std::uint64_t>(header.kind);
    for (std::size_t i = size; i-- > 0;) {
        out[i] = static_cast<std::uint8_t>(value & 0xff);
        value >>= 8;
    }
    out[0] = static_cast<std::uint8_t>(out[0] | length_prefix(size));
    return size;
}

std::size_t decode_record_header(ByteView in, RecordHeader& header) noexcept {
    if (in.empty()) return 0;
    const std::size_t size = record_header_size_from_first_byte(in[0]);
    if (in.size() < size) return 0;
    std::uint64_t value = in[0] & 0x3f;
    for (std::size_t i = 1; i < size; ++i)
        value = (value << 8) | in[i];
    header.kind = (value & 1) != 0 ? MessageKind::binary : MessageKind::text;
    header.message_size = value >> 1;
    return size;
}

}  // namespace srmudp::message
