// Session re-attach by client_id, replay by seq, the idle timeout and end(): against real srmudp
// Endpoints on 127.0.0.1 with fake WebSockets (session_harness.hpp). Session A is the peer; B is
// the session whose client comes and goes.
#include "session_harness.hpp"

using namespace wsbridge;
using namespace harness;

namespace {

std::vector<std::string> texts_of(const std::vector<Frame>& frames) {
    std::vector<std::string> out;
    for (const auto& f : frames)
        out.push_back(f.data);
    return out;
}

std::vector<std::uint64_t> seqs_of(const std::vector<Frame>& frames) {
    std::vector<std::uint64_t> out;
    for (const auto& f : frames)
        out.push_back(f.seq);
    return out;
}

}  // namespace

TEST_CASE("re-attach: messages that arrive while the client is away reach the new WebSocket") {
    SessionPair p({}, {}, kKey, "", "&client_id=client-b");
    p.establish();
    p.b->on_websocket_closed();
    CHECK(p.b->stats().awaiting_reattach);
    CHECK_FALSE(p.b->stats().websocket_open);
    for (int i = 0; i < 3; ++i)
        p.a->on_text_frame(
            data_frame("text", "away " + std::to_string(i), MessageTag{std::int64_t{i}}));
    // srmudp still acknowledges while B's receiving is paused: A's client gets its acks.
    REQUIRE(run_until(p.io, [&] { return p.wa->frames("ack").size() == 3; }));
    CHECK(p.b->stats().receive_paused);
    const std::size_t frames_before = p.wb->texts.size();

    auto wb2 = std::make_shared<FakeWebSocket>();
    REQUIRE(p.b->attach(wb2, std::nullopt));
    CHECK(p.wb->texts.size() == frames_before);  // nothing more to the old WebSocket
    REQUIRE(run_until(p.io, [&] { return wb2->frames("data").size() == 3; }));
    const auto status = wb2->frames("status");
    REQUIRE_FALSE(status.empty());
    CHECK(status[0].status == "UDP_ESTABLISHED");
    CHECK(status[0].connection_id == "bbbbbbbbbbbbbbbb");
    CHECK(status[0].message.find("re-attached") != std::string::npos);
    const auto data = wb2->frames("data");
    CHECK(texts_of(data) == std::vector<std::string>{"away 0", "away 1", "away 2"});
    CHECK(seqs_of(data) == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(p.b->stats().reattaches == 1);
    CHECK_FALSE(p.b->stats().receive_paused);
    // Traffic goes on both ways over the new WebSocket.
    p.b->on_text_frame(data_frame("text", "back"));
    REQUIRE(run_until(p.io, [&] { return p.wa->frames("data").size() == 1; }));
    CHECK(p.wa->frames("data")[0].data == "back");
    wb2->check_no_key();
}

TEST_CASE("re-attach with last_seq replays what the dropped WebSocket may not have delivered") {
    SessionPair p({}, {}, kKey, "", "&client_id=client-b");
    p.establish();
    for (const char* text : {"one", "two", "three"})
        p.a->on_text_frame(data_frame("text", text));
    REQUIRE(run_until(p.io, [&] { return p.wb->frames("data").size() == 3; }));
    p.b->on_websocket_closed();
    p.a->on_text_frame(data_frame("text", "four"));
    run_for(p.io, std::chrono::milliseconds(200));

    auto wb2 = std::make_shared<FakeWebSocket>();
    REQUIRE(p.b->attach(wb2, std::uint64_t{1}));  // the client saw only seq 1
    REQUIRE(run_until(p.io, [&] { return wb2->frames("data").size() == 3; }));
    const auto data = wb2->frames("data");
    CHECK(texts_of(data) == std::vector<std::string>{"two", "three", "four"});
    CHECK(seqs_of(data) == std::vector<std::uint64_t>{2, 3, 4});
    CHECK(wb2->frames("error").empty());
}

TEST_CASE("re-attach: frames beyond the replay limit are reported lost - not silently dropped") {
    SessionOptions options;
    options.replay_bytes = 10;  // smaller than one frame: only the newest is kept
    SessionPair p(options, {}, kKey, "", "&client_id=client-b");
    p.establish();
    for (const char* text : {"one", "two", "three"})
        p.a->on_text_frame(data_frame("text", text));
    REQUIRE(run_until(p.io, [&] { return p.wb->frames("data").size() == 3; }));
    CHECK(p.b->stats().replay_bytes > 0);
    p.b->on_websocket_closed();
    auto wb2 = std::make_shared<FakeWebSocket>();
    REQUIRE(p.b->attach(wb2, std::uint64_t{0}));
    const auto errors = wb2->frames("error");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].message.find("2 data frame(s) after seq 0 are no longer kept") !=
          std::string::npos);
    REQUIRE(wb2->frames("data").size() == 1);
    CHECK(wb2->frames("data")[0].data == "three");
}

