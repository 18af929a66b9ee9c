// srmudp end to end over the simulated network: one test case per scenario of the catalogue
// (Profile::quick), plus determinism and many seeds of a lossy link. Each prints its summary
// line; a failing one prints the whole report.
#include <catch2/catch.hpp>

#include <iostream>
#include <set>
#include <string>

#include "netsim/catalogue.hpp"
#include "netsim/scenario.hpp"
#include "srmudp/error.hpp"

using namespace srmudp;
using namespace srmudp::netsim;

namespace {

Scenario named(std::string_view name, std::uint64_t seed = 1) {
    std::optional<Scenario> s = make_scenario(name, Profile::quick, seed);
    REQUIRE(s.has_value());
    return *s;
}

Result run_and_print(const Scenario& s) {
    const Result r = run(s);
    std::cout << summary_line(r) << std::endl;
    if (!r.passed) std::cout << describe(s, r) << std::endl;
    return r;
}

// Runs the scenario and requires that it passed and delivered everything it should have.
Result require_pass(const Scenario& s) {
    const Result r = run_and_print(s);
    INFO(describe(s, r));
    REQUIRE(r.passed);
    if (s.expect == Outcome::completes) {
        const std::size_t connections = s.hosts.size() - 1;
        CHECK(r.completed);
        CHECK(r.messages_delivered == 2 * connections * s.workload.messages);
        CHECK(r.goodput_mbps > 0);
        CHECK(r.flows.size() == 2 * connections);
    }
    return r;
}

std::size_t failed_messages(const Result& r) {
    std::size_t n = 0;
    for (const FlowFigures& f : r.flows) {
        n += f.messages_failed;
    }
    return n;
}

}  // namespace

TEST_CASE("scenario: clean link 10 ms 100 Mbit/s", "[scenario]") {
    const Result r = require_pass(named("clean"));
    CHECK(r.network.dropped_loss == 0);
    // Only the finite queue can drop here, and with FIFO delivery the transport must not declare
    // lost more packets than the network really dropped.
    CHECK(r.packets_lost <= r.network.dropped());
    CHECK(r.final_srtt >= milliseconds(20));
    CHECK(r.final_srtt < milliseconds(60));
    CHECK(r.final_cwnd > 0);
}

TEST_CASE("scenario: 1% loss", "[scenario][loss]") {
    require_pass(named("loss-1"));
}

TEST_CASE("scenario: 5% loss", "[scenario][loss]") {
    const Result r = require_pass(named("loss-5"));
    CHECK(r.network.dropped_loss > 0);
    CHECK(r.stream_bytes_retransmitted > 0);
}

TEST_CASE("scenario: 10% loss", "[scenario][loss]") {
    const Result r = require_pass(named("loss-10"));
    CHECK(r.packets_lost > 0);
}

TEST_CASE("scenario: 30% loss", "[scenario][loss]") {
    const Result r = require_pass(named("loss-30"));
    CHECK(r.retransmission_ratio > 0.1);
}

TEST_CASE("scenario: 50% loss", "[scenario][loss]") {
    const Result r = require_pass(named("loss-50"));
    CHECK(r.retransmission_ratio > 0.3);
}

TEST_CASE("scenario: reordering plus duplication plus jitter", "[scenario]") {
    const Result r = require_pass(named("chaos"));
    CHECK(r.network.duplicated > 0);
}

TEST_CASE("scenario: 1 Mbit/s bottleneck with a 20 KB queue", "[scenario]") {
    const Result r = require_pass(named("narrow"));
    // Two directions of at most 1 Mbit/s each: the link model's rate holds end to end.
    CHECK(r.goodput_mbps <= 2.0);
}

TEST_CASE("scenario: long fat pipe 100 ms 50 Mbit/s", "[scenario]") {
    const Result r = require_pass(named("long-fat"));
    CHECK(r.final_srtt >= milliseconds(200));
}

TEST_CASE("scenario: 5 s partition that heals", "[scenario][partition]") {
    const Scenario s = named("partition-heal");
    const Result r = require_pass(s);
    CHECK(r.network.dropped_partition > 0);
    CHECK(r.virtual_time > seconds(7));
    CHECK(failed_messages(r) == 0);
}

