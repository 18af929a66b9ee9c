// What a connection tells its application.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <variant>

#include "srmudp/message.hpp"
#include "srmudp/time.hpp"

namespace srmudp {

enum class ConnectionState : std::uint8_t {
    connecting,    // handshake under way (initiations sent and/or answered)
    established,   // keys agreed and the peer proved it holds the key; messages flow
    reconnecting,  // the peer went silent (idle timeout) and Config::reconnect is on: a fresh
                   // handshake runs towards the peer; messages queue and resume where they were
    closing,       // close() sent a CLOSE (or a local failure did); waiting 3 PTOs before closed
    closed,        // terminal; the event that reports it carries the reason. A CLOSE from the
                   // peer, an idle timeout or a failed handshake lead here directly.
};

const char* to_string(ConnectionState) noexcept;

// Identifies a connection within one endpoint; never reused by that endpoint.
using ConnectionHandle = std::uint64_t;

struct StateChanged {
    ConnectionState state;
    // For closing/closed: why (error::peer_closed, error::idle_timeout, error::wrong_key, ...).
    // For reconnecting: error::idle_timeout. For established: empty, or error::peer_restarted
    // when a reconnect found the peer restarted (its undelivered messages were reported failed
    // and both message streams start afresh; message ids continue).
    std::error_code reason;
    // For error::peer_closed: the peer's close code and text. Codes below 2^32 come from the
    // peer's application; codes from 2^32 up are the transport's (see docs/PROTOCOL.md).
    std::uint64_t peer_code = 0;
    std::string peer_reason;
};

struct MessageReceived {
    Message message;
};

// The peer's transport acknowledged every byte of the message and of every message before it: it
// has the whole message and hands it to its application in order.
struct MessageDelivered {
    MessageId id;
};

// The message will never be delivered (connection closed or failed before the peer acked it,
// or the peer restarted: error::peer_restarted, in which case its old incarnation may have
// received it).
struct MessageFailed {
    MessageId id;
    std::error_code reason;
};

// The send buffer, which had refused a message with error::send_buffer_full, has room again.
struct SendBufferAvailable {};

// A listening endpoint accepted a new peer; the connection handle is on the EndpointEvent.
struct ConnectionAccepted {};

using Event = std::variant<StateChanged, MessageReceived, MessageDelivered, MessageFailed,
                           SendBufferAvailable, ConnectionAccepted>;

struct ConnectionStats {
    Duration smoothed_rtt{};
    Duration min_rtt{};
    Duration rtt_variance{};
    std::size_t congestion_window = 0;
    std::size_t bytes_in_flight = 0;
    std::uint64_t packets_sent = 0;
    std::uint64_t packets_received = 0;
    std::uint64_t packets_lost = 0;
    std::uint64_t datagram_bytes_sent = 0;  // UDP payload bytes, all packet types
    std::uint64_t datagram_bytes_received = 0;
    std::uint64_t stream_bytes_sent = 0;  // message stream bytes, first transmissions
    std::uint64_t stream_bytes_retransmitted = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t messages_received = 0;
    std::uint64_t messages_delivered = 0;
    std::uint64_t key_updates = 0;
    std::uint64_t rejected_packets = 0;  // failed authentication, replayed or malformed
    std::size_t send_buffer_bytes = 0;   // queued and not yet acknowledged
    std::size_t max_datagram_size = 0;   // largest DATA datagram sent now (path MTU discovery)
    std::uint64_t reconnects = 0;        // handshakes after the first one that completed
    std::uint64_t path_migrations = 0;   // peer address changes after path validation
};

}  // namespace srmudp
