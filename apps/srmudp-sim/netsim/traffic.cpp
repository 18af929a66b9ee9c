// The simulated application: connections, workload pacing with backpressure, event checks
// (see traffic.hpp).
#include "netsim/traffic.hpp"

#include <fmt/format.h>

#include <utility>
#include <variant>

#include "netsim/seed.hpp"
#include "srmudp/error.hpp"

namespace srmudp::netsim {

namespace {

const char* event_name(const Event& event) {
    static constexpr const char* kNames[] = {"StateChanged",        "MessageReceived",
                                             "MessageDelivered",    "MessageFailed",
                                             "SendBufferAvailable", "ConnectionAccepted"};
    static_assert(std::variant_size_v<Event> == sizeof kNames / sizeof kNames[0]);
    return kNames[event.index()];
}

}  // namespace

std::uint64_t stream_seed(std::uint64_t scenario_seed, HostId from, HostId to,
                          std::size_t generation) {
    const std::uint64_t seed =
        derive_seed(scenario_seed, kSeedStream, (static_cast<std::uint64_t>(from) << 32) | to);
    return generation == 0 ? seed : derive_seed(seed, kSeedStream, generation);
}

Traffic::Traffic(Host& host, EventLoop& loop, const WorkloadParams& params,
                 std::uint64_t scenario_seed, FailureLog& log, std::size_t generation)
    : host_(host),
      loop_(loop),
      params_(params),
      seed_(scenario_seed),
      log_(log),
      generation_(generation) {
    host_.set_event_handler([this](const EndpointEvent& event) { on_event(event); });
}

std::error_code Traffic::connect(HostId peer, const PeerAddress& address, std::string_view key) {
    ConnectionHandle handle = 0;
    const std::error_code ec = host_.core().connect(loop_.now(), address, key, handle);
    if (ec) return ec;
    if (flows_.count(handle) != 0) {
        log_.add(fmt::format("{}: connect() returned handle {} twice", host_.name(), handle));
        return {};
    }
    pump(add_flow(peer, handle));
    host_.service();
    return {};
}

std::error_code Traffic::listen(std::string_view key) {
    const std::error_code ec = host_.core().listen(key);
    listening_ = !ec;
    return ec;
}

void Traffic::close_all(std::uint64_t code, std::string_view reason) {
    for (auto& [handle, flow] : flows_) {
        if (flow.closed) continue;
        flow.closed_by_us = true;
        host_.core().close(handle, loop_.now(), code, reason);
    }
    host_.service();
}

void Traffic::give_up_reconnecting() {
    for (auto& [handle, flow] : flows_) {
        if (flow.closed || flow.state != ConnectionState::reconnecting) continue;
        flow.closed_by_us = true;
        flow.gave_up = true;
        host_.core().close(handle, loop_.now(), 0, "peer gone");
    }
    host_.service();
}

void Traffic::snapshot_stats() {
    if (retired_ || !host_.up()) return;
    const EndpointCore& core = host_.core();
    for (auto& [handle, flow] : flows_) {
        // A connection the core dropped reports empty stats; keep the last real ones.
        if (!flow.closed && core.state(handle) != ConnectionState::closed) {
            flow.stats = core.stats(handle);
        }
    }
}

const Flow* Traffic::flow_to(HostId peer) const {
    for (const auto& entry : flows_) {
        if (entry.second.peer == peer) return &entry.second;
    }
    return nullptr;
}

Flow Traffic::make_flow(HostId peer, ConnectionHandle handle, std::size_t generation) const {
    const std::string suffix = generation == 0 ? std::string() : fmt::format(" gen{}", generation);
    const std::string out_label = fmt::format("stream h{}->h{}{}", host_.id(), peer, suffix);
    const std::string in_label = fmt::format("stream h{}->h{}{}", peer, host_.id(), suffix);
    Flow flow(
        peer, handle,
        StreamSender(out_label, stream_seed(seed_, host_.id(), peer, generation), params_, log_),
        StreamReceiver(in_label, stream_seed(seed_, peer, host_.id(), generation), params_, log_));
    flow.generation = generation;
    return flow;
}

Flow& Traffic::add_flow(HostId peer, ConnectionHandle handle) {
    Flow& added = flows_.emplace(handle, make_flow(peer, handle, generation_)).first->second;
    start_ticking(added);
    return added;
}

void Traffic::start_ticking(Flow& flow) {
    if (params_.interval <= Duration::zero() || flow.ticking) return;
    flow.credits = 1;  // the first message goes at once, the next one interval later
    flow.ticking = true;
    const ConnectionHandle handle = flow.handle;
    loop_.schedule_after(params_.interval, [this, handle] { tick(handle); });
}

// The peer restarted: the old generation's messages have all been reported (delivered or
// failed with peer_restarted) by now; keep its figures and start the next generation.
Flow& Traffic::renew_flow(Flow& old) {
    GenerationSummary g;
    g.accepted = old.out.accepted_count();
    g.delivered = old.out.delivered_count();
    g.failed = old.out.failed_count();
    g.unreported = old.out.unreported();
    g.delivered_prefix = old.out.delivered_prefix();
    g.received = old.in.received_count();
    g.bytes_received = old.in.bytes_received();
    if (g.unreported != 0) {
        log_.add(fmt::format("{}: {} messages neither delivered nor failed when the peer restarted",
                             host_.name(), g.unreported));
    }
    Flow next = make_flow(old.peer, old.handle, old.generation + 1);
    next.past = std::move(old.past);
    next.past.push_back(g);
    next.state = old.state;
    next.established_at = old.established_at;
    next.reconnects = old.reconnects;
    next.peer_restarts = old.peer_restarts;
    next.stats = old.stats;
    next.credits = old.credits;
    next.ticking = old.ticking;
    const ConnectionHandle handle = old.handle;
    flows_.erase(handle);  // `old` dangles from here on
    Flow& renewed = flows_.emplace(handle, std::move(next)).first->second;
    start_ticking(renewed);  // the old generation may have sent everything already
    pump(renewed);
    return renewed;
}

void Traffic::on_event(const EndpointEvent& event) {
    if (retired_) return;
    if (std::holds_alternative<ConnectionAccepted>(event.event)) {
        on_accepted(event.connection);
        return;
    }
    const auto it = flows_.find(event.connection);
    if (it == flows_.end()) {
        log_.add(fmt::format("{}: {} for unknown connection {}", host_.name(),
                             event_name(event.event), event.connection));
        return;
    }
    Flow& flow = it->second;
    if (flow.closed) {
        log_.add(fmt::format("{}: {} on connection {} after it closed", host_.name(),
                             event_name(event.event), event.connection));
        return;
    }
    if (const auto* change = std::get_if<StateChanged>(&event.event)) {
        if (on_state(flow, *change)) renew_flow(flow);
    } else if (const auto* received = std::get_if<MessageReceived>(&event.event)) {
        flow.in.received(received->message);
    } else if (const auto* delivered = std::get_if<MessageDelivered>(&event.event)) {
        flow.out.delivered(delivered->id);
    } else if (const auto* failed = std::get_if<MessageFailed>(&event.event)) {
        flow.out.failed(failed->id, failed->reason);
    } else if (std::holds_alternative<SendBufferAvailable>(event.event)) {
        flow.blocked = false;
        pump(flow);
    }
}

bool Traffic::on_state(Flow& flow, const StateChanged& change) {
    const ConnectionState previous = flow.state;
    flow.state = change.state;
    if (change.state == ConnectionState::established) {
        const bool restarted = change.reason == error::peer_restarted;
        if (change.reason && !restarted) {
            log_.add(fmt::format("{}: connection {} established with reason '{}'", host_.name(),
                                 flow.handle, change.reason.message()));
        }
        // Established again is right only after reconnecting, or to say the peer restarted.
        if (flow.established_at && previous != ConnectionState::reconnecting && !restarted) {
            log_.add(fmt::format("{}: connection {} established twice", host_.name(), flow.handle));
        }
        if (!flow.established_at) flow.established_at = loop_.now();
        if (restarted) ++flow.peer_restarts;
        return restarted;
    }
    if (change.state == ConnectionState::reconnecting) {
        ++flow.reconnects;
        if (previous != ConnectionState::established || change.reason != error::idle_timeout) {
            log_.add(fmt::format("{}: connection {} reconnecting from {} with reason '{}'",
                                 host_.name(), flow.handle, to_string(previous),
                                 change.reason.message()));
        }
        return false;
    }
    if (change.state == ConnectionState::closing || change.state == ConnectionState::closed) {
        if (!flow.ending) flow.ending = change;
        if (change.state == ConnectionState::closed) flow.closed = true;
    }
    return false;
}

void Traffic::on_accepted(ConnectionHandle handle) {
    if (!listening_) {
        log_.add(fmt::format("{}: ConnectionAccepted without listen()", host_.name()));
        return;
    }
    const PeerAddress remote = host_.core().remote_address(handle);
    const std::optional<HostId> peer = host_.resolve(remote);
    if (!peer) {
        log_.add(fmt::format("{}: accepted a connection from {}, which no host owns", host_.name(),
                             remote.to_string()));
        return;
    }
    if (flows_.count(handle) != 0 || flow_to(*peer) != nullptr) {
        log_.add(fmt::format("{}: accepted host {} (connection {}) a second time", host_.name(),
                             *peer, handle));
        return;
    }
    pump(add_flow(*peer, handle));
}

void Traffic::pump(Flow& flow) {
    if (retired_) return;
    const bool paced = params_.interval > Duration::zero();
    while (!flow.blocked && !flow.send_refused && flow.out.has_next() &&
           (!paced || flow.credits > 0)) {
        const Message& m = flow.out.next();
        MessageId id = 0;
        const std::error_code ec = host_.core().send(flow.handle, m.kind, ByteView(m.data), id);
        if (!ec) {
            flow.out.accepted(id);
            if (paced) --flow.credits;
        } else if (ec == error::send_buffer_full) {
            flow.blocked = true;
        } else if (ec == error::connection_closed) {
            flow.send_refused = true;
        } else {
            log_.add(fmt::format("{}: send() on connection {} failed: {}", host_.name(),
                                 flow.handle, ec.message()));
            flow.send_refused = true;
        }
    }
}

void Traffic::tick(ConnectionHandle handle) {
    if (retired_) return;
    const auto it = flows_.find(handle);
    if (it == flows_.end()) return;
    Flow& flow = it->second;
    if (flow.closed || flow.send_refused || !flow.out.has_next()) {
        flow.ticking = false;
        return;
    }
    ++flow.credits;
    pump(flow);
    host_.service();
    loop_.schedule_after(params_.interval, [this, handle] { tick(handle); });
}

}  // namespace srmudp::netsim
