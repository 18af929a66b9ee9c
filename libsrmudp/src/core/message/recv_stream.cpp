// Receive side of the message stream: reassembly of one ordered byte stream from STREAM frames
// with connection-level flow control, after QUIC (RFC 9000 section 2.2 for reassembly at
// offsets, section 4 for flow control and section 4.1 for MAX_DATA), then cutting the stream into
// messages at their record headers.
#include "core/message/recv_stream.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>

#include "srmudp/error.hpp"

namespace srmudp::message {

RecvStream::RecvStream(std::size_t max_message_size, std::size_t window)
    : max_message_size_(max_message_size),
      window_(window),
      max_data_(window),
      max_data_sent_(window) {}

std::error_code RecvStream::on_stream_data(std::uint64_t offset, ByteView data) {
    if (stream_error_) return stream_error_;
    if (offset > std::numeric_limits<std::uint64_t>::max() - data.size() ||
        offset + data.size() > max_data_) {
        return error::protocol_violation;
    }
    bytes_received_ += data.size();
    const std::uint64_t end = offset + data.size();
    if (end <= contiguous_offset_) {
        duplicate_bytes_ += data.size();
        return {};
    }
    if (offset < contiguous_offset_) {
        const auto seen = static_cast<std::size_t>(contiguous_offset_ - offset);
        duplicate_bytes_ += seen;
        data = data.subspan(seen);
        offset = contiguous_offset_;
    }
    if (offset == contiguous_offset_) {
        // In-order bytes skip the out-of-order buffer up to the first byte it already holds.
        const std::uint64_t limit =
            out_of_order_.empty() ? end : std::min(end, out_of_order_.begin()->first);
        const auto n = static_cast<std::size_t>(limit - offset);
        if (auto ec = consume(data.first(n))) return ec;
        data = data.subspan(n);
        offset += n;
    }
    if (!data.empty()) duplicate_bytes_ += data.size() - insert_out_of_order(offset, data);
    return drain_out_of_order();
}

std::size_t RecvStream::insert_out_of_order(std::uint64_t offset, ByteView data) {
    const std::uint64_t end = offset + data.size();
    std::uint64_t cursor = offset;
    std::size_t inserted = 0;
    auto it = out_of_order_.upper_bound(offset);
    if (it != out_of_order_.begin()) {
        const auto prev = std::prev(it);
        cursor = std::max(cursor, prev->first + prev->second.size());
    }
    // Store only the gaps between the pieces already held, so pieces never overlap.
    while (cursor < end) {
        const std::uint64_t gap_end = it == out_of_order_.end() ? end : std::min(end, it->first);
        if (gap_end > cursor) {
            const auto from = static_cast<std::size_t>(cursor - offset);
            const auto n = static_cast<std::size_t>(gap_end - cursor);
            out_of_order_.emplace_hint(it, cursor, to_bytes(data.subspan(from, n)));
            inserted += n;
        }
        if (it == out_of_order_.end() || it->first >= end) break;
        cursor = std::max(cursor, it->first + it->second.size());
        ++it;
    }
    out_of_order_bytes_ += inserted;
    return inserted;
}

std::error_code RecvStream::drain_out_of_order() {
    while (!out_of_order_.empty() && out_of_order_.begin()->first == contiguous_offset_) {
        auto node = out_of_order_.extract(out_of_order_.begin());
        out_of_order_bytes_ -= node.mapped().size();
        if (auto ec = consume(ByteView(node.mapped()))) return ec;
    }
    return {};
}

std::error_code RecvStream::consume(ByteView in_order) {
    std::size_t pos = 0;
    while (pos < in_order.size()) {
        if (!in_body_) {
            pos += consume_header(in_order.subspan(pos));
            if (stream_error_) return stream_error_;
            if (in_body_ && body_remaining_ == 0) complete_message();
            continue;
        }
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(body_remaining_, in_order.size() - pos));
        partial_.data.insert(partial_.data.end(), in_order.begin() + pos,
                             in_order.begin() + pos + n);
        pos += n;
        body_remaining_ -= n;
        if (body_remaining_ == 0) complete_message();
    }
    contiguous_offset_ += in_order.size();
    update_max_data();
    return {};
}

std::size_t RecvStream::consume_header(ByteView in) {
    std::size_t taken = 0;
    if (header_length_ == 0) header_[header_length_++] = in[taken++];
    const std::size_t need = record_header_size_from_first_byte(header_[0]);
    const std::size_t n = std::min(need - header_length_, in.size() - taken);
    std::memcpy(header_ + header_length_, in.data() + taken, n);
    header_length_ += n;
    taken += n;
    if (header_length_ < need) return taken;

    RecordHeader header;
    decode_record_header(ByteView(header_, header_length_), header);
    if (header.message_size > max_message_size_) {
        stream_error_ = error::peer_message_too_large;
    } else {
        partial_.kind = header.kind;
        body_remaining_ = header.message_size;
        in_body_ = true;
        // One allocation for the whole message instead of a growing vector that copies what it
        // holds at each doubling. Bounded by the window: the peer cannot send more than that
        // before we credit it, so an announced size alone claims no more memory than data would.
        partial_.data.reserve(
            static_cast<std::size_t>(std::min<std::uint64_t>(header.message_size, window_)));
    }
    return taken;
}

void RecvStream::complete_message() {
    const std::size_t record_size = header_length_ + partial_.data.size();
    ready_data_bytes_ += partial_.data.size();
    ready_record_bytes_ += record_size;
    ready_.push_back(ReadyMessage{std::move(partial_), record_size});
    partial_ = Message{};
    header_length_ = 0;
    in_body_ = false;
}

std::optional<Message> RecvStream::pop_message() {
    if (ready_.empty()) return std::nullopt;
    ReadyMessage ready = std::move(ready_.front());
    ready_.pop_front();
    ready_data_bytes_ -= ready.message.data.size();
    ready_record_bytes_ -= ready.record_size;
    update_max_data();
    return std::move(ready.message);
}

void RecvStream::update_max_data() noexcept {
    // Credited = popped bytes + the record being assembled; ready messages hold their credit back.
    const std::uint64_t credited = contiguous_offset_ - ready_record_bytes_;
    const std::uint64_t room = std::numeric_limits<std::uint64_t>::max() - credited;
    max_data_ = std::max(max_data_, window_ > room ? credited + room : credited + window_);
}

bool RecvStream::should_send_max_data() const noexcept {
    const std::uint64_t step = std::max<std::uint64_t>(1, window_ / 4);
    return max_data_ >= max_data_sent_ && max_data_ - max_data_sent_ >= step;
}

void RecvStream::on_max_data_sent(std::uint64_t value) noexcept {
    max_data_sent_ = std::max(max_data_sent_, value);
}

std::size_t RecvStream::buffered_bytes() const noexcept {
    return out_of_order_bytes_ + ready_data_bytes_ + partial_.data.size() + header_length_;
}

}  // namespace srmudp::message
