// One direction of a simulated network path: what happens to each datagram put on it.
//
// The model, in the order a datagram meets it:
//   partition  - while the cable is cut (a window measured from the start of the run), every
//                datagram is dropped, both one put on the link and one that would arrive. A
//                one-way partition cuts only this direction (an asymmetric outage).
//   mtu        - a datagram larger than the path MTU is dropped (no fragmentation).
//   queue      - with a bandwidth limit, datagrams are serialised one after another at that
//                rate; those waiting or being serialised occupy the queue, and a datagram that
//                would overflow its byte limit is dropped (drop-tail, as in a router buffer).
//   loss       - each serialised datagram is lost with the loss probability.
//   delay      - it arrives after the base delay plus a uniform jitter; with the reorder
//                probability it gets reorder_delay on top, so later datagrams overtake it.
//   duplicate  - with the duplication probability a second copy arrives, with its own jitter.
// All randomness comes from a std::mt19937_64 seeded at construction: the same seed and the same
// sequence of offers give the same fates, bit for bit.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "srmudp/time.hpp"

namespace srmudp::netsim {

// A window [start, end) of virtual time, measured from the start of the run, during which the
// link drops everything.
struct Partition {
    Duration start{};
    Duration end{};
    bool one_way = false;  // cuts only the direction whose LinkParams name it
};

struct LinkParams {
    Duration delay = milliseconds(10);
    Duration jitter{};  // uniform extra delay in [0, jitter]
    double loss = 0.0;
    double duplicate = 0.0;
    double reorder = 0.0;
    Duration reorder_delay = milliseconds(20);  // extra delay of a reordered datagram
    std::uint64_t bandwidth_bps = 0;            // 0: unlimited, no serialisation or queue
    std::size_t queue_limit_bytes = 1u << 20;   // with a bandwidth limit: queued + in transmission
    std::size_t mtu = 0;  // largest datagram carried (UDP payload bytes); 0: up to kMaxDatagramSize
    std::vector<Partition> partitions;
};

// The largest bandwidth the serialisation arithmetic handles exactly (10 Gbit/s).
inline constexpr std::uint64_t kMaxBandwidthBps = 10'000'000'000ull;
// The largest datagram a link carries (the UDP payload limit).
inline constexpr std::size_t kMaxDatagramSize = 65'535;

// An empty string if params describe a possible link, else what is wrong with them.
std::string validate(const LinkParams& params);

// Copies are counted, so offered + duplicated = dropped() + delivered + (copies in flight).
struct LinkCounters {
    std::uint64_t offered = 0;  // datagrams put on the link
    std::uint64_t dropped_loss = 0;
    std::uint64_t dropped_queue = 0;
    std::uint64_t dropped_partition = 0;  // at the sender or while in flight
    std::uint64_t dropped_mtu = 0;        // larger than the path MTU
    std::uint64_t duplicated = 0;         // extra copies created
    std::uint64_t delivered = 0;          // copies that reached the receiver
    std::uint64_t bytes_offered = 0;
    std::uint64_t bytes_delivered = 0;

    std::uint64_t dropped() const noexcept {
        return dropped_loss + dropped_queue + dropped_partition + dropped_mtu;
    }
    LinkCounters& operator+=(const LinkCounters& o) noexcept;
};

enum class Fate : std::uint8_t {
    sent,
    dropped_loss,
    dropped_queue,
    dropped_partition,
    dropped_mtu
};

// What the link decided for one offered datagram.
struct Transit {
    Fate fate = Fate::sent;
    std::uint8_t copies = 0;             // 0 when dropped, 2 when duplicated
    std::array<TimePoint, 2> arrival{};  // of each copy, [0, copies)

    friend bool operator==(const Transit& a, const Transit& b) {
        return a.fate == b.fate && a.copies == b.copies && a.arrival == b.arrival;
    }
};

class Link {
  public:
    // origin is the start of the run, from which partitions are measured. params must pass
    // validate().
    Link(LinkParams params, std::uint64_t seed, TimePoint origin);

    // Puts a datagram of `size` bytes on the link at `now`; offers must come in time order.
    Transit offer(TimePoint now, std::size_t size);

    // A copy reaches the far end at `at`: false (counted as a partition drop) when a partition
    // began while it was in flight, else true (counted as delivered).
    bool arrive(TimePoint at, std::size_t size);

    bool partitioned(TimePoint at) const noexcept;
    // Bytes waiting for or in serialisation at `now` (as of the last offer).
    std::size_t queued_bytes() const noexcept { return queued_bytes_; }
    // Time to serialise `size` bytes at the link's bandwidth, rounded up to whole nanoseconds.
    Duration serialisation_time(std::size_t size) const noexcept;

    const LinkParams& params() const noexcept { return params_; }
    const LinkCounters& counters() const noexcept { return counters_; }

  private:
    struct Queued {
        TimePoint done;  // when its last bit leaves
        std::size_t size;
    };

    bool chance(double p);
    Duration uniform(Duration max);
    TimePoint propagate(TimePoint sent);
    bool enqueue(TimePoint now, std::size_t size, TimePoint& done);

    LinkParams params_;
    TimePoint origin_;
    std::mt19937_64 rng_;
    LinkCounters counters_;
    std::deque<Queued> queue_;
    std::size_t queued_bytes_ = 0;
    TimePoint busy_until_{};
};

}  // namespace srmudp::netsim
