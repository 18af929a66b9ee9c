// Frame codec for DATA packet bodies. The ACK frame and its gap/range-length encoding follow
// RFC 9000 section 19.3 (ranges in 19.3.1); STREAM follows the offset/length bound of 19.8. The
// frame types and their numbering are srmudp's own (see frame.hpp).
#include "core/codec/frame.hpp"

#include <algorithm>
#include <cstring>

#include "core/codec/varint.hpp"

namespace srmudp::codec {
namespace {

std::error_code malformed() noexcept {
    return make_error_code(error::malformed_packet);
}

bool write_type(Writer& w, FrameType type) noexcept {
    return w.write_u8(static_cast<std::uint8_t>(type));
}

bool read_type(Reader& r, FrameType type) noexcept {
    std::uint8_t b = 0;
    return r.read_u8(b) && b == static_cast<std::uint8_t>(type);
}

// Runs decode on a copy of the reader and commits the copy only on success, so that a decoder
// that fails halfway consumes nothing.
template <typename Decode>
std::error_code decode_atomically(Reader& r, Decode&& decode) noexcept {
    Reader attempt = r;
    if (!decode(attempt)) return malformed();
    r = attempt;
    return {};
}

// Neighbouring ranges must leave at least one packet number unacknowledged between them, because
// the wire gap is (previous smallest - this largest - 2) and cannot be negative.
bool ack_ranges_valid(const std::vector<AckRange>& ranges) noexcept {
    if (ranges.empty() || ranges[0].largest > kVarintMax) return false;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (ranges[i].smallest > ranges[i].largest) return false;
        if (i == 0) continue;
        const std::uint64_t above = ranges[i - 1].smallest;
        if (ranges[i].largest >= above || above - ranges[i].largest < 2) return false;
    }
    return true;
}

std::uint64_t ack_gap(const std::vector<AckRange>& ranges, std::size_t i) noexcept {
    return ranges[i - 1].smallest - ranges[i].largest - 2;
}

std::uint64_t ack_range_length(const AckRange& range) noexcept {
    return range.largest - range.smallest;
}

// How many ranges, highest first, an ACK frame can carry in space bytes; 0 if not even the first.
std::size_t ack_ranges_that_fit(const AckFrame& ack, std::size_t space) noexcept {
    const AckRange& first = ack.ranges[0];
    const std::size_t fixed = 1 + varint_size(first.largest) + varint_size(ack.ack_delay_us) +
                              varint_size(ack_range_length(first));
    const std::size_t limit = std::min(ack.ranges.size(), kMaxAckRanges);
    std::size_t later_ranges = 0;
    std::size_t fitting = 0;
    // The total grows with every range added (range_count's varint included), so stop at the first
    // count that overflows.
    for (std::size_t count = 1; count <= limit; ++count) {
        if (count > 1) {
            later_ranges += varint_size(ack_gap(ack.ranges, count - 1)) +
                            varint_size(ack_range_length(ack.ranges[count - 1]));
        }
        if (fixed + varint_size(count - 1) + later_ranges > space) break;
        fitting = count;
    }
    return fitting;
}

bool decode_ack_fields(Reader& r, AckFrame& out) {
    std::uint64_t largest = 0, delay = 0, range_count = 0, first_range = 0;
    if (!read_type(r, FrameType::ack) || !decode_varint(r, largest) || !decode_varint(r, delay) ||
        !decode_varint(r, range_count) || !decode_varint(r, first_range)) {
        return false;
    }
    if (range_count >= kMaxAckRanges || first_range > largest) return false;
    out.ack_delay_us = delay;
    out.ranges.clear();
    out.ranges.reserve(static_cast<std::size_t>(range_count) + 1);
    out.ranges.push_back({largest - first_range, largest});
    for (std::uint64_t i = 0; i < range_count; ++i) {
        std::uint64_t gap = 0, length = 0;
        if (!decode_varint(r, gap) || !decode_varint(r, length)) return false;
        // largest = previous smallest - gap - 2, smallest = largest - length; neither may go below
        // 0.
        const std::uint64_t above = out.ranges.back().smallest;
        if (above < 2 || gap > above - 2) return false;
        const std::uint64_t range_largest = above - gap - 2;
        if (length > range_largest) return false;
        out.ranges.push_back({range_largest - length, range_largest});
    }
    return true;
}

bool decode_path_data(Reader& r, FrameType type, std::array<std::uint8_t, 8>& out) noexcept {
    ByteView bytes;
    if (!read_type(r, type) || !r.read_bytes(out.size(), bytes)) return false;
    std::memcpy(out.data(), bytes.data(), out.size());
    return true;
}

bool encode_path_data(Writer& w, FrameType type, const std::array<std::uint8_t, 8>& data) noexcept {
    if (w.remaining() < 1 + data.size()) return false;
    write_type(w, type);
    w.write_bytes(ByteView(data.data(), data.size()));
    return true;
}

// Decodes into out's current alternative if it already is a T, so its storage is reused.
template <typename T, typename Decode>
std::error_code decode_as(Reader& r, Frame& out, Decode decode) noexcept {
    T* frame = std::get_if<T>(&out);
    if (frame == nullptr) frame = &out.emplace<T>();
    return decode(r, *frame);
}

struct FrameEncoder {
    Writer& w;
    bool operator()(const PaddingFrame& f) const noexcept { return encode_padding(w, f.length); }
    bool operator()(const PingFrame&) const noexcept { return encode_ping_frame(w); }
    bool operator()(const AckFrame& f) const noexcept { return encode_ack_frame(w, f); }
    bool operator()(const MaxDataFrame& f) const noexcept { return encode_max_data_frame(w, f); }
    bool operator()(const CloseFrame& f) const noexcept { return encode_close_frame(w, f); }
    bool operator()(const PathChallengeFrame& f) const noexcept {
        return encode_path_challenge_frame(w, f);
    }
    bool operator()(const PathResponseFrame& f) const noexcept {
        return encode_path_response_frame(w, f);
    }
    bool operator()(const StreamFrame& f) const noexcept {
        return encode_stream_frame(w, f.offset, f.data);
    }
};

}  // namespace

