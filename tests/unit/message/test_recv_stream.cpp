#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <vector>

#include "core/message/record_header.hpp"
#include "core/message/recv_stream.hpp"
#include "core/message/send_stream.hpp"
#include "srmudp/error.hpp"

using srmudp::Bytes;
using srmudp::ByteView;
using srmudp::error;
using srmudp::Message;
using srmudp::MessageId;
using srmudp::MessageKind;
using srmudp::MutableByteView;
using namespace srmudp::message;

namespace {

constexpr std::uint64_t kMaxU64 = ~std::uint64_t{0};

Bytes random_bytes(std::mt19937_64& rng, std::size_t size) {
    Bytes out(size);
    for (auto& b : out)
        b = static_cast<std::uint8_t>(rng());
    return out;
}

// Appends one record (header + message) to a stream built by hand.
void append_record(Bytes& stream, MessageKind kind, const Bytes& data) {
    std::uint8_t header[kMaxRecordHeaderSize];
    const std::size_t n = encode_record_header(RecordHeader{kind, data.size()},
                                               MutableByteView(header, sizeof header));
    REQUIRE(n > 0);
    stream.insert(stream.end(), header, header + n);
    stream.insert(stream.end(), data.begin(), data.end());
}

ByteView slice(const Bytes& stream, std::uint64_t offset, std::uint64_t length) {
    return ByteView(stream.data() + offset, static_cast<std::size_t>(length));
}

void require_message(RecvStream& rx, MessageKind kind, const Bytes& data) {
    std::optional<Message> m = rx.pop_message();
    REQUIRE(m.has_value());
    REQUIRE(m->kind == kind);
    REQUIRE(m->data == data);
}

}  // namespace

TEST_CASE("messages of boundary sizes reassemble in order with their kinds") {
    std::mt19937_64 rng(1);
    const std::size_t sizes[] = {0, 1, 31, 32, 127, 128, 8191, 8192, 16383, 16384, 1 << 20};
    std::vector<Bytes> messages;
    Bytes stream;
    for (std::size_t i = 0; i < std::size(sizes); ++i) {
        messages.push_back(random_bytes(rng, sizes[i]));
        append_record(stream, i % 2 ? MessageKind::binary : MessageKind::text, messages.back());
    }
    RecvStream rx(1 << 20, 4 << 20);
    REQUIRE_FALSE(rx.on_stream_data(0, ByteView(stream)));
    CHECK(rx.ready_messages() == messages.size());
    CHECK(rx.contiguous_offset() == stream.size());
    for (std::size_t i = 0; i < messages.size(); ++i) {
        require_message(rx, i % 2 ? MessageKind::binary : MessageKind::text, messages[i]);
    }
    CHECK_FALSE(rx.pop_message());
    CHECK(rx.buffered_bytes() == 0);
}

TEST_CASE("headers and messages split byte by byte across frames") {
    std::mt19937_64 rng(2);
    const Bytes big = random_bytes(rng, 70000);  // a 4-byte header
    const Bytes empty;
    Bytes stream;
    append_record(stream, MessageKind::binary, big);
    append_record(stream, MessageKind::text, empty);
    RecvStream rx(100000, 1 << 20);
    for (std::size_t i = 0; i < stream.size(); ++i) {
        REQUIRE_FALSE(rx.on_stream_data(i, slice(stream, i, 1)));
        const std::size_t expected = i + 1 < 4 + big.size() ? 0 : (i + 1 < stream.size() ? 1 : 2);
        REQUIRE(rx.ready_messages() == expected);
    }
    require_message(rx, MessageKind::binary, big);
    require_message(rx, MessageKind::text, empty);
}

