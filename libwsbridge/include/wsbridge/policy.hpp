// Admission policies of the bridge: which UDP targets a client may reach, whether it holds the
// bearer token, and which web origins may use the bridge from a browser.
//
// A proxy that sends UDP anywhere can be turned against its own network, and a web page in the
// user's browser can open a WebSocket to a proxy on 127.0.0.1; these checks are the server's
// defence. Everything here is a pure function of its inputs: no I/O, no clocks, no exceptions.
// Refusals are returned as sentences a person can act on.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "srmudp/address.hpp"

namespace wsbridge {

// ---- CIDR blocks ----------------------------------------------------------------------------

// An IPv4 or IPv6 address block: the first `prefix` bits of `net` (network byte order, IPv4 in
// the first 4 bytes); the bits after the prefix are always zero.
struct Cidr {
    srmudp::PeerAddress::Family family = srmudp::PeerAddress::Family::v4;
    std::array<std::uint8_t, 16> net{};
    unsigned prefix = 0;

    // Parses "10.0.0.0/8", "192.168.1.7" (= /32), "fe80::/10", "::" (= /128). Host bits after
    // the prefix are accepted and cleared ("10.1.2.3/8" is 10.0.0.0/8). An IPv4-mapped block
    // "::ffff:a.b.c.d/N" with N >= 96 becomes the IPv4 block a.b.c.d/(N-96). nullopt if
    // malformed: no whitespace, zone ids or empty parts; prefix at most 32 (IPv4) or 128 (IPv6).
    static std::optional<Cidr> parse(std::string_view text);

    // True if address (its port is ignored) lies in the block. An IPv4-mapped IPv6 address
    // (::ffff:a.b.c.d) is matched as the IPv4 address a.b.c.d, so no IPv6 block contains it.
    bool contains(const srmudp::PeerAddress& address) const;

    // Canonical text with the prefix always written: "10.0.0.0/8", "fe80::/10" (RFC 5952).
    std::string to_string() const;

    friend bool operator==(const Cidr& a, const Cidr& b) {
        return a.family == b.family && a.prefix == b.prefix && a.net == b.net;
    }
    friend bool operator!=(const Cidr& a, const Cidr& b) { return !(a == b); }
};

// The address alone as text, without the port: "10.1.2.3", "fe80::1", "::ffff:224.0.0.1".
std::string ip_to_string(const srmudp::PeerAddress& address);

// ---- Targets --------------------------------------------------------------------------------

// Decides whether a client may have the bridge contact a UDP target. Always refused, whatever
// the lists say: unspecified (0.0.0.0/8, ::), multicast (224.0.0.0/4, ff00::/8), limited
// broadcast 255.255.255.255, reserved 240.0.0.0/4, and port 0. Then the deny list wins over the
// allow list; an empty allow list allows every other address, a non-empty one only its blocks.
// IPv4-mapped IPv6 targets are judged as their IPv4 address. Check the address a host name
// resolved to, not the name.
class TargetPolicy {
  public:
    // The policy of empty lists: every address that is not always refused is allowed.
    TargetPolicy() = default;

    // Builds the policy from allow and deny entries in Cidr::parse syntax. On a malformed entry
    // returns a message naming the list and the entry, e.g. "allowed target 'x' is not an IP
    // address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)".
    static std::variant<TargetPolicy, std::string> make(const std::vector<std::string>& allow,
                                                        const std::vector<std::string>& deny);

    // nullopt if target may be contacted, else why not, e.g. "target 224.0.0.1 is a multicast
    // address; the server refuses it" or "target 10.1.2.3 is in the denied targets
    // (10.0.0.0/8)".
    std::optional<std::string> check(const srmudp::PeerAddress& target) const;

    // One line for the startup log, e.g. "allow: any; deny: 10.0.0.0/8; always refused:
    // unspecified, multicast, broadcast, 240.0.0.0/4, port 0".
    std::string describe() const;

    const std::vector<Cidr>& allowed() const { return allow_; }
    const std::vector<Cidr>& denied() const { return deny_; }

  private:
    std::vector<Cidr> allow_;
    std::vector<Cidr> deny_;
};

// ---- Bearer token ---------------------------------------------------------------------------

// True if a and b are equal. The time taken depends on the lengths but not on the contents
// (OpenSSL's CRYPTO_memcmp), so a secret cannot be guessed byte by byte.
bool constant_time_equal(std::string_view a, std::string_view b);

// True if the request carries the expected token, either in an Authorization header
// "Bearer <token>" (RFC 6750 section 2.1: scheme case-insensitive, one or more spaces; spaces
// and tabs around the value are ignored) or as the decoded value of the token query parameter
// (browsers cannot set headers). Either one suffices. Compared in constant time. Call it only
// when a token is configured: with an empty expected token it returns false.
bool bearer_token_matches(std::optional<std::string_view> authorization_header,
                          std::optional<std::string_view> token_query, std::string_view expected);

// ---- Origins --------------------------------------------------------------------------------

// Decides whether a browser page of a given origin (the Origin request header, RFC 6454) may use
// the bridge. A request without an Origin header does not come from a web page and is allowed;
// one with an Origin header is allowed only if "*" or its origin is listed. Origins compare
// case-insensitively on scheme and host, with the default ports (http 80, https 443) left out,
// and IPv6 hosts in canonical form. The opaque origin "null" is only allowed by "*".
class OriginPolicy {
  public:
    // The policy of an empty list: every request with an Origin header is refused.
    OriginPolicy() = default;

    // Builds the policy from entries "*" or "scheme://host[:port]" (scheme http or https, no
    // path, query or user info). On a malformed entry returns a message naming it.
    static std::variant<OriginPolicy, std::string> make(const std::vector<std::string>& allowed);

    // nullopt if the request may proceed, else why not, e.g. "origin https://evil.example is
    // not allowed (--allow-origin)". The origin is echoed with bytes outside printable ASCII
    // replaced by '?' and cut after 200 characters, so the reason is safe to log.
    std::optional<std::string> check(std::optional<std::string_view> origin_header) const;

    // One line for the startup log, e.g. "origins: any (*)" or "origins: https://a.example".
    std::string describe() const;

    // The listed origins in their normalised form ("https://a.example", "http://h:8080").
    const std::vector<std::string>& allowed() const { return origins_; }
    bool allows_any() const { return any_; }

  private:
    bool any_ = false;
    std::vector<std::string> origins_;
};

// The normalised form of an origin "scheme://host[:port]" as OriginPolicy compares it
// ("HTTPS://A.Example:443" -> "https://a.example"), or nullopt if it is not such an origin.
std::optional<std::string> normalize_origin(std::string_view origin);

}  // namespace wsbridge
