// The bridge session: the seed's WebSocket protocol (websocket-srmudp-proxy.de.md, with the
// additions listed in wsbridge/protocol.hpp) mapped onto one srmudp connection. This file holds
// the lifecycle; session_client.cpp and session_peer.cpp the two directions of traffic.
//
// Lifecycle: start() -> CONNECTED, connect, UDP_WAITING; srmudp established -> UDP_ESTABLISHED;
// reconnecting -> RECONNECTING and back; a failure -> ERROR, error frame, close 1011. The client
// leaving -> graceful srmudp close, or, for a session with a client_id, a grace period during
// which attach() brings the client back to the same srmudp connection. srmudp handlers and timers
// hold a weak_ptr to the Impl, so a session destroyed while events are still queued is simply not
// called.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "session/reports.hpp"
#include "session/secret.hpp"
#include "session/session_impl.hpp"
#include "srmudp/error.hpp"
#include "srmudp/random.hpp"

namespace wsbridge {

using session::close_reason;
using session::wipe;

namespace {

constexpr std::uint16_t kNormalClosure = 1000;  // RFC 6455 section 7.4.1
constexpr std::uint16_t kGoingAway = 1001;
constexpr std::uint16_t kInternalError = 1011;
constexpr std::uint16_t kReplaced = 4000;  // private use (RFC 6455 7.4.2): a newer WebSocket

// SHA-256(salt || key): lets attach() check a returning client's key without keeping the key.
std::array<std::uint8_t, 32> salted_hash(const std::array<std::uint8_t, 16>& salt,
                                         std::string_view key) {
    std::array<std::uint8_t, 32> out{};
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned int length = 0;
    const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, salt.data(), salt.size()) == 1 &&
                    EVP_DigestUpdate(ctx, key.data(), key.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx, out.data(), &length) == 1;
    EVP_MD_CTX_free(ctx);
    // Without a hash no key can match: a random value stands in (never all zeros).
    if (!ok) srmudp::system_random().fill(srmudp::MutableByteView(out.data(), out.size()));
    return out;
}

srmudp::TimePoint now() {
    return std::chrono::time_point_cast<srmudp::Duration>(std::chrono::steady_clock::now());
}

}  // namespace

Session::Impl::Impl(asio::io_context& io, srmudp::Endpoint& endpoint,
                    std::shared_ptr<WebSocketSide> ws, ProxyRequest request,
                    std::string connection_id, SessionOptions options)
    : endpoint_(endpoint),
      ws_(std::move(ws)),
      status_timer_(io),
      grace_timer_(io),
      idle_timer_(io),
      drain_timer_(io),
      remote_(request.remote),
      client_id_(std::move(request.client_id)),
      key_(std::move(request.encryption_key)),
      id_(std::move(connection_id)),
      options_(std::move(options)) {
    srmudp::system_random().fill(srmudp::MutableByteView(key_salt_.data(), key_salt_.size()));
    key_hash_ = salted_hash(key_salt_, key_);
}

// ---- Lifecycle ------------------------------------------------------------------------------

void Session::Impl::start() {
    if (started_) return;
    started_ = true;
    touch();
    arm_idle_timer();
    change_status(Status::connected, "WebSocket connection established; UDP connection to " +
                                         remote_.to_string() + " not yet established");
    std::error_code ec;
    conn_ = endpoint_.connect(remote_, key_, ec, options_.connect_timeout);
    wipe(key_);
    if (!conn_ || ec) {
        conn_.reset();
        fail(session::connect_error_message(ec, remote_));
        return;
    }
    conn_->set_handlers(make_handlers());
    change_status(Status::udp_waiting, "establishing the UDP connection to " + remote_.to_string());
}

bool Session::Impl::key_matches(std::string_view key) const {
    const auto hash = salted_hash(key_salt_, key);
    return CRYPTO_memcmp(hash.data(), key_hash_.data(), hash.size()) == 0;
}

