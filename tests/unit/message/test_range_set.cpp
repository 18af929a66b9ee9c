#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "core/message/range_set.hpp"

using namespace srmudp::message;

namespace {

using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// The ranges held inside [0, 1000), read back through the public interface.
Ranges ranges_of(const RangeSet& set) {
    Ranges out;
    // The covered ranges are the gaps of the gaps: walk the complement of [0, 1000).
    std::uint64_t cursor = 0;
    set.for_each_gap(0, 1000, [&](std::uint64_t b, std::uint64_t e) {
        if (b > cursor) out.emplace_back(cursor, b);
        cursor = e;
    });
    if (cursor < 1000) out.emplace_back(cursor, 1000);
    return out;
}

}  // namespace

TEST_CASE("adjacent and overlapping ranges merge") {
    RangeSet set;
    set.add(10, 20);
    set.add(30, 40);
    CHECK(set.range_count() == 2);
    set.add(20, 25);  // touches [10, 20)
    CHECK(ranges_of(set) == Ranges{{10, 25}, {30, 40}});
    set.add(5, 35);  // swallows one and overlaps the other
    CHECK(ranges_of(set) == Ranges{{5, 40}});
    set.add(40, 40);  // empty
    set.add(50, 45);  // inverted
    CHECK(set.range_count() == 1);
    CHECK(set.first().begin == 5);
    CHECK(set.first().end == 40);
}

TEST_CASE("removing splits a range and clears whole ones") {
    RangeSet set;
    set.add(0, 100);
    set.remove(40, 60);
    CHECK(ranges_of(set) == Ranges{{0, 40}, {60, 100}});
    set.remove(0, 10);
    set.remove(90, 200);
    CHECK(ranges_of(set) == Ranges{{10, 40}, {60, 90}});
    set.remove(5, 95);
    CHECK(set.empty());
    set.add(1, 2);
    set.remove(2, 3);  // adjacent, not overlapping
    CHECK(ranges_of(set) == Ranges{{1, 2}});
}

TEST_CASE("contains and gaps") {
    RangeSet set;
    set.add(10, 20);
    set.add(30, 40);
    CHECK(set.contains(10, 20));
    CHECK(set.contains(12, 13));
    CHECK(set.contains(7, 7));
    CHECK_FALSE(set.contains(9, 11));
    CHECK_FALSE(set.contains(15, 35));
    CHECK_FALSE(set.contains(40, 41));

    Ranges gaps;
    set.for_each_gap(0, 50, [&](std::uint64_t b, std::uint64_t e) { gaps.emplace_back(b, e); });
    CHECK(gaps == Ranges{{0, 10}, {20, 30}, {40, 50}});
    gaps.clear();
    set.for_each_gap(15, 35, [&](std::uint64_t b, std::uint64_t e) { gaps.emplace_back(b, e); });
    CHECK(gaps == Ranges{{20, 30}});
    gaps.clear();
    set.for_each_gap(12, 18, [&](std::uint64_t b, std::uint64_t e) { gaps.emplace_back(b, e); });
    CHECK(gaps.empty());
}

TEST_CASE("random adds and removes match a bitmap model") {
    std::mt19937_64 rng(7);
    RangeSet set;
    std::vector<bool> model(1000, false);
    for (int step = 0; step < 5000; ++step) {
        const std::uint64_t b = rng() % 1000;
        const std::uint64_t e = std::min<std::uint64_t>(1000, b + rng() % 40);
        const bool add = rng() % 2 == 0;
        if (add) {
            set.add(b, e);
        } else {
            set.remove(b, e);
        }
        for (std::uint64_t i = b; i < e; ++i)
            model[i] = add;
        if (step % 100 == 0) {
            Ranges expected;
            for (std::uint64_t i = 0; i < 1000; ++i) {
                if (!model[i]) continue;
                if (!expected.empty() && expected.back().second == i) {
                    expected.back().second = i + 1;
                } else {
                    expected.emplace_back(i, i + 1);
                }
            }
            REQUIRE(ranges_of(set) == expected);
            REQUIRE(set.range_count() == expected.size());
            for (const auto& [rb, re] : expected)
                REQUIRE(set.contains(rb, re));
        }
    }
}
