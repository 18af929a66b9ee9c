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
const std::string kKey = "correct horse battery staple";

bool has_state(const std::vector<EndpointEvent>& events, ConnectionState s) {
    for (const auto& c : events_of<StateChanged>(events))
        if (c.state == s) return true;
    return false;
}

std::error_code closed_reason(const std::vector<EndpointEvent>& events) {
    for (const auto& c : events_of<StateChanged>(events)) {
        if (c.state == ConnectionState::closed) return c.reason;
    }
    return {};
}

// A and B connect to each other with the same key; runs until both are established.
void establish(Harness& net, EndpointCore& a, EndpointCore& b, ConnectionHandle& ha,
               ConnectionHandle& hb) {
    REQUIRE_FALSE(a.connect(net.now(), kB, kKey, ha));
    REQUIRE_FALSE(b.connect(net.now(), kA, kKey, hb));
    REQUIRE(net.run_until_true([&] {
        return a.state(ha) == ConnectionState::established &&
               b.state(hb) == ConnectionState::established;
    }));
}

}  // namespace

TEST_CASE("symmetric connect establishes exactly one session and carries messages both ways") {
    Harness net;
    auto& a = net.add(kA, {}, 1);
    auto& b = net.add(kB, {}, 2);
    ConnectionHandle ha = 0, hb = 0;
    establish(net, a, b, ha, hb);
    CHECK(a.stats().handshakes_completed == 1);
    CHECK(b.stats().handshakes_completed == 1);

    MessageId id1 = 0, id2 = 0;
    REQUIRE_FALSE(a.send(ha, MessageKind::text, as_bytes("hello"), id1));
    REQUIRE_FALSE(b.send(hb, MessageKind::binary, as_bytes(std::string("\0\1\2", 3)), id2));
    REQUIRE(net.run_until_true([&] {
        return events_of<MessageDelivered>(net.events(kA)).size() == 1 &&
               events_of<MessageDelivered>(net.events(kB)).size() == 1;
    }));
    auto at_b = events_of<MessageReceived>(net.events(kB));
    REQUIRE(at_b.size() == 1);
    CHECK(at_b[0].message.kind == MessageKind::text);
    CHECK(std::string(at_b[0].message.data.begin(), at_b[0].message.data.end()) == "hello");
    auto at_a = events_of<MessageReceived>(net.events(kA));
    REQUIRE(at_a.size() == 1);
    CHECK(at_a[0].message.kind == MessageKind::binary);
    CHECK(at_a[0].message.data == Bytes{0, 1, 2});
    CHECK(events_of<MessageDelivered>(net.events(kA))[0].id == id1);
}

TEST_CASE("listen accepts a connecting peer that proves the key") {
    Harness net;
    auto& server = net.add(kA, {}, 1);
    auto& client = net.add(kB, {}, 2);
    REQUIRE_FALSE(server.listen(kKey));
    ConnectionHandle hc = 0;
    REQUIRE_FALSE(client.connect(net.now(), kA, kKey, hc));
    MessageId id = 0;
    REQUIRE_FALSE(client.send(hc, MessageKind::text, as_bytes("queued before established"), id));
    REQUIRE(net.run_until_true(
        [&] { return events_of<MessageDelivered>(net.events(kB)).size() == 1; }));
    REQUIRE(events_of<ConnectionAccepted>(net.events(kA)).size() == 1);
    auto got = events_of<MessageReceived>(net.events(kA));
    REQUIRE(got.size() == 1);
    CHECK(std::string(got[0].message.data.begin(), got[0].message.data.end()) ==
          "queued before established");
}

TEST_CASE("a wrong key never establishes and is reported as wrong_key") {
    Harness net;
    auto& a = net.add(kA, {}, 1);
    auto& b = net.add(kB, {}, 2);
    ConnectionHandle ha = 0, hb = 0;
    REQUIRE_FALSE(a.connect(net.now(), kB, kKey, ha));
    REQUIRE_FALSE(b.connect(net.now(), kA, "another key", hb));
    MessageId id = 0;
    REQUIRE_FALSE(a.send(ha, MessageKind::text, as_bytes("secret"), id));
    net.run_for(seconds(40));
    CHECK_FALSE(has_state(net.events(kA), ConnectionState::established));
    CHECK_FALSE(has_state(net.events(kB), ConnectionState::established));
    CHECK(closed_reason(net.events(kA)) == error::wrong_key);
    CHECK(closed_reason(net.events(kB)) == error::wrong_key);
    auto failed = events_of<MessageFailed>(net.events(kA));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].id == id);
    CHECK(events_of<MessageReceived>(net.events(kB)).empty());
}

