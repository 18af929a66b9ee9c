// DPLPMTUD search of RFC 8899 sections 5.2-5.3 (see pmtu.hpp): candidate sizes first, then a
// bisection between the largest confirmed and the smallest failed size.
#include "core/conn/pmtu.hpp"

#include <algorithm>

namespace srmudp::conn {

PmtuDiscovery::PmtuDiscovery(std::size_t base, std::size_t max, bool enabled)
    : base_(base),
      max_(std::max(base, max)),
      state_(enabled && max > base ? State::idle : State::disabled),
      current_(base) {}

void PmtuDiscovery::start(TimePoint now) {
    if (state_ == State::disabled) return;
    current_ = base_;
    failed_ = 0;
    begin_search();
    choose_next(now);
}

void PmtuDiscovery::reset(TimePoint now) {
    start(now);
}

void PmtuDiscovery::stop() {
    if (state_ == State::disabled) return;
    state_ = State::idle;
    current_ = base_;
    in_flight_.reset();
    raise_at_ = kNever;
}

void PmtuDiscovery::begin_search() {
    state_ = State::searching;
    raising_ = false;
    losses_ = 0;
    in_flight_.reset();
    raise_at_ = kNever;
}

// Picks the next size to probe above current_, or completes the search.
void PmtuDiscovery::choose_next(TimePoint now) {
    losses_ = 0;
    std::size_t next = 0;
    if (failed_ != 0) {
        // Bisection: the answer lies in [current_, failed_).
        if (failed_ > current_ + 1) next = current_ + (failed_ - current_) / 2;
    } else if (current_ < max_) {
        next = max_;
        for (std::size_t candidate : kPmtuCandidates) {
            if (candidate > current_ && candidate < max_) {
                next = candidate;
                break;
            }
        }
    }
    if (next == 0) {
        state_ = State::complete;
        // Nothing above max_ is ever tried, so a search that reached it never needs to rise.
        raise_at_ = current_ < max_ ? now + kPmtuRaiseInterval : kNever;
        return;
    }
    next_ = next;
}

std::size_t PmtuDiscovery::probe_size() const noexcept {
    return state_ == State::searching && !in_flight_ ? next_ : 0;
}

void PmtuDiscovery::on_probe_sent(std::uint64_t packet_number, std::size_t size) {
    if (state_ != State::searching || in_flight_ || size != next_) return;
    in_flight_ = Probe{packet_number, size};
}

bool PmtuDiscovery::is_probe(std::uint64_t packet_number) const noexcept {
    return in_flight_ && in_flight_->packet_number == packet_number;
}

bool PmtuDiscovery::on_probe_acked(std::uint64_t packet_number, TimePoint now) {
    if (!is_probe(packet_number)) return false;
    const std::size_t size = in_flight_->size;
    in_flight_.reset();
    if (size <= current_) return false;
    current_ = size;
    if (failed_ <= size) failed_ = 0;  // a raise probe succeeded: the path grew, search upwards
    raising_ = false;
    choose_next(now);
    return true;
}

void PmtuDiscovery::on_probe_lost(std::uint64_t packet_number, TimePoint now) {
    if (!is_probe(packet_number)) return;
    in_flight_.reset();
    ++probes_lost_;
    if (++losses_ < kMaxProbes) return;
    if (raising_) {
        // The path still does not carry failed_: wait for the next raise.
        raising_ = false;
        state_ = State::complete;
        raise_at_ = now + kPmtuRaiseInterval;
        return;
    }
    failed_ = next_;
    choose_next(now);
}

bool PmtuDiscovery::on_black_hole(TimePoint now) {
    if (state_ == State::disabled || current_ <= base_) return false;
    reset(now);
    return true;
}

void PmtuDiscovery::on_timeout(TimePoint now) {
    if (state_ != State::complete || now < raise_at_ || failed_ == 0) return;
    // One size above the confirmed one tells whether the path grew; only then search on.
    begin_search();
    raising_ = true;
    next_ = failed_;
}

}  // namespace srmudp::conn
