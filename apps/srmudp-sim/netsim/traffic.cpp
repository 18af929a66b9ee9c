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

std::uint64_t stream_seed(std::uint64_t scenario_seed, HostId from, HostId to) {
    return derive_seed(scenario_seed, kSeedStream, (static_cast<std::uint64_t>(from) << 32) | to);
}

Traffic::Traffic(Host& host, EventLoop& loop, const WorkloadParams& params,
                 std::uint64_t scenario_seed, FailureLog& log)
    : host_(host), loop_(loop), params_(params), seed_(scenario_seed), log_(log) {
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

void Traffic::snapshot_stats() {
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

Flow& Traffic::add_flow(HostId peer, ConnectionHandle handle) {
    const std::string out_label = fmt::format("stream h{}->h{}", host_.id(), peer);
    const std::string in_label = fmt::format("stream h{}->h{}", peer, host_.id());
    Flow flow(peer, handle,
              StreamSender(out_label, stream_seed(seed_, host_.id(), peer), params_, log_),
              StreamReceiver(in_label, stream_seed(seed_, peer, host_.id()), params_, log_));
    Flow& added = flows_.emplace(handle, std::move(flow)).first->second;
    if (params_.interval > Duration::zero()) {
        added.credits = 1;  // the first message goes at once, the next one interval later
        loop_.schedule_after(params_.interval, [this, handle] { tick(handle); });
    }
    return added;
}

void Traffic::on_event(const EndpointEvent& event) {
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
        on_state(flow, *change);
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

void Traffic::on_state(Flow& flow, const StateChanged& change) {
    flow.state = change.state;
    if (change.state == ConnectionState::established) {
        if (flow.established_at) {
            log_.add(fmt::format("{}: connection {} established twice", host_.name(), flow.handle));
        }
        flow.established_at = loop_.now();
        return;
    }
    if (change.state == ConnectionState::closing || change.state == ConnectionState::closed) {
        if (!flow.ending) flow.ending = change;
        if (change.state == ConnectionState::closed) flow.closed = true;
    }
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
    const auto it = flows_.find(handle);
    if (it == flows_.end()) return;
    Flow& flow = it->second;
    if (flow.closed || flow.send_refused || !flow.out.has_next()) return;
    ++flow.credits;
    pump(flow);
    host_.service();
    loop_.schedule_after(params_.interval, [this, handle] { tick(handle); });
}

}  // namespace srmudp::netsim