TEST_CASE("scenario: partition beyond idle_timeout fails both sides and reports every loss",
          "[scenario][partition]") {
    const Scenario s = named("partition-timeout");
    REQUIRE(s.expect == Outcome::connection_lost);
    REQUIRE_FALSE(s.hosts[0].config.reconnect);
    REQUIRE(s.expected_reason == error::idle_timeout);
    const Result r = require_pass(s);  // run() checks: idle_timeout on both, nothing unreported
    CHECK_FALSE(r.completed);
    REQUIRE(r.flows.size() == 2);
    for (const FlowFigures& f : r.flows) {
        CHECK(f.end_reason == error::idle_timeout);
        CHECK(f.messages_sent == f.messages_delivered + f.messages_failed);
    }
    CHECK(failed_messages(r) > 0);  // messages were in flight or queued when the cable was cut
}

const FlowFigures& flow_of(const Result& r, const std::string& host) {
    for (const FlowFigures& f : r.flows) {
        if (f.host == host) return f;
    }
    FAIL("no flow of host " << host);
    return r.flows.front();
}

TEST_CASE("scenario: partition beyond idle_timeout with reconnect resumes both streams",
          "[scenario][partition][reconnect]") {
    const Scenario s = named("partition-reconnect");
    REQUIRE(s.hosts[0].config.reconnect);
    const Result r = require_pass(s);  // both hosts must reconnect, everything exactly once
    CHECK(r.network.dropped_partition > 0);
    CHECK(r.virtual_time > seconds(14));  // could not finish before the partition ended
    CHECK(failed_messages(r) == 0);
    for (const FlowFigures& f : r.flows) {
        CHECK(f.reconnects == 1);
        CHECK(f.peer_restarts == 0);
        CHECK(f.stats.reconnects == 1);  // the handshake after the partition resumed
        CHECK(f.messages_received == s.workload.messages);
    }
}

TEST_CASE("scenario: an outage in one direction times out one side only", "[scenario][reconnect]") {
    const Scenario s = named("one-way-outage");
    const Result r = require_pass(s);  // only b (host 1) may reconnect
    CHECK(flow_of(r, "b").reconnects == 1);
    CHECK(flow_of(r, "a").reconnects == 0);
    // a answered b's initiation while established and switched once b proved the new keys.
    CHECK(flow_of(r, "a").stats.reconnects == 1);
    CHECK(failed_messages(r) == 0);
}

TEST_CASE("scenario: a restarted peer is detected - undelivered messages fail - new ones flow",
          "[scenario][restart]") {
    for (const char* name : {"peer-restart", "peer-restart-late"}) {
        const Scenario s = named(name);
        REQUIRE(s.restart);
        const Result r = run_and_print(s);
        INFO(describe(s, r));
        REQUIRE(r.passed);  // run() checks the restart bookkeeping across both generations
        CHECK(r.completed);
        const FlowFigures& a = flow_of(r, "a");
        const FlowFigures& b = flow_of(r, "b");
        CHECK(a.peer_restarts == 1);
        CHECK(a.generations == 2);
        CHECK(a.messages_failed > 0);  // in flight or queued when b crashed
        CHECK(a.messages_sent == a.messages_delivered + a.messages_failed);
        // The new generation ran the whole workload both ways.
        CHECK(b.generations == 1);
        CHECK(b.messages_received == s.workload.messages);
        CHECK(b.messages_delivered == s.workload.messages);
        CHECK(a.messages_received > s.workload.messages);  // both generations of b's stream
        CHECK(a.reconnects == (s.reconnecting_hosts.empty() ? 0u : 1u));
    }
}

TEST_CASE("scenario: a NAT rebinding is followed after path validation - nothing lost",
          "[scenario][migration]") {
    const Scenario s = named("migration");
    REQUIRE(s.rebind);
    const Result r = require_pass(s);
    CHECK(failed_messages(r) == 0);
    CHECK(flow_of(r, "a").stats.path_migrations == 1);
    CHECK(flow_of(r, "b").stats.path_migrations == 0);
    CHECK(r.reconnects == 0);
}

