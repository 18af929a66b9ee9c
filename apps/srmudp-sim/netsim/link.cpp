// The one-direction link model described in link.hpp: partition, path MTU, drop-tail queue with
// serialisation at a fixed rate, random loss, delay with jitter and reordering, duplication.
#include "netsim/link.hpp"

#include <algorithm>
#include <utility>

#include "netsim/seed.hpp"

namespace srmudp::netsim {

namespace {

bool is_probability(double p) {
    return p >= 0.0 && p <= 1.0;  // false for NaN too
}

}  // namespace

std::string validate(const LinkParams& p) {
    if (!is_probability(p.loss)) return "loss must be a probability in [0, 1]";
    if (!is_probability(p.duplicate)) return "duplicate must be a probability in [0, 1]";
    if (!is_probability(p.reorder)) return "reorder must be a probability in [0, 1]";
    if (p.delay < Duration::zero() || p.jitter < Duration::zero() ||
        p.reorder_delay < Duration::zero()) {
        return "delay, jitter and reorder_delay must not be negative";
    }
    if (p.bandwidth_bps > kMaxBandwidthBps) return "bandwidth above 10 Gbit/s";
    if (p.mtu > kMaxDatagramSize) return "mtu above the largest datagram (65535)";
    for (const Partition& w : p.partitions) {
        if (w.start < Duration::zero() || w.end < w.start) {
            return "a partition needs 0 <= start <= end";
        }
    }
    return {};
}

LinkCounters& LinkCounters::operator+=(const LinkCounters& o) noexcept {
    offered += o.offered;
    dropped_loss += o.dropped_loss;
    dropped_queue += o.dropped_queue;
    dropped_partition += o.dropped_partition;
    dropped_mtu += o.dropped_mtu;
    duplicated += o.duplicated;
    delivered += o.delivered;
    bytes_offered += o.bytes_offered;
    bytes_delivered += o.bytes_delivered;
    return *this;
}

Link::Link(LinkParams params, std::uint64_t seed, TimePoint origin)
    : params_(std::move(params)), origin_(origin), rng_(seed), busy_until_(origin) {}

bool Link::chance(double p) {
    // Always draw, so that the fate of one datagram does not shift every later draw when a
    // probability is 0 or 1.
    const double u = unit_interval(rng_());
    return u < p;
}

Duration Link::uniform(Duration max) {
    const std::uint64_t bits = rng_();
    if (max <= Duration::zero()) return Duration::zero();
    const auto span = static_cast<std::uint64_t>(max.count()) + 1;
    return Duration(static_cast<Duration::rep>(bits % span));
}

bool Link::partitioned(TimePoint at) const noexcept {
    const Duration t = at - origin_;
    return std::any_of(params_.partitions.begin(), params_.partitions.end(),
                       [t](const Partition& w) { return t >= w.start && t < w.end; });
}

Duration Link::serialisation_time(std::size_t size) const noexcept {
    const std::uint64_t bps = params_.bandwidth_bps;
    if (bps == 0) return Duration::zero();
    // bits * 1e9 / bps, split so that no product overflows: bits <= 2^20 and bps <= 1e10.
    const std::uint64_t bits = static_cast<std::uint64_t>(std::min(size, kMaxDatagramSize)) * 8;
    const std::uint64_t whole_seconds = bits / bps;
    const std::uint64_t rest = bits % bps;
    const std::uint64_t ns =
        whole_seconds * 1'000'000'000ull + (rest * 1'000'000'000ull + bps - 1) / bps;
    return Duration(static_cast<Duration::rep>(ns));
}

bool Link::enqueue(TimePoint now, std::size_t size, TimePoint& done) {
    while (!queue_.empty() && queue_.front().done <= now) {
        queued_bytes_ -= queue_.front().size;
        queue_.pop_front();
    }
    if (queued_bytes_ + size > params_.queue_limit_bytes) return false;
    done = std::max(now, busy_until_) + serialisation_time(size);
    busy_until_ = done;
    queue_.push_back(Queued{done, size});
    queued_bytes_ += size;
    return true;
}

TimePoint Link::propagate(TimePoint sent) {
    TimePoint at = sent + params_.delay + uniform(params_.jitter);
    if (chance(params_.reorder)) at += params_.reorder_delay;
    return at;
}

Transit Link::offer(TimePoint now, std::size_t size) {
    ++counters_.offered;
    counters_.bytes_offered += size;
    Transit t;
    if (partitioned(now)) {
        ++counters_.dropped_partition;
        t.fate = Fate::dropped_partition;
        return t;
    }
    if (params_.mtu != 0 && size > params_.mtu) {
        ++counters_.dropped_mtu;
        t.fate = Fate::dropped_mtu;
        return t;
    }
    TimePoint sent = now;
    if (params_.bandwidth_bps != 0 && !enqueue(now, size, sent)) {
        ++counters_.dropped_queue;
        t.fate = Fate::dropped_queue;
        return t;
    }
    if (chance(params_.loss)) {
        ++counters_.dropped_loss;
        t.fate = Fate::dropped_loss;
        return t;
    }
    t.arrival[0] = propagate(sent);
    t.copies = 1;
    if (chance(params_.duplicate)) {
        ++counters_.duplicated;
        t.arrival[1] = propagate(sent);
        t.copies = 2;
    }
    return t;
}

bool Link::arrive(TimePoint at, std::size_t size) {
    if (partitioned(at)) {
        ++counters_.dropped_partition;
        return false;
    }
    ++counters_.delivered;
    counters_.bytes_delivered += size;
    return true;
}

}  // namespace srmudp::netsim
