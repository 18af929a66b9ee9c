#include <catch2/catch.hpp>

#include <cstring>
#include <limits>

#include "core/cc/new_reno.hpp"

using namespace srmudp;
using namespace std::chrono_literals;
using cc::NewReno;
using recovery::SentPacket;

namespace {

const TimePoint T = TimePoint{} + 100s;

SentPacket acked_packet(TimePoint sent, std::size_t bytes = 1200, bool in_flight = true) {
    SentPacket p;
    p.time_sent = sent;
    p.bytes = bytes;
    p.ack_eliciting = in_flight;
    p.in_flight = in_flight;
    return p;
}

}  // namespace

TEST_CASE("initial and minimum windows follow RFC 9002 section 7.2", "[newreno]") {
    CHECK(cc::new_reno_initial_window(1200) == 12000);  // 10 * mds
    CHECK(cc::new_reno_initial_window(1472) == 14720);  // both bounds meet
    CHECK(cc::new_reno_initial_window(1500) == 14720);  // capped by 14720
    CHECK(cc::new_reno_initial_window(9000) == 18000);  // at least 2 * mds
    CHECK(cc::new_reno_minimum_window(1200) == 2400);

    NewReno reno(1200);
    CHECK(reno.congestion_window() == 12000);
    CHECK(reno.slow_start_threshold() == std::numeric_limits<std::size_t>::max());
    CHECK_FALSE(reno.in_recovery(T));
    CHECK(std::strcmp(reno.name(), "newreno") == 0);
}

TEST_CASE("slow start grows the window by the bytes acknowledged", "[newreno]") {
    NewReno reno(1200);
    reno.on_packet_sent(T, 1200);
    reno.on_packet_acked(acked_packet(T), T + 50ms);
    CHECK(reno.congestion_window() == 13200);
    // A full window acknowledged doubles it.
    for (int i = 0; i < 11; ++i)
        reno.on_packet_acked(acked_packet(T), T + 50ms);
    CHECK(reno.congestion_window() == 26400);
}

TEST_CASE("packets that are not in flight do not grow the window", "[newreno]") {
    NewReno reno(1200);
    reno.on_packet_acked(acked_packet(T, 1200, false), T + 50ms);
    CHECK(reno.congestion_window() == 12000);
}

TEST_CASE("an application-limited sender does not grow the window", "[newreno]") {
    NewReno reno(1200);
    reno.set_app_limited(true);
    reno.on_packet_acked(acked_packet(T), T + 50ms);
    CHECK(reno.congestion_window() == 12000);
    reno.set_app_limited(false);
    reno.on_packet_acked(acked_packet(T), T + 50ms);
    CHECK(reno.congestion_window() == 13200);
}

TEST_CASE("a congestion event halves the window once per recovery period", "[newreno]") {
    NewReno reno(1200);
    reno.on_congestion_event(T, T + 100ms);
    CHECK(reno.congestion_window() == 6000);
    CHECK(reno.slow_start_threshold() == 6000);
    CHECK(reno.in_recovery(T + 100ms));
    CHECK_FALSE(reno.in_recovery(T + 101ms));

    // Losses of packets sent before the period started belong to the same event.
    reno.on_congestion_event(T + 100ms, T + 150ms);
    CHECK(reno.congestion_window() == 6000);

    // Acknowledgements of such packets do not grow the window either.
    reno.on_packet_acked(acked_packet(T + 90ms), T + 160ms);
    CHECK(reno.congestion_window() == 6000);

    // A packet sent after the period started and lost starts a new period.
    reno.on_congestion_event(T + 120ms, T + 300ms);
    CHECK(reno.congestion_window() == 3000);
    CHECK(reno.slow_start_threshold() == 3000);
    CHECK(reno.in_recovery(T + 300ms));
}

