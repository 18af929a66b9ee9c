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
// the path carries 1200-byte datagrams, and it makes every response (98 bytes) far smaller than
// what provoked it, so a spoofed initiation cannot be used for amplification.
inline constexpr std::size_t kInitiationSize = 1200;

// Handshake payload: session id (16) + resume offset (8) in both messages; the response also
// repeats the responder's connection ID (8) so the response header is authenticated.
inline constexpr std::size_t kSessionIdSize = 16;

// A DATA packet: 18-byte header + frames + 16-byte AEAD tag.
inline constexpr std::size_t kAeadTagSize = 16;

// Closing state length after sending or receiving CLOSE: 3 PTOs (RFC 9000 section 10.2).
inline constexpr int kClosingPtoMultiplier = 3;
// CLOSE frames re-sent while closing in reply to incoming packets, at most this many times.
inline constexpr int kMaxCloseRetransmits = 3;

// A responder keeps a key it has replaced for this many PTOs so that reordered packets sent
// under the old key still decrypt (RFC 9001 section 6.5).
inline constexpr int kOldKeyPtoMultiplier = 3;

// Packets sent in a row while more data waits, before the core yields to the next deadline. It
// bounds the work of one poll_transmit() loop; pacing and the congestion window bound the rest.
inline constexpr std::size_t kMaxBurstPackets = 64;

// Close codes on the wire (CLOSE frame).
enum class CloseCode : std::uint64_t {
    no_error = 0,            // the application closed the connection
    protocol_violation = 1,  // a frame or packet broke the protocol
    flow_control = 2,        // the peer sent beyond the advertised limit
    message_too_large = 3,   // the peer sent a message above our maximum
    internal_error = 4,
};

}  // namespace srmudp::conn
