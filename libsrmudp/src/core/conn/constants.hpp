// Protocol constants in one place, each with where its value comes from. Tunables that a user
// may change live in srmudp::Config instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "srmudp/time.hpp"

namespace srmudp::conn {

// The Noise protocol of wire version 1. The handshake hash binds this name, so two peers that
// disagree on it fail authentication instead of misinterpreting each other.
inline constexpr std::string_view kNoiseProtocolName = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";

// Prologue prefix: mixed into the handshake hash together with the initiation's header, so the
// header (type, version, initiator connection ID) is authenticated by the first message.
inline constexpr std::string_view kPrologueLabel = "srmudp v1 handshake";

// Label for deriving the next traffic secret at a key update: next = HKDF-Expand(current, label).
inline constexpr std::string_view kKeyUpdateLabel = "srmudp v1 key update";

// Initiations are padded to this size (the QUIC Initial rule, RFC 9000 section 14.1): it proves
// the path carries 1200-byte datagrams, and it makes every response (106 bytes) far smaller than
// what provoked it, so a spoofed initiation cannot be used for amplification.
inline constexpr std::size_t kInitiationSize = 1200;

// Handshake payload: session id (16) + resume offset (8) in both messages; the response also
// repeats the responder's connection ID (8) so the response header is authenticated.
inline constexpr std::size_t kSessionIdSize = 16;

// A DATA packet: 18-byte header + frames + 16-byte AEAD tag.
inline constexpr std::size_t kAeadTagSize = 16;

// Closing state length after sending CLOSE: 3 PTOs (RFC 9000 section 10.2).
inline constexpr int kClosingPtoMultiplier = 3;
// CLOSE packets sent in all while closing: one at once, then one more after each PTO of the
// closing period and one in reply to each packet that still arrives from the peer, up to this
// total. The peer never acknowledges a CLOSE, and a peer that misses every copy does not close:
// it goes on to its idle timeout and then tries to reconnect.
inline constexpr int kMaxCloseSends = 3;

// Handshakes answered at once while waiting for the initiator's proof (a DATA packet). More than
// one, so that a replayed old initiation cannot push out the peer's real one; the oldest goes.
inline constexpr std::size_t kMaxResponderAttempts = 4;
// An answered handshake that is not proven is dropped after max(this many PTOs,
// kResponderAttemptMinRetransmits x handshake_retransmit_max); each retransmitted copy of its
// initiation restarts the wait. (While connecting, the handshake deadline applies instead.)
inline constexpr int kResponderAttemptPtoMultiplier = 3;
inline constexpr int kResponderAttemptMinRetransmits = 2;
// Initiator ephemeral keys whose initiations are ignored on sight: our own (a reflected copy),
// the ones of handshakes already completed (replays), and those we beat in a tie-break.
inline constexpr std::size_t kMaxIgnoredEphemerals = 8;

// Largest number of connections a listener holds that are still waiting for their initiator's
// first DATA packet. A replayed or spoofed initiation can create such a connection (it cannot
// complete it); the bound keeps that from exhausting memory.
inline constexpr std::size_t kMaxHalfOpenConnections = 1024;

// Close codes on the wire (CLOSE frame). Codes below kTransportCloseBase belong to the
// application (close(code, reason) passes them through); the transport's own codes lie above.
inline constexpr std::uint64_t kTransportCloseBase = std::uint64_t{1} << 32;
enum class CloseCode : std::uint64_t {
    protocol_violation = kTransportCloseBase + 1,  // a frame or packet broke the protocol
    message_too_large = kTransportCloseBase + 2,   // the peer sent a message above our maximum
    internal_error = kTransportCloseBase + 3,      // a local failure (e.g. a crypto primitive)
};

}  // namespace srmudp::conn
