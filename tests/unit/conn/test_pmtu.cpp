#include <catch2/catch.hpp>

#include <vector>

#include "core/conn/pmtu.hpp"

using namespace srmudp;
using srmudp::conn::kMaxProbes;
using srmudp::conn::kPmtuRaiseInterval;
using srmudp::conn::PmtuDiscovery;

namespace {

const TimePoint T = TimePoint{} + seconds(100);

// Runs a search against a path that carries datagrams up to path_mtu: every probe above it is
// lost. Returns the sizes probed, in order (each lost size appears kMaxProbes times).
std::vector<std::size_t> search(PmtuDiscovery& pmtu, std::size_t path_mtu, std::uint64_t& pn) {
    std::vector<std::size_t> probed;
    for (int guard = 0; guard < 1000 && pmtu.probe_size() != 0; ++guard) {
        const std::size_t size = pmtu.probe_size();
        probed.push_back(size);
        pmtu.on_probe_sent(pn, size);
        REQUIRE(pmtu.is_probe(pn));
        REQUIRE(pmtu.probe_size() == 0);  // one probe at a time
        if (size <= path_mtu) {
            CHECK(pmtu.on_probe_acked(pn, T));
        } else {
            pmtu.on_probe_lost(pn, T);
        }
        ++pn;
    }
    return probed;
}

}  // namespace

TEST_CASE("pmtu: nothing is probed before start() or when disabled", "[pmtu]") {
    PmtuDiscovery idle(1200, 1452, true);
    CHECK(idle.current() == 1200);
    CHECK(idle.probe_size() == 0);
    CHECK(idle.deadline() == kNever);

    PmtuDiscovery off(1200, 1452, false);
    off.start(T);
    CHECK(off.probe_size() == 0);
    CHECK_FALSE(off.searching());

    PmtuDiscovery no_room(1400, 1300, true);  // max below base
    no_room.start(T);
    CHECK(no_room.probe_size() == 0);
    CHECK(no_room.current() == 1400);
}

TEST_CASE("pmtu: a path carrying everything climbs the candidates to the maximum", "[pmtu]") {
    PmtuDiscovery pmtu(1200, 1452, true);
    pmtu.start(T);
    std::uint64_t pn = 10;
    CHECK(search(pmtu, 9000, pn) == std::vector<std::size_t>{1280, 1380, 1452});
    CHECK(pmtu.current() == 1452);
    CHECK_FALSE(pmtu.searching());
    CHECK(pmtu.deadline() == kNever);  // nothing above the maximum is ever tried
    CHECK(pmtu.probes_lost() == 0);
}

TEST_CASE("pmtu: the search settles on the largest size the path carries", "[pmtu]") {
    PmtuDiscovery pmtu(1200, 1452, true);
    pmtu.start(T);
    std::uint64_t pn = 0;
    const auto probed = search(pmtu, 1400, pn);
    CHECK(pmtu.current() == 1400);
    CHECK_FALSE(pmtu.searching());
    // Every size above 1400 was given kMaxProbes chances; none at or below it was lost.
    std::size_t lost = 0;
    for (std::size_t s : probed) {
        if (s > 1400) ++lost;
    }
    CHECK(lost % kMaxProbes == 0);
    CHECK(lost == pmtu.probes_lost());
    CHECK(probed.front() == 1280);
    // The raise timer takes the search up again later.
    CHECK(pmtu.deadline() == T + kPmtuRaiseInterval);
}

TEST_CASE("pmtu: a path at the base confirms nothing and stays there", "[pmtu]") {
    PmtuDiscovery pmtu(1200, 1452, true);
    pmtu.start(T);
    std::uint64_t pn = 0;
    const auto probed = search(pmtu, 1200, pn);
    CHECK(pmtu.current() == 1200);
    // 1280 fails three times, then the bisection 1240, 1220, 1210, 1205, 1202, 1201.
    CHECK(probed.size() == 7 * kMaxProbes);
    CHECK(probed.back() == 1201);
}

