#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/message/send_stream.hpp"
#include "srmudp/error.hpp"

using srmudp::as_bytes;
using srmudp::Bytes;
using srmudp::ByteView;
using srmudp::error;
using srmudp::MessageId;
using srmudp::MessageKind;
using namespace srmudp::message;

namespace {

using Ids = std::vector<MessageId>;

constexpr std::uint64_t kNoLimit = ~std::uint64_t{0};

Bytes filled(std::size_t size, std::uint8_t value) {
    return Bytes(size, value);
}

MessageId push_ok(SendStream& stream, MessageKind kind, const Bytes& data) {
    MessageId id = 0;
    REQUIRE_FALSE(stream.push(kind, ByteView(data), id));
    return id;
}

struct Sent {
    Chunk chunk;
    Bytes bytes;
};

Sent send(SendStream& stream, std::size_t max_len, std::uint64_t peer_max_data = kNoLimit) {
    Sent sent;
    sent.bytes.assign(max_len, 0);
    sent.chunk = stream.next_chunk(peer_max_data, max_len, sent.bytes.data());
    sent.bytes.resize(sent.chunk.length);
    return sent;
}

}  // namespace

TEST_CASE("push numbers messages 1 - 2 - 3 and frames them as records") {
    SendStream stream(1000, 10000);
    MessageId id = 0;
    CHECK_FALSE(stream.push(MessageKind::text, as_bytes("hi"), id));
    CHECK(id == 1);
    CHECK_FALSE(stream.push(MessageKind::binary, ByteView(), id));
    CHECK(id == 2);
    CHECK(push_ok(stream, MessageKind::binary, filled(32, 0x55)) == 3);
    // Headers: text of 2 -> 0x04; empty binary -> 0x01; binary of 32 -> value 65, 2 bytes 0x4041.
    CHECK(stream.next_offset() == 3 + 1 + 2 + 32);
    CHECK(stream.buffered_bytes() == stream.next_offset());
    CHECK_FALSE(stream.all_delivered());

    const Sent sent = send(stream, 100);
    CHECK(sent.chunk.offset == 0);
    Bytes expected{0x04, 'h', 'i', 0x01, 0x40, 0x41};
    expected.insert(expected.end(), 32, 0x55);
    CHECK(sent.bytes == expected);
    CHECK(stream.bytes_sent() == expected.size());
    CHECK_FALSE(stream.has_data_to_send(kNoLimit));
}

TEST_CASE("a message above max_message_size is refused") {
    SendStream stream(10, 1000);
    MessageId id = 77;
    CHECK(stream.push(MessageKind::binary, ByteView(filled(11, 1)), id) ==
          error::message_too_large);
    CHECK(id == 77);
    CHECK(stream.next_offset() == 0);
    CHECK(stream.all_delivered());
    CHECK_FALSE(stream.push(MessageKind::binary, ByteView(filled(10, 1)), id));
    CHECK(id == 1);  // the refused message took no id
}

TEST_CASE("the send buffer is bounded but always takes one message when empty") {
    SendStream stream(1000, 100);
    CHECK(push_ok(stream, MessageKind::binary, filled(500, 1)) == 1);  // 502 > 100, but empty
    MessageId id = 0;
    CHECK(stream.push(MessageKind::binary, ByteView(filled(1, 2)), id) == error::send_buffer_full);
    CHECK(stream.buffered_bytes() == 502);

    send(stream, 1000);
    stream.on_acked(0, 502);
    CHECK(stream.take_delivered() == Ids{1});
    CHECK(stream.buffered_bytes() == 0);

    CHECK(push_ok(stream, MessageKind::binary, filled(60, 3)) == 2);  // 62 bytes
    CHECK(stream.push(MessageKind::binary, ByteView(filled(38, 4)), id) ==
          error::send_buffer_full);  // 62 + 40 = 102
    CHECK(stream.push(MessageKind::binary, ByteView(filled(37, 4)), id) ==
          error::send_buffer_full);                                   // 62 + 39 = 101
    CHECK(push_ok(stream, MessageKind::binary, filled(36, 5)) == 3);  // 62 + 38 = 100
    CHECK(stream.buffered_bytes() == 100);
    CHECK(stream.push(MessageKind::text, ByteView(), id) == error::send_buffer_full);
}

