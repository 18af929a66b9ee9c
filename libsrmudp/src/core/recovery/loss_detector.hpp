// Sender-side loss detection of RFC 9002 section 6 and Appendix A, for one packet number space:
// acknowledgement processing, packet- and time-threshold loss, the probe timeout (PTO), and
// persistent congestion (section 7.6).
//
// Call on_packet_sent() for every packet sent (ACK-only packets too, so that acknowledged ACK
// frames can be noticed), on_ack_received() for every ACK frame, and on_timeout() when
// deadline() has passed. The results say what was acknowledged and what was lost; the
// connection repairs losses and informs the congestion controller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <system_error>
#include <vector>

#include "core/codec/frame.hpp"
#include "core/recovery/rtt.hpp"
#include "core/recovery/sent_packet.hpp"
#include "srmudp/time.hpp"

namespace srmudp::recovery {

// RFC 9002 section 6.1.1: a packet is lost once a packet this many numbers later is acknowledged.
inline constexpr std::uint64_t kPacketThreshold = 3;
// RFC 9002 section 6.1.2: ... or once it is older than 9/8 of the RTT (numerator, denominator).
inline constexpr int kTimeThresholdNumerator = 9;
inline constexpr int kTimeThresholdDenominator = 8;
// RFC 9002 section 7.6.1: losses spanning this many PTOs (without backoff) are persistent.
inline constexpr int kPersistentCongestionThreshold = 3;
// Packets tracked at once. In-flight packets are bounded by the congestion window long before
// this; beyond it the oldest packets that are not in flight (ACK-only) are forgotten, which only
// delays the pruning of ACK ranges.
inline constexpr std::size_t kMaxTrackedPackets = 1u << 16;

class LossDetector {
  public:
    // rtt must outlive the detector; it is updated from acknowledgements.
    LossDetector(RttEstimator& rtt, Duration max_ack_delay);

    // Starts tracking a sent packet. Packet numbers must strictly increase (asserted in debug
    // builds; a packet that does not is ignored in release builds).
    void on_packet_sent(SentPacket packet);

    struct AckResult {
        std::vector<SentPacket> acked;  // newly acknowledged, ascending packet numbers
        std::vector<SentPacket> lost;   // declared lost, ascending packet numbers
        bool largest_newly_acked = false;
        bool rtt_updated = false;
        // At least one in-flight packet was lost: call CongestionController::on_congestion_event
        // with largest_lost_sent_time (the send time of the newest such packet).
        bool congestion_event = false;
        bool persistent_congestion = false;
        TimePoint largest_lost_sent_time{};
    };
    // Processes one ACK frame. Errors: error::protocol_violation if the frame acknowledges a
    // packet number never sent (larger than the largest sent) or its ranges are empty, inverted
    // or not descending; nothing changes then. Already acknowledged or lost numbers are ignored.
    std::error_code on_ack_received(const codec::AckFrame& ack, TimePoint now, AckResult& out);

    // Earliest of the loss time and the PTO; kNever when nothing is in flight.
    TimePoint deadline() const;

    struct TimeoutResult {
        std::vector<SentPacket> lost;   // time-threshold losses, ascending packet numbers
        int probes = 0;                 // PTO: send this many ack-eliciting packets (1 or 2)
        bool congestion_event = false;  // as in AckResult
        bool persistent_congestion = false;
        TimePoint largest_lost_sent_time{};
    };
    // Call when now >= deadline(); earlier calls return an empty result. Either declares packets
    // lost by the time threshold, or (PTO) asks for probes and doubles the next PTO. Two probes
    // while ack-eliciting packets are in flight, one (a PING) otherwise.
    TimeoutResult on_timeout(TimePoint now);

    std::size_t bytes_in_flight() const { return bytes_in_flight_; }
    // PTOs since the last acknowledgement of something new; each doubles the PTO.
    int pto_count() const { return pto_count_; }
    // Largest packet number the peer acknowledged; 0 before any acknowledgement.
    std::uint64_t largest_acked() const { return largest_acked_.value_or(0); }
    bool has_ack_eliciting_in_flight() const { return ack_eliciting_in_flight_ > 0; }
    // Packets neither acknowledged nor declared lost.
    std::size_t packets_tracked() const { return outstanding_; }
    // Hands back every outstanding packet (for close / failure reporting), leaving the detector
    // empty; the PTO backoff is reset. Packet numbers must still increase afterwards.
    std::vector<SentPacket> drain();

  private:
    enum class State : std::uint8_t { outstanding, acked, lost };
    struct Entry {
        SentPacket packet;
        State state;
    };
    struct LossSummary {
        bool congestion_event = false;
        bool persistent_congestion = false;
        TimePoint largest_lost_sent_time{};
    };

    void mark_acked(const codec::AckFrame& ack, std::vector<SentPacket>& acked);
    // Declares packets lost by the packet or time threshold and re-arms loss_time_.
    LossSummary detect_lost(TimePoint now, std::vector<SentPacket>& lost);
    void forget(Entry& e, State state);
    void pop_settled();
    TimePoint pto_time() const;

    RttEstimator& rtt_;
    Duration max_ack_delay_;
    std::deque<Entry> entries_;  // ascending packet numbers
    std::size_t outstanding_ = 0;
    std::size_t in_flight_packets_ = 0;
    std::size_t bytes_in_flight_ = 0;
    std::size_t ack_eliciting_in_flight_ = 0;
    std::optional<std::uint64_t> largest_sent_;
    std::optional<std::uint64_t> largest_acked_;
    TimePoint last_ack_eliciting_sent_{};
    TimePoint last_in_flight_sent_{};
    std::optional<TimePoint> first_rtt_sample_;
    TimePoint loss_time_ = kNever;
    int pto_count_ = 0;
};

}  // namespace srmudp::recovery
