// Simulated network: routes datagrams over per-direction Links and delivers them via the event
// loop.
#include "netsim/network.hpp"

#include "netsim/seed.hpp"

namespace srmudp::netsim {

Network::Network(EventLoop& loop, std::uint64_t seed)
    : loop_(loop), seed_(seed), origin_(loop.now()) {}

void Network::connect(HostId a, HostId b, LinkParams a_to_b, LinkParams b_to_a) {
    // A partition cuts the cable, both directions; a one-way one only its own direction.
    const std::vector<Partition> from_a = a_to_b.partitions;
    for (const Partition& w : b_to_a.partitions) {
        if (!w.one_way) a_to_b.partitions.push_back(w);
    }
    for (const Partition& w : from_a) {
        if (!w.one_way) b_to_a.partitions.push_back(w);
    }
    const auto key = [this](HostId from, HostId to) {
        return derive_seed(seed_, kSeedLink, (static_cast<std::uint64_t>(from) << 32) | to);
    };
    links_[{a, b}] = std::make_unique<Link>(std::move(a_to_b), key(a, b), origin_);
    links_[{b, a}] = std::make_unique<Link>(std::move(b_to_a), key(b, a), origin_);
}

const Link* Network::link(HostId from, HostId to) const {
    const auto it = links_.find({from, to});
    return it == links_.end() ? nullptr : it->second.get();
}

bool Network::send(HostId from, HostId to, ByteView datagram) {
    const auto it = links_.find({from, to});
    if (it == links_.end() || datagram.size() > kMaxDatagramSize) {
        ++unroutable_;
        return false;
    }
    const Transit transit = it->second->offer(loop_.now(), datagram.size());
    if (transit.copies == 0) return true;
    // Shared between the copies of a duplicated datagram.
    auto bytes = std::make_shared<const Bytes>(datagram.begin(), datagram.end());
    for (std::size_t i = 0; i < transit.copies; ++i) {
        loop_.schedule(transit.arrival[i], [this, from, to, bytes] { arrive(from, to, bytes); });
    }
    return true;
}

void Network::arrive(HostId from, HostId to, const std::shared_ptr<const Bytes>& datagram) {
    if (!links_.at({from, to})->arrive(loop_.now(), datagram->size())) return;
    digest(static_cast<std::uint64_t>(loop_.now().time_since_epoch().count()));
    digest((static_cast<std::uint64_t>(from) << 32) | to);
    digest_bytes(ByteView(*datagram));
    if (receiver_) receiver_(to, from, ByteView(*datagram));
}

// FNV-1a, one octet at a time; integers little-endian.
void Network::digest(std::uint64_t value) noexcept {
    for (int i = 0; i < 8; ++i) {
        digest_ ^= (value >> (8 * i)) & 0xFF;
        digest_ *= 0x100000001B3ull;
    }
}

void Network::digest_bytes(ByteView bytes) noexcept {
    for (std::uint8_t b : bytes) {
        digest_ ^= b;
        digest_ *= 0x100000001B3ull;
    }
}

LinkCounters Network::totals() const {
    LinkCounters sum;
    for (const auto& entry : links_) {
        sum += entry.second->counters();
    }
    return sum;
}

}  // namespace srmudp::netsim