TEST_CASE("out of order - overlapping and duplicated frames reassemble exactly once") {
    std::mt19937_64 rng(3);
    std::vector<Bytes> messages;
    Bytes stream;
    for (int i = 0; i < 200; ++i) {
        messages.push_back(random_bytes(rng, rng() % 300));
        append_record(stream, MessageKind::binary, messages.back());
    }
    // Random overlapping pieces covering the stream, each sent once or twice, shuffled.
    struct Piece {
        std::uint64_t offset, length;
    };
    std::vector<Piece> pieces;
    for (std::uint64_t at = 0; at < stream.size();) {
        const std::uint64_t len = std::min<std::uint64_t>(1 + rng() % 100, stream.size() - at);
        const std::uint64_t back = std::min<std::uint64_t>(at, rng() % 20);  // overlap
        pieces.push_back({at - back, len + back});
        if (rng() % 4 == 0) pieces.push_back({at - back, len + back});
        at += len;
    }
    std::shuffle(pieces.begin(), pieces.end(), rng);

    RecvStream rx(300, stream.size());
    std::uint64_t sent = 0;
    for (const Piece& p : pieces) {
        REQUIRE_FALSE(rx.on_stream_data(p.offset, slice(stream, p.offset, p.length)));
        sent += p.length;
    }
    CHECK(rx.contiguous_offset() == stream.size());
    CHECK(rx.bytes_received() == sent);
    CHECK(rx.duplicate_bytes() == sent - stream.size());
    CHECK(rx.ready_messages() == messages.size());
    for (const Bytes& m : messages)
        require_message(rx, MessageKind::binary, m);
    CHECK(rx.buffered_bytes() == 0);
}

TEST_CASE("a frame that straddles held out-of-order data fills only the gaps") {
    Bytes stream;
    append_record(stream, MessageKind::text, Bytes(40, 0x61));  // 2-byte header: 42 bytes
    RecvStream rx(100, 1000);
    REQUIRE_FALSE(rx.on_stream_data(10, slice(stream, 10, 5)));
    REQUIRE_FALSE(rx.on_stream_data(20, slice(stream, 20, 5)));
    CHECK(rx.buffered_bytes() == 10);
    REQUIRE_FALSE(rx.on_stream_data(5, slice(stream, 5, 30)));
    CHECK(rx.duplicate_bytes() == 10);
    CHECK(rx.buffered_bytes() == 30);
    CHECK(rx.contiguous_offset() == 0);
    REQUIRE_FALSE(rx.on_stream_data(0, slice(stream, 0, 42)));
    CHECK(rx.duplicate_bytes() == 40);
    require_message(rx, MessageKind::text, Bytes(40, 0x61));
}

TEST_CASE("flow control: data at or beyond max_data is a protocol violation") {
    RecvStream rx(1000, 100);
    CHECK(rx.max_data() == 100);
    const Bytes data(101, 0);
    CHECK(rx.on_stream_data(0, ByteView(data)) == error::protocol_violation);
    CHECK(rx.on_stream_data(100, ByteView(data.data(), 1)) == error::protocol_violation);
    CHECK(rx.on_stream_data(kMaxU64, ByteView(data.data(), 1)) == error::protocol_violation);
    CHECK(rx.on_stream_data(kMaxU64 - 1, ByteView(data.data(), 2)) ==
          error::protocol_violation);  // offset + size wraps
    CHECK(rx.bytes_received() == 0);
    CHECK(rx.buffered_bytes() == 0);
    CHECK_FALSE(rx.on_stream_data(100, ByteView()));  // an empty frame at the limit is fine
    CHECK_FALSE(rx.on_stream_data(50, ByteView(data.data(), 50)));  // up to the limit
    CHECK(rx.buffered_bytes() == 50);
}

TEST_CASE("a record header above max_message_size kills the stream") {
    Bytes stream;
    append_record(stream, MessageKind::text, Bytes(50, 1));  // exactly the maximum
    const std::size_t second = stream.size();
    append_record(stream, MessageKind::binary, Bytes(51, 2));
    RecvStream rx(50, 1000);
    // The bad header arrives first, out of order, and is only parsed once the gap fills.
    REQUIRE_FALSE(rx.on_stream_data(second, slice(stream, second, stream.size() - second)));
    CHECK(rx.on_stream_data(0, slice(stream, 0, second)) == error::peer_message_too_large);
    require_message(rx, MessageKind::text, Bytes(50, 1));
    CHECK(rx.on_stream_data(0, ByteView()) == error::peer_message_too_large);
    CHECK_FALSE(rx.pop_message());
}

