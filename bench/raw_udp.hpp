// The baseline: plain UDP between two sockets on loopback, no crypto and no reliability, with the
// same two-thread layout as the srmudp cases (one thread sends, the other receives).
#pragma once

#include "options.hpp"
#include "results.hpp"

namespace srmudp::bench {

// Sender blasts 1200-byte datagrams (sendmmsg, batches of 32, paced only by the socket); the
// receiver counts the payload bytes it gets (recvmmsg). Socket buffers are requested at 4 MiB
// like srmudp::Endpoint's.
GoodputResult raw_udp_goodput(const Options& options);

// 64-byte datagram ping-pong, one outstanding; a round trip not answered within 100 ms is
// counted as lost and the next one starts.
LatencyResult raw_udp_ping_pong(const Options& options);

// The wake-up probe's variants of the raw ping-pong: `work` of CPU time on each side before it
// sends (the client before each ping, the server before each echo), and optionally a 1-byte
// datagram the client sends before its work (the server reads and drops it), as a transport
// that acknowledges before it answers would. The round trip includes all of it.
struct PingPongShape {
    Clock::duration work{};
    bool early_datagram = false;
};
LatencyResult raw_udp_ping_pong(const Options& options, const PingPongShape& shape,
                                const std::string& name);

}  // namespace srmudp::bench
