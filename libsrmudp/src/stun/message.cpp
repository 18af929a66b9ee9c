// STUN Binding codec, RFC 8489 sections 5 (header), 14 (attributes) and 18.3 (attribute
// registry); RFC 5769 gives the test vectors it is checked against.
#include "stun/message.hpp"

#include <algorithm>

#include "core/codec/buffer.hpp"
#include "srmudp/error.hpp"
#include "stun/crc32.hpp"

namespace srmudp::stun {
namespace {

// Message types: method Binding (0x001) in the request, success and error classes.
constexpr std::uint16_t kBindingRequest = 0x0001;
constexpr std::uint16_t kBindingSuccess = 0x0101;
constexpr std::uint16_t kBindingError = 0x0111;

// Attribute types of RFC 8489 section 18.3 and RFC 5780 section 9.1.
constexpr std::uint16_t kMappedAddress = 0x0001;
constexpr std::uint16_t kChangeRequest = 0x0003;
constexpr std::uint16_t kUsername = 0x0006;
constexpr std::uint16_t kMessageIntegrity = 0x0008;
constexpr std::uint16_t kErrorCode = 0x0009;
constexpr std::uint16_t kUnknownAttributes = 0x000A;
constexpr std::uint16_t kRealm = 0x0014;
constexpr std::uint16_t kNonce = 0x0015;
constexpr std::uint16_t kMessageIntegritySha256 = 0x001C;
constexpr std::uint16_t kPasswordAlgorithm = 0x001D;
constexpr std::uint16_t kUserhash = 0x001E;
constexpr std::uint16_t kXorMappedAddress = 0x0020;
constexpr std::uint16_t kPadding = 0x0026;
constexpr std::uint16_t kResponsePort = 0x0027;
constexpr std::uint16_t kFingerprint = 0x8028;

// Types below 0x8000 are comprehension-required: a receiver that does not know one must not
// use the message.
constexpr std::uint16_t kFirstComprehensionOptional = 0x8000;

constexpr std::uint32_t kFingerprintXor = 0x5354554Eu;
constexpr std::size_t kFingerprintAttributeSize = 8;
constexpr std::uint8_t kFamilyV4 = 0x01;
constexpr std::uint8_t kFamilyV6 = 0x02;

struct Attribute {
    std::uint16_t type = 0;
    ByteView value;
};

struct Attributes {
    std::array<Attribute, kMaxAttributes> items{};
    std::size_t count = 0;
};

constexpr std::size_t padded(std::size_t n) {
    return (n + 3) & ~std::size_t{3};
}

std::error_code malformed() {
    return make_error_code(error::malformed_packet);
}

bool is_understood(std::uint16_t type) {
    switch (type) {
        case kMappedAddress:
        case kChangeRequest:
        case kUsername:
        case kMessageIntegrity:
        case kErrorCode:
        case kUnknownAttributes:
        case kRealm:
        case kNonce:
        case kMessageIntegritySha256:
        case kPasswordAlgorithm:
        case kUserhash:
        case kXorMappedAddress:
        case kPadding:
        case kResponsePort:
            return true;
        default:
            return type >= kFirstComprehensionOptional;
    }
}

// XOR-MAPPED-ADDRESS hides the address behind the magic cookie (IPv4) or the cookie followed by
// the transaction ID (IPv6), so that NATs rewriting addresses inside payloads leave it alone.
std::array<std::uint8_t, 16> xor_mask(const TransactionId& id) {
    std::array<std::uint8_t, 16> mask{};
    for (std::size_t i = 0; i < 4; ++i) {
        mask[i] = static_cast<std::uint8_t>(kMagicCookie >> (24 - 8 * i));
    }
    std::copy(id.begin(), id.end(), mask.begin() + 4);
    return mask;
}

std::size_t ip_size(const PeerAddress& address) {
    return address.family == PeerAddress::Family::v4 ? 4 : 16;
}

bool fingerprint_matches(ByteView covered, ByteView value) {
    codec::Reader r(value);
    std::uint32_t fingerprint = 0;
    return value.size() == 4 && r.read_u32(fingerprint) &&
           fingerprint == (crc32(covered) ^ kFingerprintXor);
}

// Splits a STUN message into its header fields and attributes, checking every length, the
// attribute bound and FINGERPRINT (which must be the last attribute when present).
std::error_code parse_message(ByteView datagram, std::uint16_t& type, TransactionId& id,
                              Attributes& attributes) {
    if (!looks_like_stun(datagram)) return malformed();
    codec::Reader r(datagram);
    std::uint16_t length = 0;
    std::uint32_t cookie = 0;
    ByteView id_bytes;
    if (!r.read_u16(type) || !r.read_u16(length) || !r.read_u32(cookie) ||
        !r.read_bytes(id.size(), id_bytes)) {
        return malformed();
    }
    std::copy(id_bytes.begin(), id_bytes.end(), id.begin());
    attributes.count = 0;
    while (!r.empty()) {
        const std::size_t offset = r.position();
        Attribute a;
        std::uint16_t value_length = 0;
        if (!r.read_u16(a.type) || !r.read_u16(value_length) ||
            !r.read_bytes(value_length, a.value) || !r.skip(padded(value_length) - value_length)) {
            return malformed();
        }
        if (attributes.count == kMaxAttributes) return malformed();
        if (a.type == kFingerprint &&
            (!r.empty() || !fingerprint_matches(datagram.first(offset), a.value))) {
            return malformed();
        }
        attributes.items[attributes.count++] = a;
    }
    return {};
}

// MAPPED-ADDRESS / XOR-MAPPED-ADDRESS value: reserved byte, family, port, 4 or 16 address bytes.
bool decode_address(ByteView value, const TransactionId* xor_id, PeerAddress& out) {
    codec::Reader r(value);
    std::uint8_t reserved = 0;  // RFC 8489 14.1: receivers ignore it
    std::uint8_t family = 0;
    std::uint16_t port = 0;
    ByteView ip;
    if (!r.read_u8(reserved) || !r.read_u8(family) || !r.read_u16(port)) return false;
    out = PeerAddress{};
    if (family == kFamilyV4) {
        out.family = PeerAddress::Family::v4;
    } else if (family == kFamilyV6) {
        out.family = PeerAddress::Family::v6;
    } else {
        return false;
    }
    if (r.remaining() != ip_size(out) || !r.read_bytes(ip_size(out), ip)) return false;
    std::copy(ip.begin(), ip.end(), out.ip.begin());
    out.port = port;
    if (xor_id != nullptr) {
        const auto mask = xor_mask(*xor_id);
        for (std::size_t i = 0; i < ip.size(); ++i)
            out.ip[i] ^= mask[i];
        out.port = static_cast<std::uint16_t>(port ^ (kMagicCookie >> 16));
    }
    return true;
}

// ERROR-CODE value: 21 reserved bits, class (3 bits, 3..6), number (0..99), reason phrase.
bool decode_error_code(ByteView value, BindingResponse& out) {
    codec::Reader r(value);
    std::uint16_t reserved = 0;
    std::uint8_t error_class = 0;
    std::uint8_t number = 0;
    if (!r.read_u16(reserved) || !r.read_u8(error_class) || !r.read_u8(number)) return false;
    error_class &= 0x07;
    if (error_class < 3 || error_class > 6 || number > 99) return false;
    if (r.remaining() > kMaxReasonPhraseSize) return false;
    const ByteView reason = r.rest();
    out.error_code = error_class * 100 + number;
    out.reason.assign(reason.begin(), reason.end());
    return true;
}

// Writes the header; total_size covers the whole message, FINGERPRINT included.
void write_header(codec::Writer& w, std::uint16_t type, std::size_t total_size,
                  const TransactionId& id) {
    w.write_u16(type);
    w.write_u16(static_cast<std::uint16_t>(total_size - kHeaderSize));
    w.write_u32(kMagicCookie);
    w.write_bytes(ByteView(id.data(), id.size()));
}

void write_fingerprint(codec::Writer& w) {
    const std::uint32_t crc = crc32(w.written());
    w.write_u16(kFingerprint);
    w.write_u16(4);
    w.write_u32(crc ^ kFingerprintXor);
}

}  // namespace

bool looks_like_stun(ByteView datagram) noexcept {
    if (datagram.size() < kHeaderSize || (datagram[0] & 0xC0) != 0) return false;
    const std::size_t length = (std::size_t{datagram[2]} << 8) | datagram[3];
    const std::uint32_t cookie = (std::uint32_t{datagram[4]} << 24) |
                                 (std::uint32_t{datagram[5]} << 16) |
                                 (std::uint32_t{datagram[6]} << 8) | std::uint32_t{datagram[7]};
    return cookie == kMagicCookie && length % 4 == 0 && length == datagram.size() - kHeaderSize;
}

Bytes encode_binding_request(const TransactionId& id, bool with_fingerprint) {
    Bytes out(kHeaderSize + (with_fingerprint ? kFingerprintAttributeSize : 0));
    codec::Writer w{MutableByteView(out)};
    write_header(w, kBindingRequest, out.size(), id);
    if (with_fingerprint) write_fingerprint(w);
    return out;
}

Bytes encode_binding_success(const TransactionId& id, const PeerAddress& mapped,
                             bool with_fingerprint) {
    const std::size_t value_size = 4 + ip_size(mapped);
    Bytes out(kHeaderSize + 4 + value_size + (with_fingerprint ? kFingerprintAttributeSize : 0));
    codec::Writer w{MutableByteView(out)};
    write_header(w, kBindingSuccess, out.size(), id);
    w.write_u16(kXorMappedAddress);
    w.write_u16(static_cast<std::uint16_t>(value_size));
    w.write_u8(0);
    w.write_u8(mapped.family == PeerAddress::Family::v4 ? kFamilyV4 : kFamilyV6);
    w.write_u16(static_cast<std::uint16_t>(mapped.port ^ (kMagicCookie >> 16)));
    const auto mask = xor_mask(id);
    for (std::size_t i = 0; i < ip_size(mapped); ++i) {
        w.write_u8(static_cast<std::uint8_t>(mapped.ip[i] ^ mask[i]));
    }
    if (with_fingerprint) write_fingerprint(w);
    return out;
}

Bytes encode_binding_error(const TransactionId& id, int error_code, std::string_view reason,
                           bool with_fingerprint) {
    if (error_code < 300 || error_code > 699 || reason.size() > kMaxReasonPhraseSize) return {};
    const std::size_t value_size = 4 + reason.size();
    Bytes out(kHeaderSize + 4 + padded(value_size) +
              (with_fingerprint ? kFingerprintAttributeSize : 0));
    codec::Writer w{MutableByteView(out)};
    write_header(w, kBindingError, out.size(), id);
    w.write_u16(kErrorCode);
    w.write_u16(static_cast<std::uint16_t>(value_size));
    w.write_u16(0);
    w.write_u8(static_cast<std::uint8_t>(error_code / 100));
    w.write_u8(static_cast<std::uint8_t>(error_code % 100));
    w.write_bytes(as_bytes(reason));
    w.write_zeros(padded(value_size) - value_size);
    if (with_fingerprint) write_fingerprint(w);
    return out;
}

std::error_code decode_binding_request(ByteView datagram, TransactionId& id) {
    std::uint16_t type = 0;
    Attributes attributes;
    if (auto ec = parse_message(datagram, type, id, attributes)) return ec;
    return type == kBindingRequest ? std::error_code{} : malformed();
}

std::error_code decode_binding_response(ByteView datagram, BindingResponse& out) {
    std::uint16_t type = 0;
    Attributes attributes;
    if (auto ec = parse_message(datagram, type, out.id, attributes)) return ec;
    if (type != kBindingSuccess && type != kBindingError) return malformed();
    out.success = type == kBindingSuccess;
    out.mapped.reset();
    out.error_code = 0;
    out.reason.clear();
    std::optional<PeerAddress> xor_mapped;
    std::optional<PeerAddress> plain_mapped;
    bool have_error_code = false;
    for (std::size_t i = 0; i < attributes.count; ++i) {
        const Attribute& a = attributes.items[i];
        // RFC 8489 14.5: whatever follows MESSAGE-INTEGRITY (except its SHA-256 sibling and
        // FINGERPRINT, checked while parsing) is ignored, so stop at the first one.
        if (a.type == kMessageIntegrity || a.type == kMessageIntegritySha256) break;
        if (!is_understood(a.type)) return malformed();
        // Only the first occurrence of an attribute counts (RFC 8489 section 14).
        PeerAddress address;
        if (a.type == kXorMappedAddress && !xor_mapped) {
            if (!decode_address(a.value, &out.id, address)) return malformed();
            xor_mapped = address;
        } else if (a.type == kMappedAddress && !plain_mapped) {
            if (!decode_address(a.value, nullptr, address)) return malformed();
            plain_mapped = address;
        } else if (a.type == kErrorCode && !out.success && !have_error_code) {
            if (!decode_error_code(a.value, out)) return malformed();
            have_error_code = true;
        }
    }
    out.mapped = xor_mapped ? xor_mapped : plain_mapped;
    return {};
}

}  // namespace srmudp::stun
