// NewReno congestion control as specified for QUIC in RFC 9002 section 7 and Appendix B.
#pragma once

#include <cstddef>
#include <optional>

#include "core/cc/congestion_controller.hpp"

namespace srmudp::cc {

// RFC 9002 section 7.2: min(10 * mds, max(14720, 2 * mds)).
std::size_t new_reno_initial_window(std::size_t max_datagram_size);
// RFC 9002 section 7.2: 2 * mds.
std::size_t new_reno_minimum_window(std::size_t max_datagram_size);
// An upper bound far above any real bandwidth-delay product; it keeps the arithmetic finite.
inline constexpr std::size_t kMaximumWindow = std::size_t{1} << 30;

class NewReno final : public CongestionController {
  public:
    // max_datagram_size of 0 is treated as 1.
    explicit NewReno(std::size_t max_datagram_size);

    void on_packet_sent(TimePoint now, std::size_t bytes) override;
    void on_packet_acked(const recovery::SentPacket& packet, TimePoint now) override;
    void on_congestion_event(TimePoint sent_time_of_newest_lost, TimePoint now) override;
    void on_persistent_congestion() override;
    void set_app_limited(bool app_limited) override { app_limited_ = app_limited; }
    // The window keeps its bytes (raised to the new minimum if below it); 0 is treated as 1.
    void set_max_datagram_size(std::size_t max_datagram_size) override;

    std::size_t congestion_window() const override { return congestion_window_; }
    std::size_t slow_start_threshold() const override { return ssthresh_; }
    bool in_recovery(TimePoint sent_time) const override;
    const char* name() const override { return "newreno"; }

  private:
    std::size_t max_datagram_size_;
    std::size_t minimum_window_;
    std::size_t congestion_window_;
    std::size_t ssthresh_;
    std::optional<TimePoint> recovery_start_;
    bool app_limited_ = false;
};

}  // namespace srmudp::cc
