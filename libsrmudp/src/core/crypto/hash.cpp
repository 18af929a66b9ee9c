// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) through OpenSSL's EVP_MD and EVP_MAC
// interfaces, plus HKDF as the Noise framework uses it (revision 34, section 4.3):
//   temp_key = HMAC(ck, ikm); out1 = HMAC(temp_key, 0x01); out_i = HMAC(temp_key, out_{i-1} || i)
// and a single HKDF-Expand block (RFC 5869 section 2.3) with the label as "info".
#include "core/crypto/hash.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdlib>
#include <memory>

namespace srmudp::crypto {
namespace {

struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct MacCtxFree {
    void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

[[noreturn]] void openssl_broken() {
    std::abort();
}

void require(int ok) {
    if (ok != 1) openssl_broken();
}

// A null key pointer means "keep the previous key" to OpenSSL, so an empty key needs a valid
// pointer.
const std::uint8_t* key_pointer(ByteView key) {
    static const std::uint8_t no_key = 0;
    return key.empty() ? &no_key : key.data();
}

// Fetched once: looking an implementation up again for every hash would dominate its cost.
const EVP_MD* sha256_algorithm() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (md == nullptr) openssl_broken();
    return md;
}

// An HMAC-SHA256 context set up once (with an empty key) and never used itself: each MAC
// starts from a copy of it, which shares the fetched HMAC and SHA-256 implementations instead
// of fetching them by name again. Only read after its construction, so copies may be taken
// from several threads.
const EVP_MAC_CTX* hmac_template() {
    static EVP_MAC_CTX* const ctx = [] {
        EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        EVP_MAC_CTX* c = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
        EVP_MAC_free(mac);  // the context holds its own reference
        if (c == nullptr) openssl_broken();
        char digest[] = "SHA256";
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
        require(EVP_MAC_init(c, key_pointer(ByteView()), 0, params));
        return c;
    }();
    return ctx;
}

// HMAC-SHA256 over the concatenation a || b.
Hash hmac_parts(ByteView key, ByteView a, ByteView b = {}) {
    std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_dup(hmac_template()));
    if (!ctx) openssl_broken();
    require(EVP_MAC_init(ctx.get(), key_pointer(key), key.size(), nullptr));
    for (ByteView part : {a, b}) {
        if (!part.empty()) require(EVP_MAC_update(ctx.get(), part.data(), part.size()));
    }
    Hash out;
    std::size_t len = 0;
    require(EVP_MAC_final(ctx.get(), out.data(), &len, out.size()));
    if (len != out.size()) openssl_broken();
    return out;  // the context's copy of the key is cleansed by EVP_MAC_CTX_free
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
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx) openssl_broken();
    require(EVP_DigestInit_ex2(ctx.get(), sha256_algorithm(), nullptr));
    if (!a.empty()) require(EVP_DigestUpdate(ctx.get(), a.data(), a.size()));
    if (!b.empty()) require(EVP_DigestUpdate(ctx.get(), b.data(), b.size()));
    Hash out;
    unsigned int len = 0;
    require(EVP_DigestFinal_ex(ctx.get(), out.data(), &len));
    if (len != out.size()) openssl_broken();
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
