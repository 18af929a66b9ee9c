#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/recovery/loss_detector.hpp"
#include "srmudp/error.hpp"

namespace Catch {
template <>
struct StringMaker<srmudp::TimePoint> {
    static std::string convert(const srmudp::TimePoint& t) {
        return std::to_string(t.time_since_epoch().count()) + " ns";
    }
};
}  // namespace Catch

using namespace srmudp;
using namespace std::chrono_literals;
using codec::AckFrame;
using recovery::LossDetector;
using recovery::RttEstimator;
using recovery::SentPacket;

namespace {

const TimePoint T = TimePoint{} + 100s;

SentPacket packet(std::uint64_t pn, TimePoint sent, bool ack_eliciting = true,
                  bool in_flight = true, std::size_t bytes = 1200) {
    SentPacket p;
    p.packet_number = pn;
    p.time_sent = sent;
    p.bytes = bytes;
    p.ack_eliciting = ack_eliciting;
    p.in_flight = in_flight;
    return p;
}

AckFrame ack(std::vector<codec::AckRange> ranges, std::uint64_t delay_us = 0) {
    AckFrame f;
    f.ack_delay_us = delay_us;
    f.ranges = std::move(ranges);
    return f;
}

std::vector<std::uint64_t> numbers(const std::vector<SentPacket>& packets) {
    std::vector<std::uint64_t> out;
    for (const auto& p : packets)
        out.push_back(p.packet_number);
    return out;
}

using Numbers = std::vector<std::uint64_t>;

// Packet 0 sent at T and acknowledged at T + 100 ms: smoothed = latest = 100 ms, var = 50 ms.
void take_first_sample(LossDetector& ld) {
    ld.on_packet_sent(packet(0, T));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{0, 0}}), T + 100ms, r));
    REQUIRE(r.rtt_updated);
}

}  // namespace

TEST_CASE("acknowledging packets removes them and takes an RTT sample", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    for (std::uint64_t pn = 0; pn < 3; ++pn)
        ld.on_packet_sent(packet(pn, T + pn * 1ms));
    CHECK(ld.bytes_in_flight() == 3600);
    CHECK(ld.packets_tracked() == 3);
    CHECK(ld.has_ack_eliciting_in_flight());

    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{0, 2}}, 5000), T + 102ms, r));
    CHECK(numbers(r.acked) == Numbers{0, 1, 2});
    CHECK(r.lost.empty());
    CHECK(r.largest_newly_acked);
    CHECK(r.rtt_updated);
    CHECK_FALSE(r.congestion_event);
    CHECK(rtt.latest() == 100ms);  // from packet 2, the largest
    CHECK(ld.largest_acked() == 2);
    CHECK(ld.bytes_in_flight() == 0);
    CHECK(ld.packets_tracked() == 0);
    CHECK_FALSE(ld.has_ack_eliciting_in_flight());
    CHECK(ld.deadline() == kNever);
}

TEST_CASE("acked packets come back in ascending order across ranges", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    for (std::uint64_t pn = 0; pn < 10; ++pn)
        ld.on_packet_sent(packet(pn, T));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{8, 9}, {5, 6}, {1, 2}}), T + 10ms, r));
    CHECK(numbers(r.acked) == Numbers{1, 2, 5, 6, 8, 9});
    // 0 is 9 below the largest acked, 3 and 4 are at least 3 below: lost. 7 is 2 below: not yet.
    CHECK(numbers(r.lost) == Numbers{0, 3, 4});
    CHECK(ld.packets_tracked() == 1);
}

TEST_CASE("the RTT is sampled only when the largest is newly acknowledged", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    ld.on_packet_sent(packet(0, T));
    ld.on_packet_sent(packet(1, T + 1ms));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{1, 1}}), T + 51ms, r));
    REQUIRE(r.lost.empty());
    CHECK(r.rtt_updated);
    CHECK(rtt.latest() == 50ms);
    REQUIRE_FALSE(ld.on_ack_received(ack({{0, 1}}), T + 500ms, r));
    CHECK(numbers(r.acked) == Numbers{0});
    CHECK_FALSE(r.largest_newly_acked);
    CHECK_FALSE(r.rtt_updated);
    CHECK(rtt.latest() == 50ms);
}

