// Test server for test_bridge.py: two srmudp Endpoints and two Bridges on 127.0.0.1, so that two
// WebSocket clients can talk to each other through srmudp on loopback.
//
//   bridge_test_server [--ws-a PORT] [--ws-b PORT] [--max-message BYTES]
//
// Ports 0 or absent: any free port. --max-message sets Limits::for_message_size (small values
// make the 1009 case cheap to test).
//
// Prints "ready WS_A WS_B UDP_A UDP_B" once everything listens, then runs until its stdin
// closes (so it also ends when the test script dies). Exit status 1 if something cannot start.
#include <asio.hpp>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "srmudp/endpoint.hpp"
#include "wsbridge/bridge.hpp"

namespace {

struct Args {
    std::uint16_t ws_a = 0;
    std::uint16_t ws_b = 0;
    std::uint16_t max_message = 0;  // 0: the default Limits
};

bool parse_port(const char* text, std::uint16_t& port) {
    char* end = nullptr;
    const unsigned long value = std::strtoul(text, &end, 10);
    if (end == text || *end != '\0' || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

bool parse_args(int argc, char** argv, Args& args) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) return false;
        std::uint16_t* target = nullptr;
        if (arg == "--ws-a") target = &args.ws_a;
        if (arg == "--ws-b") target = &args.ws_b;
        if (arg == "--max-message") target = &args.max_message;
        if (target == nullptr || !parse_port(argv[++i], *target)) return false;
    }
    return true;
}

std::unique_ptr<srmudp::Endpoint> open_endpoint(asio::io_context& io) {
    srmudp::EndpointOptions options;
    options.bind_address = "127.0.0.1";
    std::error_code ec;
    auto endpoint = srmudp::Endpoint::open(io, options, ec);
    if (ec) std::cerr << "cannot open endpoint: " << ec.message() << "\n";
    return endpoint;
}

// Ends the run when stdin reaches end of file (or fails).
void watch_stdin(asio::posix::stream_descriptor& input, std::array<char, 256>& buffer,
                 asio::io_context& io) {
    input.async_read_some(asio::buffer(buffer), [&](std::error_code ec, std::size_t) {
        if (ec) {
            io.stop();
            return;
        }
        watch_stdin(input, buffer, io);
    });
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    if (!parse_args(argc, argv, args)) {
        std::cerr << "usage: bridge_test_server [--ws-a PORT] [--ws-b PORT] [--max-message N]\n";
        return 2;
    }
    asio::io_context io;
    auto endpoint_a = open_endpoint(io);
    auto endpoint_b = open_endpoint(io);
    if (!endpoint_a || !endpoint_b) return 1;

    wsbridge::BridgeOptions options;
    if (args.max_message != 0)
        options.hub.session.limits = wsbridge::Limits::for_message_size(args.max_message);
    options.port = args.ws_a;
    wsbridge::Bridge bridge_a(io, *endpoint_a, options);
    options.port = args.ws_b;
    wsbridge::Bridge bridge_b(io, *endpoint_b, options);
    for (auto* bridge : {&bridge_a, &bridge_b}) {
        if (auto error = bridge->start()) {
            std::cerr << "cannot start bridge: " << *error << "\n";
            return 1;
        }
    }

    asio::posix::stream_descriptor input(io, ::dup(STDIN_FILENO));
    std::array<char, 256> buffer{};
    watch_stdin(input, buffer, io);

    std::cout << "ready " << bridge_a.local_port() << " " << bridge_b.local_port() << " "
              << endpoint_a->local_address().port << " " << endpoint_b->local_address().port
              << std::endl;
    io.run();
    bridge_a.stop();
    bridge_b.stop();
    return 0;
}
