// Key updates on a live connection: both directions move through many key generations while
// messages keep flowing, and nothing is lost or rejected on the way.
#include <catch2/catch.hpp>

#include "pair_harness.hpp"

using namespace srmudp;

TEST_CASE("a connection updates its keys many times while messages flow") {
    const PeerAddress a_addr = PeerAddress::v4(127, 0, 0, 1, 5001);
    const PeerAddress b_addr = PeerAddress::v4(127, 0, 0, 2, 5002);
    Config config;
    config.key_update_packets = 40;
    test::Harness net;
    auto& a = net.add(a_addr, config, 11);
    auto& b = net.add(b_addr, config, 12);
    ConnectionHandle ha = 0, hb = 0;
    REQUIRE_FALSE(a.connect(net.now(), b_addr, "rekey", ha));
    REQUIRE_FALSE(b.connect(net.now(), a_addr, "rekey", hb));

    const int messages = 300;
    for (int i = 0; i < messages; ++i) {
        MessageId id = 0;
        const Bytes payload(2000 + i, static_cast<std::uint8_t>(i));
        REQUIRE_FALSE(a.send(ha, MessageKind::binary, ByteView(payload), id));
        REQUIRE_FALSE(b.send(hb, MessageKind::binary, ByteView(payload), id));
    }
    auto count = [&](const PeerAddress& at) {
        std::size_t n = 0;
        for (const auto& e : net.events(at))
            n += std::holds_alternative<MessageReceived>(e.event);
        return n;
    };
    REQUIRE(
        net.run_until_true([&] { return count(a_addr) == messages && count(b_addr) == messages; }));
    const auto sa = a.stats(ha);
    const auto sb = b.stats(hb);
    CHECK(sa.key_updates >= 5);
    CHECK(sb.key_updates >= 5);
    CHECK(sa.rejected_packets == 0);
    CHECK(sb.rejected_packets == 0);
    int i = 0;
    for (const auto& e : net.events(b_addr)) {
        if (const auto* m = std::get_if<MessageReceived>(&e.event)) {
            CHECK(m->message.data == Bytes(2000 + i, static_cast<std::uint8_t>(i)));
            ++i;
        }
    }
}