TEST_CASE("a listener with another key stays silent - the initiator times out") {
    Harness net;
    auto& server = net.add(kA, {}, 1);
    auto& client = net.add(kB, {}, 2);
    REQUIRE_FALSE(server.listen("server key"));
    std::uint64_t from_server = 0;
    net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes&) {
        if (from == kA) ++from_server;
        return true;
    });
    ConnectionHandle hc = 0;
    Config cfg;
    REQUIRE_FALSE(
        client.connect(net.now(), kA, "client key", hc, ConnectOptions{net.now() + seconds(5)}));
    net.run_for(seconds(10));
    CHECK(from_server == 0);  // no amplification, no oracle
    CHECK(closed_reason(net.events(kB)) == error::handshake_timeout);
    CHECK(server.stats().connections == 0);
}

TEST_CASE("connect to nobody gives handshake_timeout at the deadline") {
    Harness net;
    auto& a = net.add(kA, {}, 1);
    ConnectionHandle ha = 0;
    const TimePoint start = net.now();
    REQUIRE_FALSE(a.connect(net.now(), kC, kKey, ha, ConnectOptions{start + seconds(3)}));
    net.run_for(seconds(5));
    CHECK(closed_reason(net.events(kA)) == error::handshake_timeout);
    CHECK(a.stats().connections == 0);
}

TEST_CASE("an empty key is refused") {
    Harness net;
    auto& a = net.add(kA);
    ConnectionHandle h = 0;
    CHECK(a.connect(net.now(), kB, "", h) == error::empty_key);
    CHECK(a.listen("") == error::empty_key);
}

TEST_CASE("graceful close carries code and reason to the peer") {
    Harness net;
    auto& a = net.add(kA, {}, 1);
    auto& b = net.add(kB, {}, 2);
    ConnectionHandle ha = 0, hb = 0;
    establish(net, a, b, ha, hb);
    a.close(ha, net.now(), 7, "bye");
    net.run_for(seconds(5));
    bool seen = false;
    for (const auto& c : events_of<StateChanged>(net.events(kB))) {
        if (c.state == ConnectionState::closed) {
            seen = true;
            CHECK(c.reason == error::peer_closed);
            CHECK(c.peer_code == 7);
            CHECK(c.peer_reason == "bye");
        }
    }
    CHECK(seen);
    CHECK(closed_reason(net.events(kA)) == error::closed_locally);
    CHECK(a.stats().connections == 0);
    CHECK(b.stats().connections == 0);
}

TEST_CASE("a CLOSE that is lost goes out again: the peer closes all the same") {
    Harness net;
    auto& a = net.add(kA, {}, 1);
    auto& b = net.add(kB, {}, 2);
    ConnectionHandle ha = 0, hb = 0;
    establish(net, a, b, ha, hb);
    net.run_for(seconds(1));  // nothing left to acknowledge: the CLOSE is all A sends from here
    int from_a = 0;
    net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes&) {
        return from != kA || ++from_a > 1;  // the first datagram after close() is lost
    });
    a.close(ha, net.now(), 7, "bye");
    // Without a repeat B would hear nothing and reach its idle timeout (30 s) only after this.
    net.run_for(seconds(5));
    CHECK(from_a >= 2);
    bool seen = false;
    for (const auto& c : events_of<StateChanged>(net.events(kB))) {
        if (c.state != ConnectionState::closed) continue;
        seen = true;
        CHECK(c.reason == error::peer_closed);
        CHECK(c.peer_code == 7);
    }
    CHECK(seen);
    CHECK(closed_reason(net.events(kA)) == error::closed_locally);
}

TEST_CASE("a closing side sends three CLOSE packets in all to a peer that hears none") {
    Harness net;
    auto& a = net.add(kA, {}, 1);
    auto& b = net.add(kB, {}, 2);
    ConnectionHandle ha = 0, hb = 0;
    establish(net, a, b, ha, hb);
    net.run_for(seconds(1));
    int from_a = 0;
    net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes&) {
        if (from == kA) ++from_a;
        return from != kA;
    });
    a.close(ha, net.now(), 0, "");
    net.run_for(seconds(5));
    CHECK(from_a == 3);  // PROTOCOL.md 11.2: at most 3 CLOSE packets, whatever happens
    CHECK(closed_reason(net.events(kA)) == error::closed_locally);
    CHECK(b.state(hb) == ConnectionState::established);  // it heard nothing
}
