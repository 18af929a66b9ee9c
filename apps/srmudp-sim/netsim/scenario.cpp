// Runs a Scenario (see scenario.hpp): builds hosts and links, opens the connections, runs the
// workload phase and the close phase on the event loop, checks the outcome and collects figures.
#include "netsim/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <utility>

#include "netsim/event_loop.hpp"
#include "netsim/failure_log.hpp"
#include "netsim/host.hpp"
#include "netsim/seed.hpp"
#include "netsim/traffic.hpp"
#include "srmudp/error.hpp"

namespace srmudp::netsim {
namespace {

constexpr std::uint64_t kCloseCode = 4242;
constexpr std::string_view kCloseReason = "workload complete";
// How many hosts a scenario may have: their addresses are 127.0.0.1 to 127.0.0.250.
constexpr std::size_t kMaxHosts = 250;
constexpr std::size_t kMaxMessages = 10'000'000;

double seconds_of(Duration d) {
    return std::chrono::duration<double>(d).count();
}

class Simulation {
  public:
    explicit Simulation(const Scenario& scenario)
        : sc_(scenario), loop_(kEpoch), network_(loop_, derive_seed(scenario.seed, kSeedNetwork)) {}

    Result run();

  private:
    void build();
    void open();
    template <typename Done>
    bool run_until(TimePoint limit, Done done);
    bool pairs_settled();
    bool pairs_complete() const;
    bool all_closed() const;
    void check_outcome();
    void check_pair(HostId i, const Flow* client, const Flow* server);
    void close_and_check();
    void check_close(const Flow& closer, const Flow& peer);
    bool network_is_lossy() const;
    void collect(Result& r) const;
    FlowFigures figures(const Traffic& t, const Flow& f) const;
    const Flow* flow(HostId from, HostId to) const { return traffic_[from]->flow_to(to); }

