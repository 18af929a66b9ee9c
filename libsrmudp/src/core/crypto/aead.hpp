// Authenticated encryption of packets: ChaCha20-Poly1305 (RFC 8439) or AES-256-GCM (NIST SP
// 800-38D), through OpenSSL's EVP interface, with the 96-bit nonce built from a 64-bit counter
// exactly as the Noise framework defines it (revision 34, section 12).
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "srmudp/bytes.hpp"

namespace srmudp::crypto {

enum class AeadAlgorithm : std::uint8_t { chacha20_poly1305 = 1, aes256_gcm = 2 };

inline constexpr std::size_t kAeadKeySize = 32, kAeadTagSize = 16;
using AeadKey = std::array<std::uint8_t, kAeadKeySize>;

// One key and one cipher context set up once; each call only installs the nonce, so this is
// cheap enough for every packet. Move-only, not thread-safe.
class Aead {
  public:
    // Sets up the cipher with key; check valid() afterwards.
    Aead(AeadAlgorithm algorithm, const AeadKey& key);
    ~Aead();
    Aead(Aead&& other) noexcept;
    Aead& operator=(Aead&& other) noexcept;
    Aead(const Aead&) = delete;
    Aead& operator=(const Aead&) = delete;

    // False if OpenSSL could not set up the cipher (or the object was moved from).
    bool valid() const { return ctx_ != nullptr; }
    AeadAlgorithm algorithm() const { return algorithm_; }

    // Encrypts plaintext and authenticates it together with ad under the given nonce; writes
    // plaintext.size() + kAeadTagSize bytes to out (out may equal plaintext.data()).
    // Returns false if the object is invalid, a size exceeds OpenSSL's int range, or OpenSSL fails.
    bool seal(std::uint64_t nonce, ByteView ad, ByteView plaintext, std::uint8_t* out);

    // Verifies and decrypts ciphertext (which ends with the tag); writes ciphertext.size() - 16
    // bytes to out (out may equal ciphertext.data()). Returns false if the ciphertext is shorter
    // than the tag or does not authenticate; the bytes written to out are then wiped.
    bool open(std::uint64_t nonce, ByteView ad, ByteView ciphertext, std::uint8_t* out);

  private:
    bool start(std::uint64_t nonce, int encrypt, ByteView ad);

    AeadAlgorithm algorithm_;
    EVP_CIPHER_CTX* ctx_ = nullptr;
};

}  // namespace srmudp::crypto
