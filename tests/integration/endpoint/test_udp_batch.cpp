// UdpBatch on real loopback sockets: a GSO run sent by one batch arrives, split back into its
// datagrams, at a batch with GRO on (one receive entry) and at one without (one entry per
// datagram); and for_each_datagram's splitting rule on its own.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "asio/udp_batch.hpp"

using namespace srmudp;
using srmudp::asio_driver::for_each_datagram;
using srmudp::asio_driver::UdpBatch;

namespace {

// A non-blocking UDP socket bound to 127.0.0.1 on a free port; closed when destroyed.
struct Socket {
    int fd = -1;
    PeerAddress address;

    Socket() {
        fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
        socklen_t len = sizeof sin;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0);
        REQUIRE(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
        address = PeerAddress::v4(127, 0, 0, 1, ntohs(sin.sin_port));
    }
    ~Socket() { ::close(fd); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
};

Bytes datagram_of(std::size_t size, std::uint8_t tag) {
    Bytes d(size);
    for (std::size_t i = 0; i < size; ++i)
        d[i] = static_cast<std::uint8_t>(tag + i * 7);
    return d;
}

void send_all(UdpBatch& batch, const Socket& from, const PeerAddress& to,
              const std::vector<Bytes>& datagrams) {
    for (const Bytes& d : datagrams) {
        MutableByteView slot = batch.next_slot();
        REQUIRE(slot.size() >= d.size());
        std::copy(d.begin(), d.end(), slot.begin());
        batch.commit(d.size(), to, false);
    }
    REQUIRE(batch.flush(from.fd));
}

struct Received {
    std::vector<Bytes> datagrams;
    std::vector<PeerAddress> sources;
    std::size_t entries = 0;
};

// Receives until `count` datagrams arrived or a second passed.
Received receive(UdpBatch& batch, const Socket& at, std::size_t count) {
    Received r;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (r.datagrams.size() < count && std::chrono::steady_clock::now() < end) {
        const std::size_t n = batch.receive(at.fd);
        if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        for (std::size_t i = 0; i < n; ++i) {
            ++r.entries;
            for_each_datagram(batch.datagram(i), batch.segment_size(i), [&](ByteView d) {
                r.datagrams.emplace_back(d.begin(), d.end());
                r.sources.push_back(batch.source(i));
            });
        }
    }
    return r;
}

std::vector<Bytes> run_of_six() {
    std::vector<Bytes> run;
    for (std::uint8_t i = 0; i < 5; ++i)
        run.push_back(datagram_of(1000, i));
    run.push_back(datagram_of(400, 9));  // a shorter last segment ends a GSO run
    return run;
}

}  // namespace

TEST_CASE("for_each_datagram splits an entry into its segments") {
    const Bytes entry = datagram_of(2500, 1);
    std::vector<std::size_t> sizes;
    const auto record = [&](ByteView d) { sizes.push_back(d.size()); };
    CHECK(for_each_datagram(ByteView(entry), 0, record) == 1);  // not coalesced
    CHECK(for_each_datagram(ByteView(entry), 2500, record) == 1);
    CHECK(for_each_datagram(ByteView(entry), 4000, record) == 1);
    CHECK(sizes == std::vector<std::size_t>{2500, 2500, 2500});
    sizes.clear();
    CHECK(for_each_datagram(ByteView(entry), 1000, record) == 3);
    CHECK(sizes == std::vector<std::size_t>{1000, 1000, 500});
    sizes.clear();
    CHECK(for_each_datagram(ByteView(entry.data(), 2000), 1000, record) == 2);
    CHECK(sizes == std::vector<std::size_t>{1000, 1000});
}

TEST_CASE("a GSO run arrives whole at a GRO batch and is split back into its datagrams") {
    Socket tx, rx, other;
    UdpBatch sender(2048), receiver(2048), other_sender(2048);
    if (!receiver.enable_gro(rx.fd)) {
        WARN("UDP_GRO not available on this kernel: nothing to test");
        return;
    }
    CHECK(receiver.gro());
    const std::vector<Bytes> run = run_of_six();
    send_all(sender, tx, rx.address, run);
    const Bytes lone = datagram_of(700, 42);
    send_all(other_sender, other, rx.address, {lone});

    const Received r = receive(receiver, rx, run.size() + 1);
    REQUIRE(r.datagrams.size() == run.size() + 1);
    CHECK(r.entries < r.datagrams.size());  // the run shared entries
    std::vector<Bytes> from_tx;
    for (std::size_t i = 0; i < r.datagrams.size(); ++i) {
        if (r.sources[i] == tx.address) {
            from_tx.push_back(r.datagrams[i]);
        } else {
            CHECK(r.sources[i] == other.address);
            CHECK(r.datagrams[i] == lone);
        }
    }
    CHECK(from_tx == run);  // every datagram, in order, with its own size and bytes
    CHECK(receiver.truncated() == 0);
}

TEST_CASE("without GRO the same run arrives one datagram per entry") {
    Socket tx, rx;
    UdpBatch sender(2048), receiver(2048);
    CHECK_FALSE(receiver.gro());
    const std::vector<Bytes> run = run_of_six();
    send_all(sender, tx, rx.address, run);
    const Received r = receive(receiver, rx, run.size());
    CHECK(r.datagrams == run);
    CHECK(r.entries == run.size());
}
