// Bounded big-endian reader and writer over caller-owned byte ranges.
//
// Every wire codec in the core goes through these two classes so that bounds are checked in one
// place: a read that would run past the end reads nothing and returns false, and a write that
// does not fit writes nothing and returns false. Neither class allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "srmudp/bytes.hpp"

namespace srmudp::codec {

// Reads big-endian integers and byte runs from a ByteView, never past its end.
class Reader {
  public:
    explicit Reader(ByteView data) noexcept : data_(data) {}

    // Each read returns false and consumes nothing if fewer bytes remain than it needs.
    bool read_u8(std::uint8_t& v) noexcept { return read_be(v); }
    bool read_u16(std::uint16_t& v) noexcept { return read_be(v); }
    bool read_u32(std::uint32_t& v) noexcept { return read_be(v); }
    bool read_u64(std::uint64_t& v) noexcept { return read_be(v); }
    // The next byte without consuming it; false at the end.
    bool peek_u8(std::uint8_t& v) const noexcept {
        if (empty()) return false;
        v = data_[pos_];
        return true;
    }
    // out views the next n bytes of the input (no copy).
    bool read_bytes(std::size_t n, ByteView& out) noexcept {
        if (remaining() < n) return false;
        out = data_.subspan(pos_, n);
        pos_ += n;
        return true;
    }
    bool skip(std::size_t n) noexcept {
        if (remaining() < n) return false;
        pos_ += n;
        return true;
    }

    std::size_t remaining() const noexcept { return data_.size() - pos_; }
    std::size_t position() const noexcept { return pos_; }
    // The unread part of the input.
    ByteView rest() const noexcept { return data_.subspan(pos_); }
    bool empty() const noexcept { return remaining() == 0; }

  private:
    template <typename T>
    bool read_be(T& v) noexcept {
        if (remaining() < sizeof(T)) return false;
        T x = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) {
            x = static_cast<T>((static_cast<std::uint64_t>(x) << 8) | data_[pos_ + i]);
        }
        v = x;
        pos_ += sizeof(T);
        return true;
    }

    ByteView data_;
    std::size_t pos_ = 0;
};

// Writes big-endian integers and byte runs into a MutableByteView, never past its end.
class Writer {
  public:
    explicit Writer(MutableByteView out) noexcept : out_(out) {}

    // Each write returns false and writes nothing if it does not fit in the remaining space.
    bool write_u8(std::uint8_t v) noexcept { return write_be(v); }
    bool write_u16(std::uint16_t v) noexcept { return write_be(v); }
    bool write_u32(std::uint32_t v) noexcept { return write_be(v); }
    bool write_u64(std::uint64_t v) noexcept { return write_be(v); }
    bool write_bytes(ByteView v) noexcept {
        if (remaining() < v.size()) return false;
        // memcpy with a null source is undefined even for zero bytes.
        if (!v.empty()) std::memcpy(out_.data() + pos_, v.data(), v.size());
        pos_ += v.size();
        return true;
    }
    bool write_zeros(std::size_t n) noexcept {
        if (remaining() < n) return false;
        if (n != 0) std::memset(out_.data() + pos_, 0, n);
        pos_ += n;
        return true;
    }

    // Claims the next n bytes for the caller to fill in place (no copy through a scratch
    // buffer); empty, and nothing claimed, if they do not fit.
    MutableByteView claim(std::size_t n) noexcept {
        if (remaining() < n) return MutableByteView();
        const MutableByteView region(out_.data() + pos_, n);
        pos_ += n;
        return region;
    }

    // Bytes written so far.
    std::size_t size() const noexcept { return pos_; }
    std::size_t remaining() const noexcept { return out_.size() - pos_; }
    // Start of the output buffer (not of the free space).
    std::uint8_t* data() noexcept { return out_.data(); }
    // The bytes written so far.
    ByteView written() const noexcept { return ByteView(out_.data(), pos_); }

  private:
    template <typename T>
    bool write_be(T v) noexcept {
        if (remaining() < sizeof(T)) return false;
        const auto x = static_cast<std::uint64_t>(v);
        for (std::size_t i = 0; i < sizeof(T); ++i) {
            out_[pos_ + i] = static_cast<std::uint8_t>(x >> (8 * (sizeof(T) - 1 - i)));
        }
        pos_ += sizeof(T);
        return true;
    }

    MutableByteView out_;
    std::size_t pos_ = 0;
};

}  // namespace srmudp::codec
