#include "srmudp/random.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace srmudp {
namespace {

class SystemRandom final : public Random {
  public:
    void fill(MutableByteView out) override {
        // RAND_bytes only fails when the OS entropy source is gone; continuing with
        // predictable bytes would be worse than stopping.
        if (!out.empty() && RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
    }
};

}  // namespace

Random& system_random() {
    static SystemRandom instance;
    return instance;
}

SeededRandom::SeededRandom(std::uint64_t seed) {
    std::memset(key_, 0, sizeof key_);
    for (int i = 0; i < 8; ++i)
        key_[i] = static_cast<std::uint8_t>(seed >> (8 * i));
}

void SeededRandom::fill(MutableByteView out) {
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                        &EVP_CIPHER_CTX_free);
    // The 16-byte ChaCha20 IV is a 32-bit block counter followed by the nonce; each call uses
    // a fresh nonce so no keystream is ever reused.
    std::uint8_t iv[16] = {};
    for (int i = 0; i < 8; ++i)
        iv[8 + i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
    ++counter_;
    std::memset(out.data(), 0, out.size());
    int len = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_chacha20(), nullptr, key_, iv) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data(), &len, out.data(), static_cast<int>(out.size())) !=
            1) {
        std::abort();
    }
}

}  // namespace srmudp
