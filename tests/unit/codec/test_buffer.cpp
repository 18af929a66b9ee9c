#include "core/codec/buffer.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>

using namespace srmudp;
using namespace srmudp::codec;

TEST_CASE("Reader reads big-endian integers in order", "[buffer]") {
    const std::uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                               0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    Reader r{ByteView(in)};
    std::uint8_t a = 0;
    std::uint16_t b = 0;
    std::uint32_t c = 0;
    std::uint64_t d = 0;
    REQUIRE(r.read_u8(a));
    REQUIRE(r.read_u16(b));
    REQUIRE(r.read_u32(c));
    REQUIRE(r.read_u64(d));
    CHECK(a == 0x01);
    CHECK(b == 0x0203);
    CHECK(c == 0x04050607);
    CHECK(d == 0x08090a0b0c0d0e0full);
    CHECK(r.empty());
    CHECK(r.position() == sizeof in);
    CHECK(r.remaining() == 0);
}

TEST_CASE("Reader refuses reads past the end and consumes nothing", "[buffer]") {
    const std::uint8_t in[] = {0xaa, 0xbb, 0xcc};
    Reader r{ByteView(in)};
    std::uint32_t v32 = 7;
    std::uint64_t v64 = 7;
    CHECK_FALSE(r.read_u32(v32));
    CHECK_FALSE(r.read_u64(v64));
    CHECK(v32 == 7);
    CHECK(v64 == 7);
    CHECK(r.position() == 0);

    std::uint16_t v16 = 0;
    REQUIRE(r.read_u16(v16));
    CHECK(v16 == 0xaabb);
    CHECK_FALSE(r.read_u16(v16));
    CHECK(r.remaining() == 1);

    ByteView bytes;
    CHECK_FALSE(r.read_bytes(2, bytes));
    CHECK_FALSE(r.skip(2));
    CHECK(r.remaining() == 1);

    std::uint8_t v8 = 0;
    REQUIRE(r.peek_u8(v8));
    CHECK(v8 == 0xcc);
    CHECK(r.remaining() == 1);
    REQUIRE(r.read_u8(v8));
    CHECK_FALSE(r.read_u8(v8));
    CHECK_FALSE(r.peek_u8(v8));
    CHECK(r.empty());
}

TEST_CASE("Reader views bytes without copying - skips and exposes the rest", "[buffer]") {
    const std::uint8_t in[] = {1, 2, 3, 4, 5, 6};
    Reader r{ByteView(in)};
    ByteView bytes;
    REQUIRE(r.read_bytes(2, bytes));
    CHECK(bytes.data() == in);
    CHECK(bytes.size() == 2);
    REQUIRE(r.skip(1));
    CHECK(r.position() == 3);
    CHECK(r.rest().data() == in + 3);
    CHECK(r.rest().size() == 3);
    REQUIRE(r.read_bytes(0, bytes));
    CHECK(bytes.empty());
    REQUIRE(r.read_bytes(3, bytes));
    CHECK(bytes[2] == 6);
    CHECK(r.empty());
    CHECK(r.rest().empty());
    CHECK(r.skip(0));
}

TEST_CASE("Reader over an empty view", "[buffer]") {
    Reader r{ByteView()};
    std::uint8_t v = 0;
    CHECK(r.empty());
    CHECK_FALSE(r.read_u8(v));
    ByteView bytes;
    CHECK(r.read_bytes(0, bytes));
    CHECK_FALSE(r.read_bytes(1, bytes));
}

TEST_CASE("Writer writes big-endian integers and bytes", "[buffer]") {
    std::array<std::uint8_t, 19> out{};
    Writer w{MutableByteView(out.data(), out.size())};
    REQUIRE(w.write_u8(0x01));
    REQUIRE(w.write_u16(0x0203));
    REQUIRE(w.write_u32(0x04050607));
    REQUIRE(w.write_u64(0x08090a0b0c0d0e0full));
    const std::uint8_t tail[] = {0x10, 0x11};
    REQUIRE(w.write_bytes(ByteView(tail)));
    REQUIRE(w.write_zeros(2));
    CHECK(w.size() == 19);
    CHECK(w.remaining() == 0);
    for (std::size_t i = 0; i < 17; ++i)
        CHECK(out[i] == i + 1);
    CHECK(out[17] == 0);
    CHECK(out[18] == 0);
    CHECK(w.data() == out.data());
    CHECK(w.written().size() == 19);
}

TEST_CASE("Writer refuses writes that do not fit and writes nothing", "[buffer]") {
    std::array<std::uint8_t, 5> out{};
    out.fill(0xee);
    Writer w{MutableByteView(out.data(), out.size())};
    REQUIRE(w.write_u16(0x1234));
    CHECK_FALSE(w.write_u32(0xdeadbeef));
    CHECK_FALSE(w.write_u64(1));
    const std::uint8_t four[] = {1, 2, 3, 4};
    CHECK_FALSE(w.write_bytes(ByteView(four)));
    CHECK_FALSE(w.write_zeros(4));
    CHECK(w.size() == 2);
    CHECK(out[2] == 0xee);
    CHECK(out[3] == 0xee);
    CHECK(out[4] == 0xee);
    REQUIRE(w.write_bytes(ByteView(four, 3)));
    CHECK(w.remaining() == 0);
    CHECK_FALSE(w.write_u8(0));
    CHECK(w.write_bytes(ByteView()));
    CHECK(w.write_zeros(0));
    CHECK(out[4] == 3);
}

TEST_CASE("Writer claims space for the caller to fill - or nothing if it does not fit",
          "[buffer]") {
    std::array<std::uint8_t, 8> buf{};
    Writer w{MutableByteView(buf.data(), buf.size())};
    REQUIRE(w.write_u16(0x0102));
    const MutableByteView region = w.claim(4);
    REQUIRE(region.size() == 4);
    CHECK(region.data() == buf.data() + 2);
    CHECK(w.size() == 6);
    CHECK(w.claim(3).empty());  // 2 left
    CHECK(w.size() == 6);
    CHECK(w.claim(2).size() == 2);
    CHECK(w.remaining() == 0);
    CHECK(w.claim(0).empty());
}

TEST_CASE("Writer over an empty view only accepts empty writes", "[buffer]") {
    Writer w{MutableByteView()};
    CHECK_FALSE(w.write_u8(1));
    CHECK(w.write_zeros(0));
    CHECK(w.write_bytes(ByteView()));
    CHECK(w.size() == 0);
    CHECK(w.written().empty());
}
