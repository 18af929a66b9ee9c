#include "core/crypto/psk.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "test_helpers.hpp"

using namespace srmudp;
using namespace srmudp::crypto;
using srmudp::crypto::test::array_from_hex;
using srmudp::crypto::test::array_hex;

namespace {

const std::string kHex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Psk derive(std::string_view key) {
    Psk out{};
    REQUIRE_FALSE(derive_psk(key, out));
    return out;
}

Hash id_of(std::uint8_t b) {
    Hash h;
    h.fill(b);
    return h;
}

Psk psk_of(std::uint8_t b) {
    Psk p;
    p.fill(b);
    return p;
}

}  // namespace

TEST_CASE("64 hex digits in either case are the key itself", "[psk]") {
    CHECK(array_hex(derive(kHex64)) == kHex64);
    std::string upper = kHex64;
    for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(derive(upper) == derive(kHex64));
    CHECK(array_hex(derive("FFffFFff00000000000000000000000000000000000000000000000000000001")) ==
          "ffffffff00000000000000000000000000000000000000000000000000000001");
}

TEST_CASE("a passphrase goes through scrypt N=2^15 r=8 p=1 with the fixed salt", "[psk]") {
    // Expected values from an independent scrypt (Python hashlib) with the same parameters.
    CHECK(array_hex(derive("correct horse battery staple")) ==
          "e48ba2cd7514fe1638f1471ed72651b7e6cae3982530817c659da553da49af43");
}

TEST_CASE("63 or 65 hex digits - or 64 characters with a non-hex one - are passphrases", "[psk]") {
    CHECK(array_hex(derive(kHex64.substr(0, 63))) ==
          "6a54665fe874beb48a6cc2d96f00041be01e61860f48257312b16d13c7bbda74");
    CHECK(array_hex(derive(kHex64 + "0")) ==
          "4bd40e689b5e2338c501913ddec79484758061875dfe8b2839dc475f46e60f95");
    std::string not_hex = kHex64;
    not_hex[40] = 'g';
    const Psk p = derive(not_hex);
    CHECK(array_hex(p) != kHex64);
    CHECK(p != derive(kHex64));
}

TEST_CASE("different passphrases give different keys - the same one the same key", "[psk]") {
    const Psk a = derive("key one");
    const Psk b = derive("key two");
    const Psk c = derive("key one ");
    CHECK(a != b);
    CHECK(a != c);
    CHECK(derive("key one") == a);
}

TEST_CASE("an empty key is refused", "[psk]") {
    Psk out = psk_of(0x77);
    CHECK(derive_psk("", out) == error::empty_key);
}

TEST_CASE("a second derivation of the same passphrase comes from the cache", "[psk]") {
    using Clock = std::chrono::steady_clock;
    const std::string key = "cache timing test key";
    const auto t0 = Clock::now();
    const Psk first = derive(key);
    const auto t1 = Clock::now();
    const Psk second = derive(key);
    const auto t2 = Clock::now();
    CHECK(first == second);
    // scrypt with 32 MiB takes tens of milliseconds at least; a cache hit is one SHA-256.
    CHECK((t2 - t1) * 20 < (t1 - t0));
}

TEST_CASE("concurrent derivations of one passphrase agree", "[psk]") {
    Psk a{}, b{};
    std::error_code ea, eb;
    std::thread other([&] { ea = derive_psk("shared between threads", a); });
    eb = derive_psk("shared between threads", b);
    other.join();
    CHECK_FALSE(ea);
    CHECK_FALSE(eb);
    CHECK(a == b);
}

TEST_CASE("PskCache finds what it stored and evicts the least recently used", "[psk]") {
    PskCache cache(2);
    Psk out{};
    CHECK_FALSE(cache.lookup(id_of(1), out));
    cache.insert(id_of(1), psk_of(10));
    cache.insert(id_of(2), psk_of(20));
    CHECK(cache.size() == 2);
    REQUIRE(cache.lookup(id_of(1), out));  // 1 is now more recent than 2
    CHECK(out == psk_of(10));

    cache.insert(id_of(3), psk_of(30));  // evicts 2
    CHECK(cache.size() == 2);
    CHECK_FALSE(cache.lookup(id_of(2), out));
    REQUIRE(cache.lookup(id_of(1), out));
    CHECK(out == psk_of(10));
    REQUIRE(cache.lookup(id_of(3), out));
    CHECK(out == psk_of(30));

    cache.insert(id_of(1), psk_of(11));  // refresh in place, no growth
    CHECK(cache.size() == 2);
    REQUIRE(cache.lookup(id_of(1), out));
    CHECK(out == psk_of(11));
    cache.insert(id_of(4), psk_of(40));  // 3 is now the oldest
    CHECK_FALSE(cache.lookup(id_of(3), out));
    CHECK(cache.lookup(id_of(4), out));
}

TEST_CASE("PskCache stays within its capacity", "[psk]") {
    PskCache cache(kPskCacheCapacity);
    for (int i = 0; i < 200; ++i)
        cache.insert(id_of(static_cast<std::uint8_t>(i)), psk_of(1));
    CHECK(cache.size() == kPskCacheCapacity);
    Psk out{};
    CHECK(cache.lookup(id_of(199), out));
    CHECK(cache.lookup(id_of(200 - kPskCacheCapacity), out));
    CHECK_FALSE(cache.lookup(id_of(199 - kPskCacheCapacity), out));

    PskCache none(0);
    none.insert(id_of(1), psk_of(1));
    CHECK(none.size() == 0);
    CHECK_FALSE(none.lookup(id_of(1), out));
}
