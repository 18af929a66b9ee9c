// Frames carried in the body of an authenticated DATA packet.
//
// Each frame is one type byte followed by its fields, varints (RFC 9000 section 16) unless noted:
//   0x00 PADDING        a run of zero bytes, decoded as one frame
//   0x01 PING           no fields; elicits an ACK
//   0x02 ACK            largest_acked, ack_delay (us), range_count, first_range,
//                       range_count x (gap, range_length)  -- RFC 9000 section 19.3.1
//   0x04 MAX_DATA       maximum_data: absolute stream offset up to which the peer may send
//   0x05 CLOSE          code, reason_length (<= kMaxCloseReason), reason bytes
//   0x06 PATH_CHALLENGE 8 raw bytes
//   0x07 PATH_RESPONSE  8 raw bytes
//   0x08 STREAM         offset, length, data; offset + length <= 2^62
// Encoders return false and write nothing if the frame is invalid or does not fit. Decoders read
// the type byte too, return error::malformed_packet on truncation, an unexpected type byte or an
// invalid field, and consume nothing on error (the output frame is then unspecified).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/codec/buffer.hpp"
#include "srmudp/bytes.hpp"
#include "srmudp/error.hpp"

namespace srmudp::codec {

enum class FrameType : std::uint8_t {
    padding = 0x00,
    ping = 0x01,
    ack = 0x02,
    max_data = 0x04,
    close = 0x05,
    path_challenge = 0x06,
    path_response = 0x07,
    stream = 0x08,
};

// At most this many ranges (first range included) in one ACK frame, in both directions.
inline constexpr std::size_t kMaxAckRanges = 256;
inline constexpr std::size_t kMaxCloseReason = 512;
// Bound on the end of stream data (offset + length), as in RFC 9000 section 19.8.
inline constexpr std::uint64_t kMaxStreamEnd = 1ull << 62;

struct AckRange {
    std::uint64_t smallest;
    std::uint64_t largest;
};

// length counts every zero byte of the run, including the type byte.
struct PaddingFrame {
    std::size_t length = 0;
};
struct PingFrame {};
// ranges: descending, non-overlapping, non-adjacent; ranges[0].largest is the largest acked.
struct AckFrame {
    std::uint64_t ack_delay_us = 0;
    std::vector<AckRange> ranges;
};
struct MaxDataFrame {
    std::uint64_t maximum_data = 0;
};
struct CloseFrame {
    std::uint64_t code = 0;
    std::string reason;
};
struct PathChallengeFrame {
    std::array<std::uint8_t, 8> data{};
};
struct PathResponseFrame {
    std::array<std::uint8_t, 8> data{};
};
// data points into the decoded packet; it is valid only as long as that buffer.
struct StreamFrame {
    std::uint64_t offset = 0;
    ByteView data;
};

using Frame = std::variant<PaddingFrame, PingFrame, AckFrame, MaxDataFrame, CloseFrame,
                           PathChallengeFrame, PathResponseFrame, StreamFrame>;

// Value equality (stream data compared by content), for tests and fuzzers.
bool operator==(const AckRange& a, const AckRange& b) noexcept;
bool operator==(const PaddingFrame& a, const PaddingFrame& b) noexcept;
bool operator==(const PingFrame& a, const PingFrame& b) noexcept;
bool operator==(const AckFrame& a, const AckFrame& b) noexcept;
bool operator==(const MaxDataFrame& a, const MaxDataFrame& b) noexcept;
bool operator==(const CloseFrame& a, const CloseFrame& b) noexcept;
bool operator==(const PathChallengeFrame& a, const PathChallengeFrame& b) noexcept;
bool operator==(const PathResponseFrame& a, const PathResponseFrame& b) noexcept;
bool operator==(const StreamFrame& a, const StreamFrame& b) noexcept;
inline bool operator!=(const AckRange& a, const AckRange& b) noexcept {
    return !(a == b);
}
inline bool operator!=(const PaddingFrame& a, const PaddingFrame& b) noexcept {
    return !(a == b);
}
inline bool operator!=(const PingFrame& a, const PingFrame& b) noexcept {
    return !(a == b);
}
inline bool operator!=(const AckFrame& a, const AckFrame& b) noexcept {
    return !(a == b);
}
inline bool operator!=(const MaxDataFrame& a, const MaxDataFrame& b) noexcept {
    return !(a == b);
}
inline bool operator!=(const CloseFrame& a, const CloseFrame& b) noexcept {
    return !(a == b);
}
inline bool operator!=(const PathChallengeFrame& a, const PathChallengeFrame& b) noexcept {
    return !(a == b);
}
inline bool operator!=(const PathResponseFrame& a, const PathResponseFrame& b) noexcept {
    return !(a == b);
}
inline bool operator!=(const StreamFrame& a, const StreamFrame& b) noexcept {
    return !(a == b);
}

// n zero bytes (n == 0 writes nothing and succeeds); false if they do not fit.
bool encode_padding(Writer& w, std::size_t n) noexcept;
// A run of one or more zero bytes; consumes all consecutive zeros.
std::error_code decode_padding_frame(Reader& r, PaddingFrame& out) noexcept;

bool encode_ping_frame(Writer& w) noexcept;
std::error_code decode_ping_frame(Reader& r, PingFrame& out) noexcept;

// Writes as many of the highest ranges as fit (at most kMaxAckRanges); false only if not even the
// first range fits, or if the frame is invalid (no ranges, ranges not descending/non-adjacent,
// smallest > largest, a value above kVarintMax).
bool encode_ack_frame(Writer& w, const AckFrame& ack) noexcept;
// Also malformed: a range reaching below packet number 0, or more than kMaxAckRanges ranges.
std::error_code decode_ack_frame(Reader& r, AckFrame& out) noexcept;

// False if maximum_data > kVarintMax or it does not fit.
bool encode_max_data_frame(Writer& w, const MaxDataFrame& f) noexcept;
std::error_code decode_max_data_frame(Reader& r, MaxDataFrame& out) noexcept;

// False if the reason is longer than kMaxCloseReason, code > kVarintMax, or it does not fit.
bool encode_close_frame(Writer& w, const CloseFrame& f) noexcept;
// Also malformed: reason_length > kMaxCloseReason.
std::error_code decode_close_frame(Reader& r, CloseFrame& out) noexcept;

bool encode_path_challenge_frame(Writer& w, const PathChallengeFrame& f) noexcept;
std::error_code decode_path_challenge_frame(Reader& r, PathChallengeFrame& out) noexcept;
bool encode_path_response_frame(Writer& w, const PathResponseFrame& f) noexcept;
std::error_code decode_path_response_frame(Reader& r, PathResponseFrame& out) noexcept;

// Bytes of a STREAM frame other than its data: type byte and the offset and length varints.
std::size_t stream_frame_overhead(std::uint64_t offset, std::size_t length) noexcept;
// The most data bytes a STREAM frame at offset can carry in space bytes; 0 if none fit.
std::size_t stream_frame_capacity(std::uint64_t offset, std::size_t space) noexcept;
// False if offset + data.size() > kMaxStreamEnd or it does not fit.
bool encode_stream_frame(Writer& w, std::uint64_t offset, ByteView data) noexcept;
// The same frame written in place: writes everything but the data and sets `data` to the
// `length` bytes reserved for it, which the caller must fill. False, with nothing written, on
// the same failures as encode_stream_frame().
bool encode_stream_frame_in_place(Writer& w, std::uint64_t offset, std::size_t length,
                                  MutableByteView& data) noexcept;
// out.data views the reader's input. Also malformed: offset + length > kMaxStreamEnd.
std::error_code decode_stream_frame(Reader& r, StreamFrame& out) noexcept;

// Encodes any frame with the encoder of its type (ACK frames may be truncated as above).
bool encode_frame(Writer& w, const Frame& f) noexcept;
// Decodes the next frame, dispatching on its type byte; an unknown type byte is malformed. Storage
// of an AckFrame or CloseFrame already held by out is reused.
std::error_code decode_frame(Reader& r, Frame& out) noexcept;

// True for frames the receiver must acknowledge: all except PADDING, ACK and CLOSE.
bool is_ack_eliciting(const Frame& f) noexcept;

// Decodes all frames of a packet body in order and calls on_frame(const Frame&) for each. Stops
// at the first decoding error and returns it (error::malformed_packet); an empty body is
// malformed, since a packet carries at least one frame. If on_frame returns std::error_code, a
// non-zero value stops the walk and is returned. Frames seen before an error were already handed
// to on_frame: a caller that must reject the whole packet should collect first, then act.
template <typename F>
std::error_code for_each_frame(ByteView body, Frame& frame, F&& on_frame) {
    if (body.empty()) return error::malformed_packet;
    Reader r(body);
    while (!r.empty()) {
        if (std::error_code ec = decode_frame(r, frame)) return ec;
        const Frame& view = frame;
        if constexpr (std::is_same_v<std::invoke_result_t<F&, const Frame&>, std::error_code>) {
            if (std::error_code ec = on_frame(view)) return ec;
        } else {
            on_frame(view);
        }
    }
    return {};
}

// The same with a frame of its own. The overload above lets a caller keep one Frame across
// packets, so that an ACK frame's ranges reuse their storage.
template <typename F>
std::error_code for_each_frame(ByteView body, F&& on_frame) {
    Frame frame;
    return for_each_frame(body, frame, std::forward<F>(on_frame));
}

}  // namespace srmudp::codec
