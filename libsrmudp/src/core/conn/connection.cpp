// Connection lifecycle: construction, timers, closing and events. The receive path is in
// connection_recv.cpp, the transmit path in connection_send.cpp, handshakes and resume in
// resume.cpp, migration and path MTU in connection_path.cpp.
#include "core/conn/connection.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "core/conn/constants.hpp"
#include "srmudp/error.hpp"

namespace srmudp::conn {

std::size_t max_transmit_size(const Config& config) {
    // Handshake initiations are kInitiationSize bytes; nothing smaller can carry them.
    const std::size_t probes = config.pmtu_probing ? config.max_probe_datagram_size : 0;
    return std::max({config.max_datagram_size, probes, kInitiationSize});
}

Connection::Connection(const ConnectionSetup& setup, TimePoint now, TimePoint deadline)
    : Connection(setup, now, deadline, false) {
    start_initiation(now);
}

Connection::Connection(const ConnectionSetup& setup, TimePoint now, ConsumedInitiation&& initiation)
    : Connection(setup, now, now + setup.config->handshake_timeout, true) {
    answer_initiation(now, setup.remote, std::move(initiation));
}

Connection::Connection(const ConnectionSetup& setup, TimePoint now, TimePoint handshake_deadline,
                       bool accepted_by_listener)
    : config_(*setup.config),
      random_(*setup.random),
      remote_(setup.remote),
      psk_(setup.psk),
      local_cid_(setup.local_cid),
      channel_(setup.channel),
      accepted_by_listener_(accepted_by_listener),
      initiation_interval_(config_.handshake_retransmit_initial),
      handshake_deadline_(handshake_deadline),
      send_stream_(config_.max_message_size, config_.send_buffer_limit),
      recv_stream_(config_.max_message_size, config_.receive_window),
      pmtu_(std::max(config_.max_datagram_size, kInitiationSize), config_.max_probe_datagram_size,
            config_.pmtu_probing),
      last_now_(now),
      last_received_(now),
      last_ack_eliciting_sent_(now),
      plaintext_(max_transmit_size(config_)) {
    random_.fill(MutableByteView(session_id_.data(), session_id_.size()));
}

Connection::~Connection() {
    OPENSSL_cleanse(psk_.data(), psk_.size());
}

bool Connection::uses_psk(const crypto::Psk& psk) const {
    return CRYPTO_memcmp(psk.data(), psk_.data(), psk_.size()) == 0;
}

std::error_code Connection::send(MessageKind kind, ByteView data, MessageId& id) {
    if (state_ == ConnectionState::closing || state_ == ConnectionState::closed) {
        return make_error_code(error::connection_closed);
    }
    auto ec = send_stream_.push(kind, data, id);
    if (ec == error::send_buffer_full) send_buffer_was_full_ = true;
    if (!ec) ++stats_.messages_sent;
    return ec;
}

void Connection::close(TimePoint now, std::uint64_t code, std::string_view reason) {
    if (state_ == ConnectionState::closing || state_ == ConnectionState::closed) return;
    if (state_ != ConnectionState::established) {
        // No confirmed peer to tell: a responder must not send before the initiator proved
        // itself, and an initiator (or a reconnecting side) has no keys.
        enter_closed(make_error_code(error::closed_locally));
        return;
    }
    // Application codes live below the transport's own range.
    begin_closing(now, code % kTransportCloseBase, reason, make_error_code(error::closed_locally));
}

void Connection::fail(TimePoint now, std::error_code reason, CloseCode code,
                      std::string_view text) {
    if (state_ == ConnectionState::closing || state_ == ConnectionState::closed) return;
    if (state_ != ConnectionState::established) {
        enter_closed(reason);
        return;
    }
    begin_closing(now, static_cast<std::uint64_t>(code), text, reason);
}

void Connection::begin_closing(TimePoint now, std::uint64_t code, std::string_view text,
                               std::error_code reason) {
    codec::CloseFrame frame;
    frame.code = code;
    frame.reason.assign(text.substr(0, codec::kMaxCloseReason));
    close_frame_ = std::move(frame);
    close_sends_left_ = kMaxCloseSends;
    close_send_pending_ = true;
    close_reason_ = reason;
    close_repeat_interval_ = pto();
    next_close_repeat_ = now + close_repeat_interval_;
    closing_until_ = now + kClosingPtoMultiplier * close_repeat_interval_;
    fail_pending_messages(reason);
    // Handshakes in progress end here: a closing connection answers only with CLOSE.
    attempts_.clear();
    path_.reset();
    state_ = ConnectionState::closing;
    emit_state(ConnectionState::closing, reason);
}

void Connection::on_timeout(TimePoint now) {
    last_now_ = now;
    switch (state_) {
        case ConnectionState::closed:
            return;
        case ConnectionState::closing:
            if (now >= closing_until_) {
                enter_closed(close_reason_);
            } else if (now >= next_close_repeat_) {
                if (close_sends_left_ > 0) close_send_pending_ = true;
                next_close_repeat_ = now + close_repeat_interval_;
            }
            return;
        case ConnectionState::connecting:
            expire_attempts(now);
            if (now >= handshake_deadline_) {
                enter_closed(make_error_code(auth_failures_ > 0 ? error::wrong_key
                                                                : error::handshake_timeout));
            }
            return;
        case ConnectionState::reconnecting:
            expire_attempts(now);
            if (now >= reconnect_deadline_) {
                enter_closed(make_error_code(error::idle_timeout));
            } else if (!initiator_ && attempts_.empty()) {
                start_initiation(now);  // the handshakes we answered were never proven
            }
            return;
        case ConnectionState::established:
            on_established_timeout(now);
            return;
    }
}

void Connection::on_established_timeout(TimePoint now) {
    expire_attempts(now);
    if (now >= last_received_ + config_.idle_timeout || now >= path_dead_time()) {
        if (config_.reconnect) {
            enter_reconnecting(now);
        } else {
            enter_closed(make_error_code(error::idle_timeout));
        }
        return;
    }
    if (session_->loss.deadline() <= now) {
        const auto result = session_->loss.on_timeout(now);
        on_packets_lost(now, result.lost, result.persistent_congestion);
        probes_pending_ = std::max(probes_pending_, result.probes);
    }
    if (now >= last_ack_eliciting_sent_ + config_.keepalive_interval) ping_pending_ = true;
    path_.on_timeout(now);
    pmtu_.on_timeout(now);
}

TimePoint Connection::deadline() const {
    TimePoint t = initiator_ ? next_initiation_time_ : kNever;
    for (const ResponderAttempt& attempt : attempts_)
        t = std::min(t, attempt.expires);
    switch (state_) {
        case ConnectionState::closed:
            return kNever;
        case ConnectionState::closing:
            return close_sends_left_ > 0 ? std::min(closing_until_, next_close_repeat_)
                                         : closing_until_;
        case ConnectionState::connecting:
            return std::min(t, handshake_deadline_);
        case ConnectionState::reconnecting:
            return std::min(t, reconnect_deadline_);
        case ConnectionState::established:
            break;
    }
    return std::min(t, established_deadline());
}

TimePoint Connection::established_deadline() const {
    const PacketSession& s = *session_;
    TimePoint t =
        std::min({last_received_ + config_.idle_timeout, path_dead_time(), s.loss.deadline(),
                  s.acks.ack_deadline(), last_ack_eliciting_sent_ + config_.keepalive_interval,
                  path_.deadline(), pmtu_.deadline()});
    TimePoint paced = kNever;
    if (can_send_stream_data(last_now_, &paced)) paced = last_now_;
    return std::min(t, paced);
}

TimePoint Connection::path_dead_time() const {
    // Only with reconnect on: without it the idle timeout alone ends the connection.
    if (!config_.reconnect || first_unanswered_sent_ == kNever) return kNever;
    const Duration wait = std::max<Duration>(config_.path_timeout, 4 * pto());
    return first_unanswered_sent_ + wait;
}

bool Connection::poll_event(Event& out) {
    if (events_.empty()) return false;
    out = std::move(events_.front());
    events_.pop_front();
    return true;
}

void Connection::emit_state(ConnectionState state, std::error_code reason) {
    events_.emplace_back(StateChanged{state, reason, 0, {}});
}

void Connection::fail_pending_messages(std::error_code reason) {
    for (MessageId id : send_stream_.fail_all())
        events_.emplace_back(MessageFailed{id, reason});
}

void Connection::enter_closed(std::error_code reason, std::uint64_t peer_code,
                              std::string peer_reason) {
    if (state_ == ConnectionState::closed) return;
    // A closed connection is forgotten once its events are taken: messages held by a receive
    // pause go out now, before the end, or they would be lost.
    hand_over_messages();
    fail_pending_messages(reason);
    state_ = ConnectionState::closed;
    events_.emplace_back(
        StateChanged{ConnectionState::closed, reason, peer_code, std::move(peer_reason)});
    initiator_.reset();
    attempts_.clear();
    drop_session();
}

Duration Connection::pto() const {
    return rtt_.pto_duration(config_.max_ack_delay);
}

ConnectionStats Connection::stats() const {
    ConnectionStats s = stats_;
    s.smoothed_rtt = rtt_.smoothed();
    s.min_rtt = rtt_.min();
    s.rtt_variance = rtt_.variance();
    s.congestion_window = session_ ? session_->cc->congestion_window() : 0;
    s.bytes_in_flight = session_ ? session_->loss.bytes_in_flight() : 0;
    // stats_ holds what streams replaced after a peer restart had counted.
    s.stream_bytes_sent = stats_.stream_bytes_sent + send_stream_.bytes_sent();
    s.stream_bytes_retransmitted =
        stats_.stream_bytes_retransmitted + send_stream_.bytes_retransmitted();
    s.key_updates = retired_key_updates_ + (session_ ? session_->protection->key_updates() : 0);
    s.send_buffer_bytes = send_stream_.buffered_bytes();
    s.max_datagram_size = pmtu_.current();
    return s;
}

}  // namespace srmudp::conn
