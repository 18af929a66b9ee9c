// wsbridge::Hub: admission (origin, token, request, target, limits), re-attach routing by
// client_id, slot reservations, shutdown, events and the renderings for the HTTP API, against
// real srmudp Endpoints on 127.0.0.1 and fake WebSockets (session_harness.hpp).
#include "session_harness.hpp"
#include "wsbridge/hub.hpp"

using namespace wsbridge;
using namespace harness;

namespace {

std::string resource_to(std::uint16_t port, const std::string& extra = "") {
    return "/v0/ws/proxy?remote_host=127.0.0.1&remote_port=" + std::to_string(port) +
           "&encryption_key=" + kKey + extra;
}

UpgradeRequest upgrade(const std::string& resource, const std::string& client = "192.0.2.10") {
    UpgradeRequest r;
    r.resource = resource;
    r.client_address = client;
    return r;
}

Refusal refused(std::variant<Admission, Refusal>&& verdict) {
    REQUIRE(std::holds_alternative<Refusal>(verdict));
    return std::get<Refusal>(std::move(verdict));
}

Admission admitted(std::variant<Admission, Refusal>&& verdict) {
    if (auto* r = std::get_if<Refusal>(&verdict)) FAIL(r->message);
    return std::get<Admission>(std::move(verdict));
}

// A Hub on one endpoint whose sessions talk to a plain Session on another.
struct HubFixture {
    asio::io_context io;
    std::unique_ptr<srmudp::Endpoint> hub_endpoint = open_endpoint(io);
    std::unique_ptr<srmudp::Endpoint> peer_endpoint = open_endpoint(io);
    std::vector<HubEvent> events;
    std::unique_ptr<Hub> hub;

    explicit HubFixture(HubOptions options = {}) {
        options.on_event = [this](const HubEvent& e) { events.push_back(e); };
        hub = std::make_unique<Hub>(io, *hub_endpoint, std::move(options));
    }
    std::uint16_t peer_port() const { return peer_endpoint->local_address().port; }
    std::uint16_t hub_port() const { return hub_endpoint->local_address().port; }
    // The other side: a session on the peer endpoint towards the hub's endpoint.
    std::unique_ptr<Session> peer(const std::shared_ptr<FakeWebSocket>& ws) {
        auto s = std::make_unique<Session>(io, *peer_endpoint, ws, request_to(hub_port()),
                                           "pppppppppppppppp");
        s->start();
        return s;
    }
};

}  // namespace

TEST_CASE("hub: an admitted request opens a session that reaches its peer") {
    HubFixture f;
    auto ws = std::make_shared<FakeWebSocket>();
    auto attachment = f.hub->open(admitted(f.hub->admit(upgrade(resource_to(f.peer_port())))), ws);
    auto peer_ws = std::make_shared<FakeWebSocket>();
    auto peer = f.peer(peer_ws);
    REQUIRE(run_until(f.io, [&] { return ws->has_status("UDP_ESTABLISHED"); }));
    attachment->on_text_frame(data_frame("text", "via the hub"));
    REQUIRE(run_until(f.io, [&] { return peer_ws->frames("data").size() == 1; }));
    CHECK(f.hub->session_count() == 1);
    const auto rows = f.hub->sessions();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].websocket_open);
    REQUIRE_FALSE(f.events.empty());
    CHECK(f.events[0].kind == HubEvent::Kind::opened);
    CHECK(f.events[0].client_address == "192.0.2.10");
    const auto metrics = f.hub->metrics();
    CHECK(metrics.sessions_active == 1);
    CHECK(metrics.sessions_opened == 1);
    CHECK(metrics.counters.messages_to_peer == 1);
    attachment->on_closed(false);
    REQUIRE(run_until(f.io, [&] { return f.hub->session_count() == 0; }));
    CHECK(f.events.back().kind == HubEvent::Kind::finished);
}

