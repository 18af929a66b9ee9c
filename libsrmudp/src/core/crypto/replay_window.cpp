// Sliding-window anti-replay after RFC 6479 ("IPsec Anti-Replay Algorithm without Bit
// Shifting"): the window is a ring of 64-bit blocks indexed by pn / 64; moving the window
// forward only clears the blocks it enters instead of shifting the whole bitmap.
#include "core/crypto/replay_window.hpp"

namespace srmudp::crypto {

static_assert(ReplayWindow::kWindow % 64 == 0, "the window must be whole blocks");

bool ReplayWindow::is_set(std::uint64_t pn) const {
    const std::uint64_t block = bitmap_[(pn / kBlockBits) % kBlocks];
    return (block >> (pn % kBlockBits)) & 1U;
}

bool ReplayWindow::check(std::uint64_t pn) const {
    if (empty_ || pn > largest_) return true;
    if (largest_ - pn >= kWindow) return false;
    return !is_set(pn);
}

void ReplayWindow::advance_to(std::uint64_t pn) {
    const std::uint64_t old_block = largest_ / kBlockBits;
    const std::uint64_t new_block = pn / kBlockBits;
    if (empty_ || new_block - old_block >= kBlocks) {
        bitmap_.fill(0);
    } else {
        for (std::uint64_t b = old_block + 1; b <= new_block; ++b)
            bitmap_[b % kBlocks] = 0;
    }
    largest_ = pn;
    empty_ = false;
}

bool ReplayWindow::mark(std::uint64_t pn) {
    if (!check(pn)) return false;
    if (empty_ || pn > largest_) advance_to(pn);
    bitmap_[(pn / kBlockBits) % kBlocks] |= std::uint64_t{1} << (pn % kBlockBits);
    return true;
}

}  // namespace srmudp::crypto
