#include "http_api.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>

#include "srmudp/endpoint.hpp"
#include "wsbridge/policy.hpp"
#include "wsbridge/protocol.hpp"

namespace autoprox {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr auto kStunTimeout = std::chrono::seconds(3);

void key(Writer& w, const char* name) {
    w.Key(name);
}

void string(Writer& w, const char* name, std::string_view value) {
    w.Key(name);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string path_of(const std::string& resource) {
    return resource.substr(0, resource.find('?'));
}

wsbridge::HttpResponse error_response(int status, const std::string& message) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    string(w, "error", message);
    w.EndObject();
    return json_response(status, buffer.GetString());
}

void write_parameters(Writer& w) {
    key(w, "parameters");
    w.StartObject();
    string(w, "remote_host", "required: the peer's IPv4 or IPv6 address (a literal)");
    string(w, "remote_port", "required: the peer's UDP port, 1-65535");
    string(w, "encryption_key",
           "required here or in the X-Encryption-Key header: the key both peers share");
    string(w, "client_id",
           "optional: 1-128 characters of A-Z a-z 0-9 . _ -; lets the same client re-attach to "
           "its session after its WebSocket dropped");
    string(w, "last_seq",
           "optional, on re-attach: the highest data frame seq received; later frames are "
           "sent again");
    string(w, "token", "optional: the bearer token, for clients that cannot set headers");
    w.EndObject();
}

void write_limits(Writer& w, const Options& o) {
    key(w, "limits");
    w.StartObject();
    for (const auto& [name, value] :
         {std::pair<const char*, std::size_t>{"max_message_bytes", o.max_message_bytes},
          {"max_sessions", o.max_sessions},
          {"max_sessions_per_client", o.max_sessions_per_client}}) {
        key(w, name);
        w.Uint64(value);
    }
    for (const auto& [name, value] :
         {std::pair<const char*, double>{"idle_timeout_s", o.idle_timeout_s},
          {"reattach_grace_s", o.reattach_grace_s},
          {"status_interval_s", o.status_interval_s},
          {"ws_ping_interval_s", o.ws_ping_interval_s},
          {"ws_pong_timeout_s", o.ws_pong_timeout_s},
          {"connect_timeout_s", o.connect_timeout_s}}) {
        key(w, name);
        w.Double(value);
    }
    w.EndObject();
}

}  // namespace

wsbridge::HttpResponse json_response(int status, std::string body) {
    wsbridge::HttpResponse response;
    response.status = status;
    response.content_type = "application/json";
    response.body = std::move(body);
    response.body.push_back('\n');
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

HttpApi::HttpApi(const Options& options, wsbridge::Bridge& bridge, srmudp::Endpoint& endpoint,
                 std::optional<srmudp::PeerAddress> stun_server)
    : options_(options), bridge_(bridge), endpoint_(endpoint), stun_server_(stun_server) {}

void HttpApi::handle(const wsbridge::HttpRequest& request, const wsbridge::HttpResponder& respond) {
    const std::string path = path_of(request.resource);
    if (request.method != "GET" && request.method != "HEAD") {
        auto response = error_response(405, "only GET is supported");
        response.headers.emplace_back("Allow", "GET, HEAD");
        respond(std::move(response));
        return;
    }
    if (path == "/health") {
        respond(health());
        return;
    }
    const bool known = path == "/v0/ws/info" || path == "/v0/ws/connections" ||
                       path == "/v0/network/public-address" || path == "/metrics";
    if (!known) {
        respond(error_response(404, "not found; see GET /v0/ws/info"));
        return;
    }
    if (options_.token && !wsbridge::bearer_token_matches(request.header("authorization"),
                                                          std::nullopt, *options_.token)) {
        auto response = error_response(401, "a valid bearer token is required");
        response.headers.emplace_back("WWW-Authenticate", "Bearer");
        respond(std::move(response));
        return;
    }
    if (path == "/v0/ws/info") {
        respond(info());
    } else if (path == "/v0/ws/connections") {
        respond(json_response(200, wsbridge::sessions_json(bridge_.sessions())));
    } else if (path == "/metrics") {
        wsbridge::HttpResponse response;
        response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        response.body = wsbridge::metrics_text(bridge_.hub().metrics());
        respond(std::move(response));
    } else {
        public_address(respond);
    }
}

wsbridge::HttpResponse HttpApi::health() const {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    string(w, "status", "ok");
    string(w, "version", kVersion);
    key(w, "sessions");
    w.Uint64(bridge_.hub().session_count());
    key(w, "uptime_s");
    w.Int64(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                             started_)
                .count());
    w.EndObject();
    return json_response(200, buffer.GetString());
}

wsbridge::HttpResponse HttpApi::info() const {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    string(w, "endpoint", wsbridge::kProxyPath);
    string(w, "scheme", bridge_.tls() ? "wss" : "ws");
    write_parameters(w);
    key(w, "headers");
    w.StartObject();
    string(w, "X-Encryption-Key", "the key, instead of the encryption_key parameter");
    string(w, "Authorization",
           options_.token ? "required: Bearer <token>" : "not required (no token configured)");
    w.EndObject();
    key(w, "statuses");
    w.StartArray();
    for (auto status : {wsbridge::Status::connected, wsbridge::Status::udp_waiting,
                        wsbridge::Status::udp_established, wsbridge::Status::reconnecting,
                        wsbridge::Status::error}) {
        const auto name = wsbridge::status_name(status);
        w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    }
    w.EndArray();
    key(w, "srmudp_port");
    w.Uint(endpoint_.local_address().port);
    write_limits(w, options_);
    string(w, "version", kVersion);
    w.EndObject();
    return json_response(200, buffer.GetString());
}

// One STUN query at a time through the shared socket; requests that come meanwhile wait for the
// same answer.
void HttpApi::public_address(const wsbridge::HttpResponder& respond) {
    if (!stun_server_) {
        respond(error_response(503, "no STUN server configured (--stun-server HOST:PORT)"));
        return;
    }
    stun_waiting_.push_back(respond);
    if (stun_waiting_.size() > 1) return;
    const srmudp::PeerAddress server = *stun_server_;
    std::weak_ptr<int> alive = alive_;
    endpoint_.discover_public_address(
        server, kStunTimeout,
        [this, alive, server](std::error_code ec, srmudp::PeerAddress address) {
            if (alive.expired()) return;
            wsbridge::HttpResponse response;
            if (ec) {
                response = error_response(502, "no answer from the STUN server " +
                                                   server.to_string() + ": " + ec.message());
            } else {
                rapidjson::StringBuffer buffer;
                Writer w(buffer);
                w.StartObject();
                string(w, "public_address", address.to_string());
                std::string ip = wsbridge::ip_to_string(address);
                string(w, "ip", ip);
                key(w, "port");
                w.Uint(address.port);
                string(w, "stun_server", server.to_string());
                w.EndObject();
                response = json_response(200, buffer.GetString());
            }
            auto waiting = std::move(stun_waiting_);
            stun_waiting_.clear();
            for (auto& answer : waiting)
                answer(response);
        });
}

}  // namespace autoprox
