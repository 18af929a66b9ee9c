// The simulator's virtual clock and event queue.
//
// Time only moves when the loop runs the next event: a run of minutes of virtual time takes as
// long as its events take to execute. Events at the same time run in the order they were
// scheduled (a sequence number breaks ties), so a run is fully determined by its inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "srmudp/time.hpp"

namespace srmudp::netsim {

// Where virtual time starts: an arbitrary point well after TimePoint{}, so that nothing can
// mistake "the start of the simulation" for "no time set".
inline constexpr TimePoint kEpoch = TimePoint{} + std::chrono::hours(1);

class EventLoop {
  public:
    using Action = std::function<void()>;

    explicit EventLoop(TimePoint start = kEpoch) : now_(start) {}

    TimePoint now() const noexcept { return now_; }

    // Runs action at `at`; a time in the past runs at now() (after the events already due).
    void schedule(TimePoint at, Action action);
    void schedule_after(Duration delay, Action action) {
        schedule(now_ + delay, std::move(action));
    }

    // Advances the clock to the earliest event and runs it; false when no event is pending.
    bool step();

    // Runs every event due at or before `until`, then sets the clock to `until`. Returns early,
    // leaving the clock at the last event run, once stop() was called.
    void run_until(TimePoint until);

    // Makes run_until() return after the current event; cleared by resume().
    void stop() noexcept { stopped_ = true; }
    void resume() noexcept { stopped_ = false; }
    bool stopped() const noexcept { return stopped_; }

    // Time of the earliest pending event; kNever when none is pending.
    TimePoint next_event_time() const noexcept;
    std::size_t pending() const noexcept { return queue_.size(); }
    // Events run since construction.
    std::uint64_t executed() const noexcept { return executed_; }

  private:
    struct Entry {
        TimePoint at;
        std::uint64_t seq;
        Action action;
    };
    // Heap order: the earliest (time, seq) is at the front.
    static bool later(const Entry& a, const Entry& b) noexcept {
        return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }

    TimePoint now_;
    std::uint64_t next_seq_ = 0;
    std::uint64_t executed_ = 0;
    bool stopped_ = false;
    std::vector<Entry> queue_;
};

}  // namespace srmudp::netsim
