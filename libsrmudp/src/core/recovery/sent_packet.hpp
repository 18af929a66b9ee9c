// What the sender remembers about each packet until it is acknowledged or declared lost
// (RFC 9002 Appendix A.1.1), plus what it carried so the connection can repair a loss.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "srmudp/time.hpp"

namespace srmudp::recovery {

// Stream bytes [offset, offset + length) carried in one STREAM frame.
struct StreamRange {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct SentPacket {
    std::uint64_t packet_number = 0;
    TimePoint time_sent{};
    // UDP payload size, counted in bytes_in_flight when in_flight.
    std::size_t bytes = 0;
    // Carries a frame other than PADDING, ACK or CLOSE: the peer must acknowledge it.
    bool ack_eliciting = false;
    // Counts against the congestion window (ack-eliciting or padded); ACK-only packets do not.
    bool in_flight = false;

    // Content to repair if the packet is lost; filled in by the connection.
    std::vector<StreamRange> stream;
    bool max_data = false;
    bool ping = false;
    bool close = false;
    // The largest packet number acknowledged by an ACK frame in this packet: once this packet is
    // acknowledged, the peer knows it, and AckTracker::on_ack_frame_acked can forget older ranges.
    std::uint64_t largest_acked_in_ack = 0;
    bool carried_ack = false;
    std::array<std::uint8_t, 8> path_response{};
    bool has_path_response = false;
};

}  // namespace srmudp::recovery
