#include <catch2/catch.hpp>

#include "core/recovery/rtt.hpp"

using namespace srmudp;
using namespace std::chrono_literals;
using recovery::RttEstimator;

TEST_CASE("RTT estimator starts from the initial RTT", "[rtt]") {
    RttEstimator rtt;
    CHECK_FALSE(rtt.has_sample());
    CHECK(rtt.smoothed() == 333ms);
    CHECK(rtt.variance() == 166500us);
    CHECK(rtt.latest() == 0ms);
    CHECK(rtt.min() == 0ms);
    // 333 + 4 * 166.5 + 25
    CHECK(rtt.pto_duration(25ms) == 1024ms);
}

TEST_CASE("first RTT sample sets min - smoothed and variance - ignoring ack delay", "[rtt]") {
    RttEstimator rtt;
    rtt.update(100ms, 10ms, 25ms);
    CHECK(rtt.has_sample());
    CHECK(rtt.latest() == 100ms);
    CHECK(rtt.min() == 100ms);
    CHECK(rtt.smoothed() == 100ms);
    CHECK(rtt.variance() == 50ms);
    CHECK(rtt.pto_duration(25ms) == 100ms + 200ms + 25ms);
}

TEST_CASE("later samples are smoothed with the RFC 9002 weights", "[rtt]") {
    RttEstimator rtt;
    rtt.update(100ms, 0ms, 25ms);
    // 120 - 100 >= 16, so the ack delay is subtracted: adjusted = 104 ms.
    rtt.update(120ms, 16ms, 25ms);
    CHECK(rtt.latest() == 120ms);
    CHECK(rtt.min() == 100ms);
    // rttvar = 3/4 * 50 + 1/4 * |100 - 104| = 38.5; smoothed = 7/8 * 100 + 1/8 * 104 = 100.5
    CHECK(rtt.variance() == 38500us);
    CHECK(rtt.smoothed() == 100500us);
}

TEST_CASE("ack delay is clamped to max_ack_delay", "[rtt]") {
    RttEstimator rtt;
    rtt.update(100ms, 0ms, 25ms);
    rtt.update(200ms, 100ms, 25ms);  // adjusted = 200 - 25 = 175
    // smoothed = 87.5 + 21.875
    CHECK(rtt.smoothed() == 109375us);
    // rttvar = 37.5 + |100 - 175| / 4 = 56.25
    CHECK(rtt.variance() == 56250us);
}

TEST_CASE("ack delay is not subtracted when the result would fall below min_rtt", "[rtt]") {
    RttEstimator rtt;
    rtt.update(100ms, 0ms, 25ms);
    SECTION("below: not subtracted") {
        rtt.update(110ms, 20ms, 25ms);  // 110 - 20 < 100: adjusted stays 110
        CHECK(rtt.smoothed() == 87500us + 13750us);
    }
    SECTION("exactly min_rtt: subtracted") {
        rtt.update(120ms, 20ms, 25ms);  // 120 - 20 == 100: adjusted = 100
        CHECK(rtt.smoothed() == 100ms);
        CHECK(rtt.variance() == 37500us);
    }
    SECTION("negative ack delay counts as zero") {
        rtt.update(108ms, -50ms, 25ms);
        CHECK(rtt.smoothed() == 101ms);
    }
}

TEST_CASE("min_rtt follows the smallest raw sample", "[rtt]") {
    RttEstimator rtt;
    rtt.update(100ms, 0ms, 25ms);
    rtt.update(80ms, 5ms, 25ms);  // min ignores ack delay: 80, not 75
    CHECK(rtt.min() == 80ms);
    rtt.update(90ms, 0ms, 25ms);
    CHECK(rtt.min() == 80ms);
    CHECK(rtt.latest() == 90ms);
}

TEST_CASE("PTO never adds less than the granularity for the variance", "[rtt]") {
    RttEstimator rtt;
    for (int i = 0; i < 40; ++i)
        rtt.update(10ms, 0ms, 25ms);
    CHECK(rtt.smoothed() == 10ms);
    CHECK(4 * rtt.variance() < recovery::kGranularity);
    CHECK(rtt.pto_duration(25ms) == 10ms + recovery::kGranularity + 25ms);
    CHECK(rtt.pto_duration(0ms) == 11ms);
}

TEST_CASE("negative RTT samples count as zero", "[rtt]") {
    RttEstimator rtt;
    rtt.update(-5ms, 0ms, 25ms);
    CHECK(rtt.latest() == 0ms);
    CHECK(rtt.min() == 0ms);
    CHECK(rtt.smoothed() == 0ms);
}
