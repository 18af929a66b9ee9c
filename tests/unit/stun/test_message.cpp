#include "stun/message.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/codec/packet.hpp"
#include "srmudp/error.hpp"
#include "stun/crc32.hpp"

using namespace srmudp;
using namespace srmudp::stun;

namespace {

// RFC 5769 section 2.1: Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
// MESSAGE-INTEGRITY and FINGERPRINT.
const std::vector<std::uint8_t> kSampleRequest = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

// RFC 5769 section 2.2: SOFTWARE, XOR-MAPPED-ADDRESS 192.0.2.1:32853, MESSAGE-INTEGRITY,
// FINGERPRINT. Attribute boundaries at 20, 36, 48, 72, 80.
const std::vector<std::uint8_t> kSampleIpv4Response = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

// RFC 5769 section 2.3: the same with XOR-MAPPED-ADDRESS
// [2001:db8:1234:5678:11:2233:4455:6677]:32853.
const std::vector<std::uint8_t> kSampleIpv6Response = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

const TransactionId kSampleId = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
const TransactionId kId = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

const std::error_code kMalformed = make_error_code(error::malformed_packet);

using Attr = std::pair<std::uint16_t, std::vector<std::uint8_t>>;

void put_u16(std::vector<std::uint8_t>& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    put_u16(out, v >> 16);
    put_u16(out, v & 0xFFFF);
}

// Builds a STUN message by hand, independently of the encoders under test.
std::vector<std::uint8_t> build(std::uint16_t type, const std::vector<Attr>& attributes,
                                bool fingerprint = false, const TransactionId& id = kId) {
    std::vector<std::uint8_t> out;
    put_u16(out, type);
    put_u16(out, 0);
    put_u32(out, kMagicCookie);
    out.insert(out.end(), id.begin(), id.end());
    for (const auto& [attribute_type, value] : attributes) {
        put_u16(out, attribute_type);
        put_u16(out, static_cast<std::uint32_t>(value.size()));
        out.insert(out.end(), value.begin(), value.end());
        while (out.size() % 4 != 0)
            out.push_back(0xAA);
    }
    const std::size_t length = out.size() - kHeaderSize + (fingerprint ? 8 : 0);
    out[2] = static_cast<std::uint8_t>(length >> 8);
    out[3] = static_cast<std::uint8_t>(length);
    if (fingerprint) {
        const std::uint32_t crc = crc32(ByteView(out)) ^ 0x5354554Eu;
        put_u16(out, 0x8028);
        put_u16(out, 4);
        put_u32(out, crc);
    }
    return out;
}

std::vector<std::uint8_t> v4_address(std::uint8_t family, std::uint16_t port,
                                     std::vector<std::uint8_t> ip) {
    std::vector<std::uint8_t> value = {0x00, family};
    put_u16(value, port);
    value.insert(value.end(), ip.begin(), ip.end());
    return value;
}

std::error_code decode(const std::vector<std::uint8_t>& bytes, BindingResponse& out) {
    return decode_binding_response(ByteView(bytes), out);
}

PeerAddress v6(std::string_view literal, std::uint16_t port) {
    auto address = PeerAddress::from_ip(literal, port);
    REQUIRE(address);
    return *address;
}

}  // namespace

TEST_CASE("RFC 5769 2.2: IPv4 Binding success response", "[stun][message]") {
    BindingResponse r;
    REQUIRE_FALSE(decode(kSampleIpv4Response, r));
    CHECK(r.id == kSampleId);
    CHECK(r.success);
    REQUIRE(r.mapped);
    CHECK(*r.mapped == PeerAddress::v4(192, 0, 2, 1, 32853));
    CHECK(r.error_code == 0);
    CHECK(looks_like_stun(ByteView(kSampleIpv4Response)));
}

