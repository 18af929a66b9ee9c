// STUN Binding client transaction over UDP, RFC 8489 section 6.2.1 (retransmission) and 6.3
// (processing responses), without credentials.
//
// Timers, all from RFC 8489 6.2.1 with its recommended values:
//   RTO = 500 ms initially, doubled after every send;
//   Rc  = 7 requests at most, at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s;
//   Rm  = 16: after the last request wait Rm * initial RTO = 8 s, so the transaction times out
//         at 39.5 s. The caller's deadline cuts this short.
// Retransmissions are timed from when a request actually went out, so a late caller does not
// get a burst.
#include <algorithm>
#include <cstring>
#include <utility>

#include "srmudp/stun.hpp"
#include "stun/message.hpp"

namespace srmudp {
namespace {

constexpr Duration kInitialRto = milliseconds(500);
constexpr int kMaxRequests = 7;             // Rc
constexpr int kLastWaitRtoMultiplier = 16;  // Rm

}  // namespace

StunClient::StunClient(Random& random) : random_(&random) {}

void StunClient::start(TimePoint now, const PeerAddress& server, TimePoint deadline) {
    random_->fill(MutableByteView(transaction_id_.data(), transaction_id_.size()));
    request_ = stun::encode_binding_request(transaction_id_);
    state_ = State::running;
    server_ = server;
    requests_sent_ = 0;
    rto_ = kInitialRto;
    next_send_at_ = now;
    deadline_ = deadline;
    last_wait_end_ = kNever;
    result_error_.clear();
    mapped_address_.reset();
    stun_error_code_ = 0;
    stun_error_reason_.clear();
}

std::size_t StunClient::poll_transmit(TimePoint now, MutableByteView out, PeerAddress& to) {
    expire_if_due(now);
    if (state_ != State::running || now < next_send_at_ || out.size() < request_.size()) {
        return 0;
    }
    std::memcpy(out.data(), request_.data(), request_.size());
    to = server_;
    ++requests_sent_;
    if (requests_sent_ < kMaxRequests) {
        next_send_at_ = now + rto_;
        rto_ *= 2;
    } else {
        next_send_at_ = kNever;
        last_wait_end_ = now + kLastWaitRtoMultiplier * kInitialRto;
    }
    return request_.size();
}

bool StunClient::receive(TimePoint now, const PeerAddress& from, ByteView datagram) {
    if (!stun::looks_like_stun(datagram)) return false;
    expire_if_due(now);
    if (state_ != State::running || from != server_) return true;
    stun::BindingResponse response;
    // A response that does not decode is dropped as if lost: the transaction goes on, so a
    // forged or corrupted datagram cannot end it.
    if (stun::decode_binding_response(datagram, response) || response.id != transaction_id_) {
        return true;
    }
    if (!response.success) {
        stun_error_code_ = response.error_code;
        stun_error_reason_ = std::move(response.reason);
        finish(std::make_error_code(std::errc::protocol_error));
    } else if (!response.mapped) {
        finish(std::make_error_code(std::errc::protocol_error));
    } else {
        mapped_address_ = response.mapped;
        finish({});
    }
    return true;
}

TimePoint StunClient::next_deadline() const {
    if (state_ != State::running) return kNever;
    return std::min(next_send_at_, timeout_at());
}

void StunClient::handle_timeout(TimePoint now) {
    expire_if_due(now);
}

TimePoint StunClient::timeout_at() const {
    return std::min(deadline_, last_wait_end_);
}

void StunClient::expire_if_due(TimePoint now) {
    if (state_ == State::running && now >= timeout_at()) {
        finish(std::make_error_code(std::errc::timed_out));
    }
}

void StunClient::finish(std::error_code ec) {
    state_ = State::finished;
    result_error_ = ec;
    next_send_at_ = kNever;
}

}  // namespace srmudp
