// wsbridge::WebsocketppAdapter: serves the bridge's endpoint /v0/ws/proxy on a websocketpp server
// that the host program owns and that keeps its own routes.
//
// This header includes websocketpp: include it only in the one translation unit that already
// sets up the host's websocketpp server (a websocketpp translation unit takes ~12 s to compile).
// Server is websocketpp::server<Config> for any Asio config, with or without TLS. The host
// forwards its handlers; each call returns whether the connection was the bridge's:
//
//   wsbridge::Hub hub(io, endpoint, hub_options);
//   wsbridge::WebsocketppAdapter<Server> bridge(server, hub);
//   server.set_validate_handler([&](hdl h) {
//       if (auto verdict = bridge.validate(h)) return *verdict;   // /v0/ws/proxy
//       return my_validate(h);                                    // the host's own routes
//   });
//   server.set_open_handler([&](hdl h) { if (!bridge.open(h)) my_open(h); });
//   server.set_message_handler([&](hdl h, msg_ptr m) { if (!bridge.message(h, m)) my_message(h, m);
//   }); server.set_close_handler([&](hdl h) { if (!bridge.close(h)) my_close(h); });
//   server.set_fail_handler([&](hdl h) { if (!bridge.close(h)) my_fail(h); });
//
// or, for a server without WebSocket routes of its own, bridge.install() sets those handlers.
// The adapter must outlive the server's connections' handler calls (keep it beside the server),
// and the Hub must outlive the adapter. A refused upgrade request gets the Hub's HTTP status and
// text; WebSocket messages above the session limits' max_frame_bytes close with 1009 (set
// server.set_max_message_size(hub.options().session.limits.max_frame_bytes), which install()
// does). While the bridge reads a client's frames it pings the client every
// HubOptions::websocket_ping_interval and closes a WebSocket that does not answer in time as
// broken. Not thread-safe: the io_context's thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <websocketpp/close.hpp>
#include <websocketpp/common/connection_hdl.hpp>
#include <websocketpp/frame.hpp>
#include <websocketpp/http/constants.hpp>

#include "wsbridge/hub.hpp"
#include "wsbridge/protocol.hpp"

namespace wsbridge {

// The TCP peer's IP address of a websocketpp connection ("127.0.0.1", "::1"; an IPv4-mapped
// IPv6 address as its IPv4 form), or "" if the socket has none.
template <class ConnectionPtr>
std::string websocketpp_client_address(const ConnectionPtr& con) {
    std::error_code ec;
    auto endpoint = con->get_raw_socket().remote_endpoint(ec);
    if (ec) return {};
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
    return address.to_string();
}

template <class Server>
class WebsocketppAdapter {
  public:
    using Handle = websocketpp::connection_hdl;
    using MessagePtr = typename Server::message_ptr;
    using ConnectionPtr = typename Server::connection_ptr;

    WebsocketppAdapter(Server& server, Hub& hub) : server_(server), hub_(hub) {}
    // Keepalive timers still pending end without calling into the adapter.
    ~WebsocketppAdapter() {
        for (auto& [handle, entry] : entries_) {
            if (entry.keepalive) entry.keepalive->cancel();
        }
    }
    WebsocketppAdapter(const WebsocketppAdapter&) = delete;
    WebsocketppAdapter& operator=(const WebsocketppAdapter&) = delete;

    // True if resource (path and query) names the bridge's endpoint.
    static bool is_bridge_resource(std::string_view resource) {
        return resource.substr(0, resource.find('?')) == kProxyPath;
    }

    // For the validate handler: nullopt if the request is not for the bridge; otherwise whether
    // to accept it (a refusal has its HTTP status, headers and text set already).
    std::optional<bool> validate(Handle handle) {
        std::error_code ec;
        ConnectionPtr con = server_.get_con_from_hdl(handle, ec);
        if (ec || !is_bridge_resource(con->get_resource())) return std::nullopt;
        const auto& headers = con->get_request().get_headers();  // case-insensitive keys
        auto header = [&](const char* name) -> std::optional<std::string_view> {
            auto it = headers.find(name);
            if (it == headers.end()) return std::nullopt;
            return std::string_view(it->second);
        };
        UpgradeRequest request;
        request.resource = con->get_resource();
        request.key_header = header("X-Encryption-Key");
        request.authorization = header("Authorization");
        request.origin = header("Origin");
        request.client_address = websocketpp_client_address(con);
        auto verdict = hub_.admit(request);
        if (auto* refusal = std::get_if<Refusal>(&verdict)) {
            con->set_status(
                static_cast<websocketpp::http::status_code::value>(refusal->http_status));
            con->replace_header("Content-Type", "text/plain; charset=utf-8");
            for (const auto& [name, value] : refusal->headers)
                con->replace_header(name, value);
            con->set_body(refusal->message + "\n");
            return false;
        }
        entries_[handle].admission.emplace(std::get<Admission>(std::move(verdict)));
        return true;
    }

