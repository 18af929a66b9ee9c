// One bridge session: a WebSocket client on one side, one srmudp connection on the other.
//
// The session speaks the seed's WebSocket protocol (wsbridge/protocol.hpp) towards the client and
// drives an srmudp::Connection towards the peer. It never touches a WebSocket library: it talks
// to a WebSocketSide, which the websocketpp glue implements (and a fake does in the tests).
//
//   auto session = std::make_shared<wsbridge::Session>(io, endpoint, ws, request, id, options);
//   session->start();                         // once the WebSocket is open
//   session->on_text_frame(frame);            // for each text frame from the client
//   session->on_binary_frame(bytes);          // for each binary frame (one raw binary message)
//   session->on_websocket_closed();           // when the client went away
//
// Status frames go out on every change (CONNECTED, UDP_WAITING, UDP_ESTABLISHED, RECONNECTING,
// ERROR) and every status_interval while nothing changes, those with link statistics. When the
// srmudp connection fails the client gets ERROR, an error frame, and the WebSocket is closed with
// 1011. The encryption key is handed to srmudp on start() and then wiped: it never appears in a
// frame, a close reason or stats().
//
// Memory is bounded both ways: a full srmudp send buffer pauses reading the WebSocket, and a
// WebSocket that does not drain pauses receiving from srmudp (the peer's sender then stops at
// the receive window). A session with a client_id survives a dropped WebSocket for
// reattach_grace: srmudp receiving is paused meanwhile, and attach() replays what the client
// missed, numbered by the data frames' "seq".
//
// Not thread-safe: call everything on the io_context's thread, like srmudp::Endpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "srmudp/bytes.hpp"
#include "srmudp/events.hpp"
#include "srmudp/time.hpp"
#include "wsbridge/protocol.hpp"

namespace asio {
class io_context;
}

namespace srmudp {
class Endpoint;
}

