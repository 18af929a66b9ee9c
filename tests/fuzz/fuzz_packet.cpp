// Fuzzes the packet header decoder: any input must decode or be rejected without a crash, and a
// header that decodes must re-encode to exactly the bytes it was read from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/codec/packet.hpp"
#include "srmudp/error.hpp"

using namespace srmudp;
using namespace srmudp::codec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView datagram(data, size);
    PacketHeader header;
    std::size_t header_size = 0;
    const std::error_code ec = decode_packet_header(datagram, header, header_size);
    if (ec) {
        if (ec != make_error_code(error::malformed_packet) &&
            ec != make_error_code(error::unsupported_version)) {
            std::abort();
        }
        return 0;
    }
    if (!looks_like_srmudp(datagram) || header_size != packet_header_size(header.type) ||
        header_size > size) {
        std::abort();
    }
    std::uint8_t out[kMaxPacketHeaderSize];
    const std::size_t written = encode_packet_header(header, MutableByteView(out, sizeof out));
    if (written != header_size || std::memcmp(out, data, written) != 0) std::abort();
    return 0;
}
