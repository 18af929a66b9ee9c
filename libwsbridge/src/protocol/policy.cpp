// Admission policies of the bridge: CIDR matching of UDP targets (RFC 4632 prefixes, IPv4-mapped
// IPv6 addresses of RFC 4291 section 2.5.5.2 judged as IPv4), the special-purpose blocks that are
// never a sensible unicast target (RFC 6890: 0.0.0.0/8, 240.0.0.0/4, 255.255.255.255; multicast
// of RFC 5771 and RFC 4291 section 2.7), bearer tokens (RFC 6750 section 2.1) and the Origin
// header (RFC 6454 sections 6.1 and 7). IPv6 addresses are written as RFC 5952 says.
#include "wsbridge/policy.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>

namespace wsbridge {
namespace {

using Family = srmudp::PeerAddress::Family;

constexpr unsigned kMaxPrefixV4 = 32;
constexpr unsigned kMaxPrefixV6 = 128;
// ::ffff:0:0/96, the IPv4-mapped addresses.
constexpr unsigned kMappedPrefixBits = 96;
constexpr std::size_t kMappedPrefixBytes = kMappedPrefixBits / 8;
// Longest piece of untrusted text (an Origin header) echoed in a refusal or log line.
constexpr std::size_t kMaxEchoedChars = 200;

unsigned max_prefix(Family family) {
    return family == Family::v4 ? kMaxPrefixV4 : kMaxPrefixV6;
}

bool is_v4_mapped(const std::array<std::uint8_t, 16>& ip) {
    for (std::size_t i = 0; i < 10; ++i) {
        if (ip[i] != 0) return false;
    }
    return ip[10] == 0xFF && ip[11] == 0xFF;
}

// The address to judge: an IPv4-mapped IPv6 address reaches the IPv4 host, so it is that host.
srmudp::PeerAddress unmapped(const srmudp::PeerAddress& address) {
    if (address.family != Family::v6 || !is_v4_mapped(address.ip)) return address;
    srmudp::PeerAddress v4;
    v4.family = Family::v4;
    std::copy_n(address.ip.begin() + kMappedPrefixBytes, 4, v4.ip.begin());
    v4.port = address.port;
    return v4;
}

void clear_host_bits(std::array<std::uint8_t, 16>& net, unsigned prefix) {
    for (unsigned i = 0; i < net.size(); ++i) {
        const unsigned first_bit = i * 8;
        if (prefix >= first_bit + 8) continue;
        const unsigned kept_bits = prefix > first_bit ? prefix - first_bit : 0;
        net[i] &= static_cast<std::uint8_t>(0xFF00u >> kept_bits);
    }
}

// A prefix length: 1 to 3 decimal digits, at most max.
std::optional<unsigned> parse_prefix(std::string_view text, unsigned max) {
    if (text.empty() || text.size() > 3) return std::nullopt;
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > max) return std::nullopt;
    return value;
}

std::string format_v4(const std::uint8_t* bytes) {
    std::string out;
    for (std::size_t i = 0; i < 4; ++i) {
        if (i != 0) out += '.';
        out += std::to_string(bytes[i]);
    }
    return out;
}

// RFC 5952 section 4: lowercase hex without leading zeros, the longest run (first if tied) of
// two or more zero groups as "::"; section 5: IPv4-mapped addresses in dotted form.
std::string format_v6(const std::array<std::uint8_t, 16>& ip) {
    if (is_v4_mapped(ip)) return "::ffff:" + format_v4(ip.data() + kMappedPrefixBytes);
    std::array<unsigned, 8> groups{};
    for (std::size_t i = 0; i < groups.size(); ++i)
        groups[i] = static_cast<unsigned>(ip[2 * i]) << 8 | ip[2 * i + 1];
    std::size_t best_start = groups.size();
    std::size_t best_length = 1;  // a single zero group is not shortened
    for (std::size_t i = 0; i < groups.size();) {
        std::size_t end = i;
        while (end < groups.size() && groups[end] == 0)
            ++end;
        if (end - i > best_length) {
            best_start = i;
            best_length = end - i;
        }
        i = end == i ? i + 1 : end;
    }
    std::string out;
    for (std::size_t i = 0; i < groups.size();) {
        if (i == best_start) {
            out += "::";
            i += best_length;
            continue;
        }
        if (!out.empty() && out.back() != ':') out += ':';
        char hex[4];
        const auto result = std::to_chars(hex, hex + sizeof hex, groups[i], 16);
        out.append(hex, result.ptr);
        ++i;
    }
    return out;
}

std::string format_ip(Family family, const std::array<std::uint8_t, 16>& ip) {
    return family == Family::v4 ? format_v4(ip.data()) : format_v6(ip);
}

// Untrusted or operator text made safe for a log line: bytes outside printable ASCII become '?',
// and long text is cut.
std::string printable(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, kMaxEchoedChars)) {
        const auto byte = static_cast<unsigned char>(c);
        out += byte >= 0x20 && byte < 0x7F ? c : '?';
    }
    if (text.size() > kMaxEchoedChars) out += "...";
    return out;
}

