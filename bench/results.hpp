// What each case measured, and the two ways srmudp-bench prints it: a table for people and one
// JSON line for scripts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "measure.hpp"

namespace srmudp::bench {

// Message payload received per second over one connection (raw UDP: datagram payload).
struct GoodputResult {
    GoodputResult(std::string name, std::size_t size)
        : transport(std::move(name)), message_bytes(size) {}

    std::string transport;  // "srmudp", "raw-udp", "enet"
    std::size_t message_bytes = 0;
    std::uint64_t bytes = 0;  // received inside the window
    double seconds = 0;
    double sender_cpu = 0;  // share of one core the sending thread used in the window
    double receiver_cpu = 0;
    std::string note;   // what the transport reports about the run (losses, rtt, ...)
    std::string error;  // non-empty: the case did not run to the end
    void take(const Window& w) {
        bytes = w.count;
        seconds = w.seconds;
        sender_cpu = w.sender_cpu;
        receiver_cpu = w.receiver_cpu;
    }
    double mbit_per_s() const {
        return seconds > 0 ? static_cast<double>(bytes) * 8e-6 / seconds : 0;
    }
};

// Round trips of one 64-byte message at a time.
struct LatencyResult {
    explicit LatencyResult(std::string name) : transport(std::move(name)) {}

    std::string transport;
    Percentiles rtt;
    std::uint64_t lost = 0;  // raw UDP only: round trips abandoned after a receive timeout
    std::string error;
};

// Complete handshakes: "core" (sans-IO, both sides on one thread, one after another),
// "endpoint" (Endpoints over loopback, one after another) or "listener" (what one listening
// Endpoint completes while many clients connect at once).
struct HandshakeResult {
    explicit HandshakeResult(std::string name) : method(std::move(name)) {}

    std::string method;
    std::uint64_t count = 0;
    double seconds = 0;
    // Listener case only: client sockets, and the share of one core each thread used.
    std::size_t clients = 0;
    double listener_cpu = 0;
    double client_cpu = 0;
    std::string note;  // what the listener's endpoint counted over the whole run
    std::string error;
    double per_second() const { return seconds > 0 ? static_cast<double>(count) / seconds : 0; }
    // Handshakes per second of the listener thread's CPU time (0 when not measured).
    double per_listener_cpu_second() const {
        return listener_cpu > 0 ? per_second() / listener_cpu : 0;
    }
};

// Heap held by idle established connections of one EndpointCore pair.
struct MemoryResult {
    std::size_t connections = 0;
    double connector_bytes = 0;  // per connection, the side that called connect()
    double listener_bytes = 0;   // per connection, the listening side
    double pair_bytes = 0;       // per connection, both ends together (process heap delta)
    double resident_bytes = 0;   // per connection, both ends, from /proc/self/statm
    // False when mallinfo2 sees no heap (a sanitizer's allocator): only the RSS figure counts.
    bool heap_measured = true;
    std::string error;
};

struct Results {
    double case_seconds = 0;
    unsigned cpus = 0;
    std::string placement = "none";  // --pin
    double load_before = -1;  // 1-minute load average when the run started, and when it ended
    double load_after = -1;
    std::string enet;  // "built", "not built" or "skipped"
    std::vector<GoodputResult> goodput;
    std::vector<LatencyResult> latency;
    std::vector<LatencyResult> wakeup;  // the wakeup case (raw UDP variants)
    double wakeup_work_us = 0;
    std::vector<HandshakeResult> handshakes;
    std::optional<double> scrypt_ms;  // one passphrase derivation
    std::string scrypt_error;
    std::optional<MemoryResult> memory;

    // The ENet or raw UDP result for the same message size (nullptr if none).
    const GoodputResult* goodput_of(const std::string& transport, std::size_t size) const;
    const LatencyResult* latency_of(const std::string& transport) const;
    const HandshakeResult* handshakes_of(const std::string& method) const;
    // True when every case that ran finished (targets aside).
    bool complete() const;
};

void print_table(const Results& results, std::FILE* out);

// One line, no newline: {"bench":"srmudp-bench",...}.
std::string to_json(const Results& results);

}  // namespace srmudp::bench
