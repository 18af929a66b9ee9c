// Receive pause (EndpointCore::set_receive_paused): a receiver that stops taking messages stops
// the peer's sender through flow control, holds a bounded amount, and after resuming reports
// every message exactly once, in order.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "pair_harness.hpp"
#include "srmudp/error.hpp"

using namespace srmudp;
using srmudp::test::events_of;
using srmudp::test::Harness;

namespace {

const PeerAddress kA = PeerAddress::v4(127, 0, 0, 1, 4001);
const PeerAddress kB = PeerAddress::v4(127, 0, 0, 2, 4002);
const std::string kKey = "pause key";

constexpr std::size_t kWindow = 64 * 1024;
constexpr std::size_t kMessageSize = 4000;
// A record header in front of every message on the stream (kMaxRecordHeaderSize or less).
constexpr std::size_t kRecordSlack = 16;

Config small_window() {
    Config c;
    c.receive_window = kWindow;
    c.send_buffer_limit = 256 * 1024;
    return c;
}

// A message whose first 4 bytes carry its sequence number; the rest is a pattern of it.
Bytes numbered(std::uint32_t seq, std::size_t size = kMessageSize) {
    Bytes m(size, static_cast<std::uint8_t>(seq * 7 + 1));
    std::memcpy(m.data(), &seq, sizeof seq);
    return m;
}

std::uint32_t number_of(const Message& m) {
    std::uint32_t seq = 0;
    if (m.data.size() >= sizeof seq) std::memcpy(&seq, m.data.data(), sizeof seq);
    return seq;
}

struct Pair {
    Harness net;
    EndpointCore* a = nullptr;  // sender
    EndpointCore* b = nullptr;  // receiver
    ConnectionHandle ha = 0;
    ConnectionHandle hb = 0;

    explicit Pair(const Config& config) {
        a = &net.add(kA, config, 1);
        b = &net.add(kB, config, 2);
        REQUIRE_FALSE(a->connect(net.now(), kB, kKey, ha));
        REQUIRE_FALSE(b->connect(net.now(), kA, kKey, hb));
        REQUIRE(net.run_until_true([&] {
            return a->state(ha) == ConnectionState::established &&
                   b->state(hb) == ConnectionState::established;
        }));
    }

    // Queues numbered messages from `next` on until the send buffer refuses one.
    void fill(std::uint32_t& next) {
        for (;;) {
            MessageId id = 0;
            const Bytes m = numbered(next);
            const auto ec = a->send(ha, MessageKind::binary, ByteView(m), id);
            if (ec == error::send_buffer_full) return;
            REQUIRE_FALSE(ec);
            ++next;
        }
    }
};

}  // namespace

TEST_CASE("a paused receiver stops the sender - resuming delivers every message once - in order") {
    Pair p(small_window());
    p.b->set_receive_paused(p.hb, true);
    std::uint32_t next = 0;
    p.fill(next);
    REQUIRE(next > 0);
    p.net.run_for(seconds(2));

    const std::uint64_t sent_while_paused = p.a->stats(p.ha).stream_bytes_sent;
    CHECK(events_of<MessageReceived>(p.net.events(kB)).empty());
    CHECK(p.b->stats(p.hb).messages_received == 0);
    // The receiver holds at most what flow control let through: the window, plus the credit of
    // the one message it was assembling when the window ran out.
    CHECK(sent_while_paused > 0);
    CHECK(sent_while_paused <= kWindow + kMessageSize + kRecordSlack);

    // What crossed was acknowledged, which freed that much of the send buffer: fill it again.
    // From now on the sender is stuck: its buffer does not drain, for longer than the idle
    // timeout (keepalives keep the stalled connection alive).
    p.fill(next);
    const std::size_t buffered = p.a->stats(p.ha).send_buffer_bytes;
    CHECK(buffered + kMessageSize > small_window().send_buffer_limit);
    p.net.run_for(seconds(45));
    CHECK(p.a->stats(p.ha).stream_bytes_sent == sent_while_paused);
    CHECK(p.a->stats(p.ha).send_buffer_bytes == buffered);
    MessageId refused = 0;
    const Bytes one_more = numbered(next);
    CHECK(p.a->send(p.ha, MessageKind::binary, ByteView(one_more), refused) ==
          error::send_buffer_full);
    CHECK(events_of<MessageReceived>(p.net.events(kB)).empty());
    CHECK(p.a->state(p.ha) == ConnectionState::established);
    CHECK(p.b->state(p.hb) == ConnectionState::established);

    p.b->set_receive_paused(p.hb, false);
    // The sender refills its buffer as it drains, so more than one buffer's worth crosses.
    const std::uint32_t total = next * 3;
    REQUIRE(p.net.run_until_true([&] {
        if (next < total) p.fill(next);
        return next >= total && events_of<MessageDelivered>(p.net.events(kA)).size() == next &&
               events_of<MessageReceived>(p.net.events(kB)).size() == next;
    }));
    const auto got = events_of<MessageReceived>(p.net.events(kB));
    for (std::uint32_t i = 0; i < got.size(); ++i) {
        INFO("message " << i);
        REQUIRE(number_of(got[i].message) == i);
        CHECK(got[i].message.data == numbered(i));
    }
    CHECK(p.b->stats(p.hb).messages_received == next);
}

