// Seed derivation for the simulator. Every random choice of a run (link losses, host keys,
// message sizes and contents) comes from a generator whose seed is derived from the scenario
// seed and a label naming its purpose, so changing one part of a scenario does not shift the
// random choices of every other part.
#pragma once

#include <cstdint>

namespace srmudp::netsim {

// The SplitMix64 finaliser (Steele, Lea, Flood: "Fast splittable pseudorandom number
// generators", OOPSLA 2014): a bijective mix with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// A seed for the sub-generator `label` (and an optional index) of a run seeded with `seed`.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t label,
                                    std::uint64_t index = 0) noexcept {
    return mix64(mix64(mix64(seed) ^ label) ^ index);
}

// Labels for derive_seed: one per consumer of randomness.
enum SeedLabel : std::uint64_t {
    kSeedNetwork = 0x6E6574,   // "net"
    kSeedHost = 0x686F7374,    // "host"
    kSeedStream = 0x7374726D,  // "strm"
    kSeedLink = 0x6C696E6B,    // "link"
};

// Uniform doubles in [0, 1) from 64 random bits: the top 53 bits scaled, which unlike
// std::uniform_real_distribution gives the same values with every standard library.
constexpr double unit_interval(std::uint64_t bits) noexcept {
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

}  // namespace srmudp::netsim