TEST_CASE("a header announcing a size no varint can exceed is still checked") {
    const Bytes header{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};  // 2^61 - 1, text
    RecvStream rx(1 << 20, 1000);
    CHECK(rx.on_stream_data(0, ByteView(header)) == error::peer_message_too_large);
}

TEST_CASE("backpressure: ready messages hold their credit until popped") {
    Bytes stream;
    for (int i = 0; i < 50; ++i)
        append_record(stream, MessageKind::binary, Bytes(98, i));  // 100 bytes
    RecvStream rx(1000, 1000);  // 10 records of 100 bytes per window
    std::uint64_t at = 0;
    while (at < rx.max_data() && at < stream.size()) {
        REQUIRE_FALSE(rx.on_stream_data(at, slice(stream, at, 100)));
        at += 100;
    }
    CHECK(at == 1000);
    CHECK(rx.ready_messages() == 10);
    CHECK(rx.max_data() == 1000);  // not popping stops the sender
    CHECK_FALSE(rx.should_send_max_data());
    CHECK(rx.on_stream_data(1000, slice(stream, 1000, 1)) == error::protocol_violation);

    for (int i = 0; i < 2; ++i)
        REQUIRE(rx.pop_message());
    CHECK(rx.max_data() == 1200);
    CHECK_FALSE(rx.should_send_max_data());  // 200 < window / 4
    REQUIRE(rx.pop_message());
    CHECK(rx.max_data() == 1300);
    CHECK(rx.should_send_max_data());
    rx.on_max_data_sent(rx.max_data());
    CHECK_FALSE(rx.should_send_max_data());
    rx.on_max_data_sent(5);  // an older value never lowers the reference
    CHECK_FALSE(rx.should_send_max_data());
}

TEST_CASE("a message larger than the window completes") {
    std::mt19937_64 rng(4);
    const Bytes big = random_bytes(rng, 10000);
    Bytes stream;
    append_record(stream, MessageKind::binary, big);
    append_record(stream, MessageKind::text, Bytes(5, 9));
    RecvStream rx(20000, 1000);
    std::uint64_t at = 0;
    int frames = 0;
    while (at < stream.size()) {
        const std::uint64_t n = std::min<std::uint64_t>(rx.max_data() - at, stream.size() - at);
        REQUIRE(n > 0);
        REQUIRE_FALSE(rx.on_stream_data(at, slice(stream, at, n)));
        at += n;
        ++frames;
        REQUIRE(rx.buffered_bytes() <= 1000 + 20000 + kMaxRecordHeaderSize);
    }
    CHECK(frames == 11);  // [0, 1000), [1000, 2000), ..., [10000, 10010)
    // Both messages wait in the ready queue and hold their credit back.
    CHECK(rx.max_data() == 11000);
    require_message(rx, MessageKind::binary, big);
    CHECK(rx.max_data() == 10004 + 1000);
    require_message(rx, MessageKind::text, Bytes(5, 9));
    CHECK(rx.max_data() == 10010 + 1000);
}

// ---------------------------------------------------------------------------------------------
// A SendStream and a RecvStream joined by a seeded lossy link: packets are lost, duplicated and
// reordered, acknowledgements are lost (so the sender resends bytes that did arrive), MAX_DATA
// updates are lost and repeated, and the application sometimes stops reading.

