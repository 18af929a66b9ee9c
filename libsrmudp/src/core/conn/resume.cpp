// Handshake sequencing, reconnect and resume.
//
// Every handshake (the first one, or a later one after an idle timeout or started by the peer)
// carries each side's session id, chosen once per connection, and resume offset, the stream
// bytes it holds from the peer (docs/PROTOCOL.md sections 5 and 10). A handshake completes for
// the initiator when the RESPONSE authenticates, and for the responder when the initiator proves
// the new keys with a DATA packet; until then a responder keeps whatever session it has, so a
// replayed initiation cannot disturb a working connection. On completion the packet session is
// replaced and the message streams are matched against the peer's payload:
//   - first handshake: the peer's session id is stored;
//   - same session id (resume): the send stream rewinds to the peer's resume offset (everything
//     below it counts as acknowledged, everything above it is resent), so no message is lost or
//     duplicated and ids continue;
//   - another session id: the peer restarted and lost its state; undelivered messages fail with
//     error::peer_restarted and both streams start afresh (message ids still continue).
// The flow-control limit a fresh stream may use is the peer's max data minus its resume
// offset: a peer that had received bytes from an earlier incarnation of ours advertised a limit
// in those old offsets, and this is the credit it left on top of them.
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "core/conn/connection.hpp"
#include "srmudp/error.hpp"

