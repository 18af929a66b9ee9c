// NewReno of RFC 9002 section 7 and Appendix B: slow start doubles the window each round trip,
// congestion avoidance adds one datagram per window acknowledged, a loss halves the window once
// per recovery period (packets sent before the period started do not reduce it again), and
// persistent congestion collapses it to the minimum.
#include "core/cc/new_reno.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace srmudp::cc {

namespace {

constexpr std::size_t kInitialWindowBytes = 14720;
// RFC 9002 section 7.3.2: kLossReductionFactor = 0.5.
constexpr std::size_t kLossReductionDivisor = 2;

}  // namespace

std::size_t new_reno_initial_window(std::size_t max_datagram_size) {
    return std::min(10 * max_datagram_size, std::max(kInitialWindowBytes, 2 * max_datagram_size));
}

std::size_t new_reno_minimum_window(std::size_t max_datagram_size) {
    return 2 * max_datagram_size;
}

NewReno::NewReno(std::size_t max_datagram_size)
    : max_datagram_size_(std::max<std::size_t>(max_datagram_size, 1)),
      minimum_window_(new_reno_minimum_window(max_datagram_size_)),
      congestion_window_(new_reno_initial_window(max_datagram_size_)),
      ssthresh_(std::numeric_limits<std::size_t>::max()) {}

void NewReno::on_packet_sent(TimePoint /*now*/, std::size_t /*bytes*/) {
    // NewReno reacts to acknowledgements and losses only; bytes in flight live in LossDetector.
}

void NewReno::on_packet_acked(const recovery::SentPacket& packet, TimePoint /*now*/) {
    if (!packet.in_flight || app_limited_ || in_recovery(packet.time_sent)) return;
    std::size_t increase = 0;
    if (congestion_window_ < ssthresh_) {
        increase = packet.bytes;
    } else {
        const auto product = static_cast<std::uint64_t>(max_datagram_size_) * packet.bytes;
        increase = static_cast<std::size_t>(product / congestion_window_);
    }
    congestion_window_ =
        std::min(kMaximumWindow, congestion_window_ + std::min(increase, kMaximumWindow));
}

void NewReno::on_congestion_event(TimePoint sent_time_of_newest_lost, TimePoint now) {
    if (in_recovery(sent_time_of_newest_lost)) return;
    recovery_start_ = now;
    ssthresh_ = congestion_window_ / kLossReductionDivisor;
    congestion_window_ = std::max(ssthresh_, minimum_window_);
}

void NewReno::on_persistent_congestion() {
    congestion_window_ = minimum_window_;
    recovery_start_.reset();
}

void NewReno::set_max_datagram_size(std::size_t max_datagram_size) {
    max_datagram_size_ = std::max<std::size_t>(max_datagram_size, 1);
    minimum_window_ = new_reno_minimum_window(max_datagram_size_);
    congestion_window_ = std::max(congestion_window_, minimum_window_);
}

bool NewReno::in_recovery(TimePoint sent_time) const {
    return recovery_start_ && sent_time <= *recovery_start_;
}

std::unique_ptr<CongestionController> make_new_reno(std::size_t max_datagram_size) {
    return std::make_unique<NewReno>(max_datagram_size);
}

}  // namespace srmudp::cc
