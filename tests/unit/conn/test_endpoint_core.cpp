#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

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

// A and B connect to each other with the same key; established when constructed.
struct EstablishedPair {
    Harness net;
    EndpointCore& a;
    EndpointCore& b;
    ConnectionHandle ha = 0, hb = 0;

    EstablishedPair() : a(net.add(kA, {}, 1)), b(net.add(kB, {}, 2)) {
        REQUIRE_FALSE(a.connect(net.now(), kB, kKey, ha));
        REQUIRE_FALSE(b.connect(net.now(), kA, kKey, hb));
        REQUIRE(net.run_until_true([&] {
            return a.state(ha) == ConnectionState::established &&
                   b.state(hb) == ConnectionState::established;
        }));
    }
};

}  // namespace

TEST_CASE("symmetric connect establishes exactly one session and carries messages both ways") {
    EstablishedPair p;
    CHECK(p.a.stats().handshakes_completed == 1);
    CHECK(p.b.stats().handshakes_completed == 1);

    MessageId id1 = 0, id2 = 0;
    REQUIRE_FALSE(p.a.send(p.ha, MessageKind::text, as_bytes("hello"), id1));
    REQUIRE_FALSE(p.b.send(p.hb, MessageKind::binary, as_bytes(std::string("\0\1\2", 3)), id2));
    REQUIRE(p.net.run_until_true([&] {
        return events_of<MessageDelivered>(p.net.events(kA)).size() == 1 &&
               events_of<MessageDelivered>(p.net.events(kB)).size() == 1;
    }));
    auto at_b = events_of<MessageReceived>(p.net.events(kB));
    REQUIRE(at_b.size() == 1);
    CHECK(at_b[0].message.kind == MessageKind::text);
    CHECK(std::string(at_b[0].message.data.begin(), at_b[0].message.data.end()) == "hello");
    auto at_a = events_of<MessageReceived>(p.net.events(kA));
    REQUIRE(at_a.size() == 1);
    CHECK(at_a[0].message.kind == MessageKind::binary);
    CHECK(at_a[0].message.data == Bytes{0, 1, 2});
    CHECK(events_of<MessageDelivered>(p.net.events(kA))[0].id == id1);
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
    EstablishedPair p;
    p.a.close(p.ha, p.net.now(), 7, "bye");
    p.net.run_for(seconds(5));
    bool seen = false;
    for (const auto& c : events_of<StateChanged>(p.net.events(kB))) {
        if (c.state == ConnectionState::closed) {
            seen = true;
            CHECK(c.reason == error::peer_closed);
            CHECK(c.peer_code == 7);
            CHECK(c.peer_reason == "bye");
        }
    }
    CHECK(seen);
    CHECK(closed_reason(p.net.events(kA)) == error::closed_locally);
    CHECK(p.a.stats().connections == 0);
    CHECK(p.b.stats().connections == 0);
}

TEST_CASE("a CLOSE that is lost goes out again: the peer closes all the same") {
    EstablishedPair p;
    p.net.run_for(seconds(1));  // nothing left to acknowledge: the CLOSE is all A sends from here
    int from_a = 0;
    p.net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes&) {
        return from != kA || ++from_a > 1;  // the first datagram after close() is lost
    });
    p.a.close(p.ha, p.net.now(), 7, "bye");
    // Without a repeat B would hear nothing and reach its idle timeout (30 s) only after this.
    p.net.run_for(seconds(5));
    CHECK(from_a >= 2);
    bool seen = false;
    for (const auto& c : events_of<StateChanged>(p.net.events(kB))) {
        if (c.state != ConnectionState::closed) continue;
        seen = true;
        CHECK(c.reason == error::peer_closed);
        CHECK(c.peer_code == 7);
    }
    CHECK(seen);
    CHECK(closed_reason(p.net.events(kA)) == error::closed_locally);
}

TEST_CASE("a closing side sends three CLOSE packets in all to a peer that hears none") {
    EstablishedPair p;
    p.net.run_for(seconds(1));
    int from_a = 0;
    p.net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes&) {
        if (from == kA) ++from_a;
        return from != kA;
    });
    p.a.close(p.ha, p.net.now(), 0, "");
    p.net.run_for(seconds(5));
    CHECK(from_a == 3);  // PROTOCOL.md 11.2: at most 3 CLOSE packets, whatever happens
    CHECK(closed_reason(p.net.events(kA)) == error::closed_locally);
    CHECK(p.b.state(p.hb) == ConnectionState::established);  // it heard nothing
}

