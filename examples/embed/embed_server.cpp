// Embedding the bridge in a websocketpp server that has routes of its own.
//
// The host program's server answers GET / with a page and echoes WebSocket messages on /echo;
// the bridge serves /v0/ws/proxy beside them through wsbridge::WebsocketppAdapter, which the
// host's handlers ask first. The srmudp endpoint is the host's own (default) or one the Hub opens
// for itself (--own-endpoint).
//
//   srmudp-embed-example [--port P] [--own-endpoint]
//
// Prints "ready WS_PORT UDP_PORT" once listening (127.0.0.1 only); SIGINT/SIGTERM end it.
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "srmudp/endpoint.hpp"
#include "wsbridge/hub.hpp"
#include "wsbridge/websocketpp_adapter.hpp"

namespace {

using Server = websocketpp::server<websocketpp::config::asio>;
using Handle = websocketpp::connection_hdl;

struct Args {
    std::uint16_t port = 0;
    bool own_endpoint = false;
};

bool parse(int argc, char** argv, Args& args) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--own-endpoint") {
            args.own_endpoint = true;
        } else if (arg == "--port" && i + 1 < argc) {
            args.port = static_cast<std::uint16_t>(std::strtoul(argv[++i], nullptr, 10));
        } else {
            return false;
        }
    }
    return true;
}

// The host program's own routes: a page and an echo WebSocket.
void serve_page(Server& server, Handle handle) {
    std::error_code ec;
    auto con = server.get_con_from_hdl(handle, ec);
    if (ec) return;
    if (con->get_resource() == "/") {
        con->set_status(websocketpp::http::status_code::ok);
        con->replace_header("Content-Type", "text/plain; charset=utf-8");
        con->set_body("the host program's own page; the bridge is at /v0/ws/proxy\n");
    } else {
        con->set_status(websocketpp::http::status_code::not_found);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    if (!parse(argc, argv, args)) {
        std::cerr << "usage: srmudp-embed-example [--port P] [--own-endpoint]\n";
        return 2;
    }
    asio::io_context io;
    srmudp::EndpointOptions endpoint_options;
    endpoint_options.bind_address = "127.0.0.1";
    std::error_code ec;
    std::unique_ptr<srmudp::Endpoint> host_endpoint;  // the host's, unless --own-endpoint
    std::unique_ptr<wsbridge::Hub> hub;
    if (args.own_endpoint) {
        hub = wsbridge::Hub::open(io, endpoint_options, {}, ec);
    } else if ((host_endpoint = srmudp::Endpoint::open(io, endpoint_options, ec))) {
        hub = std::make_unique<wsbridge::Hub>(io, *host_endpoint, wsbridge::HubOptions{});
    }
    if (!hub) {
        std::cerr << "cannot open the srmudp endpoint: " << ec.message() << "\n";
        return 1;
    }

    Server server;
    server.clear_access_channels(websocketpp::log::alevel::all);
    server.clear_error_channels(websocketpp::log::elevel::all);
    server.init_asio(&io);
    server.set_reuse_addr(true);
    wsbridge::WebsocketppAdapter<Server> bridge(server, *hub);
    server.set_max_message_size(hub->options().session.limits.max_frame_bytes);

    // Each handler asks the bridge first; what is not the bridge's is the host's.
    server.set_validate_handler([&](Handle h) {
        if (auto verdict = bridge.validate(h)) return *verdict;
        std::error_code con_ec;
        auto con = server.get_con_from_hdl(h, con_ec);
        return !con_ec && con->get_resource() == "/echo";
    });
    server.set_open_handler([&](Handle h) { bridge.open(h); });
    server.set_message_handler([&](Handle h, Server::message_ptr m) {
        if (!bridge.message(h, m)) server.send(h, m->get_payload(), m->get_opcode());
    });
    server.set_close_handler([&](Handle h) { bridge.close(h); });
    server.set_fail_handler([&](Handle h) { bridge.close(h); });
    server.set_http_handler([&](Handle h) { serve_page(server, h); });

    server.listen(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), args.port), ec);
    if (ec) {
        std::cerr << "cannot listen: " << ec.message() << "\n";
        return 1;
    }
    server.start_accept();
    asio::error_code local_ec;
    std::cout << "ready " << server.get_local_endpoint(local_ec).port() << " "
              << hub->endpoint().local_address().port << std::endl;

    // Stop accepting, end the sessions (their srmudp connections close gracefully), then stop.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    asio::steady_timer grace(io);
    signals.async_wait([&](const std::error_code&, int) {
        websocketpp::lib::error_code stop_ec;
        server.stop_listening(stop_ec);
        hub->shutdown("the host program is stopping");
        grace.expires_after(std::chrono::milliseconds(500));
        grace.async_wait([&](const std::error_code&) { io.stop(); });
    });
    io.run();
    return 0;
}
