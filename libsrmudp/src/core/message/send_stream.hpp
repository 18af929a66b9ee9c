// The sending half of a connection's message stream.
//
// Messages become records (record_header.hpp) appended to one reliable ordered byte stream. The
// connection asks for chunks to put into STREAM frames, reports which stream ranges the peer
// acknowledged or which were lost, and learns which messages were delivered: message i is
// delivered once the peer acknowledged every stream byte below the end of record i.
//
// Call push() when the application sends, next_chunk() while building a packet, on_acked() /
// on_lost() when recovery settles a packet that carried stream ranges, take_delivered() after
// acknowledgements to report delivered message ids, fail_all() when the connection dies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <system_error>
#include <vector>

#include "core/message/range_set.hpp"
#include "srmudp/bytes.hpp"
#include "srmudp/message.hpp"

namespace srmudp::message {

// A range of the stream handed out for sending; length 0 means nothing to send.
struct Chunk {
    std::uint64_t offset = 0;
    std::size_t length = 0;
};

class SendStream {
  public:
    // max_message_size bounds one message (clamped to kMaxRecordMessageSize); send_buffer_limit
    // bounds the record bytes held until delivery. Message ids start at first_id (a stream that
    // replaces another after a peer restart continues its ids; 0 is taken as 1).
    SendStream(std::size_t max_message_size, std::size_t send_buffer_limit, MessageId first_id = 1);

    // Queues a message and sets `id` to its message id (1, 2, 3, ...). Errors:
    // error::message_too_large if data.size() > max_message_size; error::send_buffer_full if
    // buffered_bytes() + the record size would exceed the limit and something is buffered (an
    // empty buffer takes any message up to max_message_size); error::connection_closed after
    // fail_all().
    std::error_code push(MessageKind kind, ByteView data, MessageId& id);

    // True if next_chunk() would return bytes: a lost range or new bytes below peer_max_data.
    bool has_data_to_send(std::uint64_t peer_max_data) const;

    // Copies up to max_len bytes of the next range to send into `out` (which must hold max_len
    // bytes): the lowest lost range if any, else new bytes; never bytes at or above
    // peer_max_data. Returns the range copied (length 0 if nothing). The range may span records.
    Chunk next_chunk(std::uint64_t peer_max_data, std::size_t max_len, std::uint8_t* out);
    // The same without the copy: the range is taken (as sent) and its bytes are then written
    // by copy_chunk() straight into the packet being built.
    Chunk take_chunk(std::uint64_t peer_max_data, std::size_t max_len);
    // Copies the bytes of a chunk that take_chunk() returned, before any other call on the
    // stream, into out (chunk.length bytes).
    void copy_chunk(const Chunk& chunk, std::uint8_t* out) const {
        copy_range(chunk.offset, chunk.length, out);
    }

    // The peer acknowledged [offset, offset + length). Idempotent, any order; bytes never sent
    // are ignored. Delivered records are released at once.
    void on_acked(std::uint64_t offset, std::uint64_t length);

    // [offset, offset + length) was lost: queue its unacknowledged bytes for retransmission.
    void on_lost(std::uint64_t offset, std::uint64_t length);

    // Ids of messages delivered since the last call, ascending.
    std::vector<MessageId> take_delivered();

    // Ids of every message not yet delivered, ascending. Afterwards the stream holds nothing, has
    // nothing to send, ignores acks and losses, and push() fails with error::connection_closed.
    // Ids already delivered stay available from take_delivered().
    std::vector<MessageId> fail_all();

    // After a resumed connection: the peer holds every byte below peer_received_offset (taken as
    // acknowledged); every sent, unacknowledged byte at or above it is queued for retransmission.
    // An offset beyond the bytes ever sent is clamped to them.
    void rewind_to(std::uint64_t peer_received_offset);

    // The id the next push() assigns.
    MessageId next_message_id() const noexcept { return next_id_; }
    // Record bytes (headers included) of messages not yet delivered: the memory held.
    std::size_t buffered_bytes() const noexcept { return buffered_bytes_; }
    // The end of the stream: record bytes ever queued.
    std::uint64_t next_offset() const noexcept { return next_offset_; }
    // Stream bytes handed out by next_chunk(), retransmissions included.
    std::uint64_t bytes_sent() const noexcept { return bytes_sent_; }
    // The part of bytes_sent() that were retransmissions of lost ranges.
    std::uint64_t bytes_retransmitted() const noexcept { return bytes_retransmitted_; }
    // True when no message is waiting for delivery (also after fail_all()).
    bool all_delivered() const noexcept { return records_.empty(); }
    // True if new bytes are waiting but peer_max_data forbids sending any of them (the connection
    // may tell the peer it is blocked).
    bool blocked_by_flow_control(std::uint64_t peer_max_data) const noexcept;

  private:
    struct Record {
        MessageId id = 0;
        std::uint64_t start = 0;  // stream offset of the record's first byte
        Bytes bytes;              // header then message
        std::uint64_t end() const noexcept { return start + bytes.size(); }
    };

    // Bounds of the buffers of delivered records kept for reuse (see keep_spare()).
    static constexpr std::size_t kMaxSpareBuffers = 64;
    static constexpr std::size_t kMaxSpareBytes = 1024 * 1024;

    void copy_range(std::uint64_t offset, std::size_t length, std::uint8_t* out) const;
    void release_delivered();
    void keep_spare(Bytes&& buffer);
    void drop_spares();

    std::size_t max_message_size_;
    std::size_t send_buffer_limit_;
    std::deque<Record> records_;   // undelivered records, ascending start
    std::vector<Bytes> spare_;     // emptied buffers of delivered records, for push()
    std::size_t spare_bytes_ = 0;  // their capacity
    MessageId next_id_ = 1;
    std::uint64_t next_offset_ = 0;
    std::uint64_t send_offset_ = 0;       // bytes below it were sent at least once
    std::uint64_t delivered_offset_ = 0;  // every byte below it is acknowledged
    RangeSet acked_;                      // acknowledged ranges above delivered_offset_
    RangeSet lost_;                       // unacknowledged ranges waiting for retransmission
    std::vector<MessageId> delivered_;
    std::size_t buffered_bytes_ = 0;
    std::uint64_t bytes_sent_ = 0;
    std::uint64_t bytes_retransmitted_ = 0;
    bool closed_ = false;
};

}  // namespace srmudp::message
