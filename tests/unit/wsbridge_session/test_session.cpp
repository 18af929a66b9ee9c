// wsbridge::Session against real srmudp::Endpoints on 127.0.0.1 in one io_context, with a fake
// WebSocket that records every frame. Every wait is bounded (run_until). Each test ends by
// checking that the key appears in no frame and no close reason.
#include "session_harness.hpp"

using namespace wsbridge;
using namespace harness;
TEST_CASE("two sessions connect: CONNECTED - UDP_WAITING - UDP_ESTABLISHED") {
    SessionPair p;
    p.establish();
    const std::vector<std::string> expected{"CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"};
    CHECK(p.wa->statuses() == expected);
    CHECK(p.wb->statuses() == expected);
    for (const auto& f : p.wa->frames("status")) {
        CHECK(f.connection_id == "aaaaaaaaaaaaaaaa");
        CHECK_FALSE(f.message.empty());
    }
    CHECK(p.wa->frames("status").back().message.find("127.0.0.1:") != std::string::npos);
    const SessionStats s = p.a->stats();
    CHECK(s.connection_id == "aaaaaaaaaaaaaaaa");
    CHECK(s.remote == "127.0.0.1:" + std::to_string(p.eb->local_address().port));
    CHECK(s.status == Status::udp_established);
    CHECK(s.websocket_open);
    CHECK_FALSE(s.client_id);
    CHECK_FALSE(p.wa->closed());
}

TEST_CASE("messages keep their kind and bytes both ways: text - binary - unicode - empty") {
    SessionPair p;
    const std::string unicode = "h\xc3\xa9llo \xf0\x9f\x8c\x8d \"quoted\" \\ \n";
    const std::string raw("\x00\x01\xff\xfe binary", 11);
    p.a->on_text_frame(data_frame("text", "hello"));
    p.a->on_text_frame(data_frame("text", unicode));
    p.a->on_text_frame(data_frame("text", ""));
    p.a->on_binary_frame(srmudp::as_bytes(raw));
    p.a->on_binary_frame(srmudp::ByteView());
    p.a->on_text_frame(data_frame("binary", base64_encode(srmudp::as_bytes(raw))));
    p.b->on_text_frame(data_frame("text", unicode));
    p.b->on_binary_frame(srmudp::as_bytes(raw));
    REQUIRE(run_until(p.io, [&] {
        return p.wb->frames("data").size() == 6 && p.wa->frames("data").size() == 2;
    }));
    const auto at_b = p.wb->frames("data");
    CHECK((at_b[0].format == "text" && at_b[0].data == "hello"));
    CHECK((at_b[1].format == "text" && at_b[1].data == unicode));
    CHECK((at_b[2].format == "text" && at_b[2].data.empty()));
    CHECK((at_b[3].format == "binary" && at_b[3].data == base64_encode(srmudp::as_bytes(raw))));
    CHECK((at_b[4].format == "binary" && at_b[4].data.empty()));
    CHECK((at_b[5].format == "binary" && at_b[5].data == base64_encode(srmudp::as_bytes(raw))));
    const auto at_a = p.wa->frames("data");
    CHECK((at_a[0].format == "text" && at_a[0].data == unicode));
    CHECK((at_a[1].format == "binary" && at_a[1].data == base64_encode(srmudp::as_bytes(raw))));
    CHECK(p.a->stats().messages_to_peer == 6);
    CHECK(p.b->stats().messages_from_peer == 6);
    CHECK(p.wa->frames("error").empty());
    CHECK(p.wb->frames("error").empty());
    CHECK(p.wb->binaries.empty());  // peer messages reach the client as JSON data frames
}

TEST_CASE("1 MiB messages go through both ways") {
    SessionPair p;
    std::string text(std::size_t{1} << 20, 'x');
    for (std::size_t i = 0; i < text.size(); i += 997)
        text[i] = static_cast<char>('a' + i % 26);
    srmudp::Bytes binary(std::size_t{1} << 20);
    for (std::size_t i = 0; i < binary.size(); ++i)
        binary[i] = static_cast<std::uint8_t>(i * 31 + 7);
    p.a->on_text_frame(data_frame("text", text));
    p.b->on_binary_frame(srmudp::ByteView(binary));
    REQUIRE(run_until(p.io, [&] {
        return p.wb->frames("data").size() == 1 && p.wa->frames("data").size() == 1;
    }));
    CHECK(p.wb->frames("data")[0].data == text);
    const auto at_a = p.wa->frames("data")[0];
    CHECK(at_a.format == "binary");
    const auto decoded = base64_decode(at_a.data);
    REQUIRE(decoded);
    CHECK(*decoded == binary);
}

