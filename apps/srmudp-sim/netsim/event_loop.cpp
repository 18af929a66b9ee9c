// Virtual clock and event queue of the simulator (a binary heap ordered by time, then by
// scheduling order).
#include "netsim/event_loop.hpp"

#include <algorithm>
#include <utility>

namespace srmudp::netsim {

void EventLoop::schedule(TimePoint at, Action action) {
    queue_.push_back(Entry{std::max(at, now_), next_seq_++, std::move(action)});
    std::push_heap(queue_.begin(), queue_.end(), later);
}

bool EventLoop::step() {
    if (queue_.empty()) return false;
    std::pop_heap(queue_.begin(), queue_.end(), later);
    Entry entry = std::move(queue_.back());
    queue_.pop_back();
    now_ = entry.at;
    ++executed_;
    // The action may schedule more events, so it runs only after the heap is consistent again.
    entry.action();
    return true;
}

void EventLoop::run_until(TimePoint until) {
    while (!stopped_ && !queue_.empty() && queue_.front().at <= until) {
        step();
    }
    if (!stopped_ && now_ < until) now_ = until;
}

TimePoint EventLoop::next_event_time() const noexcept {
    return queue_.empty() ? kNever : queue_.front().at;
}

}  // namespace srmudp::netsim
