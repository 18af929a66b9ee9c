// The websocketpp server behind wsbridge::Bridge, for one websocketpp config (plain or TLS):
// listening, the bridge's WebSocket endpoint through WebsocketppAdapter and the Hub, and plain
// HTTP requests handed to BridgeOptions::http (answered at once or deferred).
//
// Included by exactly two translation units, bridge_plain.cpp and bridge_tls.cpp, one per
// config: a websocketpp translation unit takes ~12 s to compile.
//
// Lifetime: websocketpp copies the handlers into every connection it creates, so a connection
// may outlive the Bridge on the io_context's queue; the handlers therefore hold a weak_ptr to
// the server and do nothing once it is gone.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <websocketpp/server.hpp>

#include "ws/bridge_impl.hpp"
#include "wsbridge/websocketpp_adapter.hpp"

namespace wsbridge {

namespace ws {

template <class Config>
class Server : public Bridge::Impl, public std::enable_shared_from_this<Server<Config>> {
  public:
    using WsServer = websocketpp::server<Config>;
    using Handle = websocketpp::connection_hdl;

    Server(asio::io_context& io, srmudp::Endpoint& endpoint, BridgeOptions options)
        : io_(io),
          options_(std::move(options)),
          hub_(io, endpoint, options_.hub),
          adapter_(server_, hub_) {}

    ~Server() override { stop("the proxy is shutting down"); }

    std::optional<std::string> start() override {
        if (started_) return std::string("the bridge was already started");
        started_ = true;
        // websocketpp logs nothing: access logs would mix with the host program's output, and
        // its error channels report clients' mistakes and dropped connections (even at "fatal"
        // level); what matters reaches the host through the Hub's events and HTTP statuses.
        server_.clear_access_channels(websocketpp::log::alevel::all);
        server_.clear_error_channels(websocketpp::log::elevel::all);
        std::error_code ec;
        server_.init_asio(&io_, ec);
        if (ec) return "cannot set up the WebSocket server: " + ec.message();
        if (auto error = prepare()) return error;
        server_.set_reuse_addr(true);
        server_.set_max_http_body_size(options_.max_http_body_bytes);
        install_handlers();
        server_.listen(options_.host, std::to_string(options_.port), ec);
        if (ec) {
            return "cannot listen on " + options_.host + " port " + std::to_string(options_.port) +
                   ": " + ec.message();
        }
        asio::error_code local_ec;
        port_ = server_.get_local_endpoint(local_ec).port();
        if (local_ec) return "cannot read the listening port: " + local_ec.message();
        server_.start_accept(ec);
        if (ec) return "cannot accept connections: " + ec.message();
        return std::nullopt;
    }

    void stop(const std::string& reason) override {
        if (!started_ || stopped_) return;
        stopped_ = true;
        std::error_code ec;
        if (server_.is_listening()) server_.stop_listening(ec);
        hub_.shutdown(reason);
    }

    std::uint16_t local_port() const override { return port_; }
    bool tls() const override { return false; }
    std::size_t open_connections() const override { return adapter_.connection_count(); }
    Hub& hub() override { return hub_; }

  protected:
    // The TLS server loads its certificate here; nullopt or what failed.
    virtual std::optional<std::string> prepare() { return std::nullopt; }
    WsServer& server() { return server_; }
    const BridgeOptions& options() const { return options_; }

  private:
    // Whether the response was given while the handler ran, or must be sent later.
    struct Pending {
        bool in_handler = true;
        typename WsServer::connection_ptr connection;  // until answered
    };

    // The adapter's handlers, each through a weak_ptr (see the lifetime note at the top).
    void install_handlers() {
        server_.set_max_message_size(options_.hub.session.limits.max_frame_bytes);
        std::weak_ptr<Server> weak = this->weak_from_this();
        server_.set_validate_handler([weak](Handle h) {
            auto self = weak.lock();
            return self && self->adapter_.validate_or_refuse(std::move(h));
        });
        server_.set_open_handler([weak](Handle h) {
            if (auto self = weak.lock()) self->adapter_.open(std::move(h));
        });
        server_.set_message_handler([weak](Handle h, typename WsServer::message_ptr m) {
            if (auto self = weak.lock()) self->adapter_.message(std::move(h), m);
        });
        server_.set_close_handler([weak](Handle h) {
            if (auto self = weak.lock()) self->adapter_.close(std::move(h));
        });
        server_.set_fail_handler([weak](Handle h) {
            if (auto self = weak.lock()) self->adapter_.close(std::move(h));
        });
        server_.set_http_handler([weak](Handle h) {
            if (auto self = weak.lock()) self->on_http(std::move(h));
        });
    }

    void on_http(Handle handle) {
        std::error_code ec;
        auto con = server_.get_con_from_hdl(handle, ec);
        if (ec) return;
        if (!options_.http) {
            con->set_status(websocketpp::http::status_code::not_found);
            con->set_body("not found\n");
            return;
        }
        HttpRequest request;
        request.method = con->get_request().get_method();
        request.resource = con->get_resource();
        request.client_address = websocketpp_client_address(con);
        for (const auto& [name, value] : con->get_request().get_headers()) {
            std::string lower = name;
            for (char& c : lower)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            request.headers.emplace_back(std::move(lower), value);
        }
        auto pending = std::make_shared<Pending>();
        // The responder holds the connection: after defer_http_response() nothing else does, and
        // websocketpp would drop it before a later answer. Answering releases it.
        pending->connection = con;
        options_.http(request, [pending](HttpResponse response) {
            auto c = std::move(pending->connection);
            if (!c) return;  // answered already
            c->set_status(static_cast<websocketpp::http::status_code::value>(response.status));
            c->replace_header("Content-Type", response.content_type);
            for (const auto& [name, value] : response.headers)
                c->replace_header(name, value);
            c->set_body(std::move(response.body));
            if (!pending->in_handler) {
                std::error_code send_ec;  // the client may have gone meanwhile
                c->send_http_response(send_ec);
            }
        });
        pending->in_handler = false;
        if (pending->connection) con->defer_http_response();
    }

    asio::io_context& io_;
    BridgeOptions options_;
    WsServer server_;
    Hub hub_;
    WebsocketppAdapter<WsServer> adapter_;
    std::uint16_t port_ = 0;
    bool started_ = false;
    bool stopped_ = false;
};

}  // namespace ws
}  // namespace wsbridge
