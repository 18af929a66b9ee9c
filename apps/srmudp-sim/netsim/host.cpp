// The simulator's driver for one EndpointCore (see host.hpp): the same receive / transmit /
// events / timer cycle as the Asio driver, on virtual time.
#include "netsim/host.hpp"

#include <fmt/format.h>

#include <utility>

namespace srmudp::netsim {

PeerAddress host_address(HostId id) {
    PeerAddress a;
    a.family = PeerAddress::Family::v4;
    a.ip[0] = 127;
    a.ip[3] = static_cast<std::uint8_t>(id + 1);
    a.port = static_cast<std::uint16_t>(4433 + id);
    return a;
}

Host::Host(HostId id, std::string name, const Config& config, std::uint64_t seed, EventLoop& loop,
           Network& network, FailureLog& log)
    : id_(id),
      name_(std::move(name)),
      address_(host_address(id)),
      config_(config),
      loop_(loop),
      network_(network),
      log_(log) {
    boot(seed);
}

void Host::crash() {
    core_.reset();
    random_.reset();
    ++timer_generation_;  // cancels the pending timer event
    armed_at_ = kNever;
    spin_time_ = kNever;
    spin_wakeups_ = 0;
}

void Host::boot(std::uint64_t seed) {
    crash();
    random_ = std::make_unique<SeededRandom>(seed);
    core_ = std::make_unique<EndpointCore>(config_, *random_);
    datagram_.assign(core_->max_transmit_size(), 0);
}

void Host::deliver(const PeerAddress& from, ByteView datagram) {
    if (halted_) return;
    if (!up()) {
        ++while_down_;
        return;
    }
    core_->receive(loop_.now(), from, datagram);
    service();
}

void Host::service() {
    if (in_service_ || halted_ || !up()) return;
    in_service_ = true;
    // Events may queue messages and messages produce datagrams, so repeat until both are empty.
    while (!halted_) {
        const bool sent = drain_transmit();
        const bool reported = drain_events();
        if (!sent && !reported) break;
    }
    in_service_ = false;
    if (!halted_) rearm_timer();
}

bool Host::drain_transmit() {
    bool any = false;
    for (std::size_t n = 0; n < kMaxDatagramsPerService; ++n) {
        PeerAddress to;
        const std::size_t size = core_->poll_transmit(loop_.now(), MutableByteView(datagram_), to);
        if (size == 0) return any;
        any = true;
        ++datagrams_sent_;
        if (size > datagram_.size()) {
            halt(fmt::format("{}: poll_transmit() returned {} bytes for a {}-byte buffer", name_,
                             size, datagram_.size()));
            return false;
        }
        const std::optional<HostId> dest = resolve(to);
        if (!dest && retired_ && retired_(to)) {
            ++to_retired_;  // the peer moved away from there; the datagram is lost
            continue;
        }
        if (!dest) {
            log_.add(fmt::format("{}: datagram to {}, which no host owns", name_, to.to_string()));
            continue;
        }
        network_.send(id_, *dest, ByteView(datagram_.data(), size));
    }
    halt(fmt::format("{}: poll_transmit() still had datagrams after {}", name_,
                     kMaxDatagramsPerService));
    return false;
}

bool Host::drain_events() {
    bool any = false;
    EndpointEvent event;
    while (!halted_ && up() && core_->poll_event(event)) {
        any = true;
        if (handler_) handler_(event);
    }
    return any;
}

void Host::rearm_timer() {
    const TimePoint deadline = core_->next_deadline();
    if (deadline == armed_at_) return;  // the pending timer event already covers it
    armed_at_ = deadline;
    const std::uint64_t generation = ++timer_generation_;  // cancels the previous timer event
    if (deadline == kNever) return;
    loop_.schedule(deadline, [this, generation] { on_timer(generation); });
}

void Host::on_timer(std::uint64_t generation) {
    if (generation != timer_generation_ || halted_ || !up()) return;
    armed_at_ = kNever;
    ++timer_wakeups_;
    const TimePoint now = loop_.now();
    core_->handle_timeout(now);
    service();
    if (!up() || core_->next_deadline() > now) {
        spin_wakeups_ = 0;
        return;
    }
    if (spin_time_ != now) {
        spin_time_ = now;
        spin_wakeups_ = 0;
    }
    if (++spin_wakeups_ > kMaxSpinWakeups) {
        halt(
            fmt::format("{}: core spins: next_deadline() <= now after handle_timeout() {} times "
                        "at t={} ns",
                        name_, spin_wakeups_, (now - kEpoch).count()));
    }
}

void Host::halt(std::string why) {
    halted_ = true;
    ++timer_generation_;
    log_.add(std::move(why));
    loop_.stop();
}

}  // namespace srmudp::netsim
