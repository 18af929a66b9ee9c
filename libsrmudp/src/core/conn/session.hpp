// The packet-level state that one handshake's keys carry, and handshakes answered but not yet
// proven.
//
// A connection outlives its packet sessions: a reconnect (or a peer that re-handshakes) throws
// the PacketSession away and builds a new one from fresh keys, while the message streams, which
// live in the connection, continue. Packet numbers, acknowledgements, loss recovery and the
// congestion controller all restart with the session.
#pragma once

#include <memory>
#include <optional>

#include "core/cc/congestion_controller.hpp"
#include "core/cc/pacer.hpp"
#include "core/conn/handshake.hpp"
#include "core/conn/packet_protection.hpp"
#include "core/recovery/ack_tracker.hpp"
#include "core/recovery/loss_detector.hpp"
#include "core/recovery/rtt.hpp"
#include "srmudp/address.hpp"
#include "srmudp/config.hpp"

namespace srmudp::conn {

struct PacketSession {
    // rtt is the connection's estimator (it survives sessions on the same path); datagram_size
    // is the size the congestion controller and pacer start from.
    PacketSession(std::unique_ptr<PacketProtection> keys, bool we_initiated, const Config& config,
                  recovery::RttEstimator& rtt, std::size_t datagram_size);
    PacketSession(const PacketSession&) = delete;
    PacketSession& operator=(const PacketSession&) = delete;

    std::unique_ptr<PacketProtection> protection;
    recovery::LossDetector loss;
    recovery::AckTracker acks;
    std::unique_ptr<cc::CongestionController> cc;
    cc::Pacer pacer;
    std::uint64_t next_packet_number = 0;
    std::optional<std::uint64_t> largest_received;  // packet number; migration needs the newest
    bool initiator;
    bool peer_acked = false;  // the peer acknowledged a packet of this session
};

// A handshake this side answered as responder. It becomes the session only when the initiator
// proves it holds the keys with a DATA packet: an initiation can be replayed by anyone who
// captured it, so until then the RESPONSE (kept for retransmitted copies) is all it sends.
struct ResponderAttempt {
    crypto::X25519Key initiator_ephemeral{};
    // The initiation answered: an exact copy of it (a retransmission) gets the stored response
    // again without being authenticated a second time.
    InitiationDigest initiation_digest{};
    ConnectionId initiator_cid = 0;
    HandshakePayload peer_payload;
    std::unique_ptr<PacketProtection> protection;
    Bytes response;
    PeerAddress from;  // where the initiation came from and the response goes
    bool response_pending = true;
    TimePoint expires = kNever;
    // When the response first went out and how many copies did (the RTT sample, as for
    // InitiatorState).
    TimePoint response_first_sent{};
    unsigned response_sends = 0;
};

}  // namespace srmudp::conn
