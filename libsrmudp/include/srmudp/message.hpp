// Messages as the application sees them.
#pragma once

#include <cstdint>

#include "srmudp/bytes.hpp"

namespace srmudp {

// Text stays text and binary stays binary end to end; the transport never inspects the bytes.
enum class MessageKind : std::uint8_t { text = 0, binary = 1 };

// Assigned by the sender when a message is queued; 1, 2, 3, ... per connection, never reused.
using MessageId = std::uint64_t;

struct Message {
    MessageKind kind = MessageKind::binary;
    Bytes data;
};

}  // namespace srmudp
