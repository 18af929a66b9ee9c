// wsbridge::Bridge: the WebSocket server of the bridge, on a caller's asio::io_context.
//
// Serves the endpoint /v0/ws/proxy (wsbridge/protocol.hpp). Each upgrade request is checked with
// parse_proxy_request (the key may come in the X-Encryption-Key header); a bad one is answered
// with HTTP 400 and the error text. Each accepted WebSocket gets one Session over the srmudp
// Endpoint the host program supplies. WebSocket messages above Limits::max_frame_bytes close
// the connection with 1009.
//
//   asio::io_context io;
//   auto endpoint = srmudp::Endpoint::open(io, {}, ec);
//   wsbridge::Bridge bridge(io, *endpoint, {});   // 127.0.0.1:8000
//   ec = bridge.start();
//   io.run();
//
// Not thread-safe: use it from the io_context's thread only, like srmudp::Endpoint. The websocketpp
// server lives behind a pimpl: this header pulls in neither websocketpp nor Asio.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "wsbridge/session.hpp"

namespace asio {
class io_context;
}

namespace srmudp {
class Endpoint;
}

namespace wsbridge {

struct BridgeOptions {
    // Local address to listen on: an IP literal or a host name. Port 0 picks a free port (see
    // Bridge::local_port()).
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;
    // Options of every session; session.limits.max_frame_bytes is also the largest WebSocket
    // message accepted.
    SessionOptions session;
};

class Bridge {
  public:
    // Prepares the server; nothing listens before start(). io and endpoint must outlive the
    // Bridge.
    Bridge(asio::io_context& io, srmudp::Endpoint& endpoint, BridgeOptions options = {});
    // Stops listening and drops every session (their srmudp connections close gracefully; the
    // WebSockets are closed with 1001).
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    // Resolves host, binds, listens and starts accepting. Errors: the resolver's and the
    // system's errors (e.g. address in use), std::errc::operation_not_permitted if already
    // started.
    std::error_code start();

    // The port listened on (after start(); 0 before or after a failed start()).
    std::uint16_t local_port() const;

    // Stops accepting and closes every WebSocket with 1001 "going away"; the sessions end as
    // their close handshakes complete. start() may not be called again.
    void stop();

    // One row per open session. Never contains a key.
    std::vector<SessionStats> sessions() const;

    class Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace wsbridge
