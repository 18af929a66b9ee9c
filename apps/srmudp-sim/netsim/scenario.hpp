// A simulated run of srmudp: hosts, the links between them, a workload and what must come out.
//
// run() builds the network, opens the connections (host 0 listens and every other host
// connects to it, or host 0 and each other host connect to each other at the same instant),
// runs the workload on every connection until all of it is delivered, the connections ended or
// the virtual time limit passed, then closes gracefully and checks everything srmudp promises:
// exactly-once in-order byte-identical delivery, truthful MessageDelivered / MessageFailed
// reports, the expected way of ending. The Result carries pass/fail, every failure found and
// the figures of the run.
//
// A scenario may also restart a host (its core is destroyed and, after a downtime, recreated
// at the same address, where its application connects again) or move a host to a new port
// (a NAT rebinding), and it says which hosts must see their connections reconnect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "netsim/link.hpp"
#include "netsim/network.hpp"
#include "netsim/workload.hpp"
#include "srmudp/config.hpp"
#include "srmudp/events.hpp"
#include "srmudp/time.hpp"

namespace srmudp::netsim {

struct HostSpec {
    std::string name;
    Config config;
};

// Joins hosts a and b. b_to_a defaults to a_to_b; partitions of either cut both directions.
struct LinkSpec {
    HostId a = 0;
    HostId b = 1;
    LinkParams a_to_b;
    std::optional<LinkParams> b_to_a;
};

enum class OpenMode : std::uint8_t {
    listen_connect,  // host 0 listen()s, every other host connect()s to it
    simultaneous,    // host 0 and every other host connect() to each other at the same instant
};

enum class Outcome : std::uint8_t {
    completes,        // every message delivered, then a graceful close
    connection_lost,  // every connection ends with expected_reason on both sides
};

// Host `host` (not 0) crashes at `at` and boots again `downtime` later; its new application
// connects to host 0 again and runs the workload afresh (a new generation of both streams).
struct HostRestart {
    HostId host = 1;
    Duration at{};
    Duration downtime{};
};

// Host `host` changes its port by `port_offset` at `at`: its peers see a NAT rebinding.
struct AddressChange {
    HostId host = 1;
    Duration at{};
    std::uint16_t port_offset = 1000;
};

struct Scenario {
    std::string name;
    std::string description;
    std::uint64_t seed = 1;
    std::vector<HostSpec> hosts;  // at least 2; host 0 is the one every other host talks to
    std::vector<LinkSpec> links;
    OpenMode open = OpenMode::listen_connect;
    WorkloadParams workload;             // per direction of every connection
    Duration time_limit = seconds(600);  // virtual
    Outcome expect = Outcome::completes;
    std::error_code expected_reason;  // for Outcome::connection_lost
    bool close_at_end = true;  // after completion, each connecting host closes its connection
    std::string key = "netsim shared key";
    std::optional<HostRestart> restart;
    std::optional<AddressChange> rebind;
    // Hosts whose connections must go through reconnecting (and back to established, for
    // Outcome::completes) before the workload completes; every other host's must never.
    std::vector<HostId> reconnecting_hosts;
    // Other hosts may reconnect too (the delivery checks still apply in full).
    bool reconnects_allowed = false;
};

// A scenario of two hosts ("a" listening, "b" connecting) on one symmetric link.
Scenario two_host_scenario(std::string name, const LinkParams& link, const Config& config = {});

// An empty string if the scenario can run, else what is wrong with it.
std::string validate(const Scenario& scenario);

// Figures of one connection as seen from one of its ends.
struct FlowFigures {
    std::string host;
    std::string peer;
    ConnectionState state = ConnectionState::connecting;
    std::error_code end_reason;     // of the first closing/closed StateChanged, if any
    Duration established_after{};   // from the start of the run; zero if never established
    std::size_t messages_sent = 0;  // accepted by send()
    std::size_t messages_delivered = 0;
    std::size_t messages_failed = 0;
    std::size_t messages_received = 0;
    std::uint64_t bytes_received = 0;
    std::size_t generations = 1;  // stream generations (more after the peer restarted)
    std::size_t reconnects = 0;
    std::size_t peer_restarts = 0;
    ConnectionStats stats;  // last snapshot while open
};

struct Result {
    std::string name;
    std::uint64_t seed = 0;
    bool passed = false;
    std::vector<std::string> failures;  // the first ones, in the order found
    std::size_t failure_count = 0;      // including those not kept
    bool completed = false;             // every message of the workload delivered

    Duration virtual_time{};  // start to completion, or to the end of the run
    double wall_seconds = 0;
    std::uint64_t events = 0;              // event loop steps
    std::uint64_t messages_delivered = 0;  // received by applications, all directions
    std::uint64_t bytes_delivered = 0;     // message payload
    double goodput_mbps = 0;               // bytes_delivered over virtual_time, in Mbit/s

    std::uint64_t stream_bytes_sent = 0;  // all connections, both ends
    std::uint64_t stream_bytes_retransmitted = 0;
    std::uint64_t datagram_bytes_sent = 0;
    double retransmission_ratio = 0;  // stream_bytes_retransmitted / stream_bytes_sent
    double wire_ratio = 0;            // datagram_bytes_sent / bytes_delivered
    std::uint64_t packets_lost = 0;   // as the transport counted them
    std::size_t final_cwnd = 0;       // of the first connecting host's connection
    Duration final_srtt{};

    LinkCounters network;                  // every link added up
    std::uint64_t datagrams_rejected = 0;  // EndpointStats::datagrams_dropped, all hosts
    std::uint64_t trace_digest = 0;        // equal for equal runs
    std::uint64_t reconnects = 0;          // all flows
    std::uint64_t peer_restarts = 0;
    std::uint64_t path_migrations = 0;
    std::size_t min_datagram_size = 0;  // smallest final datagram size of any flow
    std::size_t max_datagram_size = 0;  // largest
    std::vector<FlowFigures> flows;     // current applications only (not those of crashed hosts)
};

// Runs the scenario. Never throws for a failing transport; every problem is in the Result.
Result run(const Scenario& scenario);

// One line: name, PASS/FAIL, and the main figures.
std::string summary_line(const Result& result);
// A readable block: what the network did, what was sent and received, the figures, failures.
std::string describe(const Scenario& scenario, const Result& result);

}  // namespace srmudp::netsim
