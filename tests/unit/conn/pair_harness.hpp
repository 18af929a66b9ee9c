// A minimal in-memory network for connection tests: two or more EndpointCores, a virtual clock,
// instant or delayed delivery, a hook to drop, duplicate or rewrite datagrams, and a NAT that
// makes a node's datagrams appear from another (public) address.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <variant>
#include <vector>

#include "srmudp/endpoint_core.hpp"

namespace srmudp::test {

struct InFlight {
    TimePoint arrival;
    PeerAddress from;
    PeerAddress to;
    Bytes data;
};

struct AddrLess {
    bool operator()(const PeerAddress& a, const PeerAddress& b) const {
        return a.to_string() < b.to_string();
    }
};

// The events of type T in a recorded event list, optionally only those of one connection.
template <typename T>
std::vector<T> events_of(const std::vector<EndpointEvent>& events, ConnectionHandle h = 0) {
    std::vector<T> out;
    for (const auto& e : events) {
        if (h != 0 && e.connection != h) continue;
        if (const auto* x = std::get_if<T>(&e.event)) out.push_back(*x);
    }
    return out;
}

class Harness {
  public:
    // What happens to a datagram on the wire: return false to drop it; it may be modified.
    using Filter = std::function<bool(const PeerAddress& from, const PeerAddress& to, Bytes&)>;

    explicit Harness(Duration one_way_delay = milliseconds(10))
        : now_(TimePoint{} + seconds(1000)), delay_(one_way_delay) {}

    EndpointCore& add(const PeerAddress& addr, const Config& config = {}, std::uint64_t seed = 1) {
        randoms_.push_back(std::make_unique<SeededRandom>(seed));
        auto& node = nodes_[addr];
        node.core = std::make_unique<EndpointCore>(config, *randoms_.back());
        return *node.core;
    }
    EndpointCore& at(const PeerAddress& addr) { return *nodes_.at(addr).core; }
    // Destroys a node's core (its process dies); datagrams to it are lost until replace().
    void remove(const PeerAddress& addr) { nodes_.at(addr).core.reset(); }
    // A fresh core at the same address (the process restarted).
    EndpointCore& replace(const PeerAddress& addr, const Config& config, std::uint64_t seed) {
        randoms_.push_back(std::make_unique<SeededRandom>(seed));
        auto& node = nodes_.at(addr);
        node.core = std::make_unique<EndpointCore>(config, *randoms_.back());
        return *node.core;
    }
    // From now on datagrams of `node` come from `public_addr`, and datagrams to `public_addr`
    // reach `node` (a NAT binding; rebinding = calling it again with a new address).
    void set_nat(const PeerAddress& node, const PeerAddress& public_addr) {
        nat_[node] = public_addr;
    }
    // Datagrams sent to an address no node answers to.
    std::uint64_t lost_to_nowhere() const { return nowhere_; }
    std::uint64_t bytes_to(const PeerAddress& addr) const {
        auto it = bytes_to_.find(addr);
        return it == bytes_to_.end() ? 0 : it->second;
    }
    std::vector<EndpointEvent>& events(const PeerAddress& addr) { return nodes_.at(addr).events; }
    TimePoint now() const { return now_; }
    void set_filter(Filter f) { filter_ = std::move(f); }
    std::uint64_t datagrams() const { return datagrams_; }

    // Advances virtual time to `until`, delivering datagrams and running timers on the way.
    void run_until(TimePoint until) {
        for (int guard = 0; guard < 10'000'000; ++guard) {
            flush();
            TimePoint next = until;
            for (auto& w : wire_)
                next = std::min(next, w.arrival);
            for (auto& [addr, node] : nodes_)
                if (node.core) next = std::min(next, node.core->next_deadline());
            if (next > until) next = until;
            if (next < now_) next = now_;
            now_ = next;
            deliver_due();
            for (auto& [addr, node] : nodes_) {
                if (node.core && node.core->next_deadline() <= now_) {
                    node.core->handle_timeout(now_);
                }
            }
            flush();
            if (now_ >= until && !work_due()) return;
        }
        throw std::runtime_error("harness: the cores did not settle (busy loop?)");
    }
    void run_for(Duration d) { run_until(now_ + d); }

    // Runs until pred() holds or `limit` of virtual time passed; returns pred().
    bool run_until_true(const std::function<bool()>& pred, Duration limit = seconds(60)) {
        const TimePoint end = now_ + limit;
        while (!pred() && now_ < end)
            run_until(std::min(end, now_ + milliseconds(5)));
        return pred();
    }

  private:
    struct Node {
        std::unique_ptr<EndpointCore> core;
        std::vector<EndpointEvent> events;
    };

    bool work_due() {
        for (auto& w : wire_)
            if (w.arrival <= now_) return true;
        for (auto& [addr, node] : nodes_)
            if (node.core && node.core->next_deadline() <= now_) return true;
        return false;
    }

    void flush() {
        std::vector<std::uint8_t> buf(65536);
        for (auto& [addr, node] : nodes_) {
            if (!node.core) continue;
            const auto nat = nat_.find(addr);
            const PeerAddress from = nat == nat_.end() ? addr : nat->second;
            PeerAddress to;
            while (std::size_t n = node.core->poll_transmit(now_, MutableByteView(buf), to)) {
                ++datagrams_;
                bytes_to_[to] += n;
                Bytes data(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
                if (filter_ && !filter_(from, to, data)) continue;
                wire_.push_back({now_ + delay_, from, to, std::move(data)});
            }
            EndpointEvent ev;
            while (node.core && node.core->poll_event(ev))
                node.events.push_back(std::move(ev));
        }
    }

    void deliver_due() {
        std::deque<InFlight> later;
        std::vector<InFlight> due;
        for (auto& w : wire_) {
            if (w.arrival <= now_)
                due.push_back(std::move(w));
            else
                later.push_back(std::move(w));
        }
        wire_ = std::move(later);
        for (auto& w : due) {
            PeerAddress to = w.to;
            for (const auto& [node, public_addr] : nat_) {
                if (public_addr == w.to) to = node;
            }
            // A node behind a NAT is reachable only at its public address.
            auto it = nat_.count(w.to) == 0 ? nodes_.find(to) : nodes_.end();
            if (it != nodes_.end() && it->second.core) {
                it->second.core->receive(now_, w.from, ByteView(w.data));
            } else {
                ++nowhere_;
            }
        }
    }

    TimePoint now_;
    Duration delay_;
    std::vector<std::unique_ptr<SeededRandom>> randoms_;
    std::map<PeerAddress, Node, AddrLess> nodes_;
    std::deque<InFlight> wire_;
    Filter filter_;
    std::uint64_t datagrams_ = 0;
    std::map<PeerAddress, PeerAddress, AddrLess> nat_;  // node -> its public address
    std::map<PeerAddress, std::uint64_t, AddrLess> bytes_to_;
    std::uint64_t nowhere_ = 0;
};

}  // namespace srmudp::test