TEST_CASE("re-attach: acks that come while the client is away are held for it") {
    SessionPair p({}, {}, kKey, "", "&client_id=client-b");
    p.establish();
    p.b->on_text_frame(data_frame("text", "to a", MessageTag{std::string("m1")}));
    p.b->on_websocket_closed();  // before the ack can come
    REQUIRE(run_until(p.io, [&] { return p.wa->frames("data").size() == 1; }));
    run_for(p.io, std::chrono::milliseconds(200));
    auto wb2 = std::make_shared<FakeWebSocket>();
    REQUIRE(p.b->attach(wb2, std::nullopt));
    REQUIRE(wb2->frames("ack").size() == 1);
    CHECK(wb2->frames("ack")[0].id == MessageTag{std::string("m1")});
    CHECK(p.wb->frames("ack").empty());
}

TEST_CASE("re-attach while the old WebSocket is still open replaces it with close 4000") {
    SessionPair p({}, {}, kKey, "", "&client_id=client-b");
    p.establish();
    auto wb2 = std::make_shared<FakeWebSocket>();
    REQUIRE(p.b->attach(wb2, std::nullopt));
    CHECK(p.wb->close_code == 4000);
    CHECK(p.b->attached_to(wb2.get()));
    CHECK_FALSE(p.b->attached_to(p.wb.get()));
    p.a->on_text_frame(data_frame("text", "to the new one"));
    REQUIRE(run_until(p.io, [&] { return wb2->frames("data").size() == 1; }));
    CHECK(p.wb->frames("data").empty());
}

TEST_CASE("without a client_id - or with zero grace - a dropped WebSocket ends the session") {
    SessionOptions options;
    options.reattach_grace = srmudp::Duration::zero();
    SessionPair p(options, {}, kKey, "", "&client_id=client-b");
    p.establish();
    bool finished = false;
    p.b->set_on_finished([&] { finished = true; });
    p.b->on_websocket_closed();
    CHECK(p.b->finished());
    REQUIRE(run_until(p.io, [&] { return finished && p.wa->closed(); }));
    CHECK_FALSE(p.b->attach(std::make_shared<FakeWebSocket>(), std::nullopt));
}

TEST_CASE("the grace period ends: the srmudp connection closes and the session is finished") {
    SessionOptions options;
    options.reattach_grace = std::chrono::milliseconds(300);
    SessionPair p(options, {}, kKey, "", "&client_id=client-b");
    p.establish();
    bool finished = false;
    p.b->set_on_finished([&] { finished = true; });
    p.b->on_websocket_closed();
    run_for(p.io, std::chrono::milliseconds(100));
    CHECK_FALSE(finished);
    REQUIRE(run_until(p.io, [&] { return finished; }));
    REQUIRE(run_until(p.io, [&] { return p.wa->closed(); }));
    CHECK(p.wa->statuses().back() == "ERROR");
    CHECK(p.wa->close_reason.find("closed the connection") != std::string::npos);
}

TEST_CASE("key_matches compares against the session's key only") {
    SessionPair p({}, {}, kKey, "", "&client_id=client-b");
    CHECK(p.b->key_matches(kKey));
    CHECK_FALSE(p.b->key_matches("bridge-test-key-7Q3"));
    CHECK_FALSE(p.b->key_matches(""));
}

