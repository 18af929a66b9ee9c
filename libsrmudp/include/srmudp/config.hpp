// Tunables of an srmudp endpoint and its connections. The defaults are safe for the open
// Internet; every buffer they size is bounded.
#pragma once

#include <cstddef>
#include <cstdint>

#include "srmudp/time.hpp"

namespace srmudp {

struct Config {
    // Largest UDP payload this side sends before path MTU discovery has confirmed more (the
    // size it assumes every path carries). 1200 bytes fits every IPv6 path and nearly every
    // IPv4 path without fragmentation (the same floor QUIC uses). Handshake datagrams are always
    // exactly 1200 bytes.
    std::size_t max_datagram_size = 1200;

    // Path MTU discovery (RFC 8899 DPLPMTUD): once established, probe datagram sizes above
    // max_datagram_size, up to max_probe_datagram_size, with padded PING packets, and send larger
    // datagrams once a size is acknowledged. Lost probes are not taken as congestion.
    // poll_transmit() buffers must then hold EndpointCore::max_transmit_size() bytes.
    bool pmtu_probing = true;
    std::size_t max_probe_datagram_size = 1452;  // 1500-byte Ethernet MTU minus IPv6 and UDP

    // Largest message accepted by send() and from the peer. A larger message from the peer closes
    // the connection with error::peer_message_too_large.
    std::size_t max_message_size = 16u << 20;

    // Bytes of messages queued but not yet acknowledged by the peer that send() accepts before it
    // answers error::send_buffer_full. An empty buffer always takes one message of up to
    // max_message_size, so a limit below it only limits queueing, never what can be sent.
    std::size_t send_buffer_limit = 32u << 20;

    // Stream bytes the peer may send beyond what this side has handed to the application
    // (flow-control window). Memory held for one connection's receive side is bounded by
    // receive_window + max_message_size.
    std::size_t receive_window = 8u << 20;

    // connect(): give up with error::handshake_timeout when no authenticated answer came.
    Duration handshake_timeout = seconds(30);
    // First handshake retransmission; it doubles on each retry up to handshake_retransmit_max.
    Duration handshake_retransmit_initial = milliseconds(250);
    Duration handshake_retransmit_max = seconds(2);
    // Handshake messages from the peer's address that fail authentication before connect()
    // reports error::wrong_key without waiting for the deadline; 0 waits for the deadline.
    unsigned wrong_key_failures = 3;

    // Nothing authenticated arrived for this long: the peer is gone. The connection then
    // reconnects (below) or closes with error::idle_timeout.
    Duration idle_timeout = seconds(30);
    // After an idle timeout, run a fresh handshake towards the peer (state reconnecting) and,
    // when it completes, resume both message streams where they stopped: nothing lost, nothing
    // duplicated. Retries follow handshake_retransmit_initial / handshake_retransmit_max.
    bool reconnect = true;
    // Give up reconnecting after this long with error::idle_timeout; zero retries forever.
    Duration reconnect_timeout{};
    // With reconnect on, the path also counts as dead (and the connection reconnects) when
    // nothing was heard for this long (and at least 4 PTOs) after a packet the peer had to
    // answer: a blackout is noticed in seconds, not only after idle_timeout.
    Duration path_timeout = seconds(5);
    // Send a PING when nothing ack-eliciting was sent for this long (keeps NAT bindings open and
    // proves liveness well within idle_timeout).
    Duration keepalive_interval = seconds(10);
    // How long an acknowledgement may be delayed (RFC 9000 max_ack_delay).
    Duration max_ack_delay = milliseconds(25);

    // Packets sent under one key before the key is updated. ChaCha20-Poly1305 allows far more
    // (RFC 9001 section 6.6); updating often bounds what one key protects.
    std::uint64_t key_update_packets = std::uint64_t{1} << 24;

    // Spread packets over the round trip instead of sending the congestion window in bursts.
    bool pacing = true;
};

}  // namespace srmudp
