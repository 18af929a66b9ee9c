// Reconnect and resume, replayed initiations, and peer restarts, end to end through EndpointCore
// on the in-memory harness (resume.cpp and its routing in endpoint_core.cpp).
#include <catch2/catch.hpp>

#include <string>

#include "core/crypto/x25519.hpp"
#include "core/recovery/rtt.hpp"
#include "pair_harness.hpp"
#include "srmudp/error.hpp"

using namespace srmudp;
using srmudp::test::events_of;
using srmudp::test::Harness;

namespace {

const PeerAddress kA = PeerAddress::v4(127, 0, 0, 1, 4001);
const PeerAddress kB = PeerAddress::v4(127, 0, 0, 2, 4002);
const PeerAddress kBNat = PeerAddress::v4(198, 51, 100, 7, 40000);
const PeerAddress kBNat2 = PeerAddress::v4(198, 51, 100, 7, 40001);
const std::string kKey = "correct horse battery staple";

std::vector<ConnectionState> states_of(const std::vector<EndpointEvent>& events) {
    std::vector<ConnectionState> out;
    for (const auto& c : events_of<StateChanged>(events))
        out.push_back(c.state);
    return out;
}

std::vector<std::string> texts_received(const std::vector<EndpointEvent>& events) {
    std::vector<std::string> out;
    for (const auto& m : events_of<MessageReceived>(events))
        out.emplace_back(m.message.data.begin(), m.message.data.end());
    return out;
}

Config fast_config() {
    Config c;
    c.idle_timeout = seconds(2);
    c.keepalive_interval = milliseconds(500);
    c.handshake_retransmit_max = milliseconds(500);
    return c;
}

bool is_initiation(const Bytes& d) {
    return !d.empty() && d[0] == 0x81;
}
bool is_response(const Bytes& d) {
    return !d.empty() && d[0] == 0x82;
}

// Two endpoints that both connect to each other and are established.
struct Pair {
    explicit Pair(const Config& config = fast_config(), bool listen = false)
        : a(net.add(kA, config, 1)), b(net.add(kB, config, 2)) {
        if (listen) {
            REQUIRE_FALSE(a.listen(kKey));
        } else {
            REQUIRE_FALSE(a.connect(net.now(), kB, kKey, ha));
        }
        REQUIRE_FALSE(b.connect(net.now(), kA, kKey, hb));
        REQUIRE(net.run_until_true([&] {
            if (listen && ha == 0 && !events_of<ConnectionAccepted>(net.events(kA)).empty()) {
                ha = net.events(kA).front().connection;
            }
            return ha != 0 && a.state(ha) == ConnectionState::established &&
                   b.state(hb) == ConnectionState::established;
        }));
    }

    MessageId send(EndpointCore& from, ConnectionHandle h, const std::string& text) {
        MessageId id = 0;
        REQUIRE_FALSE(from.send(h, MessageKind::text, as_bytes(text), id));
        return id;
    }

    Harness net;
    EndpointCore& a;
    EndpointCore& b;
    ConnectionHandle ha = 0;
    ConnectionHandle hb = 0;
};

}  // namespace

TEST_CASE("resume: without reconnect an idle timeout closes as before", "[resume]") {
    Config c = fast_config();
    c.reconnect = false;
    Pair p(c);
    p.net.set_filter([](const PeerAddress&, const PeerAddress&, Bytes&) { return false; });
    const MessageId id = p.send(p.a, p.ha, "lost");
    p.net.run_for(seconds(5));
    CHECK(p.a.state(p.ha) == ConnectionState::closed);
    const auto failed = events_of<MessageFailed>(p.net.events(kA));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].id == id);
    CHECK(failed[0].reason == error::idle_timeout);
    for (auto s : states_of(p.net.events(kA)))
        CHECK(s != ConnectionState::reconnecting);
}

