#include "netsim/event_loop.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace srmudp;
using namespace srmudp::netsim;

TEST_CASE("event loop: starts at the epoch and is empty", "[event_loop]") {
    EventLoop loop;
    CHECK(loop.now() == kEpoch);
    CHECK(loop.next_event_time() == kNever);
    CHECK_FALSE(loop.step());
    CHECK(loop.executed() == 0);
}

TEST_CASE("event loop: runs events in time order and ties in scheduling order", "[event_loop]") {
    EventLoop loop;
    std::vector<int> order;
    std::vector<TimePoint> times;
    const auto record = [&](int id) {
        return [&, id] {
            order.push_back(id);
            times.push_back(loop.now());
        };
    };
    loop.schedule(kEpoch + milliseconds(30), record(3));
    loop.schedule(kEpoch + milliseconds(10), record(1));
    loop.schedule(kEpoch + milliseconds(20), record(2));
    loop.schedule(kEpoch + milliseconds(10), record(11));  // same time as 1, scheduled later
    CHECK(loop.next_event_time() == kEpoch + milliseconds(10));
    while (loop.step()) {
    }
    CHECK(order == std::vector<int>{1, 11, 2, 3});
    CHECK(times == std::vector<TimePoint>{kEpoch + milliseconds(10), kEpoch + milliseconds(10),
                                          kEpoch + milliseconds(20), kEpoch + milliseconds(30)});
    CHECK(loop.executed() == 4);
}

TEST_CASE("event loop: a time in the past runs now after what is already due", "[event_loop]") {
    EventLoop loop;
    std::vector<int> order;
    loop.schedule(kEpoch + seconds(1), [&] {
        order.push_back(1);
        loop.schedule(kEpoch, [&] { order.push_back(3); });  // in the past
    });
    loop.schedule(kEpoch + seconds(1), [&] { order.push_back(2); });
    loop.run_until(kEpoch + seconds(5));
    CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("event loop: run_until stops at the limit and advances the clock", "[event_loop]") {
    EventLoop loop;
    int ran = 0;
    loop.schedule(kEpoch + seconds(1), [&] { ++ran; });
    loop.schedule(kEpoch + seconds(2), [&] { ++ran; });  // exactly at the limit: runs
    loop.schedule(kEpoch + seconds(3), [&] { ++ran; });
    loop.run_until(kEpoch + seconds(2));
    CHECK(ran == 2);
    CHECK(loop.now() == kEpoch + seconds(2));
    CHECK(loop.pending() == 1);
    loop.run_until(kEpoch + seconds(10));
    CHECK(ran == 3);
    CHECK(loop.now() == kEpoch + seconds(10));  // advanced past the last event
}

TEST_CASE("event loop: stop() ends run_until after the current event", "[event_loop]") {
    EventLoop loop;
    int ran = 0;
    loop.schedule(kEpoch + seconds(1), [&] {
        ++ran;
        loop.stop();
    });
    loop.schedule(kEpoch + seconds(2), [&] { ++ran; });
    loop.run_until(kEpoch + seconds(10));
    CHECK(ran == 1);
    CHECK(loop.now() == kEpoch + seconds(1));  // not advanced to the limit
    CHECK(loop.stopped());
    loop.resume();
    loop.run_until(kEpoch + seconds(10));
    CHECK(ran == 2);
}

TEST_CASE("event loop: events schedule events and schedule_after is relative", "[event_loop]") {
    EventLoop loop(kEpoch + seconds(100));
    std::vector<TimePoint> fired;
    std::function<void()> again = [&] {
        fired.push_back(loop.now());
        if (fired.size() < 3) loop.schedule_after(milliseconds(5), again);
    };
    loop.schedule_after(milliseconds(5), again);
    loop.run_until(kNever - seconds(1));
    const TimePoint t0 = kEpoch + seconds(100);
    CHECK(fired == std::vector<TimePoint>{t0 + milliseconds(5), t0 + milliseconds(10),
                                          t0 + milliseconds(15)});
}
