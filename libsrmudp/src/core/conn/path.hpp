// Path validation for connection migration (RFC 9000 sections 8.2 and 9), as srmudp needs it for
// NAT rebinding: the peer's packets start arriving from a new address.
//
// When an authenticated packet with the largest packet number so far comes from an address
// other than the peer's, the connection keeps sending on the old path but starts validating the
// new one: it sends a PATH_CHALLENGE with 8 unpredictable bytes to the new address, and switches
// the peer address only when a PATH_RESPONSE carrying the same bytes comes back from it. Until
// then it sends the new address at most kAmplificationFactor times the bytes it received from
// there (RFC 9000 section 8, anti-amplification), so a forged source address cannot turn the
// connection against a third party. Unanswered challenges are repeated kMaxPathChallenges
// times, each after a doubling timeout, then the attempt is abandoned.
//
// Call on_packet_from() for each authenticated packet not from the peer address,
// challenge_due() / on_challenge_sent() while building packets, on_response() for each
// PATH_RESPONSE frame, and on_timeout() when deadline() has passed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "srmudp/address.hpp"
#include "srmudp/random.hpp"
#include "srmudp/time.hpp"

namespace srmudp::conn {

// RFC 9000 section 8: at most three times the bytes received from an unvalidated address.
inline constexpr std::size_t kAmplificationFactor = 3;
// PATH_CHALLENGE frames sent for one address before it is given up.
inline constexpr unsigned kMaxPathChallenges = 3;

using PathData = std::array<std::uint8_t, 8>;

class PathValidator {
  public:
    // An authenticated packet of `bytes` came from `from`, which differs from the peer address.
    // highest: it carried the largest packet number received so far (RFC 9000 section 9.3: only
    // then may it move the connection). Starts validating `from` with a fresh challenge unless
    // that address is already being validated; every packet from it adds to its budget.
    void on_packet_from(const PeerAddress& from, std::size_t bytes, bool highest, Random& random);

    bool validating() const noexcept { return candidate_.has_value(); }
    // The address being validated; requires validating().
    const PeerAddress& candidate() const { return *candidate_; }
    const PathData& challenge() const noexcept { return challenge_; }
    // True when a PATH_CHALLENGE should go to candidate() (as soon as the budget allows).
    bool challenge_due() const noexcept { return candidate_ && challenge_pending_; }
    // Bytes that may still be sent to candidate() before more arrive from it.
    std::size_t send_budget() const noexcept;
    // A datagram of `bytes` carrying the challenge went to candidate(); retry after `timeout`
    // (doubled for each repetition).
    void on_challenge_sent(TimePoint now, std::size_t bytes, Duration timeout);

    // A PATH_RESPONSE with `data` arrived from `from`: true if it validates candidate(), which
    // the caller then adopts as the peer address (the validator is reset).
    bool on_response(const PeerAddress& from, const PathData& data);

    // When the challenge sent last times out; kNever when not validating or a challenge is due.
    TimePoint deadline() const noexcept;
    // A timed-out challenge is due again, or, after kMaxPathChallenges, the candidate is given up.
    void on_timeout(TimePoint now);
    // Forgets the candidate (the connection moved, or its session ended).
    void reset();

  private:
    std::optional<PeerAddress> candidate_;
    PathData challenge_{};
    std::size_t received_ = 0;  // bytes received from the candidate
    std::size_t sent_ = 0;      // bytes sent to the candidate
    unsigned challenges_sent_ = 0;
    bool challenge_pending_ = false;
    TimePoint retry_at_ = kNever;
};

}  // namespace srmudp::conn
