#include "netsim/stream.hpp"

#include <catch2/catch.hpp>

#include "srmudp/error.hpp"

using namespace srmudp;
using namespace srmudp::netsim;

namespace {

WorkloadParams small_workload(std::size_t messages) {
    WorkloadParams w;
    w.messages = messages;
    w.max_size = 4096;
    return w;
}

Message expected(std::uint64_t seed, std::size_t index, const WorkloadParams& w) {
    Message m;
    const MessageSpec spec = message_spec(seed, index, w);
    m.kind = spec.kind;
    message_content(seed, index, spec, m.data);
    return m;
}

}  // namespace

TEST_CASE("stream: a faithful transport passes every check", "[stream]") {
    FailureLog log;
    const WorkloadParams w = small_workload(30);
    StreamSender out("s", 11, w, log);
    StreamReceiver in("r", 11, w, log);
    MessageId id = 100;
    while (out.has_next()) {
        const Message m = out.next();  // what the transport carries
        out.accepted(++id);
        in.received(m);
        out.delivered(id);
    }
    CHECK(log.empty());
    CHECK(out.all_delivered());
    CHECK(in.complete());
    CHECK(out.accepted_count() == 30);
    CHECK(out.unreported() == 0);
    CHECK(out.delivered_prefix() == 30);
    CHECK(in.bytes_received() == out.bytes_accepted());
}

TEST_CASE("stream: next() stays the same message until accepted", "[stream]") {
    FailureLog log;
    const WorkloadParams w = small_workload(10);
    StreamSender out("s", 1, w, log);
    for (int i = 0; i < 3; ++i) {
        out.next();  // send() refused it three times
    }
    const Message first = out.next();
    out.accepted(1);
    const Message second = out.next();
    CHECK(first.data == expected(1, 0, w).data);
    CHECK(second.data == expected(1, 1, w).data);
    CHECK(second.kind == expected(1, 1, w).kind);
}

TEST_CASE("stream: sender reports bad delivery events", "[stream]") {
    FailureLog log;
    StreamSender out("s", 1, small_workload(10), log);
    out.next();
    out.accepted(1);
    out.next();
    out.accepted(2);
    out.next();
    out.accepted(3);

    out.delivered(2);
    CHECK(log.empty());
    CHECK(out.delivered_prefix() == 2);  // message index 1 was delivered
    out.delivered(2);                    // twice
    CHECK(log.total() == 1);
    out.failed(2, error::idle_timeout);  // delivered and failed
    CHECK(log.total() == 2);
    out.delivered(9);  // never returned by send()
    CHECK(log.total() == 3);
    out.failed(1, error::idle_timeout);
    CHECK(log.total() == 3);
    out.delivered(1);  // failed and then delivered
    CHECK(log.total() == 4);
    out.failed(3, std::error_code{});  // a failure without a reason
    CHECK(log.total() == 5);
    CHECK(out.delivered_count() == 1);
    CHECK(out.failed_count() == 2);
    CHECK(out.unreported() == 0);
    CHECK_FALSE(out.all_delivered());
}

TEST_CASE("stream: sender requires increasing unique ids", "[stream]") {
    FailureLog log;
    StreamSender out("s", 1, small_workload(10), log);
    out.accepted(5);
    CHECK(log.empty());
    out.accepted(5);
    CHECK(log.total() == 2);  // not increasing, and a duplicate
    out.accepted(4);
    CHECK(log.total() == 3);
}

TEST_CASE("stream: receiver catches wrong content or kind or order and extras", "[stream]") {
    const WorkloadParams w = small_workload(12);
    SECTION("corrupted byte") {
        FailureLog log;
        StreamReceiver in("r", 4, w, log);
        Message m = expected(4, 0, w);
        in.received(m);  // message 0 is empty
        m = expected(4, 1, w);
        in.received(m);
        m = expected(4, 2, w);  // 1200 bytes
        m.data[700] ^= 1;
        in.received(m);
        REQUIRE(log.total() == 1);
        CHECK(log.entries()[0].find("byte 700") != std::string::npos);
        CHECK(in.mismatches() == 1);
    }
    SECTION("text arrives as binary") {
        FailureLog log;
        StreamReceiver in("r", 4, w, log);
        in.received(expected(4, 0, w));
        Message m = expected(4, 1, w);
        m.kind = MessageKind::binary;
        in.received(m);
        CHECK(log.total() == 1);
    }
    SECTION("a message skipped") {
        FailureLog log;
        StreamReceiver in("r", 4, w, log);
        in.received(expected(4, 0, w));
        in.received(expected(4, 2, w));
        CHECK(log.total() == 1);
    }
    SECTION("more messages than sent") {
        FailureLog log;
        StreamReceiver in("r", 4, w, log);
        for (std::size_t i = 0; i < 12; ++i) {
            in.received(expected(4, i, w));
        }
        CHECK(log.empty());
        CHECK(in.complete());
        in.received(expected(4, 0, w));
        CHECK(log.total() == 1);
        CHECK(in.received_count() == 13);
    }
}

TEST_CASE("failure log: keeps the first entries and counts the rest", "[stream]") {
    FailureLog log(3);
    for (int i = 0; i < 10; ++i) {
        log.add(std::to_string(i));
    }
    CHECK(log.total() == 10);
    REQUIRE(log.entries().size() == 3);
    CHECK(log.entries()[2] == "2");
}
