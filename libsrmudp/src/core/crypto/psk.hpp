// The user's key string to the 32-byte Noise psk: 64 hex digits are taken as the key itself,
// anything else is a passphrase stretched with scrypt (RFC 7914).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/crypto/hash.hpp"
#include "core/crypto/noise.hpp"

namespace srmudp::crypto {

// scrypt parameters; changing any of them changes every derived psk (the salt names the
// version so a future change can be told apart).
inline constexpr std::uint64_t kScryptN = std::uint64_t{1} << 15;
inline constexpr std::uint32_t kScryptR = 8;
inline constexpr std::uint32_t kScryptP = 1;
inline constexpr std::string_view kScryptSalt = "srmudp psk v1";
inline constexpr std::size_t kPskCacheCapacity = 64;

// Derives the psk for key: exactly 64 hex digits (either case) are decoded and used directly;
// any other non-empty string goes through scrypt (N = 2^15, r = 8, p = 1, salt
// "srmudp psk v1"). Results are cached process-wide (64 entries, LRU) under SHA-256 of the key,
// so reconnects do not pay ~100 ms of scrypt again. Thread-safe; the key is never stored.
// Errors: empty_key, crypto_failure (scrypt failed, e.g. out of memory); out is then wiped.
std::error_code derive_psk(std::string_view key, Psk& out);

// The bounded least-recently-used map behind derive_psk (id = SHA-256 of the key string).
// Not thread-safe by itself; exposed for tests. Entries are wiped when evicted or destroyed.
class PskCache {
  public:
    explicit PskCache(std::size_t capacity);
    ~PskCache();
    PskCache(const PskCache&) = delete;
    PskCache& operator=(const PskCache&) = delete;

    // True and out set if id is cached; the entry becomes the most recently used.
    bool lookup(const Hash& id, Psk& out);
    // Stores (or refreshes) id -> psk, evicting the least recently used entry when full.
    void insert(const Hash& id, const Psk& psk);
    std::size_t size() const { return entries_.size(); }

  private:
    struct Entry {
        Hash id;
        Psk psk;
        std::uint64_t last_used;
    };
    Entry* find(const Hash& id);

    std::size_t capacity_;
    std::uint64_t clock_ = 0;
    std::vector<Entry> entries_;
};

}  // namespace srmudp::crypto
