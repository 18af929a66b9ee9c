#include "core/codec/frame.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/codec/varint.hpp"

using namespace srmudp;
using namespace srmudp::codec;

namespace {

const std::error_code kMalformed = make_error_code(error::malformed_packet);

std::vector<std::uint8_t> encode(const Frame& f, std::size_t capacity = 8192) {
    std::vector<std::uint8_t> buf(capacity);
    Writer w{MutableByteView(buf)};
    REQUIRE(encode_frame(w, f));
    buf.resize(w.size());
    return buf;
}

Frame decode(const std::vector<std::uint8_t>& bytes) {
    Reader r{ByteView(bytes)};
    Frame f;
    REQUIRE_FALSE(decode_frame(r, f));
    CHECK(r.empty());
    return f;
}

// Builds raw frame bytes from a type byte and varint fields.
std::vector<std::uint8_t> raw(std::uint8_t type, std::initializer_list<std::uint64_t> fields,
                              std::size_t extra_bytes = 0) {
    std::vector<std::uint8_t> buf(1 + 8 * fields.size() + extra_bytes);
    Writer w{MutableByteView(buf)};
    REQUIRE(w.write_u8(type));
    for (std::uint64_t v : fields)
        REQUIRE(encode_varint(w, v));
    REQUIRE(w.write_zeros(extra_bytes));
    buf.resize(w.size());
    return buf;
}

AckFrame ack_of(std::uint64_t delay, std::vector<AckRange> ranges) {
    AckFrame a;
    a.ack_delay_us = delay;
    a.ranges = std::move(ranges);
    return a;
}

const std::uint8_t kStreamData[] = {'h', 'e', 'l', 'l', 'o'};

std::vector<Frame> sample_frames() {
    return {PingFrame{},
            ack_of(0, {{0, 0}}),
            ack_of(25, {{95, 100}, {90, 90}, {80, 88}}),
            ack_of(kVarintMax, {{kVarintMax - 3, kVarintMax}, {0, kVarintMax - 5}}),
            MaxDataFrame{0},
            MaxDataFrame{kVarintMax},
            CloseFrame{0, ""},
            CloseFrame{77, "bye"},
            PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}},
            PathResponseFrame{{8, 7, 6, 5, 4, 3, 2, 1}},
            StreamFrame{0, ByteView()},
            StreamFrame{12345, ByteView(kStreamData)},
            StreamFrame{kVarintMax - 5, ByteView(kStreamData)}};
}

}  // namespace

TEST_CASE("frames have the documented byte layout", "[frame]") {
    CHECK(encode(PingFrame{}) == std::vector<std::uint8_t>{0x01});
    CHECK(encode(ack_of(25, {{95, 100}, {90, 90}, {80, 88}})) ==
          std::vector<std::uint8_t>{0x02, 0x40, 0x64, 0x19, 0x02, 0x05, 0x03, 0x00, 0x00, 0x08});
    CHECK(encode(MaxDataFrame{64}) == std::vector<std::uint8_t>{0x04, 0x40, 0x40});
    CHECK(encode(CloseFrame{7, "ok"}) == std::vector<std::uint8_t>{0x05, 0x07, 0x02, 'o', 'k'});
    CHECK(encode(PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}}) ==
          std::vector<std::uint8_t>{0x06, 1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(encode(PathResponseFrame{{1, 2, 3, 4, 5, 6, 7, 8}}) ==
          std::vector<std::uint8_t>{0x07, 1, 2, 3, 4, 5, 6, 7, 8});
    const std::uint8_t hi[] = {'h', 'i'};
    CHECK(encode(StreamFrame{0, ByteView(hi)}) ==
          std::vector<std::uint8_t>{0x08, 0x00, 0x02, 'h', 'i'});
    CHECK(encode(PaddingFrame{3}) == std::vector<std::uint8_t>{0, 0, 0});
}

TEST_CASE("every sample frame round trips", "[frame]") {
    for (const Frame& f : sample_frames()) {
        INFO("frame index " << f.index());
        const auto bytes = encode(f);
        CHECK(decode(bytes) == f);
    }
}

