// The state of one bridge session (wsbridge/session.hpp), shared by the files that implement it:
// session.cpp (lifecycle, status, attach/detach, ending), session_client.cpp (client -> peer) and
// session_peer.cpp (peer -> client, replay, receive backpressure).
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <asio/steady_timer.hpp>

#include "srmudp/endpoint.hpp"
#include "wsbridge/session.hpp"

namespace wsbridge {

class Session::Impl : public std::enable_shared_from_this<Session::Impl> {
  public:
    Impl(asio::io_context& io, srmudp::Endpoint& endpoint, std::shared_ptr<WebSocketSide> ws,
         ProxyRequest request, std::string connection_id, SessionOptions options);

    // session.cpp
    void start();
    void on_websocket_closed(bool dropped);
    bool key_matches(std::string_view key) const;
    bool attach(std::shared_ptr<WebSocketSide> ws, std::optional<std::uint64_t> last_seq);
    bool attached_to(const WebSocketSide* ws) const { return ws_ && ws_.get() == ws; }
    void end(const std::string& reason);
    void set_on_finished(std::function<void()> f) { on_finished_ = std::move(f); }
    bool finished() const { return finished_; }
    SessionStats stats() const;
    void shutdown();
    // session_client.cpp
    void on_text_frame(std::string_view frame);
    void on_binary_frame(srmudp::ByteView frame);

  private:
    // session.cpp
    srmudp::ConnectionHandlers make_handlers();
    void on_state(srmudp::ConnectionState state, std::error_code reason);
    void change_status(Status status, std::string message);
    void arm_status_timer();
    void on_status_timer();
    void fail(const std::string& message);
    void fail_outstanding(std::error_code reason);
    void end_websocket(std::uint16_t code, const std::string& message);
    void detach();
    void on_grace_expired();
    void close_connection(std::string_view reason);
    void finish();
    void touch();
    void arm_idle_timer();
    void on_idle_timer();
    void send_frame(std::string frame);
    // The client's data messages taken so far, for status frames of re-attachable sessions.
    std::optional<std::uint64_t> received_count() const {
        if (!client_id_) return std::nullopt;
        return client_messages_;
    }
    // session_client.cpp
    void on_decoded(std::variant<ClientData, FrameError>&& decoded);
    void on_frame_error(const FrameError& error);
    void submit(ClientData&& data);
    bool try_send(ClientData& data);
    void drain_pending();
    void on_delivered(srmudp::MessageId id);
    void on_failed(srmudp::MessageId id, std::error_code reason);
    void send_control(std::string frame);
    // session_peer.cpp
    void on_message(srmudp::Message&& message);
    void keep_for_replay(std::uint64_t seq, const std::string& frame);
    void replay(std::optional<std::uint64_t> last_seq);
    void update_receive_pause();
    void arm_drain_timer();
    bool replay_enabled() const;

    srmudp::Endpoint& endpoint_;
    std::shared_ptr<WebSocketSide> ws_;  // null while detached or after the end
    asio::steady_timer status_timer_;
    asio::steady_timer grace_timer_;
    asio::steady_timer idle_timer_;
    asio::steady_timer drain_timer_;
    srmudp::PeerAddress remote_;
    std::optional<std::string> client_id_;
    std::string key_;  // only until start() has passed it to srmudp
    std::array<std::uint8_t, 16> key_salt_{};
    std::array<std::uint8_t, 32> key_hash_{};
    std::string id_;
    SessionOptions options_;
    std::shared_ptr<srmudp::Connection> conn_;
    std::function<void()> on_finished_;

    Status status_ = Status::connected;
    std::string status_message_;
    bool started_ = false;
    bool failed_ = false;    // the srmudp connection is over (or never started)
    bool finished_ = false;  // the owner may drop the session
    bool ws_ended_ = false;  // the session closed its WebSocket itself: no re-attach
    bool established_once_ = false;
    bool reading_paused_ = false;  // client -> peer: WebSocket reading paused
    bool receive_paused_ = false;  // peer -> client: srmudp receiving paused
    srmudp::TimePoint last_activity_{};
    // Client messages srmudp's full send buffer refused, oldest first.
    std::deque<ClientData> pending_;
    std::size_t pending_bytes_ = 0;
    // Client ids of messages in flight, by srmudp message id (ordered: a delivery covers all
    // earlier messages).
    std::map<srmudp::MessageId, MessageTag> tags_;
    // Acks and errors that came while no WebSocket was attached, for the next one.
    std::deque<std::string> held_control_;
    // Data frames by seq: sent ones kept for replay (client_id sessions) and unsent ones.
    std::deque<std::pair<std::uint64_t, std::string>> replay_;
    std::size_t replay_bytes_ = 0;
    std::uint64_t next_seq_ = 1;
    std::uint64_t sent_seq_ = 0;         // highest seq handed to a WebSocket
    std::uint64_t client_messages_ = 0;  // WebSocket data messages from the client, good or bad
    std::uint64_t messages_to_peer_ = 0;
    std::uint64_t messages_from_peer_ = 0;
    std::uint64_t receive_pauses_ = 0;
    std::uint64_t reattaches_ = 0;
};

// Adds to the bridge's counters if there are any.
inline void count(const std::shared_ptr<BridgeCounters>& counters,
                  std::uint64_t BridgeCounters::*field, std::uint64_t n = 1) {
    if (counters) (*counters).*field += n;
}

}  // namespace wsbridge
