// Path validation of RFC 9000 section 8.2 with the anti-amplification limit of section 8 (see
// path.hpp).
#include "core/conn/path.hpp"

#include <openssl/crypto.h>

namespace srmudp::conn {

void PathValidator::on_packet_from(const PeerAddress& from, std::size_t bytes, bool highest,
                                   Random& random) {
    if (candidate_ && *candidate_ == from) {
        received_ += bytes;
        return;
    }
    // A reordered older packet from elsewhere does not start anything.
    if (!highest) return;
    candidate_ = from;
    random.fill(MutableByteView(challenge_.data(), challenge_.size()));
    received_ = bytes;
    sent_ = 0;
    challenges_sent_ = 0;
    challenge_pending_ = true;
    retry_at_ = kNever;
}

std::size_t PathValidator::send_budget() const noexcept {
    const std::size_t allowed = kAmplificationFactor * received_;
    return allowed > sent_ ? allowed - sent_ : 0;
}

void PathValidator::on_challenge_sent(TimePoint now, std::size_t bytes, Duration timeout) {
    if (!candidate_) return;
    sent_ += bytes;
    challenge_pending_ = false;
    // Each repetition waits twice as long, like the PTO it is derived from.
    retry_at_ = now + timeout * (1 << challenges_sent_);
    ++challenges_sent_;
}

bool PathValidator::on_response(const PeerAddress& from, const PathData& data) {
    if (!candidate_ || *candidate_ != from || challenges_sent_ == 0) return false;
    if (CRYPTO_memcmp(data.data(), challenge_.data(), data.size()) != 0) return false;
    reset();
    return true;
}

TimePoint PathValidator::deadline() const noexcept {
    return candidate_ && !challenge_pending_ ? retry_at_ : kNever;
}

void PathValidator::on_timeout(TimePoint now) {
    if (!candidate_ || challenge_pending_ || now < retry_at_) return;
    if (challenges_sent_ >= kMaxPathChallenges) {
        reset();
    } else {
        challenge_pending_ = true;  // same bytes again: a late response to any copy still counts
    }
}

void PathValidator::reset() {
    candidate_.reset();
    challenge_.fill(0);
    received_ = 0;
    sent_ = 0;
    challenges_sent_ = 0;
    challenge_pending_ = false;
    retry_at_ = kNever;
}

}  // namespace srmudp::conn