TEST_CASE("RFC 5769 2.3: IPv6 Binding success response", "[stun][message]") {
    BindingResponse r;
    REQUIRE_FALSE(decode(kSampleIpv6Response, r));
    CHECK(r.id == kSampleId);
    CHECK(r.success);
    REQUIRE(r.mapped);
    CHECK(*r.mapped == v6("2001:db8:1234:5678:11:2233:4455:6677", 32853));
}

TEST_CASE("RFC 5769 2.1: the sample request is a request - not a response", "[stun][message]") {
    TransactionId id{};
    REQUIRE_FALSE(decode_binding_request(ByteView(kSampleRequest), id));
    CHECK(id == kSampleId);
    BindingResponse r;
    CHECK(decode(kSampleRequest, r) == kMalformed);
    CHECK(decode_binding_request(ByteView(kSampleIpv4Response), id) == kMalformed);
}

TEST_CASE("A wrong FINGERPRINT rejects the message", "[stun][message]") {
    for (const auto* vector : {&kSampleIpv4Response, &kSampleIpv6Response, &kSampleRequest}) {
        // Flip one bit in the header, in an attribute and in the CRC itself.
        for (std::size_t at : {std::size_t{9}, std::size_t{25}, vector->size() - 1}) {
            auto corrupted = *vector;
            corrupted[at] ^= 0x01;
            BindingResponse r;
            TransactionId id{};
            CHECK(decode(corrupted, r) == kMalformed);
            CHECK(decode_binding_request(ByteView(corrupted), id) == kMalformed);
        }
    }
}

TEST_CASE("Every truncation of the RFC 5769 responses fails cleanly", "[stun][message]") {
    for (const auto* vector : {&kSampleIpv4Response, &kSampleIpv6Response}) {
        for (std::size_t size = 0; size < vector->size(); ++size) {
            const std::vector<std::uint8_t> cut(vector->begin(), vector->begin() + size);
            BindingResponse r;
            CHECK_FALSE(looks_like_stun(ByteView(cut)));
            CHECK(decode(cut, r) == kMalformed);
        }
    }
}

TEST_CASE("Truncations with a consistent length decode only at attribute boundaries",
          "[stun][message]") {
    // The IPv4 vector's attributes end at 36 (SOFTWARE), 48 (XOR-MAPPED-ADDRESS), 72
    // (MESSAGE-INTEGRITY); a cut anywhere else splits an attribute.
    for (std::size_t size = kHeaderSize; size < kSampleIpv4Response.size(); size += 4) {
        std::vector<std::uint8_t> cut(kSampleIpv4Response.begin(),
                                      kSampleIpv4Response.begin() + size);
        cut[2] = static_cast<std::uint8_t>((size - kHeaderSize) >> 8);
        cut[3] = static_cast<std::uint8_t>(size - kHeaderSize);
        REQUIRE(looks_like_stun(ByteView(cut)));
        BindingResponse r;
        const std::error_code ec = decode(cut, r);
        INFO("size " << size);
        if (size == 20 || size == 36) {
            CHECK_FALSE(ec);
            CHECK_FALSE(r.mapped);
        } else if (size == 48 || size == 72) {
            CHECK_FALSE(ec);
            CHECK(r.mapped == PeerAddress::v4(192, 0, 2, 1, 32853));
        } else {
            CHECK(ec == kMalformed);
        }
    }
}

TEST_CASE("looks_like_stun checks bits - cookie and length", "[stun][message]") {
    const auto request = encode_binding_request(kId);
    CHECK(looks_like_stun(ByteView(request)));

    auto bad = request;
    bad[0] |= 0x40;
    CHECK_FALSE(looks_like_stun(ByteView(bad)));
    bad = request;
    bad[0] |= 0x80;
    CHECK_FALSE(looks_like_stun(ByteView(bad)));
    bad = request;
    bad[7] ^= 0x01;  // cookie
    CHECK_FALSE(looks_like_stun(ByteView(bad)));
    bad = request;
    bad[3] = 7;  // not a multiple of 4
    CHECK_FALSE(looks_like_stun(ByteView(bad)));
    bad = request;
    bad[3] = 12;  // longer than the datagram
    CHECK_FALSE(looks_like_stun(ByteView(bad)));
    bad = request;
    bad[3] = 4;  // shorter than the datagram
    CHECK_FALSE(looks_like_stun(ByteView(bad)));
    bad = request;
    bad.push_back(0);  // trailing byte
    CHECK_FALSE(looks_like_stun(ByteView(bad)));
    CHECK_FALSE(looks_like_stun(ByteView(request.data(), 19)));
    CHECK_FALSE(looks_like_stun(ByteView()));
}

