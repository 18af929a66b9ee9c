#include "core/crypto/replay_window.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <set>

using srmudp::crypto::ReplayWindow;

namespace {
constexpr std::uint64_t W = ReplayWindow::kWindow;
}

TEST_CASE("an empty window accepts anything - including packet number 0", "[replay]") {
    ReplayWindow w;
    CHECK(w.empty());
    CHECK(w.check(0));
    CHECK(w.check(std::numeric_limits<std::uint64_t>::max()));
    REQUIRE(w.mark(0));
    CHECK_FALSE(w.empty());
    CHECK(w.largest() == 0);
    CHECK_FALSE(w.check(0));
    CHECK_FALSE(w.mark(0));
}

TEST_CASE("in-order packet numbers are accepted once each", "[replay]") {
    ReplayWindow w;
    for (std::uint64_t pn = 0; pn < 5000; ++pn) {
        REQUIRE(w.check(pn));
        REQUIRE(w.mark(pn));
        REQUIRE(w.largest() == pn);
    }
    for (std::uint64_t pn = 5000 - W; pn < 5000; ++pn)
        CHECK_FALSE(w.check(pn));
}

TEST_CASE("out-of-order packet numbers within the window are accepted once", "[replay]") {
    ReplayWindow w;
    REQUIRE(w.mark(100));
    REQUIRE(w.mark(97));
    REQUIRE(w.mark(99));
    CHECK(w.largest() == 100);
    CHECK_FALSE(w.mark(97));
    CHECK(w.check(98));
    CHECK(w.check(0));  // 100 - 0 < kWindow
    REQUIRE(w.mark(0));
    CHECK_FALSE(w.check(0));
}

TEST_CASE("the window edge: largest - kWindow + 1 is inside - largest - kWindow is not",
          "[replay]") {
    ReplayWindow w;
    const std::uint64_t top = 10 * W + 17;
    REQUIRE(w.mark(top));
    CHECK(w.check(top - W + 1));
    CHECK_FALSE(w.check(top - W));
    CHECK_FALSE(w.mark(top - W));
    REQUIRE(w.mark(top - W + 1));
    CHECK_FALSE(w.mark(top - W + 1));
    CHECK(w.check(top - 1));
}

TEST_CASE("duplicates are refused after the window slides by less than its size", "[replay]") {
    ReplayWindow w;
    // Every third packet number, so the bitmap is sparse across block boundaries.
    for (std::uint64_t pn = 0; pn < 3 * W; pn += 3)
        REQUIRE(w.mark(pn));
    const std::uint64_t top = w.largest();
    for (std::uint64_t pn = top - W + 1; pn <= top; ++pn) {
        CAPTURE(pn);
        CHECK(w.check(pn) == (pn % 3 != 0));
    }
}

TEST_CASE("a huge jump forgets the old window entirely", "[replay]") {
    ReplayWindow w;
    for (std::uint64_t pn = 0; pn < 100; ++pn)
        REQUIRE(w.mark(pn));
    const std::uint64_t far = std::uint64_t{1} << 40;
    REQUIRE(w.mark(far));
    CHECK(w.largest() == far);
    CHECK_FALSE(w.check(99));  // far too old now
    for (std::uint64_t pn = far - W + 1; pn < far; ++pn)
        REQUIRE(w.check(pn));
    CHECK_FALSE(w.check(far));

    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    REQUIRE(w.mark(max));
    CHECK_FALSE(w.mark(max));
    CHECK(w.check(max - 1));
    CHECK_FALSE(w.check(far));
}

TEST_CASE("a jump by less than the window keeps the still-covered bits", "[replay]") {
    ReplayWindow w;
    for (std::uint64_t pn = 1000; pn < 1010; ++pn)
        REQUIRE(w.mark(pn));
    const std::uint64_t top = 1000 + W - 1;  // 1000 is the oldest number still in the window
    REQUIRE(w.mark(top));
    for (std::uint64_t pn = 1000; pn < 1010; ++pn)
        CHECK_FALSE(w.check(pn));
    CHECK(w.check(1010));
    for (std::uint64_t step = 1; step < 200; ++step) {
        // Slide one at a time: each slide clears exactly what fell out and nothing live.
        REQUIRE(w.mark(top + step));
        CHECK_FALSE(w.check(top + step - 1));
    }
}

TEST_CASE("the window matches a reference set across many irregular slides", "[replay]") {
    ReplayWindow w;
    std::set<std::uint64_t> seen;
    std::uint64_t pn = 5;
    for (int i = 0; i < 400; ++i) {  // drifts ~200 per 5 steps: several windows in total
        // Mostly forward in irregular steps (some zero, some beyond a block), sometimes back.
        pn = i % 5 == 4 ? pn - std::min<std::uint64_t>(pn, 100) : pn + (i * 37) % 150;
        const bool fresh = seen.count(pn) == 0 && (w.empty() || pn + W > w.largest());
        CHECK(w.mark(pn) == fresh);
        if (fresh) seen.insert(pn);
        const std::uint64_t lo = w.largest() >= W - 1 ? w.largest() - W + 1 : 0;
        for (std::uint64_t q = lo; q <= w.largest() + 1; ++q) {
            if (w.check(q) != (seen.count(q) == 0)) FAIL("pn " << q << " after " << i);
        }
        if (lo > 0) REQUIRE_FALSE(w.check(lo - 1));
    }
}

TEST_CASE("sliding block by block forgets bits that left the window", "[replay]") {
    // The ring has kWindow / 64 + 1 blocks, so block b reuses the slot of block b - 33; a slot
    // not cleared on reuse would make fresh numbers look like replays.
    ReplayWindow w;
    std::set<std::uint64_t> seen;
    for (std::uint64_t pn = 0; pn < 100; ++pn) {
        REQUIRE(w.mark(pn));
        seen.insert(pn);
    }
    for (std::uint64_t pn = 164; pn <= 164 + W + 64; pn += 64) {
        REQUIRE(w.mark(pn));
        seen.insert(pn);
    }
    const std::uint64_t top = w.largest();
    for (std::uint64_t q = top - W + 1; q <= top; ++q) {
        if (w.check(q) != (seen.count(q) == 0)) FAIL("pn " << q);
    }
}
