#include <catch2/catch.hpp>

#include "core/codec/packet.hpp"
#include "core/conn/constants.hpp"
#include "core/conn/handshake.hpp"
#include "core/crypto/psk.hpp"
#include "srmudp/error.hpp"

using namespace srmudp;
using namespace srmudp::conn;

namespace {

crypto::Psk psk_of(const char* key) {
    crypto::Psk psk{};
    REQUIRE_FALSE(crypto::derive_psk(key, psk));
    return psk;
}

HandshakePayload payload(std::uint8_t tag, std::uint64_t max_data) {
    HandshakePayload p;
    p.session_id.fill(tag);
    p.max_data = max_data;
    return p;
}

}  // namespace

TEST_CASE("initiation and response agree on keys and carry both payloads") {
    SeededRandom ri(1), rr(2);
    const auto psk = psk_of("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    InitiatorState init;
    HandshakePayload sent = payload(0xaa, 5000);
    sent.channel = 0x01020304;
    REQUIRE_FALSE(create_initiation(psk, 0x1111, sent, ri, init));
    CHECK(init.datagram.size() == kInitiationSize);
    CHECK(init.datagram[0] == 0x81);

    ConsumedInitiation consumed;
    REQUIRE_FALSE(consume_initiation(psk, ByteView(init.datagram), rr, consumed));
    CHECK(consumed.initiator_cid == 0x1111);
    CHECK(consumed.payload.max_data == 5000);
    CHECK(consumed.payload.channel == 0x01020304);
    CHECK(consumed.payload.session_id[0] == 0xaa);
    CHECK(consumed.initiator_ephemeral == init.ephemeral_public);

    Bytes response;
    crypto::TransportKeys responder_keys;
    REQUIRE_FALSE(create_response(consumed, 0x2222, payload(0xbb, 7000), response, responder_keys));
    CHECK(response.size() < init.datagram.size());  // no amplification

    ConsumedResponse answer;
    REQUIRE_FALSE(consume_response(psk, init, ByteView(response), answer));
    CHECK(answer.responder_cid == 0x2222);
    CHECK(answer.payload.max_data == 7000);
    CHECK(answer.keys.initiator_to_responder == responder_keys.initiator_to_responder);
    CHECK(answer.keys.responder_to_initiator == responder_keys.responder_to_initiator);
    CHECK(answer.keys.initiator_to_responder != answer.keys.responder_to_initiator);
    CHECK(answer.keys.handshake_hash == responder_keys.handshake_hash);
}

TEST_CASE("no key material appears on the wire") {
    SeededRandom r(3);
    const auto psk = psk_of("a memorable passphrase");
    InitiatorState init;
    REQUIRE_FALSE(create_initiation(psk, 7, payload(1, 1), r, init));
    const std::string wire(init.datagram.begin(), init.datagram.end());
    CHECK(wire.find(std::string(psk.begin(), psk.begin() + 8)) == std::string::npos);
    CHECK(wire.find("a memorable") == std::string::npos);
}

TEST_CASE("a different key fails authentication on both messages") {
    SeededRandom r1(4), r2(5);
    const auto good = psk_of("key one");
    const auto bad = psk_of("key two");
    InitiatorState init;
    REQUIRE_FALSE(create_initiation(good, 7, payload(1, 1), r1, init));
    ConsumedInitiation consumed;
    CHECK(consume_initiation(bad, ByteView(init.datagram), r2, consumed) ==
          error::authentication_failed);

    // A response made with another key (by a peer that holds it, to an initiation with the same
    // connection ID) is rejected by the initiator.
    InitiatorState other;
    REQUIRE_FALSE(create_initiation(bad, 7, payload(1, 1), r1, other));
    REQUIRE_FALSE(consume_initiation(bad, ByteView(other.datagram), r2, consumed));
    Bytes response;
    crypto::TransportKeys keys;
    REQUIRE_FALSE(create_response(consumed, 9, payload(2, 2), response, keys));
    ConsumedResponse answer;
    CHECK(consume_response(good, init, ByteView(response), answer) == error::authentication_failed);
    CHECK_FALSE(consume_response(bad, other, ByteView(response), answer));  // its own initiator
}

TEST_CASE("every single-bit change of an initiation or response is rejected") {
    SeededRandom r1(6), r2(7);
    const auto psk = psk_of("tamper test");
    InitiatorState init;
    REQUIRE_FALSE(create_initiation(psk, 0x42, payload(3, 3), r1, init));
    ConsumedInitiation consumed;
    // Flip one bit in each byte position of the initiation (header, ephemeral key, ciphertext).
    for (std::size_t i = 0; i < init.datagram.size(); i += 7) {
        Bytes copy = init.datagram;
        copy[i] ^= 0x01;
        ConsumedInitiation c;
        CAPTURE(i);
        CHECK(consume_initiation(psk, ByteView(copy), r2, c));
    }
    REQUIRE_FALSE(consume_initiation(psk, ByteView(init.datagram), r2, consumed));
    Bytes response;
    crypto::TransportKeys keys;
    REQUIRE_FALSE(create_response(consumed, 0x43, payload(4, 4), response, keys));
    for (std::size_t i = 0; i < response.size(); ++i) {
        Bytes copy = response;
        copy[i] ^= 0x80;
        ConsumedResponse answer;
        CAPTURE(i);
        CHECK(consume_response(psk, init, ByteView(copy), answer));
    }
    ConsumedResponse answer;
    CHECK_FALSE(consume_response(psk, init, ByteView(response), answer));
}

TEST_CASE("truncated or padded handshake packets are malformed") {
    SeededRandom r(8);
    const auto psk = psk_of("length test");
    InitiatorState init;
    REQUIRE_FALSE(create_initiation(psk, 1, payload(0, 0), r, init));
    for (std::size_t len :
         {std::size_t{0}, std::size_t{1}, std::size_t{10}, std::size_t{42}, kInitiationSize - 1}) {
        ConsumedInitiation c;
        CHECK(consume_initiation(psk, ByteView(init.datagram.data(), len), r, c));
    }
    Bytes longer = init.datagram;
    longer.push_back(0);
    ConsumedInitiation c;
    CHECK(consume_initiation(psk, ByteView(longer), r, c) == error::malformed_packet);
}

TEST_CASE("tie-break is antisymmetric and total") {
    crypto::X25519Key a{}, b{};
    a[0] = 1;
    b[0] = 2;
    CHECK(wins_tie_break(b, a));
    CHECK_FALSE(wins_tie_break(a, b));
    CHECK_FALSE(wins_tie_break(a, a));
    a[0] = 2;
    a[31] = 1;
    CHECK(wins_tie_break(a, b));
}