TEST_CASE("Demultiplexing: srmudp packets and STUN messages never look alike", "[stun][message]") {
    // An srmudp-like datagram with a STUN cookie and a consistent length field is still not STUN.
    for (int first = 0x40; first <= 0xFF; ++first) {
        auto datagram = encode_binding_request(kId);
        datagram[0] = static_cast<std::uint8_t>(first);
        CHECK_FALSE(looks_like_stun(ByteView(datagram)));
    }
    for (const auto* message : {&kSampleRequest, &kSampleIpv4Response, &kSampleIpv6Response}) {
        CHECK(looks_like_stun(ByteView(*message)));
        CHECK_FALSE(codec::looks_like_srmudp(ByteView(*message)));
    }
    const auto request = encode_binding_request(kId);
    CHECK_FALSE(codec::looks_like_srmudp(ByteView(request)));
}

TEST_CASE("Binding requests encode as RFC 8489 says", "[stun][message]") {
    const auto with = encode_binding_request(kId);
    REQUIRE(with.size() == 28);
    const std::vector<std::uint8_t> header = {0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42};
    CHECK(std::vector<std::uint8_t>(with.begin(), with.begin() + 8) == header);
    CHECK(std::vector<std::uint8_t>(with.begin() + 8, with.begin() + 20) ==
          std::vector<std::uint8_t>(kId.begin(), kId.end()));
    CHECK(with == build(0x0001, {}, true));
    TransactionId id{};
    REQUIRE_FALSE(decode_binding_request(ByteView(with), id));
    CHECK(id == kId);

    const auto without = encode_binding_request(kId, false);
    REQUIRE(without.size() == 20);
    CHECK(without == build(0x0001, {}, false));
    REQUIRE_FALSE(decode_binding_request(ByteView(without), id));
}

TEST_CASE("Binding success responses round-trip for IPv4 and IPv6", "[stun][message]") {
    const PeerAddress addresses[] = {PeerAddress::v4(203, 0, 113, 9, 1),
                                     PeerAddress::v4(255, 255, 255, 255, 65535),
                                     v6("2001:db8::1", 40000), v6("::", 0)};
    for (const auto& address : addresses) {
        for (bool fingerprint : {true, false}) {
            const auto bytes = encode_binding_success(kId, address, fingerprint);
            const std::size_t ip = address.family == PeerAddress::Family::v4 ? 4 : 16;
            CHECK(bytes.size() == 20 + 8 + ip + (fingerprint ? 8 : 0));
            BindingResponse r;
            REQUIRE_FALSE(decode(bytes, r));
            CHECK(r.success);
            CHECK(r.id == kId);
            CHECK(r.mapped == address);
        }
    }
}

TEST_CASE("The success encoder reproduces the RFC 5769 XOR-MAPPED-ADDRESS", "[stun][message]") {
    const auto bytes =
        encode_binding_success(kSampleId, v6("2001:db8:1234:5678:11:2233:4455:6677", 32853));
    // Header, then the attribute exactly as in section 2.3 (offsets 36..60 of the vector).
    REQUIRE(bytes.size() >= 44);
    CHECK(std::vector<std::uint8_t>(bytes.begin() + 20, bytes.begin() + 44) ==
          std::vector<std::uint8_t>(kSampleIpv6Response.begin() + 36,
                                    kSampleIpv6Response.begin() + 60));
}

