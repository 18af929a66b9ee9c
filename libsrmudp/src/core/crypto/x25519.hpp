// X25519 Diffie-Hellman (RFC 7748) on raw 32-byte keys, through OpenSSL's EVP_PKEY interface.
#pragma once

#include <array>
#include <cstdint>

namespace srmudp::crypto {

inline constexpr std::size_t kX25519KeySize = 32;
using X25519Key = std::array<std::uint8_t, kX25519KeySize>;

struct X25519KeyPair {
    X25519Key private_key{};
    X25519Key public_key{};
    ~X25519KeyPair();  // wipes private_key
};

// Derives the public key of a raw 32-byte private key (any 32 bytes are a valid private key;
// RFC 7748 clamping happens inside). Returns false only if OpenSSL fails; out is then wiped.
bool x25519_keypair(const X25519Key& private_key, X25519KeyPair& out);

// Computes the shared secret X25519(private_key, peer_public). Returns false if OpenSSL fails
// or the result is all zero (the peer sent a low-order point, RFC 7748 section 6.1); shared is
// then wiped.
bool x25519(const X25519Key& private_key, const X25519Key& peer_public, X25519Key& shared);

}  // namespace srmudp::crypto