TEST_CASE("every truncation of every frame fails cleanly", "[frame]") {
    for (const Frame& f : sample_frames()) {
        const auto bytes = encode(f);
        for (std::size_t len = 0; len < bytes.size(); ++len) {
            INFO("frame index " << f.index() << " prefix " << len);
            Reader r{ByteView(bytes.data(), len)};
            Frame out;
            CHECK(decode_frame(r, out) == kMalformed);
            CHECK(r.position() == 0);
            CHECK(for_each_frame(ByteView(bytes.data(), len), [](const Frame&) {}) == kMalformed);
        }
    }
}

TEST_CASE("type-specific decoders reject other type bytes and consume nothing", "[frame]") {
    const std::vector<std::uint8_t> ping = {0x01};
    const std::vector<std::uint8_t> ack = raw(0x02, {5, 0, 0, 0});
    Reader r{ByteView(ping)};
    AckFrame a;
    MaxDataFrame m;
    CloseFrame c;
    PathChallengeFrame pc;
    PathResponseFrame pr;
    StreamFrame s;
    PaddingFrame p;
    CHECK(decode_ack_frame(r, a) == kMalformed);
    CHECK(decode_max_data_frame(r, m) == kMalformed);
    CHECK(decode_close_frame(r, c) == kMalformed);
    CHECK(decode_path_challenge_frame(r, pc) == kMalformed);
    CHECK(decode_path_response_frame(r, pr) == kMalformed);
    CHECK(decode_stream_frame(r, s) == kMalformed);
    CHECK(decode_padding_frame(r, p) == kMalformed);
    CHECK(r.position() == 0);
    Reader ra{ByteView(ack)};
    PingFrame pi;
    CHECK(decode_ping_frame(ra, pi) == kMalformed);
    CHECK(ra.position() == 0);
    CHECK_FALSE(decode_ack_frame(ra, a));
    CHECK(ra.empty());
    CHECK(a == ack_of(0, {{5, 5}}));
}

