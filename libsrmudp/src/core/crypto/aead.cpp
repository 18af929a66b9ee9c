// ChaCha20-Poly1305 (RFC 8439 section 2.8) and AES-256-GCM (NIST SP 800-38D) with the Noise
// nonce layout (Noise revision 34, section 12): 4 zero bytes followed by the 64-bit counter,
// little-endian for ChaChaPoly and big-endian for AESGCM.
//
// The key is installed into the EVP_CIPHER_CTX once, in the constructor; seal and open only
// re-initialise the context with a new IV and direction, which OpenSSL allows without a key.
#include "core/crypto/aead.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <climits>
#include <cstring>
#include <utility>

namespace srmudp::crypto {
namespace {

constexpr std::size_t kNonceSize = 12;
// EVP takes int lengths; anything this large is a caller bug, not a datagram.
constexpr std::size_t kMaxInput = static_cast<std::size_t>(INT_MAX) - kAeadTagSize;

// Fetched once per algorithm: EVP_chacha20_poly1305() and friends make OpenSSL 3 look the
// implementation up by name in every context they set up.
const EVP_CIPHER* cipher_for(AeadAlgorithm algorithm) {
    switch (algorithm) {
        case AeadAlgorithm::chacha20_poly1305: {
            static EVP_CIPHER* const cipher =
                EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
            return cipher;
        }
        case AeadAlgorithm::aes256_gcm: {
            static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
            return cipher;
        }
    }
    return nullptr;
}

// The tag as a cipher parameter. Passed directly rather than through EVP_CIPHER_CTX_ctrl, which
// translates each call into the same parameter after a lookup of its own (per packet).
OSSL_PARAM tag_param(std::uint8_t* tag) {
    return OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kAeadTagSize);
}

void make_nonce(AeadAlgorithm algorithm, std::uint64_t n, std::uint8_t (&iv)[kNonceSize]) {
    std::memset(iv, 0, 4);
    for (int i = 0; i < 8; ++i) {
        const auto byte = static_cast<std::uint8_t>(n >> (8 * i));
        if (algorithm == AeadAlgorithm::chacha20_poly1305) {
            iv[4 + i] = byte;
        } else {
            iv[kNonceSize - 1 - i] = byte;
        }
    }
}

}  // namespace

Aead::Aead(AeadAlgorithm algorithm, const AeadKey& key) : algorithm_(algorithm) {
    const EVP_CIPHER* cipher = cipher_for(algorithm);
    if (cipher == nullptr) return;
    ctx_ = EVP_CIPHER_CTX_new();
    if (ctx_ == nullptr) return;
    // Both ciphers default to a 12-byte IV and a 16-byte tag, which is what Noise uses.
    if (EVP_CipherInit_ex2(ctx_, cipher, key.data(), nullptr, 1, nullptr) != 1) {
        EVP_CIPHER_CTX_free(ctx_);  // also cleanses the key schedule
        ctx_ = nullptr;
    }
}

Aead::~Aead() {
    EVP_CIPHER_CTX_free(ctx_);
}

Aead::Aead(Aead&& other) noexcept
    : algorithm_(other.algorithm_), ctx_(std::exchange(other.ctx_, nullptr)) {}

Aead& Aead::operator=(Aead&& other) noexcept {
    if (this != &other) {
        EVP_CIPHER_CTX_free(ctx_);
        algorithm_ = other.algorithm_;
        ctx_ = std::exchange(other.ctx_, nullptr);
    }
    return *this;
}

bool Aead::start(std::uint64_t nonce, int encrypt, ByteView ad) {
    if (ctx_ == nullptr || ad.size() > kMaxInput) return false;
    std::uint8_t iv[kNonceSize];
    make_nonce(algorithm_, nonce, iv);
    if (EVP_CipherInit_ex2(ctx_, nullptr, nullptr, iv, encrypt, nullptr) != 1) return false;
    int len = 0;
    return ad.empty() ||
           EVP_CipherUpdate(ctx_, nullptr, &len, ad.data(), static_cast<int>(ad.size())) == 1;
}

bool Aead::seal(std::uint64_t nonce, ByteView ad, ByteView plaintext, std::uint8_t* out) {
    if (out == nullptr || plaintext.size() > kMaxInput || !start(nonce, 1, ad)) return false;
    int len = 0;
    if (!plaintext.empty() && EVP_CipherUpdate(ctx_, out, &len, plaintext.data(),
                                               static_cast<int>(plaintext.size())) != 1) {
        return false;
    }
    int final_len = 0;
    if (EVP_CipherFinal_ex(ctx_, out + len, &final_len) != 1) return false;
    OSSL_PARAM params[] = {tag_param(out + plaintext.size()), OSSL_PARAM_END};
    return EVP_CIPHER_CTX_get_params(ctx_, params) == 1;
}

bool Aead::open(std::uint64_t nonce, ByteView ad, ByteView ciphertext, std::uint8_t* out) {
    if (ciphertext.size() < kAeadTagSize || ciphertext.size() > kMaxInput + kAeadTagSize) {
        return false;
    }
    const std::size_t body = ciphertext.size() - kAeadTagSize;
    if ((out == nullptr && body != 0) || !start(nonce, 0, ad)) return false;
    // Copied first: with in-place decryption the caller's buffer is being rewritten.
    std::uint8_t tag[kAeadTagSize];
    std::memcpy(tag, ciphertext.data() + body, kAeadTagSize);
    OSSL_PARAM params[] = {tag_param(tag), OSSL_PARAM_END};
    if (EVP_CIPHER_CTX_set_params(ctx_, params) != 1) return false;
    int len = 0;
    bool ok = body == 0 ||
              EVP_CipherUpdate(ctx_, out, &len, ciphertext.data(), static_cast<int>(body)) == 1;
    int final_len = 0;
    std::uint8_t unused[kAeadTagSize];
    ok = ok && EVP_CipherFinal_ex(ctx_, unused, &final_len) == 1;
    // Never hand unauthenticated plaintext to the caller.
    if (!ok && body != 0) OPENSSL_cleanse(out, body);
    return ok;
}

}  // namespace srmudp::crypto