std::string join(const std::vector<Cidr>& blocks, std::string_view if_empty) {
    if (blocks.empty()) return std::string(if_empty);
    std::string out;
    for (const Cidr& block : blocks) {
        if (!out.empty()) out += ", ";
        out += block.to_string();
    }
    return out;
}

std::optional<std::vector<Cidr>> parse_blocks(const std::vector<std::string>& entries,
                                              std::string_view list_name, std::string& error) {
    std::vector<Cidr> blocks;
    blocks.reserve(entries.size());
    for (const std::string& entry : entries) {
        auto block = Cidr::parse(entry);
        if (!block) {
            error = std::string(list_name) + " '" + printable(entry) +
                    "' is not an IP address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)";
            return std::nullopt;
        }
        blocks.push_back(*block);
    }
    return blocks;
}

struct RefusedBlock {
    Cidr block;
    const char* what;
};

// Checked in this order, so that 255.255.255.255 is named as broadcast rather than reserved.
constexpr RefusedBlock kAlwaysRefused[] = {
    {{Family::v4, {0}, 8}, "an unspecified address (0.0.0.0/8)"},
    {{Family::v6, {0}, 128}, "the unspecified address"},
    {{Family::v4, {224}, 4}, "a multicast address"},
    {{Family::v6, {0xFF}, 8}, "a multicast address"},
    {{Family::v4, {255, 255, 255, 255}, 32}, "the limited broadcast address"},
    {{Family::v4, {240}, 4}, "a reserved address (240.0.0.0/4)"},
};

bool is_space_or_tab(char c) {
    return c == ' ' || c == '\t';
}

// A header value without the optional whitespace around it (RFC 9110 section 5.5).
std::string_view trim_ows(std::string_view text) {
    while (!text.empty() && is_space_or_tab(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_space_or_tab(text.back()))
        text.remove_suffix(1);
    return text;
}

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
    return out;
}

// The token of "Bearer 1*SP token", or nullopt for another scheme or no token.
std::optional<std::string_view> bearer_credentials(std::string_view header) {
    constexpr std::string_view kScheme = "bearer";
    header = trim_ows(header);
    if (header.size() <= kScheme.size() || lowercase(header.substr(0, kScheme.size())) != kScheme ||
        header[kScheme.size()] != ' ') {
        return std::nullopt;
    }
    header.remove_prefix(kScheme.size());
    while (!header.empty() && header.front() == ' ')
        header.remove_prefix(1);
    if (header.empty()) return std::nullopt;
    return header;
}

bool is_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

// The host of an origin in normalised form, consuming it from rest: a bracketed IPv6 literal in
// RFC 5952 form, or a lowercased name or IPv4 literal.
std::optional<std::string> take_origin_host(std::string_view& rest) {
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const auto literal = srmudp::PeerAddress::from_ip(rest.substr(1, close - 1), 0);
        if (!literal || literal->family != Family::v6) return std::nullopt;
        rest.remove_prefix(close + 1);
        return "[" + format_v6(literal->ip) + "]";
    }
    const auto end = std::min(rest.find(':'), rest.size());
    const auto host = rest.substr(0, end);
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_host_char)) return std::nullopt;
    rest.remove_prefix(end);
    return lowercase(host);
}

// The port after the host: nothing, or ':' and 1 to 5 digits for 1..65535.
std::optional<unsigned> take_origin_port(std::string_view rest) {
    if (rest.empty()) return 0u;
    if (rest.front() != ':') return std::nullopt;
    rest.remove_prefix(1);
    unsigned port = 0;
    const char* end = rest.data() + rest.size();
    const auto result = std::from_chars(rest.data(), end, port);
    if (rest.size() > 5 || result.ec != std::errc() || result.ptr != end || port == 0 ||
        port > 65535) {
        return std::nullopt;
    }
    return port;
}

}  // namespace

// ---- Cidr -----------------------------------------------------------------------------------

std::optional<Cidr> Cidr::parse(std::string_view text) {
    const auto slash = text.find('/');
    const auto address = srmudp::PeerAddress::from_ip(text.substr(0, slash), 0);
    if (!address) return std::nullopt;
    Cidr block;
    block.family = address->family;
    block.net = address->ip;
    block.prefix = max_prefix(block.family);
    if (slash != std::string_view::npos) {
        const auto prefix = parse_prefix(text.substr(slash + 1), block.prefix);
        if (!prefix) return std::nullopt;
        block.prefix = *prefix;
    }
    if (block.family == Family::v6 && block.prefix >= kMappedPrefixBits &&
        is_v4_mapped(block.net)) {
        const auto v4 = unmapped(*address);
        block.family = Family::v4;
        block.net = v4.ip;
        block.prefix -= kMappedPrefixBits;
    }
    clear_host_bits(block.net, block.prefix);
    return block;
}

bool Cidr::contains(const srmudp::PeerAddress& address) const {
    const auto judged = unmapped(address);
    if (judged.family != family) return false;
    auto masked = judged.ip;
    // An IPv4 address's bytes after the fourth are not part of it; the mask clears them too.
    clear_host_bits(masked, std::min(prefix, max_prefix(family)));
    return masked == net;
}

