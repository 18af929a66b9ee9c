// Migration to a validated new peer address and path MTU discovery, end to end through
// EndpointCore on the in-memory harness (connection_path.cpp and the transmit path).
#include <catch2/catch.hpp>

#include <string>

#include "pair_harness.hpp"
#include "srmudp/error.hpp"

using namespace srmudp;
using srmudp::test::events_of;
using srmudp::test::Harness;

namespace {

const PeerAddress kA = PeerAddress::v4(127, 0, 0, 1, 4001);
const PeerAddress kB = PeerAddress::v4(127, 0, 0, 2, 4002);
const PeerAddress kC = PeerAddress::v4(127, 0, 0, 3, 4003);
const PeerAddress kBNat = PeerAddress::v4(198, 51, 100, 7, 40000);
const PeerAddress kBNat2 = PeerAddress::v4(198, 51, 100, 7, 40001);
const std::string kKey = "correct horse battery staple";

std::size_t received(const std::vector<EndpointEvent>& events) {
    return events_of<MessageReceived>(events).size();
}

struct Pair {
    explicit Pair(const Config& config = {})
        : a(net.add(kA, config, 1)), b(net.add(kB, config, 2)) {
        REQUIRE_FALSE(a.listen(kKey));
        REQUIRE_FALSE(b.connect(net.now(), kA, kKey, hb));
        REQUIRE(net.run_until_true([&] {
            if (ha == 0 && !net.events(kA).empty()) ha = net.events(kA).front().connection;
            return ha != 0 && a.state(ha) == ConnectionState::established &&
                   b.state(hb) == ConnectionState::established;
        }));
    }
    void send_both(std::size_t size) {
        MessageId id = 0;
        const Bytes data(size, 0x5a);
        REQUIRE_FALSE(a.send(ha, MessageKind::binary, ByteView(data), id));
        REQUIRE_FALSE(b.send(hb, MessageKind::binary, ByteView(data), id));
    }

    Harness net;
    EndpointCore& a;
    EndpointCore& b;
    ConnectionHandle ha = 0;
    ConnectionHandle hb = 0;
};

}  // namespace

TEST_CASE("path: a NAT rebinding is validated and followed - nothing lost", "[path]") {
    Pair p;
    for (int i = 0; i < 5; ++i)
        p.send_both(3000);
    p.net.run_for(milliseconds(5));  // some of it in flight when the binding changes
    p.net.set_nat(kB, kBNat);        // b's datagrams now come from another address and port
    REQUIRE(p.net.run_until_true(
        [&] { return received(p.net.events(kA)) == 5 && received(p.net.events(kB)) == 5; }));
    CHECK(p.a.remote_address(p.ha) == kBNat);
    CHECK(p.a.stats(p.ha).path_migrations == 1);
    CHECK(p.b.stats(p.hb).path_migrations == 0);  // b's peer did not move
    CHECK(p.a.state(p.ha) == ConnectionState::established);

    // A second rebinding, port only.
    p.net.set_nat(kB, kBNat2);
    for (int i = 0; i < 5; ++i)
        p.send_both(3000);
    REQUIRE(p.net.run_until_true([&] {
        return received(p.net.events(kA)) == 10 && received(p.net.events(kB)) == 10 &&
               events_of<MessageDelivered>(p.net.events(kA)).size() == 10 &&
               events_of<MessageDelivered>(p.net.events(kB)).size() == 10;
    }));
    CHECK(p.a.remote_address(p.ha) == kBNat2);
    CHECK(p.a.stats(p.ha).path_migrations == 2);
    CHECK(events_of<MessageFailed>(p.net.events(kA)).empty());
    CHECK(events_of<MessageDelivered>(p.net.events(kA)).size() == 10);
    CHECK(events_of<MessageDelivered>(p.net.events(kB)).size() == 10);
}

TEST_CASE("path: a packet relayed from a forged address gets a bounded challenge - no move",
          "[path]") {
    Pair p;
    // An on-path attacker takes one of b's packets off the wire (and holds the ones after it)
    // and sends it on from kC, so that it is the newest packet a has seen.
    Bytes relayed;
    bool hold = false;
    p.net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes& d) {
        if (from == kB && relayed.empty() && d.size() > 1 && d[0] == 0x83) {
            relayed = d;
            hold = true;
        }
        return !(hold && from == kB);
    });
    p.send_both(100);
    p.net.run_for(milliseconds(50));
    REQUIRE_FALSE(relayed.empty());
    p.a.receive(p.net.now(), kC, ByteView(relayed));
    p.net.run_for(milliseconds(50));
    hold = false;
    p.net.run_for(seconds(10));  // every challenge repetition times out
    CHECK(p.a.remote_address(p.ha) == kB);
    CHECK(p.a.stats(p.ha).path_migrations == 0);
    CHECK(p.net.bytes_to(kC) > 0);                    // validation was tried...
    CHECK(p.net.bytes_to(kC) <= 3 * relayed.size());  // ...within 3x what came from kC
    CHECK(p.a.state(p.ha) == ConnectionState::established);
    p.send_both(100);
    REQUIRE(p.net.run_until_true(
        [&] { return received(p.net.events(kA)) == 2 && received(p.net.events(kB)) == 2; }));
}

