// Datagram packetization layer path MTU discovery (DPLPMTUD, RFC 8899) for one connection.
//
// The connection starts from a size every path is assumed to carry (the base, Config's
// max_datagram_size) and, once established, sends probe packets (PING + PADDING) of larger
// sizes. An acknowledged probe confirms its size, which becomes the connection's datagram size;
// kMaxProbes lost probes of one size mark it as too large. Sizes are tried in the order of
// kPmtuCandidates (common path MTUs), then, once one failed, by halving the interval between the
// largest confirmed and the smallest failed size, so the search settles on the largest size the
// path carries. A search that ended below the maximum is taken up again by the raise timer
// (RFC 8899 section 5.1.1, PMTU_RAISE_TIMER) with one probe of the smallest failed size. A black
// hole (persistent congestion while above the base) drops back to the base and searches again.
//
// Call start() when a session is established, probe_size() when building packets, then
// on_probe_sent(), and on_probe_acked() / on_probe_lost() when loss recovery settles a probe;
// on_timeout() when deadline() has passed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "srmudp/time.hpp"

namespace srmudp::conn {

// Probe sizes tried first, in order (UDP payloads): IPv6 minimum MTU 1280; a tunnelled or PPPoE
// path; the 1500-byte Ethernet MTU less IPv6 (40) and UDP (8) headers.
inline constexpr std::array<std::size_t, 3> kPmtuCandidates = {1280, 1380, 1452};
// RFC 8899 section 5.1.2 MAX_PROBES: lost probes of one size before it counts as too large.
inline constexpr unsigned kMaxProbes = 3;
// RFC 8899 section 5.1.1 PMTU_RAISE_TIMER: how long a completed search stands before the next.
inline constexpr Duration kPmtuRaiseInterval = seconds(600);

class PmtuDiscovery {
  public:
    // base: the size known to work; max: the largest to probe. Probing is off when !enabled or
    // max <= base; current() is then always base.
    PmtuDiscovery(std::size_t base, std::size_t max, bool enabled);

    // A session was established: search again from the base (a new session may be a new path).
    void start(TimePoint now);
    // The path changed or stopped carrying current(): back to the base, search again at once.
    void reset(TimePoint now);
    // Probing stops (no session): back to the base, nothing to send until start().
    void stop();

    // The largest confirmed size: what the connection sends.
    std::size_t current() const noexcept { return current_; }
    // The size of the probe to send now; 0 if none (not searching, or a probe is in flight).
    std::size_t probe_size() const noexcept;
    void on_probe_sent(std::uint64_t packet_number, std::size_t size);
    // True if packet_number is the probe in flight.
    bool is_probe(std::uint64_t packet_number) const noexcept;
    // The probe was acknowledged; true if current() grew.
    bool on_probe_acked(std::uint64_t packet_number, TimePoint now);
    // The probe was declared lost (not a sign of congestion).
    void on_probe_lost(std::uint64_t packet_number, TimePoint now);
    // Persistent congestion: if above the base, a black hole is likely; true if current() fell.
    bool on_black_hole(TimePoint now);

    // The raise timer; kNever unless a search completed below max.
    TimePoint deadline() const noexcept { return raise_at_; }
    void on_timeout(TimePoint now);

    bool searching() const noexcept { return state_ == State::searching; }
    std::uint64_t probes_lost() const noexcept { return probes_lost_; }

  private:
    enum class State : std::uint8_t { disabled, idle, searching, complete };
    struct Probe {
        std::uint64_t packet_number;
        std::size_t size;
    };

    void begin_search();
    void choose_next(TimePoint now);

    std::size_t base_;
    std::size_t max_;
    State state_;
    std::size_t current_;
    std::size_t next_ = 0;    // size being probed
    std::size_t failed_ = 0;  // smallest size known too large; 0 if none
    unsigned losses_ = 0;     // lost probes of next_
    bool raising_ = false;    // next_ is the raise timer's retry of failed_
    std::optional<Probe> in_flight_;
    TimePoint raise_at_ = kNever;
    std::uint64_t probes_lost_ = 0;
};

}  // namespace srmudp::conn
