#include "netsim/workload.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace srmudp;
using namespace srmudp::netsim;

namespace {

Bytes content(std::uint64_t seed, std::uint64_t index, const WorkloadParams& w) {
    Bytes out;
    message_content(seed, index, message_spec(seed, index, w), out);
    return out;
}

bool utf8(std::string_view s) {
    return is_valid_utf8(as_bytes(s));
}

}  // namespace

TEST_CASE("workload: a stream opens with the boundary cases", "[workload]") {
    WorkloadParams w;
    w.max_size = 64u << 10;
    const MessageSpec expected[] = {
        {MessageKind::binary, 0},       {MessageKind::text, 0},      {MessageKind::binary, 1200},
        {MessageKind::text, 1199},      {MessageKind::binary, 1201}, {MessageKind::binary, 1},
        {MessageKind::text, 64u << 10},
    };
    for (std::uint64_t i = 0; i < std::size(expected); ++i) {
        INFO("message " << i);
        CHECK(message_spec(5, i, w) == expected[i]);
    }
    w.max_size = 1000;  // the opening is clamped to max_size
    CHECK(message_spec(5, 2, w).size == 1000);
    CHECK(message_spec(5, 6, w).size == 1000);
    CHECK(message_spec(5, 0, w).size == 0);
}

TEST_CASE("workload: sizes are skewed and bounded and hit every range", "[workload]") {
    WorkloadParams w;
    w.max_size = kMaxWorkloadMessage;
    std::size_t empty = 0, small = 0, near_datagram = 0, large = 0, text = 0;
    const std::size_t n = 20'000;
    for (std::uint64_t i = 0; i < n; ++i) {
        const MessageSpec s = message_spec(99, i, w);
        REQUIRE(s.size <= w.max_size);
        empty += s.size == 0;
        small += s.size > 0 && s.size <= 200;
        near_datagram += s.size >= 1100 && s.size <= 1300;
        large += s.size > (1u << 20);
        text += s.kind == MessageKind::text;
    }
    CHECK(empty > n * 3 / 100);          // ~5%
    CHECK(small > n * 45 / 100);         // ~50%: mostly small
    CHECK(near_datagram > n * 8 / 100);  // ~10%
    CHECK(large > 0);
    CHECK(large < n * 5 / 100);  // a few large
    CHECK(text > n * 25 / 100);  // text_fraction 0.3
    CHECK(text < n * 35 / 100);
}

TEST_CASE("workload: fixed_max makes every message max_size", "[workload]") {
    WorkloadParams w;
    w.mix = SizeMix::fixed_max;
    w.max_size = 4096;
    for (std::uint64_t i = 0; i < 50; ++i) {
        CHECK(message_spec(1, i, w).size == 4096);
    }
    w.max_size = 100u << 20;  // clamped to the workload limit
    CHECK(message_spec(1, 0, w).size == kMaxWorkloadMessage);
}

TEST_CASE("workload: content is a pure function of seed and index", "[workload]") {
    WorkloadParams w;
    for (std::uint64_t i = 2; i < 40; ++i) {
        INFO("message " << i);
        CHECK(content(7, i, w) == content(7, i, w));
        if (message_spec(7, i, w).size > 16) {
            CHECK(content(7, i, w) != content(8, i, w));  // other seed, other stream
        }
    }
    CHECK(message_spec(7, 20, w) == message_spec(7, 20, w));
    Bytes reused(10, 0xEE);  // the output buffer is resized, old content does not leak
    message_content(7, 0, MessageSpec{MessageKind::binary, 0}, reused);
    CHECK(reused.empty());
}

TEST_CASE("workload: text is valid UTF-8 of the exact size with multi-byte characters",
          "[workload]") {
    for (std::size_t size : {1u, 2u, 3u, 4u, 5u, 7u, 1199u, 1200u, 65536u}) {
        Bytes out;
        message_content(3, size, MessageSpec{MessageKind::text, size}, out);
        INFO("size " << size);
        REQUIRE(out.size() == size);
        CHECK(is_valid_utf8(ByteView(out)));
        if (size >= 1199) {
            const auto multi =
                std::count_if(out.begin(), out.end(), [](std::uint8_t b) { return b >= 0xF0; });
            CHECK(multi > 0);  // 4-byte sequences occur
        }
    }
}

TEST_CASE("workload: binary content covers arbitrary bytes", "[workload]") {
    Bytes out;
    message_content(3, 1, MessageSpec{MessageKind::binary, 65536}, out);
    bool seen[256] = {};
    for (std::uint8_t b : out) {
        seen[b] = true;
    }
    CHECK(std::all_of(std::begin(seen), std::end(seen), [](bool s) { return s; }));
    CHECK_FALSE(is_valid_utf8(ByteView(out)));
}

TEST_CASE("workload: is_valid_utf8 follows RFC 3629", "[workload]") {
    CHECK(utf8(""));
    CHECK(utf8("plain ascii\n"));
    CHECK(utf8("\xE2\x82\xAC"));        // U+20AC
    CHECK(utf8("\xF0\x9F\x98\x80"));    // U+1F600
    CHECK(utf8("\xF4\x8F\xBF\xBF"));    // U+10FFFF, the last code point
    CHECK(utf8("\xED\x9F\xBF"));        // U+D7FF, just below the surrogates
    CHECK(utf8("\xEE\x80\x80"));        // U+E000, just above
    CHECK_FALSE(utf8("\xC0\x80"));      // overlong NUL
    CHECK_FALSE(utf8("\xE0\x80\xAF"));  // overlong '/'
    CHECK_FALSE(utf8("\xF0\x80\x80\xAF"));
    CHECK_FALSE(utf8("\xED\xA0\x80"));      // U+D800, a surrogate
    CHECK_FALSE(utf8("\xF4\x90\x80\x80"));  // U+110000
    CHECK_FALSE(utf8("\xE2\x82"));          // truncated
    CHECK_FALSE(utf8("a\x80"));             // stray continuation byte
    CHECK_FALSE(utf8("\xF8\x88\x80\x80\x80"));
    CHECK_FALSE(utf8("\xC3\x28"));  // continuation byte missing
}