TEST_CASE("acknowledging only ACK-only packets takes no RTT sample", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    ld.on_packet_sent(packet(0, T, false, false, 40));
    CHECK(ld.bytes_in_flight() == 0);
    CHECK(ld.packets_tracked() == 1);
    CHECK(ld.deadline() == kNever);  // nothing in flight, no timer
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{0, 0}}), T + 30ms, r));
    CHECK(numbers(r.acked) == Numbers{0});
    CHECK_FALSE(r.rtt_updated);
    CHECK_FALSE(rtt.has_sample());
}

TEST_CASE("the peer's ack delay is clamped before it is used", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    take_first_sample(ld);
    ld.on_packet_sent(packet(1, T + 100ms));
    LossDetector::AckResult r;
    // An absurd ack delay from the wire: treated as max_ack_delay (25 ms), adjusted = 175 ms.
    REQUIRE_FALSE(ld.on_ack_received(ack({{1, 1}}, UINT64_MAX), T + 300ms, r));
    CHECK(rtt.smoothed() == 87500us + 21875us);
}

TEST_CASE("ACK frames that acknowledge unsent packets are a protocol violation", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    LossDetector::AckResult r;
    CHECK(ld.on_ack_received(ack({{0, 0}}), T, r) == error::protocol_violation);  // nothing sent

    for (std::uint64_t pn = 0; pn < 3; ++pn)
        ld.on_packet_sent(packet(pn, T));
    CHECK(ld.on_ack_received(ack({{3, 3}}), T + 1ms, r) == error::protocol_violation);
    CHECK(ld.on_ack_received(ack({{1, 5}}), T + 1ms, r) == error::protocol_violation);
    SECTION("malformed ranges are rejected too") {
        CHECK(ld.on_ack_received(ack({}), T + 1ms, r) == error::protocol_violation);
        CHECK(ld.on_ack_received(ack({{2, 1}}), T + 1ms, r) == error::protocol_violation);
        CHECK(ld.on_ack_received(ack({{0, 0}, {2, 2}}), T + 1ms, r) == error::protocol_violation);
        CHECK(ld.on_ack_received(ack({{1, 2}, {0, 1}}), T + 1ms, r) == error::protocol_violation);
    }
    // Nothing changed.
    CHECK(ld.packets_tracked() == 3);
    CHECK(ld.bytes_in_flight() == 3600);
    CHECK_FALSE(rtt.has_sample());
    REQUIRE_FALSE(ld.on_ack_received(ack({{2, 2}, {0, 0}}), T + 1ms, r));
    CHECK(numbers(r.acked) == Numbers{0, 2});
}

TEST_CASE("already acknowledged or lost packet numbers are ignored", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    for (std::uint64_t pn = 0; pn < 5; ++pn)
        ld.on_packet_sent(packet(pn, T));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{4, 4}}), T + 10ms, r));
    CHECK(numbers(r.lost) == Numbers{0, 1});
    REQUIRE_FALSE(ld.on_ack_received(ack({{4, 4}, {0, 1}}), T + 11ms, r));
    CHECK(r.acked.empty());
    CHECK(r.lost.empty());
    CHECK_FALSE(r.rtt_updated);
    CHECK(ld.packets_tracked() == 2);
}

TEST_CASE("packet threshold: three later packets acknowledged", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    take_first_sample(ld);
    for (std::uint64_t pn = 1; pn <= 5; ++pn)
        ld.on_packet_sent(packet(pn, T + 100ms + pn * 1ms));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{4, 4}}), T + 120ms, r));
    CHECK(numbers(r.lost) == Numbers{1});  // 4 - 1 >= 3; 2 and 3 not yet
    CHECK(r.congestion_event);
    CHECK(r.largest_lost_sent_time == T + 101ms);
    CHECK_FALSE(r.persistent_congestion);
    REQUIRE_FALSE(ld.on_ack_received(ack({{5, 5}, {4, 4}}), T + 121ms, r));
    CHECK(numbers(r.lost) == Numbers{2});
    CHECK(ld.packets_tracked() == 1);  // packet 3
    CHECK(ld.bytes_in_flight() == 1200);
}

