// X25519 (RFC 7748 section 5) through EVP_PKEY with raw keys. The all-zero check of RFC 7748
// section 6.1 is done here as well, in constant time, rather than relying on the OpenSSL
// version's behaviour: a zero secret would make every later key public.
#include "core/crypto/x25519.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

namespace srmudp::crypto {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey private_pkey(const X25519Key& key) {
    return Pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, key.data(), key.size()));
}

bool is_all_zero(const X25519Key& key) {
    std::uint8_t acc = 0;
    for (std::uint8_t b : key)
        acc |= b;
    return acc == 0;
}

bool derive(const X25519Key& private_key, const X25519Key& peer_public, X25519Key& shared) {
    Pkey own = private_pkey(private_key);
    Pkey peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(),
                                          peer_public.size()));
    if (!own || !peer) return false;
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(own.get(), nullptr));
    std::size_t len = shared.size();
    return ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
           EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) == 1 &&
           EVP_PKEY_derive(ctx.get(), shared.data(), &len) == 1 && len == shared.size();
}

}  // namespace

X25519KeyPair::~X25519KeyPair() {
    OPENSSL_cleanse(private_key.data(), private_key.size());
}

bool x25519_keypair(const X25519Key& private_key, X25519KeyPair& out) {
    Pkey key = private_pkey(private_key);
    std::size_t len = out.public_key.size();
    if (!key || EVP_PKEY_get_raw_public_key(key.get(), out.public_key.data(), &len) != 1 ||
        len != out.public_key.size()) {
        OPENSSL_cleanse(out.private_key.data(), out.private_key.size());
        out.public_key.fill(0);
        return false;
    }
    out.private_key = private_key;
    return true;
}

bool x25519(const X25519Key& private_key, const X25519Key& peer_public, X25519Key& shared) {
    if (derive(private_key, peer_public, shared) && !is_all_zero(shared)) return true;
    OPENSSL_cleanse(shared.data(), shared.size());
    return false;
}

}  // namespace srmudp::crypto
