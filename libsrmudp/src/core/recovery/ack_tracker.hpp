// The receiver side of acknowledgements: which packet numbers arrived, and when an ACK frame is
// owed (RFC 9000 sections 13.2.1 and 13.2.2, ACK ranges of section 19.3).
//
// Call on_packet_received() for every packet that authenticated; ask ack_due() / ack_deadline()
// when to send; put build_ack_frame() in the next packet and call on_ack_sent(). When the peer
// acknowledges a packet that carried an ACK frame, call on_ack_frame_acked() so old ranges can go.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "core/codec/frame.hpp"
#include "srmudp/time.hpp"

namespace srmudp::recovery {

// Ranges whose largest packet number lies more than this many below an ACK the peer has seen are
// forgotten; the ones just below stay so that slightly reordered packets are still recognised.
inline constexpr std::uint64_t kAckedRangeMargin = 16;

class AckTracker {
  public:
    // max_ranges (clamped to 1..codec::kMaxAckRanges) bounds memory and ACK frame size.
    explicit AckTracker(Duration max_ack_delay = milliseconds(25), std::size_t max_ranges = 64);

    // Records a packet that authenticated. Returns false, recording nothing, for a duplicate and
    // for a packet number below the oldest range still tracked (too old to tell it from one).
    bool on_packet_received(std::uint64_t pn, bool ack_eliciting, TimePoint now);

    // True when an ACK should go out now: after every second ack-eliciting packet, at once when
    // an ack-eliciting packet arrived out of order or opened a gap, else max_ack_delay after the
    // first unacknowledged ack-eliciting packet.
    bool ack_due(TimePoint now) const { return ack_deadline() <= now; }
    // When the pending ACK becomes due (possibly in the past); kNever if none is owed.
    TimePoint ack_deadline() const { return immediate_ ? immediate_since_ : deadline_; }
    // True once any packet was recorded: an ACK can always ride along in an outgoing packet.
    bool has_ack_to_send() const { return !ranges_.empty(); }

    // All ranges tracked, newest first; ack_delay is now minus the receive time of the largest.
    // Ranges are empty if nothing was received (check has_ack_to_send()).
    codec::AckFrame build_ack_frame(TimePoint now) const;
    // The same into `out`, whose ranges keep their storage.
    void build_ack_frame(TimePoint now, codec::AckFrame& out) const;
    // An ACK frame was sent: nothing is owed until more ack-eliciting packets arrive.
    void on_ack_sent(TimePoint now);
    // The peer acknowledged a packet carrying an ACK whose largest was largest_in_that_ack:
    // ranges entirely below it (minus kAckedRangeMargin) are dropped; the newest range stays.
    void on_ack_frame_acked(std::uint64_t largest_in_that_ack);

    std::size_t range_count() const { return ranges_.size(); }
    // Packet numbers below this are refused as possible duplicates (0 until ranges were dropped).
    std::uint64_t floor() const { return floor_; }

  private:
    // Adds pn to the ranges; false if it was already there.
    bool insert(std::uint64_t pn);
    void drop_oldest_range();

    Duration max_ack_delay_;
    std::size_t max_ranges_;
    std::deque<codec::AckRange> ranges_;  // descending, non-adjacent, like the ACK frame
    std::uint64_t floor_ = 0;
    TimePoint largest_received_time_{};
    std::size_t ack_eliciting_pending_ = 0;
    TimePoint deadline_ = kNever;
    bool immediate_ = false;
    TimePoint immediate_since_{};
};

}  // namespace srmudp::recovery