TEST_CASE("pmtu: one lost probe is not enough to give a size up", "[pmtu]") {
    PmtuDiscovery pmtu(1200, 1452, true);
    pmtu.start(T);
    pmtu.on_probe_sent(1, 1280);
    pmtu.on_probe_lost(1, T);
    CHECK(pmtu.probe_size() == 1280);
    pmtu.on_probe_sent(2, 1280);
    CHECK(pmtu.on_probe_acked(2, T));
    CHECK(pmtu.current() == 1280);
    CHECK(pmtu.probe_size() == 1380);
}

TEST_CASE("pmtu: packets other than the probe in flight are ignored", "[pmtu]") {
    PmtuDiscovery pmtu(1200, 1452, true);
    pmtu.start(T);
    pmtu.on_probe_sent(5, 1300);  // not the size asked for
    CHECK_FALSE(pmtu.is_probe(5));
    pmtu.on_probe_sent(6, 1280);
    CHECK_FALSE(pmtu.on_probe_acked(7, T));
    pmtu.on_probe_lost(4, T);
    CHECK(pmtu.probes_lost() == 0);
    CHECK(pmtu.is_probe(6));
    CHECK(pmtu.on_probe_acked(6, T));
    CHECK_FALSE(pmtu.on_probe_acked(6, T));  // settled once
}

TEST_CASE("pmtu: the raise timer retries the failed size and searches on if it passes", "[pmtu]") {
    PmtuDiscovery pmtu(1200, 1452, true);
    pmtu.start(T);
    std::uint64_t pn = 0;
    search(pmtu, 1380, pn);
    REQUIRE(pmtu.current() == 1380);
    const TimePoint raise = pmtu.deadline();
    REQUIRE(raise == T + kPmtuRaiseInterval);
    pmtu.on_timeout(raise - milliseconds(1));
    CHECK(pmtu.probe_size() == 0);

    // Still too small: one size above the confirmed one fails kMaxProbes times, then waits again.
    pmtu.on_timeout(raise);
    REQUIRE(pmtu.searching());
    CHECK(pmtu.probe_size() == 1381);
    for (unsigned i = 0; i < kMaxProbes; ++i) {
        REQUIRE(pmtu.probe_size() == 1381);
        pmtu.on_probe_sent(pn, 1381);
        pmtu.on_probe_lost(pn++, raise);
    }
    CHECK_FALSE(pmtu.searching());
    CHECK(pmtu.current() == 1380);
    CHECK(pmtu.deadline() == raise + kPmtuRaiseInterval);

    // The path grew: the retry passes and the search climbs to the maximum.
    pmtu.on_timeout(pmtu.deadline());
    search(pmtu, 1500, pn);
    CHECK(pmtu.current() == 1452);
}

TEST_CASE("pmtu: a black hole falls back to the base and searches again", "[pmtu]") {
    PmtuDiscovery pmtu(1200, 1452, true);
    CHECK_FALSE(pmtu.on_black_hole(T));
    pmtu.start(T);
    std::uint64_t pn = 0;
    search(pmtu, 1452, pn);
    REQUIRE(pmtu.current() == 1452);
    CHECK(pmtu.on_black_hole(T));
    CHECK(pmtu.current() == 1200);
    CHECK(pmtu.probe_size() == 1280);
    CHECK_FALSE(pmtu.on_black_hole(T));  // already at the base

    pmtu.stop();
    CHECK(pmtu.probe_size() == 0);
    CHECK(pmtu.current() == 1200);
}

TEST_CASE("pmtu: a maximum between candidates is probed itself", "[pmtu]") {
    PmtuDiscovery pmtu(1200, 1350, true);
    pmtu.start(T);
    std::uint64_t pn = 0;
    CHECK(search(pmtu, 2000, pn) == std::vector<std::size_t>{1280, 1350});
    CHECK(pmtu.current() == 1350);

    PmtuDiscovery above(1400, 9000, true);  // base above the first candidates
    above.start(T);
    CHECK(above.probe_size() == 1452);
}
