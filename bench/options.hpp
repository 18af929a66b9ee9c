// Command line of srmudp-bench.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "measure.hpp"
#include "srmudp/time.hpp"

namespace srmudp::bench {

struct Options {
    // Measuring window of each timed case (after a short warm-up that is not counted).
    Duration case_time = seconds(3);
    // Message sizes of the goodput case (bytes).
    std::vector<std::size_t> message_sizes = {1024, 16 * 1024, 64 * 1024};
    // Ping-pong: stop after this many round trips or case_time, whichever comes first.
    std::size_t max_round_trips = 20000;
    // Memory case: idle connections opened in one EndpointCore pair.
    std::size_t idle_connections = 1000;
    // Listener handshake case: client Endpoints (sockets) the client thread cycles through. A
    // client that closes stays closing for 3 PTO (~80 ms here) before it may connect again, so
    // 1000 clients allow roughly 10,000 handshakes/s; a listener takes at most 1024 at once.
    std::size_t listener_clients = 1000;
    // ENet reference runs (only when the benchmark was built with ENet).
    bool enet = true;
    // Which cases run (all by default; --cases picks some, e.g. for a profiler run).
    bool memory = true;
    bool goodput = true;
    bool latency = true;
    bool handshakes = true;
    // Not in the default set: raw UDP ping-pong with work per side, with and without an early
    // datagram (what the machine's wake-ups do to a round trip; see docs/PERFORMANCE.md).
    bool wakeup = false;
    Duration wakeup_work = microseconds(5);
    // Where the two threads of each timed case run (--pin none|split|same).
    Placement placement = Placement::none;

    // Warm-up before each measuring window: a fifth of it, at most half a second.
    Duration warmup() const;
};

struct ParseResult {
    std::optional<Options> options;  // empty: exit with `exit_code` after printing `message`
    int exit_code = 0;
    std::string message;
};

// Parses argv (see usage()).
ParseResult parse_options(int argc, char** argv);

std::string usage();

}  // namespace srmudp::bench
