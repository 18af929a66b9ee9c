// A UDP peer address (IPv4 or IPv6 and port) as the sans-IO core sees it: a plain value.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace srmudp {

struct PeerAddress {
    enum class Family : std::uint8_t { v4, v6 };
    Family family = Family::v4;
    // IPv4 addresses use the first 4 bytes; network byte order.
    std::array<std::uint8_t, 16> ip{};
    std::uint16_t port = 0;

    static PeerAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                          std::uint16_t port);
    // Parses "1.2.3.4:5", "[::1]:5"; nullopt if malformed.
    static std::optional<PeerAddress> parse(std::string_view host_port);
    // Parses an IP literal and a port given apart; nullopt if the IP is not a literal.
    static std::optional<PeerAddress> from_ip(std::string_view ip_literal, std::uint16_t port);
    std::string to_string() const;  // "1.2.3.4:5" or "[::1]:5"

    friend bool operator==(const PeerAddress& a, const PeerAddress& b) {
        return a.family == b.family && a.port == b.port && a.ip == b.ip;
    }
    friend bool operator!=(const PeerAddress& a, const PeerAddress& b) { return !(a == b); }
};

struct PeerAddressHash {
    std::size_t operator()(const PeerAddress& a) const noexcept;
};

}  // namespace srmudp