TEST_CASE("chunks respect max_len and the peer's limit and may span records") {
    SendStream stream(100, 1000);
    push_ok(stream, MessageKind::binary, filled(9, 0xa1));  // [0, 10)
    push_ok(stream, MessageKind::binary, filled(9, 0xb2));  // [10, 20)
    push_ok(stream, MessageKind::binary, filled(9, 0xc3));  // [20, 30)

    CHECK(stream.next_chunk(kNoLimit, 0, nullptr).length == 0);
    Sent a = send(stream, 4, 15);
    CHECK(a.chunk.offset == 0);
    CHECK(a.chunk.length == 4);
    Sent b = send(stream, 100, 15);  // stops at the peer's limit, inside record 2
    CHECK(b.chunk.offset == 4);
    CHECK(b.chunk.length == 11);
    // Headers are 0x13 (binary, size 9); record 2 starts at stream offset 10.
    CHECK(b.bytes == Bytes{0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0x13, 0xb2, 0xb2, 0xb2, 0xb2});

    CHECK_FALSE(stream.has_data_to_send(15));
    CHECK(stream.blocked_by_flow_control(15));
    CHECK(send(stream, 100, 15).chunk.length == 0);
    CHECK(send(stream, 100, 14).chunk.length == 0);  // a lower limit sends nothing either

    CHECK(stream.has_data_to_send(16));
    CHECK_FALSE(stream.blocked_by_flow_control(16));
    Sent c = send(stream, 100, 100);
    CHECK(c.chunk.offset == 15);
    CHECK(c.chunk.length == 15);
    CHECK_FALSE(stream.blocked_by_flow_control(15));  // nothing new is waiting
    CHECK(stream.bytes_sent() == 30);
}

TEST_CASE("a message is delivered only when every byte below its end is acknowledged") {
    SendStream stream(100, 1000);
    push_ok(stream, MessageKind::binary, filled(9, 1));  // [0, 10)
    push_ok(stream, MessageKind::binary, filled(9, 2));  // [10, 20)
    push_ok(stream, MessageKind::binary, filled(9, 3));  // [20, 30)
    send(stream, 100);

    stream.on_acked(10, 20);  // records 2 and 3, but not record 1
    CHECK(stream.take_delivered().empty());
    CHECK(stream.buffered_bytes() == 30);
    stream.on_acked(0, 9);  // one byte short
    CHECK(stream.take_delivered().empty());
    stream.on_acked(9, 1);
    CHECK(stream.take_delivered() == Ids{1, 2, 3});
    CHECK(stream.buffered_bytes() == 0);
    CHECK(stream.all_delivered());

    stream.on_acked(0, 30);  // duplicate acknowledgement
    CHECK(stream.take_delivered().empty());
}

TEST_CASE("acknowledgements in pieces deliver in order - once") {
    SendStream stream(100, 1000);
    for (int i = 0; i < 5; ++i)
        push_ok(stream, MessageKind::text, filled(9, 7));
    send(stream, 100);
    stream.on_acked(0, 15);
    CHECK(stream.take_delivered() == Ids{1});
    stream.on_acked(15, 5);
    stream.on_acked(0, 20);
    CHECK(stream.take_delivered() == Ids{2});
    stream.on_acked(40, 10);
    stream.on_acked(30, 5);
    CHECK(stream.take_delivered().empty());
    stream.on_acked(20, 10);  // joins [30, 35): record 4 still misses [35, 40)
    CHECK(stream.take_delivered() == Ids{3});
    stream.on_acked(35, 5);
    CHECK(stream.take_delivered() == Ids{4, 5});
}

TEST_CASE("acknowledgements of bytes never sent are ignored") {
    SendStream stream(100, 1000);
    push_ok(stream, MessageKind::binary, filled(9, 1));  // [0, 10)
    send(stream, 5);
    stream.on_acked(0, 10);
    CHECK(stream.take_delivered().empty());      // bytes 5..9 were never sent
    stream.on_acked(~std::uint64_t{0} - 1, 10);  // wraps: harmless
    send(stream, 5);
    stream.on_acked(5, 5);
    CHECK(stream.take_delivered() == Ids{1});
}

