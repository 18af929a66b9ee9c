#include "core/conn/session.hpp"

namespace srmudp::conn {

PacketSession::PacketSession(std::unique_ptr<PacketProtection> keys, bool we_initiated,
                             const Config& config, recovery::RttEstimator& rtt,
                             std::size_t datagram_size)
    : protection(std::move(keys)),
      loss(rtt, config.max_ack_delay),
      acks(config.max_ack_delay),
      cc(cc::make_new_reno(datagram_size)),
      pacer(datagram_size),
      initiator(we_initiated) {}

}  // namespace srmudp::conn
