// SHA-256, HMAC-SHA256 and the two key derivations built on them: the HKDF of the Noise
// framework (revision 34, section 4.3) and one HKDF-Expand block (RFC 5869) for key updates.
//
// These functions cannot report errors: OpenSSL only fails here when memory is exhausted or the
// installation is broken, and a wrong digest would silently weaken authentication, so they
// abort() in that case (as srmudp::system_random() does).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "srmudp/bytes.hpp"

namespace srmudp::crypto {

inline constexpr std::size_t kHashSize = 32;
using Hash = std::array<std::uint8_t, kHashSize>;

// SHA-256 of data.
Hash sha256(ByteView data);
// SHA-256 of the concatenation a || b (without building it).
Hash sha256(ByteView a, ByteView b);

// HMAC-SHA256 (RFC 2104) of data under key; any key length, including empty.
Hash hmac_sha256(ByteView key, ByteView data);

// Noise HKDF(ck, ikm) with two or three outputs. The outputs may alias ck.
void noise_hkdf(const Hash& ck, ByteView ikm, Hash& out1, Hash& out2);
void noise_hkdf(const Hash& ck, ByteView ikm, Hash& out1, Hash& out2, Hash& out3);

// One HKDF-Expand block: HMAC-SHA256(secret, label || 0x01). Used to derive the next
// generation of transport keys from the current secret.
Hash hkdf_expand(const Hash& secret, std::string_view label);

}  // namespace srmudp::crypto