namespace {

// The text of each message an endpoint received, by the connection it arrived on.
std::map<ConnectionHandle, std::vector<std::string>> texts_by_connection(
    const std::vector<EndpointEvent>& events) {
    std::map<ConnectionHandle, std::vector<std::string>> out;
    for (const auto& ev : events) {
        if (const auto* m = std::get_if<MessageReceived>(&ev.event)) {
            out[ev.connection].emplace_back(m->message.data.begin(), m->message.data.end());
        }
    }
    return out;
}

std::vector<ConnectionHandle> accepted_connections(const std::vector<EndpointEvent>& events) {
    std::vector<ConnectionHandle> out;
    for (const auto& ev : events)
        if (std::holds_alternative<ConnectionAccepted>(ev.event)) out.push_back(ev.connection);
    return out;
}

std::vector<StateChanged> changes_of(const std::vector<EndpointEvent>& events, ConnectionHandle h) {
    std::vector<StateChanged> out;
    for (const auto& ev : events) {
        if (const auto* s = std::get_if<StateChanged>(&ev.event); s && ev.connection == h) {
            out.push_back(*s);
        }
    }
    return out;
}

// A listener at kA and a client at kB with two connections to it, opened one after the other,
// so the listener accepts them in that order (channel 0, then channel 1).
struct TwoConnections {
    Harness net;
    EndpointCore& server;
    EndpointCore& client;
    ConnectionHandle h1 = 0, h2 = 0;
    std::vector<ConnectionHandle> accepted;

    explicit TwoConnections(const Config& config)
        : server(net.add(kA, config, 1)), client(net.add(kB, config, 2)) {
        REQUIRE_FALSE(server.listen(kKey));
        for (ConnectionHandle* h : {&h1, &h2}) {
            REQUIRE_FALSE(client.connect(net.now(), kA, kKey, *h));
            const std::size_t want = h == &h1 ? 1 : 2;
            REQUIRE(net.run_until_true(
                [&] { return accepted_connections(net.events(kA)).size() == want; }));
        }
        accepted = accepted_connections(net.events(kA));
    }
};

}  // namespace

TEST_CASE("two connections from one endpoint to one listener each carry their own messages") {
    Harness net;
    auto& server = net.add(kA, {}, 1);
    auto& client = net.add(kB, {}, 2);
    REQUIRE_FALSE(server.listen(kKey));
    ConnectionHandle h1 = 0, h2 = 0;
    REQUIRE_FALSE(client.connect(net.now(), kA, kKey, h1));
    REQUIRE_FALSE(client.connect(net.now(), kA, kKey, h2));
    MessageId id = 0;
    REQUIRE_FALSE(client.send(h1, MessageKind::text, as_bytes("one"), id));
    REQUIRE_FALSE(client.send(h2, MessageKind::text, as_bytes("two"), id));
    REQUIRE(net.run_until_true(
        [&] { return events_of<MessageDelivered>(net.events(kB)).size() == 2; }));
    const auto accepted = accepted_connections(net.events(kA));
    REQUIRE(accepted.size() == 2);
    CHECK(server.stats().connections == 2);
    const auto got = texts_by_connection(net.events(kA));
    REQUIRE(got.size() == 2);
    CHECK(got.at(accepted[0]) == std::vector<std::string>{"one"});
    CHECK(got.at(accepted[1]) == std::vector<std::string>{"two"});
    // Answers go back on the connection they belong to.
    REQUIRE_FALSE(server.send(accepted[1], MessageKind::text, as_bytes("to two"), id));
    REQUIRE_FALSE(server.send(accepted[0], MessageKind::text, as_bytes("to one"), id));
    REQUIRE(net.run_until_true([&] { return texts_by_connection(net.events(kB)).size() == 2; }));
    const auto back = texts_by_connection(net.events(kB));
    CHECK(back.at(h1) == std::vector<std::string>{"to one"});
    CHECK(back.at(h2) == std::vector<std::string>{"to two"});
    for (ConnectionHandle h : {h1, h2})
        CHECK(changes_of(net.events(kB), h).size() == 1);  // established, nothing else
}

TEST_CASE("two symmetric pairs between the same addresses find each other by key and channel") {
    Harness net;
    auto& a = net.add(kA, {}, 1);
    auto& b = net.add(kB, {}, 2);
    // Per pair: one with its own key, two sharing a key (channels 0 and 1 of that key).
    ConnectionHandle ha[3] = {}, hb[3] = {};
    const std::string keys[3] = {"first key", kKey, kKey};
    for (int i = 0; i < 3; ++i) {
        REQUIRE_FALSE(a.connect(net.now(), kB, keys[i], ha[i]));
        REQUIRE_FALSE(b.connect(net.now(), kA, keys[i], hb[i]));
    }
    REQUIRE(net.run_until_true([&] {
        for (int i = 0; i < 3; ++i) {
            if (a.state(ha[i]) != ConnectionState::established ||
                b.state(hb[i]) != ConnectionState::established) {
                return false;
            }
        }
        return true;
    }));
    MessageId id = 0;
    for (int i = 0; i < 3; ++i) {
        REQUIRE_FALSE(a.send(ha[i], MessageKind::text, as_bytes("a" + std::to_string(i)), id));
        REQUIRE_FALSE(b.send(hb[i], MessageKind::text, as_bytes("b" + std::to_string(i)), id));
    }
    REQUIRE(net.run_until_true([&] {
        return events_of<MessageReceived>(net.events(kA)).size() == 3 &&
               events_of<MessageReceived>(net.events(kB)).size() == 3;
    }));
    const auto at_a = texts_by_connection(net.events(kA));
    const auto at_b = texts_by_connection(net.events(kB));
    for (int i = 0; i < 3; ++i) {
        CHECK(at_a.at(ha[i]) == std::vector<std::string>{"b" + std::to_string(i)});
        CHECK(at_b.at(hb[i]) == std::vector<std::string>{"a" + std::to_string(i)});
        CHECK(changes_of(net.events(kA), ha[i]).size() == 1);
        CHECK(changes_of(net.events(kB), hb[i]).size() == 1);
    }
    CHECK(a.stats().handshakes_completed == 3);
}