TEST_CASE("Binding error responses carry their code and reason", "[stun][message]") {
    for (std::string reason : {"", "Bad", "Bad Request", "Unauthorized"}) {
        const auto bytes = encode_binding_error(kId, 401, reason);
        REQUIRE_FALSE(bytes.empty());
        CHECK(bytes.size() % 4 == 0);
        BindingResponse r;
        REQUIRE_FALSE(decode(bytes, r));
        CHECK_FALSE(r.success);
        CHECK(r.error_code == 401);
        CHECK(r.reason == reason);
        CHECK_FALSE(r.mapped);
    }
    BindingResponse r;
    REQUIRE_FALSE(decode(encode_binding_error(kId, 300, "x"), r));
    CHECK(r.error_code == 300);
    REQUIRE_FALSE(decode(encode_binding_error(kId, 699, "x"), r));
    CHECK(r.error_code == 699);
    const std::string longest(kMaxReasonPhraseSize, 'r');
    REQUIRE_FALSE(decode(encode_binding_error(kId, 500, longest), r));
    CHECK(r.reason == longest);

    CHECK(encode_binding_error(kId, 299, "x").empty());
    CHECK(encode_binding_error(kId, 700, "x").empty());
    CHECK(encode_binding_error(kId, 400, std::string(kMaxReasonPhraseSize + 1, 'r')).empty());
}

TEST_CASE("ERROR-CODE values out of range are malformed", "[stun][message]") {
    auto error_value = [](std::uint8_t error_class, std::uint8_t number, std::size_t reason) {
        std::vector<std::uint8_t> value = {0x00, 0x00, error_class, number};
        value.resize(4 + reason, 'r');
        return value;
    };
    BindingResponse r;
    CHECK(decode(build(0x0111, {{0x0009, error_value(2, 0, 0)}}), r) == kMalformed);
    CHECK(decode(build(0x0111, {{0x0009, error_value(7, 0, 0)}}), r) == kMalformed);
    CHECK(decode(build(0x0111, {{0x0009, error_value(4, 100, 0)}}), r) == kMalformed);
    CHECK(decode(build(0x0111, {{0x0009, {0x00, 0x00, 0x04}}}), r) == kMalformed);
    CHECK(decode(build(0x0111, {{0x0009, error_value(4, 0, kMaxReasonPhraseSize + 1)}}), r) ==
          kMalformed);
    // Reserved bits above the class are ignored (RFC 8489 14.8).
    REQUIRE_FALSE(decode(build(0x0111, {{0x0009, error_value(0xF8 | 4, 20, 0)}}), r));
    CHECK(r.error_code == 420);
    // An error response without ERROR-CODE decodes; the caller sees code 0.
    REQUIRE_FALSE(decode(build(0x0111, {}), r));
    CHECK_FALSE(r.success);
    CHECK(r.error_code == 0);
}

TEST_CASE("Address attributes with a bad family or length are malformed", "[stun][message]") {
    BindingResponse r;
    for (std::uint16_t type : {std::uint16_t{0x0020}, std::uint16_t{0x0001}}) {
        CHECK(decode(build(0x0101, {{type, v4_address(0x03, 1, {1, 2, 3, 4})}}), r) == kMalformed);
        CHECK(decode(build(0x0101, {{type, v4_address(0x00, 1, {1, 2, 3, 4})}}), r) == kMalformed);
        // IPv4 family with 16 address bytes, IPv6 family with 4, and a short value.
        CHECK(decode(build(0x0101, {{type, v4_address(0x01, 1, std::vector<std::uint8_t>(16))}}),
                     r) == kMalformed);
        CHECK(decode(build(0x0101, {{type, v4_address(0x02, 1, {1, 2, 3, 4})}}), r) == kMalformed);
        CHECK(decode(build(0x0101, {{type, v4_address(0x01, 1, {1, 2, 3})}}), r) == kMalformed);
        CHECK(decode(build(0x0101, {{type, {0x00, 0x01, 0x00}}}), r) == kMalformed);
        CHECK(decode(build(0x0101, {{type, {}}}), r) == kMalformed);
    }
}

