// Loss detection of RFC 9002 section 6 with the pseudocode of Appendix A, reduced to a single
// packet number space (the handshake is separate, so the PTO always includes max_ack_delay and
// the peer's address is always validated). Persistent congestion follows section 7.6.2, judged
// on the packets declared lost by one ACK or timeout, as Appendix B.8 does.
//
// Sent packets live in a deque in packet-number order. Acknowledged and lost entries stay in
// place (marked) until they reach the front, so that a run of losses can be checked for an
// acknowledged packet in between.
#include "core/recovery/loss_detector.hpp"

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>

#include "srmudp/error.hpp"

namespace srmudp::recovery {

namespace {

// Beyond 2^30 PTOs the timer is effectively "never"; capping the exponent avoids overflow.
constexpr int kMaxBackoffExponent = 30;

TimePoint add_saturating(TimePoint t, Duration d) {
    if (d > Duration::zero() && t > kNever - d) return kNever;
    return t + d;
}

Duration backoff(Duration base, int pto_count) {
    const auto factor = std::int64_t{1} << std::min(pto_count, kMaxBackoffExponent);
    if (base > Duration::max() / factor) return Duration::max();
    return base * factor;
}

// The codec already rejects such frames; checked again because a bad frame here would corrupt
// the bookkeeping rather than merely fail to decode.
bool well_formed(const codec::AckFrame& ack) {
    if (ack.ranges.empty()) return false;
    for (std::size_t i = 0; i < ack.ranges.size(); ++i) {
        if (ack.ranges[i].smallest > ack.ranges[i].largest) return false;
        if (i > 0 && ack.ranges[i].largest >= ack.ranges[i - 1].smallest) return false;
    }
    return true;
}

// The peer's ack delay as a Duration, bounded first so that huge wire values cannot overflow.
Duration peer_ack_delay(std::uint64_t ack_delay_us, Duration max_ack_delay) {
    const auto limit = std::chrono::ceil<microseconds>(max_ack_delay).count();
    const auto bounded = std::min<std::uint64_t>(ack_delay_us, static_cast<std::uint64_t>(limit));
    return microseconds(static_cast<microseconds::rep>(bounded));
}

}  // namespace

LossDetector::LossDetector(RttEstimator& rtt, Duration max_ack_delay)
    : rtt_(rtt), max_ack_delay_(std::max(max_ack_delay, Duration::zero())) {}

void LossDetector::on_packet_sent(SentPacket packet) {
    assert(!largest_sent_ || packet.packet_number > *largest_sent_);
    if (largest_sent_ && packet.packet_number <= *largest_sent_) return;
    largest_sent_ = packet.packet_number;
    if (packet.in_flight) {
        ++in_flight_packets_;
        bytes_in_flight_ += packet.bytes;
        last_in_flight_sent_ = packet.time_sent;
        if (packet.ack_eliciting) {
            ++ack_eliciting_in_flight_;
            last_ack_eliciting_sent_ = packet.time_sent;
        }
    }
    ++outstanding_;
    entries_.push_back(Entry{std::move(packet), State::outstanding});
    while (entries_.size() > kMaxTrackedPackets) {
        Entry& front = entries_.front();
        if (front.state == State::outstanding) {
            if (front.packet.in_flight) break;
            forget(front, State::lost);
        }
        entries_.pop_front();
    }
}

std::error_code LossDetector::on_ack_received(const codec::AckFrame& ack, TimePoint now,
                                              AckResult& out) {
    out = AckResult{};
    if (!well_formed(ack) || !largest_sent_ || ack.ranges.front().largest > *largest_sent_) {
        return error::protocol_violation;
    }
    const std::uint64_t largest = ack.ranges.front().largest;
    largest_acked_ = std::max(largest_acked_.value_or(0), largest);
    mark_acked(ack, out.acked);
    if (out.acked.empty()) return {};

    const SentPacket& newest = out.acked.back();
    out.largest_newly_acked = newest.packet_number == largest;
    const bool any_ack_eliciting = std::any_of(out.acked.begin(), out.acked.end(),
                                               [](const SentPacket& p) { return p.ack_eliciting; });
    // Only the largest acknowledged gives a sample the peer's ack delay applies to (6.1 / 5.1).
    if (out.largest_newly_acked && any_ack_eliciting && now >= newest.time_sent) {
        rtt_.update(now - newest.time_sent, peer_ack_delay(ack.ack_delay_us, max_ack_delay_),
                    max_ack_delay_);
        if (!first_rtt_sample_) first_rtt_sample_ = now;
        out.rtt_updated = true;
    }
    const LossSummary summary = detect_lost(now, out.lost);
    out.congestion_event = summary.congestion_event;
    out.persistent_congestion = summary.persistent_congestion;
    out.largest_lost_sent_time = summary.largest_lost_sent_time;
    pto_count_ = 0;
    pop_settled();
    return {};
}

void LossDetector::mark_acked(const codec::AckFrame& ack, std::vector<SentPacket>& acked) {
    const auto below = [](const Entry& e, std::uint64_t pn) { return e.packet.packet_number < pn; };
    // Lowest range first, so that the result comes out in ascending order.
    for (auto range = ack.ranges.rbegin(); range != ack.ranges.rend(); ++range) {
        auto it = std::lower_bound(entries_.begin(), entries_.end(), range->smallest, below);
        for (; it != entries_.end() && it->packet.packet_number <= range->largest; ++it) {
            if (it->state != State::outstanding) continue;
            forget(*it, State::acked);
            acked.push_back(std::move(it->packet));  // number and send time stay in the entry
        }
    }
}

LossDetector::LossSummary LossDetector::detect_lost(TimePoint now, std::vector<SentPacket>& lost) {
    LossSummary summary;
    loss_time_ = kNever;
    if (!largest_acked_) return summary;
    const Duration rtt = std::max(rtt_.latest(), rtt_.smoothed());
    const Duration loss_delay =
        std::max(rtt / kTimeThresholdDenominator * kTimeThresholdNumerator, kGranularity);
    const TimePoint lost_send_time = now - loss_delay;
    const Duration congestion_period =
        rtt_.pto_duration(max_ack_delay_) * kPersistentCongestionThreshold;
    // First lost ack-eliciting packet of the current run of losses (kNever: no run).
    TimePoint period_start = kNever;

    for (Entry& e : entries_) {
        const SentPacket& p = e.packet;
        if (p.packet_number > *largest_acked_) break;
        if (e.state == State::acked) period_start = kNever;  // an ACK in between ends the run
        if (e.state != State::outstanding) continue;
        const bool is_lost =
            p.time_sent <= lost_send_time || *largest_acked_ - p.packet_number >= kPacketThreshold;
        if (!is_lost) {
            if (p.in_flight) loss_time_ = std::min(loss_time_, p.time_sent + loss_delay);
            continue;
        }
        if (p.in_flight) {
            summary.largest_lost_sent_time =
                summary.congestion_event ? std::max(summary.largest_lost_sent_time, p.time_sent)
                                         : p.time_sent;
            summary.congestion_event = true;
        }
        // Only packets sent after the first RTT sample may bound the period (7.6.2).
        if (p.ack_eliciting && first_rtt_sample_ && p.time_sent > *first_rtt_sample_) {
            if (period_start == kNever) {
                period_start = p.time_sent;
            } else if (p.time_sent - period_start > congestion_period) {
                summary.persistent_congestion = true;
            }
        }
        forget(e, State::lost);
        lost.push_back(std::move(e.packet));
    }
    return summary;
}

void LossDetector::forget(Entry& e, State state) {
    e.state = state;
    --outstanding_;
    if (!e.packet.in_flight) return;
    --in_flight_packets_;
    bytes_in_flight_ -= e.packet.bytes;
    if (e.packet.ack_eliciting) --ack_eliciting_in_flight_;
}

void LossDetector::pop_settled() {
    while (!entries_.empty() && entries_.front().state != State::outstanding)
        entries_.pop_front();
}

TimePoint LossDetector::pto_time() const {
    if (in_flight_packets_ == 0) return kNever;
    // Without ack-eliciting packets in flight the probe still goes out, so that the in-flight
    // rest gets acknowledged (the connection sends a PING).
    const TimePoint base =
        ack_eliciting_in_flight_ > 0 ? last_ack_eliciting_sent_ : last_in_flight_sent_;
    return add_saturating(base, backoff(rtt_.pto_duration(max_ack_delay_), pto_count_));
}

TimePoint LossDetector::deadline() const {
    if (loss_time_ != kNever) return loss_time_;
    return pto_time();
}

LossDetector::TimeoutResult LossDetector::on_timeout(TimePoint now) {
    TimeoutResult result;
    const TimePoint due = deadline();
    if (due == kNever || now < due) return result;
    if (loss_time_ != kNever) {
        const LossSummary summary = detect_lost(now, result.lost);
        result.congestion_event = summary.congestion_event;
        result.persistent_congestion = summary.persistent_congestion;
        result.largest_lost_sent_time = summary.largest_lost_sent_time;
        pop_settled();
        return result;
    }
    // Two probes make a single further loss survivable (6.2.4); a lone PING suffices otherwise.
    result.probes = ack_eliciting_in_flight_ > 0 ? 2 : 1;
    if (pto_count_ < std::numeric_limits<int>::max()) ++pto_count_;
    return result;
}

std::vector<SentPacket> LossDetector::drain() {
    std::vector<SentPacket> packets;
    packets.reserve(outstanding_);
    for (Entry& e : entries_) {
        if (e.state == State::outstanding) packets.push_back(std::move(e.packet));
    }
    entries_.clear();
    outstanding_ = 0;
    in_flight_packets_ = 0;
    bytes_in_flight_ = 0;
    ack_eliciting_in_flight_ = 0;
    loss_time_ = kNever;
    pto_count_ = 0;
    return packets;
}

}  // namespace srmudp::recovery
