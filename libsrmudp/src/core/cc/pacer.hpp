// Pacing of RFC 9002 section 7.7: a token bucket that spreads a congestion window over the round
// trip instead of sending it in one burst.
//
// Before sending, ask next_send_time(); if it is <= now, send and call on_packet_sent(),
// otherwise wake up at the returned time. The window and RTT are passed on every call because
// they change with each acknowledgement.
#pragma once

#include <cstddef>
#include <optional>

#include "srmudp/time.hpp"

namespace srmudp::cc {

// Rate = kPacingGain * cwnd / smoothed_rtt (RFC 9002 7.7 suggests N = 1.25), so that pacing
// does not itself keep the sender from filling the window.
inline constexpr double kPacingGain = 1.25;
// Datagrams that may leave back to back after an idle period (the bucket's capacity).
inline constexpr std::size_t kPacingBurstDatagrams = 10;

class Pacer {
  public:
    // The bucket starts full. max_datagram_size of 0 is treated as 1.
    explicit Pacer(std::size_t max_datagram_size);

    // Time at which a packet of `bytes` may be sent given cwnd and smoothed RTT; a time <= now
    // means now. A zero cwnd or a non-positive RTT disables pacing (returns now).
    TimePoint next_send_time(TimePoint now, std::size_t bytes, std::size_t cwnd,
                             Duration srtt) const;
    // Takes the packet's bytes out of the bucket.
    void on_packet_sent(TimePoint now, std::size_t bytes, std::size_t cwnd, Duration srtt);

    // Path MTU discovery changed the datagram size: the bucket holds kPacingBurstDatagrams of the
    // new size; tokens already in it are kept (up to the new capacity). 0 is treated as 1.
    void set_max_datagram_size(std::size_t max_datagram_size);

    std::size_t burst_bytes() const { return capacity_; }

  private:
    // Bytes in the bucket at `now` after refilling at the current rate.
    double tokens_at(TimePoint now, std::size_t cwnd, Duration srtt) const;

    std::size_t capacity_;
    double tokens_;
    std::optional<TimePoint> last_update_;
};

}  // namespace srmudp::cc
