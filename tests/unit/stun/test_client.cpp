#include "srmudp/stun.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "stun/message.hpp"

using namespace srmudp;
using namespace srmudp::stun;

namespace {

const TimePoint kStart = TimePoint{} + seconds(100);
const PeerAddress kServer = PeerAddress::v4(192, 0, 2, 10, 3478);
const PeerAddress kMapped = PeerAddress::v4(203, 0, 113, 5, 61000);

TimePoint at_ms(long ms) {
    return kStart + milliseconds(ms);
}

// A client on a virtual clock that remembers the last request it sent.
struct Harness {
    SeededRandom random{7};
    StunClient client{random};
    std::vector<std::uint8_t> last_request;
    PeerAddress last_to;

    // Polls once at now; true if a request came out.
    bool poll(TimePoint now) {
        std::array<std::uint8_t, 64> buf{};
        PeerAddress to;
        const std::size_t n =
            client.poll_transmit(now, MutableByteView(buf.data(), buf.size()), to);
        if (n == 0) return false;
        last_request.assign(buf.begin(), buf.begin() + n);
        last_to = to;
        return true;
    }

    TransactionId last_id() const {
        TransactionId id{};
        REQUIRE_FALSE(decode_binding_request(ByteView(last_request), id));
        return id;
    }

    bool deliver(TimePoint now, const Bytes& datagram, const PeerAddress& from = kServer) {
        return client.receive(now, from, ByteView(datagram));
    }
};

}  // namespace

