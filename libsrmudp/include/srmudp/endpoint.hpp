// srmudp::Endpoint: the protocol core on a real UDP socket, driven by a caller's asio::io_context.
//
// One socket serves every connection (multiplexed by connection ID) and the STUN client, so the
// public address STUN reports is the one peers must use. Everything runs on the io_context's
// thread(s) that call run(); handlers are called from there. No thread per connection, no busy
// loop: the socket's readiness and one timer at the core's next deadline drive everything.
//
//   asio::io_context io;
//   std::error_code ec;
//   auto endpoint = srmudp::Endpoint::open(io, {}, ec);
//   auto conn = endpoint->connect(*srmudp::PeerAddress::parse("198.51.100.7:4000"), key, ec);
//   srmudp::ConnectionHandlers handlers;
//   handlers.on_message = [](srmudp::Message&& m) { ... };
//   conn->set_handlers(std::move(handlers));
//   conn->send(srmudp::MessageKind::text, srmudp::as_bytes("hello"), id);
//   io.run();
//
// Not thread-safe: use an Endpoint and its Connections from the io_context's thread only (or
// from one thread that runs it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "srmudp/address.hpp"
#include "srmudp/config.hpp"
#include "srmudp/endpoint_core.hpp"
#include "srmudp/events.hpp"
#include "srmudp/message.hpp"

namespace asio {
class io_context;
}

namespace srmudp {

struct EndpointOptions {
    Config config;
    // Local address to bind: an IPv4 or IPv6 literal. "::" binds a dual-stack socket that serves
    // IPv4 peers too; "0.0.0.0" serves IPv4 only.
    std::string bind_address = "0.0.0.0";
    std::uint16_t port = 0;  // 0 = any free port (see Endpoint::local_address())
    // Socket buffer sizes to request (the kernel may cap them); 0 keeps the system default.
    int receive_buffer_bytes = 4 << 20;
    int send_buffer_bytes = 4 << 20;
};

// Callbacks of one connection. Any may be empty. They run on the io_context's thread; they may
// call send() and close() on any connection.
struct ConnectionHandlers {
    // State changes: connecting -> established -> closing -> closed (see events.hpp); `reason`
    // says why for closing/closed and for error::peer_restarted.
    std::function<void(ConnectionState state, std::error_code reason)> on_state;
    std::function<void(Message&& message)> on_message;
    // The peer has every byte of message `id` (and of all before it).
    std::function<void(MessageId id)> on_delivered;
    // Message `id` will never be delivered (the connection ended first).
    std::function<void(MessageId id, std::error_code reason)> on_failed;
    // send() refused a message with error::send_buffer_full earlier and there is room now.
    std::function<void()> on_writable;
};

class Endpoint;

class Connection {
  public:
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void set_handlers(ConnectionHandlers handlers);

    // Queues a message (also while connecting). Errors: error::message_too_large,
    // error::send_buffer_full (retry after on_writable), error::connection_closed.
    std::error_code send(MessageKind kind, ByteView data, MessageId& id);

    // Closes gracefully (the peer learns code and reason); undelivered messages fail with
    // error::closed_locally.
    void close(std::uint64_t code = 0, std::string_view reason = {});

    // Backpressure: after pause_receiving(), on_message is not called until resume_receiving(),
    // and once the receive window (Config::receive_window) is used up the peer's sender stops
    // (its send() eventually fails with error::send_buffer_full). Memory held stays bounded by
    // receive_window + max_message_size. Resuming delivers the held messages in order (from the
    // io_context, not from inside resume_receiving()). If the connection ends while paused, the
    // held messages are delivered before on_state(closed). Held messages are acknowledged: the
    // peer's on_delivered covers them before on_message runs here. Both do nothing once closed.
    void pause_receiving();
    void resume_receiving();

    ConnectionState state() const;
    ConnectionStats stats() const;
    PeerAddress remote_address() const;
    // Bytes queued and not yet acknowledged by the peer (the send buffer in use).
    std::size_t buffered_amount() const;

  private:
    friend class Endpoint;
    class Impl;
    explicit Connection(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

class Endpoint {
  public:
    // Opens and binds the UDP socket. Errors: std::errc::invalid_argument (bind_address is not an
    // IP literal), the system's bind/socket errors (e.g. address in use).
    static std::unique_ptr<Endpoint> open(asio::io_context& io, const EndpointOptions& options,
                                          std::error_code& ec);
    // Closes every connection (the peers get CLOSE) and the socket, like close().
    ~Endpoint();
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;

    PeerAddress local_address() const;

    // Starts a symmetric connection attempt (hole punching: the peer connects towards us too).
    // `timeout` zero means Config::handshake_timeout. The outcome arrives through on_state.
    // Several connections to one address may run at once (each with its own key, or the same
    // key: docs/PROTOCOL.md section 2.5). Errors: error::empty_key, error::invalid_argument (an
    // IPv6 peer on an IPv4 socket, or the endpoint is closed).
    std::shared_ptr<Connection> connect(const PeerAddress& remote, std::string_view key,
                                        std::error_code& ec, Duration timeout = {});

    // Accepts peers that prove `key`; on_accept gets each new, established connection (set its
    // handlers there). Errors: error::empty_key.
    std::error_code listen(std::string_view key,
                           std::function<void(std::shared_ptr<Connection>)> on_accept);
    void stop_listening();

    // Asks a STUN server (RFC 8489 Binding) through this endpoint's socket for the public
    // address peers see. done(ec, address): ec is std::errc::timed_out when no answer came
    // before `timeout`, std::errc::protocol_error for an error response. One query at a time: a
    // new call replaces the previous one, which completes with std::errc::operation_canceled.
    void discover_public_address(const PeerAddress& stun_server, Duration timeout,
                                 std::function<void(std::error_code, PeerAddress)> done);

    // Closes every connection (the peers get CLOSE; messages not yet acknowledged are dropped
    // without callbacks: no handler runs from close() or the destructor) and the socket.
    void close();

    EndpointStats stats() const;

    class Impl;

  private:
    explicit Endpoint(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace srmudp
