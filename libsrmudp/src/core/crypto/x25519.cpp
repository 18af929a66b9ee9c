// X25519 (RFC 7748 section 5) through EVP_PKEY with raw keys. The all-zero check of RFC 7748
// section 6.1 is done here as well, in constant time, rather than relying on the OpenSSL
// version's behaviour: a zero secret would make every later key public.
//
// Importing a raw private key makes OpenSSL 3 compute its public key, so a key pair keeps the
// imported EVP_PKEY and agreements reuse it: a handshake side then costs one scalar
// multiplication for its key pair and one per agreement.
#include "core/crypto/x25519.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace srmudp::crypto {
namespace {

struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using Pkey = std::unique_ptr<EVP_PKEY, X25519PkeyFree>;

Pkey private_pkey(const X25519Key& key) {
    return Pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, key.data(), key.size()));
}

bool is_all_zero(const X25519Key& key) {
    std::uint8_t acc = 0;
    for (std::uint8_t b : key)
        acc |= b;
    return acc == 0;
}

bool derive(EVP_PKEY* own, const X25519Key& peer_public, X25519Key& shared) {
    Pkey peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(),
                                          peer_public.size()));
    if (own == nullptr || !peer) return false;
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(own, nullptr));
    std::size_t len = shared.size();
    return ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
           EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) == 1 &&
           EVP_PKEY_derive(ctx.get(), shared.data(), &len) == 1 && len == shared.size();
}

bool checked(bool derived, X25519Key& shared) {
    if (derived && !is_all_zero(shared)) return true;
    OPENSSL_cleanse(shared.data(), shared.size());
    return false;
}

}  // namespace

void X25519PkeyFree::operator()(EVP_PKEY* key) const {
    EVP_PKEY_free(key);
}

X25519KeyPair::~X25519KeyPair() {
    OPENSSL_cleanse(private_key.data(), private_key.size());
}

void X25519KeyPair::wipe_private() {
    OPENSSL_cleanse(private_key.data(), private_key.size());
    pkey.reset();
}

bool x25519_keypair(const X25519Key& private_key, X25519KeyPair& out) {
    Pkey key = private_pkey(private_key);
    std::size_t len = out.public_key.size();
    if (!key || EVP_PKEY_get_raw_public_key(key.get(), out.public_key.data(), &len) != 1 ||
        len != out.public_key.size()) {
        out.wipe_private();
        out.public_key.fill(0);
        return false;
    }
    out.private_key = private_key;
    out.pkey = std::move(key);
    return true;
}

bool x25519(const X25519Key& private_key, const X25519Key& peer_public, X25519Key& shared) {
    const Pkey own = private_pkey(private_key);
    return checked(derive(own.get(), peer_public, shared), shared);
}

bool x25519(const X25519KeyPair& own, const X25519Key& peer_public, X25519Key& shared) {
    return checked(derive(own.pkey.get(), peer_public, shared), shared);
}

}  // namespace srmudp::crypto