    // For the open handler: false if the connection is not the bridge's.
    bool open(Handle handle) {
        auto it = entries_.find(handle);
        if (it == entries_.end()) return false;
        if (!it->second.admission) return true;
        auto side = std::make_shared<ConnectionSide>(handle);
        Admission admission = std::move(*it->second.admission);
        it->second.admission.reset();
        auto attachment = hub_.open(std::move(admission), side);
        // The session may have closed the WebSocket already; the close handler comes later.
        it = entries_.find(handle);
        if (it != entries_.end()) {
            it->second.attachment = std::move(attachment);
            it->second.side = std::move(side);
            start_keepalive(handle, it->second);
        }
        return true;
    }

    // For the message handler: false if the connection is not the bridge's.
    bool message(Handle handle, const MessagePtr& message) {
        auto it = entries_.find(handle);
        if (it == entries_.end()) return false;
        auto attachment = it->second.attachment;  // alive while it handles the frame
        if (!attachment) return true;
        const std::string& payload = message->get_payload();
        if (message->get_opcode() == websocketpp::frame::opcode::binary) {
            attachment->on_binary_frame(srmudp::as_bytes(payload));
        } else {
            attachment->on_text_frame(payload);
        }
        return true;
    }

    // For the close and fail handlers: false if the connection is not the bridge's. A client
    // that sent no close frame (1006: the connection broke) may re-attach by client_id; one that
    // said goodbye ends its session.
    bool close(Handle handle) {
        auto it = entries_.find(handle);
        if (it == entries_.end()) return false;
        auto attachment = std::move(it->second.attachment);
        if (it->second.keepalive) it->second.keepalive->cancel();
        entries_.erase(it);
        bool dropped = true;
        std::error_code ec;
        if (auto con = server_.get_con_from_hdl(handle, ec); !ec) {
            dropped = con->get_remote_close_code() == websocketpp::close::status::abnormal_close;
        }
        if (attachment) attachment->on_closed(dropped);
        return true;
    }

    // Sets the server's validate, open, message, close and fail handlers to the bridge's alone
    // (requests for other paths are refused with 404), and its largest message size.
    void install() {
        server_.set_max_message_size(hub_.options().session.limits.max_frame_bytes);
        server_.set_validate_handler([this](Handle h) { return validate_or_refuse(h); });
        server_.set_open_handler([this](Handle h) { open(h); });
        server_.set_message_handler([this](Handle h, MessagePtr m) { message(h, m); });
        server_.set_close_handler([this](Handle h) { close(h); });
        server_.set_fail_handler([this](Handle h) { close(h); });
    }

    // validate() for a server whose only WebSocket endpoint is the bridge: an upgrade request
    // for any other path gets 404 (naming the bridge's path; the request's resource is not
    // echoed, as its query may hold a key).
    bool validate_or_refuse(Handle handle) {
        if (auto verdict = validate(handle)) return *verdict;
        std::error_code ec;
        auto con = server_.get_con_from_hdl(handle, ec);
        if (ec) return false;
        con->set_status(websocketpp::http::status_code::not_found);
        con->replace_header("Content-Type", "text/plain; charset=utf-8");
        con->set_body("no WebSocket endpoint at this path; the bridge is at " +
                      std::string(kProxyPath) + "\n");
        return false;
    }

    // Bridge connections in the upgrade or open.
    std::size_t connection_count() const { return entries_.size(); }

  private:
    class ConnectionSide;
    struct Entry;