TEST_CASE("MAPPED-ADDRESS is the fallback - XOR-MAPPED-ADDRESS wins", "[stun][message]") {
    const auto plain = v4_address(0x01, 3478, {198, 51, 100, 7});
    // 198.51.100.7:3478 XOR-ed: port ^ 0x2112, address ^ 21 12 a4 42.
    const auto xored =
        v4_address(0x01, 3478 ^ 0x2112, {198 ^ 0x21, 51 ^ 0x12, 100 ^ 0xa4, 7 ^ 0x42});
    const auto other = v4_address(0x01, 9, {10, 0, 0, 1});
    BindingResponse r;
    REQUIRE_FALSE(decode(build(0x0101, {{0x0001, plain}}), r));
    CHECK(r.mapped == PeerAddress::v4(198, 51, 100, 7, 3478));
    REQUIRE_FALSE(decode(build(0x0101, {{0x0001, other}, {0x0020, xored}}), r));
    CHECK(r.mapped == PeerAddress::v4(198, 51, 100, 7, 3478));
    REQUIRE_FALSE(decode(build(0x0101, {{0x0020, xored}, {0x0001, other}}), r));
    CHECK(r.mapped == PeerAddress::v4(198, 51, 100, 7, 3478));
    // Only the first occurrence counts.
    REQUIRE_FALSE(decode(build(0x0101, {{0x0020, xored}, {0x0020, other}}), r));
    CHECK(r.mapped == PeerAddress::v4(198, 51, 100, 7, 3478));
    // A success response without any address decodes; the client decides what that means.
    REQUIRE_FALSE(decode(build(0x0101, {}), r));
    CHECK_FALSE(r.mapped);
}

TEST_CASE("Unknown attributes: optional ones are skipped - required ones reject",
          "[stun][message]") {
    const auto xored = v4_address(0x01, 0x2112, {0x21, 0x12, 0xa4, 0x43});  // 0.0.0.1:0
    BindingResponse r;
    REQUIRE_FALSE(decode(build(0x0101, {{0x8055, {1, 2, 3}}, {0x0020, xored}, {0xFFFF, {}}}), r));
    CHECK(r.mapped == PeerAddress::v4(0, 0, 0, 1, 0));
    CHECK(decode(build(0x0101, {{0x0020, xored}, {0x0002, {0, 0, 0, 0}}}), r) == kMalformed);
    CHECK(decode(build(0x0101, {{0x7FFF, {}}}), r) == kMalformed);
    // Known comprehension-required attributes are understood and skipped.
    REQUIRE_FALSE(decode(build(0x0101, {{0x0006, {'u'}}, {0x0014, {'r'}}, {0x0020, xored}}), r));
    CHECK(r.mapped);
}

TEST_CASE("Attributes after MESSAGE-INTEGRITY are ignored", "[stun][message]") {
    const auto xored = v4_address(0x01, 0x2112, {0x21, 0x12, 0xa4, 0x43});
    const std::vector<std::uint8_t> hmac(20, 0x5A);
    BindingResponse r;
    REQUIRE_FALSE(decode(build(0x0101, {{0x0008, hmac}, {0x0020, xored}, {0x0002, {}}}, true), r));
    CHECK_FALSE(r.mapped);
    REQUIRE_FALSE(
        decode(build(0x0101, {{0x001C, std::vector<std::uint8_t>(32)}, {0x0020, xored}}), r));
    CHECK_FALSE(r.mapped);
}

