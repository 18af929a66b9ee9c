#include "results.hpp"

#include <algorithm>
#include <cmath>

namespace srmudp::bench {

namespace {

constexpr double kGoodputRatioTarget = 0.7;
constexpr double kHandshakeTarget = 5000;
constexpr double kIdleMemoryTarget = 64 * 1024;

const GoodputResult* raw_goodput(const Results& r) {
    return r.goodput_of("raw-udp", 0);
}

// Target verdicts; nullopt where a figure the target needs is missing.
std::optional<bool> goodput_vs_raw(const Results& r, const GoodputResult& g) {
    const GoodputResult* raw = raw_goodput(r);
    if (!raw || !raw->error.empty() || !g.error.empty() || raw->bytes == 0) return std::nullopt;
    return g.mbit_per_s() >= kGoodputRatioTarget * raw->mbit_per_s();
}

std::optional<bool> goodput_vs_enet(const Results& r, const GoodputResult& g) {
    const GoodputResult* enet = r.goodput_of("enet", g.message_bytes);
    if (!enet || !enet->error.empty() || !g.error.empty()) return std::nullopt;
    return g.mbit_per_s() >= enet->mbit_per_s();
}

std::optional<bool> latency_vs_enet(const Results& r) {
    const LatencyResult* ours = r.latency_of("srmudp");
    const LatencyResult* enet = r.latency_of("enet");
    if (!ours || !enet || !ours->error.empty() || !enet->error.empty()) return std::nullopt;
    return ours->rtt.p99_us <= enet->rtt.p99_us;
}

// Judged where a server accepts peers: at the listening Endpoint, with clients on another core.
std::optional<bool> handshakes_met(const Results& r) {
    const HandshakeResult* h = r.handshakes_of("listener");
    if (!h || !h->error.empty()) return std::nullopt;
    return h->per_second() >= kHandshakeTarget;
}

double memory_per_end(const MemoryResult& m) {
    return std::max(m.connector_bytes, m.listener_bytes);
}

std::optional<bool> memory_met(const Results& r) {
    if (!r.memory || !r.memory->error.empty() || !r.memory->heap_measured) return std::nullopt;
    return memory_per_end(*r.memory) < kIdleMemoryTarget;
}

const char* verdict(std::optional<bool> v) {
    if (!v) return "n/a";
    return *v ? "PASS" : "FAIL";
}

const char* json_verdict(std::optional<bool> v) {
    if (!v) return "null";
    return *v ? "true" : "false";
}

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
    }
    return out + "\"";
}

std::string number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string error_field(const std::string& error) {
    return error.empty() ? std::string() : ",\"error\":" + quoted(error);
}

// Every verdict together: false if any failed, unknown if any is unknown, else true.
std::optional<bool> all_met(const std::vector<std::optional<bool>>& verdicts) {
    bool unknown = verdicts.empty();
    for (const auto& v : verdicts) {
        if (v && !*v) return false;
        if (!v) unknown = true;
    }
    if (unknown) return std::nullopt;
    return true;
}

std::string json_goodput(const Results& r) {
    std::string j = "[";
    for (std::size_t i = 0; i < r.goodput.size(); ++i) {
        const GoodputResult& g = r.goodput[i];
        j += std::string(i ? "," : "") + "{\"transport\":" + quoted(g.transport) +
             ",\"message_bytes\":" + std::to_string(g.message_bytes) +
             ",\"mbit_per_s\":" + number(g.mbit_per_s()) + ",\"bytes\":" + std::to_string(g.bytes) +
             ",\"seconds\":" + number(g.seconds) + ",\"sender_cpu\":" + number(g.sender_cpu) +
             ",\"receiver_cpu\":" + number(g.receiver_cpu) +
             (g.note.empty() ? std::string() : ",\"note\":" + quoted(g.note)) +
             error_field(g.error) + "}";
    }
    return j + "]";
}

std::string json_latency(const std::vector<LatencyResult>& results) {
    std::string j = "[";
    for (std::size_t i = 0; i < results.size(); ++i) {
        const LatencyResult& l = results[i];
        j += std::string(i ? "," : "") + "{\"transport\":" + quoted(l.transport) +
             ",\"samples\":" + std::to_string(l.rtt.samples) +
             ",\"p50_us\":" + number(l.rtt.p50_us) + ",\"p99_us\":" + number(l.rtt.p99_us) +
             ",\"p999_us\":" + number(l.rtt.p999_us) + ",\"lost\":" + std::to_string(l.lost) +
             error_field(l.error) + "}";
    }
    return j + "]";
}

std::string listener_fields(const HandshakeResult& h) {
    if (h.clients == 0) return {};
    return ",\"clients\":" + std::to_string(h.clients) +
           ",\"listener_cpu\":" + number(h.listener_cpu) +
           ",\"client_cpu\":" + number(h.client_cpu) +
           ",\"per_listener_cpu_second\":" + number(h.per_listener_cpu_second()) +
           ",\"note\":" + quoted(h.note);
}

