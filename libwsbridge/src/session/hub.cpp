// The Hub: admission of upgrade requests, the registry of sessions (by connection id, and by
// client_id and remote for re-attach), per-client session counts, and the metrics.
//
// Everything the Hub hands out (Admission, Attachment, the sessions' on_finished callbacks)
// holds the State through a weak_ptr, so nothing breaks when the Hub goes first.
#include "wsbridge/hub.hpp"

#include <utility>

#include "session/reports.hpp"
#include "session/secret.hpp"
#include "srmudp/endpoint.hpp"

namespace wsbridge {

namespace {

struct SessionEntry {
    std::shared_ptr<Session> session;
    std::string client_address;
    std::optional<std::pair<std::string, std::string>> client_key;  // (client_id, remote)
};

}  // namespace

class Hub::State : public std::enable_shared_from_this<Hub::State> {
  public:
    State(asio::io_context& io_context, srmudp::Endpoint& srmudp_endpoint, HubOptions hub_options)
        : io(io_context), endpoint(srmudp_endpoint), options(std::move(hub_options)) {
        options.session.counters = counters;
    }

    Refusal refuse(const UpgradeRequest& request, int status, std::string_view reason,
                   std::string message) {
        ++refused[std::string(reason)];
        HubEvent event;
        event.kind = HubEvent::Kind::refused;
        event.client_address = request.client_address;
        event.http_status = status;
        event.message = message;
        tell(event);
        return Refusal{status, std::move(message), {}};
    }
    void tell(const HubEvent& event) const {
        if (options.on_event) options.on_event(event);
    }
    void tell(HubEvent::Kind kind, const Session& session, const std::string& client_address) {
        if (!options.on_event) return;
        const SessionStats stats = session.stats();
        HubEvent event;
        event.kind = kind;
        event.connection_id = stats.connection_id;
        event.remote = stats.remote;
        event.client_address = client_address;
        event.client_id = stats.client_id;
        event.message = std::string(status_name(stats.status));
        options.on_event(event);
    }
    void reserve(const std::string& client_address) {
        ++reserved;
        ++per_client[client_address];
    }
    void release(const std::string& client_address) {
        --reserved;
        release_client(client_address);
    }
    void release_client(const std::string& client_address) {
        auto it = per_client.find(client_address);
        if (it != per_client.end() && --it->second == 0) per_client.erase(it);
    }
    std::shared_ptr<Session> waiting_session(const std::string& client_id,
                                             const std::string& remote) const {
        auto it = by_client.find({client_id, remote});
        if (it == by_client.end()) return nullptr;
        auto entry = sessions.find(it->second);
        if (entry == sessions.end() || entry->second.session->finished()) return nullptr;
        return entry->second.session;
    }
    std::shared_ptr<Session> start_session(ProxyRequest request, const std::string& client_address,
                                           std::shared_ptr<WebSocketSide> ws);
    void on_finished(const std::string& connection_id);

    asio::io_context& io;
    srmudp::Endpoint& endpoint;
    HubOptions options;
    std::shared_ptr<BridgeCounters> counters = std::make_shared<BridgeCounters>();
    std::map<std::string, SessionEntry> sessions;  // by connection id
    std::map<std::pair<std::string, std::string>, std::string> by_client;
    std::map<std::string, std::size_t> per_client;  // sessions and reservations by client IP
    std::size_t reserved = 0;
    std::uint64_t opened = 0;
    std::map<std::string, std::uint64_t> refused;
    bool accepting = true;
};

class Admission::State {
  public:
    std::weak_ptr<Hub::State> hub;
    ProxyRequest request;
    std::string client_address;
    std::shared_ptr<Session> reattach;  // the waiting session this client returns to
    bool holds_slot = false;

