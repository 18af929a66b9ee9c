// The simulated network: hosts numbered 0..n-1, joined by pairs of Links (one per direction),
// delivering datagrams through the event loop at the time their link says they arrive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "netsim/event_loop.hpp"
#include "netsim/link.hpp"
#include "srmudp/bytes.hpp"

namespace srmudp::netsim {

using HostId = std::size_t;

class Network {
  public:
    // Called when a datagram arrives at `to`.
    using Receiver = std::function<void(HostId to, HostId from, ByteView datagram)>;

    // Links get seeds derived from `seed`; partitions are measured from loop.now() at construction.
    Network(EventLoop& loop, std::uint64_t seed);

    void set_receiver(Receiver receiver) { receiver_ = std::move(receiver); }

    // Joins a and b: a_to_b carries a's datagrams to b, b_to_a the reverse. A partition cuts the
    // cable, so the partitions of both parameter sets apply to both directions, except one-way
    // partitions, which cut only the direction that names them. Replaces an
    // existing link between the two. Both parameter sets must pass validate().
    void connect(HostId a, HostId b, LinkParams a_to_b, LinkParams b_to_a);
    void connect(HostId a, HostId b, const LinkParams& both) { connect(a, b, both, both); }

    // Puts a datagram from `from` to `to` on their link at loop.now(); false (counted as
    // unroutable) when the two are not joined or the datagram exceeds kMaxDatagramSize.
    bool send(HostId from, HostId to, ByteView datagram);

    // The link carrying from -> to; nullptr if there is none.
    const Link* link(HostId from, HostId to) const;
    // Counters of every link added up.
    LinkCounters totals() const;
    std::uint64_t unroutable() const noexcept { return unroutable_; }
    // FNV-1a over every delivery (time, endpoints, bytes): equal digests mean equal runs.
    std::uint64_t trace_digest() const noexcept { return digest_; }

  private:
    void arrive(HostId from, HostId to, const std::shared_ptr<const Bytes>& datagram);
    void digest(std::uint64_t value) noexcept;
    void digest_bytes(ByteView bytes) noexcept;

    EventLoop& loop_;
    std::uint64_t seed_;
    TimePoint origin_;
    Receiver receiver_;
    // std::map: iteration (for totals) and therefore every result is in a fixed order.
    std::map<std::pair<HostId, HostId>, std::unique_ptr<Link>> links_;
    std::uint64_t unroutable_ = 0;
    std::uint64_t digest_ = 0xCBF29CE484222325ull;
};

}  // namespace srmudp::netsim
