#include "core/crypto/hash.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "test_helpers.hpp"

using namespace srmudp;
using namespace srmudp::crypto;
using srmudp::crypto::test::array_hex;

namespace {

Hash counting_hash() {
    Hash h;
    for (std::size_t i = 0; i < h.size(); ++i)
        h[i] = static_cast<std::uint8_t>(i);
    return h;
}

}  // namespace

TEST_CASE("SHA-256 of FIPS 180-2 examples and of a split input", "[hash]") {
    CHECK(array_hex(sha256(as_bytes("abc"))) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(array_hex(sha256(ByteView())) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256(as_bytes("a"), as_bytes("bc")) == sha256(as_bytes("abc")));
    CHECK(sha256(ByteView(), as_bytes("abc")) == sha256(as_bytes("abc")));
    CHECK(sha256(as_bytes("ab"), as_bytes("c")) != sha256(as_bytes("abd")));
}

TEST_CASE("HMAC-SHA256 RFC 4231 test cases 1 - 2 and 6", "[hash]") {
    const Bytes key1(20, 0x0b);
    CHECK(array_hex(hmac_sha256(key1, as_bytes("Hi There"))) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(array_hex(hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    const Bytes key6(131, 0xaa);  // longer than the block: hashed first
    CHECK(array_hex(hmac_sha256(
              key6, as_bytes("Test Using Larger Than Block-Size Key - Hash Key First"))) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("HMAC-SHA256 accepts an empty key and empty data", "[hash]") {
    CHECK(array_hex(hmac_sha256(ByteView(), ByteView())) ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("Noise HKDF follows section 4.3 for two and three outputs", "[hash]") {
    const Hash ck = counting_hash();
    Hash o1, o2, o3;
    noise_hkdf(ck, as_bytes("input"), o1, o2, o3);
    CHECK(array_hex(o1) == "6652e076ecbcbe76627293d67fcc22d29dee719f3c185066ea867eaf1e6f4c47");
    CHECK(array_hex(o2) == "5c709f4c8626825d850cc12e878c9ea7a08159016a009bc36b8109676b9c074b");
    CHECK(array_hex(o3) == "9d6f3254e354007293d243ca6c6ddb2d10b725c55285c73317b7d383e39fd488");

    // The same chain built from the definition with hmac_sha256.
    const Hash temp = hmac_sha256(ByteView(ck.data(), 32), as_bytes("input"));
    const std::uint8_t one = 1;
    CHECK(o1 == hmac_sha256(ByteView(temp.data(), 32), ByteView(&one, 1)));

    Hash t1, t2;
    noise_hkdf(ck, as_bytes("input"), t1, t2);
    CHECK(t1 == o1);
    CHECK(t2 == o2);

    noise_hkdf(ck, ByteView(), t1, t2);  // Split() uses an empty ikm
    CHECK(array_hex(t1) == "1d7e0d6f1d9da2d68dabed53b5f88345f3fd01cb75411fbe5aa4293bd8f430d6");
    CHECK(array_hex(t2) == "3ed9b8035bbf370b8cfef7ff15007de45488e18660c84e3d996e8e6c658fa7f8");
}

TEST_CASE("Noise HKDF outputs may alias the chaining key", "[hash]") {
    Hash ck = counting_hash();
    Hash expected1, expected2, k;
    noise_hkdf(ck, as_bytes("input"), expected1, expected2);
    noise_hkdf(ck, as_bytes("input"), ck, k);  // MixKey's form
    CHECK(ck == expected1);
    CHECK(k == expected2);

    Hash ck3 = counting_hash(), h3, k3, e1, e2, e3;
    noise_hkdf(ck3, as_bytes("psk"), e1, e2, e3);
    noise_hkdf(ck3, as_bytes("psk"), ck3, h3, k3);  // MixKeyAndHash's form
    CHECK(ck3 == e1);
    CHECK(h3 == e2);
    CHECK(k3 == e3);
}

TEST_CASE("hkdf_expand is one RFC 5869 HKDF-Expand block with the label as info", "[hash]") {
    const Hash secret = counting_hash();
    CHECK(array_hex(hkdf_expand(secret, "srmudp key update")) ==
          "bc7db90c0e3a3fe39ddabafd999c7987ac27799f8d71200087a278e03d8366cb");
    const Bytes data = {'s', 'r', 'c', 0x01};
    CHECK(hkdf_expand(secret, "src") == hmac_sha256(ByteView(secret.data(), 32), data));
    CHECK(hkdf_expand(secret, "a") != hkdf_expand(secret, "b"));
    CHECK(hkdf_expand(secret, "") != hkdf_expand(secret, "a"));
}

TEST_CASE("HMAC-SHA256 keys at the block-size boundary", "[hash]") {
    // 64 bytes are used as they are; 65 are hashed first (expected values from Python's hmac).
    Bytes key(64);
    for (std::size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<std::uint8_t>(i);
    CHECK(array_hex(hmac_sha256(key, as_bytes("boundary"))) ==
          "04660fc313657aa3500078e1f2788cc4e328654092b137f946516e4d7a17adae");
    key.push_back(64);
    CHECK(array_hex(hmac_sha256(key, as_bytes("boundary"))) ==
          "ea8a9678017bce7c50df43ced20cc4b112ed884969720bb2ec14e24ce582f037");
}

TEST_CASE("hashes on several threads at once agree with one thread", "[hash]") {
    const Hash expected_hmac = hmac_sha256(as_bytes("key"), as_bytes("data"));
    const Hash expected_sha = sha256(as_bytes("data"));
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                if (hmac_sha256(as_bytes("key"), as_bytes("data")) != expected_hmac ||
                    sha256(as_bytes("data")) != expected_sha) {
                    ++mismatches;
                }
            }
        });
    }
    for (std::thread& t : threads)
        t.join();
    CHECK(mismatches == 0);
}
