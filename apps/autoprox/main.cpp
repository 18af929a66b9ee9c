// autoprox: the WebSocket <-> srmudp proxy of the seed document, as one small server.
//
// Everything of substance lives in the libraries (libwsbridge: protocol, sessions, admission,
// the websocketpp server; libsrmudp: the transport). This program reads its options, opens the
// one UDP socket all sessions share, starts the bridge with the HTTP API beside it, logs what
// happens (never a key or the token), and on SIGINT/SIGTERM stops accepting, tells every client,
// closes the srmudp connections gracefully and exits 0.
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "http_api.hpp"
#include "log.hpp"
#include "options.hpp"
#include "srmudp/endpoint.hpp"
#include "wsbridge/bridge.hpp"

namespace {

using autoprox::LogLevel;

constexpr auto kShutdownDeadline = std::chrono::seconds(5);
constexpr auto kShutdownPoll = std::chrono::milliseconds(50);

srmudp::Duration to_duration(double seconds) {
    return std::chrono::duration_cast<srmudp::Duration>(std::chrono::duration<double>(seconds));
}

// The srmudp socket: dual-stack "::" unless --srmudp-bind says otherwise; IPv4 only where the
// machine has no IPv6.
std::unique_ptr<srmudp::Endpoint> open_endpoint(asio::io_context& io,
                                                const autoprox::Options& options,
                                                autoprox::Logger& log) {
    srmudp::EndpointOptions endpoint_options;
    endpoint_options.port = options.srmudp_port;
    endpoint_options.bind_address = options.srmudp_bind.empty() ? "::" : options.srmudp_bind;
    std::error_code ec;
    auto endpoint = srmudp::Endpoint::open(io, endpoint_options, ec);
    if (!endpoint && options.srmudp_bind.empty()) {
        endpoint_options.bind_address = "0.0.0.0";
        endpoint = srmudp::Endpoint::open(io, endpoint_options, ec);
    }
    if (!endpoint) {
        log.log(LogLevel::error, "srmudp_failed", "cannot open the srmudp UDP socket",
                {{"bind", endpoint_options.bind_address},
                 {"port", options.srmudp_port},
                 {"error", ec.message()}});
    }
    return endpoint;
}

// --stun-server HOST:PORT: an IP literal, or a name resolved once at start.
std::optional<srmudp::PeerAddress> resolve_stun(asio::io_context& io, const std::string& text,
                                                bool ipv6_socket, autoprox::Logger& log) {
    if (auto literal = srmudp::PeerAddress::parse(text)) return literal;
    const auto colon = text.rfind(':');
    asio::ip::udp::resolver resolver(io);
    std::error_code ec;
    const auto results = resolver.resolve(text.substr(0, colon), text.substr(colon + 1), ec);
    if (!ec) {
        for (const auto& entry : results) {
            const auto address = entry.endpoint().address();
            if (address.is_v6() && !ipv6_socket) continue;
            if (auto peer =
                    srmudp::PeerAddress::from_ip(address.to_string(), entry.endpoint().port()))
                return peer;
        }
    }
    log.log(LogLevel::warn, "stun_unresolved",
            "cannot resolve the STUN server; /v0/network/public-address will answer 503",
            {{"stun_server", text}, {"error", ec ? ec.message() : "no usable address"}});
    return std::nullopt;
}

void log_event(autoprox::Logger& log, const wsbridge::HubEvent& event) {
    using Kind = wsbridge::HubEvent::Kind;
    const std::string client_id = event.client_id.value_or("");
    switch (event.kind) {
        case Kind::opened:
            log.log(LogLevel::info, "session_opened", "",
                    {{"connection_id", event.connection_id},
                     {"remote", event.remote},
                     {"client", event.client_address},
                     {"client_id", client_id}});
            return;
        case Kind::reattached:
            log.log(LogLevel::info, "session_reattached", "",
                    {{"connection_id", event.connection_id}, {"client", event.client_address}});
            return;
        case Kind::finished:
            log.log(LogLevel::info, "session_finished", "",
                    {{"connection_id", event.connection_id},
                     {"remote", event.remote},
                     {"last_status", event.message}});
            return;
        case Kind::refused:
            log.log(LogLevel::info, "request_refused", event.message,
                    {{"http_status", event.http_status}, {"client", event.client_address}});
            return;
    }
}

// The options of the bridge, or an error about a policy entry.
std::variant<wsbridge::BridgeOptions, std::string> bridge_options(const autoprox::Options& o,
                                                                  autoprox::Logger& log) {
    wsbridge::BridgeOptions b;
    b.host = o.host;
    b.port = o.port;
    auto targets = wsbridge::TargetPolicy::make(o.allow_targets, o.deny_targets);
    if (auto* error = std::get_if<std::string>(&targets)) return *error;
    auto origins = wsbridge::OriginPolicy::make(o.allow_origins);
    if (auto* error = std::get_if<std::string>(&origins)) return *error;
    b.hub.targets = std::get<wsbridge::TargetPolicy>(std::move(targets));
    b.hub.origins = std::get<wsbridge::OriginPolicy>(std::move(origins));
    b.hub.token = o.token;
    b.hub.max_sessions = o.max_sessions;
    b.hub.max_sessions_per_client = o.max_sessions_per_client;
    b.hub.on_event = [&log](const wsbridge::HubEvent& event) { log_event(log, event); };
    b.hub.websocket_ping_interval = to_duration(o.ws_ping_interval_s);
    b.hub.websocket_pong_timeout = to_duration(o.ws_pong_timeout_s);
    auto& s = b.hub.session;
    s.limits = wsbridge::Limits::for_message_size(o.max_message_bytes);
    s.status_interval = to_duration(o.status_interval_s);
    s.connect_timeout = to_duration(o.connect_timeout_s);
    s.idle_timeout = to_duration(o.idle_timeout_s);
    s.reattach_grace = to_duration(o.reattach_grace_s);
    b.tls_cert_file = o.tls_cert;
    b.tls_key_file = o.tls_key;
    return b;
}

// Stops accepting, ends every session, and stops the io_context once the WebSockets and the
// srmudp connections have closed, or at the deadline. A second signal stops at once.
class Shutdown {
  public:
    Shutdown(asio::io_context& io, wsbridge::Bridge& bridge, srmudp::Endpoint& endpoint,
             autoprox::Logger& log)
        : io_(io),
          bridge_(bridge),
          endpoint_(endpoint),
          log_(log),
          signals_(io, SIGINT, SIGTERM),
          timer_(io) {
        wait();
    }

