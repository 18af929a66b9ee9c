// wsbridge::Hub: every bridge session of one server, independent of the WebSocket library.
//
// The Hub decides which upgrade requests become sessions (origin, bearer token, the request
// itself, the target policy, session limits), routes a returning client_id to its waiting
// session, keeps the sessions until they finish, and counts what happens for /metrics. A
// WebSocket glue (wsbridge/websocketpp_adapter.hpp, or any other library) calls it in this order:
//
//   auto verdict = hub.admit(request);                  // during the HTTP upgrade
//   if (auto* refusal = std::get_if<wsbridge::Refusal>(&verdict)) -> answer refusal->http_status
//   auto attachment = hub.open(std::get<wsbridge::Admission>(std::move(verdict)), side);
//   attachment->on_text_frame(...) / on_binary_frame(...)  // for each frame
//   attachment->on_closed(dropped);                       // when the WebSocket is gone
//
// Not thread-safe: use it from the io_context's thread only, like srmudp::Endpoint. The Hub
// pulls in neither websocketpp nor Asio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "wsbridge/policy.hpp"
#include "wsbridge/session.hpp"

namespace asio {
class io_context;
}

namespace srmudp {
class Endpoint;
struct EndpointOptions;
}  // namespace srmudp

namespace wsbridge {

// What happened, for the host program's log. Never contains a key or a token.
struct HubEvent {
    enum class Kind { opened, reattached, finished, refused };
    Kind kind = Kind::opened;
    std::string connection_id;  // empty for refused
    std::string remote;         // the target, "1.2.3.4:5" (empty if the request had none)
    std::string client_address;
    std::optional<std::string> client_id;
    int http_status = 0;  // refused: the HTTP status
    std::string message;  // refused: why; finished: the last status
};

struct HubOptions {
    // Options of every session (limits, timeouts, re-attach grace, replay).
    SessionOptions session;
    // Sessions at once, in total and per client IP address (sessions waiting for a re-attach
    // count). Requests beyond them get HTTP 503 and 429.
    std::size_t max_sessions = 1024;
    std::size_t max_sessions_per_client = 64;
    // Which UDP targets clients may name (default: all but unspecified, multicast, broadcast).
    TargetPolicy targets;
    // Which browser origins may connect (default: no request that carries an Origin header).
    OriginPolicy origins;
    // If set and not empty, every request must carry it (Authorization: Bearer, or ?token=).
    std::optional<std::string> token;
    // Told of sessions opened, re-attached and finished, and of refused requests; may be empty.
    std::function<void(const HubEvent&)> on_event;
    // WebSocket keepalive, kept by the websocketpp front end (WebsocketppAdapter, Bridge): a
    // ping every websocket_ping_interval while the bridge reads the client's frames; no pong
    // within websocket_pong_timeout closes the WebSocket as broken, as if its TCP connection had
    // dropped (a client_id session then waits for a re-attach). Without it a client whose
    // network vanished is noticed only when TCP gives up on a write, after many minutes. A zero
    // interval sends no pings; the timeout must be shorter than the interval (each ping starts
    // the wait for a pong anew).
    srmudp::Duration websocket_ping_interval = srmudp::seconds(20);
    srmudp::Duration websocket_pong_timeout = srmudp::seconds(10);
};

// What the glue knows about an upgrade request. Views must stay valid during admit() only.
struct UpgradeRequest {
    std::string_view resource;                      // path and query
    std::optional<std::string_view> key_header;     // X-Encryption-Key
    std::optional<std::string_view> authorization;  // Authorization
    std::optional<std::string_view> origin;         // Origin
    std::string client_address;                     // the TCP peer's IP address, for the limits
};

// An upgrade request the Hub refuses: answer with this HTTP status, headers and text body. The
// message never contains the key or the token.
struct Refusal {
    int http_status = 400;
    std::string message;
    std::vector<std::pair<std::string, std::string>> headers;
};

class Hub;

// An admitted request, between the upgrade and the open WebSocket: it holds the request (with
// the key) and a session slot, released if it is dropped without open(). Move-only.
class Admission {
  public:
    Admission(Admission&&) noexcept;
    Admission& operator=(Admission&&) noexcept;
    ~Admission();

