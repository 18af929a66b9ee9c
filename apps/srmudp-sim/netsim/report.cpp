// Human-readable output of a scenario run: the one-line summary and the descriptive block.
#include <fmt/format.h>

#include <chrono>
#include <string>

#include "netsim/scenario.hpp"

namespace srmudp::netsim {
namespace {

double ms(Duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double secs(Duration d) {
    return std::chrono::duration<double>(d).count();
}

std::string bytes(std::uint64_t n) {
    if (n >= (1u << 20)) return fmt::format("{:.2f} MiB", static_cast<double>(n) / (1u << 20));
    if (n >= (1u << 10)) return fmt::format("{:.1f} KiB", static_cast<double>(n) / (1u << 10));
    return fmt::format("{} B", n);
}

std::string describe_link(const LinkParams& p) {
    std::string s = fmt::format("delay {:g} ms", ms(p.delay));
    if (p.jitter > Duration::zero()) s += fmt::format(" + jitter {:g} ms", ms(p.jitter));
    s += p.bandwidth_bps == 0
             ? std::string(", unlimited rate")
             : fmt::format(", {:g} Mbit/s, queue {}", static_cast<double>(p.bandwidth_bps) / 1e6,
                           bytes(p.queue_limit_bytes));
    if (p.mtu != 0) s += fmt::format(", mtu {}", p.mtu);
    if (p.loss > 0) s += fmt::format(", loss {:g}%", p.loss * 100);
    if (p.duplicate > 0) s += fmt::format(", duplicate {:g}%", p.duplicate * 100);
    if (p.reorder > 0) {
        s += fmt::format(", reorder {:g}% (+{:g} ms)", p.reorder * 100, ms(p.reorder_delay));
    }
    for (const Partition& w : p.partitions) {
        s += fmt::format(", {}partition {:g}-{:g} s", w.one_way ? "one-way " : "", secs(w.start),
                         secs(w.end));
    }
    return s;
}

std::string describe_workload(const WorkloadParams& w) {
    return fmt::format(
        "{} messages per direction, {} sizes up to {}, {:g}% text, {}", w.messages,
        w.mix == SizeMix::fixed_max ? "fixed" : "skewed", bytes(w.max_size), w.text_fraction * 100,
        w.interval > Duration::zero() ? fmt::format("one every {:g} ms", ms(w.interval))
                                      : std::string("as fast as the send buffer allows"));
}

std::string describe_flow(const FlowFigures& f) {
    const std::string established =
        f.established_after > Duration::zero()
            ? fmt::format("established at {:.1f} ms", ms(f.established_after))
            : std::string("never established");
    std::string extra;
    if (f.reconnects != 0) extra += fmt::format("; reconnected {}x", f.reconnects);
    if (f.peer_restarts != 0) extra += fmt::format("; peer restarted {}x", f.peer_restarts);
    if (f.stats.path_migrations != 0) {
        extra += fmt::format("; peer moved {}x", f.stats.path_migrations);
    }
    return fmt::format(
        "{} -> {}: sent {}, delivered {}, failed {}, received {} ({}); {}; {}; datagrams {} B{}",
        f.host, f.peer, f.messages_sent, f.messages_delivered, f.messages_failed,
        f.messages_received, bytes(f.bytes_received), established,
        f.end_reason ? "ended: " + f.end_reason.message() : std::string(to_string(f.state)),
        f.stats.max_datagram_size, extra);
}

}  // namespace

std::string summary_line(const Result& r) {
    std::string line = fmt::format(
        "{:<20} {} seed={} virt={:.3f}s msgs={} bytes={} goodput={:.2f}Mbit/s retx={:.1f}% "
        "wire={:.2f}x lost={} cwnd={} srtt={:.1f}ms wall={:.2f}s",
        r.name, r.passed ? "PASS" : "FAIL", r.seed, secs(r.virtual_time), r.messages_delivered,
        r.bytes_delivered, r.goodput_mbps, r.retransmission_ratio * 100, r.wire_ratio,
        r.packets_lost, r.final_cwnd, ms(r.final_srtt), r.wall_seconds);
    if (r.reconnects != 0) line += fmt::format(" reconnects={}", r.reconnects);
    if (r.peer_restarts != 0) line += fmt::format(" restarts={}", r.peer_restarts);
    if (r.path_migrations != 0) line += fmt::format(" migrations={}", r.path_migrations);
    if (r.min_datagram_size != 0) {
        line += r.min_datagram_size == r.max_datagram_size
                    ? fmt::format(" dgram={}", r.max_datagram_size)
                    : fmt::format(" dgram={}-{}", r.min_datagram_size, r.max_datagram_size);
    }
    if (!r.passed && !r.failures.empty()) {
        line += fmt::format(" | {} failure(s), first: {}", r.failure_count, r.failures.front());
    }
    return line;
}

std::string describe(const Scenario& sc, const Result& r) {
    std::string out = fmt::format("== {} (seed {}) ==\n", sc.name, sc.seed);
    if (!sc.description.empty()) out += fmt::format("   {}\n", sc.description);
    out += fmt::format("network   {} hosts, {}\n", sc.hosts.size(),
                       sc.open == OpenMode::simultaneous ? "simultaneous open"
                                                         : "host 0 listens, the others connect");
    for (const LinkSpec& l : sc.links) {
        out += fmt::format("          {}-{}: {}\n", sc.hosts[l.a].name, sc.hosts[l.b].name,
                           describe_link(l.a_to_b));
        if (l.b_to_a) {
            out += fmt::format("          {}-{} (back): {}\n", sc.hosts[l.a].name,
                               sc.hosts[l.b].name, describe_link(*l.b_to_a));
        }
    }
    const LinkCounters& n = r.network;
    out += fmt::format(
        "          carried {} datagrams ({}): dropped {} (loss {}, queue {}, partition {}, mtu "
        "{}), "
        "duplicated {}, delivered {}\n",
        n.offered, bytes(n.bytes_offered), n.dropped(), n.dropped_loss, n.dropped_queue,
        n.dropped_partition, n.dropped_mtu, n.duplicated, n.delivered);
    if (sc.restart && sc.restart->host < sc.hosts.size()) {
        out += fmt::format("events    {} crashes at {:g} s and boots again {:g} s later\n",
                           sc.hosts[sc.restart->host].name, secs(sc.restart->at),
                           secs(sc.restart->downtime));
    }
    if (sc.rebind && sc.rebind->host < sc.hosts.size()) {
        out += fmt::format("events    {} moves to port +{} at {:g} s (NAT rebinding)\n",
                           sc.hosts[sc.rebind->host].name, sc.rebind->port_offset,
                           secs(sc.rebind->at));
    }
    out += fmt::format("workload  {}\n", describe_workload(sc.workload));
    for (const FlowFigures& f : r.flows) {
        out += fmt::format("          {}\n", describe_flow(f));
    }
    out += fmt::format(
        "figures   {} messages, {} in {:.3f} s virtual: goodput {:.2f} Mbit/s (all directions)\n"
        "          retransmitted {:.1f}% of stream bytes, datagram bytes / payload {:.2f}x, "
        "packets lost {}\n"
        "          final cwnd {} B, smoothed RTT {:.1f} ms; datagrams rejected {}; {} events, "
        "wall {:.3f} s\n",
        r.messages_delivered, bytes(r.bytes_delivered), secs(r.virtual_time), r.goodput_mbps,
        r.retransmission_ratio * 100, r.wire_ratio, r.packets_lost, r.final_cwnd, ms(r.final_srtt),
        r.datagrams_rejected, r.events, r.wall_seconds);
    out += fmt::format("result    {}\n", r.passed ? "PASS" : "FAIL");
    for (const std::string& f : r.failures) {
        out += fmt::format("          - {}\n", f);
    }
    if (r.failure_count > r.failures.size()) {
        out += fmt::format("          ... and {} more\n", r.failure_count - r.failures.size());
    }
    return out;
}

}  // namespace srmudp::netsim