TEST_CASE("a data frame with an id is acknowledged once the peer has it") {
    SessionPair p;
    p.a->on_text_frame(data_frame("text", "one", MessageTag{std::string("m-1")}));
    p.a->on_text_frame(data_frame("text", "two"));
    p.a->on_text_frame(data_frame("binary", "AAEC", MessageTag{std::int64_t{42}}));
    p.a->on_text_frame(data_frame("text", "four", MessageTag{std::int64_t{-7}}));
    REQUIRE(run_until(p.io, [&] { return p.wa->frames("ack").size() == 3; }));
    run_for(p.io, std::chrono::milliseconds(50));
    const auto acks = p.wa->frames("ack");
    REQUIRE(acks.size() == 3);
    CHECK(acks[0].id == MessageTag{std::string("m-1")});
    CHECK(acks[1].id == MessageTag{std::int64_t{42}});
    CHECK(acks[2].id == MessageTag{std::int64_t{-7}});
    CHECK(acks[1].raw == R"({"type":"ack","id":42})");
    CHECK(p.wb->frames("data").size() == 4);
    CHECK(p.wb->frames("ack").empty());
}

TEST_CASE("every bad client frame gets an error frame and the session goes on") {
    SessionPair p;
    p.establish();
    const std::vector<std::string> bad{
        "not json",
        "[1,2]",
        R"({"format":"text","data":"x"})",
        R"({"type":"hello","format":"text","data":"x"})",
        R"({"type":"data","data":"x"})",
        R"({"type":"data","format":"morse","data":"x"})",
        R"({"type":"data","format":"text"})",
        R"({"type":"data","format":"text","data":5})",
        R"({"type":"data","format":"binary","data":"***"})",
        R"({"type":"data","format":"text","data":"x","id":[1]})",
        R"({"type":"data","format":"text","data":"x","id":123456789012345678901234567890})",
        R"({"type":"data","type":"data","format":"text","data":"x"})",
        "",
    };
    for (const auto& frame : bad)
        p.a->on_text_frame(frame);
    p.a->on_text_frame(R"({"type":"data","format":"binary","data":"%%","id":"bad-1"})");
    const auto errors = p.wa->frames("error");
    REQUIRE(errors.size() == bad.size() + 1);
    for (const auto& e : errors) {
        CHECK(e.connection_id == "aaaaaaaaaaaaaaaa");
        CHECK_FALSE(e.message.empty());
    }
    CHECK(errors.back().id == MessageTag{std::string("bad-1")});
    CHECK_FALSE(p.wa->closed());
    p.a->on_text_frame(data_frame("text", "still here"));
    REQUIRE(run_until(p.io, [&] { return p.wb->frames("data").size() == 1; }));
    CHECK(p.wb->frames("data")[0].data == "still here");
    CHECK(p.wb->frames("error").empty());
}

TEST_CASE("an oversized frame gets an error frame and closes with 1009") {
    SessionOptions options;
    options.limits = Limits::for_message_size(1024);
    SessionPair p(options);
    p.establish();
    SECTION("text") {
        p.a->on_text_frame(data_frame("text", std::string(2000, 'y')));
    }
    SECTION("binary") {
        p.a->on_binary_frame(srmudp::ByteView(srmudp::Bytes(1025, 1)));
    }
    CHECK(p.wa->close_code == 1009);
    REQUIRE(p.wa->frames("error").size() == 1);
    CHECK(p.a->stats().websocket_open == false);
    p.a->on_text_frame(data_frame("text", "ignored after close"));
    CHECK(p.wa->close_calls == 1);
    // The session ended, so did its srmudp connection: the peer learns it was closed.
    REQUIRE(run_until(p.io, [&] { return p.wb->closed(); }));
    CHECK(p.wb->close_code == 1011);
    CHECK(p.wb->statuses().back() == "ERROR");
    CHECK(p.wb->frames("data").empty());
}

