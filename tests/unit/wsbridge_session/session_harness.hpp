// Shared by the session tests: a fake WebSocket that records every frame, bounded waits on an
// io_context, and a pair of sessions on two srmudp Endpoints on 127.0.0.1 that connect to each
// other.
#pragma once

#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "srmudp/endpoint.hpp"
#include "wsbridge/session.hpp"

namespace harness {

using namespace wsbridge;

namespace {

inline constexpr const char* kKey = "bridge-test-key-7Q2";

// One frame the session sent, parsed.
struct Frame {
    std::string type, status, format, data, message, connection_id;
    bool has_stats = false;
    std::uint64_t seq = 0;  // 0: absent
    std::optional<std::uint64_t> received;
    std::optional<MessageTag> id;
    std::string raw;
};

inline Frame parse_frame(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc.IsObject());
    Frame f;
    f.raw = text;
    auto str = [&](const char* name) {
        return doc.HasMember(name) && doc[name].IsString()
                   ? std::string(doc[name].GetString(), doc[name].GetStringLength())
                   : std::string();
    };
    f.type = str("type");
    f.status = str("status");
    f.format = str("format");
    f.data = str("data");
    f.message = str("message");
    f.connection_id = str("connection_id");
    f.has_stats = doc.HasMember("stats") && doc["stats"].IsObject();
    if (doc.HasMember("seq") && doc["seq"].IsUint64()) f.seq = doc["seq"].GetUint64();
    if (doc.HasMember("received") && doc["received"].IsUint64())
        f.received = doc["received"].GetUint64();
    if (doc.HasMember("id")) {
        if (doc["id"].IsString()) f.id = MessageTag{std::string(doc["id"].GetString())};
        if (doc["id"].IsInt64()) f.id = MessageTag{doc["id"].GetInt64()};
    }
    return f;
}

class FakeWebSocket final : public WebSocketSide {
  public:
    std::vector<std::string> texts;
    std::vector<srmudp::Bytes> binaries;
    int close_calls = 0;
    std::uint16_t close_code = 0;
    std::string close_reason;
    bool paused = false;
    int pauses = 0;
    int resumes = 0;
    std::size_t buffered = 0;

    void send_text(std::string frame) override {
        CHECK(close_calls == 0);  // nothing after close
        texts.push_back(std::move(frame));
    }
    void send_binary(srmudp::Bytes frame) override { binaries.push_back(std::move(frame)); }
    void close(std::uint16_t code, std::string reason) override {
        ++close_calls;
        close_code = code;
        close_reason = std::move(reason);
    }
    void pause_reading() override {
        CHECK_FALSE(paused);
        paused = true;
        ++pauses;
    }
    void resume_reading() override {
        CHECK(paused);
        paused = false;
        ++resumes;
    }
    std::size_t buffered_amount() const override { return buffered; }

    std::vector<Frame> frames(const std::string& type) const {
        std::vector<Frame> out;
        for (const auto& t : texts) {
            Frame f = parse_frame(t);
            if (f.type == type) out.push_back(std::move(f));
        }
        return out;
    }
    std::vector<std::string> statuses() const {
        std::vector<std::string> out;
        for (const auto& f : frames("status"))
            if (!f.has_stats) out.push_back(f.status);
        return out;
    }
    bool has_status(const std::string& status) const {
        const auto s = statuses();
        return std::find(s.begin(), s.end(), status) != s.end();
    }
    bool closed() const { return close_calls > 0; }
    void check_no_key() const {
        for (const auto& t : texts)
            CHECK(t.find(kKey) == std::string::npos);
        CHECK(close_reason.find(kKey) == std::string::npos);
    }
};

inline bool run_until(asio::io_context& io, const std::function<bool()>& pred,
                      std::chrono::milliseconds limit = std::chrono::milliseconds(15000)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.restart();
        io.run_for(std::chrono::milliseconds(5));
    }
    return pred();
}

inline void run_for(asio::io_context& io, std::chrono::milliseconds d) {
    run_until(
        io, [] { return false; }, d);
}

inline std::unique_ptr<srmudp::Endpoint> open_endpoint(asio::io_context& io,
                                                       const srmudp::Config& config = {}) {
    srmudp::EndpointOptions o;
    o.bind_address = "127.0.0.1";
    o.config = config;
    std::error_code ec;
    auto e = srmudp::Endpoint::open(io, o, ec);
    INFO(ec.message());
    REQUIRE(e);
    return e;
}

// extra: more query parameters, e.g. "&client_id=c1".
inline ProxyRequest request_to(std::uint16_t port, const std::string& key = kKey,
                               const std::string& extra = "") {
    auto parsed = parse_proxy_request("/v0/ws/proxy?remote_host=127.0.0.1&remote_port=" +
                                          std::to_string(port) + "&encryption_key=" + key + extra,
                                      std::nullopt);
    REQUIRE(std::holds_alternative<ProxyRequest>(parsed));
    return std::get<ProxyRequest>(std::move(parsed));
}

inline std::string data_frame(const std::string& format, const std::string& data,
                              const std::optional<MessageTag>& id = std::nullopt) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    w.StartObject();
    w.Key("type");
    w.String("data");
    w.Key("format");
    w.String(format.data(), static_cast<rapidjson::SizeType>(format.size()));
    w.Key("data");
    w.String(data.data(), static_cast<rapidjson::SizeType>(data.size()));
    if (id) {
        w.Key("id");
        if (auto* s = std::get_if<std::string>(&id->value))
            w.String(s->c_str());
        else
            w.Int64(std::get<std::int64_t>(id->value));
    }
    w.EndObject();
    return out.GetString();
}

// Two sessions, A and B, on two endpoints, each connecting to the other.
struct SessionPair {
    asio::io_context io;
    std::unique_ptr<srmudp::Endpoint> ea, eb;
    std::shared_ptr<FakeWebSocket> wa = std::make_shared<FakeWebSocket>();
    std::shared_ptr<FakeWebSocket> wb = std::make_shared<FakeWebSocket>();
    std::unique_ptr<Session> a, b;

    explicit SessionPair(const SessionOptions& options = {}, const srmudp::Config& config = {},
                         const std::string& key_b = kKey, const std::string& extra_a = "",
                         const std::string& extra_b = "") {
        ea = open_endpoint(io, config);
        eb = open_endpoint(io, config);
        a = std::make_unique<Session>(io, *ea, wa,
                                      request_to(eb->local_address().port, kKey, extra_a),
                                      "aaaaaaaaaaaaaaaa", options);
        b = std::make_unique<Session>(io, *eb, wb,
                                      request_to(ea->local_address().port, key_b, extra_b),
                                      "bbbbbbbbbbbbbbbb", options);
        a->start();
        b->start();
    }
    bool established() const {
        return wa->has_status("UDP_ESTABLISHED") && wb->has_status("UDP_ESTABLISHED");
    }
    void establish() {
        REQUIRE(run_until(io, [&] { return established(); }));
    }
    ~SessionPair() {
        wa->check_no_key();
        wb->check_no_key();
    }
};

}  // namespace

}  // namespace harness
