// Received packet numbers as ACK ranges, and the ACK-sending policy of RFC 9000 section 13.2.
// Ranges are kept newest first because packets mostly arrive at or near the top.
#include "core/recovery/ack_tracker.hpp"

#include <algorithm>
#include <iterator>

namespace srmudp::recovery {

AckTracker::AckTracker(Duration max_ack_delay, std::size_t max_ranges)
    : max_ack_delay_(std::max(max_ack_delay, Duration::zero())),
      max_ranges_(std::clamp<std::size_t>(max_ranges, 1, codec::kMaxAckRanges)) {}

bool AckTracker::on_packet_received(std::uint64_t pn, bool ack_eliciting, TimePoint now) {
    if (pn < floor_) return false;
    const bool had_previous = !ranges_.empty();
    const std::uint64_t previous_largest = had_previous ? ranges_.front().largest : 0;
    if (!insert(pn)) return false;
    if (!had_previous || pn > previous_largest) largest_received_time_ = now;
    if (!ack_eliciting) return true;

    ++ack_eliciting_pending_;
    if (deadline_ == kNever) deadline_ = now + max_ack_delay_;
    // Out of order or a new gap means a loss (or reordering) the sender should hear about now.
    const bool out_of_order = had_previous && pn < previous_largest;
    const bool opened_gap = had_previous && pn > previous_largest && pn - previous_largest > 1;
    if (!immediate_ && (ack_eliciting_pending_ >= 2 || out_of_order || opened_gap)) {
        immediate_ = true;
        immediate_since_ = now;
    }
    return true;
}

bool AckTracker::insert(std::uint64_t pn) {
    for (auto it = ranges_.begin(); it != ranges_.end(); ++it) {
        if (pn > it->largest) {
            if (pn - it->largest == 1) {
                it->largest = pn;  // the range above (if any) starts more than one higher
            } else {
                ranges_.insert(it, codec::AckRange{pn, pn});
            }
            break;
        }
        if (pn >= it->smallest) return false;
        if (it->smallest - pn == 1) {
            it->smallest = pn;
            auto below = std::next(it);
            if (below != ranges_.end() && pn - below->largest == 1) {
                it->smallest = below->smallest;
                ranges_.erase(below);
            }
            return true;
        }
        if (std::next(it) == ranges_.end()) {
            ranges_.push_back(codec::AckRange{pn, pn});
            break;
        }
    }
    if (ranges_.empty()) ranges_.push_back(codec::AckRange{pn, pn});
    if (ranges_.size() > max_ranges_) drop_oldest_range();
    return true;
}

void AckTracker::drop_oldest_range() {
    ranges_.pop_back();
    floor_ = ranges_.back().smallest;
}

codec::AckFrame AckTracker::build_ack_frame(TimePoint now) const {
    codec::AckFrame frame;
    build_ack_frame(now, frame);
    return frame;
}

void AckTracker::build_ack_frame(TimePoint now, codec::AckFrame& out) const {
    out.ranges.assign(ranges_.begin(), ranges_.end());
    out.ack_delay_us = 0;
    if (!ranges_.empty() && now > largest_received_time_) {
        const auto delay = std::chrono::duration_cast<microseconds>(now - largest_received_time_);
        out.ack_delay_us = static_cast<std::uint64_t>(delay.count());
    }
}

void AckTracker::on_ack_sent(TimePoint /*now*/) {
    ack_eliciting_pending_ = 0;
    deadline_ = kNever;
    immediate_ = false;
}

void AckTracker::on_ack_frame_acked(std::uint64_t largest_in_that_ack) {
    if (largest_in_that_ack < kAckedRangeMargin) return;
    const std::uint64_t threshold = largest_in_that_ack - kAckedRangeMargin;
    while (ranges_.size() > 1 && ranges_.back().largest < threshold)
        drop_oldest_range();
}

}  // namespace srmudp::recovery
