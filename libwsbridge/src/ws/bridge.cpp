// The websocketpp glue: a websocketpp server (standalone Asio) whose connections become
// Sessions. This is the only translation unit that includes websocketpp (one TU takes ~12 s to
// compile). RFC 6455 handling, the HTTP upgrade and the close handshake are websocketpp's; this
// file only maps its handlers onto wsbridge::Session and Session's WebSocketSide onto a
// websocketpp connection.
//
// Lifetime: websocketpp copies the handlers into every connection it creates, so a connection
// may outlive the Bridge on the io_context's queue; the handlers therefore hold a weak_ptr to
// the Impl and do nothing once it is gone.
#include "wsbridge/bridge.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "wsbridge/protocol.hpp"

namespace wsbridge {

namespace {

using Server = websocketpp::server<websocketpp::config::asio>;
using Handle = websocketpp::connection_hdl;
using Opcode = websocketpp::frame::opcode::value;

constexpr std::uint16_t kGoingAway = 1001;  // RFC 6455 section 7.4.1

// Session's WebSocketSide over one websocketpp connection. It holds only the handle (a weak
// pointer), not the server: once the connection is gone every call does nothing, even if the
// session outlives the Bridge.
class ConnectionSide final : public WebSocketSide {
  public:
    explicit ConnectionSide(Handle handle) : handle_(std::move(handle)) {}

    void send_text(std::string frame) override {
        if (auto con = connection()) con->send(frame, websocketpp::frame::opcode::text);
    }
    void send_binary(srmudp::Bytes frame) override {
        if (auto con = connection())
            con->send(frame.data(), frame.size(), websocketpp::frame::opcode::binary);
    }
    void close(std::uint16_t code, std::string reason) override {
        websocketpp::lib::error_code ec;
        if (auto con = connection()) con->close(code, reason, ec);
    }
    void pause_reading() override {
        if (auto con = connection()) con->pause_reading();
    }
    void resume_reading() override {
        if (auto con = connection()) con->resume_reading();
    }
    std::size_t buffered_amount() const override {
        auto con = connection();
        return con ? con->get_buffered_amount() : 0;
    }

  private:
    // Every handle of this server names a Server::connection_type (what get_con_from_hdl checks).
    Server::connection_ptr connection() const {
        return std::static_pointer_cast<Server::connection_type>(handle_.lock());
    }

    Handle handle_;
};

// What the bridge knows about one connection: the validated request until it opens, then the
// session.
struct Entry {
    std::optional<ProxyRequest> request;
    std::shared_ptr<Session> session;
};

}  // namespace

class Bridge::Impl : public std::enable_shared_from_this<Bridge::Impl> {
  public:
    Impl(asio::io_context& io, srmudp::Endpoint& endpoint, BridgeOptions options)
        : io_(io), endpoint_(endpoint), options_(std::move(options)) {}

    std::error_code start();
    void stop();
    std::uint16_t local_port() const { return port_; }
    std::vector<SessionStats> sessions() const;

  private:
    void install_handlers();
    bool on_validate(Handle handle);
    void on_open(Handle handle);
    void on_message(Handle handle, const Server::message_ptr& message);
    void on_end(Handle handle);

