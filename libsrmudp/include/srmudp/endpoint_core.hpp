// srmudp::EndpointCore: the whole protocol for one UDP socket, without the socket.
//
// Feed it what the socket receives, ask it what to send, and call it again at its deadline.
// It owns every connection that shares the socket, routes datagrams to them by connection ID,
// runs handshakes (including simultaneous open), loss recovery, congestion control, message
// assembly, reconnect and resume after an idle timeout, migration to a validated new peer
// address and path MTU discovery. It never reads a clock, touches a socket or starts a thread: the
// caller passes the time into every call. The Asio driver (srmudp::Endpoint) and the network
// simulator in tests/ are two such callers.
//
// Typical loop (buf holds core.max_transmit_size() bytes):
//   core.receive(now, from, datagram);              // for each datagram that arrived
//   while (auto n = core.poll_transmit(now, buf, to)) socket.send_to(buf[0..n), to);
//   while (core.poll_event(ev)) handle(ev);
//   sleep until core.next_deadline(); core.handle_timeout(now);
#pragma once

#include <memory>
#include <string_view>
#include <system_error>

#include "srmudp/address.hpp"
#include "srmudp/bytes.hpp"
#include "srmudp/config.hpp"
#include "srmudp/events.hpp"
#include "srmudp/message.hpp"
#include "srmudp/random.hpp"
#include "srmudp/time.hpp"

namespace srmudp {

struct EndpointEvent {
    ConnectionHandle connection = 0;
    Event event;
};

struct ConnectOptions {
    // Absolute deadline for the handshake; TimePoint{} means now + Config::handshake_timeout.
    TimePoint deadline{};
};

struct EndpointStats {
    std::size_t connections = 0;
    std::uint64_t datagrams_received = 0;
    std::uint64_t datagrams_dropped = 0;  // unknown connection, malformed, failed authentication
    std::uint64_t handshakes_completed = 0;
};

class EndpointCore {
  public:
    // random supplies ephemeral keys and connection IDs; it must outlive the core.
    EndpointCore(const Config& config, Random& random);
    ~EndpointCore();
    EndpointCore(const EndpointCore&) = delete;
    EndpointCore& operator=(const EndpointCore&) = delete;

    // Starts a symmetric connection attempt towards remote (the peer may do the same towards us:
    // hole punching). Handshake initiations are sent until the peer answers or the deadline
    // passes; the outcome arrives as a StateChanged event. Several connections to one remote
    // may run side by side: each takes the lowest channel free for that remote and key, and the
    // peer tells them apart by key and channel (docs/PROTOCOL.md section 2.5). Errors:
    // error::empty_key, error::crypto_failure.
    std::error_code connect(TimePoint now, const PeerAddress& remote, std::string_view key,
                            ConnectionHandle& handle, ConnectOptions options = {});

    // Accepts initiations from any address that prove `key`; each new peer is reported with a
    // ConnectionAccepted event (once: a peer that reconnects or restarts, recognised by its
    // session id or its address, continues its connection). Errors: error::empty_key.
    std::error_code listen(std::string_view key);
    void stop_listening();

    // Call with every datagram the socket received (of any size: the peer may have discovered a
    // larger path MTU). Datagrams that are not ours, malformed, unauthenticated or replayed are
    // dropped (counted in stats).
    void receive(TimePoint now, const PeerAddress& from, ByteView datagram);

    // Writes the next datagram that is due into out and sets `to` (usually the connection's
    // peer; a path challenge goes to a peer's new address); returns its size, or 0 when nothing
    // is due now. out should hold max_transmit_size() bytes; a smaller one (at least 1200) only
    // means smaller packets and no path MTU probes.
    std::size_t poll_transmit(TimePoint now, MutableByteView out, PeerAddress& to);
    // The largest datagram poll_transmit() writes: max(Config::max_datagram_size,
    // Config::max_probe_datagram_size if pmtu_probing).
    std::size_t max_transmit_size() const;

    // The earliest time at which handle_timeout() or poll_transmit() has work; kNever if none.
    TimePoint next_deadline() const;
    // Runs every timer that is due at `now` (retransmissions, acks, idle timeouts, ...).
    void handle_timeout(TimePoint now);

    // Takes the next event; false when there is none.
    bool poll_event(EndpointEvent& out);

    // Queues a message. Errors: error::message_too_large, error::send_buffer_full,
    // error::connection_closed, error::invalid_argument (unknown handle). Messages may be queued
    // while connecting; they are sent once established.
    std::error_code send(ConnectionHandle handle, MessageKind kind, ByteView data, MessageId& id);

    // Closes gracefully: the peer gets a CLOSE frame with code (application codes are below
    // 2^32; larger values are reduced modulo 2^32) and reason (at most 512 bytes are sent);
    // messages not yet acknowledged are reported failed with error::closed_locally.
    void close(ConnectionHandle handle, TimePoint now, std::uint64_t code = 0,
               std::string_view reason = {});

    // Backpressure towards a slow application: while paused, complete messages are kept instead
    // of becoming MessageReceived events and their flow control credit is withheld, so the
    // peer's sender stops once receive_window is used (memory held stays bounded by
    // receive_window + max_message_size). Resuming reports them in order and returns the credit
    // (MAX_DATA). Events already queued are not withdrawn; a connection that ends reports what
    // it holds before its closed event. Unknown handles are ignored.
    void set_receive_paused(ConnectionHandle handle, bool paused);

    ConnectionState state(ConnectionHandle handle) const;  // closed for unknown handles
    ConnectionStats stats(ConnectionHandle handle) const;
    EndpointStats stats() const;
    // The peer address of a connection (the one connect() named, or where an accepted peer is;
    // after a validated migration, the peer's new address).
    PeerAddress remote_address(ConnectionHandle handle) const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace srmudp
