// A set of disjoint half-open stream ranges [begin, end), kept merged.
//
// The send stream records which bytes the peer acknowledged and which are waiting for
// retransmission. Touching ranges merge, so the set holds one entry per hole in what it covers and
// every operation costs O(log n + ranges touched).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>

namespace srmudp::message {

struct Range {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;  // exclusive
};

class RangeSet {
  public:
    // Adds [begin, end), merging with overlapping and adjacent ranges. Empty ranges are ignored.
    void add(std::uint64_t begin, std::uint64_t end);

    // Removes [begin, end), splitting a range that straddles either end.
    void remove(std::uint64_t begin, std::uint64_t end);

    // The lowest range; only valid when !empty().
    Range first() const noexcept;

    // True if every byte of [begin, end) is in the set (an empty range is always contained).
    bool contains(std::uint64_t begin, std::uint64_t end) const;

    // Calls gap(begin, end) in ascending order for each part of [begin, end) not in the set.
    template <typename F>
    void for_each_gap(std::uint64_t begin, std::uint64_t end, F&& gap) const;

    bool empty() const noexcept { return ranges_.empty(); }
    std::size_t range_count() const noexcept { return ranges_.size(); }
    void clear() noexcept { ranges_.clear(); }

  private:
    // The first range whose end lies above `offset` (the one holding it, or the next one).
    std::map<std::uint64_t, std::uint64_t>::const_iterator first_ending_after(
        std::uint64_t offset) const;

    std::map<std::uint64_t, std::uint64_t> ranges_;  // begin -> end
};

template <typename F>
void RangeSet::for_each_gap(std::uint64_t begin, std::uint64_t end, F&& gap) const {
    std::uint64_t cursor = begin;
    for (auto it = first_ending_after(begin); it != ranges_.end() && it->first < end; ++it) {
        if (it->first > cursor) gap(cursor, it->first);
        if (it->second > cursor) cursor = it->second;
    }
    if (cursor < end) gap(cursor, end);
}

}  // namespace srmudp::message
