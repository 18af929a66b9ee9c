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
// Not thread-safe: call everything on the io_context's thread, like srmudp::Endpoint.
#pragma once

#include <cstddef>
#include <cstdint>
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
    // Above this WebSocketSide::buffered_amount(), peer messages are counted as over the limit in
    // SessionStats (they are still delivered: srmudp cannot pause receiving yet).
    std::size_t max_websocket_buffered_bytes = std::size_t{64} << 20;
};

// One row of a connections listing. Never contains the key.
struct SessionStats {
    std::string connection_id;
    std::string remote;  // "1.2.3.4:5" or "[::1]:5"
    std::optional<std::string> client_id;
    Status status = Status::connected;
    bool websocket_open = false;
    srmudp::ConnectionStats link;  // zero until start()
    std::size_t pending_bytes = 0;
    std::uint64_t messages_to_peer = 0;    // accepted by srmudp
    std::uint64_t messages_from_peer = 0;  // forwarded to the client
    std::uint64_t websocket_over_limit = 0;
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
    // endpoint already has a connection to that peer, or cannot reach its address family), sends
    // ERROR and an error frame and closes the WebSocket with 1011. Call once.
    void start();

    // A text frame from the client: a JSON data frame. A bad frame is answered with an error frame
    // (with the frame's "id" if it had one); an oversized one also closes with 1009.
    void on_text_frame(std::string_view frame);
    // A binary frame from the client: one binary message, raw. Oversized: error frame and 1009.
    void on_binary_frame(srmudp::ByteView frame);

    // The client closed the WebSocket (or it broke): closes the srmudp connection gracefully
    // (code 0, "websocket closed"). Nothing is sent to the WebSocket afterwards.
    void on_websocket_closed();

    SessionStats stats() const;

    class Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

// A fresh connection id: 16 lowercase hex characters from OpenSSL's CSPRNG.
std::string make_connection_id();

}  // namespace wsbridge
