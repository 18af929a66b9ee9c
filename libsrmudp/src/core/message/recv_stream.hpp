// The receiving half of a connection's message stream.
//
// STREAM frame data (duplicated, overlapping, out of order) is reassembled into the ordered byte
// stream, which is cut into messages at the record headers (record_header.hpp). Flow control gives
// the peer a limit, max_data(), on the stream offsets it may send.
//
// Call on_stream_data() for each STREAM frame, pop_message() to hand messages to the application,
// and send MAX_DATA with max_data() whenever should_send_max_data() says so, then call
// on_max_data_sent().
//
// Credit: max_data() = max over time of (credited bytes + window), where credited bytes are the
// bytes popped by the application plus the bytes of the message being assembled. Complete
// messages waiting in the ready queue are not credited until popped, so an application that stops
// popping stops the sender, and a message larger than the window still completes. Memory held,
// buffered_bytes(), never exceeds window + max_message_size + kMaxRecordHeaderSize.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <system_error>

#include "core/message/record_header.hpp"
#include "srmudp/bytes.hpp"
#include "srmudp/message.hpp"

namespace srmudp::message {

class RecvStream {
  public:
    // max_message_size bounds a message from the peer; window (> 0) is the flow control window,
    // which is also the initial max_data() the peer is told in the handshake.
    RecvStream(std::size_t max_message_size, std::size_t window);

    // Takes data of a STREAM frame at stream `offset`. Errors: error::protocol_violation if
    // offset + data.size() overflows or exceeds max_data() (nothing is taken);
    // error::peer_message_too_large if a record header announces a message above
    // max_message_size (the stream is then dead: every later call returns this error).
    std::error_code on_stream_data(std::uint64_t offset, ByteView data);

    // The next complete message in stream order, moved out; nullopt if none is complete.
    std::optional<Message> pop_message();
    // Complete messages waiting for pop_message().
    std::size_t ready_messages() const noexcept { return ready_.size(); }

    // The flow control limit: the peer may send stream bytes below it. Never decreases.
    std::uint64_t max_data() const noexcept { return max_data_; }
    // True when max_data() grew by at least a quarter window (and at least 1) since the value
    // last passed to on_max_data_sent() (initially the window): time to send MAX_DATA.
    bool should_send_max_data() const noexcept;
    // The connection sent MAX_DATA carrying `value`.
    void on_max_data_sent(std::uint64_t value) noexcept;

    // Every stream byte below this offset has arrived.
    std::uint64_t contiguous_offset() const noexcept { return contiguous_offset_; }
    // Bytes of all accepted STREAM frames, duplicates included.
    std::uint64_t bytes_received() const noexcept { return bytes_received_; }
    // The part of bytes_received() that had already arrived.
    std::uint64_t duplicate_bytes() const noexcept { return duplicate_bytes_; }
    // Memory held: out-of-order bytes, ready messages and the message being assembled.
    std::size_t buffered_bytes() const noexcept;

  private:
    struct ReadyMessage {
        Message message;
        std::size_t record_size = 0;  // header + message bytes, the credit it holds back
    };

    std::size_t insert_out_of_order(std::uint64_t offset, ByteView data);
    std::error_code drain_out_of_order();
    std::error_code consume(ByteView in_order);
    std::size_t consume_header(ByteView in);
    void complete_message();
    void update_max_data() noexcept;

    std::size_t max_message_size_;
    std::size_t window_;
    std::map<std::uint64_t, Bytes> out_of_order_;  // disjoint, all above contiguous_offset_
    std::size_t out_of_order_bytes_ = 0;
    std::uint64_t contiguous_offset_ = 0;

    // The record being parsed: header bytes so far, then the message.
    std::uint8_t header_[kMaxRecordHeaderSize] = {};
    std::size_t header_length_ = 0;
    bool in_body_ = false;
    std::uint64_t body_remaining_ = 0;
    Message partial_;

    std::deque<ReadyMessage> ready_;
    std::size_t ready_data_bytes_ = 0;
    std::uint64_t ready_record_bytes_ = 0;

    std::uint64_t max_data_;
    std::uint64_t max_data_sent_;
    std::uint64_t bytes_received_ = 0;
    std::uint64_t duplicate_bytes_ = 0;
    std::error_code stream_error_;
};

}  // namespace srmudp::message
