#include "core/codec/varint.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using namespace srmudp;
using namespace srmudp::codec;

namespace {

std::uint64_t decode_all(const std::vector<std::uint8_t>& bytes) {
    Reader r{ByteView(bytes)};
    std::uint64_t v = 0;
    REQUIRE(decode_varint(r, v));
    CHECK(r.empty());
    return v;
}

std::vector<std::uint8_t> encode(std::uint64_t v) {
    std::array<std::uint8_t, 8> buf{};
    Writer w{MutableByteView(buf.data(), buf.size())};
    REQUIRE(encode_varint(w, v));
    return std::vector<std::uint8_t>(buf.begin(), buf.begin() + w.size());
}

}  // namespace

TEST_CASE("varint decodes the RFC 9000 appendix A.1 samples", "[varint]") {
    CHECK(decode_all({0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}) == 151288809941952652ull);
    CHECK(decode_all({0x9d, 0x7f, 0x3e, 0x7d}) == 494878333u);
    CHECK(decode_all({0x7b, 0xbd}) == 15293u);
    CHECK(decode_all({0x25}) == 37u);
    CHECK(decode_all({0x40, 0x25}) == 37u);  // non-minimal, accepted
}

TEST_CASE("varint encodes the RFC 9000 samples minimally", "[varint]") {
    CHECK(encode(151288809941952652ull) ==
          std::vector<std::uint8_t>{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c});
    CHECK(encode(494878333u) == std::vector<std::uint8_t>{0x9d, 0x7f, 0x3e, 0x7d});
    CHECK(encode(15293u) == std::vector<std::uint8_t>{0x7b, 0xbd});
    CHECK(encode(37u) == std::vector<std::uint8_t>{0x25});
}

TEST_CASE("varint sizes and round trips at every width boundary", "[varint]") {
    struct Case {
        std::uint64_t value;
        std::size_t size;
    };
    const Case cases[] = {{0, 1},          {63, 1},        {64, 2},
                          {16383, 2},      {16384, 4},     {(1ull << 30) - 1, 4},
                          {1ull << 30, 8}, {kVarintMax, 8}};
    for (const Case& c : cases) {
        INFO("value " << c.value);
        CHECK(varint_size(c.value) == c.size);
        const auto bytes = encode(c.value);
        CHECK(bytes.size() == c.size);
        CHECK(decode_all(bytes) == c.value);
    }
    CHECK(varint_size(kVarintMax + 1) == 0);
    CHECK(varint_size(~0ull) == 0);
}

TEST_CASE("varint encode refuses values above 2^62-1 and full buffers", "[varint]") {
    std::array<std::uint8_t, 8> buf{};
    Writer w{MutableByteView(buf.data(), buf.size())};
    CHECK_FALSE(encode_varint(w, kVarintMax + 1));
    CHECK_FALSE(encode_varint(w, ~0ull));
    CHECK(w.size() == 0);

    std::array<std::uint8_t, 3> small{};
    Writer ws{MutableByteView(small.data(), small.size())};
    CHECK_FALSE(encode_varint(ws, 16384));  // needs 4
    CHECK(ws.size() == 0);
    CHECK(encode_varint(ws, 16383));
    CHECK_FALSE(encode_varint(ws, 64));  // needs 2, 1 left
    CHECK(encode_varint(ws, 63));
    CHECK(ws.remaining() == 0);
}

TEST_CASE("varint decode of a truncated encoding consumes nothing", "[varint]") {
    const std::uint8_t full[] = {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c};
    for (std::size_t len = 0; len < sizeof full; ++len) {
        Reader r{ByteView(full, len)};
        std::uint64_t v = 99;
        CHECK_FALSE(decode_varint(r, v));
        CHECK(v == 99);
        CHECK(r.position() == 0);
    }
    const std::uint8_t two[] = {0x40};
    Reader r{ByteView(two)};
    std::uint64_t v = 0;
    CHECK_FALSE(decode_varint(r, v));
    CHECK(r.remaining() == 1);
}

TEST_CASE("varint decode accepts non-minimal encodings of every width", "[varint]") {
    CHECK(decode_all({0x80, 0x00, 0x00, 0x25}) == 37u);
    CHECK(decode_all({0xc0, 0, 0, 0, 0, 0, 0, 0x25}) == 37u);
    CHECK(decode_all({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) == kVarintMax);
}