TEST_CASE("Requests follow the RFC 8489 schedule until the transaction times out",
          "[stun][client]") {
    Harness h;
    CHECK(h.client.next_deadline() == kNever);
    CHECK_FALSE(h.poll(kStart));
    h.client.start(kStart, kServer, at_ms(60000));
    const long sends[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
    for (long t : sends) {
        INFO("send at " << t << " ms");
        CHECK(h.client.next_deadline() == at_ms(t));
        CHECK_FALSE(h.poll(at_ms(t) - milliseconds(1)));
        REQUIRE(h.poll(at_ms(t)));
        CHECK_FALSE(h.poll(at_ms(t)));
        CHECK(h.last_to == kServer);
        CHECK(h.last_request.size() == 28);
        h.client.handle_timeout(at_ms(t));
        CHECK_FALSE(h.client.finished());
    }
    // Rm * RTO = 16 * 500 ms after the last request.
    CHECK(h.client.next_deadline() == at_ms(39500));
    CHECK_FALSE(h.poll(at_ms(39000)));
    h.client.handle_timeout(at_ms(39499));
    CHECK_FALSE(h.client.finished());
    h.client.handle_timeout(at_ms(39500));
    REQUIRE(h.client.finished());
    CHECK(h.client.result_error() == std::make_error_code(std::errc::timed_out));
    CHECK_FALSE(h.client.mapped_address());
    CHECK(h.client.next_deadline() == kNever);
    CHECK_FALSE(h.poll(at_ms(50000)));
}

TEST_CASE("Every retransmission repeats the same transaction", "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(60000));
    REQUIRE(h.poll(at_ms(0)));
    const auto first = h.last_request;
    REQUIRE(h.poll(at_ms(500)));
    CHECK(h.last_request == first);
    CHECK(looks_like_stun(ByteView(first)));
}

TEST_CASE("The caller's deadline cuts the schedule short", "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(2000));
    CHECK(h.poll(at_ms(0)));
    CHECK(h.poll(at_ms(500)));
    CHECK(h.poll(at_ms(1500)));
    // The next send would be at 3500 ms, after the deadline.
    CHECK(h.client.next_deadline() == at_ms(2000));
    h.client.handle_timeout(at_ms(1999));
    CHECK_FALSE(h.client.finished());
    h.client.handle_timeout(at_ms(2000));
    REQUIRE(h.client.finished());
    CHECK(h.client.result_error() == std::make_error_code(std::errc::timed_out));
}

TEST_CASE("poll_transmit at or after the deadline sends nothing and ends the transaction",
          "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(400));
    REQUIRE(h.poll(at_ms(0)));
    CHECK_FALSE(h.poll(at_ms(600)));
    CHECK(h.client.finished());
    CHECK(h.client.result_error() == std::make_error_code(std::errc::timed_out));

    h.client.start(kStart, kServer, kStart);  // a deadline that has already come
    CHECK_FALSE(h.poll(kStart));
    CHECK(h.client.finished());
}

TEST_CASE("Retransmissions are timed from the actual send", "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(60000));
    REQUIRE(h.poll(at_ms(0)));
    REQUIRE(h.poll(at_ms(700)));  // the caller was 200 ms late
    CHECK(h.client.next_deadline() == at_ms(1700));
    CHECK_FALSE(h.poll(at_ms(1699)));
    CHECK(h.poll(at_ms(1700)));
}

TEST_CASE("A buffer too small for the request leaves it due", "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(60000));
    std::array<std::uint8_t, 27> small{};
    PeerAddress to;
    CHECK(h.client.poll_transmit(kStart, MutableByteView(small.data(), small.size()), to) == 0);
    CHECK(h.client.next_deadline() == kStart);
    CHECK(h.poll(kStart));
}

TEST_CASE("A success response ends the transaction with the mapped address", "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(60000));
    REQUIRE(h.poll(at_ms(0)));
    REQUIRE(h.poll(at_ms(500)));
    CHECK(h.deliver(at_ms(600), encode_binding_success(h.last_id(), kMapped)));
    REQUIRE(h.client.finished());
    CHECK_FALSE(h.client.result_error());
    CHECK(h.client.mapped_address() == kMapped);
    CHECK(h.client.stun_error_code() == 0);
    CHECK(h.client.next_deadline() == kNever);
    CHECK_FALSE(h.poll(at_ms(1500)));
    // A duplicate response later changes nothing.
    CHECK(h.deliver(at_ms(700), encode_binding_success(h.last_id(), kServer)));
    CHECK(h.client.mapped_address() == kMapped);
}

TEST_CASE("An IPv6 server and mapped address work alike", "[stun][client]") {
    Harness h;
    const auto server = PeerAddress::parse("[2001:db8::3478]:3478");
    const auto mapped = PeerAddress::parse("[2001:db8:ffff::1]:50000");
    REQUIRE(server);
    REQUIRE(mapped);
    h.client.start(kStart, *server, at_ms(60000));
    REQUIRE(h.poll(kStart));
    CHECK(h.last_to == *server);
    CHECK(h.deliver(at_ms(10), encode_binding_success(h.last_id(), *mapped), *server));
    CHECK(h.client.mapped_address() == mapped);
}

TEST_CASE("Responses from elsewhere - for other transactions or corrupted are ignored",
          "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(60000));
    REQUIRE(h.poll(kStart));
    const TransactionId id = h.last_id();

    // Right transaction, wrong source address or port.
    auto other_port = kServer;
    other_port.port = 3479;
    CHECK(h.deliver(at_ms(10), encode_binding_success(id, kMapped), other_port));
    CHECK(h.deliver(at_ms(10), encode_binding_success(id, kMapped),
                    PeerAddress::v4(192, 0, 2, 11, 3478)));
    // Another transaction ID.
    TransactionId other = id;
    other[11] ^= 0xFF;
    CHECK(h.deliver(at_ms(10), encode_binding_success(other, kMapped)));
    // A corrupted response (the FINGERPRINT no longer matches) and a request.
    auto corrupted = encode_binding_success(id, kMapped);
    corrupted[25] ^= 0x01;
    CHECK(h.deliver(at_ms(10), corrupted));
    CHECK(h.deliver(at_ms(10), encode_binding_request(id)));
    CHECK_FALSE(h.client.finished());

    // The real answer still works afterwards.
    CHECK(h.deliver(at_ms(20), encode_binding_success(id, kMapped)));
    CHECK(h.client.mapped_address() == kMapped);
}

TEST_CASE("receive returns false for datagrams that are not STUN", "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(60000));
    REQUIRE(h.poll(kStart));
    // An srmudp DATA packet header (first byte 10xxxxxx) with a body.
    Bytes srmudp_packet = {0x83, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 9, 9};
    CHECK_FALSE(h.deliver(at_ms(10), srmudp_packet));
    // A STUN response with its first bits forced to 01.
    auto response = encode_binding_success(h.last_id(), kMapped);
    response[0] |= 0x40;
    CHECK_FALSE(h.deliver(at_ms(10), response));
    CHECK_FALSE(h.deliver(at_ms(10), Bytes{}));
    CHECK_FALSE(h.client.finished());
    // Before any start, STUN is still recognised (and ignored).
    Harness idle;
    CHECK(idle.deliver(kStart, encode_binding_success(h.last_id(), kMapped)));
    CHECK_FALSE(idle.client.finished());
}

TEST_CASE("An error response ends the transaction with protocol_error", "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(60000));
    REQUIRE(h.poll(kStart));
    CHECK(h.deliver(at_ms(10), encode_binding_error(h.last_id(), 401, "Unauthorized")));
    REQUIRE(h.client.finished());
    CHECK(h.client.result_error() == std::make_error_code(std::errc::protocol_error));
    CHECK(h.client.stun_error_code() == 401);
    CHECK(h.client.stun_error_reason() == "Unauthorized");
    CHECK_FALSE(h.client.mapped_address());
}

TEST_CASE("A success response without an address is a protocol error", "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(60000));
    REQUIRE(h.poll(kStart));
    // Header only: type 0x0101, length 0.
    Bytes response = {0x01, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
    const TransactionId id = h.last_id();
    response.insert(response.end(), id.begin(), id.end());
    CHECK(h.deliver(at_ms(10), response));
    REQUIRE(h.client.finished());
    CHECK(h.client.result_error() == std::make_error_code(std::errc::protocol_error));
    CHECK(h.client.stun_error_code() == 0);
}

TEST_CASE("A response after the deadline is too late", "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(1000));
    REQUIRE(h.poll(kStart));
    CHECK(h.deliver(at_ms(1000), encode_binding_success(h.last_id(), kMapped)));
    REQUIRE(h.client.finished());
    CHECK(h.client.result_error() == std::make_error_code(std::errc::timed_out));
    CHECK_FALSE(h.client.mapped_address());
}

TEST_CASE("A new start replaces the running transaction and forgets old results",
          "[stun][client]") {
    Harness h;
    h.client.start(kStart, kServer, at_ms(60000));
    REQUIRE(h.poll(kStart));
    const TransactionId first = h.last_id();

    const PeerAddress second_server = PeerAddress::v4(192, 0, 2, 20, 3478);
    h.client.start(at_ms(100), second_server, at_ms(60000));
    CHECK(h.client.next_deadline() == at_ms(100));
    REQUIRE(h.poll(at_ms(100)));
    CHECK(h.last_to == second_server);
    const TransactionId second = h.last_id();
    CHECK(second != first);
    // The first server's answer to the first transaction no longer counts.
    CHECK(h.deliver(at_ms(150), encode_binding_success(first, kMapped), kServer));
    CHECK(h.deliver(at_ms(150), encode_binding_success(first, kMapped), second_server));
    CHECK_FALSE(h.client.finished());
    CHECK(h.deliver(at_ms(160), encode_binding_error(second, 500, "Server Error"), second_server));
    REQUIRE(h.client.finished());
    CHECK(h.client.stun_error_code() == 500);

    // Restarting after an error clears it.
    h.client.start(at_ms(200), kServer, at_ms(60000));
    CHECK_FALSE(h.client.finished());
    CHECK_FALSE(h.client.result_error());
    CHECK(h.client.stun_error_code() == 0);
    CHECK(h.client.stun_error_reason().empty());
    REQUIRE(h.poll(at_ms(200)));
    CHECK(h.deliver(at_ms(210), encode_binding_success(h.last_id(), kMapped)));
    CHECK(h.client.mapped_address() == kMapped);
}