TEST_CASE("unknown frame type bytes are malformed", "[frame]") {
    std::vector<std::uint8_t> type_bytes = {0x03};
    for (int t = 0x09; t <= 0xff; ++t)
        type_bytes.push_back(static_cast<std::uint8_t>(t));
    for (std::uint8_t t : type_bytes) {
        INFO("type " << int(t));
        const std::vector<std::uint8_t> bytes = {t, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        Reader r{ByteView(bytes)};
        Frame out;
        CHECK(decode_frame(r, out) == kMalformed);
        CHECK(r.position() == 0);
    }
}

TEST_CASE("padding consumes the whole run of zero bytes", "[frame]") {
    const std::vector<std::uint8_t> body = {0, 0, 0, 0x01, 0};
    std::vector<Frame> frames;
    REQUIRE_FALSE(for_each_frame(ByteView(body), [&](const Frame& f) { frames.push_back(f); }));
    REQUIRE(frames.size() == 3);
    CHECK(frames[0] == Frame{PaddingFrame{3}});
    CHECK(frames[1] == Frame{PingFrame{}});
    CHECK(frames[2] == Frame{PaddingFrame{1}});

    std::vector<std::uint8_t> buf(4, 0xee);
    Writer w{MutableByteView(buf)};
    CHECK(encode_padding(w, 0));
    CHECK(w.size() == 0);
    CHECK_FALSE(encode_padding(w, 5));
    CHECK(buf[0] == 0xee);
    CHECK(encode_padding(w, 4));
    CHECK(buf == std::vector<std::uint8_t>(4, 0));
}

TEST_CASE("ACK decoder rejects ranges that reach below zero", "[frame][ack]") {
    // largest, delay, range_count, first_range[, gap, length]...
    CHECK(decode(raw(0x02, {5, 0, 0, 5})) == Frame{ack_of(0, {{0, 5}})});
    const std::vector<std::vector<std::uint8_t>> bad = {
        raw(0x02, {5, 0, 0, 6}),         // first range below 0
        raw(0x02, {10, 0, 1, 8, 1, 0}),  // smallest 2: gap 1 puts the next largest at -1
        raw(0x02, {1, 0, 1, 0, 0, 0}),   // smallest 1: no room for any gap
        raw(0x02, {10, 0, 1, 8, 0, 1}),  // next range is [0..0]: length 1 reaches -1
    };
    for (const auto& bytes : bad) {
        Reader r{ByteView(bytes)};
        Frame out;
        CHECK(decode_frame(r, out) == kMalformed);
        CHECK(r.position() == 0);
    }
    CHECK(decode(raw(0x02, {10, 0, 1, 8, 0, 0})) == Frame{ack_of(0, {{2, 10}, {0, 0}})});
}

TEST_CASE("ACK decoder accepts 256 ranges and rejects more", "[frame][ack]") {
    const auto ranges_bytes = [](std::uint64_t range_count) {
        std::vector<std::uint8_t> buf(16 + 2 * range_count);
        Writer w{MutableByteView(buf)};
        w.write_u8(0x02);
        encode_varint(w, 10000);
        encode_varint(w, 0);
        encode_varint(w, range_count);
        encode_varint(w, 0);
        for (std::uint64_t i = 0; i < range_count; ++i) {
            encode_varint(w, 0);
            encode_varint(w, 0);
        }
        buf.resize(w.size());
        return buf;
    };
    const Frame f = decode(ranges_bytes(kMaxAckRanges - 1));
    const auto& ack = std::get<AckFrame>(f);
    REQUIRE(ack.ranges.size() == kMaxAckRanges);
    CHECK(ack.ranges.back() == AckRange{10000 - 2 * 255, 10000 - 2 * 255});

    const auto too_many = ranges_bytes(kMaxAckRanges);
    Reader r{ByteView(too_many)};
    Frame out;
    CHECK(decode_frame(r, out) == kMalformed);
    // A huge announced count must fail without trying to hold that many ranges.
    const auto huge = raw(0x02, {10, 0, kVarintMax, 0, 0, 0});
    Reader rh{ByteView(huge)};
    CHECK(decode_frame(rh, out) == kMalformed);
}

TEST_CASE("ACK encoder refuses invalid frames and writes nothing", "[frame][ack]") {
    const std::vector<AckFrame> invalid = {
        ack_of(0, {}),
        ack_of(0, {{6, 5}}),                   // smallest > largest
        ack_of(0, {{5, 10}, {3, 4}}),          // adjacent: no missing packet between
        ack_of(0, {{5, 10}, {3, 5}}),          // overlapping
        ack_of(0, {{5, 10}, {20, 30}}),        // ascending
        ack_of(0, {{0, kVarintMax + 1}}),      // largest not encodable
        ack_of(kVarintMax + 1, {{0, 1}}),      // delay not encodable
        ack_of(0, {{8, 10}, {4, 5}, {4, 4}}),  // later pair overlapping
    };
    std::vector<std::uint8_t> buf(64, 0xee);
    for (const AckFrame& a : invalid) {
        Writer w{MutableByteView(buf)};
        CHECK_FALSE(encode_ack_frame(w, a));
        CHECK(w.size() == 0);
    }
    CHECK(buf == std::vector<std::uint8_t>(64, 0xee));
}

TEST_CASE("ACK encoder keeps the highest ranges that fit", "[frame][ack]") {
    std::vector<AckRange> ranges;
    std::uint64_t top = 1'000'000;
    std::mt19937_64 rng(42);
    for (int i = 0; i < 40; ++i) {
        const std::uint64_t length = rng() % 3 == 0 ? rng() % 100'000 : rng() % 10;
        ranges.push_back({top - length, top});
        top = top - length - 2 - (rng() % 3 == 0 ? rng() % 5000 : rng() % 30);
    }
    const AckFrame full = ack_of(300, ranges);
    // Size of the frame carrying only the first k ranges.
    std::vector<std::size_t> size_of(ranges.size() + 1, 0);
    for (std::size_t k = 1; k <= ranges.size(); ++k) {
        size_of[k] = encode(ack_of(300, {ranges.begin(), ranges.begin() + k})).size();
    }
    for (std::size_t capacity = 0; capacity <= size_of.back() + 2; ++capacity) {
        INFO("capacity " << capacity);
        std::vector<std::uint8_t> buf(capacity, 0xee);
        Writer w{MutableByteView(buf)};
        std::size_t expect = 0;
        while (expect < ranges.size() && size_of[expect + 1] <= capacity)
            ++expect;
        if (expect == 0) {
            CHECK_FALSE(encode_ack_frame(w, full));
            CHECK(w.size() == 0);
            CHECK(buf == std::vector<std::uint8_t>(capacity, 0xee));
            continue;
        }
        REQUIRE(encode_ack_frame(w, full));
        CHECK(w.size() == size_of[expect]);
        buf.resize(w.size());
        CHECK(decode(buf) == Frame{ack_of(300, {ranges.begin(), ranges.begin() + expect})});
    }
}

TEST_CASE("ACK encoder sends at most 256 ranges", "[frame][ack]") {
    std::vector<AckRange> ranges;
    for (std::uint64_t i = 0; i < 300; ++i)
        ranges.push_back({10000 - 3 * i, 10000 - 3 * i});
    const auto bytes = encode(ack_of(1, ranges));
    const Frame f = decode(bytes);
    CHECK(f == Frame{ack_of(1, {ranges.begin(), ranges.begin() + kMaxAckRanges})});
}

TEST_CASE("decoding a short ACK into a frame that held a longer one", "[frame][ack]") {
    Frame out = ack_of(9, {{100, 200}, {50, 60}, {10, 20}});
    const auto bytes = encode(ack_of(1, {{5, 5}}));
    Reader r{ByteView(bytes)};
    REQUIRE_FALSE(decode_frame(r, out));
    CHECK(out == Frame{ack_of(1, {{5, 5}})});
}

TEST_CASE("CLOSE reason length is bounded", "[frame]") {
    const CloseFrame longest{3, std::string(kMaxCloseReason, 'x')};
    CHECK(decode(encode(longest)) == Frame{longest});

    std::vector<std::uint8_t> buf(1024);
    Writer w{MutableByteView(buf)};
    CHECK_FALSE(encode_close_frame(w, CloseFrame{3, std::string(kMaxCloseReason + 1, 'x')}));
    CHECK_FALSE(encode_close_frame(w, CloseFrame{kVarintMax + 1, ""}));
    CHECK(w.size() == 0);

    const auto too_long = raw(0x05, {3, kMaxCloseReason + 1}, kMaxCloseReason + 1);
    Reader r{ByteView(too_long)};
    Frame out;
    CHECK(decode_frame(r, out) == kMalformed);
}

TEST_CASE("MAX_DATA above 2^62-1 cannot be encoded", "[frame]") {
    std::vector<std::uint8_t> buf(16);
    Writer w{MutableByteView(buf)};
    CHECK_FALSE(encode_max_data_frame(w, MaxDataFrame{kVarintMax + 1}));
    CHECK(w.size() == 0);
    std::vector<std::uint8_t> small(8);
    Writer ws{MutableByteView(small)};
    CHECK_FALSE(encode_max_data_frame(ws, MaxDataFrame{kVarintMax}));  // needs 9
    CHECK(ws.size() == 0);
}

TEST_CASE("STREAM data may not end beyond 2^62", "[frame][stream]") {
    const auto at_end = raw(0x08, {kVarintMax, 1}, 1);
    const Frame f = decode(at_end);
    CHECK(std::get<StreamFrame>(f).data.size() == 1);
    CHECK(std::get<StreamFrame>(f).data.data() == at_end.data() + at_end.size() - 1);

    const auto beyond = raw(0x08, {kVarintMax, 2}, 2);
    Reader r{ByteView(beyond)};
    Frame out;
    CHECK(decode_frame(r, out) == kMalformed);

    std::vector<std::uint8_t> buf(64);
    Writer w{MutableByteView(buf)};
    const std::uint8_t two[] = {1, 2};
    CHECK_FALSE(encode_stream_frame(w, kVarintMax, ByteView(two)));
    CHECK_FALSE(encode_stream_frame(w, kVarintMax + 1, ByteView()));
    CHECK(w.size() == 0);
    CHECK(encode_stream_frame(w, kVarintMax, ByteView(two, 1)));
}

TEST_CASE("STREAM frames written in place equal encoded ones", "[frame][stream]") {
    const std::uint8_t payload[] = {9, 8, 7, 6, 5};
    for (const std::uint64_t offset :
         {std::uint64_t{0}, std::uint64_t{63}, std::uint64_t{1} << 20}) {
        std::vector<std::uint8_t> a(64), b(64);
        Writer wa{MutableByteView(a)}, wb{MutableByteView(b)};
        REQUIRE(encode_stream_frame(wa, offset, ByteView(payload)));
        MutableByteView data;
        REQUIRE(encode_stream_frame_in_place(wb, offset, sizeof payload, data));
        REQUIRE(data.size() == sizeof payload);
        CHECK(data.data() == b.data() + wb.size() - sizeof payload);  // the frame's last bytes
        std::copy(std::begin(payload), std::end(payload), data.begin());
        CHECK(wa.size() == wb.size());
        CHECK(a == b);
    }
    // Refused like encode_stream_frame, writing nothing: no room, or beyond 2^62.
    std::vector<std::uint8_t> small(6);
    Writer w{MutableByteView(small)};
    MutableByteView data;
    CHECK_FALSE(encode_stream_frame_in_place(w, 0, 4, data));
    CHECK_FALSE(encode_stream_frame_in_place(w, kVarintMax, 2, data));
    CHECK(w.size() == 0);
    CHECK(data.empty());
    CHECK(encode_stream_frame_in_place(w, 0, 3, data));  // exactly fits: 1 + 1 + 1 + 3
    CHECK(w.remaining() == 0);
}

TEST_CASE("STREAM length larger than the remaining body is malformed", "[frame][stream]") {
    const auto bytes = raw(0x08, {0, 5}, 4);
    Reader r{ByteView(bytes)};
    Frame out;
    CHECK(decode_frame(r, out) == kMalformed);
    CHECK(r.position() == 0);
}

TEST_CASE("stream_frame_overhead and stream_frame_capacity agree with the encoder",
          "[frame][stream]") {
    CHECK(stream_frame_overhead(0, 0) == 3);
    CHECK(stream_frame_overhead(64, 63) == 4);
    CHECK(stream_frame_overhead(1u << 30, 16384) == 13);
    const std::uint64_t offsets[] = {
        0, 63, 64, 16383, 16384, 1ull << 30, kVarintMax - 70000, kVarintMax - 5, kVarintMax};
    for (std::uint64_t offset : offsets) {
        bool all_fit = true;
        bool all_maximal = true;
        for (std::size_t space = 0; space <= 70000; ++space) {
            const std::size_t cap = stream_frame_capacity(offset, space);
            const std::uint64_t end_room = kMaxStreamEnd - offset;
            if (cap > 0 && stream_frame_overhead(offset, cap) + cap > space) all_fit = false;
            if (cap < end_room && stream_frame_overhead(offset, cap + 1) + cap + 1 <= space) {
                all_maximal = false;
            }
        }
        INFO("offset " << offset);
        CHECK(all_fit);
        CHECK(all_maximal);
    }
    CHECK(stream_frame_capacity(0, 2) == 0);
    CHECK(stream_frame_capacity(0, 3) == 0);
    CHECK(stream_frame_capacity(0, 4) == 1);
    CHECK(stream_frame_capacity(0, 66) == 63);
    CHECK(stream_frame_capacity(0, 67) == 63);
    CHECK(stream_frame_capacity(0, 68) == 64);
    CHECK(stream_frame_capacity(kVarintMax, 1000) == 1);
    CHECK(stream_frame_capacity(kVarintMax + 1, 1000) == 0);

    for (std::size_t space : {std::size_t{4}, std::size_t{67}, std::size_t{1200}}) {
        const std::size_t cap = stream_frame_capacity(100, space);
        const std::vector<std::uint8_t> payload(cap, 0x5a);
        std::vector<std::uint8_t> buf(space);
        Writer w{MutableByteView(buf)};
        CHECK(encode_stream_frame(w, 100, ByteView(payload)));
        std::vector<std::uint8_t> more(cap + 1, 0x5a);
        Writer w2{MutableByteView(buf)};
        CHECK_FALSE(encode_stream_frame(w2, 100, ByteView(more)));
        CHECK(w2.size() == 0);
    }
}

TEST_CASE("encoders refuse frames that do not fit and write nothing", "[frame]") {
    for (const Frame& f : sample_frames()) {
        const auto* ack = std::get_if<AckFrame>(&f);
        if (ack && ack->ranges.size() > 1) continue;  // truncated instead, tested above
        const std::size_t size = encode(f).size();
        std::vector<std::uint8_t> buf(size - 1, 0xee);
        Writer w{MutableByteView(buf)};
        INFO("frame index " << f.index());
        CHECK_FALSE(encode_frame(w, f));
        CHECK(w.size() == 0);
        CHECK(buf == std::vector<std::uint8_t>(size - 1, 0xee));
    }
}

TEST_CASE("is_ack_eliciting", "[frame]") {
    CHECK_FALSE(is_ack_eliciting(PaddingFrame{1}));
    CHECK_FALSE(is_ack_eliciting(ack_of(0, {{0, 0}})));
    CHECK_FALSE(is_ack_eliciting(CloseFrame{}));
    CHECK(is_ack_eliciting(PingFrame{}));
    CHECK(is_ack_eliciting(MaxDataFrame{}));
    CHECK(is_ack_eliciting(PathChallengeFrame{}));
    CHECK(is_ack_eliciting(PathResponseFrame{}));
    CHECK(is_ack_eliciting(StreamFrame{}));
}

TEST_CASE("for_each_frame walks a body in order and stops at the first error", "[frame]") {
    std::vector<Frame> frames;
    const auto collect = [&](const Frame& f) { frames.push_back(f); };
    CHECK(for_each_frame(ByteView(), collect) == kMalformed);
    CHECK(frames.empty());

    std::vector<std::uint8_t> body;
    for (const Frame& f : sample_frames()) {
        const auto bytes = encode(f);
        body.insert(body.end(), bytes.begin(), bytes.end());
    }
    REQUIRE_FALSE(for_each_frame(ByteView(body), collect));
    CHECK(frames == sample_frames());

    frames.clear();
    body.push_back(0x01);  // PING
    body.push_back(0x03);  // unknown type
    body.push_back(0x01);  // never reached
    CHECK(for_each_frame(ByteView(body), collect) == kMalformed);
    CHECK(frames.size() == sample_frames().size() + 1);

    // A callback returning an error stops the walk.
    int seen = 0;
    const std::error_code stop = make_error_code(error::protocol_violation);
    CHECK(for_each_frame(ByteView(body), [&](const Frame&) {
              ++seen;
              return seen == 2 ? stop : std::error_code{};
          }) == stop);
    CHECK(seen == 2);
}

TEST_CASE("random frame sequences round trip", "[frame]") {
    std::mt19937_64 rng(20240601);
    // A value of a random varint width, so every width is exercised.
    const auto any_varint = [&] {
        static constexpr std::uint64_t kWidthMax[] = {63, 16383, (1ull << 30) - 1, kVarintMax};
        return rng() % (kWidthMax[rng() % 4] + 1);
    };
    std::vector<std::uint8_t> pool(2000);
    for (auto& b : pool)
        b = static_cast<std::uint8_t>(rng());
    const auto random_ack = [&] {
        AckFrame a;
        a.ack_delay_us = any_varint();
        std::uint64_t top = kVarintMax - rng() % 1000;
        const std::size_t n = 1 + rng() % 300;
        for (std::size_t i = 0; i < n && top > 0; ++i) {
            const std::uint64_t length = std::min<std::uint64_t>(any_varint() % (1ull << 40), top);
            a.ranges.push_back({top - length, top});
            const std::uint64_t skip = 2 + any_varint() % (1ull << 40);
            if (top - length < skip) break;
            top = top - length - skip;
        }
        return a;
    };
    for (int iteration = 0; iteration < 300; ++iteration) {
        std::vector<Frame> sent;
        std::vector<std::uint8_t> body(8192);
        Writer w{MutableByteView(body)};
        const int count = 1 + static_cast<int>(rng() % 12);
        for (int i = 0; i < count; ++i) {
            Frame f;
            switch (rng() % 7) {
                case 0:
                    f = PingFrame{};
                    break;
                case 1:
                    f = random_ack();
                    break;
                case 2:
                    f = MaxDataFrame{any_varint()};
                    break;
                case 3:
                    f = CloseFrame{any_varint(), std::string(rng() % 40, 'r')};
                    break;
                case 4:
                    f = PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, static_cast<std::uint8_t>(i)}};
                    break;
                case 5:
                    f = PathResponseFrame{{static_cast<std::uint8_t>(rng())}};
                    break;
                default: {
                    const std::size_t len = rng() % 200;
                    f = StreamFrame{any_varint() / 2, ByteView(pool.data() + rng() % 1800, len)};
                }
            }
            REQUIRE(encode_frame(w, f));
            auto* ack = std::get_if<AckFrame>(&f);
            if (ack && ack->ranges.size() > kMaxAckRanges) ack->ranges.resize(kMaxAckRanges);
            sent.push_back(f);
        }
        std::vector<Frame> received;
        REQUIRE_FALSE(for_each_frame(w.written(), [&](const Frame& f) { received.push_back(f); }));
        CHECK(received == sent);
    }
}
