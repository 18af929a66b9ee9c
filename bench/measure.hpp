// Measuring helpers shared by every case: wall-clock windows over a counter that another thread
// advances, latency percentiles, and the process's heap and resident memory.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace srmudp::bench {

using Clock = std::chrono::steady_clock;

double to_seconds(Clock::duration d);
double to_microseconds(Clock::duration d);

struct Percentiles {
    std::size_t samples = 0;
    double p50_us = 0;
    double p99_us = 0;
    double p999_us = 0;
};

// Nearest-rank percentiles of round-trip times in microseconds (zeros when samples is empty).
Percentiles percentiles(std::vector<double> samples_us);

// The median of values (0 when empty); the mean of the middle two for an even count.
double median(std::vector<double> values);

struct Window {
    std::uint64_t count = 0;  // how much the counter advanced inside the window
    double seconds = 0;       // the window's exact length
    // CPU time each thread used inside the window, per second of it (1.0 = one whole core).
    double sender_cpu = 0;
    double receiver_cpu = 0;
};

// Sleeps `warmup`, then samples `counter` (and the CPU clocks of the two threads, when given)
// at the start and the end of a `span` window.
Window measure_window(const std::atomic<std::uint64_t>& counter, Clock::duration warmup,
                      Clock::duration span, std::thread* sender = nullptr,
                      std::thread* receiver = nullptr);

// Where the two threads of a timed case run (--pin). `none`: where the scheduler puts them;
// `split`: the client/sender side on CPU 0, the server/receiver side on CPU 1; `same`: both on
// CPU 0, so that every wake-up is a switch on one CPU rather than a wake-up of another CPU.
enum class Placement { none, split, same };
enum class Role { client, server };

// Applies to every thread name_thread() names from then on; called once, before any case.
void set_placement(Placement placement);
const char* placement_name(Placement placement);

// Names the thread (at most 15 characters) so that profilers can tell the cases' threads apart,
// and pins it as set_placement() says (a refused pin is reported on stderr once).
void name_thread(std::thread& t, const char* name, Role role);
// True once a pin was refused (the results then say so).
bool placement_refused();

// Polls pred every millisecond until it holds or `limit` passed; returns pred().
bool wait_until(const std::function<bool()>& pred, Clock::duration limit);

// Bytes the C heap has handed out and not taken back (glibc mallinfo2: arena + mmapped chunks).
std::size_t heap_in_use();

// The system's 1-minute load average from /proc/loadavg (-1 if unreadable): a busy machine
// explains a bad run.
double load_average();

// Resident set size of the process from /proc/self/statm (0 if unreadable).
std::size_t resident_bytes();

}  // namespace srmudp::bench