TEST_CASE("resume: a partition longer than the idle timeout reconnects and resumes both streams",
          "[resume]") {
    Pair p;
    p.send(p.a, p.ha, "before");
    REQUIRE(p.net.run_until_true([&] { return texts_received(p.net.events(kB)).size() == 1; }));

    bool cut = true;
    p.net.set_filter([&](const PeerAddress&, const PeerAddress&, Bytes&) { return !cut; });
    // Sent into the partition: in flight or queued when the idle timeout fires.
    std::vector<MessageId> a_ids, b_ids;
    for (int i = 0; i < 5; ++i) {
        a_ids.push_back(p.send(p.a, p.ha, "a" + std::to_string(i)));
        b_ids.push_back(p.send(p.b, p.hb, "b" + std::to_string(i)));
    }
    p.net.run_for(seconds(3));
    CHECK(p.a.state(p.ha) == ConnectionState::reconnecting);
    CHECK(p.b.state(p.hb) == ConnectionState::reconnecting);
    // Queued while reconnecting, ids continue.
    a_ids.push_back(p.send(p.a, p.ha, "a5"));
    CHECK(a_ids.back() == a_ids.front() + 5);
    p.net.run_for(seconds(3));  // still cut: keeps trying, nothing fails
    CHECK(events_of<MessageFailed>(p.net.events(kA)).empty());

    cut = false;
    REQUIRE(p.net.run_until_true([&] {
        return texts_received(p.net.events(kB)).size() == 7 &&
               texts_received(p.net.events(kA)).size() == 5 &&
               events_of<MessageDelivered>(p.net.events(kA)).size() == 7 &&
               events_of<MessageDelivered>(p.net.events(kB)).size() == 5;
    }));
    p.net.run_for(seconds(1));
    // Exactly once, in order, on both sides.
    CHECK(texts_received(p.net.events(kB)) ==
          std::vector<std::string>{"before", "a0", "a1", "a2", "a3", "a4", "a5"});
    CHECK(texts_received(p.net.events(kA)) ==
          std::vector<std::string>{"b0", "b1", "b2", "b3", "b4"});
    for (const auto* side : {&p.net.events(kA), &p.net.events(kB)}) {
        CHECK(states_of(*side) == std::vector<ConnectionState>{ConnectionState::established,
                                                               ConnectionState::reconnecting,
                                                               ConnectionState::established});
        const auto changes = events_of<StateChanged>(*side);
        CHECK(changes[1].reason == error::idle_timeout);
        CHECK_FALSE(changes[2].reason);
        CHECK(events_of<MessageFailed>(*side).empty());
    }
    CHECK(p.a.stats(p.ha).reconnects == 1);
    CHECK(p.b.stats(p.hb).reconnects == 1);
}

TEST_CASE("resume: a listener-accepted connection reconnects too - to the same handle",
          "[resume][listen]") {
    Pair p(fast_config(), true);
    bool cut = true;
    p.net.set_filter([&](const PeerAddress&, const PeerAddress&, Bytes&) { return !cut; });
    p.send(p.a, p.ha, "from the listener");
    p.send(p.b, p.hb, "from the client");
    p.net.run_for(seconds(4));
    CHECK(p.a.state(p.ha) == ConnectionState::reconnecting);
    CHECK(p.b.state(p.hb) == ConnectionState::reconnecting);
    cut = false;
    REQUIRE(p.net.run_until_true([&] {
        return texts_received(p.net.events(kA)).size() == 1 &&
               texts_received(p.net.events(kB)).size() == 1;
    }));
    CHECK(p.a.state(p.ha) == ConnectionState::established);
    CHECK(events_of<ConnectionAccepted>(p.net.events(kA)).size() == 1);  // no second connection
    CHECK(p.a.stats().connections == 1);
}

TEST_CASE("resume: reconnect_timeout gives up with idle_timeout", "[resume]") {
    Config c = fast_config();
    c.reconnect_timeout = seconds(3);
    Pair p(c);
    p.net.set_filter([](const PeerAddress&, const PeerAddress&, Bytes&) { return false; });
    const MessageId id = p.send(p.a, p.ha, "never");
    p.net.run_for(seconds(4));
    CHECK(p.a.state(p.ha) == ConnectionState::reconnecting);  // 2 s idle + 3 s not yet over
    p.net.run_for(seconds(2));
    CHECK(p.a.state(p.ha) == ConnectionState::closed);
    const auto changes = events_of<StateChanged>(p.net.events(kA));
    REQUIRE(changes.size() == 3);
    CHECK(changes[2].state == ConnectionState::closed);
    CHECK(changes[2].reason == error::idle_timeout);
    const auto failed = events_of<MessageFailed>(p.net.events(kA));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].id == id);
}

