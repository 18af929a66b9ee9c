#include "core/crypto/x25519.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "test_helpers.hpp"

using namespace srmudp::crypto;
using srmudp::crypto::test::array_from_hex;
using srmudp::crypto::test::array_hex;

namespace {

const X25519Key kAlicePrivate =
    array_from_hex<X25519Key>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const X25519Key kBobPrivate =
    array_from_hex<X25519Key>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");

}  // namespace

TEST_CASE("X25519 RFC 7748 section 6.1 key pairs and shared secret", "[x25519]") {
    X25519KeyPair alice, bob;
    REQUIRE(x25519_keypair(kAlicePrivate, alice));
    REQUIRE(x25519_keypair(kBobPrivate, bob));
    CHECK(alice.private_key == kAlicePrivate);
    CHECK(array_hex(alice.public_key) ==
          "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    CHECK(array_hex(bob.public_key) ==
          "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");

    X25519Key ab, ba;
    REQUIRE(x25519(kAlicePrivate, bob.public_key, ab));
    REQUIRE(x25519(kBobPrivate, alice.public_key, ba));
    CHECK(array_hex(ab) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    CHECK(ab == ba);
}

TEST_CASE("X25519 rejects low-order peer points and wipes the output", "[x25519]") {
    // The points of order 1, 2, 4 and 8 (and non-canonical encodings of them) all give an
    // all-zero shared secret (RFC 7748 section 6.1).
    const char* const low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    for (const char* hex : low_order) {
        X25519Key shared;
        shared.fill(0x5a);
        CAPTURE(hex);
        CHECK_FALSE(x25519(kAlicePrivate, array_from_hex<X25519Key>(hex), shared));
        CHECK(shared == X25519Key{});
    }
}

TEST_CASE("X25519 key pairs accept any 32 bytes and differ per private key", "[x25519]") {
    X25519KeyPair zero, ones;
    X25519Key all_ff;
    all_ff.fill(0xff);
    REQUIRE(x25519_keypair(X25519Key{}, zero));
    REQUIRE(x25519_keypair(all_ff, ones));
    CHECK(zero.public_key != ones.public_key);
    CHECK(zero.public_key != X25519Key{});
}

TEST_CASE("X25519 key pairs agree with the raw-key function and reuse their context", "[x25519]") {
    X25519KeyPair alice, bob, carol;
    REQUIRE(x25519_keypair(kAlicePrivate, alice));
    REQUIRE(x25519_keypair(kBobPrivate, bob));
    X25519Key carol_private;
    carol_private.fill(0x33);
    REQUIRE(x25519_keypair(carol_private, carol));
    // Several agreements on one pair, each with another peer: every one must use its own peer.
    for (int round = 0; round < 2; ++round) {
        X25519Key with_bob, with_carol, expected;
        REQUIRE(x25519(alice, bob.public_key, with_bob));
        CHECK(array_hex(with_bob) ==
              "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        REQUIRE(x25519(alice, carol.public_key, with_carol));
        REQUIRE(x25519(carol_private, alice.public_key, expected));
        CHECK(with_carol == expected);
    }
}

TEST_CASE("a shared key pair agrees like the original and outlives it", "[x25519]") {
    X25519KeyPair bob, copy;
    {
        X25519KeyPair alice;
        REQUIRE(x25519_keypair(kAlicePrivate, alice));
        REQUIRE(x25519_keypair(kBobPrivate, bob));
        REQUIRE(x25519_share_keypair(alice, copy));
        CHECK(copy.private_key == alice.private_key);
        CHECK(copy.public_key == alice.public_key);
        alice.wipe_private();  // the copy keeps its reference
        X25519Key shared;
        CHECK_FALSE(x25519(alice, bob.public_key, shared));
        CHECK(shared == X25519Key{});
    }
    X25519Key shared;
    REQUIRE(x25519(copy, bob.public_key, shared));
    CHECK(array_hex(shared) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

TEST_CASE("sharing an empty key pair fails and wipes the target", "[x25519]") {
    X25519KeyPair empty, target;
    REQUIRE(x25519_keypair(kAlicePrivate, target));
    CHECK_FALSE(x25519_share_keypair(empty, target));
    CHECK(target.private_key == X25519Key{});
    CHECK(target.public_key == X25519Key{});
    X25519Key shared;
    CHECK_FALSE(x25519(target, target.public_key, shared));
}

TEST_CASE("a key pair made on one thread agrees on another", "[x25519]") {
    X25519KeyPair alice, bob;
    REQUIRE(x25519_keypair(kAlicePrivate, alice));
    REQUIRE(x25519_keypair(kBobPrivate, bob));
    X25519Key on_main;
    REQUIRE(x25519(alice, bob.public_key, on_main));
    X25519Key on_thread{};
    bool ok = false;
    std::thread([&] { ok = x25519(alice, bob.public_key, on_thread); }).join();
    CHECK(ok);
    CHECK(on_thread == on_main);
    X25519Key again;
    REQUIRE(x25519(alice, bob.public_key, again));  // back on this thread
    CHECK(again == on_main);
}
