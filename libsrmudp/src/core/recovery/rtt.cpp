// RTT estimation as specified in RFC 9002 section 5.3 and Appendix A.7. The variance is updated
// from the previous smoothed RTT before the smoothed RTT itself (RFC 6298 order, RFC 9002
// erratum 7539).
#include "core/recovery/rtt.hpp"

#include <algorithm>

namespace srmudp::recovery {

namespace {

Duration absolute_difference(Duration a, Duration b) {
    return a > b ? a - b : b - a;
}

}  // namespace

void RttEstimator::update(Duration latest_rtt, Duration ack_delay, Duration max_ack_delay) {
    latest_rtt = std::max(latest_rtt, Duration::zero());
    latest_ = latest_rtt;
    if (!has_sample_) {
        has_sample_ = true;
        min_ = latest_rtt;
        smoothed_ = latest_rtt;
        variance_ = latest_rtt / 2;
        return;
    }
    min_ = std::min(min_, latest_rtt);
    // A peer may report any ack delay; it is trusted only up to the maximum it promised.
    ack_delay = std::clamp(ack_delay, Duration::zero(), std::max(max_ack_delay, Duration::zero()));
    Duration adjusted = latest_rtt;
    // Subtracting more than the sample exceeds min_rtt would claim an RTT below the path's.
    if (latest_rtt - min_ >= ack_delay) adjusted = latest_rtt - ack_delay;
    // Written as x - x/8 + y/8 rather than (7x + y)/8 so that no intermediate can overflow.
    variance_ = variance_ - variance_ / 4 + absolute_difference(smoothed_, adjusted) / 4;
    smoothed_ = smoothed_ - smoothed_ / 8 + adjusted / 8;
}

Duration RttEstimator::pto_duration(Duration max_ack_delay) const {
    return smoothed_ + std::max(4 * variance_, kGranularity) + max_ack_delay;
}

}  // namespace srmudp::recovery