TEST_CASE("a restarted connector reopens channel 0: only that connection sees the restart") {
    Config c;
    c.idle_timeout = seconds(30);
    TwoConnections t(c);
    auto& net = t.net;
    auto& server = t.server;
    const auto& accepted = t.accepted;
    net.remove(kB);
    MessageId lost0 = 0, kept1 = 0;
    REQUIRE_FALSE(server.send(accepted[0], MessageKind::text, as_bytes("for old 0"), lost0));
    REQUIRE_FALSE(server.send(accepted[1], MessageKind::text, as_bytes("for old 1"), kept1));
    net.run_for(milliseconds(100));
    auto& client2 = net.replace(kB, c, 77);
    ConnectionHandle h = 0;
    REQUIRE_FALSE(client2.connect(net.now(), kA, kKey, h));
    REQUIRE(net.run_until_true([&] { return !events_of<MessageFailed>(net.events(kA)).empty(); }));
    net.run_for(milliseconds(500));
    const auto failed = events_of<MessageFailed>(net.events(kA));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].id == lost0);
    CHECK(failed[0].reason == error::peer_restarted);
    const auto changes0 = changes_of(net.events(kA), accepted[0]);
    REQUIRE(changes0.size() == 2);
    CHECK(changes0[1].state == ConnectionState::established);
    CHECK(changes0[1].reason == error::peer_restarted);
    CHECK(changes_of(net.events(kA), accepted[1]).size() == 1);  // untouched
    CHECK(accepted_connections(net.events(kA)).size() == 2);     // no third connection
    CHECK(server.stats().connections == 2);
}

TEST_CASE("two connections to one listener both resume after a blackout, each with its own data") {
    Config c;
    c.idle_timeout = seconds(2);
    c.keepalive_interval = milliseconds(500);
    c.handshake_retransmit_max = milliseconds(500);
    TwoConnections t(c);
    auto& net = t.net;
    auto& server = t.server;
    auto& client = t.client;
    const ConnectionHandle h1 = t.h1, h2 = t.h2;
    const auto& accepted = t.accepted;
    bool cut = true;
    net.set_filter([&](const PeerAddress&, const PeerAddress&, Bytes&) { return !cut; });
    MessageId id = 0;
    REQUIRE_FALSE(client.send(h1, MessageKind::text, as_bytes("one, across the gap"), id));
    REQUIRE_FALSE(client.send(h2, MessageKind::text, as_bytes("two, across the gap"), id));
    REQUIRE_FALSE(server.send(accepted[0], MessageKind::text, as_bytes("back to one"), id));
    REQUIRE_FALSE(server.send(accepted[1], MessageKind::text, as_bytes("back to two"), id));
    net.run_for(seconds(6));
    for (ConnectionHandle h : {h1, h2})
        REQUIRE(client.state(h) == ConnectionState::reconnecting);
    for (ConnectionHandle h : accepted)
        REQUIRE(server.state(h) == ConnectionState::reconnecting);
    cut = false;
    REQUIRE(net.run_until_true([&] {
        return events_of<MessageReceived>(net.events(kA)).size() == 2 &&
               events_of<MessageReceived>(net.events(kB)).size() == 2;
    }));
    const auto at_server = texts_by_connection(net.events(kA));
    CHECK(at_server.at(accepted[0]) == std::vector<std::string>{"one, across the gap"});
    CHECK(at_server.at(accepted[1]) == std::vector<std::string>{"two, across the gap"});
    const auto at_client = texts_by_connection(net.events(kB));
    CHECK(at_client.at(h1) == std::vector<std::string>{"back to one"});
    CHECK(at_client.at(h2) == std::vector<std::string>{"back to two"});
    CHECK(events_of<MessageFailed>(net.events(kA)).empty());
    CHECK(events_of<MessageFailed>(net.events(kB)).empty());
    CHECK(accepted_connections(net.events(kA)).size() == 2);  // resumed, not new
    for (const auto& ev : events_of<StateChanged>(net.events(kA)))
        CHECK(ev.reason != error::peer_restarted);
    for (const auto& ev : events_of<StateChanged>(net.events(kB)))
        CHECK(ev.reason != error::peer_restarted);
}
