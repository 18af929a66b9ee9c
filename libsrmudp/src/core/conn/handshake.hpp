// The srmudp handshake: Noise_NNpsk0_25519_ChaChaPoly_SHA256 carried in two packets.
//
//   INITIATION  (initiator -> responder, padded to 1200 bytes)
//     header: 0x81, version, initiator connection ID
//     body:   Noise message 1:  psk, e         -> e.public (32) || AEAD(payload) (payload + 16)
//   RESPONSE    (responder -> initiator, 106 bytes)
//     header: 0x82, version, initiator connection ID, responder connection ID
//     body:   Noise message 2:  e, ee          -> e.public (32) || AEAD(payload) (payload + 16)
//
// The prologue is kPrologueLabel || the initiation header, so the initiation header is
// authenticated by message 1; the response payload repeats the responder's connection ID, which
// authenticates the response header. Both payloads carry a session id, a resume offset and the
// sender's initial flow-control limit (see docs/PROTOCOL.md).
//
// Verbs come in pairs as in WireGuard: create_initiation / consume_initiation,
// create_response / consume_response. Each consume builds a fresh Noise state, so a forged or
// corrupted packet can never damage the state of a handshake in progress.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <system_error>

#include "core/codec/packet.hpp"
#include "core/crypto/noise.hpp"
#include "srmudp/bytes.hpp"
#include "srmudp/random.hpp"
#include "srmudp/time.hpp"

namespace srmudp::conn {

using codec::ConnectionId;

struct HandshakePayload {
    std::array<std::uint8_t, 16> session_id{};
    // Stream bytes the sender has received from this session so far (0 for a new session).
    std::uint64_t resume_offset = 0;
    // The sender's initial flow-control limit: the peer may send stream bytes below it.
    std::uint64_t max_data = 0;
    // Initiations only: which of the connections between the same two addresses this is,
    // chosen by the side that called connect() (the lowest number it had free for that peer).
    std::uint32_t channel = 0;
};

// What the initiator keeps between sending its initiation and receiving the response. The
// initiation datagram is kept verbatim for retransmission (same ephemeral key every time, so a
// simultaneous-open tie-break sees the same value on every copy), and the Noise state after it,
// from which each response is read without computing the initiation again.
struct InitiatorState {
    crypto::X25519Key ephemeral_public{};
    ConnectionId local_cid = 0;
    HandshakePayload payload;
    Bytes datagram;
    crypto::NoiseInitiatorState noise;  // wipes its secrets when destroyed
    // When the datagram first went out and how many copies did: the connection takes the
    // handshake's RTT sample from them (only if one copy went out, see resume.cpp).
    TimePoint first_sent{};
    unsigned sends = 0;
};

// Identifies one initiation datagram exactly (SHA-256 of all its bytes): a retransmitted copy
// has the same digest, any other datagram a different one.
using InitiationDigest = crypto::Hash;
InitiationDigest initiation_digest(ByteView datagram);

struct ConsumedInitiation {
    ConnectionId initiator_cid = 0;
    crypto::X25519Key initiator_ephemeral{};
    InitiationDigest digest{};  // of the datagram consumed
    HandshakePayload payload;
    std::unique_ptr<crypto::NoiseHandshake> noise;  // responder state, ready to write message 2
};

struct ConsumedResponse {
    ConnectionId responder_cid = 0;
    HandshakePayload payload;
    crypto::TransportKeys keys;
};

// Builds a new initiation with a fresh ephemeral key from random.
// Errors: error::crypto_failure.
std::error_code create_initiation(const crypto::Psk& psk, ConnectionId local_cid,
                                  const HandshakePayload& payload, Random& random,
                                  InitiatorState& out);

// Authenticates an initiation datagram. Errors: error::malformed_packet (wrong size or layout),
// error::unsupported_version, error::authentication_failed (not made with this psk).
std::error_code consume_initiation(const crypto::Psk& psk, ByteView datagram, Random& random,
                                   ConsumedInitiation& out);

// Writes the response to a consumed initiation and returns the transport keys.
// Errors: error::crypto_failure.
std::error_code create_response(ConsumedInitiation& initiation, ConnectionId local_cid,
                                const HandshakePayload& payload, Bytes& datagram,
                                crypto::TransportKeys& keys);

// Authenticates a response to our initiation, starting from the Noise state saved in initiator
// (which it does not change); psk must be the key create_initiation() used. Errors:
// error::malformed_packet, error::unsupported_version, error::authentication_failed (forged, or the
// peer's key differs), error::crypto_failure.
std::error_code consume_response(const crypto::Psk& psk, const InitiatorState& initiator,
                                 ByteView datagram, ConsumedResponse& out);

// Simultaneous open: both peers sent an initiation. The one whose ephemeral public key is
// larger (as a big-endian number) stays initiator; the other answers its initiation.
bool wins_tie_break(const crypto::X25519Key& ours, const crypto::X25519Key& theirs);

}  // namespace srmudp::conn
