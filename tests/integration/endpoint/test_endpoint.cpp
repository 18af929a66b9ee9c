// srmudp::Endpoint on real UDP sockets over loopback (IPv4, IPv6, dual-stack), with a STUN
// responder sharing the path. Every wait is bounded by io_context::run_for.
#include <catch2/catch.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <map>
#include <string>

#include "srmudp/endpoint.hpp"
#include "srmudp/error.hpp"
#include "stun/message.hpp"

using namespace srmudp;

namespace {

std::string text_of(const Message& m) {
    return std::string(m.data.begin(), m.data.end());
}

struct Recorder {
    std::vector<ConnectionState> states;
    std::vector<std::error_code> reasons;
    std::vector<Message> messages;
    std::vector<MessageId> delivered;
    std::vector<MessageId> failed;
    int writable = 0;

    ConnectionHandlers handlers() {
        ConnectionHandlers h;
        h.on_state = [this](ConnectionState s, std::error_code r) {
            states.push_back(s);
            reasons.push_back(r);
        };
        h.on_message = [this](Message&& m) { messages.push_back(std::move(m)); };
        h.on_delivered = [this](MessageId id) { delivered.push_back(id); };
        h.on_failed = [this](MessageId id, std::error_code) { failed.push_back(id); };
        h.on_writable = [this] { ++writable; };
        return h;
    }
    bool reached(ConnectionState s) const {
        return std::find(states.begin(), states.end(), s) != states.end();
    }
};

// Runs the io_context until pred() or the wall-clock limit.
bool run_until(asio::io_context& io, const std::function<bool()>& pred,
               std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.restart();
        io.run_for(std::chrono::milliseconds(5));
    }
    return pred();
}

std::unique_ptr<Endpoint> open_on(asio::io_context& io, const std::string& bind) {
    EndpointOptions o;
    o.bind_address = bind;
    std::error_code ec;
    auto e = Endpoint::open(io, o, ec);
    INFO(ec.message());
    REQUIRE(e);
    return e;
}

PeerAddress loopback_of(const Endpoint& e, const std::string& ip) {
    return *PeerAddress::from_ip(ip, e.local_address().port);
}

void exchange_both_ways(const std::string& bind_a, const std::string& bind_b,
                        const std::string& ip_a, const std::string& ip_b) {
    asio::io_context io;
    auto a = open_on(io, bind_a);
    auto b = open_on(io, bind_b);
    Recorder ra, rb;
    std::error_code ec;
    auto ca = a->connect(loopback_of(*b, ip_b), "loopback key", ec);
    REQUIRE(ca);
    auto cb = b->connect(loopback_of(*a, ip_a), "loopback key", ec);
    REQUIRE(cb);
    ca->set_handlers(ra.handlers());
    cb->set_handlers(rb.handlers());
    MessageId id = 0;
    REQUIRE_FALSE(ca->send(MessageKind::text, as_bytes("from a"), id));
    REQUIRE_FALSE(cb->send(MessageKind::binary, as_bytes("from b"), id));
    REQUIRE(run_until(io, [&] { return ra.delivered.size() == 1 && rb.delivered.size() == 1; }));
    REQUIRE(rb.messages.size() == 1);
    CHECK(text_of(rb.messages[0]) == "from a");
    CHECK(rb.messages[0].kind == MessageKind::text);
    REQUIRE(ra.messages.size() == 1);
    CHECK(text_of(ra.messages[0]) == "from b");
    CHECK(ra.messages[0].kind == MessageKind::binary);
    ca->close(5, "bye");
    REQUIRE(run_until(io, [&] { return rb.reached(ConnectionState::closed); }));
    CHECK(rb.reasons.back() == error::peer_closed);
}

}  // namespace

TEST_CASE("two endpoints exchange messages over IPv4 loopback") {
    exchange_both_ways("127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1");
}

TEST_CASE("two endpoints exchange messages over IPv6 loopback") {
    exchange_both_ways("::1", "::1", "::1", "::1");
}

TEST_CASE("a dual-stack endpoint talks to an IPv4-only endpoint") {
    exchange_both_ways("::", "127.0.0.1", "127.0.0.1", "127.0.0.1");
}

