// Send side of the message stream: a retransmission buffer over one ordered byte stream, in the
// manner of a QUIC stream's send buffer (RFC 9000 sections 2-4 and 13.3: lost stream data is
// resent at its original offsets, flow control limits the highest offset sent). Records live in a
// deque sorted by stream offset so the record holding any offset is found by binary search.
#include "core/message/send_stream.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/message/record_header.hpp"
#include "srmudp/error.hpp"

namespace srmudp::message {

namespace {

// offset + length, saturated instead of wrapping.
std::uint64_t range_end(std::uint64_t offset, std::uint64_t length) noexcept {
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    return length > max - offset ? max : offset + length;
}

}  // namespace

SendStream::SendStream(std::size_t max_message_size, std::size_t send_buffer_limit,
                       MessageId first_id)
    : max_message_size_(static_cast<std::size_t>(
          std::min<std::uint64_t>(max_message_size, kMaxRecordMessageSize))),
      send_buffer_limit_(send_buffer_limit),
      next_id_(std::max<MessageId>(first_id, 1)) {}

std::error_code SendStream::push(MessageKind kind, ByteView data, MessageId& id) {
    if (closed_) return error::connection_closed;
    if (data.size() > max_message_size_) return error::message_too_large;
    const std::size_t header_size = record_header_size(data.size());
    const std::size_t record_size = header_size + data.size();
    if (!records_.empty() && buffered_bytes_ + record_size > send_buffer_limit_) {
        return error::send_buffer_full;
    }
    Record record;
    record.id = next_id_++;
    record.start = next_offset_;
    // Each message byte is written once: no zero-fill of the buffer before the copy.
    std::uint8_t header[kMaxRecordHeaderSize];
    encode_record_header(RecordHeader{kind, data.size()}, MutableByteView(header, header_size));
    if (!spare_.empty()) {
        // A spare more than twice the record's size would hold memory the buffer limit does
        // not count; it is freed instead, so the spares follow the sizes being sent.
        Bytes spare = std::move(spare_.back());
        spare_.pop_back();
        spare_bytes_ -= spare.capacity();
        if (spare.capacity() >= record_size && spare.capacity() / 2 <= record_size) {
            record.bytes = std::move(spare);
        }
    }
    record.bytes.reserve(record_size);
    record.bytes.assign(header, header + header_size);
    record.bytes.insert(record.bytes.end(), data.begin(), data.end());
    next_offset_ += record_size;
    buffered_bytes_ += record_size;
    id = record.id;
    records_.push_back(std::move(record));
    return {};
}

bool SendStream::has_data_to_send(std::uint64_t peer_max_data) const {
    if (!lost_.empty() && lost_.first().begin < peer_max_data) return true;
    return send_offset_ < next_offset_ && send_offset_ < peer_max_data;
}

bool SendStream::blocked_by_flow_control(std::uint64_t peer_max_data) const noexcept {
    return send_offset_ < next_offset_ && send_offset_ >= peer_max_data;
}

Chunk SendStream::next_chunk(std::uint64_t peer_max_data, std::size_t max_len, std::uint8_t* out) {
    const Chunk chunk = take_chunk(peer_max_data, max_len);
    if (chunk.length > 0) copy_chunk(chunk, out);
    return chunk;
}

Chunk SendStream::take_chunk(std::uint64_t peer_max_data, std::size_t max_len) {
    if (max_len == 0) return {};
    const bool resend = !lost_.empty();
    // Lost ranges go first: they hold back delivery of everything after them.
    const std::uint64_t begin = resend ? lost_.first().begin : send_offset_;
    const std::uint64_t end = resend ? lost_.first().end : next_offset_;
    if (begin >= end || begin >= peer_max_data) return {};
    const std::uint64_t length =
        std::min({end - begin, peer_max_data - begin, static_cast<std::uint64_t>(max_len)});
    const Chunk chunk{begin, static_cast<std::size_t>(length)};
    if (resend) {
        lost_.remove(begin, begin + length);
        bytes_retransmitted_ += length;
    } else {
        send_offset_ += length;
    }
    bytes_sent_ += length;
    return chunk;
}

void SendStream::copy_range(std::uint64_t offset, std::size_t length, std::uint8_t* out) const {
    // The last record starting at or before `offset` holds it.
    auto it = std::upper_bound(records_.begin(), records_.end(), offset,
                               [](std::uint64_t o, const Record& r) { return o < r.start; });
    --it;
    while (length > 0) {
        const std::size_t from = static_cast<std::size_t>(offset - it->start);
        const std::size_t n = std::min(length, it->bytes.size() - from);
        std::memcpy(out, it->bytes.data() + from, n);
        out += n;
        offset += n;
        length -= n;
        ++it;
    }
}

void SendStream::on_acked(std::uint64_t offset, std::uint64_t length) {
    if (closed_) return;
    const std::uint64_t end = std::min(range_end(offset, length), send_offset_);
    if (offset >= end) return;
    lost_.remove(offset, end);
    acked_.add(std::max(offset, delivered_offset_), end);
    if (!acked_.empty() && acked_.first().begin <= delivered_offset_) {
        const Range front = acked_.first();
        acked_.remove(front.begin, front.end);
        delivered_offset_ = front.end;
        release_delivered();
    }
}

void SendStream::release_delivered() {
    while (!records_.empty() && records_.front().end() <= delivered_offset_) {
        Record& front = records_.front();
        delivered_.push_back(front.id);
        buffered_bytes_ -= front.bytes.size();
        keep_spare(std::move(front.bytes));
        records_.pop_front();
    }
    // An idle stream holds no memory beyond its records.
    if (records_.empty()) drop_spares();
}

// Sending messages back to back frees and allocates a record per message; for large messages
// each new allocation touched fresh pages (page faults, zeroing by the kernel) as the
// allocator returned freed ones to the system. Buffers of delivered records are kept for the
// next push() instead, within kMaxSpareBuffers and kMaxSpareBytes (and never more than the
// send buffer limit), and only while messages are waiting; push() uses one only for a record
// of at least half its size.
void SendStream::keep_spare(Bytes&& buffer) {
    const std::size_t bound = std::min(kMaxSpareBytes, send_buffer_limit_);
    if (spare_.size() >= kMaxSpareBuffers || spare_bytes_ + buffer.capacity() > bound) return;
    spare_bytes_ += buffer.capacity();
    buffer.clear();
    spare_.push_back(std::move(buffer));
}

void SendStream::drop_spares() {
    spare_.clear();
    spare_bytes_ = 0;
}

void SendStream::on_lost(std::uint64_t offset, std::uint64_t length) {
    if (closed_) return;
    const std::uint64_t begin = std::max(offset, delivered_offset_);
    const std::uint64_t end = std::min(range_end(offset, length), send_offset_);
    if (begin >= end) return;
    acked_.for_each_gap(begin, end, [this](std::uint64_t b, std::uint64_t e) { lost_.add(b, e); });
}

std::vector<MessageId> SendStream::take_delivered() {
    std::vector<MessageId> ids;
    ids.swap(delivered_);
    return ids;
}

std::vector<MessageId> SendStream::fail_all() {
    std::vector<MessageId> ids;
    ids.reserve(records_.size());
    for (const Record& record : records_)
        ids.push_back(record.id);
    records_.clear();
    drop_spares();
    acked_.clear();
    lost_.clear();
    buffered_bytes_ = 0;
    // Nothing is left to send or to wait for.
    send_offset_ = next_offset_;
    delivered_offset_ = next_offset_;
    closed_ = true;
    return ids;
}

void SendStream::rewind_to(std::uint64_t peer_received_offset) {
    if (closed_) return;
    const std::uint64_t received = std::min(peer_received_offset, send_offset_);
    if (received > delivered_offset_) on_acked(delivered_offset_, received - delivered_offset_);
    on_lost(received, send_offset_ - received);
}

}  // namespace srmudp::message
