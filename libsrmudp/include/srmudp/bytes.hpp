// Non-owning views over byte ranges (C++17 has no std::span).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace srmudp {

using Bytes = std::vector<std::uint8_t>;

template <typename T>
class BasicSpan {
  public:
    constexpr BasicSpan() noexcept = default;
    constexpr BasicSpan(T* data, std::size_t size) noexcept : data_(data), size_(size) {}
    template <typename U, typename A,
              typename = std::enable_if_t<std::is_convertible_v<U (*)[], T (*)[]>>>
    BasicSpan(std::vector<U, A>& v) noexcept : data_(v.data()), size_(v.size()) {}
    template <typename U, typename A,
              typename = std::enable_if_t<std::is_convertible_v<const U (*)[], T (*)[]>>>
    BasicSpan(const std::vector<U, A>& v) noexcept : data_(v.data()), size_(v.size()) {}
    template <std::size_t N>
    constexpr BasicSpan(T (&a)[N]) noexcept : data_(a), size_(N) {}
    template <typename U, typename = std::enable_if_t<std::is_convertible_v<U (*)[], T (*)[]>>>
    constexpr BasicSpan(BasicSpan<U> o) noexcept : data_(o.data()), size_(o.size()) {}

    constexpr T* data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
    constexpr T* begin() const noexcept { return data_; }
    constexpr T* end() const noexcept { return data_ + size_; }

    // The sub-range [offset, offset + count); the caller guarantees it lies inside.
    constexpr BasicSpan subspan(std::size_t offset, std::size_t count) const noexcept {
        return BasicSpan(data_ + offset, count);
    }
    constexpr BasicSpan subspan(std::size_t offset) const noexcept {
        return BasicSpan(data_ + offset, size_ - offset);
    }
    constexpr BasicSpan first(std::size_t count) const noexcept { return subspan(0, count); }

  private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

using ByteView = BasicSpan<const std::uint8_t>;
using MutableByteView = BasicSpan<std::uint8_t>;

inline ByteView as_bytes(std::string_view s) noexcept {
    return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

inline Bytes to_bytes(ByteView v) {
    return Bytes(v.begin(), v.end());
}

}  // namespace srmudp