    asio::io_context& io_;
    srmudp::Endpoint& endpoint_;
    BridgeOptions options_;
    Server server_;
    std::map<Handle, Entry, std::owner_less<Handle>> connections_;
    std::uint16_t port_ = 0;
    bool started_ = false;
};

std::error_code Bridge::Impl::start() {
    if (started_) return std::make_error_code(std::errc::operation_not_permitted);
    started_ = true;
    // Only fatal errors go to stderr: access logs would mix with the host program's output, and
    // websocketpp logs every rejected upgrade request (a client's mistake) as an error.
    server_.clear_access_channels(websocketpp::log::alevel::all);
    server_.clear_error_channels(websocketpp::log::elevel::all);
    server_.set_error_channels(websocketpp::log::elevel::fatal);
    websocketpp::lib::error_code ec;
    server_.init_asio(&io_, ec);
    if (ec) return ec;
    server_.set_reuse_addr(true);
    server_.set_max_message_size(options_.session.limits.max_frame_bytes);
    install_handlers();
    server_.listen(options_.host, std::to_string(options_.port), ec);
    if (ec) return ec;
    asio::error_code local_ec;
    port_ = server_.get_local_endpoint(local_ec).port();
    if (local_ec) return local_ec;
    server_.start_accept(ec);
    return ec;
}

void Bridge::Impl::install_handlers() {
    std::weak_ptr<Impl> weak = weak_from_this();
    server_.set_validate_handler([weak](Handle h) {
        auto self = weak.lock();
        return self && self->on_validate(std::move(h));
    });
    server_.set_open_handler([weak](Handle h) {
        if (auto self = weak.lock()) self->on_open(std::move(h));
    });
    server_.set_message_handler([weak](Handle h, Server::message_ptr m) {
        if (auto self = weak.lock()) self->on_message(std::move(h), m);
    });
    // A rejected or failed handshake ends in the fail handler, an open WebSocket in close.
    server_.set_close_handler([weak](Handle h) {
        if (auto self = weak.lock()) self->on_end(std::move(h));
    });
    server_.set_fail_handler([weak](Handle h) {
        if (auto self = weak.lock()) self->on_end(std::move(h));
    });
}

void Bridge::Impl::stop() {
    if (!started_) return;
    websocketpp::lib::error_code ec;
    if (server_.is_listening()) server_.stop_listening(ec);
    // Copy the handles: a close may run handlers that erase entries.
    std::vector<Handle> handles;
    for (const auto& [handle, entry] : connections_)
        handles.push_back(handle);
    for (const auto& handle : handles)
        server_.close(handle, kGoingAway, "bridge stopping", ec);
}

bool Bridge::Impl::on_validate(Handle handle) {
    websocketpp::lib::error_code ec;
    auto con = server_.get_con_from_hdl(handle, ec);
    if (ec) return false;
    // get_request_header() cannot tell an absent header from an empty one; the header map can.
    const auto& headers = con->get_request().get_headers();
    std::optional<std::string_view> key_header;
    if (auto it = headers.find("X-Encryption-Key"); it != headers.end()) key_header = it->second;

    auto parsed = parse_proxy_request(con->get_resource(), key_header);
    if (auto* error = std::get_if<RequestError>(&parsed)) {
        con->set_status(websocketpp::http::status_code::bad_request);
        con->replace_header("Content-Type", "text/plain; charset=utf-8");
        con->set_body(error->message);
        return false;
    }
    connections_[handle].request = std::move(std::get<ProxyRequest>(parsed));
    return true;
}

void Bridge::Impl::on_open(Handle handle) {
    auto it = connections_.find(handle);
    if (it == connections_.end() || !it->second.request) return;
    auto side = std::make_shared<ConnectionSide>(handle);
    auto session =
        std::make_shared<Session>(io_, endpoint_, std::move(side), std::move(*it->second.request),
                                  make_connection_id(), options_.session);
    it->second.request.reset();
    it->second.session = session;
    // start() may close the WebSocket; the close handler runs later, from the io_context.
    session->start();
}

void Bridge::Impl::on_message(Handle handle, const Server::message_ptr& message) {
    auto it = connections_.find(handle);
    if (it == connections_.end() || !it->second.session) return;
    // Keep the session alive while it handles the frame, whatever its handlers do to the map.
    auto session = it->second.session;
    const std::string& payload = message->get_payload();
    if (message->get_opcode() == websocketpp::frame::opcode::binary) {
        session->on_binary_frame(srmudp::as_bytes(payload));
    } else {
        session->on_text_frame(payload);
    }
}

void Bridge::Impl::on_end(Handle handle) {
    auto it = connections_.find(handle);
    if (it == connections_.end()) return;
    auto session = std::move(it->second.session);
    connections_.erase(it);
    if (session) session->on_websocket_closed();
}

std::vector<SessionStats> Bridge::Impl::sessions() const {
    std::vector<SessionStats> rows;
    for (const auto& [handle, entry] : connections_) {
        if (entry.session) rows.push_back(entry.session->stats());
    }
    return rows;
}

Bridge::Bridge(asio::io_context& io, srmudp::Endpoint& endpoint, BridgeOptions options)
    : impl_(std::make_shared<Impl>(io, endpoint, std::move(options))) {}

Bridge::~Bridge() {
    impl_->stop();
}

std::error_code Bridge::start() {
    return impl_->start();
}

std::uint16_t Bridge::local_port() const {
    return impl_->local_port();
}

void Bridge::stop() {
    impl_->stop();
}

std::vector<SessionStats> Bridge::sessions() const {
    return impl_->sessions();
}

}  // namespace wsbridge