TEST_CASE("time threshold: the deadline arms and on_timeout declares the loss", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    take_first_sample(ld);
    ld.on_packet_sent(packet(1, T + 100ms));
    ld.on_packet_sent(packet(2, T + 110ms));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{2, 2}}), T + 210ms, r));
    CHECK(r.lost.empty());
    // loss delay = 9/8 * max(latest 100 ms, smoothed 100 ms) = 112.5 ms after packet 1 was sent
    REQUIRE(ld.deadline() == T + 212500us);

    auto early = ld.on_timeout(T + 212ms);
    CHECK(early.lost.empty());
    CHECK(early.probes == 0);
    CHECK(ld.packets_tracked() == 1);

    auto t = ld.on_timeout(T + 212500us);
    CHECK(numbers(t.lost) == Numbers{1});
    CHECK(t.probes == 0);
    CHECK(t.congestion_event);
    CHECK(t.largest_lost_sent_time == T + 100ms);
    CHECK(ld.pto_count() == 0);
    CHECK(ld.deadline() == kNever);
}

TEST_CASE("time threshold applies to old packets when an ACK arrives", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    take_first_sample(ld);
    ld.on_packet_sent(packet(1, T + 100ms));
    ld.on_packet_sent(packet(2, T + 300ms));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{2, 2}}), T + 400ms, r));
    CHECK(numbers(r.lost) == Numbers{1});  // sent 300 ms before now > 112.5 ms
}

TEST_CASE("lost ACK-only packets are no congestion event", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    ld.on_packet_sent(packet(0, T, false, false, 40));
    for (std::uint64_t pn = 1; pn <= 3; ++pn)
        ld.on_packet_sent(packet(pn, T));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{3, 3}}), T + 50ms, r));
    CHECK(numbers(r.lost) == Numbers{0});
    CHECK_FALSE(r.congestion_event);
}

TEST_CASE("PTO: probes - then doubling backoff - reset by a new acknowledgement", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    ld.on_packet_sent(packet(0, T));
    ld.on_packet_sent(packet(1, T + 10ms));
    // No RTT sample: 333 + 4 * 166.5 + 25 = 1024 ms after the last ack-eliciting packet.
    REQUIRE(ld.deadline() == T + 1034ms);
    CHECK(ld.on_timeout(T + 1033ms).probes == 0);
    CHECK(ld.pto_count() == 0);

    auto first = ld.on_timeout(T + 1034ms);
    CHECK(first.probes == 2);
    CHECK(first.lost.empty());
    CHECK(ld.pto_count() == 1);
    CHECK(ld.deadline() == T + 10ms + 2048ms);
    CHECK(ld.on_timeout(T + 10ms + 2048ms).probes == 2);
    CHECK(ld.pto_count() == 2);
    CHECK(ld.deadline() == T + 10ms + 4096ms);

    // Probes are new packets; they restart the timer from their send time.
    ld.on_packet_sent(packet(2, T + 3s));
    CHECK(ld.deadline() == T + 3s + 4096ms);
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{2, 2}}), T + 3100ms, r));
    CHECK(ld.pto_count() == 0);
}

TEST_CASE("an ACK that acknowledges nothing new keeps the PTO backoff", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    ld.on_packet_sent(packet(0, T));
    ld.on_packet_sent(packet(1, T));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{0, 0}}), T + 10ms, r));
    (void)ld.on_timeout(ld.deadline());
    REQUIRE(ld.pto_count() == 1);
    REQUIRE_FALSE(ld.on_ack_received(ack({{0, 0}}), T + 2s, r));
    CHECK(ld.pto_count() == 1);
}

TEST_CASE("PTO with nothing ack-eliciting in flight still asks for a probe", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    ld.on_packet_sent(packet(0, T, false, true, 1200));  // padding only: in flight
    CHECK_FALSE(ld.has_ack_eliciting_in_flight());
    REQUIRE(ld.deadline() == T + 1024ms);
    auto t = ld.on_timeout(T + 1024ms);
    CHECK(t.probes == 1);
    CHECK(ld.pto_count() == 1);
}

TEST_CASE("the PTO backoff saturates instead of overflowing", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    ld.on_packet_sent(packet(0, T));
    for (int i = 0; i < 80; ++i)
        REQUIRE(ld.on_timeout(ld.deadline()).probes == 2);
    CHECK(ld.pto_count() == 80);
    // The exponent stops at 30: about 35 years, far beyond any idle timeout.
    CHECK(ld.deadline() == T + 1024ms * (std::int64_t{1} << 30));
    CHECK(ld.on_timeout(T + 1000h).probes == 0);
}

