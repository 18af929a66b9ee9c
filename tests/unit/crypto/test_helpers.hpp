// Small helpers shared by the crypto unit tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "srmudp/bytes.hpp"

namespace srmudp::crypto::test {

inline Bytes from_hex(std::string_view hex) {
    auto nibble = [](char c) -> std::uint8_t {
        if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
        return static_cast<std::uint8_t>(c - 'A' + 10);
    };
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    }
    return out;
}

template <typename Array>
Array array_from_hex(std::string_view hex) {
    const Bytes b = from_hex(hex);
    Array a{};
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
        a[i] = b[i];
    return a;
}

inline std::string to_hex(ByteView bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (std::uint8_t b : bytes) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

template <typename Array>
std::string array_hex(const Array& a) {
    return to_hex(ByteView(a.data(), a.size()));
}

}  // namespace srmudp::crypto::test
