// srmudp::StunClient: learns this endpoint's public address with a STUN Binding transaction
// (RFC 8489), over the same UDP socket the srmudp connections use.
//
// Peers must be given the address their packets will come from; only a request sent from the
// endpoint's own socket shows it. The client is sans-IO like the rest of the core: the caller
// owns the socket and the clock, passes the time into every call and sends what it is given.
// STUN datagrams are told apart from srmudp packets by their first byte (RFC 7983), so the
// caller offers each non-srmudp datagram to receive().
//
// Typical use:
//   client.start(now, server, now + seconds(10));
//   loop until client.finished():
//     while (auto n = client.poll_transmit(now, buf, to)) socket.send_to(buf[0..n), to);
//     on a datagram whose first byte is not 10xxxxxx: client.receive(now, from, d);
//     at client.next_deadline(): client.handle_timeout(now);
//   then client.mapped_address() or client.result_error().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include "srmudp/address.hpp"
#include "srmudp/bytes.hpp"
#include "srmudp/random.hpp"
#include "srmudp/time.hpp"

namespace srmudp {

// One Binding transaction at a time; a new start() abandons the previous one.
class StunClient {
  public:
    // Transaction IDs are drawn from random, which must outlive the client.
    explicit StunClient(Random& random);

    // Starts a Binding transaction towards server. Requests are retransmitted as RFC 8489 6.2.1
    // says (RTO 500 ms doubling after each send, 7 sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s,
    // then 16 * 500 ms more, so a timeout at 39.5 s), or the transaction ends at deadline if that
    // is earlier. Forgets the result of any earlier transaction.
    void start(TimePoint now, const PeerAddress& server, TimePoint deadline);

    // Call when next_deadline() may have passed and before waiting: if a request is due, writes
    // it to out, sets to, and returns its size; returns 0 if none is due or out is too small
    // (the request then stays due). At most one request per call.
    std::size_t poll_transmit(TimePoint now, MutableByteView out, PeerAddress& to);

    // Call for each received datagram that is not srmudp. Returns true if it is a STUN message
    // (consumed: the caller drops it), false if not. Only a valid response from the server with
    // the current transaction ID ends the transaction; other STUN messages are ignored.
    bool receive(TimePoint now, const PeerAddress& from, ByteView datagram);

    // When handle_timeout() or poll_transmit() next has work: kNever when no transaction runs.
    TimePoint next_deadline() const;
    // Ends the transaction with std::errc::timed_out if its deadline or last wait has passed.
    void handle_timeout(TimePoint now);

    // True once a started transaction has ended, with a mapped address or an error.
    bool finished() const { return state_ == State::finished; }
    // Empty while running and on success; std::errc::timed_out when no response came in time;
    // std::errc::protocol_error for a Binding error response (see stun_error_code()) or a
    // success response without a mapped address.
    std::error_code result_error() const { return result_error_; }
    // The public (server-reflexive) address the server saw, once finished without error.
    std::optional<PeerAddress> mapped_address() const { return mapped_address_; }
    // ERROR-CODE of a Binding error response (300..699, e.g. 400), 0 if none was received.
    int stun_error_code() const { return stun_error_code_; }
    // Its reason phrase as the server sent it (may be empty).
    const std::string& stun_error_reason() const { return stun_error_reason_; }

  private:
    enum class State : std::uint8_t { idle, running, finished };

    TimePoint timeout_at() const;
    void expire_if_due(TimePoint now);
    void finish(std::error_code ec);

    Random* random_;
    State state_ = State::idle;
    PeerAddress server_;
    std::array<std::uint8_t, 12> transaction_id_{};
    Bytes request_;
    int requests_sent_ = 0;
    Duration rto_{};
    TimePoint next_send_at_ = kNever;
    TimePoint deadline_ = kNever;
    TimePoint last_wait_end_ = kNever;  // set when the last request has gone out
    std::error_code result_error_;
    std::optional<PeerAddress> mapped_address_;
    int stun_error_code_ = 0;
    std::string stun_error_reason_;
};

}  // namespace srmudp
