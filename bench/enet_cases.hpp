// The reference: ENet 1.3 (Debian's libenet-dev), a well-known reliable-UDP library without
// encryption, on its reliable channel over loopback, with the thread layout of the srmudp cases.
// Built only when the benchmark finds ENet (SRMUDP_BENCH_HAVE_ENET).
#pragma once

#include <cstddef>
#include <string>

#include "options.hpp"
#include "results.hpp"

namespace srmudp::bench {

// Initialises ENet once for the process; false and `error` set if it failed.
bool enet_start(std::string& error);

// One peer, MTU 1200 (ENet's datagram limit, as srmudp's max_datagram_size), reliable packets of
// `message_bytes`. ENet's send queue has no bound of its own: the sender keeps at most
// kEnetInFlightLimit bytes queued and unacknowledged (an acknowledged packet is freed, which
// tells the sender), the backpressure srmudp's send buffer gives.
GoodputResult enet_goodput(const Options& options, std::size_t message_bytes);

// 64-byte reliable packets, one outstanding; the server echoes and flushes at once.
LatencyResult enet_ping_pong(const Options& options);

// The sender's bound on queued, unacknowledged bytes (see enet_goodput).
extern const std::size_t kEnetInFlightLimit;

}  // namespace srmudp::bench