    const Scenario& sc_;
    FailureLog log_;
    EventLoop loop_;
    Network network_;
    std::vector<std::unique_ptr<Host>> hosts_;
    std::vector<std::unique_ptr<Traffic>> traffic_;  // after hosts_: destroyed first
    std::optional<TimePoint> completed_at_;
};

void Simulation::build() {
    for (HostId i = 0; i < sc_.hosts.size(); ++i) {
        const HostSpec& spec = sc_.hosts[i];
        hosts_.push_back(std::make_unique<Host>(
            i, spec.name, spec.config, derive_seed(sc_.seed, kSeedHost, i), loop_, network_, log_));
        hosts_.back()->set_resolver([this](const PeerAddress& a) -> std::optional<HostId> {
            for (const auto& h : hosts_) {
                if (h->address() == a) return h->id();
            }
            return std::nullopt;
        });
        traffic_.push_back(
            std::make_unique<Traffic>(*hosts_.back(), loop_, sc_.workload, sc_.seed, log_));
    }
    for (const LinkSpec& l : sc_.links) {
        network_.connect(l.a, l.b, l.a_to_b, l.b_to_a.value_or(l.a_to_b));
    }
    network_.set_receiver([this](HostId to, HostId from, ByteView datagram) {
        hosts_[to]->deliver(hosts_[from]->address(), datagram);
    });
}

void Simulation::open() {
    const auto connect = [this](HostId from, HostId to) {
        if (const std::error_code ec =
                traffic_[from]->connect(to, hosts_[to]->address(), sc_.key)) {
            log_.add(fmt::format("{}: connect() to {} failed: {}", hosts_[from]->name(),
                                 hosts_[to]->name(), ec.message()));
        }
    };
    if (sc_.open == OpenMode::listen_connect) {
        if (const std::error_code ec = traffic_[0]->listen(sc_.key)) {
            log_.add(fmt::format("{}: listen() failed: {}", hosts_[0]->name(), ec.message()));
        }
        for (HostId i = 1; i < hosts_.size(); ++i) {
            connect(i, 0);
        }
        return;
    }
    for (HostId i = 1; i < hosts_.size(); ++i) {
        connect(0, i);
        connect(i, 0);
    }
}

// Steps the loop until done() holds; false when the limit or a halted host stopped it first, or
// nothing was left to happen.
template <typename Done>
bool Simulation::run_until(TimePoint limit, Done done) {
    while (!done()) {
        if (loop_.stopped() || loop_.next_event_time() > limit) return false;
        loop_.step();
        for (const auto& t : traffic_) {
            t->snapshot_stats();
        }
    }
    return true;
}

// A pair (host 0, host i) is settled when both ends are complete or ended; a connecting end
// whose peer never accepted it is settled once it ended. Also notes the completion time.
bool Simulation::pairs_settled() {
    if (!completed_at_ && pairs_complete()) completed_at_ = loop_.now();
    for (HostId i = 1; i < hosts_.size(); ++i) {
        const Flow* client = flow(i, 0);
        const Flow* server = flow(0, i);
        if (client == nullptr) continue;  // connect() failed: nothing to wait for
        if (server == nullptr ? !client->closed : !(client->settled() && server->settled())) {
            return false;
        }
    }
    return true;
}

bool Simulation::pairs_complete() const {
    for (HostId i = 1; i < hosts_.size(); ++i) {
        const Flow* client = flow(i, 0);
        const Flow* server = flow(0, i);
        if (client == nullptr || server == nullptr || !client->complete() || !server->complete()) {
            return false;
        }
    }
    return true;
}

bool Simulation::all_closed() const {
    for (const auto& t : traffic_) {
        for (const auto& entry : t->flows()) {
            if (t->host().core().state(entry.first) != ConnectionState::closed) return false;
        }
    }
    return true;
}

void Simulation::check_outcome() {
    for (HostId i = 1; i < hosts_.size(); ++i) {
        const Flow* client = flow(i, 0);
        const Flow* server = flow(0, i);
        if (client == nullptr) continue;  // connect() failed, already reported
        if (server == nullptr && sc_.expect == Outcome::completes) {
            log_.add(fmt::format(
                "{} never accepted {} ({})", hosts_[0]->name(), hosts_[i]->name(),
                client->ending ? client->ending->reason.message() : "connection still open"));
        }
        check_pair(i, client, server);
    }
}

// The checks that hold whatever the outcome, then those of the expected one, for both ends.
void Simulation::check_pair(HostId i, const Flow* client, const Flow* server) {
    const std::array<std::pair<HostId, const Flow*>, 2> ends{{{i, client}, {0, server}}};
    for (const auto& [host, f] : ends) {
        if (f == nullptr) continue;
        const Flow* other = host == 0 ? client : server;
        const std::size_t received = other == nullptr ? 0 : other->in.received_count();
        const std::string label = fmt::format("stream h{}->h{}", host, f->peer);
        if (f->out.delivered_prefix() > received) {
            log_.add(fmt::format("{}: message {} reported delivered, but only {} were received",
                                 label, f->out.delivered_prefix() - 1, received));
        }
        if (f->out.failed_count() > 0 && !f->ending) {
            log_.add(fmt::format("{}: {} messages reported failed on a connection that did not end",
                                 label, f->out.failed_count()));
        }
        if (sc_.expect == Outcome::completes && !f->complete()) {
            log_.add(fmt::format(
                "{}: {} of {} messages delivered, {} failed; {} of {} received back; {}", label,
                f->out.delivered_count(), sc_.workload.messages, f->out.failed_count(),
                f->in.received_count(), sc_.workload.messages,
                f->ending ? "ended: " + f->ending->reason.message()
                          : std::string(f->blocked ? "waiting for SendBufferAvailable"
                                                   : to_string(f->state))));
        }
        if (sc_.expect == Outcome::connection_lost) {
            if (!f->ending || f->ending->reason != sc_.expected_reason) {
                log_.add(fmt::format("h{}: connection to h{} ended with '{}', expected '{}'", host,
                                     f->peer,
                                     f->ending ? f->ending->reason.message() : "nothing (open)",
                                     sc_.expected_reason.message()));
            }
            if (f->out.unreported() != 0) {
                log_.add(fmt::format("{}: {} messages neither delivered nor reported failed", label,
                                     f->out.unreported()));
            }
        }
    }
}

bool Simulation::network_is_lossy() const {
    return std::any_of(sc_.links.begin(), sc_.links.end(), [](const LinkSpec& l) {
        const auto lossy = [](const LinkParams& p) {
            return p.loss > 0 || !p.partitions.empty() || p.bandwidth_bps != 0;
        };
        return lossy(l.a_to_b) || (l.b_to_a && lossy(*l.b_to_a));
    });
}

// Each connecting host closes; both ends must reach closed, the closer by closed_locally, the
// peer by peer_closed with our code and reason (or idle_timeout if the CLOSE may have been lost).
void Simulation::close_and_check() {
    Duration wait = seconds(5);
    for (const HostSpec& h : sc_.hosts) {
        wait = std::max(wait, 2 * h.config.idle_timeout + seconds(5));
    }
    for (HostId i = 1; i < hosts_.size(); ++i) {
        traffic_[i]->close_all(kCloseCode, kCloseReason);
    }
    if (!run_until(loop_.now() + wait, [this] { return all_closed(); })) {
        log_.add(fmt::format("connections not closed {:.1f} s after close()", seconds_of(wait)));
    }
    for (HostId i = 1; i < hosts_.size(); ++i) {
        const Flow* closer = flow(i, 0);
        const Flow* peer = flow(0, i);
        if (closer != nullptr && peer != nullptr) check_close(*closer, *peer);
    }
}

void Simulation::check_close(const Flow& closer, const Flow& peer) {
    if (closer.ending && closer.ending->reason != error::closed_locally) {
        log_.add(fmt::format("h{}: closing side ended with '{}', expected closed_locally",
                             peer.peer, closer.ending->reason.message()));
    }
    if (closer.out.failed_count() != 0) {
        log_.add(fmt::format("h{}: {} messages failed on a graceful close after completion",
                             peer.peer, closer.out.failed_count()));
    }
    if (!peer.ending) {
        log_.add(fmt::format("h{}: no StateChanged after the peer closed", closer.peer));
        return;
    }
    const StateChanged& end = *peer.ending;
    if (end.reason == error::peer_closed) {
        if (end.peer_code != kCloseCode || end.peer_reason != kCloseReason) {
            log_.add(fmt::format("h{}: peer closed with code {} '{}', expected {} '{}'",
                                 closer.peer, end.peer_code, end.peer_reason, kCloseCode,
                                 kCloseReason));
        }
    } else if (end.reason != error::idle_timeout || !network_is_lossy()) {
        log_.add(fmt::format("h{}: after the peer closed, the connection ended with '{}'",
                             closer.peer, end.reason.message()));
    }
}

FlowFigures Simulation::figures(const Traffic& t, const Flow& f) const {
    FlowFigures g;
    g.host = t.host().name();
    g.peer = hosts_[f.peer]->name();
    g.state = f.state;
    if (f.ending) g.end_reason = f.ending->reason;
    if (f.established_at) g.established_after = *f.established_at - kEpoch;
    g.messages_sent = f.out.accepted_count();
    g.messages_delivered = f.out.delivered_count();
    g.messages_failed = f.out.failed_count();
    g.messages_received = f.in.received_count();
    g.bytes_received = f.in.bytes_received();
    g.stats = f.stats;
    return g;
}

void Simulation::collect(Result& r) const {
    for (const auto& t : traffic_) {
        r.datagrams_rejected += t->host().core().stats().datagrams_dropped;
        for (const auto& entry : t->flows()) {
            const FlowFigures g = figures(*t, entry.second);
            r.messages_delivered += g.messages_received;
            r.bytes_delivered += g.bytes_received;
            r.stream_bytes_sent += g.stats.stream_bytes_sent;
            r.stream_bytes_retransmitted += g.stats.stream_bytes_retransmitted;
            r.datagram_bytes_sent += g.stats.datagram_bytes_sent;
            r.packets_lost += g.stats.packets_lost;
            r.flows.push_back(g);
        }
    }
    if (const Flow* first = hosts_.size() > 1 ? flow(1, 0) : nullptr) {
        r.final_cwnd = first->stats.congestion_window;
        r.final_srtt = first->stats.smoothed_rtt;
    }
    const double secs = seconds_of(r.virtual_time);
    if (secs > 0) r.goodput_mbps = static_cast<double>(r.bytes_delivered) * 8 / secs / 1e6;
    if (r.stream_bytes_sent > 0) {
        r.retransmission_ratio = static_cast<double>(r.stream_bytes_retransmitted) /
                                 static_cast<double>(r.stream_bytes_sent);
    }
    if (r.bytes_delivered > 0) {
        r.wire_ratio =
            static_cast<double>(r.datagram_bytes_sent) / static_cast<double>(r.bytes_delivered);
    }
    r.network = network_.totals();
    r.events = loop_.executed();
    r.trace_digest = network_.trace_digest();
}

Result Simulation::run() {
    const auto wall_start = std::chrono::steady_clock::now();
    Result r;
    r.name = sc_.name;
    r.seed = sc_.seed;
    if (const std::string invalid = validate(sc_); !invalid.empty()) {
        log_.add("invalid scenario: " + invalid);
    } else {
        build();
        open();
        const TimePoint limit = kEpoch + sc_.time_limit;
        const bool ended = sc_.expect == Outcome::completes
                               ? run_until(limit, [this] { return pairs_settled(); })
                               : run_until(limit, [this] { return all_closed(); });
        if (!ended && !loop_.stopped()) {
            log_.add(fmt::format(
                "run stopped at t={:.3f} s before the workload ended ({})",
                seconds_of(loop_.now() - kEpoch),
                loop_.pending() == 0 ? "nothing left to happen" : "virtual time limit reached"));
        }
        r.virtual_time = completed_at_.value_or(loop_.now()) - kEpoch;
        check_outcome();
        if (sc_.expect == Outcome::completes && completed_at_ && sc_.close_at_end &&
            !loop_.stopped()) {
            close_and_check();
        }
        collect(r);
    }
    r.completed = completed_at_.has_value();
    r.passed = log_.empty();
    r.failures = log_.entries();
    r.failure_count = log_.total();
    r.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return r;
}

}  // namespace

Scenario two_host_scenario(std::string name, const LinkParams& link, const Config& config) {
    Scenario s;
    s.name = std::move(name);
    s.hosts = {HostSpec{"a", config}, HostSpec{"b", config}};
    s.links = {LinkSpec{0, 1, link, std::nullopt}};
    return s;
}

std::string validate(const Scenario& s) {
    if (s.hosts.size() < 2 || s.hosts.size() > kMaxHosts) return "needs 2 to 250 hosts";
    for (const LinkSpec& l : s.links) {
        if (l.a >= s.hosts.size() || l.b >= s.hosts.size() || l.a == l.b) {
            return fmt::format("link {}-{} does not join two different hosts", l.a, l.b);
        }
        std::string bad = validate(l.a_to_b);
        if (bad.empty() && l.b_to_a) bad = validate(*l.b_to_a);
        if (!bad.empty()) return fmt::format("link {}-{}: {}", l.a, l.b, bad);
    }
    for (HostId i = 1; i < s.hosts.size(); ++i) {
        const auto joins = [i](const LinkSpec& l) {
            return (l.a == 0 && l.b == i) || (l.a == i && l.b == 0);
        };
        if (std::none_of(s.links.begin(), s.links.end(), joins)) {
            return fmt::format("host {} has no link to host 0", i);
        }
    }
    const WorkloadParams& w = s.workload;
    if (w.max_size > kMaxWorkloadMessage) return "workload max_size above 4 MiB";
    for (const HostSpec& h : s.hosts) {
        if (w.max_size > h.config.max_message_size) {
            return "workload max_size above a host's max_message_size";
        }
    }
    if (w.messages > kMaxMessages) return "more than 10 million messages per direction";
    if (!(w.text_fraction >= 0 && w.text_fraction <= 1)) return "text_fraction not in [0, 1]";
    if (w.interval < Duration::zero()) return "negative workload interval";
    if (s.time_limit <= Duration::zero()) return "time_limit must be positive";
    if (s.expect == Outcome::connection_lost && !s.expected_reason) {
        return "connection_lost needs an expected_reason";
    }
    return {};
}

Result run(const Scenario& scenario) {
    Simulation sim(scenario);
    return sim.run();
}

}  // namespace srmudp::netsim
