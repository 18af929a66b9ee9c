// Anti-replay for 64-bit packet numbers: a sliding bitmap in the spirit of RFC 6479.
#pragma once

#include <array>
#include <cstdint>

namespace srmudp::crypto {

// Remembers which of the last kWindow packet numbers (counting back from the largest seen)
// were received. Anything older is refused, since it can no longer be told apart from a replay.
class ReplayWindow {
  public:
    static constexpr std::uint64_t kWindow = 2048;

    // True if pn has not been seen and pn > largest() - kWindow (always true when empty()).
    bool check(std::uint64_t pn) const;
    // Records pn as seen; call only after the packet authenticated. Returns false (and records
    // nothing) if check(pn) is false, so the two can be combined safely.
    bool mark(std::uint64_t pn);

    // The largest packet number marked; 0 when empty().
    std::uint64_t largest() const { return largest_; }
    bool empty() const { return empty_; }

  private:
    // One block more than the window needs: the window's oldest and newest blocks may be
    // partial, and sliding then clears whole blocks without touching live bits (RFC 6479).
    static constexpr std::uint64_t kBlockBits = 64;
    static constexpr std::uint64_t kBlocks = kWindow / kBlockBits + 1;

    bool is_set(std::uint64_t pn) const;
    void advance_to(std::uint64_t pn);

    std::array<std::uint64_t, kBlocks> bitmap_{};
    std::uint64_t largest_ = 0;
    bool empty_ = true;
};

}  // namespace srmudp::crypto
