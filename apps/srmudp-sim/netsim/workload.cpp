// Deterministic message generator (see workload.hpp). Randomness is counter based: draw k of
// message i is SplitMix64 of a seed derived from (stream seed, i), so any message can be
// regenerated on its own.
#include "netsim/workload.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "netsim/seed.hpp"

namespace srmudp::netsim {
namespace {

constexpr std::uint64_t kSpecDraws = 1;
constexpr std::uint64_t kContentDraws = 2;

class Draws {
  public:
    explicit Draws(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() noexcept { return mix64(state_++); }
    // Uniform in [lo, hi]; the modulo bias is irrelevant for test data.
    std::size_t between(std::size_t lo, std::size_t hi) noexcept {
        return lo + static_cast<std::size_t>(next() % (hi - lo + 1));
    }

  private:
    std::uint64_t state_;
};

Draws draws_for(std::uint64_t stream_seed, std::uint64_t index, std::uint64_t purpose) {
    return Draws(derive_seed(stream_seed, purpose, index));
}

// The boundary cases that open every skewed stream; SIZE_MAX stands for max_size.
struct Opening {
    MessageKind kind;
    std::size_t size;
};
constexpr std::array<Opening, 7> kOpening{{
    {MessageKind::binary, 0},
    {MessageKind::text, 0},
    {MessageKind::binary, 1200},
    {MessageKind::text, 1199},
    {MessageKind::binary, 1201},
    {MessageKind::binary, 1},
    {MessageKind::text, SIZE_MAX},
}};

std::size_t skewed_size(Draws& d, std::size_t max_size) {
    const std::size_t bucket = d.between(0, 99);
    if (bucket < 5) return 0;
    if (bucket < 15) return d.between(1100, 1300);  // around one datagram's payload
    if (bucket < 65) return d.between(1, 200);
    if (bucket < 90) return d.between(201, 16u << 10);
    // Log-uniform between 16 KiB and max_size: large messages of every magnitude.
    const double lo = std::log(16.0 * 1024);
    const double hi = std::log(static_cast<double>(std::max<std::size_t>(max_size, 16u << 10)));
    return static_cast<std::size_t>(std::exp(lo + unit_interval(d.next()) * (hi - lo)));
}

// Appends one UTF-8 encoded code point of `width` bytes (1..4), drawn from d.
void append_code_point(Draws& d, std::size_t width, std::uint8_t* out) {
    const std::uint64_t r = d.next();
    switch (width) {
        case 1:
            out[0] = static_cast<std::uint8_t>(r % 16 == 0 ? '\n' : 0x20 + r % 95);
            return;
        case 2: {
            const auto cp = static_cast<std::uint32_t>(0x80 + r % (0x800 - 0x80));
            out[0] = static_cast<std::uint8_t>(0xC0 | (cp >> 6));
            out[1] = static_cast<std::uint8_t>(0x80 | (cp & 0x3F));
            return;
        }
        case 3: {
            // U+0800..U+FFFF without the surrogates U+D800..U+DFFF.
            auto cp = static_cast<std::uint32_t>(0x800 + r % (0x10000 - 0x800 - 0x800));
            if (cp >= 0xD800) cp += 0x800;
            out[0] = static_cast<std::uint8_t>(0xE0 | (cp >> 12));
            out[1] = static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F));
            out[2] = static_cast<std::uint8_t>(0x80 | (cp & 0x3F));
            return;
        }
        default: {
            const auto cp = static_cast<std::uint32_t>(0x10000 + r % (0x110000 - 0x10000));
            out[0] = static_cast<std::uint8_t>(0xF0 | (cp >> 18));
            out[1] = static_cast<std::uint8_t>(0x80 | ((cp >> 12) & 0x3F));
            out[2] = static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F));
            out[3] = static_cast<std::uint8_t>(0x80 | (cp & 0x3F));
            return;
        }
    }
}

void fill_text(Draws& d, Bytes& out) {
    std::size_t at = 0;
    while (at < out.size()) {
        const std::uint64_t r = d.next() % 100;
        std::size_t width = r < 70 ? 1 : r < 85 ? 2 : r < 97 ? 3 : 4;
        width = std::min(width, out.size() - at);  // the tail is filled with shorter characters
        append_code_point(d, width, out.data() + at);
        at += width;
    }
}

void fill_binary(Draws& d, Bytes& out) {
    std::size_t at = 0;
    while (at < out.size()) {
        std::uint64_t r = d.next();
        for (int i = 0; i < 8 && at < out.size(); ++i, r >>= 8) {
            out[at++] = static_cast<std::uint8_t>(r);
        }
    }
}

// The first byte of a UTF-8 sequence: its length, its payload bits and the smallest code point a
// sequence of that length may encode (anything smaller is an overlong form).
struct Lead {
    std::size_t width;  // 0: not a valid first byte
    std::uint32_t bits;
    std::uint32_t min_code_point;
};

Lead decode_lead(std::uint8_t b) noexcept {
    if (b < 0x80) return {1, b, 0};
    if ((b & 0xE0) == 0xC0) return {2, b & 0x1Fu, 0x80};
    if ((b & 0xF0) == 0xE0) return {3, b & 0x0Fu, 0x800};
    if ((b & 0xF8) == 0xF0) return {4, b & 0x07u, 0x10000};
    return {0, 0, 0};  // a continuation byte or 0xF8..0xFF
}

}  // namespace

MessageSpec message_spec(std::uint64_t stream_seed, std::uint64_t index,
                         const WorkloadParams& params) {
    const std::size_t max_size = std::min(params.max_size, kMaxWorkloadMessage);
    Draws d = draws_for(stream_seed, index, kSpecDraws);
    MessageSpec spec;
    spec.kind =
        unit_interval(d.next()) < params.text_fraction ? MessageKind::text : MessageKind::binary;
    if (params.mix == SizeMix::fixed_max) {
        spec.size = max_size;
    } else if (index < kOpening.size()) {
        spec.kind = kOpening[index].kind;
        spec.size = std::min(kOpening[index].size, max_size);
    } else {
        spec.size = std::min(skewed_size(d, max_size), max_size);
    }
    return spec;
}

void message_content(std::uint64_t stream_seed, std::uint64_t index, const MessageSpec& spec,
                     Bytes& out) {
    out.resize(spec.size);
    Draws d = draws_for(stream_seed, index, kContentDraws);
    if (spec.kind == MessageKind::text) {
        fill_text(d, out);
    } else {
        fill_binary(d, out);
    }
}

bool is_valid_utf8(ByteView bytes) noexcept {
    std::size_t i = 0;
    while (i < bytes.size()) {
        const Lead lead = decode_lead(bytes[i]);
        if (lead.width == 0) return false;
        if (bytes.size() - i < lead.width) return false;
        std::uint32_t cp = lead.bits;
        for (std::size_t k = 1; k < lead.width; ++k) {
            if ((bytes[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (bytes[i + k] & 0x3Fu);
        }
        if (cp < lead.min_code_point || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;  // overlong, beyond Unicode, or a surrogate
        }
        i += lead.width;
    }
    return true;
}

}  // namespace srmudp::netsim