TEST_CASE("listen accepts a peer and the accepted connection gets handlers in on_accept") {
    asio::io_context io;
    auto server = open_on(io, "127.0.0.1");
    auto client = open_on(io, "127.0.0.1");
    Recorder rs, rc;
    std::shared_ptr<Connection> accepted;
    REQUIRE_FALSE(server->listen("listen key", [&](std::shared_ptr<Connection> c) {
        accepted = c;
        c->set_handlers(rs.handlers());
    }));
    std::error_code ec;
    auto cc = client->connect(server->local_address(), "listen key", ec);
    REQUIRE(cc);
    cc->set_handlers(rc.handlers());
    MessageId id = 0;
    for (int i = 0; i < 100; ++i) {
        REQUIRE_FALSE(cc->send(MessageKind::text, as_bytes("m" + std::to_string(i)), id));
    }
    REQUIRE(run_until(io, [&] { return rc.delivered.size() == 100; }));
    REQUIRE(accepted);
    REQUIRE(rs.messages.size() == 100);
    for (int i = 0; i < 100; ++i)
        CHECK(text_of(rs.messages[i]) == "m" + std::to_string(i));
    CHECK(accepted->remote_address().port == client->local_address().port);
}

TEST_CASE("a wrong key is reported as wrong_key and never established") {
    asio::io_context io;
    auto a = open_on(io, "127.0.0.1");
    auto b = open_on(io, "127.0.0.1");
    Recorder ra, rb;
    std::error_code ec;
    // The deadline is far away: both sides must find out from the failing handshakes, fast.
    auto ca = a->connect(b->local_address(), "key one", ec, seconds(30));
    auto cb = b->connect(a->local_address(), "key two", ec, seconds(30));
    REQUIRE(ca);
    REQUIRE(cb);
    ca->set_handlers(ra.handlers());
    cb->set_handlers(rb.handlers());
    REQUIRE(run_until(
        io,
        [&] { return ra.reached(ConnectionState::closed) && rb.reached(ConnectionState::closed); },
        std::chrono::milliseconds(6000)));
    CHECK_FALSE(ra.reached(ConnectionState::established));
    CHECK_FALSE(rb.reached(ConnectionState::established));
    CHECK(ra.reasons.back() == error::wrong_key);
    CHECK(rb.reasons.back() == error::wrong_key);
}

TEST_CASE("backpressure: a full send buffer refuses - then on_writable lets the rest through") {
    asio::io_context io;
    EndpointOptions o;
    o.bind_address = "127.0.0.1";
    o.config.send_buffer_limit = 256 * 1024;
    std::error_code ec;
    auto a = Endpoint::open(io, o, ec);
    auto b = Endpoint::open(io, o, ec);
    REQUIRE(a);
    REQUIRE(b);
    Recorder ra, rb;
    auto ca = a->connect(b->local_address(), "bp key", ec);
    auto cb = b->connect(a->local_address(), "bp key", ec);
    ca->set_handlers(ra.handlers());
    cb->set_handlers(rb.handlers());
    const Bytes chunk(32 * 1024, 0x5a);
    int queued = 0, refused = 0;
    const int total = 64;  // 2 MiB through a 256 KiB buffer
    std::function<void()> fill = [&] {
        MessageId id = 0;
        while (queued < total) {
            auto e = ca->send(MessageKind::binary, ByteView(chunk), id);
            if (e == error::send_buffer_full) {
                ++refused;
                return;
            }
            REQUIRE_FALSE(e);
            ++queued;
        }
    };
    auto handlers = ra.handlers();
    handlers.on_writable = [&] {
        ++ra.writable;
        fill();
    };
    ca->set_handlers(handlers);
    fill();
    CHECK(refused > 0);
    CHECK(ca->buffered_amount() <= o.config.send_buffer_limit);
    REQUIRE(run_until(io, [&] { return static_cast<int>(rb.messages.size()) == total; }));
    CHECK(ra.writable > 0);
    for (const auto& m : rb.messages)
        CHECK(m.data == chunk);
}