TEST_CASE("a session that failed cannot be re-attached") {
    SessionPair p({}, {}, "another-key", "", "&client_id=client-b");
    REQUIRE(run_until(p.io, [&] { return p.wb->closed(); }));
    p.b->on_websocket_closed();
    CHECK_FALSE(p.b->attach(std::make_shared<FakeWebSocket>(), std::nullopt));
}

TEST_CASE("the idle timeout ends a session without data - error frame and close 1000") {
    SessionOptions options;
    options.idle_timeout = std::chrono::milliseconds(400);
    options.status_interval = std::chrono::milliseconds(100);  // status frames are not data
    SessionPair p(options);
    p.establish();
    REQUIRE(run_until(p.io, [&] { return p.wa->closed(); }));
    CHECK(p.wa->close_code == 1000);
    REQUIRE_FALSE(p.wa->frames("error").empty());
    CHECK(p.wa->frames("error").back().message.find("no data in either direction") !=
          std::string::npos);
}

TEST_CASE("data keeps a session with an idle timeout alive") {
    SessionOptions options;
    options.idle_timeout = std::chrono::milliseconds(500);
    SessionPair p(options);
    p.establish();
    for (int i = 0; i < 8; ++i) {
        p.a->on_text_frame(data_frame("text", "tick"));
        run_for(p.io, std::chrono::milliseconds(150));
    }
    CHECK_FALSE(p.wa->closed());
    CHECK(p.wb->frames("data").size() == 8);
}

TEST_CASE("end() tells the client - closes with 1001 - and finishes the session") {
    SessionPair p;
    p.establish();
    p.a->end("the proxy is shutting down");
    CHECK(p.a->finished());
    CHECK(p.wa->close_code == 1001);
    CHECK(p.wa->statuses().back() == "ERROR");
    CHECK(p.wa->frames("error").back().message == "the proxy is shutting down");
    REQUIRE(run_until(p.io, [&] { return p.wb->closed(); }));
}

TEST_CASE("the bridge counters add up messages - bytes - handshakes") {
    SessionOptions options;
    options.counters = std::make_shared<BridgeCounters>();
    SessionPair p(options);
    p.establish();
    p.a->on_text_frame(data_frame("text", "12345"));
    REQUIRE(run_until(p.io, [&] { return p.wb->frames("data").size() == 1; }));
    CHECK(options.counters->established == 2);
    CHECK(options.counters->messages_to_peer == 1);
    CHECK(options.counters->messages_from_peer == 1);
    CHECK(options.counters->bytes_to_peer == 5);
    CHECK(options.counters->bytes_from_peer == 5);
}

TEST_CASE("a client that closes cleanly ends its session even with a client_id") {
    SessionPair p({}, {}, kKey, "", "&client_id=client-b");
    p.establish();
    bool finished = false;
    p.b->set_on_finished([&] { finished = true; });
    p.b->on_websocket_closed(/*dropped=*/false);
    CHECK(p.b->finished());
    CHECK_FALSE(p.b->stats().awaiting_reattach);
    REQUIRE(run_until(p.io, [&] { return finished && p.wa->closed(); }));
    CHECK(p.wa->close_reason.find("closed the connection") != std::string::npos);
}

TEST_CASE("status frames of a client_id session count the client's messages taken") {
    SessionOptions options;
    options.status_interval = std::chrono::milliseconds(100);
    SessionPair p(options, {}, kKey, "", "&client_id=client-b");
    p.establish();
    CHECK_FALSE(p.wa->frames("status").back().received);  // no client_id: no count
    CHECK(p.wb->frames("status").back().received == std::optional<std::uint64_t>(0));
    p.b->on_text_frame(data_frame("text", "one"));
    p.b->on_text_frame("not json");  // a bad frame was taken too
    const srmudp::Bytes raw{1, 2, 3};
    p.b->on_binary_frame(srmudp::ByteView(raw));
    REQUIRE(run_until(p.io, [&] {
        const auto s = p.wb->frames("status");
        return s.back().has_stats && s.back().received == std::optional<std::uint64_t>(3);
    }));
    p.b->on_websocket_closed();
    auto wb2 = std::make_shared<FakeWebSocket>();
    REQUIRE(p.b->attach(wb2, std::nullopt));
    CHECK(wb2->frames("status")[0].received == std::optional<std::uint64_t>(3));
}