  private:
    void wait() {
        signals_.async_wait([this](const std::error_code& ec, int signal) {
            if (ec) return;
            on_signal(signal);
        });
    }

    void on_signal(int signal) {
        if (stopping_) {
            log_.log(LogLevel::warn, "stopped", "second signal: stopping at once");
            io_.stop();
            return;
        }
        stopping_ = true;
        log_.log(LogLevel::info, "shutting_down", "closing every session",
                 {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"},
                  {"sessions", bridge_.hub().session_count()}});
        bridge_.stop("autoprox is shutting down");
        deadline_ = std::chrono::steady_clock::now() + kShutdownDeadline;
        wait();
        poll();
    }

    void poll() {
        const bool done = bridge_.open_connections() == 0 && endpoint_.stats().connections == 0;
        if (done || std::chrono::steady_clock::now() >= deadline_) {
            if (!done) {
                log_.log(LogLevel::warn, "shutdown_deadline", "stopping with connections open",
                         {{"websockets", bridge_.open_connections()},
                          {"srmudp_connections", endpoint_.stats().connections}});
            }
            log_.log(LogLevel::info, "stopped", "");
            io_.stop();
            return;
        }
        timer_.expires_after(kShutdownPoll);
        timer_.async_wait([this](const std::error_code& ec) {
            if (!ec) poll();
        });
    }

    asio::io_context& io_;
    wsbridge::Bridge& bridge_;
    srmudp::Endpoint& endpoint_;
    autoprox::Logger& log_;
    asio::signal_set signals_;
    asio::steady_timer timer_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point deadline_{};
};

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = autoprox::parse_options(args, [](const char* name) -> std::optional<std::string> {
        if (const char* value = std::getenv(name)) return std::string(value);
        return std::nullopt;
    });
    if (auto* exit = std::get_if<autoprox::Exit>(&parsed)) {
        (exit->code == 0 ? std::cout : std::cerr) << exit->text << '\n';
        return exit->code;
    }
    const auto& options = std::get<autoprox::Options>(parsed);
    autoprox::Logger log(options.log_level, options.log_format, std::cerr);

    auto built = bridge_options(options, log);
    if (auto* error = std::get_if<std::string>(&built)) {
        std::cerr << "autoprox: " << *error << '\n';
        return 2;
    }
    auto& bridge_opts = std::get<wsbridge::BridgeOptions>(built);

    asio::io_context io;
    auto endpoint = open_endpoint(io, options, log);
    if (!endpoint) return 1;
    std::optional<srmudp::PeerAddress> stun;
    if (options.stun_server) {
        const bool v6 = endpoint->local_address().family == srmudp::PeerAddress::Family::v6;
        stun = resolve_stun(io, *options.stun_server, v6, log);
    }

    autoprox::HttpApi* api_ptr = nullptr;
    bridge_opts.http = [&api_ptr](const wsbridge::HttpRequest& request,
                                  wsbridge::HttpResponder respond) {
        if (api_ptr != nullptr) api_ptr->handle(request, respond);
    };
    const std::string targets = bridge_opts.hub.targets.describe();
    const std::string origins = bridge_opts.hub.origins.describe();
    wsbridge::Bridge bridge(io, *endpoint, std::move(bridge_opts));
    autoprox::HttpApi api(options, bridge, *endpoint, stun);
    api_ptr = &api;
    if (auto error = bridge.start()) {
        log.log(LogLevel::error, "start_failed", *error);
        return 1;
    }
    const std::string scheme = bridge.tls() ? "wss" : "ws";
    log.log(LogLevel::info, "listening", "autoprox is ready",
            {{"version", autoprox::kVersion},
             {"websocket", scheme + "://" + options.host + ":" +
                               std::to_string(bridge.local_port()) + "/v0/ws/proxy"},
             {"srmudp", endpoint->local_address().to_string()},
             {"targets", targets},
             {"origins", origins},
             {"bearer_auth", options.token.has_value()}});
    Shutdown shutdown(io, bridge, *endpoint, log);
    io.run();
    api_ptr = nullptr;
    return 0;
}
