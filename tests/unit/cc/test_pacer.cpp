#include <catch2/catch.hpp>

#include <string>

#include "core/cc/pacer.hpp"

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
using cc::Pacer;

namespace {

const TimePoint T = TimePoint{} + 100s;
// 1.25 * 12000 bytes / 100 ms = 150000 bytes/s: one 1200-byte datagram every 8 ms.
constexpr std::size_t kCwnd = 12000;
constexpr Duration kSrtt = 100ms;

// Sends `n` 1200-byte packets as soon as the pacer allows, starting at `start`; returns the time
// the last one went out.
TimePoint send_paced(Pacer& pacer, TimePoint start, int n) {
    TimePoint now = start;
    for (int i = 0; i < n; ++i) {
        now = std::max(now, pacer.next_send_time(now, 1200, kCwnd, kSrtt));
        pacer.on_packet_sent(now, 1200, kCwnd, kSrtt);
    }
    return now;
}

}  // namespace

TEST_CASE("a fresh pacer allows a burst of ten datagrams", "[pacer]") {
    Pacer pacer(1200);
    CHECK(pacer.burst_bytes() == 12000);
    for (int i = 0; i < 10; ++i) {
        REQUIRE(pacer.next_send_time(T, 1200, kCwnd, kSrtt) <= T);
        pacer.on_packet_sent(T, 1200, kCwnd, kSrtt);
    }
    CHECK(pacer.next_send_time(T, 1200, kCwnd, kSrtt) == T + 8ms);
}

TEST_CASE("after the burst - packets are spaced at the pacing rate", "[pacer]") {
    Pacer pacer(1200);
    TimePoint now = send_paced(pacer, T, 10);
    CHECK(now == T);
    now = send_paced(pacer, now, 1);
    CHECK(now == T + 8ms);
    now = send_paced(pacer, now, 1);
    CHECK(now == T + 16ms);
    now = send_paced(pacer, now, 5);
    CHECK(now == T + 56ms);
    // A smaller packet needs proportionally less time.
    CHECK(pacer.next_send_time(T + 56ms, 600, kCwnd, kSrtt) == T + 60ms);
}

TEST_CASE("the rate follows the window and the RTT", "[pacer]") {
    Pacer pacer(1200);
    send_paced(pacer, T, 10);
    CHECK(pacer.next_send_time(T, 1200, 2 * kCwnd, kSrtt) == T + 4ms);
    CHECK(pacer.next_send_time(T, 1200, kCwnd, 2 * kSrtt) == T + 16ms);
}

TEST_CASE("an idle period refills the bucket only up to the burst size", "[pacer]") {
    Pacer pacer(1200);
    send_paced(pacer, T, 15);
    const TimePoint later = T + 10s;
    CHECK(send_paced(pacer, later, 10) == later);
    CHECK(pacer.next_send_time(later, 1200, kCwnd, kSrtt) == later + 8ms);
}

TEST_CASE("partial refill shortens the wait", "[pacer]") {
    Pacer pacer(1200);
    send_paced(pacer, T, 10);
    // 5 ms refill 750 bytes; 450 more take 3 ms.
    CHECK(pacer.next_send_time(T + 5ms, 1200, kCwnd, kSrtt) == T + 8ms);
}

TEST_CASE("packets sent against the pacer build no debt", "[pacer]") {
    Pacer pacer(1200);
    for (int i = 0; i < 30; ++i)
        pacer.on_packet_sent(T, 1200, kCwnd, kSrtt);
    CHECK(pacer.next_send_time(T, 1200, kCwnd, kSrtt) == T + 8ms);
}

TEST_CASE("a packet larger than the bucket waits for a full bucket", "[pacer]") {
    Pacer pacer(1200);
    send_paced(pacer, T, 10);
    CHECK(pacer.next_send_time(T, 50000, kCwnd, kSrtt) == T + 80ms);
}

TEST_CASE("no RTT or window yet: pacing is off", "[pacer]") {
    Pacer pacer(1200);
    for (int i = 0; i < 20; ++i)
        pacer.on_packet_sent(T, 1200, kCwnd, kSrtt);
    CHECK(pacer.next_send_time(T, 1200, kCwnd, 0ms) == T);
    CHECK(pacer.next_send_time(T, 1200, 0, kSrtt) == T);
}

TEST_CASE("a larger datagram size enlarges the burst without adding tokens", "[pacer]") {
    Pacer pacer(1200);
    send_paced(pacer, T, 10);  // bucket empty
    pacer.set_max_datagram_size(1452);
    CHECK(pacer.burst_bytes() == 14520);
    // Still empty: the next 1452-byte packet waits 1452 / 150000 s = 9.68 ms.
    CHECK(pacer.next_send_time(T, 1452, kCwnd, kSrtt) == T + 9680us);
    // After a long idle period the bigger bucket is full: ten 1452-byte datagrams at once.
    const TimePoint later = T + 10s;
    for (int i = 0; i < 10; ++i) {
        REQUIRE(pacer.next_send_time(later, 1452, kCwnd, kSrtt) <= later);
        pacer.on_packet_sent(later, 1452, kCwnd, kSrtt);
    }
    CHECK(pacer.next_send_time(later, 1452, kCwnd, kSrtt) > later);
    // Shrinking the size drops the tokens above the new capacity.
    Pacer full(1452);
    full.set_max_datagram_size(1200);
    CHECK(full.burst_bytes() == 12000);
    for (int i = 0; i < 10; ++i)
        full.on_packet_sent(T, 1200, kCwnd, kSrtt);
    CHECK(full.next_send_time(T, 1200, kCwnd, kSrtt) == T + 8ms);
}
