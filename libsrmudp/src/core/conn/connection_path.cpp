// How a connection follows its path: migration to a validated new peer address (path.hpp) and
// the datagram size found by path MTU discovery (pmtu.hpp).
#include "core/conn/connection.hpp"

namespace srmudp::conn {

// An authenticated packet arrived: if it came from somewhere else than the peer address, that
// may be a NAT rebinding, which path validation confirms before the connection moves.
void Connection::note_packet_source(const PeerAddress& from, std::size_t bytes,
                                    std::uint64_t packet_number) {
    PacketSession& s = *session_;
    const bool highest = !s.largest_received || packet_number > *s.largest_received;
    if (highest) s.largest_received = packet_number;
    if (from != remote_) path_.on_packet_from(from, bytes, highest, random_);
}

void Connection::on_path_response(TimePoint now, const PeerAddress& from, const PathData& data) {
    if (path_.on_response(from, data)) migrate(now, from);
}

// RFC 9000 section 9.4: after a validated move to a new host, congestion control, the RTT
// estimate and the path MTU start over; a new port alone (the usual NAT rebinding) keeps them.
void Connection::migrate(TimePoint now, const PeerAddress& address) {
    const bool same_host = address.family == remote_.family && address.ip == remote_.ip;
    remote_ = address;
    ++stats_.path_migrations;
    if (same_host) return;
    rtt_ = recovery::RttEstimator{};
    pmtu_.reset(now);
    session_->cc = cc::make_new_reno(pmtu_.current());
    session_->pacer = cc::Pacer(pmtu_.current());
}

// Path MTU discovery moved the datagram size: congestion control and pacing count in it.
void Connection::apply_datagram_size() {
    session_->cc->set_max_datagram_size(pmtu_.current());
    session_->pacer.set_max_datagram_size(pmtu_.current());
}

}  // namespace srmudp::conn
