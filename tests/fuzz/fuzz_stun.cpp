// Fuzzes the STUN codec and client: any input must decode or be rejected with
// error::malformed_packet without a crash; whatever decodes must look like STUN, and a decoded
// mapped address must survive a re-encode. The client is fed the input as a response from its
// server, with the transaction ID patched in so the fuzzer reaches the response handling.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "srmudp/error.hpp"
#include "srmudp/stun.hpp"
#include "stun/message.hpp"

using namespace srmudp;
using namespace srmudp::stun;

namespace {

void check_response_codec(ByteView datagram) {
    BindingResponse response;
    const std::error_code ec = decode_binding_response(datagram, response);
    if (ec) {
        if (ec != make_error_code(error::malformed_packet)) std::abort();
        return;
    }
    if (!looks_like_stun(datagram)) std::abort();
    if (response.success && response.mapped) {
        const Bytes again = encode_binding_success(response.id, *response.mapped);
        BindingResponse decoded;
        if (decode_binding_response(ByteView(again), decoded) ||
            decoded.mapped != response.mapped || decoded.id != response.id) {
            std::abort();
        }
    }
    if (!response.success && response.error_code != 0 &&
        (response.error_code < 300 || response.error_code > 699 ||
         response.reason.size() > kMaxReasonPhraseSize)) {
        std::abort();
    }
}

void check_request_codec(ByteView datagram) {
    TransactionId id{};
    const std::error_code ec = decode_binding_request(datagram, id);
    if (ec && ec != make_error_code(error::malformed_packet)) std::abort();
    if (!ec && !looks_like_stun(datagram)) std::abort();
}

void check_client(ByteView datagram) {
    SeededRandom random(1);
    StunClient client(random);
    const PeerAddress server = PeerAddress::v4(127, 0, 0, 1, 3478);
    const TimePoint now{};
    client.start(now, server, now + seconds(10));
    std::array<std::uint8_t, 64> request{};
    PeerAddress to;
    const std::size_t n =
        client.poll_transmit(now, MutableByteView(request.data(), request.size()), to);
    if (n < kHeaderSize) std::abort();

    std::vector<std::uint8_t> response(datagram.begin(), datagram.end());
    if (response.size() >= kHeaderSize) {
        std::copy(request.begin() + 8, request.begin() + kHeaderSize, response.begin() + 8);
    }
    const bool consumed = client.receive(now, server, ByteView(response));
    if (consumed != looks_like_stun(ByteView(response))) std::abort();
    if (client.finished() && !client.result_error() && !client.mapped_address()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView datagram(data, size);
    check_response_codec(datagram);
    check_request_codec(datagram);
    check_client(datagram);
    return 0;
}