void Session::Impl::on_websocket_closed(bool dropped) {
    if (!ws_) return;
    ws_.reset();
    status_timer_.cancel();
    const bool can_wait = dropped && client_id_ && !failed_ && !ws_ended_ && conn_ &&
                          options_.reattach_grace > srmudp::Duration::zero();
    if (can_wait) {
        detach();
        return;
    }
    close_connection("websocket closed");
    finish();
}

// The client is gone for now: hold what the peer sends (srmudp keeps it, flow control stops the
// peer) and wait for attach() until the grace period ends.
void Session::Impl::detach() {
    update_receive_pause();
    grace_timer_.expires_after(options_.reattach_grace);
    grace_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->on_grace_expired();
    });
}

void Session::Impl::on_grace_expired() {
    if (ws_ || finished_) return;
    close_connection("client did not return");
    finish();
}

bool Session::Impl::attach(std::shared_ptr<WebSocketSide> ws,
                           std::optional<std::uint64_t> last_seq) {
    if (finished_ || ws_ended_ || failed_ || !ws) return false;
    if (ws_) {
        ws_->close(kReplaced, "replaced by a new connection of the same client");
        ws_.reset();
    }
    grace_timer_.cancel();
    ws_ = std::move(ws);
    ++reattaches_;
    count(options_.counters, &BridgeCounters::reattaches);
    touch();
    if (reading_paused_) ws_->pause_reading();
    change_status(status_, "re-attached to session " + id_ + ": " + status_message_);
    replay(last_seq);
    while (!held_control_.empty() && ws_) {
        send_frame(std::move(held_control_.front()));
        held_control_.pop_front();
    }
    update_receive_pause();
    return true;
}

void Session::Impl::end(const std::string& reason) {
    if (finished_) return;
    if (ws_ && !failed_) {
        change_status(Status::error, reason);
        send_frame(encode_error(id_, reason));
    }
    end_websocket(kGoingAway, reason);
    close_connection(reason);
    finish();
}

// Called by ~Session: nothing reaches the WebSocket any more.
void Session::Impl::shutdown() {
    ws_.reset();
    status_timer_.cancel();
    grace_timer_.cancel();
    idle_timer_.cancel();
    drain_timer_.cancel();
    wipe(key_);
    finished_ = true;
    on_finished_ = nullptr;
    if (conn_) {
        conn_->set_handlers({});
        close_connection("session ended");
    }
}

void Session::Impl::close_connection(std::string_view reason) {
    if (!conn_) return;
    const auto state = conn_->state();
    if (state != srmudp::ConnectionState::closing && state != srmudp::ConnectionState::closed) {
        conn_->close(0, reason);
    }
}

// The owner hears of it from the io_context: it may destroy the Session, which must not happen
// inside one of the Session's own calls.
void Session::Impl::finish() {
    if (finished_) return;
    finished_ = true;
    status_timer_.cancel();
    grace_timer_.cancel();
    idle_timer_.cancel();
    drain_timer_.cancel();
    if (!on_finished_) return;
    asio::post(status_timer_.get_executor(), [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self || !self->on_finished_) return;
        auto callback = std::move(self->on_finished_);
        self->on_finished_ = nullptr;
        callback();
    });
}

SessionStats Session::Impl::stats() const {
    SessionStats s;
    s.connection_id = id_;
    s.remote = remote_.to_string();
    s.client_id = client_id_;
    s.status = status_;
    s.websocket_open = ws_ != nullptr && !ws_ended_;
    s.awaiting_reattach = !ws_ && !finished_ && started_;
    if (conn_) s.link = conn_->stats();
    s.pending_bytes = pending_bytes_;
    s.replay_bytes = replay_bytes_;
    s.receive_paused = receive_paused_;
    s.messages_to_peer = messages_to_peer_;
    s.messages_from_peer = messages_from_peer_;
    s.receive_pauses = receive_pauses_;
    s.reattaches = reattaches_;
    return s;
}

