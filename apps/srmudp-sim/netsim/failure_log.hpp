// A bounded list of what went wrong in a simulation run, shared by every part that checks
// something. It keeps the first entries in full and only counts the rest, so a broken stream that
// fails on every message cannot exhaust memory.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace srmudp::netsim {

class FailureLog {
  public:
    explicit FailureLog(std::size_t max_kept = 32) : max_kept_(max_kept) {}

    void add(std::string description) {
        ++total_;
        if (entries_.size() < max_kept_) entries_.push_back(std::move(description));
    }
    bool empty() const noexcept { return total_ == 0; }
    // Every failure reported, including those not kept.
    std::size_t total() const noexcept { return total_; }
    const std::vector<std::string>& entries() const noexcept { return entries_; }

  private:
    std::size_t max_kept_;
    std::size_t total_ = 0;
    std::vector<std::string> entries_;
};

}  // namespace srmudp::netsim
