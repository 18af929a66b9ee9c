#include <catch2/catch.hpp>

#include "core/codec/packet.hpp"
#include "core/conn/packet_protection.hpp"
#include "srmudp/error.hpp"

using namespace srmudp;
using namespace srmudp::conn;

namespace {

crypto::TransportKeys test_keys() {
    crypto::TransportKeys keys;
    for (std::size_t i = 0; i < keys.initiator_to_responder.size(); ++i) {
        keys.initiator_to_responder[i] = static_cast<std::uint8_t>(i);
        keys.responder_to_initiator[i] = static_cast<std::uint8_t>(0x80 + i);
    }
    return keys;
}

struct Sealed {
    Bytes datagram;
};

Sealed seal(PacketProtection& p, std::uint64_t pn, const std::string& text) {
    Bytes out(codec::kDataHeaderSize + text.size() + 16);
    const std::size_t n = p.seal(0x77, pn, as_bytes(text), MutableByteView(out));
    REQUIRE(n == out.size());
    return {out};
}

std::error_code open(PacketProtection& p, const Bytes& datagram, std::string* text = nullptr) {
    codec::PacketHeader header;
    std::size_t header_size = 0;
    if (auto ec = codec::decode_packet_header(ByteView(datagram), header, header_size)) return ec;
    Bytes out(datagram.size());
    std::size_t n = 0;
    auto ec = p.open(ByteView(datagram), header, header_size, MutableByteView(out), n);
    if (!ec && text) text->assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    return ec;
}

}  // namespace

TEST_CASE("packets open in the other direction only - once") {
    const auto keys = test_keys();
    PacketProtection initiator(keys, true, 1000);
    PacketProtection responder(keys, false, 1000);
    auto p = seal(initiator, 0, "hello");
    std::string text;
    REQUIRE_FALSE(open(responder, p.datagram, &text));
    CHECK(text == "hello");
    CHECK(open(responder, p.datagram) == error::replayed_packet);
    // The initiator cannot open its own packet: the directions use different keys.
    PacketProtection initiator2(keys, true, 1000);
    CHECK(open(initiator2, p.datagram) == error::authentication_failed);
}

TEST_CASE("tampering with header or body is detected") {
    const auto keys = test_keys();
    PacketProtection initiator(keys, true, 1000);
    PacketProtection responder(keys, false, 1000);
    auto p = seal(initiator, 5, "payload bytes");
    for (std::size_t i = 0; i < p.datagram.size(); ++i) {
        if (i == 1) continue;  // the version byte is rejected earlier, by the header decoder
        Bytes copy = p.datagram;
        copy[i] ^= 0x04;
        CAPTURE(i);
        CHECK(open(responder, copy));
    }
    CHECK_FALSE(open(responder, p.datagram));  // the original still opens afterwards
}

TEST_CASE("reordered packets within the window open - old ones are replays") {
    const auto keys = test_keys();
    PacketProtection tx(keys, true, 1u << 20);
    PacketProtection rx(keys, false, 1u << 20);
    std::vector<Sealed> packets;
    for (std::uint64_t pn = 0; pn < 3000; ++pn)
        packets.push_back(seal(tx, pn, "x"));
    CHECK_FALSE(open(rx, packets[2999].datagram));
    CHECK_FALSE(open(rx, packets[2500].datagram));
    CHECK_FALSE(open(rx, packets[1000].datagram));  // inside the 2048-packet window
    CHECK(open(rx, packets[10].datagram) == error::replayed_packet);  // below it
}

TEST_CASE("key update: both directions move to new keys and traffic continues") {
    const auto keys = test_keys();
    PacketProtection a(keys, true, 10);
    PacketProtection b(keys, false, 10);
    std::uint64_t pn_a = 0, pn_b = 0;
    for (int round = 0; round < 100; ++round) {
        auto from_a = seal(a, pn_a++, "a" + std::to_string(round));
        std::string text;
        REQUIRE_FALSE(open(b, from_a.datagram, &text));
        CHECK(text == "a" + std::to_string(round));
        auto from_b = seal(b, pn_b++, "b");
        REQUIRE_FALSE(open(a, from_b.datagram));
    }
    CHECK(a.key_updates() >= 5);
    CHECK(b.key_updates() >= 5);
    CHECK(a.send_generation() == b.receive_generation());
}

TEST_CASE("a packet from before a key update still opens after it (reordering)") {
    const auto keys = test_keys();
    PacketProtection a(keys, true, 4);
    PacketProtection b(keys, false, 4);
    std::vector<Sealed> old;
    for (std::uint64_t pn = 0; pn < 4; ++pn)
        old.push_back(seal(a, pn, "old"));
    // b answers so that a may update (its peer must be on the same generation first).
    REQUIRE_FALSE(open(b, old[0].datagram));
    auto reply = seal(b, 0, "r");
    REQUIRE_FALSE(open(a, reply.datagram));
    auto fresh = seal(a, 4, "new");  // sealed under generation 1
    CHECK(a.send_generation() == 1);
    REQUIRE_FALSE(open(b, fresh.datagram));
    CHECK(b.receive_generation() == 1);
    CHECK_FALSE(open(b, old[2].datagram));  // previous key kept for older packet numbers
    CHECK_FALSE(open(b, old[3].datagram));
}
