#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace srmudp::bench {

namespace {

bool parse_count(std::string_view text, std::size_t low, std::size_t high, std::size_t& out) {
    std::size_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < low || value > high) {
        return false;
    }
    out = value;
    return true;
}

bool parse_seconds(std::string_view text, Duration& out) {
    double value = 0;
    try {
        std::size_t used = 0;
        value = std::stod(std::string(text), &used);
        if (used != text.size() || !(value > 0) || value > 600) return false;
    } catch (...) {
        return false;
    }
    out = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(value));
    return true;
}

// "1,16,64" (KiB) -> bytes; every size between 1 and 16384 KiB.
bool parse_sizes(std::string_view text, std::vector<std::size_t>& out) {
    std::vector<std::size_t> sizes;
    while (!text.empty() && sizes.size() < 16) {
        const std::size_t comma = std::min(text.find(','), text.size());
        std::size_t kib = 0;
        if (!parse_count(text.substr(0, comma), 1, 16 * 1024, kib)) return false;
        sizes.push_back(kib * 1024);
        text.remove_prefix(std::min(comma + 1, text.size()));
    }
    if (sizes.empty() || !text.empty()) return false;
    out = std::move(sizes);
    return true;
}

// "goodput,latency" -> those cases on, the others off.
bool parse_cases(std::string_view text, Options& o) {
    o.memory = o.goodput = o.latency = o.handshakes = o.wakeup = false;
    for (int n = 0; !text.empty() && n < 8; ++n) {
        const std::size_t comma = std::min(text.find(','), text.size());
        const std::string_view name = text.substr(0, comma);
        if (name == "memory") {
            o.memory = true;
        } else if (name == "goodput") {
            o.goodput = true;
        } else if (name == "latency") {
            o.latency = true;
        } else if (name == "handshakes") {
            o.handshakes = true;
        } else if (name == "wakeup") {
            o.wakeup = true;
        } else {
            return false;
        }
        text.remove_prefix(std::min(comma + 1, text.size()));
    }
    return text.empty() && (o.memory || o.goodput || o.latency || o.handshakes || o.wakeup);
}

ParseResult fail(const std::string& message) {
    ParseResult r;
    r.exit_code = 2;
    r.message = "srmudp-bench: " + message + "\n(see srmudp-bench --help)";
    return r;
}

}  // namespace

Duration Options::warmup() const {
    return std::min<Duration>(case_time / 5, milliseconds(500));
}

std::string usage() {
    return R"(usage: srmudp-bench [options]

Measures srmudp over loopback against raw UDP (and ENet when built with it) in one run: goodput,
ping-pong latency, handshakes per second and memory per idle connection. Prints a table and one
JSON line.

  --seconds SECS        measuring window of each timed case (default 3; at most 600)
  --sizes KIB,...       goodput message sizes in KiB (default 1,16,64)
  --round-trips N       ping-pong round trips at most (default 20000; also bounded by --seconds)
  --connections K       idle connections for the memory case (default 1000)
  --clients K           client sockets of the listener handshake case (default 1000; 1-1024)
  --cases LIST          run only these cases: memory,goodput,latency,handshakes (default all
                        four) and wakeup (only when named: raw UDP ping-pong with CPU work on
                        each side, with and without an early datagram)
  --work-us N           the wakeup case's work per side in microseconds (default 5; 1-1000)
  --no-enet             skip the ENet reference runs
  --pin none|split|same where the two threads of each timed case run: where the scheduler
                        puts them (default), client side on CPU 0 and server side on CPU 1,
                        or both on CPU 0
  --help
)";
}

ParseResult parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--help" || arg == "-h") return ParseResult{std::nullopt, 0, usage()};
        if (arg == "--no-enet") {
            o.enet = false;
            continue;
        }
        if (!has_value) return fail("missing value after " + std::string(arg));
        const std::string_view value = argv[++i];
        bool ok = false;
        if (arg == "--seconds") {
            ok = parse_seconds(value, o.case_time);
        } else if (arg == "--sizes") {
            ok = parse_sizes(value, o.message_sizes);
        } else if (arg == "--round-trips") {
            ok = parse_count(value, 1, 10'000'000, o.max_round_trips);
        } else if (arg == "--cases") {
            ok = parse_cases(value, o);
        } else if (arg == "--connections") {
            ok = parse_count(value, 1, 100'000, o.idle_connections);
        } else if (arg == "--work-us") {
            std::size_t us = 0;
            ok = parse_count(value, 1, 1000, us);
            o.wakeup_work = microseconds(static_cast<std::int64_t>(us));
        } else if (arg == "--pin") {
            ok = value == "none" || value == "split" || value == "same";
            o.placement = value == "split"  ? Placement::split
                          : value == "same" ? Placement::same
                                            : Placement::none;
        } else if (arg == "--clients") {
            ok = parse_count(value, 1, 10'000, o.listener_clients);
        } else {
            return fail("unknown option " + std::string(arg));
        }
        if (!ok) return fail("invalid value for " + std::string(arg) + ": " + std::string(value));
    }
    return ParseResult{o, 0, {}};
}

}  // namespace srmudp::bench
