#include "measure.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <thread>

namespace srmudp::bench {

double to_seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double to_microseconds(Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

Percentiles percentiles(std::vector<double> samples_us) {
    Percentiles p;
    p.samples = samples_us.size();
    if (samples_us.empty()) return p;
    std::sort(samples_us.begin(), samples_us.end());
    // Nearest rank: the smallest sample with at least q of all samples at or below it.
    const auto rank = [&](double q) {
        const auto n = static_cast<double>(samples_us.size());
        const auto r = static_cast<std::size_t>(std::ceil(q * n));
        return samples_us[std::clamp<std::size_t>(r, 1, samples_us.size()) - 1];
    };
    p.p50_us = rank(0.50);
    p.p99_us = rank(0.99);
    p.p999_us = rank(0.999);
    return p;
}

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    if (values.size() % 2 == 1) return values[mid];
    return (values[mid - 1] + values[mid]) / 2;
}

Window measure_window(const std::atomic<std::uint64_t>& counter, Clock::duration warmup,
                      Clock::duration span) {
    std::this_thread::sleep_for(warmup);
    const Clock::time_point start = Clock::now();
    const std::uint64_t first = counter.load(std::memory_order_relaxed);
    std::this_thread::sleep_for(span);
    const std::uint64_t last = counter.load(std::memory_order_relaxed);
    const Clock::time_point end = Clock::now();
    return Window{last - first, to_seconds(end - start)};
}

bool wait_until(const std::function<bool()>& pred, Clock::duration limit) {
    const Clock::time_point end = Clock::now() + limit;
    while (!pred() && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return pred();
}

std::size_t heap_in_use() {
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

std::size_t resident_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0;
    unsigned long resident = 0;
    const int fields = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    if (fields != 2) return 0;
    return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace srmudp::bench
