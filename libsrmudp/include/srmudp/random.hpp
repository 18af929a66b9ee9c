// Source of randomness for the protocol core (ephemeral keys, connection IDs).
//
// The core never calls a random number generator on its own: it asks the Random it was given.
// Production code uses system_random() (OpenSSL's CSPRNG); the simulator passes a seeded
// deterministic generator so that every run of a scenario is identical.
#pragma once

#include <cstdint>

#include "srmudp/bytes.hpp"

namespace srmudp {

class Random {
  public:
    virtual ~Random() = default;
    // Fills out with random bytes.
    virtual void fill(MutableByteView out) = 0;

    std::uint64_t next_u64() {
        std::uint8_t b[8];
        fill(MutableByteView(b, sizeof b));
        std::uint64_t v = 0;
        for (std::uint8_t x : b)
            v = (v << 8) | x;
        return v;
    }
};

// The process-wide cryptographically secure generator (OpenSSL RAND_bytes).
Random& system_random();

// A deterministic generator for tests and simulation only (never for real keys): ChaCha20
// keystream from a 64-bit seed.
class SeededRandom final : public Random {
  public:
    explicit SeededRandom(std::uint64_t seed);
    void fill(MutableByteView out) override;

  private:
    std::uint8_t key_[32];
    std::uint64_t counter_ = 0;
};

}  // namespace srmudp
