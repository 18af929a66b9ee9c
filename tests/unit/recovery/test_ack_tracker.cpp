#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/codec/buffer.hpp"
#include "core/codec/frame.hpp"
#include "core/codec/varint.hpp"
#include "core/recovery/ack_tracker.hpp"

namespace Catch {
template <>
struct StringMaker<srmudp::TimePoint> {
    static std::string convert(const srmudp::TimePoint& t) {
        return std::to_string(t.time_since_epoch().count()) + " ns";
    }
};
template <>
struct StringMaker<srmudp::codec::AckRange> {
    static std::string convert(const srmudp::codec::AckRange& r) {
        return "[" + std::to_string(r.smallest) + ", " + std::to_string(r.largest) + "]";
    }
};
}  // namespace Catch

using namespace srmudp;
using namespace std::chrono_literals;
using codec::AckRange;
using recovery::AckTracker;

namespace {

const TimePoint t0 = TimePoint{} + 10s;

std::vector<AckRange> ranges_of(const AckTracker& tracker) {
    return tracker.build_ack_frame(t0).ranges;
}

void receive_all(AckTracker& tracker, std::initializer_list<std::uint64_t> pns, bool eliciting) {
    for (auto pn : pns)
        REQUIRE(tracker.on_packet_received(pn, eliciting, t0));
}

}  // namespace

TEST_CASE("an empty tracker owes nothing", "[ack_tracker]") {
    AckTracker tracker;
    CHECK_FALSE(tracker.has_ack_to_send());
    CHECK(tracker.ack_deadline() == kNever);
    CHECK_FALSE(tracker.ack_due(t0 + 1h));
    CHECK(tracker.build_ack_frame(t0).ranges.empty());
}

TEST_CASE("in-order packets form one range - duplicates are refused", "[ack_tracker]") {
    AckTracker tracker;
    receive_all(tracker, {0, 1, 2}, false);
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{0, 2}});
    CHECK_FALSE(tracker.on_packet_received(1, true, t0));
    CHECK_FALSE(tracker.on_packet_received(2, true, t0));
    CHECK(tracker.range_count() == 1);
    CHECK(tracker.ack_deadline() == kNever);  // duplicates do not make an ACK due
}

TEST_CASE("gaps make ranges - newest first - filling gaps merges them", "[ack_tracker]") {
    AckTracker tracker;
    receive_all(tracker, {0, 1, 2, 5, 6, 9}, false);
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{9, 9}, {5, 6}, {0, 2}});

    REQUIRE(tracker.on_packet_received(4, false, t0));  // extends [5,6] downwards
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{9, 9}, {4, 6}, {0, 2}});
    REQUIRE(tracker.on_packet_received(3, false, t0));  // joins [0,2] and [4,6]
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{9, 9}, {0, 6}});
    REQUIRE(tracker.on_packet_received(7, false, t0));  // extends [0,6] upwards
    REQUIRE(tracker.on_packet_received(8, false, t0));  // joins everything
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{0, 9}});
    CHECK_FALSE(tracker.on_packet_received(5, false, t0));
}

TEST_CASE("packets arriving below all ranges and between ranges", "[ack_tracker]") {
    AckTracker tracker;
    receive_all(tracker, {20, 10, 15, 3}, false);
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{20, 20}, {15, 15}, {10, 10}, {3, 3}});
    REQUIRE(tracker.on_packet_received(11, false, t0));
    REQUIRE(tracker.on_packet_received(2, false, t0));
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{20, 20}, {15, 15}, {10, 11}, {2, 3}});
}

TEST_CASE("the ranges encode as a valid ACK frame", "[ack_tracker]") {
    AckTracker tracker;
    receive_all(tracker, {0, 1, 4, 7, 8, 9, 12}, true);
    const codec::AckFrame frame = tracker.build_ack_frame(t0 + 3ms);
    std::vector<std::uint8_t> buf(256);
    codec::Writer w(MutableByteView(buf.data(), buf.size()));
    REQUIRE(codec::encode_ack_frame(w, frame));
    codec::Reader r(ByteView(buf.data(), w.size()));
    codec::AckFrame decoded;
    REQUIRE_FALSE(codec::decode_ack_frame(r, decoded));
    CHECK(decoded == frame);
    CHECK(decoded.ack_delay_us == 3000);
}

TEST_CASE("one ack-eliciting packet is acknowledged within max_ack_delay", "[ack_tracker]") {
    AckTracker tracker(25ms);
    REQUIRE(tracker.on_packet_received(0, true, t0));
    CHECK(tracker.ack_deadline() == t0 + 25ms);
    CHECK_FALSE(tracker.ack_due(t0));
    CHECK_FALSE(tracker.ack_due(t0 + 24ms));
    CHECK(tracker.ack_due(t0 + 25ms));
}

TEST_CASE("every second ack-eliciting packet is acknowledged at once", "[ack_tracker]") {
    AckTracker tracker(25ms);
    REQUIRE(tracker.on_packet_received(0, true, t0));
    REQUIRE(tracker.on_packet_received(1, true, t0 + 5ms));
    CHECK(tracker.ack_due(t0 + 5ms));
    CHECK(tracker.ack_deadline() == t0 + 5ms);

    tracker.on_ack_sent(t0 + 5ms);
    CHECK(tracker.ack_deadline() == kNever);
    CHECK(tracker.has_ack_to_send());                        // ranges stay for bundling
    REQUIRE(tracker.on_packet_received(2, true, t0 + 6ms));  // counter was reset
    CHECK_FALSE(tracker.ack_due(t0 + 6ms));
    CHECK(tracker.ack_deadline() == t0 + 31ms);
}

