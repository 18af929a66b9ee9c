// SHA-256 (FIPS 180-4) through OpenSSL's EVP_MD interface, HMAC-SHA256 (RFC 2104) built on it,
// and HKDF as the Noise framework uses it (revision 34, section 4.3):
//   temp_key = HMAC(ck, ikm); out1 = HMAC(temp_key, 0x01); out_i = HMAC(temp_key, out_{i-1} || i)
// plus a single HKDF-Expand block (RFC 5869 section 2.3) with the label as "info".
//
// HMAC is computed here rather than through EVP_MAC: a handshake computes about forty of them,
// and each EVP_MAC use costs a context copy and a re-key of several microseconds, while
// HMAC-SHA256 of short inputs is four SHA-256 compressions. Every hash runs on one digest
// context per thread, set up once and reset (to the SHA-256 initial state) after each use, so
// no key-dependent state lingers in it.
#include "core/crypto/hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>

namespace srmudp::crypto {
namespace {

constexpr std::size_t kBlockSize = 64;  // SHA-256 block: the HMAC key is padded to it
constexpr std::uint8_t kInnerPad = 0x36, kOuterPad = 0x5c;

struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

[[noreturn]] void openssl_broken() {
    std::abort();
}

void require(int ok) {
    if (ok != 1) openssl_broken();
}

// Fetched once: looking an implementation up again for every hash would dominate its cost.
const EVP_MD* sha256_algorithm() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (md == nullptr) openssl_broken();
    return md;
}

// One context per thread: a context is not safe to share, and allocating one per hash costs
// more than a short hash itself.
EVP_MD_CTX* digest_context() {
    thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx) openssl_broken();
    return ctx.get();
}

// SHA-256 of the concatenation of parts into out. Re-initialising the context afterwards
// overwrites the state, which after an HMAC's inner hash is a secret.
void digest(std::initializer_list<ByteView> parts, Hash& out) {
    EVP_MD_CTX* ctx = digest_context();
    require(EVP_DigestInit_ex2(ctx, sha256_algorithm(), nullptr));
    for (ByteView part : parts) {
        if (!part.empty()) require(EVP_DigestUpdate(ctx, part.data(), part.size()));
    }
    unsigned int len = 0;
    require(EVP_DigestFinal_ex(ctx, out.data(), &len));
    if (len != out.size()) openssl_broken();
    require(EVP_DigestInit_ex2(ctx, nullptr, nullptr));
}

// HMAC-SHA256 over the concatenation a || b:
//   H((K' ^ opad) || H((K' ^ ipad) || a || b)), K' = key (or H(key) if longer than a block),
// zero-padded to the block size.
Hash hmac_parts(ByteView key, ByteView a, ByteView b = {}) {
    std::uint8_t block[kBlockSize] = {};
    if (key.size() > kBlockSize) {
        Hash hashed_key;
        digest({key}, hashed_key);
        std::memcpy(block, hashed_key.data(), hashed_key.size());
        OPENSSL_cleanse(hashed_key.data(), hashed_key.size());
    } else if (!key.empty()) {
        std::memcpy(block, key.data(), key.size());
    }
    for (std::uint8_t& byte : block)
        byte ^= kInnerPad;
    Hash inner;
    digest({ByteView(block, kBlockSize), a, b}, inner);
    for (std::uint8_t& byte : block)
        byte ^= kInnerPad ^ kOuterPad;
    Hash out;
    digest({ByteView(block, kBlockSize), ByteView(inner.data(), inner.size())}, out);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(inner.data(), inner.size());
    return out;
}

ByteView view(const Hash& h) {
    return ByteView(h.data(), h.size());
}

// The Noise HKDF with n (2 or 3) outputs. Everything is computed into locals before any output
// is written, so an output may be the chaining key itself (MixKey does exactly that).
void noise_hkdf_n(const Hash& ck, ByteView ikm, Hash* const* outs, std::size_t n) {
    Hash temp_key = hmac_parts(view(ck), ikm);
    Hash results[3];
    for (std::size_t i = 0; i < n; ++i) {
        const auto counter = static_cast<std::uint8_t>(i + 1);
        const ByteView previous = i == 0 ? ByteView() : view(results[i - 1]);
        results[i] = hmac_parts(view(temp_key), previous, ByteView(&counter, 1));
    }
    for (std::size_t i = 0; i < n; ++i)
        *outs[i] = results[i];
    OPENSSL_cleanse(temp_key.data(), temp_key.size());
    OPENSSL_cleanse(results, sizeof results);
}

}  // namespace

Hash sha256(ByteView data) {
    return sha256(data, ByteView());
}

Hash sha256(ByteView a, ByteView b) {
    Hash out;
    digest({a, b}, out);
    return out;
}

Hash hmac_sha256(ByteView key, ByteView data) {
    return hmac_parts(key, data);
}

void noise_hkdf(const Hash& ck, ByteView ikm, Hash& out1, Hash& out2) {
    Hash* outs[] = {&out1, &out2};
    noise_hkdf_n(ck, ikm, outs, 2);
}

void noise_hkdf(const Hash& ck, ByteView ikm, Hash& out1, Hash& out2, Hash& out3) {
    Hash* outs[] = {&out1, &out2, &out3};
    noise_hkdf_n(ck, ikm, outs, 3);
}

Hash hkdf_expand(const Hash& secret, std::string_view label) {
    static const std::uint8_t counter = 1;
    return hmac_parts(view(secret), as_bytes(label), ByteView(&counter, 1));
}

}  // namespace srmudp::crypto