std::string Cidr::to_string() const {
    return format_ip(family, net) + "/" + std::to_string(prefix);
}

std::string ip_to_string(const srmudp::PeerAddress& address) {
    return format_ip(address.family, address.ip);
}

// ---- TargetPolicy ---------------------------------------------------------------------------

std::variant<TargetPolicy, std::string> TargetPolicy::make(const std::vector<std::string>& allow,
                                                           const std::vector<std::string>& deny) {
    std::string error;
    auto allowed = parse_blocks(allow, "allowed target", error);
    if (!allowed) return error;
    auto denied = parse_blocks(deny, "denied target", error);
    if (!denied) return error;
    TargetPolicy policy;
    policy.allow_ = std::move(*allowed);
    policy.deny_ = std::move(*denied);
    return policy;
}

std::optional<std::string> TargetPolicy::check(const srmudp::PeerAddress& target) const {
    const std::string shown = ip_to_string(target);
    for (const RefusedBlock& refused : kAlwaysRefused) {
        if (refused.block.contains(target)) {
            return "target " + shown + " is " + refused.what + "; the server refuses it";
        }
    }
    if (target.port == 0) return std::string("port 0 is not a valid target port");
    for (const Cidr& block : deny_) {
        if (block.contains(target)) {
            return "target " + shown + " is in the denied targets (" + block.to_string() + ")";
        }
    }
    if (allow_.empty()) return std::nullopt;
    for (const Cidr& block : allow_) {
        if (block.contains(target)) return std::nullopt;
    }
    return "target " + shown + " is not in the allowed targets (--allow-target)";
}

std::string TargetPolicy::describe() const {
    return "allow: " + join(allow_, "any") + "; deny: " + join(deny_, "none") +
           "; always refused: unspecified, multicast, broadcast, 240.0.0.0/4, port 0";
}

// ---- Bearer token ---------------------------------------------------------------------------

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;  // CRYPTO_memcmp is not asked about empty (maybe null) views
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool bearer_token_matches(std::optional<std::string_view> authorization_header,
                          std::optional<std::string_view> token_query, std::string_view expected) {
    if (expected.empty()) return false;  // no token configured: nothing can prove holding it
    bool matches = false;
    if (authorization_header) {
        const auto token = bearer_credentials(*authorization_header);
        if (token && constant_time_equal(*token, expected)) matches = true;
    }
    if (token_query && constant_time_equal(*token_query, expected)) matches = true;
    return matches;
}

// ---- Origins --------------------------------------------------------------------------------

std::optional<std::string> normalize_origin(std::string_view origin) {
    const auto separator = origin.find("://");
    if (separator == std::string_view::npos) return std::nullopt;
    const std::string scheme = lowercase(origin.substr(0, separator));
    if (scheme != "http" && scheme != "https") return std::nullopt;
    std::string_view rest = origin.substr(separator + 3);
    const auto host = take_origin_host(rest);
    if (!host) return std::nullopt;
    const auto port = take_origin_port(rest);
    if (!port) return std::nullopt;
    const unsigned default_port = scheme == "http" ? 80 : 443;
    std::string normalized = scheme + "://" + *host;
    if (*port != 0 && *port != default_port) normalized += ":" + std::to_string(*port);
    return normalized;
}

std::variant<OriginPolicy, std::string> OriginPolicy::make(
    const std::vector<std::string>& allowed) {
    OriginPolicy policy;
    for (const std::string& entry : allowed) {
        if (entry == "*") {
            policy.any_ = true;
            continue;
        }
        auto origin = normalize_origin(entry);
        if (!origin) {
            return "allowed origin '" + printable(entry) +
                   "' is not * or an origin scheme://host[:port] with scheme http or https and "
                   "no path (e.g. https://app.example.com)";
        }
        const auto& origins = policy.origins_;
        if (std::find(origins.begin(), origins.end(), *origin) == origins.end()) {
            policy.origins_.push_back(std::move(*origin));
        }
    }
    return policy;
}

std::optional<std::string> OriginPolicy::check(
    std::optional<std::string_view> origin_header) const {
    if (!origin_header || any_) return std::nullopt;
    const auto origin = trim_ows(*origin_header);
    if (origin == "null") {
        return std::string(
            "origin null (a sandboxed page or a local file) is not allowed; only "
            "--allow-origin '*' admits it");
    }
    const auto normalized = normalize_origin(origin);
    if (normalized && std::find(origins_.begin(), origins_.end(), *normalized) != origins_.end()) {
        return std::nullopt;
    }
    return "origin " + printable(origin) + " is not allowed (--allow-origin)";
}

std::string OriginPolicy::describe() const {
    if (any_) return "origins: any (*)";
    if (origins_.empty()) return "origins: none (requests with an Origin header are refused)";
    std::string out = "origins: ";
    for (std::size_t i = 0; i < origins_.size(); ++i) {
        if (i != 0) out += ", ";
        out += origins_[i];
    }
    return out;
}

}  // namespace wsbridge
