// srmudp packet header codec; the layout is described in packet.hpp.
#include "core/codec/packet.hpp"

#include "core/codec/buffer.hpp"
#include "srmudp/error.hpp"

namespace srmudp::codec {
namespace {

constexpr std::uint8_t kFixedBitsMask = 0xF8;  // bits 7..3
constexpr std::uint8_t kFixedBits = 0x80;      // bit 7 = 1, bits 6..3 = 0
constexpr std::uint8_t kKeyPhaseBit = 0x04;
constexpr std::uint8_t kTypeMask = 0x03;

bool is_known_type(std::uint8_t t) noexcept {
    return t == static_cast<std::uint8_t>(PacketType::initiation) ||
           t == static_cast<std::uint8_t>(PacketType::response) ||
           t == static_cast<std::uint8_t>(PacketType::data);
}

bool has_receiver_cid(PacketType t) noexcept {
    return t != PacketType::initiation;
}
bool has_sender_cid(PacketType t) noexcept {
    return t != PacketType::data;
}

bool header_is_valid(const PacketHeader& h) noexcept {
    if (!is_known_type(static_cast<std::uint8_t>(h.type))) return false;
    if (h.key_phase && h.type != PacketType::data) return false;
    if (has_receiver_cid(h.type) && h.receiver_cid == 0) return false;
    if (has_sender_cid(h.type) && h.sender_cid == 0) return false;
    return true;
}

}  // namespace

std::size_t packet_header_size(PacketType type) noexcept {
    switch (type) {
        case PacketType::initiation:
            return kInitiationHeaderSize;
        case PacketType::response:
            return kResponseHeaderSize;
        case PacketType::data:
            return kDataHeaderSize;
    }
    return 0;
}

std::size_t encode_packet_header(const PacketHeader& header, MutableByteView out) noexcept {
    if (!header_is_valid(header)) return 0;
    const std::size_t size = packet_header_size(header.type);
    if (out.size() < size) return 0;
    Writer w(out);
    const auto first =
        static_cast<std::uint8_t>(kFixedBits | (header.key_phase ? kKeyPhaseBit : 0) |
                                  static_cast<std::uint8_t>(header.type));
    w.write_u8(first);
    w.write_u8(header.version);
    if (has_receiver_cid(header.type)) w.write_u64(header.receiver_cid);
    if (has_sender_cid(header.type)) w.write_u64(header.sender_cid);
    if (header.type == PacketType::data) w.write_u64(header.packet_number);
    return w.size();
}

std::error_code decode_packet_header(ByteView datagram, PacketHeader& out,
                                     std::size_t& header_size) noexcept {
    Reader r(datagram);
    std::uint8_t first = 0;
    if (!r.read_u8(first)) return error::malformed_packet;
    const auto type_bits = static_cast<std::uint8_t>(first & kTypeMask);
    const bool key_phase = (first & kKeyPhaseBit) != 0;
    if ((first & kFixedBitsMask) != kFixedBits || !is_known_type(type_bits)) {
        return error::malformed_packet;
    }
    const auto type = static_cast<PacketType>(type_bits);
    if (key_phase && type != PacketType::data) return error::malformed_packet;

    std::uint8_t version = 0;
    if (!r.read_u8(version)) return error::malformed_packet;
    out.type = type;
    out.version = version;
    if (version != kProtocolVersion) return error::unsupported_version;

    const std::size_t size = packet_header_size(type);
    if (datagram.size() < size) return error::malformed_packet;
    PacketHeader h;
    h.type = type;
    h.version = version;
    h.key_phase = key_phase;
    if (has_receiver_cid(type)) r.read_u64(h.receiver_cid);
    if (has_sender_cid(type)) r.read_u64(h.sender_cid);
    if (type == PacketType::data) r.read_u64(h.packet_number);
    if (!header_is_valid(h)) return error::malformed_packet;
    out = h;
    header_size = size;
    return {};
}

bool looks_like_srmudp(ByteView datagram) noexcept {
    return !datagram.empty() && (datagram[0] & 0xC0) == 0x80;
}

}  // namespace srmudp::codec