TEST_CASE("a wrong key at the peer gives ERROR - an error frame and close 1011") {
    // On loopback the core sees too few failed handshakes to report wrong_key early: it does so
    // at the connect deadline.
    SessionOptions options;
    options.connect_timeout = srmudp::seconds(2);
    SessionPair p(options, {}, "another-key");
    REQUIRE(run_until(p.io, [&] { return p.wa->closed() && p.wb->closed(); }));
    for (auto* ws : {p.wa.get(), p.wb.get()}) {
        CHECK(ws->statuses() == std::vector<std::string>{"CONNECTED", "UDP_WAITING", "ERROR"});
        CHECK(ws->close_code == 1011);
        const auto errors = ws->frames("error");
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].message.find("uses a different encryption key") != std::string::npos);
        for (const auto& t : ws->texts)
            CHECK(t.find("another-key") == std::string::npos);
        CHECK(ws->close_reason.find("another-key") == std::string::npos);
    }
    CHECK(p.a->stats().status == Status::error);
}

TEST_CASE("a peer that never answers gives ERROR after the connect timeout") {
    asio::io_context io;
    asio::ip::udp::socket silent(io,
                                 asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto endpoint = open_endpoint(io);
    auto ws = std::make_shared<FakeWebSocket>();
    SessionOptions options;
    options.connect_timeout = std::chrono::milliseconds(800);
    Session session(io, *endpoint, ws, request_to(silent.local_endpoint().port()),
                    "cccccccccccccccc", options);
    const auto started = std::chrono::steady_clock::now();
    session.start();
    session.on_text_frame(data_frame("text", "never delivered", MessageTag{std::string("q")}));
    REQUIRE(run_until(io, [&] { return ws->closed(); }));
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(700));
    CHECK(ws->statuses() == std::vector<std::string>{"CONNECTED", "UDP_WAITING", "ERROR"});
    CHECK(ws->close_code == 1011);
    const std::string peer = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
    CHECK(ws->close_reason.find("no answer from " + peer + " within 800 ms") == 0);
    const auto errors = ws->frames("error");
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].id == MessageTag{std::string("q")});  // failed message, then the session
    CHECK_FALSE(errors[1].id);
    CHECK(errors[1].message.find("no answer from " + peer) == 0);
    ws->check_no_key();
}