TEST_CASE("discover_public_address uses the endpoint's own socket - beside a live connection") {
    asio::io_context io;
    auto a = open_on(io, "127.0.0.1");
    auto b = open_on(io, "127.0.0.1");
    // A minimal STUN responder: answers each Binding request with the source address it saw.
    asio::ip::udp::socket stun(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::array<std::uint8_t, 1500> buf{};
    asio::ip::udp::endpoint from;
    int stun_requests = 0;
    std::function<void()> serve = [&] {
        stun.async_receive_from(asio::buffer(buf), from, [&](std::error_code ec, std::size_t n) {
            if (ec) return;
            stun::TransactionId id{};
            if (!stun::decode_binding_request(ByteView(buf.data(), n), id)) {
                ++stun_requests;
                auto mapped = PeerAddress::from_ip(from.address().to_string(), from.port());
                auto reply = stun::encode_binding_success(id, *mapped);
                stun.send_to(asio::buffer(reply), from);
            }
            serve();
        });
    };
    serve();
    Recorder ra, rb;
    std::error_code ec;
    auto ca = a->connect(b->local_address(), "stun key", ec);
    auto cb = b->connect(a->local_address(), "stun key", ec);
    ca->set_handlers(ra.handlers());
    cb->set_handlers(rb.handlers());
    REQUIRE(run_until(io, [&] { return ra.reached(ConnectionState::established); }));

    std::error_code stun_ec = make_error_code(error::internal_error);
    PeerAddress discovered;
    bool done = false;
    const PeerAddress server = *PeerAddress::from_ip("127.0.0.1", stun.local_endpoint().port());
    a->discover_public_address(server, seconds(3), [&](std::error_code e, PeerAddress addr) {
        stun_ec = e;
        discovered = addr;
        done = true;
    });
    MessageId id = 0;
    REQUIRE_FALSE(ca->send(MessageKind::text, as_bytes("still flowing"), id));
    REQUIRE(run_until(io, [&] { return done && rb.messages.size() == 1; }));
    CHECK_FALSE(stun_ec);
    CHECK(stun_requests >= 1);
    CHECK(discovered == a->local_address());  // no NAT on loopback: the socket's own address
    CHECK(text_of(rb.messages[0]) == "still flowing");
}

TEST_CASE("discover_public_address times out when nobody answers") {
    asio::io_context io;
    auto a = open_on(io, "127.0.0.1");
    asio::ip::udp::socket silent(io,
                                 asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::error_code result;
    bool done = false;
    a->discover_public_address(*PeerAddress::from_ip("127.0.0.1", silent.local_endpoint().port()),
                               milliseconds(600), [&](std::error_code e, PeerAddress) {
                                   result = e;
                                   done = true;
                               });
    REQUIRE(run_until(
        io, [&] { return done; }, std::chrono::milliseconds(5000)));
    CHECK(result == std::errc::timed_out);
}

TEST_CASE("open refuses a bind address that is not an IP literal - and a port in use") {
    asio::io_context io;
    EndpointOptions o;
    o.bind_address = "localhost";
    std::error_code ec;
    CHECK_FALSE(Endpoint::open(io, o, ec));
    CHECK(ec == std::errc::invalid_argument);
    auto first = open_on(io, "127.0.0.1");
    o.bind_address = "127.0.0.1";
    o.port = first->local_address().port;
    CHECK_FALSE(Endpoint::open(io, o, ec));
    CHECK(ec == std::errc::address_in_use);
}

TEST_CASE("pause_receiving stops the sender by flow control - resume_receiving delivers in order") {
    asio::io_context io;
    EndpointOptions o;
    o.bind_address = "127.0.0.1";
    o.config.receive_window = 64 * 1024;
    o.config.send_buffer_limit = 256 * 1024;
    std::error_code ec;
    auto a = Endpoint::open(io, o, ec);
    auto b = Endpoint::open(io, o, ec);
    REQUIRE(a);
    REQUIRE(b);
    Recorder ra, rb;
    auto ca = a->connect(b->local_address(), "pause key", ec);
    auto cb = b->connect(a->local_address(), "pause key", ec);
    REQUIRE(ca);
    REQUIRE(cb);
    ca->set_handlers(ra.handlers());
    cb->set_handlers(rb.handlers());
    REQUIRE(run_until(io, [&] { return rb.reached(ConnectionState::established); }));
    cb->pause_receiving();
    std::uint32_t next = 0;
    const auto fill = [&] {
        for (;;) {
            Bytes m(8 * 1024, 0);
            for (std::size_t k = 0; k < 4; ++k)
                m[k] = static_cast<std::uint8_t>(next >> (8 * k));
            MessageId id = 0;
            if (ca->send(MessageKind::binary, ByteView(m), id) == error::send_buffer_full) return;
            ++next;
        }
    };
    fill();
    run_until(
        io, [] { return false; }, std::chrono::milliseconds(500));
    fill();
    const std::size_t buffered = ca->buffered_amount();
    run_until(
        io, [] { return false; }, std::chrono::milliseconds(500));
    CHECK(rb.messages.empty());
    CHECK(ca->buffered_amount() == buffered);  // stuck: flow control, not the network
    CHECK(ca->stats().stream_bytes_sent <= o.config.receive_window + 8 * 1024 + 16);

    cb->resume_receiving();
    REQUIRE(
        run_until(io, [&] { return rb.messages.size() == next && ra.delivered.size() == next; }));
    for (std::uint32_t i = 0; i < rb.messages.size(); ++i) {
        std::uint32_t seq = 0;
        for (std::size_t k = 0; k < 4; ++k)
            seq |= static_cast<std::uint32_t>(rb.messages[i].data[k]) << (8 * k);
        REQUIRE(seq == i);
    }
}