TEST_CASE("lost ranges are resent first - lowest first - at their original offsets") {
    SendStream stream(100, 1000);
    push_ok(stream, MessageKind::binary, filled(19, 0x11));  // [0, 20)
    push_ok(stream, MessageKind::binary, filled(19, 0x22));  // [20, 40)
    const Sent first = send(stream, 10);                     // [0, 10)
    send(stream, 10);                                        // [10, 20)
    const Sent third = send(stream, 10);                     // [20, 30)

    stream.on_lost(20, 10);
    stream.on_lost(0, 10);
    CHECK(stream.has_data_to_send(1));  // only lost bytes fit under a limit of 1
    const Sent again1 = send(stream, 100);
    CHECK(again1.chunk.offset == 0);
    CHECK(again1.chunk.length == 10);
    CHECK(again1.bytes == first.bytes);
    const Sent again2 = send(stream, 4);
    CHECK(again2.chunk.offset == 20);
    CHECK(again2.chunk.length == 4);
    const Sent again3 = send(stream, 100);
    CHECK(again3.chunk.offset == 24);
    CHECK(again3.chunk.length == 6);
    CHECK(Bytes(third.bytes.begin() + 4, third.bytes.end()) == again3.bytes);
    const Sent fresh = send(stream, 100);
    CHECK(fresh.chunk.offset == 30);
    CHECK(fresh.chunk.length == 10);
    CHECK(stream.bytes_retransmitted() == 20);
    CHECK(stream.bytes_sent() == 60);
}

TEST_CASE("lost ranges already acknowledged are trimmed or skipped") {
    SendStream stream(100, 1000);
    push_ok(stream, MessageKind::binary, filled(98, 0x33));  // [0, 100): 2-byte header
    send(stream, 100);

    stream.on_acked(20, 10);
    stream.on_lost(0, 50);  // queues [0, 20) and [30, 50)
    stream.on_acked(0, 5);
    stream.on_acked(40, 20);  // after the loss: trims [30, 50) to [30, 40)
    Sent a = send(stream, 100);
    CHECK(a.chunk.offset == 5);
    CHECK(a.chunk.length == 15);
    Sent b = send(stream, 100);
    CHECK(b.chunk.offset == 30);
    CHECK(b.chunk.length == 10);
    CHECK_FALSE(stream.has_data_to_send(kNoLimit));

    stream.on_lost(60, 40);
    stream.on_acked(0, 100);  // everything acknowledged before the resend
    CHECK_FALSE(stream.has_data_to_send(kNoLimit));
    CHECK(send(stream, 100).chunk.length == 0);
    CHECK(stream.take_delivered() == Ids{1});
}

TEST_CASE("losses of unsent or delivered bytes are ignored") {
    SendStream stream(100, 1000);
    push_ok(stream, MessageKind::binary, filled(19, 1));  // [0, 20)
    push_ok(stream, MessageKind::binary, filled(19, 2));  // [20, 40)
    send(stream, 25);
    stream.on_lost(25, 15);  // never sent
    stream.on_acked(0, 20);
    stream.on_lost(0, 20);  // delivered
    Sent next = send(stream, 100);
    CHECK(next.chunk.offset == 25);  // new data: no retransmission was queued
    CHECK(stream.bytes_retransmitted() == 0);
}

TEST_CASE("retransmissions respect the peer's limit too") {
    SendStream stream(100, 1000);
    push_ok(stream, MessageKind::binary, filled(98, 1));  // [0, 100)
    send(stream, 60, 60);
    stream.on_lost(10, 50);
    Sent a = send(stream, 100, 30);
    CHECK(a.chunk.offset == 10);
    CHECK(a.chunk.length == 20);
    CHECK_FALSE(stream.has_data_to_send(30));
    CHECK(stream.has_data_to_send(31));
}