std::string json_handshakes(const Results& r) {
    std::string j = "[";
    for (std::size_t i = 0; i < r.handshakes.size(); ++i) {
        const HandshakeResult& h = r.handshakes[i];
        j += std::string(i ? "," : "") + "{\"method\":" + quoted(h.method) +
             ",\"per_second\":" + number(h.per_second()) + ",\"count\":" + std::to_string(h.count) +
             listener_fields(h) + error_field(h.error) + "}";
    }
    return j + "]";
}

std::string json_memory(const MemoryResult& m) {
    return "{\"connections\":" + std::to_string(m.connections) +
           ",\"connector_bytes\":" + number(m.connector_bytes) +
           ",\"listener_bytes\":" + number(m.listener_bytes) +
           ",\"pair_bytes\":" + number(m.pair_bytes) +
           ",\"resident_pair_bytes\":" + number(m.resident_bytes) +
           ",\"heap_measured\":" + (m.heap_measured ? "true" : "false") + error_field(m.error) +
           "}";
}

std::string json_targets(const Results& r) {
    std::vector<std::optional<bool>> vs_raw;
    std::vector<std::optional<bool>> vs_enet;
    for (const GoodputResult& g : r.goodput) {
        if (g.transport != "srmudp") continue;
        vs_raw.push_back(goodput_vs_raw(r, g));
        vs_enet.push_back(goodput_vs_enet(r, g));
    }
    return std::string("{\"goodput_vs_raw\":") + json_verdict(all_met(vs_raw)) +
           ",\"goodput_vs_enet\":" + json_verdict(all_met(vs_enet)) +
           ",\"p99_vs_enet\":" + json_verdict(latency_vs_enet(r)) +
           ",\"handshakes\":" + json_verdict(handshakes_met(r)) +
           ",\"idle_memory\":" + json_verdict(memory_met(r)) + "}";
}

void print_goodput(const Results& r, std::FILE* out) {
    if (r.goodput.empty()) return;  // the case did not run
    std::fprintf(out,
                 "\nGoodput: one connection, 1200-byte datagrams, Mbit/s of payload received\n");
    std::fprintf(out, "  %-9s %-8s %9s %7s %9s %9s %6s %6s\n", "transport", "message", "Mbit/s",
                 "vs raw", "0.7x raw", ">=ENet", "tx CPU", "rx CPU");
    const GoodputResult* raw = raw_goodput(r);
    for (const GoodputResult& g : r.goodput) {
        const bool is_raw = g.transport == "raw-udp";
        char ratio[32] = "-";
        if (!is_raw && raw && raw->mbit_per_s() > 0) {
            std::snprintf(ratio, sizeof ratio, "%.2fx", g.mbit_per_s() / raw->mbit_per_s());
        }
        const bool ours = g.transport == "srmudp";
        std::fprintf(out, "  %-9s %6zu B %9.1f %7s %9s %9s %5.0f%% %5.0f%%%s%s\n",
                     g.transport.c_str(), g.message_bytes, g.mbit_per_s(), ratio,
                     ours ? verdict(goodput_vs_raw(r, g)) : "",
                     ours ? verdict(goodput_vs_enet(r, g)) : "", 100 * g.sender_cpu,
                     100 * g.receiver_cpu, g.error.empty() ? "" : "  error: ", g.error.c_str());
        if (!g.note.empty()) std::fprintf(out, "            (%s)\n", g.note.c_str());
    }
}

void print_latency(const Results& r, std::FILE* out) {
    if (r.latency.empty()) return;
    std::fprintf(out, "\nPing-pong: 64-byte messages, one outstanding, round trip in us\n");
    std::fprintf(out, "  %-9s %9s %9s %9s %10s\n", "transport", "p50", "p99", "p99.9", "samples");
    for (const LatencyResult& l : r.latency) {
        std::fprintf(out, "  %-9s %9.1f %9.1f %9.1f %10zu%s%s\n", l.transport.c_str(), l.rtt.p50_us,
                     l.rtt.p99_us, l.rtt.p999_us, l.rtt.samples,
                     l.error.empty() ? "" : "  error: ", l.error.c_str());
    }
    std::fprintf(out, "  srmudp p99 <= ENet p99: %s\n", verdict(latency_vs_enet(r)));
}

void print_wakeup(const Results& r, std::FILE* out) {
    if (r.wakeup.empty()) return;
    std::fprintf(out,
                 "\nWake-up probe: raw UDP ping-pong, %.0f us of CPU work per side before it "
                 "sends;\n\"early\": the client first sends a 1-byte datagram the server drops\n",
                 r.wakeup_work_us);
    std::fprintf(out, "  %-16s %9s %9s %9s %10s\n", "variant", "p50", "p99", "p99.9", "samples");
    for (const LatencyResult& l : r.wakeup) {
        std::fprintf(out, "  %-16s %9.1f %9.1f %9.1f %10zu%s%s\n", l.transport.c_str(),
                     l.rtt.p50_us, l.rtt.p99_us, l.rtt.p999_us, l.rtt.samples,
                     l.error.empty() ? "" : "  error: ", l.error.c_str());
    }
}

