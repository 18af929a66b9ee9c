#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "core/message/record_header.hpp"

using srmudp::Bytes;
using srmudp::ByteView;
using srmudp::MessageKind;
using srmudp::MutableByteView;
using namespace srmudp::message;

namespace {

Bytes encode(MessageKind kind, std::uint64_t size) {
    Bytes out(kMaxRecordHeaderSize, 0);
    out.resize(encode_record_header(RecordHeader{kind, size}, MutableByteView(out)));
    return out;
}

}  // namespace

TEST_CASE("record header length follows the varint boundaries of (size << 1) | kind") {
    // A 1-byte varint holds values up to 63, so sizes up to 31; 2 bytes 16383 -> 8191; 4 bytes
    // 2^30 - 1 -> 2^29 - 1.
    CHECK(record_header_size(0) == 1);
    CHECK(record_header_size(31) == 1);
    CHECK(record_header_size(32) == 2);
    CHECK(record_header_size(8191) == 2);
    CHECK(record_header_size(8192) == 4);
    CHECK(record_header_size((1u << 29) - 1) == 4);
    CHECK(record_header_size(1u << 29) == 8);
    CHECK(record_header_size(kMaxRecordMessageSize) == 8);
    CHECK(record_header_size(kMaxRecordMessageSize + 1) == 0);
}

TEST_CASE("record header length from the first byte's two high bits") {
    CHECK(record_header_size_from_first_byte(0x00) == 1);
    CHECK(record_header_size_from_first_byte(0x3f) == 1);
    CHECK(record_header_size_from_first_byte(0x40) == 2);
    CHECK(record_header_size_from_first_byte(0x7f) == 2);
    CHECK(record_header_size_from_first_byte(0x80) == 4);
    CHECK(record_header_size_from_first_byte(0xc0) == 8);
    CHECK(record_header_size_from_first_byte(0xff) == 8);
}

TEST_CASE("record headers encode the RFC 9000 appendix A.1 varint examples") {
    // Values 37, 15293, 494878333, 151288809941952652: odd values are binary, even ones text.
    CHECK(encode(MessageKind::binary, 18) == Bytes{0x25});
    CHECK(encode(MessageKind::binary, 7646) == Bytes{0x7b, 0xbd});
    CHECK(encode(MessageKind::binary, 247439166) == Bytes{0x9d, 0x7f, 0x3e, 0x7d});
    CHECK(encode(MessageKind::text, 75644404970976326ull) ==
          Bytes{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c});
}

TEST_CASE("record headers round-trip at every length boundary and both kinds") {
    const std::uint64_t sizes[] = {
        0, 1, 31, 32, 8191, 8192, (1u << 29) - 1, 1u << 29, kMaxRecordMessageSize};
    for (std::uint64_t size : sizes) {
        for (MessageKind kind : {MessageKind::text, MessageKind::binary}) {
            const Bytes wire = encode(kind, size);
            REQUIRE(wire.size() == record_header_size(size));
            RecordHeader decoded;
            CHECK(decode_record_header(ByteView(wire), decoded) == wire.size());
            CHECK(decoded.kind == kind);
            CHECK(decoded.message_size == size);
        }
    }
}

TEST_CASE("decoding accepts a longer than necessary varint") {
    // RFC 9000 appendix A.1: 0x4025 is a two-byte encoding of 37.
    const Bytes wire{0x40, 0x25, 0xaa};
    RecordHeader decoded;
    CHECK(decode_record_header(ByteView(wire), decoded) == 2);
    CHECK(decoded.kind == MessageKind::binary);
    CHECK(decoded.message_size == 18);
}

TEST_CASE("decoding a truncated header reads nothing") {
    RecordHeader decoded{MessageKind::text, 99};
    CHECK(decode_record_header(ByteView(), decoded) == 0);
    const Bytes four_byte_prefix{0x9d, 0x7f, 0x3e};
    CHECK(decode_record_header(ByteView(four_byte_prefix), decoded) == 0);
    const Bytes eight_byte_prefix{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8};
    CHECK(decode_record_header(ByteView(eight_byte_prefix), decoded) == 0);
    CHECK(decoded.kind == MessageKind::text);
    CHECK(decoded.message_size == 99);
}

TEST_CASE("encoding refuses a short buffer or an oversized message") {
    Bytes out{0xee, 0xee, 0xee};
    CHECK(encode_record_header(RecordHeader{MessageKind::text, 8192}, MutableByteView(out)) == 0);
    CHECK(encode_record_header(RecordHeader{MessageKind::text, kMaxRecordMessageSize + 1},
                               MutableByteView(out)) == 0);
    CHECK(out == Bytes{0xee, 0xee, 0xee});
    CHECK(encode_record_header(RecordHeader{MessageKind::text, 8191}, MutableByteView(out)) == 2);
    CHECK(out == Bytes{0x7f, 0xfe, 0xee});
}
