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
    void schedule_host_events();
    void crash(HostId h);
    void reboot(HostId h);
    void rebind(HostId h);
    bool retired(const PeerAddress& a) const;
    template <typename Done>
    bool run_until(TimePoint limit, Done done);
    bool pairs_settled();
    bool pairs_complete() const;
    bool all_closed() const;
    bool only_reconnecting_left() const;
    void check_outcome();
    void check_pair(HostId i, const Flow* client, const Flow* server);
    void check_reconnects(HostId host, const Flow& f);
    void check_restart();
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
    // Applications of crashed hosts: kept (their scheduled ticks refer to them), never used.
    std::vector<std::unique_ptr<Traffic>> retired_traffic_;
    std::vector<PeerAddress> retired_addresses_;
    std::size_t pending_host_events_ = 0;  // restarts and rebindings still to happen
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
        hosts_.back()->set_retired_check([this](const PeerAddress& a) { return retired(a); });
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

bool Simulation::retired(const PeerAddress& a) const {
    return std::find(retired_addresses_.begin(), retired_addresses_.end(), a) !=
           retired_addresses_.end();
}

void Simulation::schedule_host_events() {
    if (sc_.restart) {
        ++pending_host_events_;
        loop_.schedule(kEpoch + sc_.restart->at, [this] { crash(sc_.restart->host); });
    }
    if (sc_.rebind) {
        ++pending_host_events_;
        loop_.schedule(kEpoch + sc_.rebind->at, [this] { rebind(sc_.rebind->host); });
    }
}

void Simulation::crash(HostId h) {
    traffic_[h]->retire();  // replaced when the host boots again
    hosts_[h]->crash();
    loop_.schedule_after(sc_.restart->downtime, [this, h] { reboot(h); });
}

// The host comes back with a fresh core and application, which connects to host 0 again.
void Simulation::reboot(HostId h) {
    --pending_host_events_;
    hosts_[h]->boot(derive_seed(derive_seed(sc_.seed, kSeedHost, h), kSeedHost, 1));
    retired_traffic_.push_back(std::move(traffic_[h]));
    traffic_[h] = std::make_unique<Traffic>(*hosts_[h], loop_, sc_.workload, sc_.seed, log_, 1);
    if (const std::error_code ec = traffic_[h]->connect(0, hosts_[0]->address(), sc_.key)) {
        log_.add(
            fmt::format("{}: connect() after restart failed: {}", hosts_[h]->name(), ec.message()));
    }
}