    class State;

  private:
    friend class Hub;
    explicit Admission(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// One open WebSocket's way into its session. Calls after on_closed(), after the session moved to
// a newer WebSocket of the same client, or after the Hub is gone, do nothing.
class Attachment {
  public:
    virtual ~Attachment() = default;
    virtual void on_text_frame(std::string_view frame) = 0;
    virtual void on_binary_frame(srmudp::ByteView frame) = 0;
    // The WebSocket is gone; dropped: without a close handshake from the client (see
    // Session::on_websocket_closed).
    virtual void on_closed(bool dropped) = 0;
};

// Counts for /metrics. Gauges are the state now, the rest count from the Hub's start.
struct HubMetrics {
    std::size_t sessions_active = 0;   // with a WebSocket attached
    std::size_t sessions_waiting = 0;  // without, waiting for their client to re-attach
    std::uint64_t sessions_opened = 0;
    std::map<std::string, std::uint64_t> refused;  // by reason: origin, token, request, target,
                                                   // limit, client_limit, client_key, shutdown
    BridgeCounters counters;
};

class Hub {
  public:
    // Sessions on the host program's endpoint: io and endpoint must outlive the Hub.
    Hub(asio::io_context& io, srmudp::Endpoint& endpoint, HubOptions options = {});
    // Sessions on an endpoint of the Hub's own, opened with endpoint_options (see
    // srmudp::Endpoint::open for its errors: nullptr and ec set). io must outlive the Hub.
    static std::unique_ptr<Hub> open(asio::io_context& io,
                                     const srmudp::EndpointOptions& endpoint_options,
                                     HubOptions options, std::error_code& ec);
    // Ends every session like shutdown().
    ~Hub();
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    // Decides on an upgrade request. Refusals: 403 (origin, target), 401 with
    // WWW-Authenticate: Bearer (token), 400 (the request, see parse_proxy_request), 409 (a
    // client_id waiting with another key), 503 (max_sessions, or shutting down), 429
    // (max_sessions_per_client).
    std::variant<Admission, Refusal> admit(const UpgradeRequest& request);

    // The WebSocket of an admitted request is open: starts its session, or re-attaches it to the
    // session its client_id names (same remote and key), replaying from the request's last_seq.
    std::shared_ptr<Attachment> open(Admission admission, std::shared_ptr<WebSocketSide> ws);

    // Refuses new requests from now on and ends every session: ERROR "<reason>" to each client,
    // close 1001, graceful srmudp close.
    void shutdown(const std::string& reason);

    // Sessions that are not finished (attached or waiting for a re-attach); never keys.
    std::vector<SessionStats> sessions() const;
    std::size_t session_count() const;
    HubMetrics metrics() const;
    const HubOptions& options() const;
    // The srmudp endpoint every session uses (e.g. for its local_address()).
    srmudp::Endpoint& endpoint();

    class State;

  private:
    // Declared first, destroyed last: the sessions use it until the State goes.
    std::unique_ptr<srmudp::Endpoint> owned_endpoint_;
    std::shared_ptr<State> state_;
};

// ---- Renderings for an HTTP front end (pure functions) --------------------------------------

// {"sessions":[{"connection_id":..,"remote":..,"client_id":..,"status":..,"websocket_open":..,
// "awaiting_reattach":..,"stats":{..}},..]} for GET /v0/ws/connections.
std::string sessions_json(const std::vector<SessionStats>& sessions);

// The Prometheus text exposition format (version 0.0.4) of metrics, every name prefixed
// "autoprox_".
std::string metrics_text(const HubMetrics& metrics);

}  // namespace wsbridge
