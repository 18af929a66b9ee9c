// STUN Binding messages (RFC 8489): the subset srmudp needs to learn its public address.
//
// A STUN message is a 20-byte header (type, length, magic cookie 0x2112A442, 96-bit transaction
// ID) followed by type-length-value attributes padded to 4 bytes (RFC 8489 sections 5 and 14).
// This codec encodes Binding requests and responses and decodes them with every length checked
// before it is read. Short-term and long-term credentials are not implemented: MESSAGE-INTEGRITY
// is recognised and skipped, FINGERPRINT (CRC-32 XOR 0x5354554E) is written and, when present,
// verified. Datagrams are told apart from srmudp packets by their first two bits (RFC 7983).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "srmudp/address.hpp"
#include "srmudp/bytes.hpp"

namespace srmudp::stun {

inline constexpr std::uint32_t kMagicCookie = 0x2112A442u;
inline constexpr std::size_t kHeaderSize = 20;
// A decoder walks at most this many attributes; a Binding response carries about five.
inline constexpr std::size_t kMaxAttributes = 32;
// RFC 8489 14.8: the reason phrase is at most 128 characters, which is 763 bytes of UTF-8.
inline constexpr std::size_t kMaxReasonPhraseSize = 763;

using TransactionId = std::array<std::uint8_t, 12>;

struct BindingResponse {
    TransactionId id{};
    bool success = false;  // Binding success response; false for a Binding error response
    // XOR-MAPPED-ADDRESS if present, else MAPPED-ADDRESS (old servers), else none.
    std::optional<PeerAddress> mapped;
    int error_code = 0;  // 300..699 from ERROR-CODE of an error response; 0 if it had none
    std::string reason;  // ERROR-CODE reason phrase (UTF-8, not validated)
};

// True if datagram has a STUN header: at least 20 bytes, first two bits 00, the magic cookie,
// and a length field that is a multiple of 4 and equals the datagram size minus 20.
bool looks_like_stun(ByteView datagram) noexcept;

// A Binding request with no attributes but, if with_fingerprint, FINGERPRINT (20 or 28 bytes).
Bytes encode_binding_request(const TransactionId& id, bool with_fingerprint = true);

// A Binding success response carrying XOR-MAPPED-ADDRESS mapped (and FINGERPRINT): what a STUN
// server answers, for test responders.
Bytes encode_binding_success(const TransactionId& id, const PeerAddress& mapped,
                             bool with_fingerprint = true);

// A Binding error response with ERROR-CODE error_code/reason (and FINGERPRINT). Returns an empty
// buffer if error_code is outside 300..699 or reason is longer than kMaxReasonPhraseSize.
Bytes encode_binding_error(const TransactionId& id, int error_code, std::string_view reason,
                           bool with_fingerprint = true);

// Checks that datagram is a well-formed Binding request and gives its transaction ID.
// Attributes are framed and FINGERPRINT verified, but their contents are not interpreted.
// Errors: error::malformed_packet (not a STUN Binding request, bad lengths, more than
// kMaxAttributes attributes, FINGERPRINT wrong or not last).
std::error_code decode_binding_request(ByteView datagram, TransactionId& id);

// Decodes a Binding success or error response into out.
// Errors: error::malformed_packet (not a STUN Binding response, an attribute overrunning the
// message, more than kMaxAttributes attributes, an address attribute with a bad length or
// family, ERROR-CODE out of range or its reason too long, FINGERPRINT wrong or not last, or an
// unknown comprehension-required attribute, which RFC 8489 7.3.3 says to discard the response
// for). On error out is unspecified.
std::error_code decode_binding_response(ByteView datagram, BindingResponse& out);

}  // namespace srmudp::stun
