// Fuzzes the handshake and everything an unauthenticated datagram can reach: the input is a
// sequence of datagrams (2-byte big-endian length + bytes) delivered from the peer's address to
// an endpoint that both listens and connects towards that address, with virtual time advancing
// between datagrams. The key and random seeds are fixed, so seed inputs made from real
// handshakes (corpus/handshake/) authenticate and lead the fuzzer into established sessions.
#include <cstddef>
#include <cstdint>

#include "core/conn/handshake.hpp"
#include "core/crypto/psk.hpp"
#include "srmudp/endpoint_core.hpp"

namespace {

constexpr const char* kKey = "fuzz key";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace srmudp;
    const PeerAddress self = PeerAddress::v4(127, 0, 0, 1, 1000);
    const PeerAddress peer = PeerAddress::v4(127, 0, 0, 1, 2000);
    SeededRandom random(42);
    EndpointCore core(Config{}, random);
    if (core.listen(kKey)) return 0;
    ConnectionHandle handle = 0;
    TimePoint now = TimePoint{} + seconds(1);
    if (core.connect(now, peer, kKey, handle)) return 0;

    Bytes out(2048);
    std::size_t pos = 0;
    while (pos + 2 <= size) {
        const std::size_t len = (std::size_t{data[pos]} << 8) | data[pos + 1];
        pos += 2;
        const std::size_t n = std::min(len, size - pos);
        const ByteView datagram(data + pos, n);
        pos += n;
        core.receive(now, peer, datagram);

        // The handshake primitives directly, on the same bytes.
        crypto::Psk psk{};
        crypto::derive_psk(kKey, psk);
        conn::ConsumedInitiation initiation;
        (void)conn::consume_initiation(psk, datagram, random, initiation);

        PeerAddress to;
        while (core.poll_transmit(now, MutableByteView(out), to) != 0) {
        }
        EndpointEvent ev;
        while (core.poll_event(ev)) {
        }
        now += milliseconds(50);
        core.handle_timeout(now);
    }
    (void)self;
    return 0;
}
