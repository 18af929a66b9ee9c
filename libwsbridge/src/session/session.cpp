// The bridge session: the seed's WebSocket protocol (websocket-srmudp-proxy.de.md, with the
// additions listed in wsbridge/protocol.hpp) mapped onto one srmudp connection.
//
// Lifecycle: start() -> CONNECTED, connect, UDP_WAITING; srmudp established -> UDP_ESTABLISHED;
// reconnecting -> RECONNECTING and back; a failure -> ERROR, error frame, close 1011; the client
// leaving -> graceful srmudp close. srmudp handlers and the status timer hold a weak_ptr to the
// Impl, so a session destroyed while events are still queued is simply not called.
#include <algorithm>
#include <deque>
#include <map>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "session/reports.hpp"
#include "srmudp/endpoint.hpp"
#include "srmudp/error.hpp"
#include "srmudp/random.hpp"
#include "wsbridge/session.hpp"

namespace wsbridge {

using session::close_reason;

class Session::Impl : public std::enable_shared_from_this<Session::Impl> {
  public:
    Impl(asio::io_context& io, srmudp::Endpoint& endpoint, std::shared_ptr<WebSocketSide> ws,
         ProxyRequest request, std::string connection_id, SessionOptions options)
        : endpoint_(endpoint),
          ws_(std::move(ws)),
          timer_(io),
          remote_(request.remote),
          client_id_(std::move(request.client_id)),
          key_(std::move(request.encryption_key)),
          id_(std::move(connection_id)),
          options_(std::move(options)) {}

    void start();
    void on_text_frame(std::string_view frame);
    void on_binary_frame(srmudp::ByteView frame);
    void on_websocket_closed();
    SessionStats stats() const;
    void shutdown();

  private:
    // Client -> peer.
    void on_decoded(std::variant<ClientData, FrameError>&& decoded);
    void on_frame_error(const FrameError& error);
    void submit(ClientData&& data);
    bool try_send(ClientData& data);
    void drain_pending();
    // srmudp -> client.
    srmudp::ConnectionHandlers make_handlers();
    void on_state(srmudp::ConnectionState state, std::error_code reason);
    void on_message(srmudp::Message&& message);
    void on_delivered(srmudp::MessageId id);
    void on_failed(srmudp::MessageId id, std::error_code reason);
    // Status and ending.
    void change_status(Status status, std::string message);
    void arm_status_timer();
    void on_status_timer();
    void fail(const std::string& message);
    void fail_outstanding(std::error_code reason);
    void end_websocket(std::uint16_t code, const std::string& message);
    void close_connection(std::string_view reason);
    void send_frame(std::string frame);

    static void wipe(std::string& secret) {
        std::fill(secret.begin(), secret.end(), '\0');
        secret.clear();
    }

    srmudp::Endpoint& endpoint_;
    std::shared_ptr<WebSocketSide> ws_;
    asio::steady_timer timer_;
    srmudp::PeerAddress remote_;
    std::optional<std::string> client_id_;
    std::string key_;  // only until start() has passed it to srmudp
    std::string id_;
    SessionOptions options_;
    std::shared_ptr<srmudp::Connection> conn_;

