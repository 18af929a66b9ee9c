// A token-bucket pacer (RFC 9002 section 7.7): tokens are bytes, refilled at
// kPacingGain * cwnd / srtt and capped at kPacingBurstDatagrams datagrams. Rates are computed as
// bytes * (4 * srtt) / (5 * cwnd) so that round numbers stay exact in double precision.
#include "core/cc/pacer.hpp"

#include <algorithm>
#include <cmath>

namespace srmudp::cc {

namespace {

// kPacingGain = 5/4, kept as a fraction for exact arithmetic.
constexpr double kGainNumerator = 5.0;
constexpr double kGainDenominator = 4.0;
static_assert(kGainNumerator / kGainDenominator == kPacingGain);
// Waits longer than this (a day) are clamped; they only arise from absurd cwnd/RTT inputs.
constexpr double kMaxWaitNs = 86400e9;

bool pacing_disabled(std::size_t cwnd, Duration srtt) {
    return cwnd == 0 || srtt <= Duration::zero();
}

}  // namespace

Pacer::Pacer(std::size_t max_datagram_size)
    : capacity_(kPacingBurstDatagrams * std::max<std::size_t>(max_datagram_size, 1)),
      tokens_(static_cast<double>(capacity_)) {}

void Pacer::set_max_datagram_size(std::size_t max_datagram_size) {
    capacity_ = kPacingBurstDatagrams * std::max<std::size_t>(max_datagram_size, 1);
    tokens_ = std::min(tokens_, static_cast<double>(capacity_));
}

double Pacer::tokens_at(TimePoint now, std::size_t cwnd, Duration srtt) const {
    const auto capacity = static_cast<double>(capacity_);
    if (!last_update_ || pacing_disabled(cwnd, srtt)) return capacity;
    if (now <= *last_update_) return tokens_;
    const auto elapsed = static_cast<double>((now - *last_update_).count());
    const double refill = elapsed * (kGainNumerator * static_cast<double>(cwnd)) /
                          (kGainDenominator * static_cast<double>(srtt.count()));
    return std::min(capacity, tokens_ + refill);
}

TimePoint Pacer::next_send_time(TimePoint now, std::size_t bytes, std::size_t cwnd,
                                Duration srtt) const {
    if (pacing_disabled(cwnd, srtt)) return now;
    // A packet larger than the bucket waits for a full bucket rather than forever.
    const double needed = static_cast<double>(std::min(bytes, capacity_));
    const double available = tokens_at(now, cwnd, srtt);
    if (available >= needed) return now;
    const double wait_ns = (needed - available) *
                           (kGainDenominator * static_cast<double>(srtt.count())) /
                           (kGainNumerator * static_cast<double>(cwnd));
    const auto wait = static_cast<Duration::rep>(std::ceil(std::min(wait_ns, kMaxWaitNs)));
    return now + Duration(wait);
}

void Pacer::on_packet_sent(TimePoint now, std::size_t bytes, std::size_t cwnd, Duration srtt) {
    const double available = tokens_at(now, cwnd, srtt);
    // A packet sent early (pacing ignored) empties the bucket but builds no debt.
    tokens_ = std::max(0.0, available - static_cast<double>(bytes));
    if (!last_update_ || now > *last_update_) last_update_ = now;
}

}  // namespace srmudp::cc