TEST_CASE("resume: close() while reconnecting closes at once", "[resume]") {
    Pair p;
    p.net.set_filter([](const PeerAddress&, const PeerAddress&, Bytes&) { return false; });
    const MessageId id = p.send(p.a, p.ha, "x");
    p.net.run_for(seconds(3));
    REQUIRE(p.a.state(p.ha) == ConnectionState::reconnecting);
    p.a.close(p.ha, p.net.now(), 1, "bye");
    p.net.run_for(milliseconds(10));
    const auto changes = events_of<StateChanged>(p.net.events(kA));
    CHECK(changes.back().state == ConnectionState::closed);
    CHECK(changes.back().reason == error::closed_locally);
    CHECK(events_of<MessageFailed>(p.net.events(kA)).at(0).id == id);
    CHECK(p.a.stats().connections == 0);
}

TEST_CASE("resume: when only one side times out - the other answers while established",
          "[resume]") {
    Pair p;
    // Only b -> a keeps working: b hears nothing and times out, a keeps hearing b's pings.
    bool cut = true;
    p.net.set_filter(
        [&](const PeerAddress& from, const PeerAddress&, Bytes&) { return !(cut && from == kA); });
    p.send(p.a, p.ha, "to b");
    p.net.run_for(milliseconds(2500));
    REQUIRE(p.b.state(p.hb) == ConnectionState::reconnecting);
    REQUIRE(p.a.state(p.ha) == ConnectionState::established);
    cut = false;
    REQUIRE(p.net.run_until_true([&] {
        return p.b.state(p.hb) == ConnectionState::established &&
               texts_received(p.net.events(kB)).size() == 1 &&
               events_of<MessageDelivered>(p.net.events(kA)).size() == 1;
    }));
    p.net.run_for(seconds(1));
    CHECK(p.a.state(p.ha) == ConnectionState::established);
    // a never left established and told its application nothing.
    CHECK(states_of(p.net.events(kA)) ==
          std::vector<ConnectionState>{ConnectionState::established});
    CHECK(p.a.stats(p.ha).reconnects == 1);
    CHECK(texts_received(p.net.events(kB)) == std::vector<std::string>{"to b"});
}

TEST_CASE("resume: a replayed initiation of the current session is ignored", "[resume][replay]") {
    Harness net;
    auto& a = net.add(kA, fast_config(), 1);
    auto& b = net.add(kB, fast_config(), 2);
    std::vector<Bytes> initiations_from_b;
    net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes& d) {
        if (from == kB && is_initiation(d)) initiations_from_b.push_back(d);
        return true;
    });
    REQUIRE_FALSE(a.listen(kKey));
    ConnectionHandle hb = 0;
    REQUIRE_FALSE(b.connect(net.now(), kA, kKey, hb));
    REQUIRE(net.run_until_true([&] { return b.state(hb) == ConnectionState::established; }));
    REQUIRE_FALSE(initiations_from_b.empty());
    net.run_for(seconds(1));

    std::uint64_t responses = 0;
    net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes& d) {
        if (from == kA && is_response(d)) ++responses;
        return true;
    });
    const std::uint64_t operations = crypto::x25519_operations();
    for (int i = 0; i < 3; ++i)
        a.receive(net.now(), kB, ByteView(initiations_from_b.front()));
    CHECK(crypto::x25519_operations() == operations);  // recognised before any crypto
    net.run_for(seconds(1));
    CHECK(responses == 0);
    CHECK(a.stats().connections == 1);
}

