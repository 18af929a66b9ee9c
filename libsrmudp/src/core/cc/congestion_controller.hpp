// The interface between the connection and a congestion control algorithm, so that NewReno,
// CUBIC or BBR can be swapped without touching the connection (the RFC 9002 Appendix B events).
//
// Per ACK frame, as in RFC 9002 Appendix A.7: first the congestion event (and persistent
// congestion) for the packets it declared lost, then on_packet_acked() for each newly
// acknowledged packet. Check congestion_window() against LossDetector::bytes_in_flight() before
// sending.
#pragma once

#include <cstddef>
#include <memory>

#include "core/recovery/sent_packet.hpp"
#include "srmudp/time.hpp"

namespace srmudp::cc {

class CongestionController {
  public:
    virtual ~CongestionController() = default;

    // A packet that counts in flight was sent.
    virtual void on_packet_sent(TimePoint now, std::size_t bytes) = 0;
    // A packet was newly acknowledged; packets not in flight are ignored.
    virtual void on_packet_acked(const recovery::SentPacket& packet, TimePoint now) = 0;
    // One call per ACK/timeout that declared packets lost: the send time of the newest lost packet.
    virtual void on_congestion_event(TimePoint sent_time_of_newest_lost, TimePoint now) = 0;
    // The losses of the same ACK/timeout established persistent congestion (RFC 9002 7.6).
    virtual void on_persistent_congestion() = 0;
    // True while the sender has less to send than the window allows (RFC 9002 7.8): the window
    // then does not grow, since the acknowledgements do not prove the path could carry more.
    virtual void set_app_limited(bool app_limited) = 0;
    // Path MTU discovery changed the datagram size (RFC 9002 section 7.2 ties the minimum
    // window and the congestion-avoidance increase to it).
    virtual void set_max_datagram_size(std::size_t max_datagram_size) = 0;

    // Bytes that may be in flight.
    virtual std::size_t congestion_window() const = 0;
    // Window below which the controller is in slow start; SIZE_MAX until the first loss.
    virtual std::size_t slow_start_threshold() const = 0;
    // True if a packet sent at sent_time belongs to the current recovery period.
    virtual bool in_recovery(TimePoint sent_time) const = 0;
    virtual const char* name() const = 0;
};

// NewReno as in RFC 9002 section 7 and Appendix B.
std::unique_ptr<CongestionController> make_new_reno(std::size_t max_datagram_size);

}  // namespace srmudp::cc