void Simulation::rebind(HostId h) {
    --pending_host_events_;
    PeerAddress moved = hosts_[h]->address();
    retired_addresses_.push_back(moved);
    moved.port = static_cast<std::uint16_t>(moved.port + sc_.rebind->port_offset);
    hosts_[h]->set_address(moved);
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
    if (pending_host_events_ != 0) return false;
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

bool Simulation::only_reconnecting_left() const {
    for (const auto& t : traffic_) {
        if (!t->host().up()) continue;
        for (const auto& entry : t->flows()) {
            const ConnectionState state = t->host().core().state(entry.first);
            if (state != ConnectionState::closed && state != ConnectionState::reconnecting) {
                return false;
            }
        }
    }
    return true;
}

bool Simulation::all_closed() const {
    for (const auto& t : traffic_) {
        if (!t->host().up()) continue;
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
        if (client != nullptr) check_reconnects(i, *client);
        if (server != nullptr) check_reconnects(0, *server);
    }
    if (sc_.restart) check_restart();
}

// Reconnects are expected exactly on the hosts the scenario names (or allowed anywhere).
void Simulation::check_reconnects(HostId host, const Flow& f) {
    const bool expected = std::find(sc_.reconnecting_hosts.begin(), sc_.reconnecting_hosts.end(),
                                    host) != sc_.reconnecting_hosts.end();
    if (expected && f.reconnects == 0) {
        log_.add(fmt::format("h{}: the connection to h{} never reconnected", host, f.peer));
    } else if (!expected && f.reconnects != 0 && !sc_.reconnects_allowed) {
        log_.add(fmt::format("h{}: the connection to h{} reconnected {} times unexpectedly", host,
                             f.peer, f.reconnects));
    }
    if (expected && sc_.expect == Outcome::completes && f.state != ConnectionState::established) {
        log_.add(fmt::format("h{}: the connection to h{} is {} after reconnecting", host, f.peer,
                             to_string(f.state)));
    }
}

// Host 0's connection saw the peer restart once and started its streams over; what it reported
// about the old generation agrees with what the crashed application had received and sent.
void Simulation::check_restart() {
    const HostId h = sc_.restart->host;
    const Flow* server = flow(0, h);
    const Flow* old_client = nullptr;
    for (const auto& t : retired_traffic_) {
        if (t->host().id() == h) old_client = t->flow_to(0);
    }
    if (server == nullptr || old_client == nullptr) {
        log_.add(fmt::format("restart of h{}: a flow is missing", h));
        return;
    }
    if (server->peer_restarts != 1 || server->past.size() != 1) {
        log_.add(fmt::format("h0: saw {} restarts of h{} ({} past generations), expected 1",
                             server->peer_restarts, h, server->past.size()));
        return;
    }
    const GenerationSummary& g = server->past.front();
    if (g.delivered_prefix > old_client->in.received_count()) {
        log_.add(fmt::format("h0: reported {} messages delivered, the crashed h{} had {}",
                             g.delivered_prefix, h, old_client->in.received_count()));
    }
    if (old_client->out.delivered_prefix() > g.received) {
        log_.add(fmt::format("crashed h{} was told {} delivered, h0 received {}", h,
                             old_client->out.delivered_prefix(), g.received));
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
    // A peer whose every copy of the CLOSE was lost times out and reconnects to a side that is
    // gone; its application gives up on it.
    run_until(loop_.now() + wait, [this] { return all_closed() || only_reconnecting_left(); });
    for (const auto& t : traffic_) {
        if (t->host().up()) t->give_up_reconnecting();
    }
    if (!run_until(loop_.now() + seconds(1), [this] { return all_closed(); })) {
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
    if (peer.gave_up) {
        if (!network_is_lossy()) {
            log_.add(fmt::format("h{}: reconnected after the peer closed on a loss-free network",
                                 closer.peer));
        }
    } else if (end.reason == error::peer_closed) {
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
    for (const GenerationSummary& past : f.past) {
        g.messages_sent += past.accepted;
        g.messages_delivered += past.delivered;
        g.messages_failed += past.failed;
        g.messages_received += past.received;
        g.bytes_received += past.bytes_received;
    }
    g.generations = f.past.size() + 1;
    g.reconnects = f.reconnects;
    g.peer_restarts = f.peer_restarts;
    g.stats = f.stats;
    return g;
}

void Simulation::collect(Result& r) const {
    for (const auto& t : traffic_) {
        if (!t->host().up()) continue;
        r.datagrams_rejected += t->host().core().stats().datagrams_dropped;
        for (const auto& entry : t->flows()) {
            const FlowFigures g = figures(*t, entry.second);
            r.messages_delivered += g.messages_received;
            r.bytes_delivered += g.bytes_received;
            r.stream_bytes_sent += g.stats.stream_bytes_sent;
            r.stream_bytes_retransmitted += g.stats.stream_bytes_retransmitted;
            r.datagram_bytes_sent += g.stats.datagram_bytes_sent;
            r.packets_lost += g.stats.packets_lost;
            r.reconnects += g.reconnects;
            r.peer_restarts += g.peer_restarts;
            r.path_migrations += g.stats.path_migrations;
            const std::size_t size = g.stats.max_datagram_size;
            r.min_datagram_size =
                r.min_datagram_size == 0 ? size : std::min(r.min_datagram_size, size);
            r.max_datagram_size = std::max(r.max_datagram_size, size);
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
        schedule_host_events();
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
    if (s.restart && (s.restart->host == 0 || s.restart->host >= s.hosts.size() ||
                      s.restart->at < Duration::zero() || s.restart->downtime < Duration::zero())) {
        return "a restart needs a host other than 0 and times >= 0";
    }
    if (s.rebind && (s.rebind->host >= s.hosts.size() || s.rebind->at < Duration::zero() ||
                     s.rebind->port_offset == 0)) {
        return "a rebinding needs an existing host, a time >= 0 and a port offset";
    }
    for (HostId h : s.reconnecting_hosts) {
        if (h >= s.hosts.size()) return "reconnecting_hosts names a host that does not exist";
    }
    return {};
}

Result run(const Scenario& scenario) {
    Simulation sim(scenario);
    return sim.run();
}

}  // namespace srmudp::netsim
