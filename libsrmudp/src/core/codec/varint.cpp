// QUIC variable-length integer encoding, RFC 9000 section 16 (sample decodings in appendix A.1).
#include "core/codec/varint.hpp"

namespace srmudp::codec {

bool encode_varint(Writer& w, std::uint64_t v) noexcept {
    // The length prefix is OR'ed into the top two bits of the big-endian value.
    switch (varint_size(v)) {
        case 1:
            return w.write_u8(static_cast<std::uint8_t>(v));
        case 2:
            return w.write_u16(static_cast<std::uint16_t>(v | 0x4000u));
        case 4:
            return w.write_u32(static_cast<std::uint32_t>(v | 0x8000'0000u));
        case 8:
            return w.write_u64(v | 0xC000'0000'0000'0000ull);
        default:
            return false;
    }
}

bool decode_varint(Reader& r, std::uint64_t& v) noexcept {
    std::uint8_t first = 0;
    if (!r.peek_u8(first)) return false;
    const std::size_t length = std::size_t{1} << (first >> 6);
    if (r.remaining() < length) return false;
    switch (length) {
        case 1: {
            std::uint8_t x = 0;
            r.read_u8(x);
            v = x;
            return true;
        }
        case 2: {
            std::uint16_t x = 0;
            r.read_u16(x);
            v = x & 0x3FFFu;
            return true;
        }
        case 4: {
            std::uint32_t x = 0;
            r.read_u32(x);
            v = x & 0x3FFF'FFFFu;
            return true;
        }
        default: {
            std::uint64_t x = 0;
            r.read_u64(x);
            v = x & kVarintMax;
            return true;
        }
    }
}

}  // namespace srmudp::codec
