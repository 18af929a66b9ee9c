// A complete program on libsrmudp: an echo server. Every peer that proves the key gets each of
// its messages sent back, with the same kind (text or binary).
//
//   srmudp-echo PORT KEY          then, elsewhere:  srmudp-cat --key KEY --remote HOST:PORT
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "srmudp/endpoint.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: srmudp-echo PORT KEY\n");
        return 2;
    }
    asio::io_context io;
    srmudp::EndpointOptions options;
    options.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    std::error_code ec;
    auto endpoint = srmudp::Endpoint::open(io, options, ec);
    if (!endpoint) {
        std::fprintf(stderr, "cannot open port %s: %s\n", argv[1], ec.message().c_str());
        return 1;
    }
    ec = endpoint->listen(argv[2], [](std::shared_ptr<srmudp::Connection> conn) {
        std::printf("peer %s connected\n", conn->remote_address().to_string().c_str());
        std::weak_ptr<srmudp::Connection> weak = conn;
        srmudp::ConnectionHandlers handlers;
        handlers.on_message = [weak](srmudp::Message&& m) {
            srmudp::MessageId id = 0;
            if (auto c = weak.lock()) c->send(m.kind, srmudp::ByteView(m.data), id);
        };
        handlers.on_state = [conn](srmudp::ConnectionState state, std::error_code reason) {
            // The handler's copy of `conn` keeps the connection object alive until it ends.
            if (state == srmudp::ConnectionState::closed) {
                std::printf("peer %s left: %s\n", conn->remote_address().to_string().c_str(),
                            reason.message().c_str());
            }
        };
        conn->set_handlers(std::move(handlers));
    });
    if (ec) {
        std::fprintf(stderr, "cannot listen: %s\n", ec.message().c_str());
        return 1;
    }
    std::printf("echoing on %s\n", endpoint->local_address().to_string().c_str());
    std::fflush(stdout);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code, int) { io.stop(); });
    io.run();
    return 0;
}
