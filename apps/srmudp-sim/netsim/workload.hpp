// The messages a simulated application sends: a deterministic, randomised stream.
//
// Message i of a stream is a pure function of (stream seed, i): its kind, its size and every byte
// of it. The sender generates each message just before send(); the receiver regenerates the one
// it expects next and compares byte for byte, so nothing has to be stored in between.
//
// Sizes are skewed like real traffic: mostly small, some around the datagram size, a few large
// up to max_size. The first messages of every stream are the boundary cases (empty text and
// binary messages, sizes around 1200 bytes, max_size) so that even a short stream covers them.
// Text messages are valid UTF-8 with 1- to 4-byte sequences; binary messages are arbitrary bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "srmudp/bytes.hpp"
#include "srmudp/message.hpp"
#include "srmudp/time.hpp"

namespace srmudp::netsim {

// The largest message a workload may use (4 MiB).
inline constexpr std::size_t kMaxWorkloadMessage = 4u << 20;

enum class SizeMix : std::uint8_t {
    skewed,     // boundary cases first, then mostly small, some large (see above)
    fixed_max,  // every message exactly max_size bytes
};

struct WorkloadParams {
    std::size_t messages = 100;        // per direction of every connection
    std::size_t max_size = 64u << 10;  // at most kMaxWorkloadMessage
    SizeMix mix = SizeMix::skewed;
    double text_fraction = 0.3;  // of the randomly drawn messages
    // Zero: queue as fast as the send buffer takes messages. Otherwise one message per interval
    // (a message held back by a full send buffer goes out as soon as there is room).
    Duration interval{};
};

struct MessageSpec {
    MessageKind kind = MessageKind::binary;
    std::size_t size = 0;

    friend bool operator==(const MessageSpec& a, const MessageSpec& b) {
        return a.kind == b.kind && a.size == b.size;
    }
};

// Kind and size of message `index` of the stream seeded with stream_seed.
MessageSpec message_spec(std::uint64_t stream_seed, std::uint64_t index,
                         const WorkloadParams& params);

// Writes the content of that message into out (resized to spec.size).
void message_content(std::uint64_t stream_seed, std::uint64_t index, const MessageSpec& spec,
                     Bytes& out);

// True if bytes are well-formed UTF-8 (RFC 3629: shortest form, no surrogates, <= U+10FFFF).
bool is_valid_utf8(ByteView bytes) noexcept;

}  // namespace srmudp::netsim