TEST_CASE("persistent congestion: losses spanning 3 PTOs with no ACK between", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    take_first_sample(ld);
    ld.on_packet_sent(packet(1, T + 200ms));
    ld.on_packet_sent(packet(2, T + 500ms));
    ld.on_packet_sent(packet(3, T + 800ms));
    ld.on_packet_sent(packet(4, T + 1100ms));
    ld.on_packet_sent(packet(5, T + 1250ms));
    ld.on_packet_sent(packet(6, T + 1300ms));
    LossDetector::AckResult r;

    SECTION("all lost: 1050 ms between the first and last exceeds 3 * 275 ms") {
        REQUIRE_FALSE(ld.on_ack_received(ack({{6, 6}}), T + 1400ms, r));
        CHECK(numbers(r.lost) == Numbers{1, 2, 3, 4, 5});
        CHECK(r.congestion_event);
        CHECK(r.largest_lost_sent_time == T + 1250ms);
        CHECK(r.persistent_congestion);
    }
    SECTION("an acknowledged packet in between breaks the period") {
        REQUIRE_FALSE(ld.on_ack_received(ack({{6, 6}, {3, 3}}), T + 1400ms, r));
        CHECK(numbers(r.lost) == Numbers{1, 2, 4, 5});
        CHECK(r.congestion_event);
        CHECK_FALSE(r.persistent_congestion);
    }
}

TEST_CASE("persistent congestion needs an RTT sample before the packets were sent", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    // 2 s between packets 0 and 2 would exceed the period (3 * 325 ms) computed after this ACK.
    ld.on_packet_sent(packet(0, T));
    ld.on_packet_sent(packet(1, T + 1s));
    ld.on_packet_sent(packet(2, T + 2s));
    ld.on_packet_sent(packet(3, T + 5s));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{3, 3}}), T + 5100ms, r));
    CHECK(numbers(r.lost) == Numbers{0, 1, 2});
    CHECK(r.congestion_event);
    CHECK_FALSE(r.persistent_congestion);
}

TEST_CASE("persistent congestion needs two ack-eliciting packets", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    take_first_sample(ld);
    ld.on_packet_sent(packet(1, T + 200ms, false, true));
    ld.on_packet_sent(packet(2, T + 500ms));
    ld.on_packet_sent(packet(3, T + 1250ms, false, true));
    ld.on_packet_sent(packet(4, T + 1300ms));
    ld.on_packet_sent(packet(5, T + 1310ms));
    ld.on_packet_sent(packet(6, T + 1320ms));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{6, 6}}), T + 1400ms, r));
    CHECK(numbers(r.lost) == Numbers{1, 2, 3});
    CHECK_FALSE(r.persistent_congestion);  // only 2 is ack-eliciting
}

TEST_CASE("drain hands back every outstanding packet", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    for (std::uint64_t pn = 0; pn < 4; ++pn)
        ld.on_packet_sent(packet(pn, T));
    ld.on_packet_sent(packet(4, T, false, false));
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{0, 0}}), T + 10ms, r));
    REQUIRE(ld.on_timeout(ld.deadline()).probes == 2);
    REQUIRE(ld.pto_count() == 1);

    const auto drained = ld.drain();
    CHECK(numbers(drained) == Numbers{1, 2, 3, 4});
    CHECK(ld.packets_tracked() == 0);
    CHECK(ld.bytes_in_flight() == 0);
    CHECK_FALSE(ld.has_ack_eliciting_in_flight());
    CHECK(ld.deadline() == kNever);
    CHECK(ld.pto_count() == 0);
    CHECK(ld.drain().empty());
    // Packet numbers continue; acknowledgements of drained packets are simply ignored.
    ld.on_packet_sent(packet(5, T + 20ms));
    REQUIRE_FALSE(ld.on_ack_received(ack({{5, 5}, {0, 3}}), T + 30ms, r));
    CHECK(numbers(r.acked) == Numbers{5});
}

TEST_CASE("ACK-only packets the peer never acknowledges are bounded", "[loss]") {
    RttEstimator rtt;
    LossDetector ld(rtt, 25ms);
    const std::uint64_t count = recovery::kMaxTrackedPackets + 100;
    for (std::uint64_t pn = 0; pn < count; ++pn)
        ld.on_packet_sent(packet(pn, T, false, false));
    CHECK(ld.packets_tracked() == recovery::kMaxTrackedPackets);
    LossDetector::AckResult r;
    REQUIRE_FALSE(ld.on_ack_received(ack({{count - 1, count - 1}}), T + 1ms, r));
    CHECK(numbers(r.acked) == Numbers{count - 1});
}