TEST_CASE("fail_all reports every undelivered message and closes the stream") {
    SendStream stream(100, 1000);
    for (int i = 0; i < 4; ++i)
        push_ok(stream, MessageKind::text, filled(9, 1));
    send(stream, 25);
    stream.on_acked(0, 20);
    stream.on_lost(20, 5);

    CHECK(stream.fail_all() == Ids{3, 4});
    CHECK(stream.take_delivered() == Ids{1, 2});
    CHECK(stream.buffered_bytes() == 0);
    CHECK(stream.all_delivered());
    CHECK_FALSE(stream.has_data_to_send(kNoLimit));
    CHECK(send(stream, 100).chunk.length == 0);

    MessageId id = 0;
    CHECK(stream.push(MessageKind::text, as_bytes("x"), id) == error::connection_closed);
    stream.on_lost(0, 40);
    stream.on_acked(0, 40);
    stream.rewind_to(10);
    CHECK_FALSE(stream.has_data_to_send(kNoLimit));
    CHECK(stream.take_delivered().empty());
    CHECK(stream.fail_all().empty());
}

TEST_CASE("rewind_to acknowledges below the peer's offset and resends the rest") {
    SendStream stream(100, 1000);
    push_ok(stream, MessageKind::binary, filled(9, 1));  // [0, 10)
    push_ok(stream, MessageKind::binary, filled(9, 2));  // [10, 20)
    push_ok(stream, MessageKind::binary, filled(9, 3));  // [20, 30)
    push_ok(stream, MessageKind::binary, filled(9, 4));  // [30, 40), not sent yet
    send(stream, 30);
    stream.on_acked(22, 3);  // acknowledged above the peer's offset: not resent

    stream.rewind_to(15);
    CHECK(stream.take_delivered() == Ids{1});
    Sent a = send(stream, 100);
    CHECK(a.chunk.offset == 15);
    CHECK(a.chunk.length == 7);
    Sent b = send(stream, 100);
    CHECK(b.chunk.offset == 25);
    CHECK(b.chunk.length == 5);
    CHECK(stream.bytes_retransmitted() == 12);
    Sent c = send(stream, 100);  // then the unsent record
    CHECK(c.chunk.offset == 30);
    CHECK(c.chunk.length == 10);

    stream.rewind_to(1000);  // clamped to the bytes sent: all acknowledged
    CHECK(stream.take_delivered() == Ids{2, 3, 4});
    CHECK(stream.all_delivered());
    CHECK_FALSE(stream.has_data_to_send(kNoLimit));
}

TEST_CASE("rewind_to an offset below what was acknowledged resends nothing acknowledged") {
    SendStream stream(100, 1000);
    push_ok(stream, MessageKind::binary, filled(19, 1));  // [0, 20)
    send(stream, 20);
    stream.on_acked(0, 10);
    stream.rewind_to(5);
    Sent a = send(stream, 100);
    CHECK(a.chunk.offset == 10);
    CHECK(a.chunk.length == 10);
}

TEST_CASE("many records: retransmission finds the right record") {
    SendStream stream(100, 1 << 20);
    constexpr int kCount = 20000;
    for (int i = 0; i < kCount; ++i) {
        push_ok(stream, MessageKind::binary, filled(i % 7, static_cast<std::uint8_t>(i)));
    }
    std::vector<Sent> sent;
    while (stream.has_data_to_send(kNoLimit))
        sent.push_back(send(stream, 13));
    // Lose every third chunk, acknowledge the rest, then resend and compare the bytes.
    for (std::size_t i = 0; i < sent.size(); ++i) {
        if (i % 3 == 0) {
            stream.on_lost(sent[i].chunk.offset, sent[i].chunk.length);
        } else {
            stream.on_acked(sent[i].chunk.offset, sent[i].chunk.length);
        }
    }
    for (std::size_t i = 0; i < sent.size(); i += 3) {
        const Sent again = send(stream, 13);
        REQUIRE(again.chunk.offset == sent[i].chunk.offset);
        REQUIRE(again.bytes == sent[i].bytes);
        stream.on_acked(again.chunk.offset, again.chunk.length);
    }
    const Ids delivered = stream.take_delivered();
    REQUIRE(delivered.size() == kCount);
    for (int i = 0; i < kCount; ++i)
        REQUIRE(delivered[i] == static_cast<MessageId>(i + 1));
    CHECK(stream.buffered_bytes() == 0);
}