TEST_CASE("hub: refusals carry the HTTP status and a reason - and are counted") {
    HubOptions options;
    options.targets = std::get<TargetPolicy>(TargetPolicy::make({}, {"10.0.0.0/8"}));
    options.token = "s3cret-token";
    HubFixture f(options);
    const std::string good = resource_to(f.peer_port());
    auto with_token = [&](std::string resource) {
        auto r = upgrade(resource);
        return r;
    };
    // No token.
    Refusal r = refused(f.hub->admit(with_token(good)));
    CHECK(r.http_status == 401);
    CHECK(r.headers ==
          std::vector<std::pair<std::string, std::string>>{{"WWW-Authenticate", "Bearer"}});
    CHECK(r.message.find("s3cret") == std::string::npos);
    // Origin refused before anything else.
    auto from_page = upgrade(good + "&token=s3cret-token");
    const std::string origin = "https://evil.example";
    from_page.origin = origin;
    CHECK(refused(f.hub->admit(from_page)).http_status == 403);
    // A bad request.
    CHECK(refused(f.hub->admit(upgrade("/v0/ws/proxy?remote_port=1&token=s3cret-token")))
              .http_status == 400);
    // A refused target.
    const std::string denied =
        "/v0/ws/proxy?remote_host=10.1.2.3&remote_port=9&encryption_key=k"
        "&token=s3cret-token";
    r = refused(f.hub->admit(upgrade(denied)));
    CHECK(r.http_status == 403);
    CHECK(r.message.find("10.0.0.0/8") != std::string::npos);
    // The token in the Authorization header works too.
    auto bearer = upgrade(good);
    const std::string header = "Bearer s3cret-token";
    bearer.authorization = header;
    admitted(f.hub->admit(bearer));
    const auto metrics = f.hub->metrics();
    CHECK(metrics.refused.at("token") == 1);
    CHECK(metrics.refused.at("origin") == 1);
    CHECK(metrics.refused.at("request") == 1);
    CHECK(metrics.refused.at("target") == 1);
    const std::string text = metrics_text(metrics);
    CHECK(text.find("autoprox_sessions_refused_total{reason=\"token\"} 1\n") != std::string::npos);
    CHECK(text.find("s3cret") == std::string::npos);
}

TEST_CASE("hub: session limits count reservations - a dropped admission frees its slot") {
    HubOptions options;
    options.max_sessions = 2;
    options.max_sessions_per_client = 1;
    HubFixture f(options);
    const std::string good = resource_to(f.peer_port());
    auto first = admitted(f.hub->admit(upgrade(good, "192.0.2.1")));
    CHECK(refused(f.hub->admit(upgrade(good, "192.0.2.1"))).http_status == 429);
    {
        auto second = admitted(f.hub->admit(upgrade(good, "192.0.2.2")));
        const Refusal full = refused(f.hub->admit(upgrade(good, "192.0.2.3")));
        CHECK(full.http_status == 503);
        CHECK(full.message.find("limit of 2 sessions") != std::string::npos);
    }  // never opened: its slot is free again
    admitted(f.hub->admit(upgrade(good, "192.0.2.3")));
}

