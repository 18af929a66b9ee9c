// CRC-32 for the STUN FINGERPRINT attribute (RFC 8489 section 14.7).
//
// RFC 8489 names the CRC-32 of ITU-T V.42 / ISO HDLC (the one Ethernet and zlib use): reflected
// polynomial 0xEDB88320, initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF. FINGERPRINT then XORs
// the result with 0x5354554E; that step belongs to the message codec, not to this function.
#pragma once

#include <cstdint>

#include "srmudp/bytes.hpp"

namespace srmudp::stun {

// The CRC-32 (ISO HDLC) of data; crc32("123456789") == 0xCBF43926.
std::uint32_t crc32(ByteView data) noexcept;

}  // namespace srmudp::stun
