#include "core/codec/packet.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

#include "srmudp/error.hpp"

using namespace srmudp;
using namespace srmudp::codec;

namespace {

PacketHeader initiation(ConnectionId sender) {
    PacketHeader h;
    h.type = PacketType::initiation;
    h.sender_cid = sender;
    return h;
}

PacketHeader response(ConnectionId receiver, ConnectionId sender) {
    PacketHeader h;
    h.type = PacketType::response;
    h.receiver_cid = receiver;
    h.sender_cid = sender;
    return h;
}

PacketHeader data(ConnectionId receiver, std::uint64_t pn, bool key_phase) {
    PacketHeader h;
    h.type = PacketType::data;
    h.receiver_cid = receiver;
    h.packet_number = pn;
    h.key_phase = key_phase;
    return h;
}

std::vector<std::uint8_t> encode(const PacketHeader& h) {
    std::array<std::uint8_t, kMaxPacketHeaderSize> buf{};
    const std::size_t n = encode_packet_header(h, MutableByteView(buf.data(), buf.size()));
    REQUIRE(n == packet_header_size(h.type));
    return std::vector<std::uint8_t>(buf.begin(), buf.begin() + n);
}

void check_equal(const PacketHeader& a, const PacketHeader& b) {
    CHECK(a.type == b.type);
    CHECK(a.version == b.version);
    CHECK(a.key_phase == b.key_phase);
    CHECK(a.receiver_cid == b.receiver_cid);
    CHECK(a.sender_cid == b.sender_cid);
    CHECK(a.packet_number == b.packet_number);
}

std::error_code decode(const std::vector<std::uint8_t>& bytes, PacketHeader& h, std::size_t& size) {
    return decode_packet_header(ByteView(bytes), h, size);
}

}  // namespace

TEST_CASE("packet header sizes", "[packet]") {
    CHECK(packet_header_size(PacketType::initiation) == 10);
    CHECK(packet_header_size(PacketType::response) == 18);
    CHECK(packet_header_size(PacketType::data) == 18);
    CHECK(packet_header_size(static_cast<PacketType>(0)) == 0);
}

