// A simulated host: one EndpointCore on one (virtual) UDP socket, driven exactly as a real
// driver drives it.
//
// Whenever something happens to the host (a datagram arrives, its timer fires, the application
// called into the core), service() drains poll_transmit() into the network and poll_event() into
// the application until both are empty, then arms the timer at next_deadline() if that changed.
// A core whose deadline stays at or before now after handle_timeout() would spin a real driver
// at 100% CPU; the host allows a bounded number of such wake-ups and then fails the run loudly.
//
// A host can crash (its core and everything in it are destroyed; datagrams to it are lost) and
// boot again with a fresh core at the same address, and it can change its address (a NAT
// rebinding as its peers see it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "netsim/event_loop.hpp"
#include "netsim/failure_log.hpp"
#include "netsim/network.hpp"
#include "srmudp/address.hpp"
#include "srmudp/config.hpp"
#include "srmudp/endpoint_core.hpp"
#include "srmudp/random.hpp"

namespace srmudp::netsim {

// Wake-ups at one instant whose deadline is still due after handle_timeout() before the host
// declares the core spinning.
inline constexpr unsigned kMaxSpinWakeups = 1000;
// Datagrams one service() may take from the core before it declares poll_transmit() endless.
inline constexpr std::size_t kMaxDatagramsPerService = 1u << 20;

// The label host i of a scenario uses as its address: 127.0.0.(i+1), port 4433 + i.
PeerAddress host_address(HostId id);

class Host {
  public:
    using EventHandler = std::function<void(const EndpointEvent&)>;
    using Resolver = std::function<std::optional<HostId>(const PeerAddress&)>;
    // True for an address no host owns any more: datagrams to it are lost, not a failure.
    using RetiredCheck = std::function<bool(const PeerAddress&)>;

    // The core's SeededRandom is seeded with `seed`. loop, network and log must outlive the host.
    Host(HostId id, std::string name, const Config& config, std::uint64_t seed, EventLoop& loop,
         Network& network, FailureLog& log);
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    HostId id() const noexcept { return id_; }
    const std::string& name() const noexcept { return name_; }
    const PeerAddress& address() const noexcept { return address_; }
    const Config& config() const noexcept { return config_; }
    // For API calls (connect, listen, send, close); call service() afterwards. Requires up().
    EndpointCore& core() noexcept { return *core_; }
    const EndpointCore& core() const noexcept { return *core_; }
    bool up() const noexcept { return core_ != nullptr; }

    // The process dies: the core and its timer are gone, datagrams to the host are dropped.
    void crash();
    // A fresh process at the same address: a new core whose randomness is seeded with `seed`.
    void boot(std::uint64_t seed);
    // From now on the host sends from (and receives at) `address`.
    void set_address(const PeerAddress& address) { address_ = address; }

    // Receives every event the core reports.
    void set_event_handler(EventHandler handler) { handler_ = std::move(handler); }
    // Maps a destination address to the host that owns it.
    void set_resolver(Resolver resolver) { resolver_ = std::move(resolver); }
    void set_retired_check(RetiredCheck check) { retired_ = std::move(check); }

    // The host owning address, per the resolver; nullopt if none does.
    std::optional<HostId> resolve(const PeerAddress& address) const {
        return resolver_ ? resolver_(address) : std::nullopt;
    }

    // A datagram from `from` arrives now: core().receive(), then service().
    void deliver(const PeerAddress& from, ByteView datagram);
    // Drains datagrams and events, then re-arms the timer. Calls made from inside the event
    // handler return at once: the running service() picks up their work.
    void service();

    std::uint64_t datagrams_sent() const noexcept { return datagrams_sent_; }
    // Datagrams sent to an address its owner gave up, and received while crashed.
    std::uint64_t datagrams_lost_to_retired() const noexcept { return to_retired_; }
    std::uint64_t datagrams_lost_while_down() const noexcept { return while_down_; }
    std::uint64_t timer_wakeups() const noexcept { return timer_wakeups_; }
    // True once the host detected a spinning core; it no longer drives the core then.
    bool halted() const noexcept { return halted_; }

  private:
    bool drain_transmit();
    bool drain_events();
    void rearm_timer();
    void on_timer(std::uint64_t generation);
    void halt(std::string why);

    HostId id_;
    std::string name_;
    PeerAddress address_;
    Config config_;
    EventLoop& loop_;
    Network& network_;
    FailureLog& log_;
    std::unique_ptr<SeededRandom> random_;
    std::unique_ptr<EndpointCore> core_;  // destroyed before random_, which it refers to
    EventHandler handler_;
    Resolver resolver_;
    RetiredCheck retired_;
    Bytes datagram_;  // EndpointCore::max_transmit_size() bytes

    TimePoint armed_at_ = kNever;         // deadline of the pending timer event
    std::uint64_t timer_generation_ = 0;  // bumped to cancel a pending timer event
    TimePoint spin_time_ = kNever;
    unsigned spin_wakeups_ = 0;
    bool in_service_ = false;
    bool halted_ = false;
    std::uint64_t datagrams_sent_ = 0;
    std::uint64_t timer_wakeups_ = 0;
    std::uint64_t to_retired_ = 0;
    std::uint64_t while_down_ = 0;
};

}  // namespace srmudp::netsim
