#include "core/crypto/aead.hpp"

#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <string>

#include "test_helpers.hpp"

using namespace srmudp;
using namespace srmudp::crypto;
using srmudp::crypto::test::array_from_hex;
using srmudp::crypto::test::from_hex;
using srmudp::crypto::test::to_hex;

namespace {

// A reference AEAD encryption straight through EVP with a caller-chosen 12-byte IV, so known
// answers whose nonce does not fit the Noise layout can still be checked.
Bytes raw_evp_seal(const EVP_CIPHER* cipher, ByteView key, ByteView iv, ByteView ad,
                   ByteView plaintext) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes out(plaintext.size() + kAeadTagSize);
    int len = 0, final_len = 0;
    bool ok =
        EVP_EncryptInit_ex2(ctx, cipher, key.data(), iv.data(), nullptr) == 1 &&
        EVP_EncryptUpdate(ctx, nullptr, &len, ad.data(), static_cast<int>(ad.size())) == 1 &&
        EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(),
                          static_cast<int>(plaintext.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx, out.data() + len, &final_len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + plaintext.size()) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) out.clear();
    return out;
}

AeadKey test_key(std::uint8_t first) {
    AeadKey k;
    for (std::size_t i = 0; i < k.size(); ++i)
        k[i] = static_cast<std::uint8_t>(first + i);
    return k;
}

Bytes pattern(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i)
        b[i] = static_cast<std::uint8_t>(i * 7 + 3);
    return b;
}

const AeadAlgorithm kBoth[] = {AeadAlgorithm::chacha20_poly1305, AeadAlgorithm::aes256_gcm};

}  // namespace

TEST_CASE("RFC 8439 2.8.2 AEAD_CHACHA20_POLY1305 known answer through EVP", "[aead]") {
    // The RFC's nonce (07 00 00 00 40 .. 47) has a non-zero first word, which the Noise nonce
    // layout cannot express; this pins the EVP calls the Aead class makes to the RFC.
    const Bytes key = from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    const Bytes iv = from_hex("070000004041424344454647");
    const Bytes ad = from_hex("50515253c0c1c2c3c4c5c6c7");
    const std::string text =
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
        "future, sunscreen would be it.";
    const Bytes sealed = raw_evp_seal(EVP_chacha20_poly1305(), key, iv, ad, as_bytes(text));
    CHECK(to_hex(sealed) ==
          "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb"
          "69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad6"
          "75945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
          "1ae10b594f09e26a7e902ecbd0600691");
}

