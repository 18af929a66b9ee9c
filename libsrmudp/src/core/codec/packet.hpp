// srmudp packet headers: the unencrypted prefix of every datagram.
//
// First byte: bit 7 = 1 and bit 6 = 0 always, so that STUN messages (first two bits 00) can share
// the socket; bits 5..3 are 0; bit 2 is the key phase (DATA only); bits 1..0 the packet type.
// Second byte: protocol version. Then, big-endian:
//   INITIATION: sender_cid (8)                        -> 10-byte header
//   RESPONSE:   receiver_cid (8), sender_cid (8)      -> 18-byte header
//   DATA:       receiver_cid (8), packet_number (8)   -> 18-byte header
// The rest of the datagram (Noise message or AEAD ciphertext) is the body, not parsed here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <system_error>

#include "srmudp/bytes.hpp"

namespace srmudp::codec {

// 0 means "none"; a real connection ID is never 0.
using ConnectionId = std::uint64_t;

inline constexpr std::uint8_t kProtocolVersion = 1;

enum class PacketType : std::uint8_t { initiation = 1, response = 2, data = 3 };

inline constexpr std::size_t kInitiationHeaderSize = 10;
inline constexpr std::size_t kResponseHeaderSize = 18;
inline constexpr std::size_t kDataHeaderSize = 18;
inline constexpr std::size_t kMaxPacketHeaderSize = 18;

// Fields a packet type does not carry are 0 (key_phase false) after decoding and ignored when
// encoding.
struct PacketHeader {
    PacketType type = PacketType::data;
    std::uint8_t version = kProtocolVersion;
    bool key_phase = false;
    ConnectionId receiver_cid = 0;    // RESPONSE, DATA
    ConnectionId sender_cid = 0;      // INITIATION, RESPONSE
    std::uint64_t packet_number = 0;  // DATA
};

// Header size for a packet type; 0 for a value outside the enum.
std::size_t packet_header_size(PacketType type) noexcept;

// Writes the header at the start of out; returns the bytes written, or 0 (nothing written) if out
// is too small or the header is invalid (unknown type, key phase on a non-DATA packet, a required
// connection ID is 0). The version is written as given.
std::size_t encode_packet_header(const PacketHeader& header, MutableByteView out) noexcept;

// Parses the header at the start of datagram; header_size gets its size, so the body starts there.
// Errors: error::malformed_packet (too short, bad fixed bits, type 0, key phase on non-DATA, a
// required connection ID is 0), error::unsupported_version (version != kProtocolVersion; checked
// right after the first byte, before the length, so a future version is reported as such; out.type
// and out.version are then set). On error header_size and the other fields are unspecified.
std::error_code decode_packet_header(ByteView datagram, PacketHeader& out,
                                     std::size_t& header_size) noexcept;

// True if the first byte has bit 7 = 1 and bit 6 = 0: worth a full parse. For routing on a socket
// shared with STUN, without parsing anything else.
bool looks_like_srmudp(ByteView datagram) noexcept;

}  // namespace srmudp::codec