TEST_CASE("messages already received when the pause starts are held until resumed") {
    Pair p(small_window());
    std::uint32_t next = 0;
    MessageId id = 0;
    for (; next < 3; ++next) {
        const Bytes m = numbered(next);
        REQUIRE_FALSE(p.a->send(p.ha, MessageKind::binary, ByteView(m), id));
    }
    REQUIRE(p.net.run_until_true(
        [&] { return events_of<MessageReceived>(p.net.events(kB)).size() == 3; }));
    p.b->set_receive_paused(p.hb, true);
    for (; next < 6; ++next) {
        const Bytes m = numbered(next);
        REQUIRE_FALSE(p.a->send(p.ha, MessageKind::binary, ByteView(m), id));
    }
    // Acknowledged at the packet level (the receiver holds them), but not handed over.
    REQUIRE(p.net.run_until_true(
        [&] { return events_of<MessageDelivered>(p.net.events(kA)).size() == 6; }));
    p.net.run_for(seconds(1));
    CHECK(events_of<MessageReceived>(p.net.events(kB)).size() == 3);

    p.b->set_receive_paused(p.hb, true);  // pausing twice is no counter: one resume suffices
    p.b->set_receive_paused(p.hb, false);
    // Resuming alone queues the events: no datagram needs to arrive first.
    EndpointEvent ev;
    REQUIRE(p.b->poll_event(ev));
    REQUIRE(std::holds_alternative<MessageReceived>(ev.event));
    CHECK(number_of(std::get<MessageReceived>(ev.event).message) == 3);
    p.net.events(kB).push_back(std::move(ev));
    p.net.run_for(milliseconds(100));
    const auto got = events_of<MessageReceived>(p.net.events(kB));
    REQUIRE(got.size() == 6);
    for (std::uint32_t i = 0; i < 6; ++i)
        CHECK(number_of(got[i].message) == i);
}

TEST_CASE("a message larger than the window completes while paused and is reported on resume") {
    Config c = small_window();
    c.max_message_size = 256 * 1024;
    Pair p(c);
    p.b->set_receive_paused(p.hb, true);
    const Bytes big = numbered(42, 200 * 1024);  // three windows
    MessageId id = 0;
    REQUIRE_FALSE(p.a->send(p.ha, MessageKind::binary, ByteView(big), id));
    // The message being assembled earns credit, so it completes despite the pause...
    REQUIRE(p.net.run_until_true(
        [&] { return events_of<MessageDelivered>(p.net.events(kA)).size() == 1; }));
    // ...but a second one stops at the window: the first is held, uncredited.
    const Bytes second = numbered(43, 100 * 1024);
    REQUIRE_FALSE(p.a->send(p.ha, MessageKind::binary, ByteView(second), id));
    p.net.run_for(seconds(5));
    CHECK(events_of<MessageReceived>(p.net.events(kB)).empty());
    CHECK(events_of<MessageDelivered>(p.net.events(kA)).size() == 1);
    const std::uint64_t sent = p.a->stats(p.ha).stream_bytes_sent;
    CHECK(sent <= big.size() + kWindow + kRecordSlack);

    p.b->set_receive_paused(p.hb, false);
    REQUIRE(p.net.run_until_true([&] {
        return events_of<MessageReceived>(p.net.events(kB)).size() == 2 &&
               events_of<MessageDelivered>(p.net.events(kA)).size() == 2;
    }));
    const auto got = events_of<MessageReceived>(p.net.events(kB));
    CHECK(got[0].message.data == big);
    CHECK(got[1].message.data == second);
}

TEST_CASE("a paused connection that the peer closes reports what it holds before closed") {
    Pair p(small_window());
    p.b->set_receive_paused(p.hb, true);
    MessageId id = 0;
    for (std::uint32_t i = 0; i < 4; ++i) {
        const Bytes m = numbered(i);
        REQUIRE_FALSE(p.a->send(p.ha, MessageKind::binary, ByteView(m), id));
    }
    REQUIRE(p.net.run_until_true(
        [&] { return events_of<MessageDelivered>(p.net.events(kA)).size() == 4; }));
    CHECK(events_of<MessageReceived>(p.net.events(kB)).empty());
    p.a->close(p.ha, p.net.now(), 7, "done");
    REQUIRE(p.net.run_until_true([&] { return p.b->state(p.hb) == ConnectionState::closed; }));
    p.net.run_for(seconds(1));

    // Received messages, in order, then the closed state (nothing after it).
    std::vector<std::uint32_t> order;
    bool closed_seen = false;
    for (const auto& e : p.net.events(kB)) {
        if (const auto* m = std::get_if<MessageReceived>(&e.event)) {
            CHECK_FALSE(closed_seen);
            order.push_back(number_of(m->message));
        } else if (const auto* s = std::get_if<StateChanged>(&e.event)) {
            if (s->state == ConnectionState::closed) {
                closed_seen = true;
                CHECK(s->reason == error::peer_closed);
            }
        }
    }
    CHECK(closed_seen);
    CHECK(order == std::vector<std::uint32_t>{0, 1, 2, 3});
    CHECK(p.b->stats().connections == 0);  // forgotten once it told everything
}

TEST_CASE("pausing an unknown or closed handle does nothing") {
    Pair p(small_window());
    p.b->set_receive_paused(p.hb + 100, true);
    p.b->set_receive_paused(0, false);
    p.b->close(p.hb, p.net.now());
    p.net.run_for(seconds(5));
    REQUIRE(p.b->state(p.hb) == ConnectionState::closed);
    p.b->set_receive_paused(p.hb, true);
    p.b->set_receive_paused(p.hb, false);
    EndpointEvent ev;
    p.net.run_for(seconds(1));
    CHECK_FALSE(p.b->poll_event(ev));
    CHECK(p.b->stats().connections == 0);
}
