// Fuzzes the frame decoder on arbitrary DATA packet bodies. Every frame that decodes must
// re-encode (so decoded ACK ranges are always valid), decode back to an equal frame, and take no
// more bytes than it was read from (the encoder writes minimal varints). for_each_frame must see
// the same frames and the same verdict as a manual decode_frame loop.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/codec/frame.hpp"

using namespace srmudp;
using namespace srmudp::codec;

namespace {

void check_reencodes(const Frame& frame, std::size_t consumed) {
    // A frame never grows when re-encoded, so its own size bounds the buffer.
    std::vector<std::uint8_t> buf(consumed);
    Writer w{MutableByteView(buf)};
    if (!encode_frame(w, frame)) std::abort();
    const auto* padding = std::get_if<PaddingFrame>(&frame);
    if (padding && w.size() != consumed) std::abort();

    Reader r{w.written()};
    Frame again;
    if (decode_frame(r, again) || !r.empty() || !(again == frame)) std::abort();
    (void)is_ack_eliciting(frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView body(data, size);
    std::size_t walked = 0;
    const std::error_code walk_ec = for_each_frame(body, [&](const Frame&) { ++walked; });

    Reader r{body};
    Frame frame;
    std::size_t decoded = 0;
    std::error_code loop_ec;
    if (size == 0) loop_ec = make_error_code(error::malformed_packet);
    while (!loop_ec && !r.empty()) {
        const std::size_t before = r.position();
        loop_ec = decode_frame(r, frame);
        if (loop_ec) {
            if (r.position() != before) std::abort();  // a failed decode consumes nothing
            break;
        }
        check_reencodes(frame, r.position() - before);
        ++decoded;
    }
    if (walk_ec != loop_ec || walked != decoded) std::abort();
    if (loop_ec && loop_ec != make_error_code(error::malformed_packet)) std::abort();
    return 0;
}
