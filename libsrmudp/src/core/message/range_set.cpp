#include "core/message/range_set.hpp"

namespace srmudp::message {

std::map<std::uint64_t, std::uint64_t>::const_iterator RangeSet::first_ending_after(
    std::uint64_t offset) const {
    auto it = ranges_.upper_bound(offset);
    if (it != ranges_.begin()) {
        auto prev = std::prev(it);
        if (prev->second > offset) return prev;
    }
    return it;
}

void RangeSet::add(std::uint64_t begin, std::uint64_t end) {
    if (begin >= end) return;
    // Start at the range that ends at or after `begin` so an adjacent range merges too.
    auto it = ranges_.upper_bound(begin);
    if (it != ranges_.begin() && std::prev(it)->second >= begin) --it;
    while (it != ranges_.end() && it->first <= end) {
        if (it->first < begin) begin = it->first;
        if (it->second > end) end = it->second;
        it = ranges_.erase(it);
    }
    ranges_.emplace_hint(it, begin, end);
}

void RangeSet::remove(std::uint64_t begin, std::uint64_t end) {
    if (begin >= end) return;
    auto it = ranges_.upper_bound(begin);
    if (it != ranges_.begin() && std::prev(it)->second > begin) --it;
    while (it != ranges_.end() && it->first < end) {
        const std::uint64_t range_begin = it->first;
        const std::uint64_t range_end = it->second;
        it = ranges_.erase(it);
        if (range_begin < begin) ranges_.emplace_hint(it, range_begin, begin);
        if (range_end > end) {
            ranges_.emplace_hint(it, end, range_end);
            break;
        }
    }
}

Range RangeSet::first() const noexcept {
    const auto& [begin, end] = *ranges_.begin();
    return Range{begin, end};
}

bool RangeSet::contains(std::uint64_t begin, std::uint64_t end) const {
    if (begin >= end) return true;
    auto it = first_ending_after(begin);
    return it != ranges_.end() && it->first <= begin && it->second >= end;
}

}  // namespace srmudp::message