TEST_CASE("FINGERPRINT must be last and four bytes long", "[stun][message]") {
    const auto xored = v4_address(0x01, 0x2112, {0x21, 0x12, 0xa4, 0x43});
    BindingResponse r;
    auto message = build(0x0101, {{0x0020, xored}}, true);
    REQUIRE_FALSE(decode(message, r));
    // Anything after FINGERPRINT (with the length fixed up so only that is wrong).
    message.insert(message.end(), {0x80, 0x55, 0x00, 0x00});
    message[3] = static_cast<std::uint8_t>(message.size() - kHeaderSize);
    CHECK(decode(message, r) == kMalformed);
    // A FINGERPRINT attribute of the wrong size.
    CHECK(decode(build(0x0101, {{0x0020, xored}, {0x8028, {0, 0, 0, 0, 0, 0, 0, 0}}}), r) ==
          kMalformed);
    CHECK(decode(build(0x0101, {{0x8028, {}}}), r) == kMalformed);
}

TEST_CASE("Attribute lengths are checked against the message", "[stun][message]") {
    const auto xored = v4_address(0x01, 0x2112, {0x21, 0x12, 0xa4, 0x43});
    BindingResponse r;
    auto message = build(0x0101, {{0x0020, xored}});
    message[23] = 12;  // value claims 12 bytes, 8 remain
    CHECK(decode(message, r) == kMalformed);
    message[23] = 0xFF;
    message[22] = 0xFF;
    CHECK(decode(message, r) == kMalformed);
    // A 5-byte value with only 4 bytes left in the message.
    message = build(0x0101, {{0x8055, {1, 2, 3, 4, 5}}});
    message.resize(message.size() - 4);
    message[3] = static_cast<std::uint8_t>(message.size() - kHeaderSize);
    message[23] = 5;
    CHECK(decode(message, r) == kMalformed);
    // A lone attribute header whose value is missing.
    message = build(0x0101, {});
    message.insert(message.end(), {0x80, 0x55, 0x00, 0x04});
    message[3] = 4;
    CHECK(decode(message, r) == kMalformed);
}

TEST_CASE("The attribute count is bounded", "[stun][message]") {
    std::vector<Attr> attributes(kMaxAttributes, Attr{0x8055, {}});
    BindingResponse r;
    CHECK_FALSE(decode(build(0x0101, attributes), r));
    attributes.push_back(Attr{0x8055, {}});
    CHECK(decode(build(0x0101, attributes), r) == kMalformed);
    // FINGERPRINT counts as an attribute too.
    attributes.pop_back();
    CHECK(decode(build(0x0101, attributes, true), r) == kMalformed);
}

TEST_CASE("Other message types are not Binding responses", "[stun][message]") {
    BindingResponse r;
    for (std::uint16_t type : {0x0001, 0x0011, 0x0102, 0x0003, 0x0103, 0x0113, 0x3EEF}) {
        INFO("type " << type);
        CHECK(decode(build(type, {}), r) == kMalformed);
    }
    TransactionId id{};
    CHECK(decode_binding_request(ByteView(build(0x0011, {})), id) == kMalformed);
    CHECK(decode_binding_request(ByteView(build(0x0101, {})), id) == kMalformed);
}

TEST_CASE("A response captured from coturn 4.6.1 decodes", "[stun][message]") {
    // XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, RESPONSE-ORIGIN (0x802B) and FINGERPRINT, answering a
    // request from 127.0.0.1:48724.
    const std::vector<std::uint8_t> coturn = {
        0x01, 0x01, 0x00, 0x2c, 0x21, 0x12, 0xa4, 0x42, 0xd9, 0x92, 0x33, 0x8d, 0x79,
        0xbb, 0xc2, 0x59, 0x0f, 0x2e, 0xcc, 0x09, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
        0x9f, 0x46, 0x5e, 0x12, 0xa4, 0x43, 0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0xbe,
        0x54, 0x7f, 0x00, 0x00, 0x01, 0x80, 0x2b, 0x00, 0x08, 0x00, 0x01, 0x87, 0xdd,
        0x7f, 0x00, 0x00, 0x01, 0x80, 0x28, 0x00, 0x04, 0xdb, 0x03, 0x0f, 0x9f};
    BindingResponse r;
    REQUIRE_FALSE(decode(coturn, r));
    CHECK(r.success);
    CHECK(r.mapped == PeerAddress::v4(127, 0, 0, 1, 48724));
}
