// X25519 (RFC 7748 section 5) through EVP_PKEY with raw keys. The all-zero check of RFC 7748
// section 6.1 is done here as well, in constant time, rather than relying on the OpenSSL
// version's behaviour: a zero secret would make every later key public.
//
// Where the time goes, and why the code looks the way it does (OpenSSL 3.0):
// - Importing a private key alone makes OpenSSL derive its public key with its generic
//   fixed-base code, ~20% slower than the assembly Montgomery ladder of an agreement. A key
//   pair therefore imports its private key together with a fixed stand-in for the public half
//   (OpenSSL takes it as given and stores it), and computes the real public key as the
//   agreement X25519(k, 9) (section 6.1: the scalar times the base point u = 9). The stand-in
//   is never read: an agreement uses only the private half of its own key.
// - Creating an EVP_PKEY or an EVP_PKEY_CTX costs microseconds of algorithm-name lookups. A key
//   pair keeps its key and agreement context (the base-point agreement and the handshake's
//   agreement share it), and each thread keeps one import context and one public-key object
//   that is set to each peer's key in turn.
#include "core/crypto/x25519.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace srmudp::crypto {
namespace {

// RFC 7748 section 4.1: the u-coordinate of the base point.
constexpr X25519Key kBasePoint = {9};

using Pkey = std::unique_ptr<EVP_PKEY, X25519PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, X25519PkeyCtxFree>;

OSSL_PARAM key_param(const char* name, const X25519Key& key) {
    // OpenSSL only reads an octet-string parameter on import; the type is not const-correct.
    return OSSL_PARAM_construct_octet_string(name, const_cast<std::uint8_t*>(key.data()),
                                             key.size());
}

// Per-thread objects: neither an EVP_PKEY_CTX nor a key that changes may be shared by threads.
struct ThreadObjects {
    PkeyCtx import;  // X25519 key management, ready for EVP_PKEY_fromdata
    Pkey peer;       // a public key, set to each peer's key right before an agreement

    ThreadObjects() : import(EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr)) {
        if (!import || EVP_PKEY_fromdata_init(import.get()) != 1) {
            import.reset();
            return;
        }
        OSSL_PARAM params[] = {key_param(OSSL_PKEY_PARAM_PUB_KEY, kBasePoint), OSSL_PARAM_END};
        EVP_PKEY* key = nullptr;
        if (EVP_PKEY_fromdata(import.get(), &key, EVP_PKEY_PUBLIC_KEY, params) == 1) {
            peer.reset(key);
        }
    }
};

ThreadObjects* thread_objects() {
    thread_local ThreadObjects objects;
    return objects.import && objects.peer ? &objects : nullptr;
}

// A key holding private_key for agreements (see the top of the file). Should an OpenSSL
// version refuse a public half that does not match, the key is imported alone, which is slower
// but equally correct.
Pkey agreement_key(const X25519Key& private_key) {
    ThreadObjects* objects = thread_objects();
    if (objects == nullptr) return nullptr;
    OSSL_PARAM params[] = {key_param(OSSL_PKEY_PARAM_PRIV_KEY, private_key),
                           key_param(OSSL_PKEY_PARAM_PUB_KEY, kBasePoint), OSSL_PARAM_END};
    EVP_PKEY* key = nullptr;
    if (EVP_PKEY_fromdata(objects->import.get(), &key, EVP_PKEY_KEYPAIR, params) == 1) {
        return Pkey(key);
    }
    params[1] = OSSL_PARAM_END;
    if (EVP_PKEY_fromdata(objects->import.get(), &key, EVP_PKEY_KEYPAIR, params) == 1) {
        return Pkey(key);
    }
    return nullptr;
}

PkeyCtx agreement_context(EVP_PKEY* own) {
    PkeyCtx ctx(own != nullptr ? EVP_PKEY_CTX_new(own, nullptr) : nullptr);
    if (ctx && EVP_PKEY_derive_init(ctx.get()) == 1) return ctx;
    return nullptr;
}

bool is_all_zero(const X25519Key& key) {
    std::uint8_t acc = 0;
    for (std::uint8_t b : key)
        acc |= b;
    return acc == 0;
}

thread_local std::uint64_t operations = 0;

// The raw agreement on a derive-initialised context; the all-zero check is the caller's.
bool derive(EVP_PKEY_CTX* ctx, const X25519Key& peer_public, X25519Key& shared) {
    ++operations;
    ThreadObjects* objects = thread_objects();
    std::size_t len = shared.size();
    // No peer validation by OpenSSL: every 32-byte string is an X25519 public key, and the
    // low-order ones are caught by the all-zero check after the agreement.
    return ctx != nullptr && objects != nullptr &&
           EVP_PKEY_set1_encoded_public_key(objects->peer.get(), peer_public.data(),
                                            peer_public.size()) == 1 &&
           EVP_PKEY_derive_set_peer_ex(ctx, objects->peer.get(), 0) == 1 &&
           EVP_PKEY_derive(ctx, shared.data(), &len) == 1 && len == shared.size();
}

bool checked(bool derived, X25519Key& shared) {
    if (derived && !is_all_zero(shared)) return true;
    OPENSSL_cleanse(shared.data(), shared.size());
    return false;
}

bool fail_keypair(X25519KeyPair& out) {
    out.wipe_private();
    out.public_key.fill(0);
    return false;
}

}  // namespace

void X25519PkeyFree::operator()(EVP_PKEY* key) const {
    EVP_PKEY_free(key);
}

void X25519PkeyCtxFree::operator()(EVP_PKEY_CTX* ctx) const {
    EVP_PKEY_CTX_free(ctx);
}

X25519KeyPair::~X25519KeyPair() {
    OPENSSL_cleanse(private_key.data(), private_key.size());
}

void X25519KeyPair::wipe_private() {
    OPENSSL_cleanse(private_key.data(), private_key.size());
    agreement.reset();  // holds a reference to pkey
    pkey.reset();
}

bool x25519_keypair(const X25519Key& private_key, X25519KeyPair& out) {
    Pkey key = agreement_key(private_key);
    PkeyCtx ctx = agreement_context(key.get());
    X25519Key public_key;
    if (!checked(derive(ctx.get(), kBasePoint, public_key), public_key)) return fail_keypair(out);
    out.private_key = private_key;
    out.public_key = public_key;
    out.agreement = std::move(ctx);
    out.pkey = std::move(key);
    return true;
}

bool x25519_share_keypair(const X25519KeyPair& from, X25519KeyPair& out) {
    if (!from.pkey || EVP_PKEY_up_ref(from.pkey.get()) != 1) return fail_keypair(out);
    out.agreement.reset();  // made on first use: a context is not to be shared
    out.pkey.reset(from.pkey.get());
    out.private_key = from.private_key;
    out.public_key = from.public_key;
    return true;
}

bool x25519(const X25519Key& private_key, const X25519Key& peer_public, X25519Key& shared) {
    const Pkey own = agreement_key(private_key);
    const PkeyCtx ctx = agreement_context(own.get());
    return checked(derive(ctx.get(), peer_public, shared), shared);
}

bool x25519(X25519KeyPair& own, const X25519Key& peer_public, X25519Key& shared) {
    if (!own.agreement) own.agreement = agreement_context(own.pkey.get());
    return checked(derive(own.agreement.get(), peer_public, shared), shared);
}

std::uint64_t x25519_operations() {
    return operations;
}

}  // namespace srmudp::crypto