TEST_CASE("congestion avoidance adds one datagram per window acknowledged", "[newreno]") {
    NewReno reno(1200);
    reno.on_congestion_event(T, T + 100ms);
    REQUIRE(reno.congestion_window() == 6000);
    // At ssthresh: congestion avoidance, + 1200 * 1200 / 6000 = 240.
    reno.on_packet_acked(acked_packet(T + 200ms), T + 300ms);
    CHECK(reno.congestion_window() == 6240);
    // 1200 * 600 / 6240 = 115 (integer arithmetic).
    reno.on_packet_acked(acked_packet(T + 200ms, 600), T + 300ms);
    CHECK(reno.congestion_window() == 6355);

    // Roughly one datagram per window: acknowledge five 1200-byte packets.
    NewReno other(1200);
    other.on_congestion_event(T, T + 100ms);
    for (int i = 0; i < 5; ++i)
        other.on_packet_acked(acked_packet(T + 200ms), T + 300ms);
    CHECK(other.congestion_window() > 6000 + 1100);
    CHECK(other.congestion_window() <= 6000 + 1200);
}

TEST_CASE("the window never drops below the minimum window", "[newreno]") {
    NewReno reno(1200);
    TimePoint now = T;
    const std::size_t expected[] = {6000, 3000, 2400, 2400};
    for (std::size_t want : expected) {
        now += 1s;
        reno.on_congestion_event(now - 1ms, now);
        CHECK(reno.congestion_window() == want);
    }
    CHECK(reno.slow_start_threshold() == 1200);
    // 2400 >= ssthresh 1200: growth is congestion avoidance, 1200 * 1200 / 2400.
    reno.on_packet_acked(acked_packet(now + 1ms), now + 50ms);
    CHECK(reno.congestion_window() == 2400 + 600);
}

TEST_CASE("persistent congestion collapses the window and ends recovery", "[newreno]") {
    NewReno reno(1200);
    for (int i = 0; i < 4; ++i)
        reno.on_packet_acked(acked_packet(T), T + 50ms);
    REQUIRE(reno.congestion_window() == 16800);
    reno.on_congestion_event(T + 40ms, T + 500ms);
    reno.on_persistent_congestion();
    CHECK(reno.congestion_window() == 2400);
    CHECK(reno.slow_start_threshold() == 8400);
    CHECK_FALSE(reno.in_recovery(T + 40ms));
    // Slow start again up to ssthresh, even for packets sent before the event.
    reno.on_packet_acked(acked_packet(T + 100ms), T + 600ms);
    CHECK(reno.congestion_window() == 3600);
}

TEST_CASE("the window is bounded", "[newreno]") {
    NewReno reno(1200);
    reno.on_packet_acked(acked_packet(T, std::numeric_limits<std::size_t>::max()), T + 1ms);
    CHECK(reno.congestion_window() == cc::kMaximumWindow);
}

TEST_CASE("make_new_reno gives a NewReno behind the interface", "[newreno]") {
    auto controller = cc::make_new_reno(1200);
    REQUIRE(controller);
    CHECK(std::strcmp(controller->name(), "newreno") == 0);
    CHECK(controller->congestion_window() == 12000);
    controller->on_congestion_event(T, T + 1ms);
    CHECK(controller->congestion_window() == 6000);
}

TEST_CASE("a larger datagram size raises the minimum window and the avoidance step", "[newreno]") {
    NewReno reno(1200);
    reno.on_congestion_event(T, T + 100ms);
    REQUIRE(reno.congestion_window() == 6000);
    reno.set_max_datagram_size(1452);
    CHECK(reno.congestion_window() == 6000);  // the window keeps its bytes
    // Congestion avoidance now adds 1452 * 1452 / 6000 = 351 per full datagram acknowledged.
    reno.on_packet_acked(acked_packet(T + 200ms, 1452), T + 300ms);
    CHECK(reno.congestion_window() == 6351);

    // The minimum window follows: 2 * 4000 lifts a window that was below it.
    NewReno small(1200);
    TimePoint now = T;
    for (int i = 0; i < 4; ++i) {
        now += 1s;
        small.on_congestion_event(now - 1ms, now);
    }
    REQUIRE(small.congestion_window() == 2400);
    small.set_max_datagram_size(4000);
    CHECK(small.congestion_window() == 8000);
    small.on_persistent_congestion();
    CHECK(small.congestion_window() == 8000);
    small.set_max_datagram_size(0);  // treated as 1
    CHECK(small.congestion_window() == 8000);
}
