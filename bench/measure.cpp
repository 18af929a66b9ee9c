#include "measure.hpp"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <thread>

namespace srmudp::bench {

double to_seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

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

namespace {

// CPU seconds a running thread has used (0 for none or when its clock cannot be read).
double thread_cpu_seconds(std::thread* t) {
    clockid_t clock = 0;
    timespec ts{};
    if (!t || !t->joinable() || pthread_getcpuclockid(t->native_handle(), &clock) != 0 ||
        clock_gettime(clock, &ts) != 0) {
        return 0;
    }
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

Window measure_window(const std::atomic<std::uint64_t>& counter, Clock::duration warmup,
                      Clock::duration span, std::thread* sender, std::thread* receiver) {
    std::this_thread::sleep_for(warmup);
    const Clock::time_point start = Clock::now();
    const std::uint64_t first = counter.load(std::memory_order_relaxed);
    const double sender_start = thread_cpu_seconds(sender);
    const double receiver_start = thread_cpu_seconds(receiver);
    std::this_thread::sleep_for(span);
    const std::uint64_t last = counter.load(std::memory_order_relaxed);
    const double sender_end = thread_cpu_seconds(sender);
    const double receiver_end = thread_cpu_seconds(receiver);
    const Clock::time_point end = Clock::now();
    Window w{last - first, to_seconds(end - start), 0, 0};
    if (w.seconds > 0) {
        w.sender_cpu = (sender_end - sender_start) / w.seconds;
        w.receiver_cpu = (receiver_end - receiver_start) / w.seconds;
    }
    return w;
}

namespace {
Placement g_placement = Placement::none;
std::atomic<bool> g_pin_refused{false};
}  // namespace

void set_placement(Placement placement) {
    g_placement = placement;
}

const char* placement_name(Placement placement) {
    switch (placement) {
        case Placement::split:
            return "split";
        case Placement::same:
            return "same";
        case Placement::none:
            break;
    }
    return "none";
}

void name_thread(std::thread& t, const char* name, Role role) {
    pthread_setname_np(t.native_handle(), name);
    if (g_placement == Placement::none) return;
    const int cpu = g_placement == Placement::split && role == Role::server ? 1 : 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(t.native_handle(), sizeof set, &set) != 0 &&
        !g_pin_refused.exchange(true)) {
        std::fprintf(stderr, "srmudp-bench: cannot pin threads to CPU %d; they run unpinned\n",
                     cpu);
    }
}

bool placement_refused() {
    return g_pin_refused.load();
}

bool wait_until(const std::function<bool()>& pred, Clock::duration limit) {
    const Clock::time_point end = Clock::now() + limit;
    while (!pred() && Clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return pred();
}

std::size_t heap_in_use() {
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

double load_average() {
    std::FILE* f = std::fopen("/proc/loadavg", "r");
    if (!f) return -1;
    double load = -1;
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
    return load;
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
