// X25519 Diffie-Hellman (RFC 7748) on raw 32-byte keys, through OpenSSL's EVP_PKEY interface.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <memory>

namespace srmudp::crypto {

inline constexpr std::size_t kX25519KeySize = 32;
using X25519Key = std::array<std::uint8_t, kX25519KeySize>;

// Free OpenSSL's key and agreement context (OpenSSL wipes the private key it holds).
struct X25519PkeyFree {
    void operator()(EVP_PKEY* key) const;
};
struct X25519PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const;
};

// A key pair. Move-only: it owns OpenSSL's form of the private key. Not thread-safe: an
// agreement reuses the pair's OpenSSL context.
struct X25519KeyPair {
    X25519Key private_key{};
    X25519Key public_key{};
    // private_key as OpenSSL holds it, for agreements only (its public half is not meaningful:
    // public_key above is the public key), and the agreement context made on it. Agreements use
    // these instead of importing private_key again, which would cost a scalar multiplication.
    std::unique_ptr<EVP_PKEY, X25519PkeyFree> pkey;
    std::unique_ptr<EVP_PKEY_CTX, X25519PkeyCtxFree> agreement;

    X25519KeyPair() = default;
    X25519KeyPair(X25519KeyPair&&) = default;
    X25519KeyPair& operator=(X25519KeyPair&&) = default;
    ~X25519KeyPair();  // wipes private_key (OpenSSL wipes its copy when pkey is freed)

    // Wipes private_key and frees pkey and the agreement context; public_key stays.
    void wipe_private();
};

// Derives the public key of a raw 32-byte private key (any 32 bytes are a valid private key;
// RFC 7748 clamping happens inside). Returns false only if OpenSSL fails; out is then wiped.
bool x25519_keypair(const X25519Key& private_key, X25519KeyPair& out);

// Makes out a second holder of the same key pair without any scalar multiplication: OpenSSL's
// key object is shared (reference counted; the last holder to free it wipes it). Returns false
// (out wiped) if from holds no private key.
bool x25519_share_keypair(const X25519KeyPair& from, X25519KeyPair& out);

// Computes the shared secret X25519(private_key, peer_public). Returns false if OpenSSL fails
// or the result is all zero (the peer sent a low-order point, RFC 7748 section 6.1); shared is
// then wiped.
bool x25519(const X25519Key& private_key, const X25519Key& peer_public, X25519Key& shared);

// The same with a key pair from x25519_keypair(): one scalar multiplication instead of two.
// Also false (shared wiped) if own holds no private key (never set up, or wiped).
bool x25519(X25519KeyPair& own, const X25519Key& peer_public, X25519Key& shared);

// X25519 operations (scalar multiplications: key pairs and agreements) this thread has
// started so far. For tests and benchmarks that check what a code path costs.
std::uint64_t x25519_operations();

}  // namespace srmudp::crypto