// ---- srmudp events --------------------------------------------------------------------------

srmudp::ConnectionHandlers Session::Impl::make_handlers() {
    std::weak_ptr<Impl> weak = weak_from_this();
    srmudp::ConnectionHandlers h;
    h.on_state = [weak](srmudp::ConnectionState state, std::error_code reason) {
        if (auto self = weak.lock()) self->on_state(state, reason);
    };
    h.on_message = [weak](srmudp::Message&& message) {
        if (auto self = weak.lock()) self->on_message(std::move(message));
    };
    h.on_delivered = [weak](srmudp::MessageId id) {
        if (auto self = weak.lock()) self->on_delivered(id);
    };
    h.on_failed = [weak](srmudp::MessageId id, std::error_code reason) {
        if (auto self = weak.lock()) self->on_failed(id, reason);
    };
    h.on_writable = [weak] {
        if (auto self = weak.lock()) self->drain_pending();
    };
    return h;
}

void Session::Impl::on_state(srmudp::ConnectionState state, std::error_code reason) {
    using State = srmudp::ConnectionState;
    const std::string peer = remote_.to_string();
    switch (state) {
        case State::connecting:
            return;
        case State::established:
            count(options_.counters, &BridgeCounters::established);
            if (reason == srmudp::error::peer_restarted) {
                change_status(Status::udp_established,
                              "UDP connection re-established with remote peer " + peer +
                                  "; the peer had restarted and lost unacknowledged messages");
            } else {
                change_status(Status::udp_established,
                              std::string(established_once_ ? "UDP connection re-established"
                                                            : "UDP connection established") +
                                  " with remote peer " + peer);
            }
            established_once_ = true;
            return;
        case State::reconnecting:
            count(options_.counters, &BridgeCounters::reconnects);
            change_status(Status::reconnecting, "connection to " + peer + " lost; reconnecting");
            return;
        case State::closing:
        case State::closed:
            if (reason == srmudp::error::closed_locally) return;  // we closed it
            fail(session::failure_message(reason, remote_, options_.connect_timeout));
            return;
    }
}

// ---- Status and ending ----------------------------------------------------------------------

void Session::Impl::change_status(Status status, std::string message) {
    status_ = status;
    status_message_ = std::move(message);
    send_frame(encode_status(status_, id_, status_message_, std::nullopt, received_count()));
    arm_status_timer();
}

void Session::Impl::arm_status_timer() {
    status_timer_.cancel();
    if (options_.status_interval <= srmudp::Duration::zero() || !ws_ || failed_) return;
    status_timer_.expires_after(options_.status_interval);
    status_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->on_status_timer();
    });
}

void Session::Impl::on_status_timer() {
    if (!ws_ || failed_) return;
    std::optional<LinkStats> link;
    if (conn_) link = session::to_link_stats(conn_->stats());
    send_frame(encode_status(status_, id_, status_message_, link, received_count()));
    arm_status_timer();
}

// ERROR, an error frame, an error frame for every message of the client still in flight, then
// close 1011. Runs once: srmudp reports both closing and closed. A detached session has nobody
// to tell and is finished.
void Session::Impl::fail(const std::string& message) {
    if (failed_) return;
    failed_ = true;
    count(options_.counters, &BridgeCounters::errors);
    if (!ws_) {
        if (started_ && !ws_ended_) finish();
        return;
    }
    change_status(Status::error, message);
    send_frame(encode_error(id_, message));
    fail_outstanding(srmudp::make_error_code(srmudp::error::connection_closed));
    end_websocket(kInternalError, message);
}

void Session::Impl::fail_outstanding(std::error_code reason) {
    const std::string text = session::undelivered_message(reason, remote_);
    for (auto& [message_id, tag] : tags_)
        send_frame(encode_error(id_, text, tag));
    tags_.clear();
    for (auto& data : pending_)
        if (data.id) send_frame(encode_error(id_, text, data.id));
    pending_.clear();
    pending_bytes_ = 0;
}

