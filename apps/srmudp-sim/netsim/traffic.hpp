// The application on a simulated host: it opens or accepts connections and runs a workload on
// each of them (a "flow"), sending one stream and checking the stream the peer sends back.
//
// It respects backpressure like a real application: when send() answers
// error::send_buffer_full it stops and resumes on SendBufferAvailable. It checks every event
// it gets: events for unknown connections, events after the connection closed and every
// delivery rule of StreamSender / StreamReceiver end up in the FailureLog.
//
// When a connection reports that its peer restarted (StateChanged{established, peer_restarted}),
// the peer's application has started over, and so does the flow: a new generation of both
// streams begins (the restarted peer's new application runs the same generation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "netsim/event_loop.hpp"
#include "netsim/failure_log.hpp"
#include "netsim/host.hpp"
#include "netsim/stream.hpp"
#include "netsim/workload.hpp"
#include "srmudp/endpoint_core.hpp"

namespace srmudp::netsim {

// Seed of the stream that host `from` sends to host `to` in a run seeded with scenario_seed;
// generation counts the restarts of the pair's applications.
std::uint64_t stream_seed(std::uint64_t scenario_seed, HostId from, HostId to,
                          std::size_t generation = 0);

// What one generation of a flow did, kept when the streams start over.
struct GenerationSummary {
    std::size_t accepted = 0;
    std::size_t delivered = 0;
    std::size_t failed = 0;
    std::size_t unreported = 0;
    std::size_t delivered_prefix = 0;
    std::size_t received = 0;
    std::uint64_t bytes_received = 0;
};

// One connection of the host and its workload.
struct Flow {
    Flow(HostId peer_id, ConnectionHandle h, StreamSender sender, StreamReceiver receiver)
        : peer(peer_id), handle(h), out(std::move(sender)), in(std::move(receiver)) {}

    HostId peer;
    ConnectionHandle handle;
    StreamSender out;  // of the current generation
    StreamReceiver in;
    std::size_t generation = 0;
    std::vector<GenerationSummary> past;                  // earlier generations, oldest first
    ConnectionState state = ConnectionState::connecting;  // as the last StateChanged said
    std::optional<TimePoint> established_at;
    // The first StateChanged to closing or closed: why the connection ended.
    std::optional<StateChanged> ending;
    bool closed = false;            // a StateChanged to closed arrived
    bool closed_by_us = false;      // this application called close()
    bool blocked = false;           // waiting for SendBufferAvailable
    bool send_refused = false;      // send() answered connection_closed
    bool gave_up = false;           // closed by us while reconnecting to a peer that had closed
    std::size_t credits = 0;        // messages the interval timer allows to send now
    bool ticking = false;           // the interval timer is scheduled
    std::size_t reconnects = 0;     // StateChanged{reconnecting}
    std::size_t peer_restarts = 0;  // StateChanged{established, peer_restarted}
    ConnectionStats stats;          // the last snapshot taken while the connection was open

    // Every message of both directions delivered and received.
    bool complete() const noexcept { return out.all_delivered() && in.complete(); }
    // Nothing more will happen on it: complete or ended.
    bool settled() const noexcept { return complete() || closed; }
};

class Traffic {
  public:
    // host, loop and log must outlive the Traffic; it installs itself as host's event handler.
    // generation: of the streams of the flows it opens (1 after its host restarted once).
    Traffic(Host& host, EventLoop& loop, const WorkloadParams& params, std::uint64_t scenario_seed,
            FailureLog& log, std::size_t generation = 0);
    Traffic(const Traffic&) = delete;
    Traffic& operator=(const Traffic&) = delete;

    // Connects to `peer` and starts its workload at once (messages queue while connecting).
    // Errors: those of EndpointCore::connect().
    std::error_code connect(HostId peer, const PeerAddress& address, std::string_view key);
    // Accepts connections; each accepted peer gets a flow. Errors: those of listen().
    std::error_code listen(std::string_view key);
    // Closes every flow that is not closed yet, gracefully, with code and reason.
    void close_all(std::uint64_t code, std::string_view reason);
    // Closes every flow that is reconnecting (its peer is gone for good); marks them gave_up.
    void give_up_reconnecting();
    // The host crashed: this application is gone and never touches the core again.
    void retire() { retired_ = true; }

    // Copies ConnectionStats of every open flow (stats vanish with a connection).
    void snapshot_stats();

    const std::map<ConnectionHandle, Flow>& flows() const noexcept { return flows_; }
    // The first flow with `peer`; nullptr if none.
    const Flow* flow_to(HostId peer) const;
    Host& host() noexcept { return host_; }
    const Host& host() const noexcept { return host_; }

  private:
    void on_event(const EndpointEvent& event);
    // Returns true if the peer restarted, so the flow must start a new generation.
    bool on_state(Flow& flow, const StateChanged& change);
    void on_accepted(ConnectionHandle handle);
    Flow& add_flow(HostId peer, ConnectionHandle handle);
    Flow make_flow(HostId peer, ConnectionHandle handle, std::size_t generation) const;
    Flow& renew_flow(Flow& old);
    void start_ticking(Flow& flow);
    void pump(Flow& flow);
    void tick(ConnectionHandle handle);

    Host& host_;
    EventLoop& loop_;
    WorkloadParams params_;
    std::uint64_t seed_;
    FailureLog& log_;
    std::size_t generation_;
    bool listening_ = false;
    bool retired_ = false;
    std::map<ConnectionHandle, Flow> flows_;  // std::map: references stay valid
};

}  // namespace srmudp::netsim