bool operator==(const AckRange& a, const AckRange& b) noexcept {
    return a.smallest == b.smallest && a.largest == b.largest;
}
bool operator==(const PaddingFrame& a, const PaddingFrame& b) noexcept {
    return a.length == b.length;
}
bool operator==(const PingFrame&, const PingFrame&) noexcept {
    return true;
}
bool operator==(const AckFrame& a, const AckFrame& b) noexcept {
    return a.ack_delay_us == b.ack_delay_us && a.ranges == b.ranges;
}
bool operator==(const MaxDataFrame& a, const MaxDataFrame& b) noexcept {
    return a.maximum_data == b.maximum_data;
}
bool operator==(const CloseFrame& a, const CloseFrame& b) noexcept {
    return a.code == b.code && a.reason == b.reason;
}
bool operator==(const PathChallengeFrame& a, const PathChallengeFrame& b) noexcept {
    return a.data == b.data;
}
bool operator==(const PathResponseFrame& a, const PathResponseFrame& b) noexcept {
    return a.data == b.data;
}
bool operator==(const StreamFrame& a, const StreamFrame& b) noexcept {
    return a.offset == b.offset &&
           std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end());
}

bool encode_padding(Writer& w, std::size_t n) noexcept {
    return w.write_zeros(n);
}

std::error_code decode_padding_frame(Reader& r, PaddingFrame& out) noexcept {
    std::uint8_t b = 0;
    if (!r.peek_u8(b) || b != static_cast<std::uint8_t>(FrameType::padding)) return malformed();
    std::size_t length = 0;
    while (r.peek_u8(b) && b == 0) {
        r.skip(1);
        ++length;
    }
    out.length = length;
    return {};
}

bool encode_ping_frame(Writer& w) noexcept {
    return write_type(w, FrameType::ping);
}

std::error_code decode_ping_frame(Reader& r, PingFrame&) noexcept {
    return decode_atomically(r, [](Reader& in) { return read_type(in, FrameType::ping); });
}

bool encode_ack_frame(Writer& w, const AckFrame& ack) noexcept {
    if (!ack_ranges_valid(ack.ranges) || ack.ack_delay_us > kVarintMax) return false;
    const std::size_t count = ack_ranges_that_fit(ack, w.remaining());
    if (count == 0) return false;
    const AckRange& first = ack.ranges[0];
    write_type(w, FrameType::ack);
    encode_varint(w, first.largest);
    encode_varint(w, ack.ack_delay_us);
    encode_varint(w, count - 1);
    encode_varint(w, ack_range_length(first));
    for (std::size_t i = 1; i < count; ++i) {
        encode_varint(w, ack_gap(ack.ranges, i));
        encode_varint(w, ack_range_length(ack.ranges[i]));
    }
    return true;
}

std::error_code decode_ack_frame(Reader& r, AckFrame& out) noexcept {
    return decode_atomically(r, [&out](Reader& in) { return decode_ack_fields(in, out); });
}

bool encode_max_data_frame(Writer& w, const MaxDataFrame& f) noexcept {
    const std::size_t size = varint_size(f.maximum_data);
    if (size == 0 || w.remaining() < 1 + size) return false;
    write_type(w, FrameType::max_data);
    encode_varint(w, f.maximum_data);
    return true;
}

std::error_code decode_max_data_frame(Reader& r, MaxDataFrame& out) noexcept {
    return decode_atomically(r, [&out](Reader& in) {
        return read_type(in, FrameType::max_data) && decode_varint(in, out.maximum_data);
    });
}

bool encode_close_frame(Writer& w, const CloseFrame& f) noexcept {
    const std::size_t code_size = varint_size(f.code);
    if (code_size == 0 || f.reason.size() > kMaxCloseReason) return false;
    if (w.remaining() < 1 + code_size + varint_size(f.reason.size()) + f.reason.size()) {
        return false;
    }
    write_type(w, FrameType::close);
    encode_varint(w, f.code);
    encode_varint(w, f.reason.size());
    w.write_bytes(as_bytes(f.reason));
    return true;
}

