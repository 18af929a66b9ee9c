// Record headers of the message stream.
//
// Every message travels in the connection's byte stream as one record: a header, then the message
// bytes. The header is a variable-length integer in the encoding of RFC 9000 section 16 (the two
// high bits of the first byte give the length, 1, 2, 4 or 8 bytes, in network byte order) whose
// value is (message size << 1) | kind bit, the kind bit being 0 for text and 1 for binary.
#pragma once

#include <cstddef>
#include <cstdint>

#include "srmudp/bytes.hpp"
#include "srmudp/message.hpp"

namespace srmudp::message {

// The longest record header (an 8-byte varint).
inline constexpr std::size_t kMaxRecordHeaderSize = 8;

// The largest message size a header can express: a varint holds 62 bits, the kind takes one.
inline constexpr std::uint64_t kMaxRecordMessageSize = (std::uint64_t{1} << 61) - 1;

struct RecordHeader {
    MessageKind kind = MessageKind::binary;
    std::uint64_t message_size = 0;
};

// Bytes the header of a message of this size occupies: 1, 2, 4 or 8; 0 if the size is above
// kMaxRecordMessageSize.
std::size_t record_header_size(std::uint64_t message_size) noexcept;

// Bytes of the header that starts with this byte (1, 2, 4 or 8).
std::size_t record_header_size_from_first_byte(std::uint8_t first) noexcept;

// Writes the shortest header for `header` at the start of `out`; returns the bytes written, or 0
// (nothing written) if the size is above kMaxRecordMessageSize or `out` is too short.
std::size_t encode_record_header(const RecordHeader& header, MutableByteView out) noexcept;

// Reads a header from the start of `in` (any varint length is accepted, not only the shortest);
// returns the bytes it occupies, or 0 (header untouched) if `in` is empty or shorter than the
// length its first byte names.
std::size_t decode_record_header(ByteView in, RecordHeader& header) noexcept;

}  // namespace srmudp::message
