// wsbridge::Bridge: a ready WebSocket server for the bridge, on a caller's asio::io_context.
//
// A websocketpp server (ws://, or wss:// with a certificate) that serves /v0/ws/proxy through a
// wsbridge::Hub (wsbridge/hub.hpp: admission, limits, sessions, re-attach, metrics) and hands
// every other plain HTTP request to an optional handler (autoprox serves /health, /metrics and
// more that way). A program that already has a websocketpp server uses
// wsbridge/websocketpp_adapter.hpp instead.
//
//   asio::io_context io;
//   auto endpoint = srmudp::Endpoint::open(io, {}, ec);
//   wsbridge::Bridge bridge(io, *endpoint, {});   // 127.0.0.1:8000
//   if (auto error = bridge.start()) { print(*error); return 1; }
//   io.run();
//
// Not thread-safe: use it from the io_context's thread only, like srmudp::Endpoint. The websocketpp
// server lives behind a pimpl: this header pulls in neither websocketpp nor Asio.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wsbridge/hub.hpp"

namespace asio {
class io_context;
}

namespace srmudp {
class Endpoint;
}

namespace wsbridge {

// A plain HTTP request (not a WebSocket upgrade) for BridgeOptions::http.
struct HttpRequest {
    std::string method;
    std::string resource;                                      // path and query
    std::string client_address;                                // the TCP peer's IP address
    std::vector<std::pair<std::string, std::string>> headers;  // names in lower case

    // The value of the first header called name (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Answers one request: call it exactly once, now or later (from the io_context's thread).
using HttpResponder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(const HttpRequest&, HttpResponder)>;

struct BridgeOptions {
    // Local address to listen on: an IP literal or a host name. Port 0 picks a free port (see
    // Bridge::local_port()).
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;
    // Admission, limits and the options of every session.
    HubOptions hub;
    // PEM files; both set: the server speaks TLS only (wss:// and https://).
    std::optional<std::string> tls_cert_file;
    std::optional<std::string> tls_key_file;
    // Plain HTTP requests; unset, they get 404.
    HttpHandler http;
    // Largest HTTP request body read (the bridge's own requests have none).
    std::size_t max_http_body_bytes = 64 * 1024;
};

class Bridge {
  public:
    // Prepares the server; nothing listens before start(). io and endpoint must outlive the
    // Bridge.
    Bridge(asio::io_context& io, srmudp::Endpoint& endpoint, BridgeOptions options = {});
    // Stops listening and ends every session (stop()).
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    // Loads the TLS files if any, resolves host, binds, listens and starts accepting. nullopt on
    // success, else what failed in words (unreadable certificate, address in use, started
    // twice, ...).
    std::optional<std::string> start();

    // The port listened on (after start(); 0 before or after a failed start()).
    std::uint16_t local_port() const;
    bool tls() const;

    // Stops accepting and ends every session: ERROR "<reason>" to each client, close 1001,
    // graceful srmudp close. start() may not be called again.
    void stop(const std::string& reason = "the proxy is shutting down");

    // Bridge WebSocket connections still open or closing (0 once every close handshake ended).
    std::size_t open_connections() const;

    Hub& hub();
    const Hub& hub() const;
    // One row per session. Never contains a key.
    std::vector<SessionStats> sessions() const;

    class Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace wsbridge