TEST_CASE("resume: a replayed old initiation cannot break a working session", "[resume][replay]") {
    for (const bool listen : {false, true}) {
        INFO((listen ? "a listens" : "both connect"));
        Harness net;
        auto& a = net.add(kA, fast_config(), 1);
        // An earlier incarnation of b sent an initiation that an attacker captured (and a
        // never saw): replayed, it would look like b restarting.
        auto& b_old = net.add(kB, fast_config(), 5);
        Bytes old_initiation;
        net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes& d) {
            if (from == kB && is_initiation(d) && old_initiation.empty()) old_initiation = d;
            return from != kB;
        });
        ConnectionHandle h_old = 0;
        REQUIRE_FALSE(b_old.connect(net.now(), kA, kKey, h_old));
        net.run_for(milliseconds(10));
        REQUIRE(is_initiation(old_initiation));

        auto& b = net.replace(kB, fast_config(), 2);
        ConnectionHandle ha = 0, hb = 0;
        if (listen) {
            REQUIRE_FALSE(a.listen(kKey));
        } else {
            REQUIRE_FALSE(a.connect(net.now(), kB, kKey, ha));
        }
        std::uint64_t responses = 0;
        net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes& d) {
            if (from == kA && is_response(d)) ++responses;
            return true;
        });
        REQUIRE_FALSE(b.connect(net.now(), kA, kKey, hb));
        REQUIRE(net.run_until_true([&] {
            if (ha == 0 && !net.events(kA).empty()) ha = net.events(kA).front().connection;
            return ha != 0 && a.state(ha) == ConnectionState::established &&
                   b.state(hb) == ConnectionState::established;
        }));
        const std::uint64_t responses_before = responses;

        // The attacker replays it at a, from b's address, again and again while traffic flows.
        std::vector<std::string> sent;
        for (int i = 0; i < 20; ++i) {
            a.receive(net.now(), kB, ByteView(old_initiation));
            sent.push_back("m" + std::to_string(i));
            MessageId id = 0;
            REQUIRE_FALSE(a.send(ha, MessageKind::text, as_bytes(sent.back()), id));
            net.run_for(milliseconds(300));
        }
        net.run_for(seconds(5));              // long enough for every answered handshake to expire
        CHECK(responses > responses_before);  // answered: a RESPONSE is all a replay gets...
        CHECK(a.state(ha) == ConnectionState::established);  // ...nothing else changed
        CHECK(b.state(hb) == ConnectionState::established);
        CHECK(a.stats(ha).reconnects == 0);
        CHECK(texts_received(net.events(kB)) == sent);
        CHECK(events_of<MessageDelivered>(net.events(kA)).size() == sent.size());
        CHECK(events_of<MessageFailed>(net.events(kA)).empty());
        CHECK(states_of(net.events(kA)) ==
              std::vector<ConnectionState>{ConnectionState::established});
        CHECK(a.stats().connections == 1);
    }
}

TEST_CASE("resume: an initiation reflected back at its sender is not answered",
          "[resume][replay]") {
    Harness net;
    auto& a = net.add(kA, fast_config(), 1);
    auto& b = net.add(kB, fast_config(), 2);
    (void)b;
    ConnectionHandle ha = 0;
    std::vector<Bytes> from_a;
    net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes& d) {
        if (from == kA) from_a.push_back(d);
        return false;  // b never hears a
    });
    REQUIRE_FALSE(a.connect(net.now(), kB, kKey, ha));
    net.run_for(milliseconds(10));
    REQUIRE(from_a.size() == 1);
    const Bytes own = from_a.front();
    from_a.clear();
    // An attacker reflects a's own initiation back to it from b's address.
    a.receive(net.now(), kB, ByteView(own));
    net.run_for(milliseconds(10));
    for (const Bytes& d : from_a)
        CHECK_FALSE(is_response(d));
    CHECK(a.state(ha) == ConnectionState::connecting);
}

TEST_CASE("resume: a restarted peer is detected - undelivered messages fail - ids continue",
          "[resume][restart]") {
    Config c = fast_config();
    c.idle_timeout = seconds(30);  // a stays established while b is gone
    Pair p(c);
    p.send(p.a, p.ha, "delivered");
    REQUIRE(p.net.run_until_true(
        [&] { return events_of<MessageDelivered>(p.net.events(kA)).size() == 1; }));
    p.net.remove(kB);  // b's process dies
    const MessageId lost1 = p.send(p.a, p.ha, "in flight");
    const MessageId lost2 = p.send(p.a, p.ha, "queued");
    p.net.run_for(milliseconds(200));

    auto& b2 = p.net.replace(kB, c, 99);
    ConnectionHandle hb2 = 0;
    REQUIRE_FALSE(b2.connect(p.net.now(), kA, kKey, hb2));
    REQUIRE(p.net.run_until_true([&] {
        return b2.state(hb2) == ConnectionState::established &&
               events_of<MessageFailed>(p.net.events(kA)).size() == 2;
    }));
    p.net.run_for(milliseconds(100));
    const auto failed = events_of<MessageFailed>(p.net.events(kA));
    CHECK(failed[0].id == lost1);
    CHECK(failed[1].id == lost2);
    for (const auto& f : failed) {
        CHECK(f.reason == error::peer_restarted);
        CHECK(f.reason == condition::connection_lost);
    }
    const auto changes = events_of<StateChanged>(p.net.events(kA));
    REQUIRE(changes.size() == 2);
    CHECK(changes[1].state == ConnectionState::established);
    CHECK(changes[1].reason == error::peer_restarted);
    CHECK(std::string(make_error_code(error::peer_restarted).message()).find("restart") !=
          std::string::npos);

    // New messages flow both ways on the same handle; a's ids continue.
    const MessageId next = p.send(p.a, p.ha, "after");
    CHECK(next == lost2 + 1);
    MessageId id = 0;
    REQUIRE_FALSE(b2.send(hb2, MessageKind::text, as_bytes("hello again"), id));
    REQUIRE(p.net.run_until_true([&] {
        return texts_received(p.net.events(kB)).size() == 2 &&
               texts_received(p.net.events(kA)).size() == 1 &&
               events_of<MessageDelivered>(p.net.events(kA)).size() == 2;
    }));
    // b's old incarnation saw "delivered"; the new one only what came after the restart.
    CHECK(texts_received(p.net.events(kB)).back() == "after");
    CHECK(texts_received(p.net.events(kA)) == std::vector<std::string>{"hello again"});
    CHECK(events_of<MessageDelivered>(p.net.events(kA)).back().id == next);
}