    void start_keepalive(const Handle& handle, Entry& entry) {
        const HubOptions& options = hub_.options();
        if (options.websocket_ping_interval <= srmudp::Duration::zero()) return;
        std::error_code ec;
        ConnectionPtr con = server_.get_con_from_hdl(handle, ec);
        if (ec) return;
        if (options.websocket_pong_timeout > srmudp::Duration::zero()) {
            con->set_pong_timeout(static_cast<long>(milliseconds(options.websocket_pong_timeout)));
            con->set_pong_timeout_handler(
                [this](Handle h, const std::string&) { on_pong_timeout(h); });
        }
        arm_keepalive(handle, entry);
    }

    void arm_keepalive(const Handle& handle, Entry& entry) {
        const auto interval = milliseconds(hub_.options().websocket_ping_interval);
        entry.keepalive = server_.set_timer(
            static_cast<long>(interval), [this, handle](const std::error_code& ec) {
                if (ec) return;  // cancelled: the connection closed, or the adapter is gone
                auto it = entries_.find(handle);
                if (it == entries_.end() || !it->second.side) return;
                it->second.side->ping();
                arm_keepalive(handle, it->second);
            });
    }

    // No pong in time. A side whose reading is paused cannot have read the pong: it stays.
    void on_pong_timeout(const Handle& handle) {
        auto it = entries_.find(handle);
        if (it == entries_.end() || !it->second.side || it->second.side->paused()) return;
        it->second.side->close(websocketpp::close::status::going_away, "no answer to ping");
    }

    static std::int64_t milliseconds(srmudp::Duration d) {
        return std::max<std::int64_t>(
            1, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    }

    // Session's WebSocketSide over one websocketpp connection. It holds only the handle (a weak
    // pointer): once the connection is gone every call does nothing.
    class ConnectionSide final : public WebSocketSide {
      public:
        static constexpr std::size_t kPingBelowBufferedBytes = 64 * 1024;
        explicit ConnectionSide(Handle handle) : handle_(std::move(handle)) {}
        void send_text(std::string frame) override {
            if (auto con = connection()) con->send(frame, websocketpp::frame::opcode::text);
        }
        void send_binary(srmudp::Bytes frame) override {
            if (auto con = connection())
                con->send(frame.data(), frame.size(), websocketpp::frame::opcode::binary);
        }
        void close(std::uint16_t code, std::string reason) override {
            std::error_code ec;
            if (auto con = connection()) {
                // The close handshake needs the client's close frame: read again.
                if (held_) con->resume_reading();
                con->close(code, reason, ec);
            }
            held_.reset();
        }
        // websocketpp keeps a connection alive only through its pending operations: with
        // reading paused and nothing being written, it would destroy the connection (closing
        // the socket) without calling any handler. The side holds it while paused.
        void pause_reading() override {
            if (auto con = connection()) {
                held_ = con;
                con->pause_reading();
            }
        }
        void resume_reading() override {
            if (auto con = connection()) con->resume_reading();
            held_.reset();
        }
        std::size_t buffered_amount() const override {
            auto con = connection();
            return con ? con->get_buffered_amount() : 0;
        }
        // A ping, unless reading is paused (the pong could not be read) or much is queued
        // towards the client: a ping waits behind it, and a slow but living client would then
        // miss the deadline. (A client that vanished with data queued is noticed when TCP gives
        // up, as without pings.)
        void ping() {
            if (held_) return;
            auto con = connection();
            if (!con || con->get_buffered_amount() > kPingBelowBufferedBytes) return;
            std::error_code ec;
            con->ping(std::string(), ec);
        }
        bool paused() const { return held_ != nullptr; }

      private:
        // Every handle of this server names a Server::connection_type.
        ConnectionPtr connection() const {
            return std::static_pointer_cast<typename Server::connection_type>(handle_.lock());
        }
        Handle handle_;
        ConnectionPtr held_;  // while reading is paused
    };

    struct Entry {
        std::optional<Admission> admission;  // between validate and open
        std::shared_ptr<Attachment> attachment;
        std::shared_ptr<ConnectionSide> side;
        typename Server::timer_ptr keepalive;  // the next ping
    };

    Server& server_;
    Hub& hub_;
    std::map<Handle, Entry, std::owner_less<Handle>> entries_;
};

}  // namespace wsbridge