namespace {

struct LinkSetup {
    std::uint64_t seed = 1;
    std::size_t max_message_size = 4000;
    std::size_t window = 3000;
    std::size_t send_buffer_limit = 8000;
    std::size_t max_packet = 200;
    int loss_percent = 10;
    int duplicate_percent = 5;
    int ack_loss_percent = 5;
    int hold_percent = 20;  // a packet stays in flight another round: reordering
};

struct Packet {
    Chunk chunk;
    Bytes bytes;
};

class Link {
  public:
    Link(const LinkSetup& setup, std::vector<Message> messages)
        : setup_(setup),
          rng_(setup.seed),
          tx_(setup.max_message_size, setup.send_buffer_limit),
          rx_(setup.max_message_size, setup.window),
          messages_(std::move(messages)),
          peer_max_data_(setup.window) {}

    void run() {
        for (int round = 0; round < 1000000 && !done(); ++round) {
            application_sends();
            sender_transmits();
            network_delivers();
            receiver_updates_limit();
            application_reads();
            check_delivered();
            check_bounds();
        }
        REQUIRE(done());
        CHECK(rx_.contiguous_offset() == tx_.next_offset());
        CHECK(rx_.buffered_bytes() == 0);
        CHECK(tx_.buffered_bytes() == 0);
        CHECK_FALSE(tx_.has_data_to_send(~std::uint64_t{0}));
    }

    const SendStream& sender() const { return tx_; }
    const RecvStream& receiver() const { return rx_; }

  private:
    bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }

    bool done() const {
        return popped_ == messages_.size() && delivered_ == messages_.size() && tx_.all_delivered();
    }

    void application_sends() {
        while (pushed_ < messages_.size()) {
            const Message& m = messages_[pushed_];
            MessageId id = 0;
            const std::error_code ec = tx_.push(m.kind, ByteView(m.data), id);
            if (ec == error::send_buffer_full) return;
            REQUIRE_FALSE(ec);
            REQUIRE(id == pushed_ + 1);
            ++pushed_;
        }
    }

    void sender_transmits() {
        const int burst = 1 + static_cast<int>(rng_() % 8);
        for (int i = 0; i < burst && tx_.has_data_to_send(peer_max_data_); ++i) {
            Packet p;
            p.bytes.resize(1 + rng_() % setup_.max_packet);
            p.chunk = tx_.next_chunk(peer_max_data_, p.bytes.size(), p.bytes.data());
            REQUIRE(p.chunk.length > 0);
            REQUIRE(p.chunk.offset + p.chunk.length <= peer_max_data_);
            p.bytes.resize(p.chunk.length);
            in_flight_.push_back(std::move(p));
        }
        REQUIRE(peer_max_data_ <= rx_.max_data());
    }

    void network_delivers() {
        std::shuffle(in_flight_.begin(), in_flight_.end(), rng_);
        std::vector<Packet> held;
        for (Packet& p : in_flight_) {
            if (chance(setup_.hold_percent)) {
                held.push_back(std::move(p));
            } else if (chance(setup_.loss_percent)) {
                tx_.on_lost(p.chunk.offset, p.chunk.length);
            } else {
                REQUIRE_FALSE(rx_.on_stream_data(p.chunk.offset, ByteView(p.bytes)));
                if (chance(setup_.duplicate_percent)) {
                    REQUIRE_FALSE(rx_.on_stream_data(p.chunk.offset, ByteView(p.bytes)));
                }
                if (chance(setup_.ack_loss_percent)) {
                    tx_.on_lost(p.chunk.offset, p.chunk.length);  // spurious loss
                } else {
                    tx_.on_acked(p.chunk.offset, p.chunk.length);
                }
            }
        }
        in_flight_ = std::move(held);
    }

    void receiver_updates_limit() {
        // MAX_DATA frames get lost; the connection repeats the latest value now and then.
        if (rx_.should_send_max_data() || chance(10)) {
            rx_.on_max_data_sent(rx_.max_data());
            if (!chance(setup_.loss_percent)) {
                peer_max_data_ = std::max(peer_max_data_, rx_.max_data());
            }
        }
    }

