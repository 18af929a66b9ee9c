#include "srmudp/address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "srmudp/events.hpp"

namespace srmudp {

PeerAddress PeerAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                            std::uint16_t port) {
    PeerAddress addr;
    addr.family = Family::v4;
    addr.ip[0] = a;
    addr.ip[1] = b;
    addr.ip[2] = c;
    addr.ip[3] = d;
    addr.port = port;
    return addr;
}

std::optional<PeerAddress> PeerAddress::from_ip(std::string_view ip_literal, std::uint16_t port) {
    // inet_pton needs a terminated string; an IP literal is at most 45 characters (+ zone).
    char buf[64];
    if (ip_literal.empty() || ip_literal.size() >= sizeof buf) return std::nullopt;
    std::memcpy(buf, ip_literal.data(), ip_literal.size());
    buf[ip_literal.size()] = '\0';
    PeerAddress addr;
    addr.port = port;
    if (inet_pton(AF_INET, buf, addr.ip.data()) == 1) {
        addr.family = Family::v4;
        return addr;
    }
    if (inet_pton(AF_INET6, buf, addr.ip.data()) == 1) {
        addr.family = Family::v6;
        return addr;
    }
    return std::nullopt;
}

std::optional<PeerAddress> PeerAddress::parse(std::string_view host_port) {
    std::string_view host;
    std::string_view port_text;
    if (!host_port.empty() && host_port.front() == '[') {
        const auto close = host_port.find(']');
        if (close == std::string_view::npos || close + 1 >= host_port.size() ||
            host_port[close + 1] != ':') {
            return std::nullopt;
        }
        host = host_port.substr(1, close - 1);
        port_text = host_port.substr(close + 2);
    } else {
        const auto colon = host_port.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = host_port.substr(0, colon);
        port_text = host_port.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs [...]
    }
    unsigned port = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || ec != std::errc() || ptr != end || port > 65535) return std::nullopt;
    auto addr = from_ip(host, static_cast<std::uint16_t>(port));
    if (addr && addr->family == Family::v6 && host_port.front() != '[') return std::nullopt;
    return addr;
}

std::string PeerAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family == Family::v4) {
        inet_ntop(AF_INET, ip.data(), buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(port);
    }
    inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port);
}

std::size_t PeerAddressHash::operator()(const PeerAddress& a) const noexcept {
    // FNV-1a over the significant bytes; addresses are not attacker-chosen keys of large maps
    // on their own (connections are keyed by random connection IDs).
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](std::uint8_t b) {
        h ^= b;
        h *= 1099511628211ull;
    };
    mix(static_cast<std::uint8_t>(a.family));
    for (std::uint8_t b : a.ip)
        mix(b);
    mix(static_cast<std::uint8_t>(a.port >> 8));
    mix(static_cast<std::uint8_t>(a.port));
    return static_cast<std::size_t>(h);
}

const char* to_string(ConnectionState state) noexcept {
    switch (state) {
        case ConnectionState::connecting:
            return "connecting";
        case ConnectionState::established:
            return "established";
        case ConnectionState::reconnecting:
            return "reconnecting";
        case ConnectionState::closing:
            return "closing";
        case ConnectionState::closed:
            return "closed";
    }
    return "unknown";
}

}  // namespace srmudp