TEST_CASE("hub: a returning client_id re-attaches - another key is refused with 409") {
    HubFixture f;
    const std::string with_id = resource_to(f.peer_port(), "&client_id=app-1");
    auto ws = std::make_shared<FakeWebSocket>();
    auto attachment = f.hub->open(admitted(f.hub->admit(upgrade(with_id))), ws);
    auto peer_ws = std::make_shared<FakeWebSocket>();
    auto peer = f.peer(peer_ws);
    REQUIRE(run_until(f.io, [&] { return ws->has_status("UDP_ESTABLISHED"); }));
    const std::string connection_id = ws->frames("status")[0].connection_id;
    attachment->on_closed(true);  // dropped
    REQUIRE(f.hub->sessions().size() == 1);
    CHECK(f.hub->sessions()[0].awaiting_reattach);
    CHECK(f.hub->metrics().sessions_waiting == 1);

    const std::string other_key =
        "/v0/ws/proxy?remote_host=127.0.0.1&remote_port=" + std::to_string(f.peer_port()) +
        "&encryption_key=different-k3y&client_id=app-1";
    const Refusal conflict = refused(f.hub->admit(upgrade(other_key)));
    CHECK(conflict.http_status == 409);
    CHECK(conflict.message.find("different-k3y") == std::string::npos);

    peer->on_text_frame(data_frame("text", "while away"));
    run_for(f.io, std::chrono::milliseconds(200));
    auto ws2 = std::make_shared<FakeWebSocket>();
    auto attachment2 = f.hub->open(admitted(f.hub->admit(upgrade(with_id + "&last_seq=0"))), ws2);
    REQUIRE(run_until(f.io, [&] { return ws2->frames("data").size() == 1; }));
    CHECK(ws2->frames("status")[0].connection_id == connection_id);
    CHECK(ws2->frames("data")[0].data == "while away");
    CHECK(f.hub->metrics().counters.reattaches == 1);
    CHECK(f.hub->session_count() == 1);
    // The old attachment no longer reaches the session.
    attachment->on_text_frame(data_frame("text", "stale"));
    attachment2->on_text_frame(data_frame("text", "fresh"));
    REQUIRE(run_until(f.io, [&] { return peer_ws->frames("data").size() == 1; }));
    run_for(f.io, std::chrono::milliseconds(100));
    REQUIRE(peer_ws->frames("data").size() == 1);
    CHECK(peer_ws->frames("data")[0].data == "fresh");
}

TEST_CASE("hub: shutdown ends every session and refuses new requests with 503") {
    HubFixture f;
    auto ws = std::make_shared<FakeWebSocket>();
    auto attachment = f.hub->open(admitted(f.hub->admit(upgrade(resource_to(f.peer_port())))), ws);
    auto pending = admitted(f.hub->admit(upgrade(resource_to(f.peer_port() + 1))));
    f.hub->shutdown("going down for maintenance");
    CHECK(ws->close_code == 1001);
    CHECK(ws->frames("error").back().message == "going down for maintenance");
    CHECK(refused(f.hub->admit(upgrade(resource_to(f.peer_port())))).http_status == 503);
    auto late = std::make_shared<FakeWebSocket>();
    f.hub->open(std::move(pending), late);  // admitted before, opened after: closed at once
    CHECK(late->close_code == 1001);
    attachment->on_closed(false);
    REQUIRE(run_until(f.io, [&] { return f.hub->session_count() == 0; }));
}

TEST_CASE("hub: sessions_json lists sessions without keys") {
    SessionStats s;
    s.connection_id = "0123456789abcdef";
    s.remote = "[::1]:9000";
    s.client_id = "c\"1";
    s.status = Status::udp_established;
    s.websocket_open = true;
    const std::string json = sessions_json({s});
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    const auto& row = doc["sessions"][0];
    CHECK(std::string(row["connection_id"].GetString()) == "0123456789abcdef");
    CHECK(std::string(row["remote"].GetString()) == "[::1]:9000");
    CHECK(std::string(row["client_id"].GetString()) == "c\"1");
    CHECK(std::string(row["status"].GetString()) == "UDP_ESTABLISHED");
    CHECK(row["stats"].IsObject());
    CHECK(sessions_json({}) == "{\"sessions\":[]}");
}

TEST_CASE("hub: metrics_text is Prometheus text format") {
    HubMetrics m;
    m.sessions_active = 3;
    m.refused["limit"] = 2;
    m.counters.bytes_to_peer = 12345;
    const std::string text = metrics_text(m);
    CHECK(text.find("# TYPE autoprox_sessions gauge\n") != std::string::npos);
    CHECK(text.find("autoprox_sessions{state=\"attached\"} 3\n") != std::string::npos);
    CHECK(text.find("autoprox_sessions_refused_total{reason=\"limit\"} 2\n") != std::string::npos);
    CHECK(text.find("autoprox_bytes_to_peer_total 12345\n") != std::string::npos);
    // Every line is a comment or "name[{labels}] value".
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        REQUIRE(end != std::string::npos);
        const std::string line = text.substr(start, end - start);
        if (line.rfind("# ", 0) != 0) {
            CHECK(line.rfind("autoprox_", 0) == 0);
            CHECK(line.find(' ') != std::string::npos);
        }
        start = end + 1;
    }
}