TEST_CASE("pmtu: the connection settles on the largest datagram the path carries", "[pmtu]") {
    Pair p;
    std::size_t largest_sent = 0;
    p.net.set_filter([&](const PeerAddress&, const PeerAddress&, Bytes& d) {
        largest_sent = std::max(largest_sent, d.size());
        return d.size() <= 1400;
    });
    CHECK(p.a.stats(p.ha).max_datagram_size == 1200);
    CHECK(p.a.max_transmit_size() == 1452);
    for (int round = 0; round < 20; ++round) {
        p.send_both(20000);
        p.net.run_for(milliseconds(100));
    }
    REQUIRE(p.net.run_until_true(
        [&] { return received(p.net.events(kA)) == 20 && received(p.net.events(kB)) == 20; }));
    CHECK(p.a.stats(p.ha).max_datagram_size == 1400);
    CHECK(p.b.stats(p.hb).max_datagram_size == 1400);
    CHECK(largest_sent == 1452);  // the first probe above the path
    // Lost probes are neither losses nor retransmissions.
    CHECK(p.a.stats(p.ha).packets_lost == 0);
    CHECK(p.a.stats(p.ha).stream_bytes_retransmitted == 0);
}

TEST_CASE("pmtu: probing can be turned off", "[pmtu]") {
    Config c;
    c.pmtu_probing = false;
    Pair p(c);
    std::size_t largest_sent = 0;
    p.net.set_filter([&](const PeerAddress&, const PeerAddress&, Bytes& d) {
        largest_sent = std::max(largest_sent, d.size());
        return true;
    });
    CHECK(p.a.max_transmit_size() == 1200);
    p.send_both(50000);
    REQUIRE(p.net.run_until_true(
        [&] { return received(p.net.events(kA)) == 1 && received(p.net.events(kB)) == 1; }));
    CHECK(largest_sent <= 1200);
    CHECK(largest_sent > 1100);
    CHECK(p.a.stats(p.ha).max_datagram_size == 1200);
}

TEST_CASE("pmtu: a path that stops carrying the size falls back and searches again", "[pmtu]") {
    Pair p;
    std::size_t mtu = 65535;
    p.net.set_filter(
        [&](const PeerAddress&, const PeerAddress&, Bytes& d) { return d.size() <= mtu; });
    p.send_both(100000);
    REQUIRE(p.net.run_until_true([&] {
        return received(p.net.events(kA)) == 1 && received(p.net.events(kB)) == 1 &&
               p.a.stats(p.ha).max_datagram_size == 1452;
    }));
    mtu = 1300;  // a route change: every full-size packet disappears
    p.send_both(100000);
    REQUIRE(p.net.run_until_true(
        [&] { return received(p.net.events(kA)) == 2 && received(p.net.events(kB)) == 2; },
        seconds(60)));
    CHECK(p.a.stats(p.ha).max_datagram_size <= 1300);
    CHECK(p.a.state(p.ha) == ConnectionState::established);
    CHECK(events_of<MessageFailed>(p.net.events(kA)).empty());
}

TEST_CASE("pmtu: max_transmit_size follows the config", "[pmtu]") {
    SeededRandom random(1);
    Config c;
    CHECK(EndpointCore(c, random).max_transmit_size() == 1452);
    c.max_probe_datagram_size = 9000;
    CHECK(EndpointCore(c, random).max_transmit_size() == 9000);
    c.max_probe_datagram_size = 100'000;  // clamped to the largest UDP payload
    CHECK(EndpointCore(c, random).max_transmit_size() == 65507);
    c.max_datagram_size = 1500;
    c.max_probe_datagram_size = 1400;  // below max_datagram_size: nothing to probe
    CHECK(EndpointCore(c, random).max_transmit_size() == 1500);
    c.pmtu_probing = false;
    c.max_datagram_size = 100;  // raised to the handshake size
    CHECK(EndpointCore(c, random).max_transmit_size() == 1200);
}
