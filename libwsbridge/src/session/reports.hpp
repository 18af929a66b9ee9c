// What a session tells its client in words: status and error texts a person can act on, the
// link statistics of regular status frames, and WebSocket close reasons. Pure functions; none of
// them ever sees the encryption key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "srmudp/address.hpp"
#include "srmudp/events.hpp"
#include "srmudp/time.hpp"
#include "wsbridge/protocol.hpp"

namespace wsbridge::session {

// "30 s", "1.5 s", "250 ms", "0 ms": a duration as a person reads it (negative counts as 0).
std::string describe_duration(srmudp::Duration d);

// Why the srmudp connection to remote ended, for the ERROR status and the error frame:
// wrong_key -> "the peer at X uses a different encryption key", handshake_timeout -> "no answer
// from X within <connect_timeout>", peer_closed, idle_timeout, protocol errors, and the error's
// own message for anything else.
std::string failure_message(std::error_code reason, const srmudp::PeerAddress& remote,
                            srmudp::Duration connect_timeout);

// Why Endpoint::connect refused to start a connection to remote (see srmudp::Endpoint::connect).
std::string connect_error_message(std::error_code ec, const srmudp::PeerAddress& remote);

// Why one message of the client will not reach the peer, for the error frame with its id.
std::string undelivered_message(std::error_code reason, const srmudp::PeerAddress& remote);

// The regular status frame's statistics: RTT in ms, UDP payload bytes both ways, messages both
// ways, stream bytes retransmitted, packets declared lost.
LinkStats to_link_stats(const srmudp::ConnectionStats& stats);

// A WebSocket close reason: text cut to at most 123 bytes (RFC 6455 5.5: a control frame carries
// 125 bytes, two of them the code) without splitting a UTF-8 sequence.
std::string close_reason(std::string_view text);

}  // namespace wsbridge::session
