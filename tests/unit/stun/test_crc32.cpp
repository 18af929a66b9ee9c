#include "stun/crc32.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using namespace srmudp;
using namespace srmudp::stun;

TEST_CASE("crc32 matches the ISO HDLC check values", "[stun][crc32]") {
    CHECK(crc32(as_bytes("123456789")) == 0xCBF43926u);
    CHECK(crc32(as_bytes("The quick brown fox jumps over the lazy dog")) == 0x414FA339u);
    CHECK(crc32(ByteView()) == 0u);
    const std::uint8_t zero[] = {0x00};
    CHECK(crc32(ByteView(zero)) == 0xD202EF8Du);
}

TEST_CASE("crc32 sees every bit of its input", "[stun][crc32]") {
    std::vector<std::uint8_t> data(64);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<std::uint8_t>(i * 7);
    const std::uint32_t reference = crc32(ByteView(data));
    for (std::size_t i = 0; i < data.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            data[i] ^= static_cast<std::uint8_t>(1u << bit);
            CHECK(crc32(ByteView(data)) != reference);
            data[i] ^= static_cast<std::uint8_t>(1u << bit);
        }
    }
    CHECK(crc32(ByteView(data)) == reference);
}