TEST_CASE("packets that are not ack-eliciting never make an ACK due", "[ack_tracker]") {
    AckTracker tracker(25ms);
    receive_all(tracker, {0, 1, 2, 5, 3}, false);  // in order, gap and reorder alike
    CHECK(tracker.ack_deadline() == kNever);
    CHECK_FALSE(tracker.ack_due(t0 + 1h));
    CHECK(tracker.has_ack_to_send());
}

TEST_CASE("an ack-eliciting packet that opens a gap is acknowledged at once", "[ack_tracker]") {
    AckTracker tracker(25ms);
    REQUIRE(tracker.on_packet_received(0, false, t0));
    REQUIRE(tracker.on_packet_received(2, true, t0 + 1ms));
    CHECK(tracker.ack_due(t0 + 1ms));
}

TEST_CASE("an ack-eliciting packet arriving out of order is acknowledged at once",
          "[ack_tracker]") {
    AckTracker tracker(25ms);
    REQUIRE(tracker.on_packet_received(0, true, t0));
    REQUIRE(tracker.on_packet_received(2, true, t0));
    tracker.on_ack_sent(t0);
    REQUIRE(tracker.on_packet_received(1, true, t0 + 2ms));  // fills the gap
    CHECK(tracker.ack_due(t0 + 2ms));
}

TEST_CASE("the next in-order ack-eliciting packet alone is not urgent", "[ack_tracker]") {
    AckTracker tracker(25ms);
    REQUIRE(tracker.on_packet_received(0, true, t0));
    tracker.on_ack_sent(t0);
    REQUIRE(tracker.on_packet_received(1, true, t0 + 1ms));
    CHECK_FALSE(tracker.ack_due(t0 + 1ms));
}

TEST_CASE("ack delay is measured from the arrival of the largest packet", "[ack_tracker]") {
    AckTracker tracker;
    REQUIRE(tracker.on_packet_received(5, true, t0));
    REQUIRE(tracker.on_packet_received(3, true, t0 + 4ms));  // older packet arrives later
    CHECK(tracker.build_ack_frame(t0 + 7ms).ack_delay_us == 7000);
    CHECK(tracker.build_ack_frame(t0 - 1ms).ack_delay_us == 0);  // clock never goes negative
}

TEST_CASE("max_ranges bounds memory - the oldest ranges go first", "[ack_tracker]") {
    AckTracker tracker(25ms, 4);
    receive_all(tracker, {0, 2, 4, 6, 8, 10}, false);
    CHECK(tracker.range_count() == 4);
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{10, 10}, {8, 8}, {6, 6}, {4, 4}});
    CHECK(tracker.floor() == 4);
    // Below the oldest range kept, a packet cannot be told from a duplicate: refused.
    CHECK_FALSE(tracker.on_packet_received(3, true, t0));
    CHECK_FALSE(tracker.on_packet_received(0, true, t0));
    CHECK(tracker.on_packet_received(5, false, t0));
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{10, 10}, {8, 8}, {4, 6}});
}

TEST_CASE("max_ranges is clamped to at least one", "[ack_tracker]") {
    AckTracker tracker(25ms, 0);
    receive_all(tracker, {1, 5, 9}, false);
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{9, 9}});
}

TEST_CASE("acknowledged ACK frames let old ranges go", "[ack_tracker]") {
    AckTracker tracker;
    receive_all(tracker, {10, 11, 12, 50, 51, 60, 100}, false);
    REQUIRE(tracker.range_count() == 4);

    SECTION("ranges within the margin below the acknowledged largest stay") {
        tracker.on_ack_frame_acked(70);  // drops ranges entirely below 54
        CHECK(ranges_of(tracker) == std::vector<AckRange>{{100, 100}, {60, 60}});
        CHECK(tracker.floor() == 60);
        CHECK_FALSE(tracker.on_packet_received(55, true, t0));
    }
    SECTION("the newest range always stays") {
        tracker.on_ack_frame_acked(1000);
        CHECK(ranges_of(tracker) == std::vector<AckRange>{{100, 100}});
        CHECK(tracker.has_ack_to_send());
        CHECK_FALSE(tracker.on_packet_received(100, true, t0));
        CHECK(tracker.on_packet_received(101, true, t0));
    }
    SECTION("a small largest drops nothing") {
        tracker.on_ack_frame_acked(5);
        CHECK(tracker.range_count() == 4);
        CHECK(tracker.floor() == 0);
    }
}

TEST_CASE("packet numbers near the top of the range", "[ack_tracker]") {
    AckTracker tracker;
    const std::uint64_t top = codec::kVarintMax;
    receive_all(tracker, {top - 2, top}, false);
    REQUIRE(tracker.on_packet_received(top - 1, false, t0));
    CHECK(ranges_of(tracker) == std::vector<AckRange>{{top - 2, top}});
}