std::error_code decode_close_frame(Reader& r, CloseFrame& out) noexcept {
    return decode_atomically(r, [&out](Reader& in) {
        std::uint64_t code = 0, length = 0;
        ByteView reason;
        if (!read_type(in, FrameType::close) || !decode_varint(in, code) ||
            !decode_varint(in, length) || length > kMaxCloseReason ||
            !in.read_bytes(static_cast<std::size_t>(length), reason)) {
            return false;
        }
        out.code = code;
        out.reason.assign(reinterpret_cast<const char*>(reason.data()), reason.size());
        return true;
    });
}

bool encode_path_challenge_frame(Writer& w, const PathChallengeFrame& f) noexcept {
    return encode_path_data(w, FrameType::path_challenge, f.data);
}

std::error_code decode_path_challenge_frame(Reader& r, PathChallengeFrame& out) noexcept {
    return decode_atomically(r, [&out](Reader& in) {
        return decode_path_data(in, FrameType::path_challenge, out.data);
    });
}

bool encode_path_response_frame(Writer& w, const PathResponseFrame& f) noexcept {
    return encode_path_data(w, FrameType::path_response, f.data);
}

std::error_code decode_path_response_frame(Reader& r, PathResponseFrame& out) noexcept {
    return decode_atomically(
        r, [&out](Reader& in) { return decode_path_data(in, FrameType::path_response, out.data); });
}

std::size_t stream_frame_overhead(std::uint64_t offset, std::size_t length) noexcept {
    return 1 + varint_size(offset) + varint_size(length);
}

std::size_t stream_frame_capacity(std::uint64_t offset, std::size_t space) noexcept {
    if (offset > kVarintMax) return 0;
    const std::uint64_t fixed = 1 + varint_size(offset);
    // Try each width of the length varint; the largest length that fits its width and the space
    // wins.
    static constexpr std::uint64_t kLengthWidths[] = {1, 2, 4, 8};
    std::uint64_t best = 0;
    for (std::uint64_t width : kLengthWidths) {
        if (space < fixed + width) break;
        const std::uint64_t width_max = width == 8 ? kVarintMax : (1ull << (8 * width - 2)) - 1;
        const std::uint64_t length =
            std::min({space - fixed - width, width_max, kMaxStreamEnd - offset});
        best = std::max(best, length);
    }
    return static_cast<std::size_t>(best);
}

bool encode_stream_frame(Writer& w, std::uint64_t offset, ByteView data) noexcept {
    MutableByteView space;
    if (!encode_stream_frame_in_place(w, offset, data.size(), space)) return false;
    if (!data.empty()) std::memcpy(space.data(), data.data(), data.size());
    return true;
}

bool encode_stream_frame_in_place(Writer& w, std::uint64_t offset, std::size_t length,
                                  MutableByteView& data) noexcept {
    if (offset > kVarintMax || length > kMaxStreamEnd - offset) return false;
    if (length > kVarintMax) return false;
    if (w.remaining() < stream_frame_overhead(offset, length) + length) return false;
    write_type(w, FrameType::stream);
    encode_varint(w, offset);
    encode_varint(w, length);
    data = w.claim(length);
    return true;
}

std::error_code decode_stream_frame(Reader& r, StreamFrame& out) noexcept {
    return decode_atomically(r, [&out](Reader& in) {
        std::uint64_t offset = 0, length = 0;
        if (!read_type(in, FrameType::stream) || !decode_varint(in, offset) ||
            !decode_varint(in, length) || length > kMaxStreamEnd - offset ||
            length > in.remaining()) {
            return false;
        }
        out.offset = offset;
        return in.read_bytes(static_cast<std::size_t>(length), out.data);
    });
}

bool encode_frame(Writer& w, const Frame& f) noexcept {
    return std::visit(FrameEncoder{w}, f);
}

std::error_code decode_frame(Reader& r, Frame& out) noexcept {
    std::uint8_t type = 0;
    if (!r.peek_u8(type)) return malformed();
    switch (static_cast<FrameType>(type)) {
        case FrameType::padding:
            return decode_as<PaddingFrame>(r, out, decode_padding_frame);
        case FrameType::ping:
            return decode_as<PingFrame>(r, out, decode_ping_frame);
        case FrameType::ack:
            return decode_as<AckFrame>(r, out, decode_ack_frame);
        case FrameType::max_data:
            return decode_as<MaxDataFrame>(r, out, decode_max_data_frame);
        case FrameType::close:
            return decode_as<CloseFrame>(r, out, decode_close_frame);
        case FrameType::path_challenge:
            return decode_as<PathChallengeFrame>(r, out, decode_path_challenge_frame);
        case FrameType::path_response:
            return decode_as<PathResponseFrame>(r, out, decode_path_response_frame);
        case FrameType::stream:
            return decode_as<StreamFrame>(r, out, decode_stream_frame);
    }
    return malformed();
}

bool is_ack_eliciting(const Frame& f) noexcept {
    return !std::holds_alternative<PaddingFrame>(f) && !std::holds_alternative<AckFrame>(f) &&
           !std::holds_alternative<CloseFrame>(f);
}

}  // namespace srmudp::codec