void print_handshakes(const Results& r, std::FILE* out) {
    if (r.handshakes.empty()) return;
    std::fprintf(out,
                 "\nHandshakes (64-hex key: no scrypt): core = both sides on one thread, "
                 "endpoint = one at a time\nover loopback, listener = completed at one listening "
                 "Endpoint while clients connect at once\n");
    for (const HandshakeResult& h : r.handshakes) {
        std::fprintf(out, "  %-9s %10.0f /s  (%llu in %.2f s)", h.method.c_str(), h.per_second(),
                     static_cast<unsigned long long>(h.count), h.seconds);
        if (h.clients > 0) {
            std::fprintf(out,
                         "  %zu clients; CPU listener %.0f%%, clients %.0f%%; %.0f per listener "
                         "CPU-second",
                         h.clients, 100 * h.listener_cpu, 100 * h.client_cpu,
                         h.per_listener_cpu_second());
        }
        if (!h.note.empty()) std::fprintf(out, "\n            %s", h.note.c_str());
        std::fprintf(out, "%s%s\n", h.error.empty() ? "" : "  error: ", h.error.c_str());
    }
    std::fprintf(out, "  listener >= 5000/s: %s\n", verdict(handshakes_met(r)));
    if (r.scrypt_ms) std::fprintf(out, "  scrypt of a passphrase (once): %.1f ms\n", *r.scrypt_ms);
    if (!r.scrypt_error.empty()) std::fprintf(out, "  scrypt error: %s\n", r.scrypt_error.c_str());
}

void print_memory(const Results& r, std::FILE* out) {
    if (!r.memory) return;
    const MemoryResult& m = *r.memory;
    std::fprintf(out,
                 "\nIdle connections: %zu in one EndpointCore pair, heap bytes per connection\n",
                 m.connections);
    std::fprintf(out, "  connector %.0f, listener %.0f, both ends %.0f (RSS both ends %.0f)%s%s\n",
                 m.connector_bytes, m.listener_bytes, m.pair_bytes, m.resident_bytes,
                 m.error.empty() ? "" : "  error: ", m.error.c_str());
    if (!m.heap_measured) std::fprintf(out, "  (no heap figures: mallinfo2 sees no heap here)\n");
    std::fprintf(out, "  < 64 KiB per connection end: %s\n", verdict(memory_met(r)));
}

}  // namespace

const GoodputResult* Results::goodput_of(const std::string& transport, std::size_t size) const {
    for (const GoodputResult& g : goodput) {
        if (g.transport == transport && (transport == "raw-udp" || g.message_bytes == size)) {
            return &g;
        }
    }
    return nullptr;
}

const LatencyResult* Results::latency_of(const std::string& transport) const {
    for (const LatencyResult& l : latency) {
        if (l.transport == transport) return &l;
    }
    return nullptr;
}

const HandshakeResult* Results::handshakes_of(const std::string& method) const {
    for (const HandshakeResult& h : handshakes) {
        if (h.method == method) return &h;
    }
    return nullptr;
}

bool Results::complete() const {
    const auto ok = [](const auto& v) { return v.error.empty(); };
    return std::all_of(goodput.begin(), goodput.end(), ok) &&
           std::all_of(latency.begin(), latency.end(), ok) &&
           std::all_of(wakeup.begin(), wakeup.end(), ok) &&
           std::all_of(handshakes.begin(), handshakes.end(), ok) && scrypt_error.empty() &&
           (!memory || memory->error.empty());
}

void print_table(const Results& r, std::FILE* out) {
    std::fprintf(
        out,
        "srmudp-bench: loopback 127.0.0.1, %.2f s per timed case, %u CPUs, threads pinned: "
        "%s, ENet: %s\n(load average %.2f at the start, %.2f at the end)\n",
        r.case_seconds, r.cpus, r.placement.c_str(), r.enet.c_str(), r.load_before, r.load_after);
    print_goodput(r, out);
    print_latency(r, out);
    print_wakeup(r, out);
    print_handshakes(r, out);
    print_memory(r, out);
}

std::string to_json(const Results& r) {
    std::string j =
        "{\"bench\":\"srmudp-bench\",\"version\":1,\"case_seconds\":" + number(r.case_seconds) +
        ",\"cpus\":" + std::to_string(r.cpus) + ",\"pin\":" + quoted(r.placement) +
        ",\"load_before\":" + number(r.load_before) + ",\"load_after\":" + number(r.load_after) +
        ",\"enet\":" + quoted(r.enet);
    j += ",\"goodput\":" + json_goodput(r) + ",\"latency\":" + json_latency(r.latency) +
         ",\"handshakes\":" + json_handshakes(r);
    if (!r.wakeup.empty()) {
        j += ",\"wakeup\":{\"work_us\":" + number(r.wakeup_work_us) +
             ",\"variants\":" + json_latency(r.wakeup) + "}";
    }
    j += ",\"scrypt_ms\":" + (r.scrypt_ms ? number(*r.scrypt_ms) : std::string("null"));
    if (r.memory) j += ",\"idle_memory\":" + json_memory(*r.memory);
    j += ",\"targets\":" + json_targets(r);
    j += std::string(",\"complete\":") + (r.complete() ? "true" : "false") + "}";
    return j;
}

}  // namespace srmudp::bench