namespace wsbridge {

// The WebSocket as the session sees it. The glue implements it; calls come from the io_context's
// thread. After close() the session sends nothing more.
class WebSocketSide {
  public:
    virtual ~WebSocketSide() = default;
    virtual void send_text(std::string frame) = 0;
    virtual void send_binary(srmudp::Bytes frame) = 0;
    // Closes the WebSocket with an RFC 6455 close code; reason is at most 123 bytes of UTF-8.
    virtual void close(std::uint16_t code, std::string reason) = 0;
    // Stop and restart reading frames from the client (backpressure towards the client).
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    // Bytes queued towards the client and not yet written to its socket.
    virtual std::size_t buffered_amount() const = 0;
};

// Counters shared by every session of a bridge (for /metrics). Sessions add to them; nothing
// ever subtracts. Plain integers: everything runs on the io_context's thread.
struct BridgeCounters {
    std::uint64_t messages_to_peer = 0;
    std::uint64_t messages_from_peer = 0;
    std::uint64_t bytes_to_peer = 0;    // message payload accepted by srmudp
    std::uint64_t bytes_from_peer = 0;  // message payload forwarded to a client
    std::uint64_t established = 0;      // srmudp handshakes completed (first and re-established)
    std::uint64_t reconnects = 0;       // the srmudp connection went to reconnecting
    std::uint64_t errors = 0;           // sessions that ended with ERROR
    std::uint64_t reattaches = 0;       // WebSockets re-attached by client_id
    std::uint64_t idle_closed = 0;      // sessions ended by the idle timeout
};

struct SessionOptions {
    // Regular status frames (with stats) while the status stays the same; zero turns them off.
    srmudp::Duration status_interval = srmudp::seconds(10);
    // The srmudp handshake gives up (ERROR "no answer from ...") after this long.
    srmudp::Duration connect_timeout = srmudp::seconds(30);
    Limits limits;
    // Client messages kept while srmudp's send buffer is full and reading is paused (frames the
    // glue had already read). One message is always kept; beyond this the WebSocket is closed
    // with 1008.
    std::size_t max_pending_bytes = std::size_t{32} << 20;
    // Peer -> client backpressure: while WebSocketSide::buffered_amount() is above this, the
    // session stops taking messages from srmudp (Connection::pause_receiving), so the peer's
    // sender stops once srmudp's receive window is full; it resumes below half of it.
    std::size_t max_websocket_buffered_bytes = std::size_t{8} << 20;
    // No data frame in either direction for this long ends the session (error frame, close 1000,
    // graceful srmudp close). Zero: never.
    srmudp::Duration idle_timeout = srmudp::seconds(3600);
    // A session with a client_id whose WebSocket drops keeps its srmudp connection this long for
    // the same client to re-attach (attach()); zero: the session ends with its WebSocket.
    srmudp::Duration reattach_grace = srmudp::seconds(30);
    // Data frames a client_id session keeps after sending them, so that a client that re-attaches
    // with last_seq gets what its dropped WebSocket never delivered. The newest frame is always
    // kept, whatever its size.
    std::size_t replay_bytes = std::size_t{16} << 20;
    // Where the session adds its counts; may be null.
    std::shared_ptr<BridgeCounters> counters;
};

// One row of a connections listing. Never contains the key.
struct SessionStats {
    std::string connection_id;
    std::string remote;  // "1.2.3.4:5" or "[::1]:5"
    std::optional<std::string> client_id;
    Status status = Status::connected;
    bool websocket_open = false;     // a WebSocket is attached
    bool awaiting_reattach = false;  // detached, within the grace period
    srmudp::ConnectionStats link;    // zero until start()
    std::size_t pending_bytes = 0;
    std::size_t replay_bytes = 0;
    bool receive_paused = false;           // srmudp receiving paused (slow or absent client)
    std::uint64_t messages_to_peer = 0;    // accepted by srmudp
    std::uint64_t messages_from_peer = 0;  // forwarded to the client
    std::uint64_t receive_pauses = 0;      // times a slow client paused srmudp receiving
    std::uint64_t reattaches = 0;
};

class Session {
  public:
    // request must come from parse_proxy_request (validated). connection_id is the session's id
    // in every frame (random, 16 hex characters: see make_connection_id). The endpoint and the
    // io_context must outlive the session.
    Session(asio::io_context& io, srmudp::Endpoint& endpoint, std::shared_ptr<WebSocketSide> ws,
            ProxyRequest request, std::string connection_id, SessionOptions options = {});
    // Closes the srmudp connection gracefully if it is still open; calls nothing on the WebSocket.
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Sends CONNECTED, starts the srmudp connect, sends UDP_WAITING. If connect() refuses (the
    // endpoint cannot reach the peer's address family), sends ERROR and an error frame and
    // closes the WebSocket with 1011. Call once.
    void start();

    // A text frame from the client: a JSON data frame. A bad frame is answered with an error frame
    // (with the frame's "id" if it had one); an oversized one also closes with 1009.
    void on_text_frame(std::string_view frame);
    // A binary frame from the client: one binary message, raw. Oversized: error frame and 1009.
    void on_binary_frame(srmudp::ByteView frame);

    // The client's WebSocket closed. dropped: it broke without a close handshake from the client
    // (a lost connection, not a goodbye); then a session with a client_id, a live srmudp
    // connection and a non-zero reattach_grace waits for attach(). Otherwise the srmudp
    // connection closes gracefully (code 0, "websocket closed") and the session is finished.
    // Call it for the attached WebSocket only; nothing is sent to it afterwards.
    void on_websocket_closed(bool dropped = true);

    // True if key is the key this session was opened with (compared in constant time against a
    // salted hash; the key itself is not kept).
    bool key_matches(std::string_view key) const;
    // The same client is back (same client_id, remote and key: the caller checks). A WebSocket
    // still attached is closed with 4000 "replaced by a new connection". The new one gets the
    // current status, the data frames after last_seq (all unsent ones without it; an error frame
    // if some are no longer kept), acks and errors that came meanwhile, then live traffic.
    // False, and nothing changes, if the session can no longer take a client (it failed, ended
    // or closed its WebSocket itself): the caller starts a new session instead.
    bool attach(std::shared_ptr<WebSocketSide> ws, std::optional<std::uint64_t> last_seq);
    // True if ws is the WebSocket currently attached.
    bool attached_to(const WebSocketSide* ws) const;

    // Server shutdown: ERROR "<reason>" to the client, close 1001, graceful srmudp close; the
    // session is finished.
    void end(const std::string& reason);

    // Called once when the session is finished (its WebSocket gone for good, its srmudp
    // connection closing): the owner may drop it. Called from the io_context, never from inside
    // a Session call.
    void set_on_finished(std::function<void()> on_finished);
    bool finished() const;

    SessionStats stats() const;

    class Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

// A fresh connection id: 16 lowercase hex characters from OpenSSL's CSPRNG.
std::string make_connection_id();

}  // namespace wsbridge
