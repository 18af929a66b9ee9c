// QUIC variable-length integers (RFC 9000 section 16): the two high bits of the first byte give
// the length (1, 2, 4 or 8 bytes), the remaining 6, 14, 30 or 62 bits the value, big-endian.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/codec/buffer.hpp"

namespace srmudp::codec {

// The largest value a varint can carry: 2^62 - 1.
inline constexpr std::uint64_t kVarintMax = (1ull << 62) - 1;

// Bytes of the minimal encoding of v: 1, 2, 4 or 8; 0 if v > kVarintMax (not encodable).
constexpr std::size_t varint_size(std::uint64_t v) noexcept {
    if (v < (1ull << 6)) return 1;
    if (v < (1ull << 14)) return 2;
    if (v < (1ull << 30)) return 4;
    if (v <= kVarintMax) return 8;
    return 0;
}

// Writes the minimal encoding of v. False (nothing written) if v > kVarintMax or it does not fit.
bool encode_varint(Writer& w, std::uint64_t v) noexcept;

// Reads one varint, accepting non-minimal encodings as RFC 9000 does. False (nothing consumed) if
// the input ends before the length the first byte announces.
bool decode_varint(Reader& r, std::uint64_t& v) noexcept;

}  // namespace srmudp::codec