TEST_CASE("a stream can start at a given message id - and 0 is taken as 1") {
    SendStream stream(1000, 1 << 20, 42);
    CHECK(stream.next_message_id() == 42);
    CHECK(push_ok(stream, MessageKind::text, filled(3, 'a')) == 42);
    CHECK(push_ok(stream, MessageKind::binary, filled(0, 0)) == 43);
    CHECK(stream.next_message_id() == 44);
    // The stream itself starts at offset 0 whatever the first id.
    const Sent sent = send(stream, 100);
    CHECK(sent.chunk.offset == 0);
    CHECK(sent.chunk.length == 5);  // "aaa" with its 1-byte header, then an empty record
    stream.on_acked(0, 5);
    CHECK(stream.take_delivered() == Ids{42, 43});

    SendStream zero(1000, 1 << 20, 0);
    CHECK(push_ok(zero, MessageKind::text, filled(1, 'z')) == 1);
    // fail_all leaves next_message_id() where it was, so a replacement continues the ids.
    zero.fail_all();
    CHECK(zero.next_message_id() == 2);
}

TEST_CASE("take_chunk plus copy_chunk hands out what next_chunk would") {
    SendStream a(1 << 20, 1 << 20), b(1 << 20, 1 << 20);
    Bytes m1 = filled(3000, 0x11), m2 = filled(500, 0x22);
    for (SendStream* s : {&a, &b}) {
        push_ok(*s, MessageKind::binary, m1);
        push_ok(*s, MessageKind::text, m2);
    }
    for (int i = 0; i < 5; ++i) {
        const Sent expected = send(a, 1170);
        const Chunk chunk = b.take_chunk(kNoLimit, 1170);
        CHECK(chunk.offset == expected.chunk.offset);
        REQUIRE(chunk.length == expected.chunk.length);
        Bytes bytes(chunk.length);
        if (chunk.length > 0) b.copy_chunk(chunk, bytes.data());
        CHECK(bytes == expected.bytes);
    }
    CHECK(b.take_chunk(kNoLimit, 0).length == 0);
    CHECK(b.bytes_sent() == a.bytes_sent());
}

TEST_CASE("records reuse the buffers of delivered ones - contents stay exact") {
    // Delivered records' buffers are kept for later pushes; a reused buffer must never leak
    // bytes of its earlier message, whatever the sizes.
    SendStream stream(1 << 20, 1 << 20);
    const std::vector<std::size_t> sizes = {16384, 100, 65536, 16384, 0, 20000, 1};
    std::uint64_t offset = 0;
    for (std::size_t round = 0; round < sizes.size(); ++round) {
        const Bytes message = filled(sizes[round], static_cast<std::uint8_t>(0x30 + round));
        const MessageId id = push_ok(stream, MessageKind::binary, message);
        Bytes record;
        while (stream.has_data_to_send(kNoLimit)) {
            const Sent s = send(stream, 1170);
            CHECK(s.chunk.offset == offset + record.size());
            record.insert(record.end(), s.bytes.begin(), s.bytes.end());
        }
        const Bytes body(record.end() - static_cast<std::ptrdiff_t>(message.size()), record.end());
        CHECK(body == message);
        stream.on_acked(offset, record.size());
        CHECK(stream.take_delivered() == Ids{id});
        CHECK(stream.buffered_bytes() == 0);
        offset += record.size();
    }
}

TEST_CASE("with records in flight, released buffers go to new records") {
    SendStream stream(1 << 20, 1 << 20);
    std::uint64_t acked = 0;
    std::vector<std::uint64_t> ends;
    for (int i = 0; i < 200; ++i) {
        push_ok(stream, MessageKind::binary, filled(4000, static_cast<std::uint8_t>(i)));
        const Sent s = send(stream, 1 << 20);
        ends.push_back(s.chunk.offset + s.chunk.length);
        // The peer acknowledges everything but the last two records.
        if (ends.size() > 2) {
            const std::uint64_t end = ends[ends.size() - 3];
            stream.on_acked(acked, end - acked);
            acked = end;
        }
    }
    CHECK(stream.take_delivered().size() == 198);
    // What is still held is exactly the two newest records, with their own bytes.
    stream.on_lost(acked, ends.back() - acked);
    const Sent resent = send(stream, 1 << 20);
    REQUIRE(resent.chunk.length == ends.back() - acked);
    CHECK(resent.bytes.back() == static_cast<std::uint8_t>(199));
    CHECK(resent.bytes[resent.bytes.size() / 2 - 1] == static_cast<std::uint8_t>(198));
}