TEST_CASE("resume: a listener recognises a restarted peer at the same address",
          "[resume][restart][listen]") {
    Config c = fast_config();
    c.idle_timeout = seconds(30);
    Pair p(c, true);
    p.net.remove(kB);
    const MessageId lost = p.send(p.a, p.ha, "for the old b");
    p.net.run_for(milliseconds(100));
    auto& b2 = p.net.replace(kB, c, 77);
    ConnectionHandle hb2 = 0;
    REQUIRE_FALSE(b2.connect(p.net.now(), kA, kKey, hb2));
    REQUIRE(
        p.net.run_until_true([&] { return !events_of<MessageFailed>(p.net.events(kA)).empty(); }));
    CHECK(events_of<MessageFailed>(p.net.events(kA)).at(0).id == lost);
    CHECK(events_of<ConnectionAccepted>(p.net.events(kA)).size() == 1);
    CHECK(p.a.stats().connections == 1);
    CHECK(p.a.state(p.ha) == ConnectionState::established);
}

TEST_CASE("resume: a listener finds a reconnecting peer at a new address by its session id",
          "[resume][listen]") {
    Pair p(fast_config(), true);
    REQUIRE(p.a.remote_address(p.ha) == kB);
    bool cut = true;
    p.net.set_filter([&](const PeerAddress&, const PeerAddress&, Bytes&) { return !cut; });
    p.send(p.b, p.hb, "across the move");
    p.net.run_for(seconds(3));
    REQUIRE(p.b.state(p.hb) == ConnectionState::reconnecting);
    p.net.set_nat(kB, kBNat);  // b comes back from behind a NAT
    cut = false;
    REQUIRE(p.net.run_until_true([&] { return texts_received(p.net.events(kA)).size() == 1; }));
    CHECK(p.a.remote_address(p.ha) == kBNat);
    CHECK(events_of<ConnectionAccepted>(p.net.events(kA)).size() == 1);
    CHECK(p.a.stats().connections == 1);
    CHECK(p.b.state(p.hb) == ConnectionState::established);
}

namespace {

// A listener a and a connecting b, 10 ms apart; drop_first_response loses a's first RESPONSE,
// so b retransmits its initiation. Runs until b is established (a's proof, b's PING, is then
// still on the wire); counts a's responses and the X25519 operations of the whole handshake.
struct ListenPair {
    explicit ListenPair(bool drop_first_response)
        : a(net.add(kA, fast_config(), 1)), b(net.add(kB, fast_config(), 2)) {
        net.set_filter(
            [this, drop_first_response](const PeerAddress& from, const PeerAddress&, Bytes& d) {
                if (from == kB && is_initiation(d) && initiation.empty()) initiation = d;
                if (from != kA || !is_response(d)) return true;
                return ++responses > 1 || !drop_first_response;
            });
        REQUIRE_FALSE(a.listen(kKey));
        const std::uint64_t before = crypto::x25519_operations();
        REQUIRE_FALSE(b.connect(net.now(), kA, kKey, hb));
        REQUIRE(net.run_until_true([&] { return b.state(hb) == ConnectionState::established; }));
        operations = crypto::x25519_operations() - before;
    }

    // The connection a accepted (0 if none within a second).
    ConnectionHandle accepted() {
        ConnectionHandle h = 0;
        net.run_until_true(
            [&] {
                for (const auto& e : net.events(kA))
                    if (std::holds_alternative<ConnectionAccepted>(e.event)) h = e.connection;
                return h != 0;
            },
            seconds(1));
        return h;
    }

    Harness net;
    EndpointCore& a;
    EndpointCore& b;
    ConnectionHandle hb = 0;
    Bytes initiation;
    int responses = 0;
    std::uint64_t operations = 0;
};

}  // namespace

