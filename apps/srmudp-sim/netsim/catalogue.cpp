// The named simulator scenarios (see catalogue.hpp). Sizes are chosen so that Profile::quick
// stays small under sanitizers while still crossing the interesting boundaries: empty and
// datagram-sized messages, multi-datagram messages, full send buffers, minutes of virtual time.
#include "netsim/catalogue.hpp"

#include <fmt/format.h>

#include <functional>

#include "srmudp/error.hpp"

namespace srmudp::netsim {
namespace {

using std::chrono::minutes;

struct Size {
    std::size_t messages;
    std::size_t max_size;
};

Size pick(Profile p, Size quick, Size full) {
    return p == Profile::quick ? quick : full;
}

LinkParams path(Duration delay, std::uint64_t bandwidth_bps, double loss = 0) {
    LinkParams l;
    l.delay = delay;
    l.bandwidth_bps = bandwidth_bps;
    l.loss = loss;
    return l;
}

Scenario two_hosts(std::string name, std::string description, const LinkParams& link, Size size,
                   const Config& config = {}) {
    Scenario s = two_host_scenario(std::move(name), link, config);
    s.description = std::move(description);
    s.workload.messages = size.messages;
    s.workload.max_size = size.max_size;
    return s;
}

Scenario clean(Profile p) {
    return two_hosts("clean", "10 ms one way, 100 Mbit/s, no random loss (1 MiB queue)",
                     path(milliseconds(10), 100'000'000),
                     pick(p, {60, 64u << 10}, {300, 256u << 10}));
}

Scenario random_loss(Profile p, double loss) {
    Config c;
    // At 50% loss in each direction a handshake round trip succeeds one time in four.
    c.handshake_timeout = seconds(120);
    const Size quick = loss >= 0.5   ? Size{16, 8u << 10}
                       : loss >= 0.3 ? Size{24, 16u << 10}
                                     : Size{60, 32u << 10};
    const Size full{quick.messages * 4, quick.max_size * 4};
    Scenario s = two_hosts(fmt::format("loss-{:g}", loss * 100),
                           fmt::format("{:g}% random loss each way, 10 ms, 100 Mbit/s", loss * 100),
                           path(milliseconds(10), 100'000'000, loss), pick(p, quick, full), c);
    s.time_limit = minutes(20);
    // With heavy loss every answer to a probe can be lost for the path timeout: the connection
    // then reconnects and resumes, which loses nothing and is no failure.
    s.reconnects_allowed = loss >= 0.3;
    return s;
}

Scenario chaos(Profile p) {
    LinkParams l = path(milliseconds(20), 50'000'000, 0.01);
    l.jitter = milliseconds(15);
    l.duplicate = 0.03;
    l.reorder = 0.05;
    l.reorder_delay = milliseconds(30);
    return two_hosts("chaos", "jitter 15 ms, 5% reordered (+30 ms), 3% duplicated, 1% lost", l,
                     pick(p, {60, 32u << 10}, {300, 128u << 10}));
}

Scenario narrow(Profile p) {
    LinkParams l = path(milliseconds(20), 1'000'000);
    l.queue_limit_bytes = 20'000;
    Config c;
    c.send_buffer_limit = 64u << 10;  // the application feels backpressure too
    return two_hosts("narrow", "1 Mbit/s bottleneck with a 20 KB drop-tail queue", l,
                     pick(p, {40, 16u << 10}, {150, 64u << 10}), c);
}

Scenario long_fat(Profile p) {
    LinkParams l = path(milliseconds(100), 50'000'000);
    l.queue_limit_bytes = 2u << 20;
    return two_hosts("long-fat", "100 ms one way at 50 Mbit/s (1.25 MB in flight to fill it)", l,
                     pick(p, {40, 256u << 10}, {200, 1u << 20}));
}

Scenario partition_heals(Profile p) {
    LinkParams l = path(milliseconds(10), 20'000'000);
    l.partitions = {Partition{seconds(2), seconds(7)}};
    Scenario s = two_hosts("partition-heal",
                           "5 s partition at t=2 s: both sides find the path dead after the 5 s "
                           "path timeout, reconnect when it heals and resume",
                           l, pick(p, {200, 8u << 10}, {400, 32u << 10}));
    s.workload.interval = milliseconds(50);  // messages keep coming during the partition
    s.reconnecting_hosts = {0, 1};
    return s;
}

Scenario partition_kills(Profile p) {
    LinkParams l = path(milliseconds(10), 20'000'000);
    l.partitions = {Partition{seconds(2), seconds(40)}};
    Config c;
    c.idle_timeout = seconds(5);
    c.keepalive_interval = seconds(1);
    c.reconnect = false;  // the path without reconnect: both sides give up
    Scenario s =
        two_hosts("partition-timeout",
                  "38 s partition at t=2 s, longer than the 5 s idle timeout, no reconnect", l,
                  pick(p, {200, 4u << 10}, {400, 16u << 10}), c);
    s.workload.interval = milliseconds(50);
    s.expect = Outcome::connection_lost;
    s.expected_reason = error::idle_timeout;
    s.time_limit = seconds(60);
    return s;
}

// Short idle timeout and frequent keepalives, so that outages of a few seconds time out.
Config quick_timeout(Duration idle) {
    Config c;
    c.idle_timeout = idle;
    c.keepalive_interval = seconds(1);
    return c;
}

Scenario partition_reconnects(Profile p) {
    LinkParams l = path(milliseconds(10), 20'000'000);
    l.partitions = {Partition{seconds(2), seconds(14)}};
    Scenario s =
        two_hosts("partition-reconnect",
                  "12 s partition at t=2 s, 2.4x the 5 s idle timeout: both sides "
                  "reconnect and resume",
                  l, pick(p, {200, 4u << 10}, {400, 16u << 10}), quick_timeout(seconds(5)));
    s.workload.interval = milliseconds(50);  // messages keep coming during the partition
    s.reconnecting_hosts = {0, 1};
    s.time_limit = seconds(120);
    return s;
}

Scenario one_way_outage(Profile p) {
    LinkParams a_to_b = path(milliseconds(10), 20'000'000);
    a_to_b.partitions = {Partition{seconds(2), seconds(9), true}};
    Scenario s =
        two_hosts("one-way-outage",
                  "a->b dead for 7 s from t=2 s: only b times out (6 s idle), b "
                  "reconnects, a answers while established",
                  a_to_b, pick(p, {200, 4u << 10}, {400, 16u << 10}), quick_timeout(seconds(6)));
    s.links[0].b_to_a = path(milliseconds(10), 20'000'000);
    s.workload.interval = milliseconds(50);
    s.reconnecting_hosts = {1};
    s.time_limit = seconds(120);
    return s;
}

Scenario peer_restart(Profile p, bool late) {
    const LinkParams l = path(milliseconds(10), 20'000'000);
    Scenario s =
        late ? two_hosts("peer-restart-late",
                         "b crashes at t=3 s and boots 8 s later, after a's 5 s idle timeout: a "
                         "reconnects, finds the peer restarted, both streams start over",
                         l, pick(p, {200, 4u << 10}, {400, 16u << 10}), quick_timeout(seconds(5)))
             : two_hosts("peer-restart",
                         "b crashes at t=3 s and boots 1 s later: a, still established, reports "
                         "the undelivered messages failed and both streams start over",
                         l, pick(p, {200, 4u << 10}, {400, 16u << 10}));
    s.workload.interval = milliseconds(50);
    s.restart = HostRestart{1, seconds(3), late ? seconds(8) : seconds(1)};
    if (late) s.reconnecting_hosts = {0};
    s.time_limit = seconds(120);
    return s;
}

Scenario migration(Profile p) {
    LinkParams l = path(milliseconds(15), 20'000'000, 0.01);
    Scenario s = two_hosts("migration",
                           "b's NAT rebinds to a new port at t=2 s: a validates the new address "
                           "and follows it, 1% loss",
                           l, pick(p, {120, 8u << 10}, {400, 32u << 10}));
    s.workload.interval = milliseconds(40);
    s.rebind = AddressChange{1, seconds(2), 1000};
    return s;
}

Scenario pmtu(Profile p) {
    LinkParams l = path(milliseconds(10), 100'000'000);
    l.mtu = 1400;
    Scenario s = two_hosts("pmtu",
                           "path MTU 1400 (UDP payload): both sides probe up from 1200 and settle "
                           "on 1400 while the workload runs",
                           l, pick(p, {150, 32u << 10}, {600, 64u << 10}));
    s.workload.interval = milliseconds(10);  // traffic during the whole search
    return s;
}

Scenario open_mode(Profile p, OpenMode mode) {
    LinkParams l = path(milliseconds(30), 20'000'000, 0.01);
    l.jitter = milliseconds(5);
    const bool simultaneous = mode == OpenMode::simultaneous;
    Scenario s = two_hosts(simultaneous ? "simultaneous" : "listen-connect",
                           simultaneous ? "both hosts connect() at the same instant (hole punch)"
                                        : "one host listens, the other connects",
                           l, pick(p, {40, 32u << 10}, {200, 128u << 10}));
    s.open = mode;
    return s;
}

Scenario three_hosts(Profile p) {
    Scenario s;
    s.name = "three-hosts";
    s.description = "one listener serving two clients on one endpoint (10 ms and 40 ms away)";
    s.hosts = {HostSpec{"server", {}}, HostSpec{"near", {}}, HostSpec{"far", {}}};
    s.links = {LinkSpec{0, 1, path(milliseconds(10), 50'000'000, 0.01), std::nullopt},
               LinkSpec{0, 2, path(milliseconds(40), 20'000'000, 0.01), std::nullopt}};
    const Size size = pick(p, {40, 32u << 10}, {200, 128u << 10});
    s.workload.messages = size.messages;
    s.workload.max_size = size.max_size;
    return s;
}

Scenario large(Profile p) {
    Config c;
    c.send_buffer_limit = 4u << 20;  // one 4 MiB message at a time: backpressure between them
    Scenario s = two_hosts("large", "4 MiB messages under 5% loss, 10 ms, 100 Mbit/s",
                           path(milliseconds(10), 100'000'000, 0.05),
                           pick(p, {3, 4u << 20}, {8, 4u << 20}), c);
    s.workload.mix = SizeMix::fixed_max;
    s.time_limit = minutes(30);
    return s;
}

Scenario marathon(Profile p) {
    LinkParams l = path(milliseconds(50), 1'000'000, 0.005);
    l.queue_limit_bytes = 32'000;
    Config c;
    c.send_buffer_limit = 32u << 10;
    Scenario s = two_hosts("marathon", "3 minutes of paced messages over 1 Mbit/s, 0.5% loss", l,
                           pick(p, {1800, 8u << 10}, {1800, 8u << 10}), c);
    s.workload.interval = milliseconds(100);
    return s;
}

struct Maker {
    CatalogueEntry entry;
    std::function<Scenario(Profile)> make;
};

const std::vector<Maker>& makers() {
    static const std::vector<Maker> all = {
        {{"clean", "10 ms, 100 Mbit/s, no random loss", true}, clean},
        {{"loss-1", "1% random loss", false}, [](Profile p) { return random_loss(p, 0.01); }},
        {{"loss-5", "5% random loss", true}, [](Profile p) { return random_loss(p, 0.05); }},
        {{"loss-10", "10% random loss", false}, [](Profile p) { return random_loss(p, 0.10); }},
        {{"loss-30", "30% random loss", false}, [](Profile p) { return random_loss(p, 0.30); }},
        {{"loss-50", "50% random loss", false}, [](Profile p) { return random_loss(p, 0.50); }},
        {{"chaos", "jitter, reordering, duplication, 1% loss", true}, chaos},
        {{"narrow", "1 Mbit/s with a 20 KB queue", true}, narrow},
        {{"long-fat", "100 ms at 50 Mbit/s", false}, long_fat},
        {{"partition-heal", "5 s partition, connection survives", true}, partition_heals},
        {{"partition-timeout", "partition beyond idle timeout, no reconnect: both sides fail",
          false},
         partition_kills},
        {{"partition-reconnect", "partition of 2.4x the idle timeout, reconnect and resume", true},
         partition_reconnects},
        {{"one-way-outage", "one direction dead: only one side times out and reconnects", false},
         one_way_outage},
        {{"peer-restart", "one host restarts; the other reports failures and starts over", true},
         [](Profile p) { return peer_restart(p, false); }},
        {{"peer-restart-late", "a host restarts after the other's idle timeout", false},
         [](Profile p) { return peer_restart(p, true); }},
        {{"migration", "NAT rebinding: path validation, the connection follows", true}, migration},
        {{"pmtu", "path MTU discovery settles on the link's 1400 bytes", true}, pmtu},
        {{"simultaneous", "simultaneous open", true},
         [](Profile p) { return open_mode(p, OpenMode::simultaneous); }},
        {{"listen-connect", "listen / connect", false},
         [](Profile p) { return open_mode(p, OpenMode::listen_connect); }},
        {{"three-hosts", "one listener, two clients", true}, three_hosts},
        {{"large", "4 MiB messages under 5% loss", false}, large},
        {{"marathon", "3 virtual minutes at 1 Mbit/s", false}, marathon},
    };
    return all;
}

}  // namespace

const std::vector<CatalogueEntry>& catalogue() {
    static const std::vector<CatalogueEntry> entries = [] {
        std::vector<CatalogueEntry> e;
        for (const Maker& m : makers()) {
            e.push_back(m.entry);
        }
        return e;
    }();
    return entries;
}

std::optional<Scenario> make_scenario(std::string_view name, Profile profile, std::uint64_t seed) {
    for (const Maker& m : makers()) {
        if (m.entry.name != name) continue;
        Scenario s = m.make(profile);
        s.seed = seed;
        return s;
    }
    return std::nullopt;
}

}  // namespace srmudp::netsim
