// Connection lifecycle, handshake sequencing and the receive path. The transmit path is in
// connection_send.cpp.
#include "core/conn/connection.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "core/conn/constants.hpp"
#include "srmudp/error.hpp"

namespace srmudp::conn {

namespace {

std::size_t datagram_size(const Config& config) {
    // Handshake initiations are kInitiationSize bytes; nothing smaller can carry them.
    return std::max(config.max_datagram_size, kInitiationSize);
}

}  // namespace

Connection::Connection(const ConnectionSetup& setup, TimePoint now, TimePoint deadline)
    : config_(*setup.config),
      random_(*setup.random),
      remote_(setup.remote),
      psk_(setup.psk),
      local_cid_(setup.local_cid),
      handshake_deadline_(deadline),
      next_initiation_time_(now),
      initiation_interval_(config_.handshake_retransmit_initial),
      loss_(rtt_, config_.max_ack_delay),
      acks_(config_.max_ack_delay),
      cc_(cc::make_new_reno(datagram_size(config_))),
      pacer_(datagram_size(config_)),
      send_stream_(config_.max_message_size, config_.send_buffer_limit),
      recv_stream_(config_.max_message_size, config_.receive_window),
      last_now_(now),
      last_received_(now),
      last_ack_eliciting_sent_(now),
      plaintext_(datagram_size(config_)) {
    random_.fill(MutableByteView(session_id_.data(), session_id_.size()));
    start_initiation(now);
}

Connection::Connection(const ConnectionSetup& setup, TimePoint now, ConsumedInitiation&& initiation)
    : config_(*setup.config),
      random_(*setup.random),
      remote_(setup.remote),
      psk_(setup.psk),
      local_cid_(setup.local_cid),
      role_(Role::responder),
      accepted_by_listener_(true),
      handshake_deadline_(now + config_.handshake_timeout),
      next_initiation_time_(kNever),
      initiation_interval_(config_.handshake_retransmit_initial),
      loss_(rtt_, config_.max_ack_delay),
      acks_(config_.max_ack_delay),
      cc_(cc::make_new_reno(datagram_size(config_))),
      pacer_(datagram_size(config_)),
      send_stream_(config_.max_message_size, config_.send_buffer_limit),
      recv_stream_(config_.max_message_size, config_.receive_window),
      last_now_(now),
      last_received_(now),
      last_ack_eliciting_sent_(now),
      plaintext_(datagram_size(config_)) {
    random_.fill(MutableByteView(session_id_.data(), session_id_.size()));
    answer_initiation(now, std::move(initiation));
}

Connection::~Connection() {
    OPENSSL_cleanse(psk_.data(), psk_.size());
}

HandshakePayload Connection::local_payload() const {
    HandshakePayload p;
    p.session_id = session_id_;
    p.resume_offset = recv_stream_.contiguous_offset();
    p.max_data = recv_stream_.max_data();
    return p;
}

void Connection::start_initiation(TimePoint now) {
    initiator_.emplace();
    if (auto ec = create_initiation(psk_, local_cid_, local_payload(), random_, *initiator_)) {
        initiator_.reset();
        enter_closed(ec);
        return;
    }
    next_initiation_time_ = now;
}

void Connection::answer_initiation(TimePoint now, ConsumedInitiation&& initiation) {
    crypto::TransportKeys keys;
    role_ = Role::responder;
    if (auto ec =
            create_response(initiation, local_cid_, local_payload(), response_datagram_, keys)) {
        enter_closed(ec);
        return;
    }
    answered_ephemeral_ = initiation.initiator_ephemeral;
    initiator_.reset();
    next_initiation_time_ = kNever;
    begin_session(now, keys, initiation.initiator_cid, initiation.payload);
    response_pending_ = true;
}

void Connection::begin_session(TimePoint now, const crypto::TransportKeys& keys,
                               ConnectionId peer_cid, const HandshakePayload& peer_payload) {
    protection_ = std::make_unique<PacketProtection>(keys, role_ == Role::initiator,
                                                     config_.key_update_packets);
    peer_cid_ = peer_cid;
    peer_max_data_ = peer_payload.max_data;
    recv_stream_.on_max_data_sent(recv_stream_.max_data());  // the payload advertised it
    next_packet_number_ = 0;
    last_received_ = now;
}

void Connection::become_established(TimePoint now) {
    state_ = ConnectionState::established;
    last_received_ = now;
    last_ack_eliciting_sent_ = now;
    if (accepted_by_listener_) events_.emplace_back(ConnectionAccepted{});
    emit_state(ConnectionState::established);
    // Tell the peer at once that we hold the keys (a responder waits for this before it sends).
    if (role_ == Role::initiator) ping_pending_ = true;
}

bool Connection::answered_initiation(const crypto::X25519Key& initiator_ephemeral) const {
    return role_ == Role::responder && protection_ && answered_ephemeral_ == initiator_ephemeral;
}

void Connection::note_authentication_failure(TimePoint) {
    ++auth_failures_;
    ++stats_.rejected_packets;
    if (state_ == ConnectionState::connecting && config_.wrong_key_failures != 0 &&
        auth_failures_ >= config_.wrong_key_failures) {
        enter_closed(make_error_code(error::wrong_key));
    }
}

void Connection::on_initiation(TimePoint now, ByteView datagram) {
    last_now_ = now;
    if (state_ == ConnectionState::closed || state_ == ConnectionState::closing) return;
    ConsumedInitiation initiation;
    if (auto ec = consume_initiation(psk_, datagram, random_, initiation)) {
        if (ec == error::authentication_failed) note_authentication_failure(now);
        return;
    }
    if (answered_initiation(initiation.initiator_ephemeral)) {
        // Our response was lost: repeat it (same size as before, still far below the initiation).
        if (state_ == ConnectionState::connecting) response_pending_ = true;
        return;
    }
    if (state_ != ConnectionState::connecting) return;  // a stale attempt of the peer
    if (role_ == Role::initiator && initiator_ &&
        wins_tie_break(initiator_->ephemeral_public, initiation.initiator_ephemeral)) {
        return;  // the peer will answer our initiation
    }
    answer_initiation(now, std::move(initiation));
}

void Connection::on_response(TimePoint now, const PeerAddress&, ByteView datagram) {
    last_now_ = now;
    if (state_ != ConnectionState::connecting || role_ != Role::initiator || !initiator_) return;
    ConsumedResponse response;
    if (auto ec = consume_response(psk_, *initiator_, datagram, response)) {
        if (ec == error::authentication_failed) note_authentication_failure(now);
        return;
    }
    initiator_.reset();
    next_initiation_time_ = kNever;
    begin_session(now, response.keys, response.responder_cid, response.payload);
    become_established(now);
}

void Connection::on_data(TimePoint now, const PeerAddress&, ByteView datagram,
                         const codec::PacketHeader& header, std::size_t header_size) {
    last_now_ = now;
    if (!protection_ || state_ == ConnectionState::closed) return;
    std::size_t plaintext_size = 0;
    if (plaintext_.size() < datagram.size()) plaintext_.resize(datagram.size());
    if (auto ec = protection_->open(datagram, header, header_size, MutableByteView(plaintext_),
                                    plaintext_size)) {
        ++stats_.rejected_packets;
        return;
    }
    ++stats_.packets_received;
    stats_.datagram_bytes_received += datagram.size();
    last_received_ = now;
    if (state_ == ConnectionState::closing) {
        // The peer has not seen our CLOSE yet.
        if (close_sends_left_ > 0) close_send_pending_ = true;
        return;
    }
    if (state_ == ConnectionState::connecting) {
        response_datagram_.clear();
        response_pending_ = false;
        become_established(now);
    }
    bool ack_eliciting = false;
    if (auto ec = process_frames(now, ByteView(plaintext_.data(), plaintext_size), ack_eliciting)) {
        const CloseCode code = ec == error::peer_message_too_large ? CloseCode::message_too_large
                                                                   : CloseCode::protocol_violation;
        fail(now, ec == error::malformed_packet ? make_error_code(error::protocol_violation) : ec,
             code, ec.message());
        return;
    }
    if (state_ == ConnectionState::closed) return;  // the packet carried CLOSE
    acks_.on_packet_received(header.packet_number, ack_eliciting, now);
    collect_stream_events();
}

std::error_code Connection::process_frames(TimePoint now, ByteView plaintext, bool& ack_eliciting) {
    return codec::for_each_frame(plaintext, [&](const codec::Frame& frame) -> std::error_code {
        if (state_ == ConnectionState::closed) return {};
        if (codec::is_ack_eliciting(frame)) ack_eliciting = true;
        if (const auto* ack = std::get_if<codec::AckFrame>(&frame)) return on_ack_frame(now, *ack);
        if (const auto* stream = std::get_if<codec::StreamFrame>(&frame)) {
            return on_stream_frame(*stream);
        }
        if (const auto* max = std::get_if<codec::MaxDataFrame>(&frame)) {
            peer_max_data_ = std::max(peer_max_data_, max->maximum_data);
        } else if (const auto* close = std::get_if<codec::CloseFrame>(&frame)) {
            on_close_frame(*close);
        } else if (const auto* challenge = std::get_if<codec::PathChallengeFrame>(&frame)) {
            path_response_pending_ = challenge->data;
        }
        return {};
    });
}

std::error_code Connection::on_ack_frame(TimePoint now, const codec::AckFrame& ack) {
    recovery::LossDetector::AckResult result;
    if (auto ec = loss_.on_ack_received(ack, now, result)) return ec;
    // RFC 9002 appendix A.7: losses first, so that packets sent before the congestion event do
    // not grow the window they have just shrunk.
    on_packets_lost(now, result.lost, result.congestion_event, result.largest_lost_sent_time,
                    result.persistent_congestion);
    for (const auto& packet : result.acked) {
        if (packet.in_flight) cc_->on_packet_acked(packet, now);
        for (const auto& range : packet.stream)
            send_stream_.on_acked(range.offset, range.length);
        if (packet.carried_ack) acks_.on_ack_frame_acked(packet.largest_acked_in_ack);
    }
    for (MessageId id : send_stream_.take_delivered()) {
        ++stats_.messages_delivered;
        events_.emplace_back(MessageDelivered{id});
    }
    const std::size_t buffered = send_stream_.buffered_bytes();
    if (send_buffer_was_full_ && (buffered == 0 || buffered * 2 <= config_.send_buffer_limit)) {
        send_buffer_was_full_ = false;
        events_.emplace_back(SendBufferAvailable{});
    }
    return {};
}

void Connection::on_packets_lost(TimePoint now, const std::vector<recovery::SentPacket>& lost,
                                 bool congestion_event, TimePoint newest_lost_sent,
                                 bool persistent_congestion) {
    for (const auto& packet : lost) {
        ++stats_.packets_lost;
        for (const auto& range : packet.stream)
            send_stream_.on_lost(range.offset, range.length);
        if (packet.max_data) max_data_pending_ = true;
    }
    if (congestion_event) cc_->on_congestion_event(newest_lost_sent, now);
    if (persistent_congestion) cc_->on_persistent_congestion();
}

std::error_code Connection::on_stream_frame(const codec::StreamFrame& frame) {
    return recv_stream_.on_stream_data(frame.offset, frame.data);
}

void Connection::on_close_frame(const codec::CloseFrame& frame) {
    enter_closed(make_error_code(error::peer_closed), frame.code, frame.reason);
}

void Connection::collect_stream_events() {
    while (auto message = recv_stream_.pop_message()) {
        ++stats_.messages_received;
        events_.emplace_back(MessageReceived{std::move(*message)});
    }
    if (recv_stream_.should_send_max_data()) max_data_pending_ = true;
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
        // itself, and an initiator has no keys yet.
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
    closing_until_ = now + kClosingPtoMultiplier * pto();
    fail_pending_messages(reason);
    state_ = ConnectionState::closing;
    emit_state(ConnectionState::closing, reason);
}

void Connection::on_timeout(TimePoint now) {
    last_now_ = now;
    if (state_ == ConnectionState::closed) return;
    if (state_ == ConnectionState::closing) {
        if (now >= closing_until_) enter_closed(close_reason_);
        return;
    }
    if (state_ == ConnectionState::connecting) {
        if (now >= handshake_deadline_) {
            enter_closed(
                make_error_code(auth_failures_ > 0 ? error::wrong_key : error::handshake_timeout));
        }
        return;
    }
    if (now >= last_received_ + config_.idle_timeout) {
        enter_closed(make_error_code(error::idle_timeout));
        return;
    }
    if (loss_.deadline() <= now) {
        const auto result = loss_.on_timeout(now);
        on_packets_lost(now, result.lost, result.congestion_event, result.largest_lost_sent_time,
                        result.persistent_congestion);
        probes_pending_ = std::max(probes_pending_, result.probes);
    }
    if (now >= last_ack_eliciting_sent_ + config_.keepalive_interval) ping_pending_ = true;
}

TimePoint Connection::deadline() const {
    switch (state_) {
        case ConnectionState::closed:
            return kNever;
        case ConnectionState::closing:
            return closing_until_;
        case ConnectionState::connecting:
            return std::min(handshake_deadline_,
                            initiator_ ? next_initiation_time_ : TimePoint(kNever));
        case ConnectionState::established:
            break;
    }
    TimePoint t =
        std::min({last_received_ + config_.idle_timeout, loss_.deadline(), acks_.ack_deadline(),
                  last_ack_eliciting_sent_ + config_.keepalive_interval});
    TimePoint paced = kNever;
    if (can_send_stream_data(last_now_, &paced)) paced = last_now_;
    return std::min(t, paced);
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
    fail_pending_messages(reason);
    state_ = ConnectionState::closed;
    events_.emplace_back(
        StateChanged{ConnectionState::closed, reason, peer_code, std::move(peer_reason)});
    initiator_.reset();
    if (protection_) stats_.key_updates = protection_->key_updates();
    protection_.reset();
    loss_.drain();
}

Duration Connection::pto() const {
    return rtt_.pto_duration(config_.max_ack_delay);
}

ConnectionStats Connection::stats() const {
    ConnectionStats s = stats_;
    s.smoothed_rtt = rtt_.smoothed();
    s.min_rtt = rtt_.min();
    s.rtt_variance = rtt_.variance();
    s.congestion_window = cc_->congestion_window();
    s.bytes_in_flight = loss_.bytes_in_flight();
    s.stream_bytes_sent = send_stream_.bytes_sent();
    s.stream_bytes_retransmitted = send_stream_.bytes_retransmitted();
    s.key_updates = protection_ ? protection_->key_updates() : stats_.key_updates;
    s.send_buffer_bytes = send_stream_.buffered_bytes();
    return s;
}

}  // namespace srmudp::conn
