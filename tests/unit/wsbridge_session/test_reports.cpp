// The session's words and numbers: failure texts name the peer and the cause, durations read
// naturally, link stats come from the right counters, close reasons fit a control frame.
#include <catch2/catch.hpp>

#include "session/reports.hpp"
#include "srmudp/error.hpp"

using namespace wsbridge;
using namespace wsbridge::session;

namespace {
const srmudp::PeerAddress kPeer = srmudp::PeerAddress::v4(1, 2, 3, 4, 5);

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("durations read as a person writes them") {
    CHECK(describe_duration(srmudp::seconds(30)) == "30 s");
    CHECK(describe_duration(srmudp::milliseconds(1500)) == "1.5 s");
    CHECK(describe_duration(srmudp::milliseconds(1250)) == "1.25 s");
    CHECK(describe_duration(srmudp::milliseconds(1005)) == "1.005 s");
    CHECK(describe_duration(srmudp::milliseconds(999)) == "999 ms");
    CHECK(describe_duration(srmudp::milliseconds(250)) == "250 ms");
    CHECK(describe_duration(srmudp::microseconds(10)) == "0 ms");
    CHECK(describe_duration(srmudp::seconds(-3)) == "0 ms");
}

TEST_CASE("failure messages name the peer and what went wrong") {
    using srmudp::error;
    const auto timeout = srmudp::seconds(30);
    CHECK(failure_message(error::wrong_key, kPeer, timeout) ==
          "the peer at 1.2.3.4:5 uses a different encryption key");
    CHECK(contains(failure_message(error::handshake_timeout, kPeer, timeout),
                   "no answer from 1.2.3.4:5 within 30 s"));
    CHECK(contains(failure_message(error::handshake_timeout, kPeer, srmudp::milliseconds(800)),
                   "within 800 ms"));
    CHECK(failure_message(error::peer_closed, kPeer, timeout) ==
          "the peer at 1.2.3.4:5 closed the connection");
    CHECK(contains(failure_message(error::idle_timeout, kPeer, timeout), "stopped answering"));
    CHECK(contains(failure_message(error::protocol_violation, kPeer, timeout),
                   "broke the srmudp protocol"));
    CHECK(contains(failure_message(error::malformed_packet, kPeer, timeout),
                   "broke the srmudp protocol"));
    CHECK(contains(failure_message(error::peer_message_too_large, kPeer, timeout), "larger"));
    CHECK(contains(failure_message(error::crypto_failure, kPeer, timeout),
                   "the connection to 1.2.3.4:5 failed: "));
    CHECK(failure_message({}, kPeer, timeout) == "the connection to 1.2.3.4:5 ended");
}

TEST_CASE("connect refusals and undelivered messages are explained") {
    using srmudp::error;
    CHECK(contains(connect_error_message(error::invalid_argument, kPeer),
                   "cannot reach its address family"));
    CHECK(contains(connect_error_message(error::empty_key, kPeer), "key is empty"));
    CHECK(contains(connect_error_message(std::make_error_code(std::errc::io_error), kPeer),
                   "cannot connect to 1.2.3.4:5: "));
    CHECK(contains(undelivered_message(error::closed_locally, kPeer), "was closed"));
    CHECK(contains(undelivered_message(error::connection_closed, kPeer), "was closed"));
    CHECK(contains(undelivered_message(error::peer_restarted, kPeer), "restarted"));
    CHECK(contains(undelivered_message(error::idle_timeout, kPeer),
                   "message not delivered to 1.2.3.4:5: "));
}

TEST_CASE("link stats take RTT in milliseconds and the connection's counters") {
    srmudp::ConnectionStats s;
    s.smoothed_rtt = srmudp::microseconds(1500);
    s.datagram_bytes_sent = 1000;
    s.datagram_bytes_received = 2000;
    s.messages_sent = 3;
    s.messages_received = 4;
    s.stream_bytes_retransmitted = 5;
    s.packets_lost = 6;
    const LinkStats l = to_link_stats(s);
    CHECK(l.rtt_ms == Approx(1.5));
    CHECK(l.bytes_sent == 1000);
    CHECK(l.bytes_received == 2000);
    CHECK(l.messages_sent == 3);
    CHECK(l.messages_received == 4);
    CHECK(l.retransmissions == 5);
    CHECK(l.packets_lost == 6);
}

TEST_CASE("close reasons fit 123 bytes without splitting a UTF-8 sequence") {
    CHECK(close_reason("") == "");
    CHECK(close_reason("short") == "short");
    const std::string exact(123, 'a');
    CHECK(close_reason(exact) == exact);
    CHECK(close_reason(exact + "b") == exact);
    // 122 ASCII bytes, then a 2-byte sequence that would straddle the limit: it is dropped whole.
    const std::string straddle = std::string(122, 'a') + "\xc3\xa9" + "tail";
    CHECK(close_reason(straddle) == std::string(122, 'a'));
    // A 4-byte sequence starting at byte 120 ends at 124: dropped whole as well.
    const std::string emoji = std::string(120, 'a') + "\xf0\x9f\x8c\x8d" + "zz";
    CHECK(close_reason(emoji) == std::string(120, 'a'));
    const std::string fits = std::string(119, 'a') + "\xf0\x9f\x8c\x8d" + "zz";
    CHECK(close_reason(fits) == std::string(119, 'a') + "\xf0\x9f\x8c\x8d");
}
