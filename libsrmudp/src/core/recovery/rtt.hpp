// Round-trip time estimation of RFC 9002 section 5: latest, minimum, smoothed RTT and its
// variance, from which the probe timeout (section 6.2.1) is derived.
#pragma once

#include "srmudp/time.hpp"

namespace srmudp::recovery {

// RFC 9002 section 6.2.2: the RTT assumed before the first sample.
inline constexpr Duration kInitialRtt = milliseconds(333);
// RFC 9002 section 6.1.2: timer granularity; no timer is shorter than this.
inline constexpr Duration kGranularity = milliseconds(1);

class RttEstimator {
  public:
    // Feeds one RTT sample (now - send time of the newly acknowledged largest packet) with the
    // peer's reported ack delay. The ack delay is clamped to max_ack_delay and subtracted only
    // when the result stays at or above min_rtt. Negative inputs count as zero.
    void update(Duration latest_rtt, Duration ack_delay, Duration max_ack_delay);

    // Most recent sample; zero before the first one.
    Duration latest() const { return latest_; }
    // Exponentially weighted RTT; kInitialRtt before the first sample.
    Duration smoothed() const { return smoothed_; }
    // Mean deviation of the RTT; kInitialRtt / 2 before the first sample.
    Duration variance() const { return variance_; }
    // Smallest sample seen, ack delay not subtracted; zero before the first sample.
    Duration min() const { return min_; }
    bool has_sample() const { return has_sample_; }

    // Probe timeout without backoff: smoothed + max(4 * variance, kGranularity) + max_ack_delay.
    Duration pto_duration(Duration max_ack_delay) const;

  private:
    Duration latest_{0};
    Duration smoothed_ = kInitialRtt;
    Duration variance_ = kInitialRtt / 2;
    Duration min_{0};
    bool has_sample_ = false;
};

}  // namespace srmudp::recovery
