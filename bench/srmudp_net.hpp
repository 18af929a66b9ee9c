// srmudp::Endpoint over loopback: goodput, ping-pong and handshakes. Each side has its own
// io_context run by its own thread, as in the raw UDP and ENet cases.
#pragma once

#include <cstddef>
#include <string_view>

#include "options.hpp"
#include "results.hpp"

namespace srmudp::bench {

// 64 hex digits: used as the psk directly, so no case measures scrypt by accident.
inline constexpr std::string_view kHexKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// One connection (default Config: 1200-byte datagrams); the sender queues `message_bytes`
// messages whenever send() takes them and waits for on_writable when it answers
// error::send_buffer_full. Goodput counts message payload handed to the receiver's on_message.
GoodputResult srmudp_goodput(const Options& options, std::size_t message_bytes);

// 64-byte messages, one outstanding: the client sends, the server echoes from on_message.
LatencyResult srmudp_ping_pong(const Options& options);

// Sequential handshakes over real sockets: each opens a fresh client Endpoint (a new socket,
// since an endpoint holds one connection per peer address), connects to one listening
// Endpoint, counts on_state(established) and closes.
HandshakeResult endpoint_handshakes(const Options& options);

// What a server sees: one listening Endpoint on its own thread, and options.listener_clients
// client Endpoints (sockets opened once) on another. Each client connects, sends one 2 KiB
// message, closes once it is delivered and may connect again once closed (an endpoint holds one
// connection per peer address); a fixed number of handshakes is kept in flight. Counts the
// connections the listener accepts (handshake complete at the listener).
HandshakeResult listener_handshakes(const Options& options);

}  // namespace srmudp::bench