namespace srmudp::conn {

HandshakePayload Connection::local_payload() const {
    HandshakePayload p;
    p.session_id = session_id_;
    p.resume_offset = recv_stream_.contiguous_offset();
    p.max_data = recv_stream_.max_data();
    p.channel = channel_;
    return p;
}

void Connection::start_initiation(TimePoint now) {
    initiator_.emplace();
    if (auto ec = create_initiation(psk_, local_cid_, local_payload(), random_, *initiator_)) {
        initiator_.reset();
        enter_closed(ec);
        return;
    }
    // A copy of our own initiation reflected back at us must not be answered.
    ignore_ephemeral(initiator_->ephemeral_public);
    next_initiation_time_ = now;
    initiation_interval_ = config_.handshake_retransmit_initial;
}

bool Connection::on_initiation(TimePoint now, const PeerAddress& from, ByteView datagram) {
    last_now_ = now;
    if (state_ == ConnectionState::closed || state_ == ConnectionState::closing) return true;
    if (answer_copy(now, datagram)) return true;
    ConsumedInitiation initiation;
    if (auto ec = consume_initiation(psk_, datagram, random_, initiation)) {
        if (ec == error::authentication_failed) note_authentication_failure(now);
        return true;
    }
    if (initiation.payload.channel != channel_) return false;
    handle_initiation(now, from, std::move(initiation));
    return true;
}

// Authenticating an initiation costs a key pair and an agreement (two X25519 operations), so
// copies of one already handled are recognised first, without any crypto:
//   - the exact datagram of a handshake we answered and wait to see proven: the stored response
//     goes out again, as for an authenticated copy. Only byte-identical copies match, and the
//     original authenticated, so the copy would authenticate the same way; nothing is derived;
//   - an initiation with an ignored ephemeral key (ours reflected, a completed handshake's, one
//     beaten in the tie-break) is dropped, as it would be after authenticating. A forgery
//     carrying such a key is dropped uncounted rather than counted as a wrong-key failure, which
//     only takes from an attacker the power to add to that count.
// Returns true if the datagram was such a copy.
bool Connection::answer_copy(TimePoint now, ByteView datagram) {
    const std::size_t key_at = codec::kInitiationHeaderSize;
    if (datagram.size() != kInitiationSize) return false;  // consume_initiation rejects it
    crypto::X25519Key ephemeral;
    std::memcpy(ephemeral.data(), datagram.data() + key_at, ephemeral.size());
    if (is_ignored(ephemeral)) return true;
    ResponderAttempt* attempt = find_attempt(ephemeral);
    if (!attempt || attempt->initiation_digest != initiation_digest(datagram)) return false;
    repeat_response(now, *attempt);
    return true;
}

void Connection::repeat_response(TimePoint now, ResponderAttempt& attempt) {
    // Our response was lost: repeat it (same keys, still far smaller than the initiation).
    attempt.response_pending = true;
    if (state_ != ConnectionState::connecting) attempt.expires = now + attempt_lifetime();
}

std::error_code Connection::authenticate_initiation(ByteView datagram,
                                                    ConsumedInitiation& out) const {
    return consume_initiation(psk_, datagram, random_, out);
}

void Connection::on_consumed_initiation(TimePoint now, const PeerAddress& from,
                                        ConsumedInitiation&& initiation) {
    last_now_ = now;
    if (state_ == ConnectionState::closed || state_ == ConnectionState::closing) return;
    handle_initiation(now, from, std::move(initiation));
}

void Connection::handle_initiation(TimePoint now, const PeerAddress& from,
                                   ConsumedInitiation&& in) {
    if (is_ignored(in.initiator_ephemeral)) return;
    if (ResponderAttempt* attempt = find_attempt(in.initiator_ephemeral)) {
        repeat_response(now, *attempt);
        return;
    }
    // The tie-break assumes the peer hears our initiations; one from another address (the peer
    // moved while we were apart) is answered, since ours go where the peer no longer is.
    if (initiator_ && from == remote_ &&
        wins_tie_break(initiator_->ephemeral_public, in.initiator_ephemeral)) {
        ignore_ephemeral(in.initiator_ephemeral);  // the peer will answer ours
        return;
    }
    answer_initiation(now, from, std::move(in));
}

void Connection::answer_initiation(TimePoint now, const PeerAddress& from,
                                   ConsumedInitiation&& in) {
    ResponderAttempt attempt;
    crypto::TransportKeys keys;
    if (auto ec = create_response(in, local_cid_, local_payload(), attempt.response, keys)) {
        if (state_ == ConnectionState::connecting) enter_closed(ec);
        return;
    }
    attempt.protection =
        std::make_unique<PacketProtection>(keys, false, config_.key_update_packets);
    attempt.initiator_ephemeral = in.initiator_ephemeral;
    attempt.initiation_digest = in.digest;
    attempt.initiator_cid = in.initiator_cid;
    attempt.peer_payload = in.payload;
    attempt.from = from;
    attempt.expires =
        state_ == ConnectionState::connecting ? handshake_deadline_ : now + attempt_lifetime();
    if (attempts_.size() >= kMaxResponderAttempts) attempts_.pop_front();
    attempts_.push_back(std::move(attempt));
    // The peer initiates (or won the tie-break): stop our own attempt. While reconnecting it
    // starts again if no answered handshake is proven in time.
    initiator_.reset();
    next_initiation_time_ = kNever;
}

ResponderAttempt* Connection::find_attempt(const crypto::X25519Key& initiator_ephemeral) {
    for (ResponderAttempt& attempt : attempts_) {
        if (attempt.initiator_ephemeral == initiator_ephemeral) return &attempt;
    }
    return nullptr;
}

bool Connection::is_ignored(const crypto::X25519Key& ephemeral) const {
    return std::find(ignored_ephemerals_.begin(), ignored_ephemerals_.end(), ephemeral) !=
           ignored_ephemerals_.end();
}

void Connection::ignore_ephemeral(const crypto::X25519Key& ephemeral) {
    if (is_ignored(ephemeral)) return;
    if (ignored_ephemerals_.size() >= kMaxIgnoredEphemerals) ignored_ephemerals_.pop_front();
    ignored_ephemerals_.push_back(ephemeral);
}

Duration Connection::attempt_lifetime() const {
    return std::max(kResponderAttemptPtoMultiplier * pto(),
                    kResponderAttemptMinRetransmits * config_.handshake_retransmit_max);
}

void Connection::expire_attempts(TimePoint now) {
    attempts_.erase(std::remove_if(attempts_.begin(), attempts_.end(),
                                   [now](const ResponderAttempt& a) { return now >= a.expires; }),
                    attempts_.end());
}

// Tries the keys of each answered handshake; the first that opens the packet is proven.
bool Connection::open_with_attempt(TimePoint now, ByteView datagram,
                                   const codec::PacketHeader& header, std::size_t header_size,
                                   std::size_t& plaintext_size) {
    for (auto it = attempts_.begin(); it != attempts_.end(); ++it) {
        if (it->protection->open(datagram, header, header_size, MutableByteView(plaintext_),
                                 plaintext_size)) {
            continue;
        }
        ResponderAttempt proven = std::move(*it);
        take_handshake_rtt_sample(now, proven.response_first_sent, proven.response_sends);
        // The initiator got our RESPONSE at proven.from and answered: that address works.
        commit_session(now, std::move(proven.protection), false, proven.initiator_cid,
                       proven.peer_payload, proven.from, proven.initiator_ephemeral);
        return true;
    }
    return false;
}

void Connection::on_response(TimePoint now, const PeerAddress&, ByteView datagram) {
    last_now_ = now;
    if (!initiator_ ||
        (state_ != ConnectionState::connecting && state_ != ConnectionState::reconnecting)) {
        return;
    }
    ConsumedResponse response;
    if (auto ec = consume_response(psk_, *initiator_, datagram, response)) {
        if (ec == error::authentication_failed) note_authentication_failure(now);
        return;
    }
    take_handshake_rtt_sample(now, initiator_->first_sent, initiator_->sends);
    auto keys = std::make_unique<PacketProtection>(response.keys, true, config_.key_update_packets);
    const crypto::X25519Key ephemeral = initiator_->ephemeral_public;
    commit_session(now, std::move(keys), true, response.responder_cid, response.payload, remote_,
                   ephemeral);
}

// RFC 9002 section 5 lets the handshake give the first RTT sample: the initiator measures from
// its initiation to the response, the responder from its response to the first packet that
// proves it. Karn's rule (RFC 6298 section 3): a datagram that went out more than once gives no
// sample, since the answer cannot say which copy it answers. The answer is sent at once, so
// there is no ack delay to subtract. Without this, a connection closed right after its
// handshake would wait 3 PTOs of the 333 ms initial RTT in closing.
void Connection::take_handshake_rtt_sample(TimePoint now, TimePoint first_sent, unsigned sends) {
    if (sends != 1 || now < first_sent) return;
    rtt_.update(now - first_sent, Duration::zero(), config_.max_ack_delay);
}

void Connection::commit_session(TimePoint now, std::unique_ptr<PacketProtection> keys,
                                bool initiator, ConnectionId peer_cid, const HandshakePayload& peer,
                                const PeerAddress& peer_address,
                                const crypto::X25519Key& ephemeral) {
    const bool was_established = state_ == ConnectionState::established;
    drop_session();
    pmtu_.start(now);
    session_ =
        std::make_unique<PacketSession>(std::move(keys), initiator, config_, rtt_, pmtu_.current());
    peer_cid_ = peer_cid;
    remote_ = peer_address;
    attempts_.clear();
    initiator_.reset();
    next_initiation_time_ = kNever;
    ignore_ephemeral(ephemeral);  // replays of this handshake's initiation change nothing
    const std::error_code reason = adopt_peer_streams(peer);
    if (!was_established || reason) become_established(now, reason);
}

// Matches the message streams against the peer's handshake payload (see the top of this file).
// Returns error::peer_restarted if the streams started afresh.
std::error_code Connection::adopt_peer_streams(const HandshakePayload& peer) {
    const std::uint64_t fresh_limit =
        peer.max_data > peer.resume_offset ? peer.max_data - peer.resume_offset : 0;
    if (!peer_session_id_) {
        peer_session_id_ = peer.session_id;
        peer_max_data_ = fresh_limit;
        recv_stream_.on_max_data_sent(recv_stream_.max_data());  // our payload advertised it
        return {};
    }
    ++stats_.reconnects;
    // Our payload may be older than the stream's current limit: tell it again.
    max_data_pending_ = true;
    if (CRYPTO_memcmp(peer_session_id_->data(), peer.session_id.data(), peer.session_id.size()) ==
        0) {
        send_stream_.rewind_to(peer.resume_offset);
        peer_max_data_ = std::max(peer_max_data_, peer.max_data);
        report_delivered();
        return {};
    }
    const std::error_code reason = make_error_code(error::peer_restarted);
    fail_pending_messages(reason);
    stats_.stream_bytes_sent += send_stream_.bytes_sent();
    stats_.stream_bytes_retransmitted += send_stream_.bytes_retransmitted();
    send_stream_ = message::SendStream(config_.max_message_size, config_.send_buffer_limit,
                                       send_stream_.next_message_id());
    hand_over_messages();  // complete messages of the old stream, held by a receive pause
    recv_stream_ = message::RecvStream(config_.max_message_size, config_.receive_window);
    peer_session_id_ = peer.session_id;
    peer_max_data_ = fresh_limit;
    if (send_buffer_was_full_) {
        send_buffer_was_full_ = false;
        events_.emplace_back(SendBufferAvailable{});
    }
    return reason;
}

void Connection::become_established(TimePoint now, std::error_code reason) {
    state_ = ConnectionState::established;
    last_received_ = now;
    last_ack_eliciting_sent_ = now;
    first_unanswered_sent_ = kNever;
    reconnect_deadline_ = kNever;
    if (accepted_by_listener_ && !ever_established_) events_.emplace_back(ConnectionAccepted{});
    ever_established_ = true;
    ++times_established_;
    emit_state(ConnectionState::established, reason);
    // Tell the peer at once that we hold the keys (a responder waits for this before it sends).
    if (session_->initiator) ping_pending_ = true;
}

void Connection::enter_reconnecting(TimePoint now) {
    drop_session();
    attempts_.clear();
    state_ = ConnectionState::reconnecting;
    reconnect_deadline_ =
        config_.reconnect_timeout > Duration::zero() ? now + config_.reconnect_timeout : kNever;
    emit_state(ConnectionState::reconnecting, make_error_code(error::idle_timeout));
    start_initiation(now);  // fresh ephemeral keys: the new session has forward secrecy
}

// Throws the packet-level state away. What was in flight is queued for retransmission; the
// resume offset of the next handshake decides what is really resent.
void Connection::drop_session() {
    if (!session_) return;
    for (const auto& packet : session_->loss.drain()) {
        for (const auto& range : packet.stream)
            send_stream_.on_lost(range.offset, range.length);
        if (packet.max_data) max_data_pending_ = true;
    }
    retired_key_updates_ += session_->protection->key_updates();
    session_.reset();
    probes_pending_ = 0;
    ping_pending_ = false;
    path_response_pending_.reset();
    path_.reset();
    pmtu_.stop();
}

void Connection::note_authentication_failure(TimePoint) {
    ++auth_failures_;
    ++stats_.rejected_packets;
    if (state_ == ConnectionState::connecting && config_.wrong_key_failures != 0 &&
        auth_failures_ >= config_.wrong_key_failures && !wrong_key_pending_) {
        if (!initiator_) {
            enter_closed(make_error_code(error::wrong_key));
            return;
        }
        // Send our initiation once more before giving up: a peer doing the same (simultaneous
        // open with another key) then also collects enough failures to report wrong_key at
        // once, instead of only at its deadline.
        wrong_key_pending_ = true;
        next_initiation_time_ = last_now_;
    }
}

}  // namespace srmudp::conn
