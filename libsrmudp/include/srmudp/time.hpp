// Time as the protocol core sees it: a value the caller passes in. Nothing inside the core reads
// a clock, so a simulator can run minutes of virtual time in milliseconds.
#pragma once

#include <chrono>
#include <cstdint>

namespace srmudp {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

// A deadline that never arrives: "nothing to do until something is received".
inline constexpr TimePoint kNever = TimePoint::max();

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

}  // namespace srmudp