    Status status_ = Status::connected;
    std::string status_message_;
    bool started_ = false;
    bool ws_open_ = true;
    bool failed_ = false;
    bool established_once_ = false;
    bool paused_ = false;
    // Client messages srmudp's full send buffer refused, oldest first.
    std::deque<ClientData> pending_;
    std::size_t pending_bytes_ = 0;
    // Client ids of messages in flight, by srmudp message id (ordered: a delivery covers all
    // earlier messages).
    std::map<srmudp::MessageId, MessageTag> tags_;
    std::uint64_t messages_to_peer_ = 0;
    std::uint64_t messages_from_peer_ = 0;
    std::uint64_t websocket_over_limit_ = 0;
};

// ---- Lifecycle ------------------------------------------------------------------------------

void Session::Impl::start() {
    if (started_) return;
    started_ = true;
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

void Session::Impl::on_websocket_closed() {
    if (!ws_open_) return;
    ws_open_ = false;
    timer_.cancel();
    // Seam for client_id re-attach (a later task): instead of closing, a session with a
    // client_id would keep conn_ for a grace period and hand it to the next WebSocket that
    // presents the same client_id.
    close_connection("websocket closed");
}

void Session::Impl::shutdown() {
    ws_open_ = false;
    timer_.cancel();
    wipe(key_);
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

SessionStats Session::Impl::stats() const {
    SessionStats s;
    s.connection_id = id_;
    s.remote = remote_.to_string();
    s.client_id = client_id_;
    s.status = status_;
    s.websocket_open = ws_open_;
    if (conn_) s.link = conn_->stats();
    s.pending_bytes = pending_bytes_;
    s.messages_to_peer = messages_to_peer_;
    s.messages_from_peer = messages_from_peer_;
    s.websocket_over_limit = websocket_over_limit_;
    return s;
}

// ---- Client -> peer -------------------------------------------------------------------------

void Session::Impl::on_text_frame(std::string_view frame) {
    if (!ws_open_) return;
    on_decoded(decode_client_text_frame(frame, options_.limits));
}

void Session::Impl::on_binary_frame(srmudp::ByteView frame) {
    if (!ws_open_) return;
    on_decoded(decode_client_binary_frame(frame, options_.limits));
}

void Session::Impl::on_decoded(std::variant<ClientData, FrameError>&& decoded) {
    if (auto* error = std::get_if<FrameError>(&decoded)) {
        on_frame_error(*error);
        return;
    }
    submit(std::get<ClientData>(std::move(decoded)));
}

void Session::Impl::on_frame_error(const FrameError& error) {
    send_frame(encode_error(id_, error.message, error.id));
    if (error.severity != Severity::recoverable) {
        end_websocket(close_code(error.severity), error.message);
    }
}

void Session::Impl::submit(ClientData&& data) {
    if (failed_ || !conn_) {
        send_frame(
            encode_error(id_, "message not sent: there is no connection to the peer", data.id));
        return;
    }
    // Keep the client's order: nothing overtakes a message waiting for buffer space.
    if (pending_.empty() && try_send(data)) return;
    if (!pending_.empty() && pending_bytes_ + data.data.size() > options_.max_pending_bytes) {
        const std::string message = "the client sent more than " +
                                    std::to_string(options_.max_pending_bytes) +
                                    " bytes while the proxy had paused reading";
        send_frame(encode_error(id_, message, data.id));
        end_websocket(close_code(Severity::close_policy), message);
        return;
    }
    pending_bytes_ += data.data.size();
    pending_.push_back(std::move(data));
    if (!paused_) {
        paused_ = true;
        ws_->pause_reading();
    }
}

// Hands one message to srmudp. False only when the send buffer is full (the caller keeps it);
// any other refusal is answered with an error frame.
bool Session::Impl::try_send(ClientData& data) {
    srmudp::MessageId message_id = 0;
    const std::error_code ec = conn_->send(data.kind, srmudp::ByteView(data.data), message_id);
    if (ec == srmudp::error::send_buffer_full) return false;
    if (ec == srmudp::error::message_too_large) {
        send_frame(encode_error(id_,
                                "message of " + std::to_string(data.data.size()) +
                                    " bytes is larger than the UDP connection accepts",
                                data.id));
    } else if (ec) {
        send_frame(encode_error(id_, session::undelivered_message(ec, remote_), data.id));
    } else {
        ++messages_to_peer_;
        if (data.id) tags_.emplace(message_id, std::move(*data.id));
    }
    return true;
}

void Session::Impl::drain_pending() {
    while (!pending_.empty() && conn_ && !failed_) {
        ClientData& front = pending_.front();
        const std::size_t size = front.data.size();
        if (!try_send(front)) return;
        pending_bytes_ -= size;
        pending_.pop_front();
    }
    if (paused_ && ws_open_) {
        paused_ = false;
        ws_->resume_reading();
    }
}

// ---- srmudp -> client -----------------------------------------------------------------------

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
            change_status(Status::reconnecting, "connection to " + peer + " lost; reconnecting");
            return;
        case State::closing:
        case State::closed:
            if (reason == srmudp::error::closed_locally) return;  // we closed it
            fail(session::failure_message(reason, remote_, options_.connect_timeout));
            return;
    }
}

void Session::Impl::on_message(srmudp::Message&& message) {
    if (!ws_open_) return;
    // encode_data's JSON writer measures strings in 32 bits.
    if (message.data.size() >= (std::uint64_t{1} << 32)) {
        send_frame(encode_error(id_, "a message from the peer was too large to forward"));
        return;
    }
    if (ws_->buffered_amount() > options_.max_websocket_buffered_bytes) ++websocket_over_limit_;
    ++messages_from_peer_;
    send_frame(encode_data(message.kind, srmudp::ByteView(message.data)));
}

void Session::Impl::on_delivered(srmudp::MessageId id) {
    const auto end = tags_.upper_bound(id);
    for (auto it = tags_.begin(); it != end; ++it)
        send_frame(encode_ack(it->second));
    tags_.erase(tags_.begin(), end);
}

void Session::Impl::on_failed(srmudp::MessageId id, std::error_code reason) {
    const auto it = tags_.find(id);
    if (it == tags_.end()) return;
    send_frame(encode_error(id_, session::undelivered_message(reason, remote_), it->second));
    tags_.erase(it);
}

// ---- Status and ending ----------------------------------------------------------------------

void Session::Impl::change_status(Status status, std::string message) {
    status_ = status;
    status_message_ = std::move(message);
    send_frame(encode_status(status_, id_, status_message_));
    arm_status_timer();
}

void Session::Impl::arm_status_timer() {
    timer_.cancel();
    if (options_.status_interval <= srmudp::Duration::zero() || !ws_open_ || failed_) return;
    timer_.expires_after(options_.status_interval);
    timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->on_status_timer();
    });
}

void Session::Impl::on_status_timer() {
    if (!ws_open_ || failed_) return;
    std::optional<LinkStats> link;
    if (conn_) link = session::to_link_stats(conn_->stats());
    send_frame(encode_status(status_, id_, status_message_, link));
    arm_status_timer();
}

// ERROR, an error frame, an error frame for every message of the client still in flight, then
// close 1011. Runs once: srmudp reports both closing and closed.
void Session::Impl::fail(const std::string& message) {
    if (failed_) return;
    failed_ = true;
    if (!ws_open_) return;
    change_status(Status::error, message);
    send_frame(encode_error(id_, message));
    fail_outstanding(srmudp::make_error_code(srmudp::error::connection_closed));
    end_websocket(1011, message);
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
// connection goes too.
void Session::Impl::end_websocket(std::uint16_t code, const std::string& message) {
    if (!ws_open_) return;
    ws_open_ = false;
    timer_.cancel();
    ws_->close(code, close_reason(message));
    close_connection("websocket closed");
}

void Session::Impl::send_frame(std::string frame) {
    if (ws_open_) ws_->send_text(std::move(frame));
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

void Session::on_websocket_closed() {
    const auto keep = impl_;
    keep->on_websocket_closed();
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