    ~State() {
        wipe_key();
        auto state = hub.lock();
        if (state && holds_slot) state->release(client_address);
    }
    void wipe_key() { session::wipe(request.encryption_key); }
};

Admission::Admission(std::unique_ptr<State> state) : state_(std::move(state)) {}
Admission::Admission(Admission&&) noexcept = default;
Admission& Admission::operator=(Admission&&) noexcept = default;
Admission::~Admission() = default;

namespace {

// Frames reach the session only while this WebSocket is the one attached to it.
class SessionAttachment final : public Attachment {
  public:
    SessionAttachment(std::shared_ptr<Session> session, std::shared_ptr<WebSocketSide> ws)
        : session_(std::move(session)), ws_(std::move(ws)) {}

    void on_text_frame(std::string_view frame) override {
        if (current()) session_->on_text_frame(frame);
    }
    void on_binary_frame(srmudp::ByteView frame) override {
        if (current()) session_->on_binary_frame(frame);
    }
    void on_closed(bool dropped) override {
        if (current()) session_->on_websocket_closed(dropped);
        session_.reset();
    }

  private:
    bool current() const { return session_ && session_->attached_to(ws_.get()); }

    std::shared_ptr<Session> session_;
    std::shared_ptr<WebSocketSide> ws_;
};

std::optional<std::string> remote_key(const ProxyRequest& request) {
    return request.client_id ? std::optional<std::string>(request.remote.to_string())
                             : std::nullopt;
}

}  // namespace

std::shared_ptr<Session> Hub::State::start_session(ProxyRequest request,
                                                   const std::string& client_address,
                                                   std::shared_ptr<WebSocketSide> ws) {
    SessionEntry entry;
    entry.client_address = client_address;
    if (request.client_id) entry.client_key.emplace(*request.client_id, request.remote.to_string());
    std::string id = make_connection_id();
    while (sessions.count(id) != 0)
        id = make_connection_id();
    entry.session = std::make_shared<Session>(io, endpoint, std::move(ws), std::move(request), id,
                                              options.session);
    std::weak_ptr<State> weak = weak_from_this();
    entry.session->set_on_finished([weak, id] {
        if (auto self = weak.lock()) self->on_finished(id);
    });
    if (entry.client_key) by_client[*entry.client_key] = id;
    ++per_client[client_address];
    ++opened;
    auto session = entry.session;
    sessions.emplace(id, std::move(entry));
    session->start();
    tell(HubEvent::Kind::opened, *session, client_address);
    return session;
}

void Hub::State::on_finished(const std::string& connection_id) {
    auto it = sessions.find(connection_id);
    if (it == sessions.end()) return;
    if (it->second.client_key) {
        auto by = by_client.find(*it->second.client_key);
        if (by != by_client.end() && by->second == connection_id) by_client.erase(by);
    }
    release_client(it->second.client_address);
    const SessionEntry entry = std::move(it->second);
    sessions.erase(it);
    tell(HubEvent::Kind::finished, *entry.session, entry.client_address);
}

// ---- Hub ------------------------------------------------------------------------------------

Hub::Hub(asio::io_context& io, srmudp::Endpoint& endpoint, HubOptions options)
    : state_(std::make_shared<State>(io, endpoint, std::move(options))) {}

std::unique_ptr<Hub> Hub::open(asio::io_context& io,
                               const srmudp::EndpointOptions& endpoint_options, HubOptions options,
                               std::error_code& ec) {
    auto endpoint = srmudp::Endpoint::open(io, endpoint_options, ec);
    if (!endpoint) return nullptr;
    auto hub = std::make_unique<Hub>(io, *endpoint, std::move(options));
    hub->owned_endpoint_ = std::move(endpoint);
    return hub;
}

Hub::~Hub() {
    shutdown("the proxy is shutting down");
}

srmudp::Endpoint& Hub::endpoint() {
    return state_->endpoint;
}

std::variant<Admission, Refusal> Hub::admit(const UpgradeRequest& request) {
    State& s = *state_;
    if (!s.accepting) return s.refuse(request, 503, "shutdown", "the proxy is shutting down");
    if (auto why = s.options.origins.check(request.origin))
        return s.refuse(request, 403, "origin", *why);
    auto parsed = parse_proxy_request(request.resource, request.key_header);
    if (auto* error = std::get_if<RequestError>(&parsed))
        return s.refuse(request, 400, "request", error->message);
    auto& proxy = std::get<ProxyRequest>(parsed);
    if (s.options.token && !s.options.token->empty() &&
        !bearer_token_matches(
            request.authorization,
            proxy.token ? std::optional<std::string_view>(*proxy.token) : std::nullopt,
            *s.options.token)) {
        Refusal refusal = s.refuse(request, 401, "token",
                                   "a valid bearer token is required (Authorization: Bearer "
                                   "<token>, or the token query parameter)");
        refusal.headers.emplace_back("WWW-Authenticate", "Bearer");
        return refusal;
    }
    if (auto why = s.options.targets.check(proxy.remote))
        return s.refuse(request, 403, "target", *why);

    auto admission = std::make_unique<Admission::State>();
    admission->hub = state_;
    admission->client_address = request.client_address;
    if (proxy.client_id) {
        if (auto waiting = s.waiting_session(*proxy.client_id, *remote_key(proxy))) {
            if (!waiting->key_matches(proxy.encryption_key)) {
                return s.refuse(request, 409, "client_key",
                                "client_id " + *proxy.client_id + " has a session with " +
                                    proxy.remote.to_string() + " under another encryption key");
            }
            admission->reattach = std::move(waiting);
        }
    }
    if (!admission->reattach) {
        if (s.sessions.size() + s.reserved >= s.options.max_sessions) {
            return s.refuse(request, 503, "limit",
                            "the proxy has reached its limit of " +
                                std::to_string(s.options.max_sessions) + " sessions");
        }
        auto it = s.per_client.find(request.client_address);
        if (it != s.per_client.end() && it->second >= s.options.max_sessions_per_client) {
            return s.refuse(request, 429, "client_limit",
                            "too many sessions from " + request.client_address + " (limit " +
                                std::to_string(s.options.max_sessions_per_client) + ")");
        }
        s.reserve(request.client_address);
        admission->holds_slot = true;
    }
    admission->request = std::move(proxy);
    return Admission(std::move(admission));
}

std::shared_ptr<Attachment> Hub::open(Admission admission, std::shared_ptr<WebSocketSide> ws) {
    auto a = std::move(admission.state_);
    State& s = *state_;
    if (a->holds_slot) {
        s.release(a->client_address);
        a->holds_slot = false;
    }
    std::shared_ptr<Session> session;
    if (a->reattach && a->reattach->attach(ws, a->request.last_seq)) {
        session = std::move(a->reattach);
        s.tell(HubEvent::Kind::reattached, *session, a->client_address);
    } else if (!s.accepting) {
        ws->close(1001, "the proxy is shutting down");
        return std::make_shared<SessionAttachment>(nullptr, std::move(ws));
    } else {
        // A new session; also when the session to re-attach to ended since admit().
        session = s.start_session(std::move(a->request), a->client_address, ws);
    }
    a->wipe_key();
    return std::make_shared<SessionAttachment>(std::move(session), std::move(ws));
}

void Hub::shutdown(const std::string& reason) {
    State& s = *state_;
    s.accepting = false;
    // end() finishes each session; its entry goes when its on_finished callback runs.
    std::vector<std::shared_ptr<Session>> all;
    for (auto& [id, entry] : s.sessions)
        all.push_back(entry.session);
    for (auto& session : all)
        session->end(reason);
}

std::vector<SessionStats> Hub::sessions() const {
    std::vector<SessionStats> rows;
    for (const auto& [id, entry] : state_->sessions)
        if (!entry.session->finished()) rows.push_back(entry.session->stats());
    return rows;
}

std::size_t Hub::session_count() const {
    return state_->sessions.size();
}

HubMetrics Hub::metrics() const {
    HubMetrics m;
    for (const auto& [id, entry] : state_->sessions) {
        if (entry.session->finished()) continue;
        if (entry.session->stats().websocket_open) {
            ++m.sessions_active;
        } else {
            ++m.sessions_waiting;
        }
    }
    m.sessions_opened = state_->opened;
    m.refused = state_->refused;
    m.counters = *state_->counters;
    return m;
}

const HubOptions& Hub::options() const {
    return state_->options;
}

}  // namespace wsbridge