TEST_CASE("regular status frames carry stats while nothing changes") {
    SessionOptions options;
    options.status_interval = std::chrono::milliseconds(100);
    SessionPair p(options);
    p.establish();
    const std::size_t before = p.wa->frames("status").size();
    run_for(p.io, std::chrono::milliseconds(450));
    const auto all = p.wa->frames("status");
    std::vector<Frame> regular(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
    CHECK(regular.size() >= 2);
    CHECK(regular.size() <= 6);
    for (const auto& f : regular) {
        CHECK(f.has_stats);
        CHECK(f.status == "UDP_ESTABLISHED");
        CHECK(f.raw.find("\"rtt_ms\"") != std::string::npos);
    }
    for (std::size_t i = 0; i < before; ++i)
        CHECK_FALSE(all[i].has_stats);  // changes are announced without stats
}

TEST_CASE("status_interval zero sends no regular status") {
    SessionOptions options;
    options.status_interval = srmudp::Duration::zero();
    SessionPair p(options);
    p.establish();
    run_for(p.io, std::chrono::milliseconds(200));
    CHECK(p.wa->frames("status").size() == 3);
}

TEST_CASE("backpressure: a full send buffer pauses reading - on_writable resumes it") {
    srmudp::Config config;
    config.send_buffer_limit = 64 * 1024;
    SessionPair p({}, config);
    p.establish();
    constexpr int kTotal = 64;  // 1 MiB in 16 KiB messages through a 64 KiB buffer
    int fed = 0;
    std::size_t max_pending = 0;
    auto feed = [&] {
        while (fed < kTotal && !p.wa->paused) {
            srmudp::Bytes m(16 * 1024, static_cast<std::uint8_t>(fed));
            p.a->on_binary_frame(srmudp::ByteView(m));
            ++fed;
            max_pending = std::max(max_pending, p.a->stats().pending_bytes);
        }
        return fed == kTotal && !p.wa->paused;
    };
    REQUIRE(run_until(p.io, [&] { return feed() && p.wb->frames("data").size() == kTotal; }));
    CHECK(p.wa->pauses >= 1);
    CHECK(p.wa->resumes == p.wa->pauses);
    CHECK(max_pending == 16 * 1024);  // one message waits while reading is paused
    const auto at_b = p.wb->frames("data");
    for (int i = 0; i < kTotal; ++i) {
        const auto decoded = base64_decode(at_b[static_cast<std::size_t>(i)].data);
        REQUIRE(decoded);
        CHECK(*decoded == srmudp::Bytes(16 * 1024, static_cast<std::uint8_t>(i)));
    }
    CHECK(p.a->stats().pending_bytes == 0);
}

TEST_CASE("a slow client pauses srmudp receiving - the peer waits - nothing is lost") {
    SessionOptions options;
    options.max_websocket_buffered_bytes = 1000;
    SessionPair p(options);
    p.establish();
    p.wb->buffered = 1001;  // the client does not read
    constexpr int kTotal = 40;
    for (int i = 0; i < kTotal; ++i)
        p.a->on_text_frame(data_frame("text", "m" + std::to_string(i)));
    REQUIRE(run_until(p.io, [&] { return p.b->stats().receive_paused; }));
    run_for(p.io, std::chrono::milliseconds(300));
    // The first message filled the WebSocket past the limit: no more are taken from srmudp.
    CHECK(p.wb->frames("data").size() == 1);
    CHECK(p.b->stats().receive_pauses == 1);
    p.wb->buffered = 499;  // drained below half the limit
    REQUIRE(run_until(p.io, [&] { return p.wb->frames("data").size() == kTotal; }));
    const auto data = p.wb->frames("data");
    for (int i = 0; i < kTotal; ++i) {
        CHECK(data[static_cast<std::size_t>(i)].data == "m" + std::to_string(i));
        CHECK(data[static_cast<std::size_t>(i)].seq == static_cast<std::uint64_t>(i + 1));
    }
    CHECK_FALSE(p.b->stats().receive_paused);
}

TEST_CASE("a client that keeps sending while paused is closed with 1008 beyond the bound") {
    srmudp::Config config;
    config.send_buffer_limit = 32 * 1024;
    SessionOptions options;
    options.max_pending_bytes = 40 * 1024;
    SessionPair p(options, config);
    p.establish();
    const srmudp::Bytes m(16 * 1024, 9);
    for (int i = 0; i < 10 && !p.wa->closed(); ++i)
        p.a->on_binary_frame(srmudp::ByteView(m));
    CHECK(p.wa->paused);
    CHECK(p.wa->close_code == 1008);
    CHECK(p.wa->frames("error").size() == 1);
}

TEST_CASE("a client that leaves closes the srmudp connection - the peer reports it") {
    SessionPair p;
    p.establish();
    const std::size_t frames_before = p.wa->texts.size();
    p.a->on_websocket_closed();
    CHECK_FALSE(p.a->stats().websocket_open);
    REQUIRE(run_until(p.io, [&] { return p.wb->closed(); }));
    CHECK(p.wb->statuses().back() == "ERROR");
    CHECK(p.wb->close_code == 1011);
    CHECK(p.wb->close_reason.find("closed the connection") != std::string::npos);
    CHECK(p.wa->texts.size() == frames_before);  // nothing is sent to a closed WebSocket
    CHECK(p.wa->close_calls == 0);
    p.a->on_websocket_closed();  // twice is harmless
}

TEST_CASE("a session destroyed while its connection is busy calls nothing afterwards") {
    SessionPair p;
    p.establish();
    p.a->on_text_frame(data_frame("text", "in flight", MessageTag{std::string("z")}));
    const std::size_t frames_before = p.wa->texts.size();
    p.a.reset();
    REQUIRE(run_until(p.io, [&] { return p.wb->closed(); }));
    CHECK(p.wa->texts.size() == frames_before);
    CHECK(p.wb->close_reason.find("closed the connection") != std::string::npos);
}

TEST_CASE("a second pair of sessions between the same two endpoints runs beside the first") {
    SessionPair p;
    p.establish();
    // Its own key: each srmudp connection must find its own peer (channel 1 on both sides).
    const std::string key2 = "second-pair-key-K9";
    auto wa2 = std::make_shared<FakeWebSocket>();
    auto wb2 = std::make_shared<FakeWebSocket>();
    Session a2(p.io, *p.ea, wa2, request_to(p.eb->local_address().port, key2), "cccccccccccccccc");
    Session b2(p.io, *p.eb, wb2, request_to(p.ea->local_address().port, key2), "dddddddddddddddd");
    a2.start();
    b2.start();
    REQUIRE(run_until(p.io, [&] {
        return wa2->has_status("UDP_ESTABLISHED") && wb2->has_status("UDP_ESTABLISHED");
    }));
    p.a->on_text_frame(data_frame("text", "first pair"));
    a2.on_text_frame(data_frame("text", "second pair"));
    b2.on_text_frame(data_frame("text", "second pair, back"));
    p.b->on_text_frame(data_frame("text", "first pair, back"));
    REQUIRE(run_until(p.io, [&] {
        return p.wb->frames("data").size() == 1 && wb2->frames("data").size() == 1 &&
               p.wa->frames("data").size() == 1 && wa2->frames("data").size() == 1;
    }));
    CHECK(p.wb->frames("data")[0].data == "first pair");
    CHECK(wb2->frames("data")[0].data == "second pair");
    CHECK(p.wa->frames("data")[0].data == "first pair, back");
    CHECK(wa2->frames("data")[0].data == "second pair, back");
    const std::vector<std::string> expected{"CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"};
    for (auto* ws : {p.wa.get(), p.wb.get(), wa2.get(), wb2.get()}) {
        CHECK(ws->frames("error").empty());
        CHECK_FALSE(ws->closed());
        for (const auto& t : ws->texts)
            CHECK(t.find(key2) == std::string::npos);
    }
    // The first pair never saw a reconnect or a restart.
    CHECK(p.wa->statuses() == expected);
    CHECK(p.wb->statuses() == expected);
    CHECK(wa2->statuses() == expected);
    CHECK(wb2->statuses() == expected);
}

TEST_CASE("a blackout gives RECONNECTING - then UDP_ESTABLISHED - the message gets through") {
    // Two io_contexts: running only A's makes B silent without a CLOSE.
    asio::io_context io_a, io_b;
    srmudp::Config config;
    config.path_timeout = std::chrono::milliseconds(300);
    auto ea = open_endpoint(io_a, config);
    auto eb = open_endpoint(io_b, config);
    auto wa = std::make_shared<FakeWebSocket>();
    auto wb = std::make_shared<FakeWebSocket>();
    Session a(io_a, *ea, wa, request_to(eb->local_address().port), "aaaaaaaaaaaaaaaa");
    Session b(io_b, *eb, wb, request_to(ea->local_address().port), "bbbbbbbbbbbbbbbb");
    a.start();
    b.start();
    auto run_both = [&](const std::function<bool()>& pred) {
        return run_until(io_a, [&] {
            io_b.restart();
            io_b.run_for(std::chrono::milliseconds(5));
            return pred();
        });
    };
    REQUIRE(run_both(
        [&] { return wa->has_status("UDP_ESTABLISHED") && wb->has_status("UDP_ESTABLISHED"); }));
    a.on_text_frame(data_frame("text", "across the gap", MessageTag{std::string("g")}));
    REQUIRE(run_until(io_a, [&] { return wa->has_status("RECONNECTING"); }));
    REQUIRE(run_both([&] { return wa->statuses().back() == "UDP_ESTABLISHED"; }));
    CHECK(wa->statuses() == std::vector<std::string>{"CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED",
                                                     "RECONNECTING", "UDP_ESTABLISHED"});
    CHECK(wa->frames("status").back().message.find("re-established") != std::string::npos);
    REQUIRE(run_both([&] { return wa->frames("ack").size() == 1; }));
    REQUIRE(wb->frames("data").size() == 1);
    CHECK(wb->frames("data")[0].data == "across the gap");
    CHECK_FALSE(wa->closed());
    CHECK(a.stats().link.reconnects >= 1);
    wa->check_no_key();
    wb->check_no_key();
}

TEST_CASE("connection ids are 16 lowercase hex characters and differ") {
    const std::string a = make_connection_id();
    const std::string b = make_connection_id();
    CHECK(a.size() == 16);
    CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(a != b);
}