    void application_reads() {
        if (paused_rounds_ > 0) {
            --paused_rounds_;
            // Backpressure: without reads the limit grows by at most one partial record.
            REQUIRE(rx_.max_data() <=
                    max_data_at_pause_ + setup_.max_message_size + kMaxRecordHeaderSize);
            return;
        }
        if (chance(3)) {
            paused_rounds_ = 200;
            max_data_at_pause_ = rx_.max_data();
            return;
        }
        const int reads = static_cast<int>(rng_() % 4);
        for (int i = 0; i < reads; ++i) {
            std::optional<Message> m = rx_.pop_message();
            if (!m) return;
            REQUIRE(popped_ < messages_.size());
            REQUIRE(m->kind == messages_[popped_].kind);
            REQUIRE(m->data == messages_[popped_].data);
            ++popped_;
        }
    }

    void check_delivered() {
        for (MessageId id : tx_.take_delivered()) {
            REQUIRE(id == delivered_ + 1);
            // Delivered means the receiver really holds or handed out the whole message.
            REQUIRE(id <= popped_ + rx_.ready_messages());
            ++delivered_;
        }
    }

    void check_bounds() {
        REQUIRE(rx_.buffered_bytes() <=
                setup_.window + setup_.max_message_size + kMaxRecordHeaderSize);
        REQUIRE(tx_.buffered_bytes() <=
                std::max(setup_.send_buffer_limit, setup_.max_message_size + kMaxRecordHeaderSize));
    }

    LinkSetup setup_;
    std::mt19937_64 rng_;
    SendStream tx_;
    RecvStream rx_;
    std::vector<Message> messages_;
    std::vector<Packet> in_flight_;
    std::uint64_t peer_max_data_;
    std::size_t pushed_ = 0;
    std::size_t popped_ = 0;
    std::size_t delivered_ = 0;
    int paused_rounds_ = 0;
    std::uint64_t max_data_at_pause_ = 0;
};

std::vector<Message> random_messages(std::uint64_t seed, std::size_t count, std::size_t max_size) {
    std::mt19937_64 rng(seed);
    std::vector<Message> out;
    for (std::size_t i = 0; i < count; ++i) {
        Message m;
        m.kind = rng() % 2 ? MessageKind::binary : MessageKind::text;
        // Mostly small messages, some empty, some up to the maximum.
        const std::size_t pick = rng() % 10;
        const std::size_t size = pick == 0 ? 0 : pick < 7 ? rng() % 64 : rng() % (max_size + 1);
        m.data = random_bytes(rng, size);
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace

TEST_CASE("lossy link: every message arrives once - in order - byte-identical") {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        LinkSetup setup;
        setup.seed = seed;
        INFO("seed " << seed);
        Link link(setup, random_messages(seed, 400, setup.max_message_size));
        link.run();
        CHECK(link.sender().bytes_retransmitted() > 0);
        CHECK(link.receiver().duplicate_bytes() > 0);
    }
}

TEST_CASE("lossy link: messages larger than the window and a tiny send buffer") {
    LinkSetup setup;
    setup.seed = 42;
    setup.max_message_size = 20000;
    setup.window = 1000;
    setup.send_buffer_limit = 10;  // one message at a time
    setup.loss_percent = 20;
    Link link(setup, random_messages(42, 60, setup.max_message_size));
    link.run();
}

TEST_CASE("lossy link: boundary sizes up to 1 MiB with both kinds") {
    std::mt19937_64 rng(9);
    std::vector<Message> messages;
    for (std::size_t size : {0, 1, 127, 128, 16383, 16384, 1 << 20, 31, 32, 8191, 8192}) {
        for (MessageKind kind : {MessageKind::text, MessageKind::binary}) {
            messages.push_back(Message{kind, random_bytes(rng, size)});
        }
    }
    LinkSetup setup;
    setup.seed = 9;
    setup.max_message_size = 1 << 20;
    setup.window = 256 * 1024;
    setup.send_buffer_limit = 2 << 20;
    setup.max_packet = 1400;
    Link link(setup, messages);
    link.run();
}