TEST_CASE("scenario: path MTU discovery settles on the largest size the link carries",
          "[scenario][pmtu]") {
    const Scenario s = named("pmtu");
    REQUIRE(s.links[0].a_to_b.mtu == 1400);
    const Result r = require_pass(s);
    CHECK(r.min_datagram_size == 1400);
    CHECK(r.max_datagram_size == 1400);
    CHECK(r.network.dropped_mtu > 0);  // probes above 1400 were tried and lost
    // Each side gives up 1452, 1416, 1407, 1402 and 1401 after three probes each.
    CHECK(r.network.dropped_mtu <= 2 * 5 * 3);
    // Lost probes are not data: nothing was retransmitted and no loss was counted.
    CHECK(r.packets_lost == 0);
    CHECK(r.stream_bytes_retransmitted == 0);
    // Without probing the same run stays at 1200 bytes.
    Scenario off = s;
    for (HostSpec& h : off.hosts)
        h.config.pmtu_probing = false;
    const Result r0 = require_pass(off);
    CHECK(r0.max_datagram_size == 1200);
    CHECK(r0.network.dropped_mtu == 0);
}

TEST_CASE("scenario: simultaneous open", "[scenario][open]") {
    const Scenario s = named("simultaneous");
    REQUIRE(s.open == OpenMode::simultaneous);
    const Result r = require_pass(s);
    for (const FlowFigures& f : r.flows) {
        CHECK(f.established_after > Duration::zero());
    }
}

TEST_CASE("scenario: listen / connect", "[scenario][open]") {
    const Scenario s = named("listen-connect");
    REQUIRE(s.open == OpenMode::listen_connect);
    require_pass(s);
}

TEST_CASE("scenario: three hosts with one listener endpoint serving two clients", "[scenario]") {
    const Result r = require_pass(named("three-hosts"));
    std::set<std::string> peers_of_server;
    for (const FlowFigures& f : r.flows) {
        if (f.host == "server") peers_of_server.insert(f.peer);
    }
    CHECK(peers_of_server == std::set<std::string>{"near", "far"});
}

TEST_CASE("scenario: 4 MiB messages under 5% loss", "[scenario][large]") {
    const Scenario s = named("large");
    const Result r = require_pass(s);
    CHECK(r.bytes_delivered == 2 * s.workload.messages * kMaxWorkloadMessage);
}

TEST_CASE("scenario: three virtual minutes at 1 Mbit/s", "[scenario][long]") {
    const Result r = require_pass(named("marathon"));
    CHECK(r.virtual_time >= std::chrono::minutes(3));
}

TEST_CASE("scenario: 20 seeds of a 10% lossy link", "[scenario][seeds]") {
    std::set<std::uint64_t> digests;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        Scenario s = named("loss-10", seed);
        s.workload.messages = 15;
        s.workload.max_size = 16u << 10;
        const Result r = run_and_print(s);
        INFO(describe(s, r));
        CHECK(r.passed);
        CHECK(r.completed);
        digests.insert(r.trace_digest);
    }
    CHECK(digests.size() == 20);  // every seed gives a different run
}

TEST_CASE("scenario: the same seed replays the same run bit for bit", "[scenario][determinism]") {
    Scenario s = named("chaos", 5);
    s.workload.messages = 20;
    const Result a = run_and_print(s);
    const Result b = run_and_print(s);
    CHECK(a.trace_digest == b.trace_digest);
    CHECK(a.events == b.events);
    CHECK(a.virtual_time == b.virtual_time);
    CHECK(a.stream_bytes_retransmitted == b.stream_bytes_retransmitted);
    CHECK(a.network.delivered == b.network.delivered);
    s.seed = 6;
    CHECK(run(s).trace_digest != a.trace_digest);
}

TEST_CASE("scenario: an invalid scenario fails without running", "[scenario]") {
    Scenario s = named("clean");
    s.links.clear();
    const Result r = run(s);
    CHECK_FALSE(r.passed);
    REQUIRE_FALSE(r.failures.empty());
    CHECK(r.failures[0].find("invalid scenario") != std::string::npos);
    CHECK(r.events == 0);
    CHECK(summary_line(r).find("FAIL") != std::string::npos);
}

TEST_CASE("scenario: every catalogue entry builds a valid scenario", "[scenario]") {
    for (const CatalogueEntry& e : catalogue()) {
        for (Profile p : {Profile::quick, Profile::full}) {
            const std::optional<Scenario> s = make_scenario(e.name, p, 3);
            REQUIRE(s.has_value());
            INFO(e.name);
            CHECK(validate(*s).empty());
            CHECK(s->name == e.name);
            CHECK(s->seed == 3);
        }
    }
    CHECK_FALSE(make_scenario("no-such-scenario", Profile::quick, 1).has_value());
}