// The session closes the WebSocket itself: the client is gone for good, so the srmudp
// connection goes too. The session is finished once the glue reports the close
// (on_websocket_closed).
void Session::Impl::end_websocket(std::uint16_t code, const std::string& message) {
    ws_ended_ = true;
    if (!ws_) return;
    status_timer_.cancel();
    ws_->close(code, close_reason(message));
    close_connection("websocket closed");
}

// ---- Idle timeout ---------------------------------------------------------------------------

void Session::Impl::touch() {
    last_activity_ = now();
}

void Session::Impl::arm_idle_timer() {
    if (options_.idle_timeout <= srmudp::Duration::zero() || finished_) return;
    idle_timer_.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            (last_activity_ + options_.idle_timeout).time_since_epoch())));
    idle_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->on_idle_timer();
    });
}

// Re-armed from the last activity rather than on every frame: one timer wait per idle_timeout.
void Session::Impl::on_idle_timer() {
    if (finished_) return;
    if (now() - last_activity_ < options_.idle_timeout) {
        arm_idle_timer();
        return;
    }
    count(options_.counters, &BridgeCounters::idle_closed);
    const std::string message = "no data in either direction for " +
                                session::describe_duration(options_.idle_timeout) +
                                "; the proxy closes idle sessions";
    if (ws_) send_frame(encode_error(id_, message));
    end_websocket(kNormalClosure, message);
    close_connection("idle timeout");
    if (!ws_) finish();
}

void Session::Impl::send_frame(std::string frame) {
    if (ws_ && !ws_ended_) ws_->send_text(std::move(frame));
}

// ---- Session --------------------------------------------------------------------------------
// Each call holds a reference to the Impl: a WebSocketSide call may make the owner destroy the
// Session while the Impl is still running.

Session::Session(asio::io_context& io, srmudp::Endpoint& endpoint,
                 std::shared_ptr<WebSocketSide> ws, ProxyRequest request, std::string connection_id,
                 SessionOptions options)
    : impl_(std::make_shared<Impl>(io, endpoint, std::move(ws), std::move(request),
                                   std::move(connection_id), std::move(options))) {}

Session::~Session() {
    impl_->shutdown();
}

void Session::start() {
    const auto keep = impl_;
    keep->start();
}

void Session::on_text_frame(std::string_view frame) {
    const auto keep = impl_;
    keep->on_text_frame(frame);
}

void Session::on_binary_frame(srmudp::ByteView frame) {
    const auto keep = impl_;
    keep->on_binary_frame(frame);
}

void Session::on_websocket_closed(bool dropped) {
    const auto keep = impl_;
    keep->on_websocket_closed(dropped);
}

bool Session::key_matches(std::string_view key) const {
    return impl_->key_matches(key);
}

bool Session::attach(std::shared_ptr<WebSocketSide> ws, std::optional<std::uint64_t> last_seq) {
    const auto keep = impl_;
    return keep->attach(std::move(ws), last_seq);
}

bool Session::attached_to(const WebSocketSide* ws) const {
    return impl_->attached_to(ws);
}

void Session::end(const std::string& reason) {
    const auto keep = impl_;
    keep->end(reason);
}

void Session::set_on_finished(std::function<void()> on_finished) {
    impl_->set_on_finished(std::move(on_finished));
}

bool Session::finished() const {
    return impl_->finished();
}

SessionStats Session::stats() const {
    return impl_->stats();
}

std::string make_connection_id() {
    std::uint8_t raw[8];
    srmudp::system_random().fill(srmudp::MutableByteView(raw, sizeof raw));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    id.reserve(16);
    for (std::uint8_t b : raw) {
        id.push_back(kHex[b >> 4]);
        id.push_back(kHex[b & 0x0F]);
    }
    return id;
}

}  // namespace wsbridge