TEST_CASE("packet headers have the documented byte layout", "[packet]") {
    CHECK(encode(initiation(0x0102030405060708)) ==
          std::vector<std::uint8_t>{0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(encode(response(0x1112131415161718, 0x2122232425262728)) ==
          std::vector<std::uint8_t>{0x82, 0x01, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
                                    0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28});
    CHECK(encode(data(0x1112131415161718, 0x0000000000000102, false)) ==
          std::vector<std::uint8_t>{0x83, 0x01, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0,
                                    0, 0, 0, 0, 0, 0x01, 0x02});
    CHECK(encode(data(1, 0, true))[0] == 0x87);
}

TEST_CASE("packet headers round trip and leave the body after them", "[packet]") {
    const PacketHeader headers[] = {initiation(1), initiation(~0ull), response(5, 6),
                                    data(7, 0, false), data(7, ~0ull, true)};
    for (const PacketHeader& h : headers) {
        auto bytes = encode(h);
        const std::size_t header_len = bytes.size();
        bytes.push_back(0xab);  // body
        PacketHeader out;
        std::size_t size = 0;
        REQUIRE_FALSE(decode(bytes, out, size));
        CHECK(size == header_len);
        check_equal(out, h);
    }
}

TEST_CASE("packet header fields a type does not carry decode as zero", "[packet]") {
    PacketHeader h = initiation(9);
    h.receiver_cid = 123;  // ignored when encoding
    h.packet_number = 456;
    const auto bytes = encode(h);
    PacketHeader out = data(77, 88, true);
    std::size_t size = 0;
    REQUIRE_FALSE(decode(bytes, out, size));
    CHECK(out.receiver_cid == 0);
    CHECK(out.packet_number == 0);
    CHECK_FALSE(out.key_phase);
    CHECK(out.sender_cid == 9);
}

TEST_CASE("every truncated packet header is malformed", "[packet]") {
    const PacketHeader headers[] = {initiation(1), response(2, 3), data(4, 5, true)};
    for (const PacketHeader& h : headers) {
        const auto bytes = encode(h);
        for (std::size_t len = 0; len < bytes.size(); ++len) {
            INFO("type " << int(h.type) << " length " << len);
            PacketHeader out;
            std::size_t size = 0;
            CHECK(decode_packet_header(ByteView(bytes.data(), len), out, size) ==
                  make_error_code(error::malformed_packet));
        }
    }
}

TEST_CASE("first byte: only 0x81..0x83 and 0x87 are valid", "[packet]") {
    for (int b = 0; b < 256; ++b) {
        std::vector<std::uint8_t> bytes(kMaxPacketHeaderSize, 0x11);
        bytes[0] = static_cast<std::uint8_t>(b);
        bytes[1] = kProtocolVersion;
        PacketHeader out;
        std::size_t size = 0;
        const bool valid = b == 0x81 || b == 0x82 || b == 0x83 || b == 0x87;
        INFO("first byte " << b);
        if (valid) {
            CHECK_FALSE(decode(bytes, out, size));
        } else {
            CHECK(decode(bytes, out, size) == make_error_code(error::malformed_packet));
        }
        CHECK(looks_like_srmudp(ByteView(bytes)) == ((b & 0xC0) == 0x80));
    }
}

TEST_CASE("another version is reported as unsupported - even when short", "[packet]") {
    for (std::uint8_t version : {std::uint8_t{0}, std::uint8_t{2}, std::uint8_t{0xff}}) {
        auto bytes = encode(data(1, 2, false));
        bytes[1] = version;
        PacketHeader out;
        std::size_t size = 0;
        CHECK(decode(bytes, out, size) == make_error_code(error::unsupported_version));
        CHECK(out.version == version);
        CHECK(out.type == PacketType::data);
        bytes.resize(2);  // a future version may have a shorter header
        CHECK(decode(bytes, out, size) == make_error_code(error::unsupported_version));
    }
    // The first byte is checked before the version.
    const std::vector<std::uint8_t> bad = {0x40, 0x02};
    PacketHeader out;
    std::size_t size = 0;
    CHECK(decode(bad, out, size) == make_error_code(error::malformed_packet));
}

TEST_CASE("a required connection ID of 0 is malformed", "[packet]") {
    PacketHeader out;
    std::size_t size = 0;
    auto init = encode(initiation(1));
    std::fill(init.begin() + 2, init.end(), 0);
    CHECK(decode(init, out, size) == make_error_code(error::malformed_packet));

    auto resp = encode(response(1, 2));
    std::fill(resp.begin() + 2, resp.begin() + 10, 0);
    CHECK(decode(resp, out, size) == make_error_code(error::malformed_packet));
    resp = encode(response(1, 2));
    std::fill(resp.begin() + 10, resp.end(), 0);
    CHECK(decode(resp, out, size) == make_error_code(error::malformed_packet));

    auto dat = encode(data(1, 2, false));
    std::fill(dat.begin() + 2, dat.begin() + 10, 0);
    CHECK(decode(dat, out, size) == make_error_code(error::malformed_packet));
}

TEST_CASE("key phase on a non-DATA packet is malformed", "[packet]") {
    for (std::uint8_t first : {std::uint8_t{0x85}, std::uint8_t{0x86}}) {
        std::vector<std::uint8_t> bytes(kMaxPacketHeaderSize, 0x11);
        bytes[0] = first;
        bytes[1] = kProtocolVersion;
        PacketHeader out;
        std::size_t size = 0;
        CHECK(decode(bytes, out, size) == make_error_code(error::malformed_packet));
    }
}

TEST_CASE("encode_packet_header refuses small buffers and invalid headers", "[packet]") {
    std::array<std::uint8_t, kMaxPacketHeaderSize> buf{};
    buf.fill(0xee);
    CHECK(encode_packet_header(data(1, 2, false), MutableByteView(buf.data(), 17)) == 0);
    CHECK(encode_packet_header(initiation(1), MutableByteView(buf.data(), 9)) == 0);
    CHECK(encode_packet_header(initiation(1), MutableByteView(buf.data(), 10)) == 10);
    buf.fill(0xee);
    const MutableByteView out(buf.data(), buf.size());
    CHECK(encode_packet_header(initiation(0), out) == 0);
    CHECK(encode_packet_header(response(0, 1), out) == 0);
    CHECK(encode_packet_header(response(1, 0), out) == 0);
    CHECK(encode_packet_header(data(0, 1, false), out) == 0);
    PacketHeader keyed = response(1, 2);
    keyed.key_phase = true;
    CHECK(encode_packet_header(keyed, out) == 0);
    PacketHeader bad_type = data(1, 2, false);
    bad_type.type = static_cast<PacketType>(0);
    CHECK(encode_packet_header(bad_type, out) == 0);
    bad_type.type = static_cast<PacketType>(4);
    CHECK(encode_packet_header(bad_type, out) == 0);
    for (std::uint8_t b : buf)
        CHECK(b == 0xee);
}

TEST_CASE("looks_like_srmudp tells packets from STUN", "[packet]") {
    CHECK_FALSE(looks_like_srmudp(ByteView()));
    const std::uint8_t stun[] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
    CHECK_FALSE(looks_like_srmudp(ByteView(stun)));
    const auto bytes = encode(response(3, 4));
    CHECK(looks_like_srmudp(ByteView(bytes)));
}

TEST_CASE("random packet headers round trip", "[packet]") {
    std::mt19937_64 rng(0x5eed);
    for (int i = 0; i < 2000; ++i) {
        const auto cid = [&] { return rng() | 1; };
        PacketHeader h;
        switch (rng() % 3) {
            case 0:
                h = initiation(cid());
                break;
            case 1:
                h = response(cid(), cid());
                break;
            default:
                h = data(cid(), rng(), (rng() & 1) != 0);
                break;
        }
        const auto bytes = encode(h);
        PacketHeader out;
        std::size_t size = 0;
        REQUIRE_FALSE(decode(bytes, out, size));
        CHECK(size == bytes.size());
        check_equal(out, h);
    }
}