TEST_CASE("RFC 8439 A.5 ChaCha20-Poly1305 known answer through Aead", "[aead]") {
    // Nonce 00000000 0102030405060708 is the Noise layout with n = 0x0807060504030201 (LE).
    const auto key =
        array_from_hex<AeadKey>("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
    const Bytes ad = from_hex("f33388860000000000004e91");
    const std::string text =
        "Internet-Drafts are draft documents valid for a maximum of six months and may be "
        "updated, replaced, or obsoleted by other documents at any time. It is inappropriate to "
        "use Internet-Drafts as reference material or to cite them other than as "
        "/\xe2\x80\x9cwork in progress./\xe2\x80\x9d";
    REQUIRE(text.size() == 265);
    const std::string expected =
        "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee9"
        "4e382d26b0bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d"
        "33bd60f982b1ff37c8559797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9"
        "166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b004771"
        "8cbc546a0d072b04b3564eea1b422273f548271a0bb2316053fa76991955ebd63159434ecebb4e466dae5a"
        "1073a6727627097a1049e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29a6ad"
        "5cb4022b02709b"
        "eead9d67890cbb22392336fea1851f38";
    const std::uint64_t nonce = 0x0807060504030201;
    Aead aead(AeadAlgorithm::chacha20_poly1305, key);
    REQUIRE(aead.valid());
    Bytes sealed(text.size() + kAeadTagSize);
    REQUIRE(aead.seal(nonce, ad, as_bytes(text), sealed.data()));
    CHECK(to_hex(sealed) == expected);

    Bytes opened(text.size());
    REQUIRE(aead.open(nonce, ad, sealed, opened.data()));
    CHECK(std::string(opened.begin(), opened.end()) == text);
}

TEST_CASE("AES-256-GCM known answers with the all-zero nonce", "[aead]") {
    // GCM specification (McGrew & Viega) test cases 13 and 14: zero key, zero 96-bit IV.
    Aead aead(AeadAlgorithm::aes256_gcm, AeadKey{});
    REQUIRE(aead.valid());
    std::uint8_t tag_only[kAeadTagSize];
    REQUIRE(aead.seal(0, ByteView(), ByteView(), tag_only));
    CHECK(to_hex(ByteView(tag_only, sizeof tag_only)) == "530f8afbc74536b9a963b4f1c4cb738b");

    const Bytes zeros(16, 0);
    Bytes sealed(32);
    REQUIRE(aead.seal(0, ByteView(), zeros, sealed.data()));
    CHECK(to_hex(sealed) == "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
}

TEST_CASE("the nonce layout is 4 zero bytes then n - LE for ChaChaPoly and BE for AESGCM",
          "[aead]") {
    const AeadKey key = test_key(0x40);
    const Bytes ad = pattern(13), plaintext = pattern(50);
    const std::uint64_t n = 0x0102030405060708;
    const Bytes le_iv = from_hex("000000000807060504030201");
    const Bytes be_iv = from_hex("000000000102030405060708");

    Aead chacha(AeadAlgorithm::chacha20_poly1305, key);
    Bytes out(plaintext.size() + kAeadTagSize);
    REQUIRE(chacha.seal(n, ad, plaintext, out.data()));
    CHECK(out ==
          raw_evp_seal(EVP_chacha20_poly1305(), ByteView(key.data(), 32), le_iv, ad, plaintext));

    Aead gcm(AeadAlgorithm::aes256_gcm, key);
    REQUIRE(gcm.seal(n, ad, plaintext, out.data()));
    CHECK(out == raw_evp_seal(EVP_aes_256_gcm(), ByteView(key.data(), 32), be_iv, ad, plaintext));
}

TEST_CASE("seal then open round-trips for both algorithms and many sizes", "[aead]") {
    for (AeadAlgorithm alg : kBoth) {
        Aead aead(alg, test_key(1));
        REQUIRE(aead.valid());
        CHECK(aead.algorithm() == alg);
        std::uint64_t nonce = 0;
        for (std::size_t size : {0, 1, 15, 16, 17, 64, 1200, 65535}) {
            const Bytes plaintext = pattern(size), ad = pattern(size % 40);
            Bytes sealed(size + kAeadTagSize);
            REQUIRE(aead.seal(nonce, ad, plaintext, sealed.data()));
            if (size > 0) {
                CHECK(Bytes(sealed.begin(), sealed.begin() + static_cast<long>(size)) != plaintext);
            }
            Bytes opened(size);
            REQUIRE(aead.open(nonce, ad, sealed, opened.data()));
            CHECK(opened == plaintext);
            ++nonce;
        }
    }
}

TEST_CASE("one Aead seals and opens alternately - and a second instance agrees", "[aead]") {
    for (AeadAlgorithm alg : kBoth) {
        Aead a(alg, test_key(9)), b(alg, test_key(9));
        for (std::uint64_t n = 0; n < 20; ++n) {
            const Bytes plaintext = pattern(100 + n);
            Bytes sealed(plaintext.size() + kAeadTagSize), opened(plaintext.size());
            REQUIRE(a.seal(n, ByteView(), plaintext, sealed.data()));
            REQUIRE(b.open(n, ByteView(), sealed, opened.data()));
            CHECK(opened == plaintext);
            // A failed open must not disturb the next operation on the same context.
            sealed[0] ^= 1;
            CHECK_FALSE(a.open(n, ByteView(), sealed, opened.data()));
        }
    }
}

TEST_CASE("open rejects any flipped bit in ciphertext - tag or ad - and a wrong nonce or key",
          "[aead]") {
    for (AeadAlgorithm alg : kBoth) {
        Aead aead(alg, test_key(3));
        Bytes ad = pattern(20);
        const Bytes plaintext = pattern(40);
        Bytes sealed(plaintext.size() + kAeadTagSize);
        REQUIRE(aead.seal(5, ad, plaintext, sealed.data()));
        Bytes out(plaintext.size());

        for (std::size_t i = 0; i < sealed.size(); ++i) {  // body and tag
            for (int bit : {0, 7}) {
                Bytes tampered = sealed;
                tampered[i] ^= static_cast<std::uint8_t>(1 << bit);
                CHECK_FALSE(aead.open(5, ad, tampered, out.data()));
            }
        }
        ad[19] ^= 0x80;
        CHECK_FALSE(aead.open(5, ad, sealed, out.data()));
        ad[19] ^= 0x80;
        CHECK_FALSE(aead.open(6, ad, sealed, out.data()));
        CHECK_FALSE(aead.open(5, ByteView(), sealed, out.data()));
        Aead other(alg, test_key(4));
        CHECK_FALSE(other.open(5, ad, sealed, out.data()));
        REQUIRE(aead.open(5, ad, sealed, out.data()));
        CHECK(out == plaintext);
    }
}

TEST_CASE("a failed open wipes what it wrote", "[aead]") {
    Aead aead(AeadAlgorithm::chacha20_poly1305, test_key(2));
    const Bytes plaintext = pattern(32);
    Bytes sealed(plaintext.size() + kAeadTagSize);
    REQUIRE(aead.seal(0, ByteView(), plaintext, sealed.data()));
    sealed.back() ^= 1;
    Bytes out(plaintext.size(), 0xAA);
    CHECK_FALSE(aead.open(0, ByteView(), sealed, out.data()));
    CHECK(out == Bytes(plaintext.size(), 0));
}

TEST_CASE("seal and open work in place", "[aead]") {
    for (AeadAlgorithm alg : kBoth) {
        Aead aead(alg, test_key(7));
        const Bytes plaintext = pattern(300), ad = pattern(8);
        Bytes expected(plaintext.size() + kAeadTagSize);
        REQUIRE(aead.seal(42, ad, plaintext, expected.data()));

        Bytes buffer = plaintext;
        buffer.resize(plaintext.size() + kAeadTagSize);
        REQUIRE(aead.seal(42, ad, ByteView(buffer.data(), plaintext.size()), buffer.data()));
        CHECK(buffer == expected);
        REQUIRE(aead.open(42, ad, buffer, buffer.data()));
        CHECK(Bytes(buffer.begin(), buffer.begin() + 300) == plaintext);
    }
}

TEST_CASE("open needs at least a tag - a bare tag is an empty message", "[aead]") {
    for (AeadAlgorithm alg : kBoth) {
        Aead aead(alg, test_key(5));
        std::uint8_t tag[kAeadTagSize];
        REQUIRE(aead.seal(1, ByteView(), ByteView(), tag));
        CHECK(aead.open(1, ByteView(), ByteView(tag, sizeof tag), nullptr));
        std::uint8_t out[kAeadTagSize];
        for (std::size_t n = 0; n < kAeadTagSize; ++n) {
            CHECK_FALSE(aead.open(1, ByteView(), ByteView(tag, n), out));
        }
    }
}

TEST_CASE("Aead moves its context - invalid objects refuse to work", "[aead]") {
    Aead a(AeadAlgorithm::aes256_gcm, test_key(6));
    Aead b(std::move(a));
    CHECK(b.valid());
    CHECK_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from state is specified
    std::uint8_t buf[kAeadTagSize + 4] = {1, 2, 3, 4};
    CHECK_FALSE(a.seal(0, ByteView(), ByteView(buf, 4), buf));
    CHECK_FALSE(a.open(0, ByteView(), ByteView(buf, sizeof buf), buf));
    REQUIRE(b.seal(0, ByteView(), ByteView(buf, 4), buf));

    Aead c(AeadAlgorithm::chacha20_poly1305, test_key(8));
    c = std::move(b);
    CHECK(c.algorithm() == AeadAlgorithm::aes256_gcm);
    std::uint8_t out[4];
    REQUIRE(c.open(0, ByteView(), ByteView(buf, sizeof buf), out));
    CHECK(out[0] == 1);
    CHECK(out[3] == 4);

    Aead bogus(static_cast<AeadAlgorithm>(0), test_key(1));
    CHECK_FALSE(bogus.valid());
}
