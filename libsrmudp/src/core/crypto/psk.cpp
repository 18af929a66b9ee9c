// Key string to psk. A 64-hex-digit key is used as is; anything else is treated as a
// passphrase and stretched with scrypt (RFC 7914) through OpenSSL's EVP_PBE_scrypt, with the
// fixed parameters in psk.hpp. scrypt costs ~100 ms and 32 MiB by design, so results live in a
// small LRU cache keyed by SHA-256 of the key string: the string itself is never kept.
#include "core/crypto/psk.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <mutex>

namespace srmudp::crypto {
namespace {

// 128 * r * N bytes for scrypt's V array plus its small buffers; OpenSSL's default limit of
// 32 MiB is just below what N = 2^15, r = 8 needs.
constexpr std::uint64_t kScryptMaxMemory = std::uint64_t{64} << 20;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// True and out set if key is exactly 2 * kPskSize hex digits.
bool decode_hex_key(std::string_view key, Psk& out) {
    if (key.size() != 2 * out.size()) return false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_value(key[2 * i]);
        const int lo = hex_value(key[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            OPENSSL_cleanse(out.data(), out.size());
            return false;
        }
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

bool scrypt(std::string_view passphrase, Psk& out) {
    return EVP_PBE_scrypt(passphrase.data(), passphrase.size(),
                          reinterpret_cast<const unsigned char*>(kScryptSalt.data()),
                          kScryptSalt.size(), kScryptN, kScryptR, kScryptP, kScryptMaxMemory,
                          out.data(), out.size()) == 1;
}

struct SharedCache {
    std::mutex mutex;
    PskCache cache{kPskCacheCapacity};
};

SharedCache& shared_cache() {
    static SharedCache instance;
    return instance;
}

}  // namespace

std::error_code derive_psk(std::string_view key, Psk& out) {
    if (key.empty()) return make_error_code(error::empty_key);
    if (decode_hex_key(key, out)) return {};

    Hash id = sha256(as_bytes(key));
    SharedCache& shared = shared_cache();
    {
        std::lock_guard<std::mutex> lock(shared.mutex);
        if (shared.cache.lookup(id, out)) {
            OPENSSL_cleanse(id.data(), id.size());
            return {};
        }
    }
    // Not under the lock: one slow derivation must not stall other keys. Two threads racing on
    // the same new key both compute it, which is harmless.
    const bool ok = scrypt(key, out);
    if (ok) {
        std::lock_guard<std::mutex> lock(shared.mutex);
        shared.cache.insert(id, out);
    } else {
        OPENSSL_cleanse(out.data(), out.size());
    }
    OPENSSL_cleanse(id.data(), id.size());
    return ok ? std::error_code() : make_error_code(error::crypto_failure);
}

// Reserved up front so entries never move: a reallocation would leave unwiped copies behind.
PskCache::PskCache(std::size_t capacity) : capacity_(capacity) {
    entries_.reserve(capacity);
}

PskCache::~PskCache() {
    for (Entry& e : entries_)
        OPENSSL_cleanse(&e, sizeof e);
}

PskCache::Entry* PskCache::find(const Hash& id) {
    for (Entry& e : entries_) {
        if (CRYPTO_memcmp(e.id.data(), id.data(), id.size()) == 0) return &e;
    }
    return nullptr;
}

bool PskCache::lookup(const Hash& id, Psk& out) {
    Entry* e = find(id);
    if (e == nullptr) return false;
    e->last_used = ++clock_;
    out = e->psk;
    return true;
}

void PskCache::insert(const Hash& id, const Psk& psk) {
    if (capacity_ == 0) return;
    Entry* e = find(id);
    if (e == nullptr && entries_.size() < capacity_) {
        e = &entries_.emplace_back();
    } else if (e == nullptr) {
        e = &*std::min_element(
            entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.last_used < b.last_used; });
        OPENSSL_cleanse(e, sizeof *e);
    }
    e->id = id;
    e->psk = psk;
    e->last_used = ++clock_;
}

}  // namespace srmudp::crypto