TEST_CASE("handshake RTT: both sides take their first sample from the handshake", "[resume][rtt]") {
    ListenPair p(false);
    // b: initiation out, response back, 2 x 10 ms; nothing else was acknowledged yet.
    CHECK(p.b.stats(p.hb).smoothed_rtt == milliseconds(20));
    CHECK(p.b.stats(p.hb).min_rtt == milliseconds(20));
    // a: response out, b's first packet back.
    const ConnectionHandle ha = p.accepted();
    REQUIRE(ha != 0);
    CHECK(p.a.stats(ha).min_rtt == milliseconds(20));
    CHECK(p.a.stats(ha).smoothed_rtt < milliseconds(30));
}

TEST_CASE("handshake RTT: a connection closed right after its handshake leaves closing soon",
          "[resume][rtt]") {
    ListenPair p(false);
    const ConnectionHandle ha = p.accepted();
    REQUIRE(ha != 0);
    p.b.close(p.hb, p.net.now(), 0, "done");
    // 3 PTOs of a 20 ms RTT: 3 x (20 + 4 x 10 + 25) ms; with the 333 ms initial RTT it was ~3 s.
    p.net.run_for(milliseconds(300));
    CHECK(p.b.state(p.hb) == ConnectionState::closed);
    CHECK(p.a.state(ha) == ConnectionState::closed);
}

TEST_CASE("handshake RTT: a retransmitted handshake datagram gives no sample (Karn)",
          "[resume][rtt]") {
    ListenPair p(true);
    REQUIRE(p.responses == 2);
    // b sent its initiation twice: which copy was answered is unknown.
    CHECK(p.b.stats(p.hb).smoothed_rtt == recovery::kInitialRtt);
    CHECK(p.b.stats(p.hb).min_rtt == Duration::zero());
}

TEST_CASE("a retransmitted initiation is answered with the stored response, no new X25519",
          "[resume][replay]") {
    // Without a loss: b's key pair, a's key pair and agreement, b's agreement.
    ListenPair clean(false);
    CHECK(clean.operations == 4);
    // The lost response costs nothing more: a recognises the copy and repeats its response.
    ListenPair lossy(true);
    CHECK(lossy.responses == 2);
    CHECK(lossy.operations == 4);
    const ConnectionHandle ha = lossy.accepted();
    REQUIRE(ha != 0);
    CHECK(lossy.a.stats().connections == 1);
    CHECK(lossy.a.state(ha) == ConnectionState::established);
}

TEST_CASE("only an exact copy of the answered initiation gets the stored response",
          "[resume][replay]") {
    Harness net;
    auto& a = net.add(kA, fast_config(), 1);
    auto& b = net.add(kB, fast_config(), 2);
    Bytes initiation;
    int responses = 0;
    net.set_filter([&](const PeerAddress& from, const PeerAddress&, Bytes& d) {
        if (from == kA && is_response(d)) ++responses;
        if (from == kB && initiation.empty()) initiation = d;
        return from == kA;  // b's retransmissions never arrive; the test delivers by hand
    });
    REQUIRE_FALSE(a.listen(kKey));
    ConnectionHandle hb = 0;
    REQUIRE_FALSE(b.connect(net.now(), kA, kKey, hb));
    net.run_for(milliseconds(5));
    REQUIRE(is_initiation(initiation));
    a.receive(net.now(), kB, ByteView(initiation));
    net.run_for(milliseconds(5));
    REQUIRE(responses == 1);

    // Same header and ephemeral key, one payload byte changed: authenticated (and rejected), not
    // mistaken for a copy.
    for (const std::size_t at : {std::size_t{100}, initiation.size() - 1}) {
        Bytes tampered = initiation;
        tampered[at] ^= 0x01;
        a.receive(net.now(), kB, ByteView(tampered));
        net.run_for(milliseconds(5));
        CHECK(responses == 1);
    }
    // Truncated: never a copy either.
    a.receive(net.now(), kB, ByteView(initiation.data(), initiation.size() - 1));
    net.run_for(milliseconds(5));
    CHECK(responses == 1);
    // The exact copy is answered again, without X25519.
    const std::uint64_t operations = crypto::x25519_operations();
    a.receive(net.now(), kB, ByteView(initiation));
    CHECK(crypto::x25519_operations() == operations);
    net.run_for(milliseconds(5));
    CHECK(responses == 2);
    CHECK(a.stats().connections == 1);
}
