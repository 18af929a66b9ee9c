#include <catch2/catch.hpp>

#include "core/conn/path.hpp"

using namespace srmudp;
using srmudp::conn::kAmplificationFactor;
using srmudp::conn::kMaxPathChallenges;
using srmudp::conn::PathData;
using srmudp::conn::PathValidator;

namespace {

const TimePoint T = TimePoint{} + seconds(100);
const PeerAddress kNew = PeerAddress::v4(10, 0, 0, 2, 5000);
const PeerAddress kOther = PeerAddress::v4(10, 0, 0, 3, 5000);

}  // namespace

TEST_CASE("path: a packet from a new address starts a validation with random data", "[path]") {
    SeededRandom random(7);
    PathValidator path;
    CHECK_FALSE(path.validating());
    CHECK(path.deadline() == kNever);
    path.on_packet_from(kNew, 100, true, random);
    REQUIRE(path.validating());
    CHECK(path.candidate() == kNew);
    CHECK(path.challenge_due());
    CHECK(path.challenge() != PathData{});
    CHECK(path.send_budget() == kAmplificationFactor * 100);
    CHECK(path.deadline() == kNever);  // the challenge is due, not waiting
}

TEST_CASE("path: a reordered older packet from elsewhere starts nothing", "[path]") {
    SeededRandom random(7);
    PathValidator path;
    path.on_packet_from(kNew, 100, false, random);
    CHECK_FALSE(path.validating());
}

TEST_CASE("path: the budget is three times what arrived from the address", "[path]") {
    SeededRandom random(7);
    PathValidator path;
    path.on_packet_from(kNew, 50, true, random);
    const PathData first = path.challenge();
    path.on_challenge_sent(T, 43, milliseconds(100));
    CHECK(path.send_budget() == 150 - 43);
    CHECK_FALSE(path.challenge_due());
    // More from the same address (even reordered) adds to the budget, same challenge.
    path.on_packet_from(kNew, 40, false, random);
    CHECK(path.send_budget() == 270 - 43);
    CHECK(path.challenge() == first);
    path.on_challenge_sent(T, 400, milliseconds(100));
    CHECK(path.send_budget() == 0);  // never negative
}

TEST_CASE("path: only the right data from the candidate validates it", "[path]") {
    SeededRandom random(7);
    PathValidator path;
    path.on_packet_from(kNew, 100, true, random);
    PathData data = path.challenge();
    CHECK_FALSE(path.on_response(kNew, data));  // nothing was sent yet
    path.on_challenge_sent(T, 43, milliseconds(100));
    PathData wrong = data;
    wrong[7] ^= 1;
    CHECK_FALSE(path.on_response(kNew, wrong));
    CHECK_FALSE(path.on_response(kOther, data));  // right bytes, wrong address
    REQUIRE(path.validating());
    CHECK(path.on_response(kNew, data));
    CHECK_FALSE(path.validating());
    CHECK_FALSE(path.on_response(kNew, data));  // once
}

TEST_CASE("path: a newer packet from a third address replaces the candidate", "[path]") {
    SeededRandom random(7);
    PathValidator path;
    path.on_packet_from(kNew, 100, true, random);
    const PathData first = path.challenge();
    path.on_challenge_sent(T, 43, milliseconds(100));
    path.on_packet_from(kOther, 60, true, random);
    CHECK(path.candidate() == kOther);
    CHECK(path.challenge() != first);
    CHECK(path.challenge_due());
    CHECK(path.send_budget() == 180);
    path.on_challenge_sent(T, 43, milliseconds(100));
    CHECK_FALSE(path.on_response(kNew, first));
}

TEST_CASE("path: unanswered challenges are repeated with backoff - then given up", "[path]") {
    SeededRandom random(7);
    PathValidator path;
    path.on_packet_from(kNew, 1000, true, random);
    const PathData data = path.challenge();
    TimePoint now = T;
    Duration wait = milliseconds(100);
    for (unsigned i = 0; i < kMaxPathChallenges; ++i) {
        REQUIRE(path.challenge_due());
        path.on_challenge_sent(now, 43, milliseconds(100));
        CHECK(path.deadline() == now + wait);
        path.on_timeout(now + wait - milliseconds(1));
        CHECK_FALSE(path.challenge_due());
        now += wait;
        wait *= 2;
        path.on_timeout(now);
        if (i + 1 < kMaxPathChallenges) CHECK(path.challenge() == data);
    }
    CHECK_FALSE(path.validating());
    CHECK(path.deadline() == kNever);
}
