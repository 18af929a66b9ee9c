// srmudp-bench: srmudp against raw UDP (and ENet, when built with it) over loopback, in one
// process and one run, every case bounded in time and count. See docs/PERFORMANCE.md.
#include <cstdio>
#include <thread>

#include "options.hpp"
#include "raw_udp.hpp"
#include "results.hpp"
#include "srmudp_core.hpp"
#include "srmudp_net.hpp"
#ifdef SRMUDP_BENCH_HAVE_ENET
#include "enet_cases.hpp"
#endif

namespace srmudp::bench {
namespace {

// Whether the ENet reference runs, and why not if it does not.
std::string enet_status(const Options& options) {
#ifdef SRMUDP_BENCH_HAVE_ENET
    if (!options.enet) return "skipped";
    std::string error;
    return enet_start(error) ? "built" : "failed: " + error;
#else
    (void)options;
    return "not built";
#endif
}

void progress(const char* what) {
    std::fprintf(stderr, "srmudp-bench: %s...\n", what);
}

void run_goodput(const Options& options, Results& r) {
    progress("goodput, raw UDP");
    r.goodput.push_back(raw_udp_goodput(options));
    for (std::size_t size : options.message_sizes) {
        progress("goodput, srmudp");
        r.goodput.push_back(srmudp_goodput(options, size));
#ifdef SRMUDP_BENCH_HAVE_ENET
        if (r.enet == "built") {
            progress("goodput, ENet");
            r.goodput.push_back(enet_goodput(options, size));
        }
#endif
    }
}

void run_latency(const Options& options, Results& r) {
    progress("ping-pong, raw UDP");
    r.latency.push_back(raw_udp_ping_pong(options));
    progress("ping-pong, srmudp");
    r.latency.push_back(srmudp_ping_pong(options));
#ifdef SRMUDP_BENCH_HAVE_ENET
    if (r.enet == "built") {
        progress("ping-pong, ENet");
        r.latency.push_back(enet_ping_pong(options));
    }
#endif
}

void run_wakeup(const Options& options, Results& r) {
    progress("wake-up probe");
    r.wakeup_work_us = to_microseconds(options.wakeup_work);
    const std::string work = std::to_string(static_cast<long>(r.wakeup_work_us)) + "us";
    r.wakeup.push_back(raw_udp_ping_pong(options, PingPongShape{}, "no work"));
    r.wakeup.push_back(raw_udp_ping_pong(options, PingPongShape{options.wakeup_work, false}, work));
    r.wakeup.push_back(
        raw_udp_ping_pong(options, PingPongShape{options.wakeup_work, true}, work + ", early"));
}

void run_handshakes(const Options& options, Results& r) {
    progress("handshakes, sans-IO cores");
    r.handshakes.push_back(core_handshakes(options));
    progress("handshakes, Endpoints over loopback");
    r.handshakes.push_back(endpoint_handshakes(options));
    progress("handshakes, one listening Endpoint and many clients");
    r.handshakes.push_back(listener_handshakes(options));
    progress("scrypt");
    r.scrypt_ms = scrypt_cost_ms(r.scrypt_error);
}

}  // namespace
}  // namespace srmudp::bench

int main(int argc, char** argv) {
    using namespace srmudp::bench;
    ParseResult parsed = parse_options(argc, argv);
    if (!parsed.options) {
        std::fprintf(parsed.exit_code == 0 ? stdout : stderr, "%s\n", parsed.message.c_str());
        return parsed.exit_code;
    }
    const Options& options = *parsed.options;
    Results r;
    r.case_seconds = to_seconds(options.case_time);
    r.cpus = std::thread::hardware_concurrency();
    set_placement(options.placement);
    r.placement = placement_name(options.placement);
    r.load_before = load_average();
    r.enet = enet_status(options);
    // Memory first, while the heap is young: later cases leave freed chunks behind.
    if (options.memory) {
        progress("idle connection memory");
        r.memory = idle_connection_memory(options);
    }
    if (options.goodput) run_goodput(options, r);
    if (options.latency) run_latency(options, r);
    if (options.wakeup) run_wakeup(options, r);
    if (options.handshakes) run_handshakes(options, r);
    r.load_after = load_average();
    if (placement_refused()) r.placement += " (refused: unpinned)";
    print_table(r, stdout);
    std::printf("%s\n", to_json(r).c_str());
    return r.complete() ? 0 : 1;
}
