#include "core/conn/handshake.hpp"

#include <openssl/crypto.h>

#include <cstring>

#include "core/codec/buffer.hpp"
#include "core/conn/constants.hpp"
#include "core/crypto/hash.hpp"
#include "srmudp/error.hpp"

namespace srmudp::conn {
namespace {

constexpr crypto::NoiseSuite kSuite{crypto::NoisePattern::nnpsk0,
                                    crypto::AeadAlgorithm::chacha20_poly1305};

// session id (16) + resume offset (8) + max data (8)
constexpr std::size_t kPayloadFieldsSize = kSessionIdSize + 8 + 8;
constexpr std::size_t kInitiationPayloadSize =
    kInitiationSize - codec::kInitiationHeaderSize - crypto::kNoiseMessageOverhead;
constexpr std::size_t kResponsePayloadSize = 8 + kPayloadFieldsSize;
constexpr std::size_t kResponseSize =
    codec::kResponseHeaderSize + crypto::kNoiseMessageOverhead + kResponsePayloadSize;

static_assert(kResponseSize < kInitiationSize, "a response must be smaller than its initiation");

using Prologue = std::array<std::uint8_t, kPrologueLabel.size() + codec::kInitiationHeaderSize>;

// initiation_header must be the kInitiationHeaderSize bytes the datagram starts with.
Prologue make_prologue(ByteView initiation_header) {
    Prologue prologue;
    std::memcpy(prologue.data(), kPrologueLabel.data(), kPrologueLabel.size());
    std::memcpy(prologue.data() + kPrologueLabel.size(), initiation_header.data(),
                codec::kInitiationHeaderSize);
    return prologue;
}

ByteView view(const Prologue& prologue) {
    return ByteView(prologue.data(), prologue.size());
}

void write_payload_fields(codec::Writer& w, const HandshakePayload& p) {
    w.write_bytes(ByteView(p.session_id.data(), p.session_id.size()));
    w.write_u64(p.resume_offset);
    w.write_u64(p.max_data);
}

bool read_payload_fields(codec::Reader& r, HandshakePayload& p) {
    ByteView id;
    if (!r.read_bytes(p.session_id.size(), id)) return false;
    std::memcpy(p.session_id.data(), id.data(), id.size());
    return r.read_u64(p.resume_offset) && r.read_u64(p.max_data);
}

std::error_code decode_header(ByteView datagram, codec::PacketType expected,
                              std::size_t expected_size, codec::PacketHeader& header) {
    std::size_t header_size = 0;
    if (auto ec = codec::decode_packet_header(datagram, header, header_size)) return ec;
    if (header.type != expected || datagram.size() != expected_size) {
        return make_error_code(error::malformed_packet);
    }
    return {};
}

}  // namespace

std::error_code create_initiation(const crypto::Psk& psk, ConnectionId local_cid,
                                  const HandshakePayload& payload, Random& random,
                                  InitiatorState& out) {
    crypto::X25519Key ephemeral;
    random.fill(MutableByteView(ephemeral.data(), ephemeral.size()));
    out.local_cid = local_cid;
    out.payload = payload;

    codec::PacketHeader header;
    header.type = codec::PacketType::initiation;
    header.sender_cid = local_cid;
    out.datagram.clear();
    out.datagram.reserve(kInitiationSize);
    out.datagram.resize(codec::kInitiationHeaderSize, 0);
    if (codec::encode_packet_header(header, MutableByteView(out.datagram)) == 0) {
        return make_error_code(error::internal_error);
    }
    crypto::NoiseHandshake noise(kSuite, true, view(make_prologue(ByteView(out.datagram))), psk,
                                 ephemeral);
    OPENSSL_cleanse(ephemeral.data(), ephemeral.size());
    // Zero padding inside the AEAD brings the datagram to kInitiationSize.
    std::uint8_t fields[kInitiationPayloadSize] = {};
    codec::Writer w(MutableByteView(fields, sizeof fields));
    write_payload_fields(w, payload);
    w.write_u32(payload.channel);
    /* psk, e */
    if (auto ec = noise.write_message(ByteView(fields, sizeof fields), out.datagram)) return ec;
    if (!noise.save_initiator_state(out.noise)) return make_error_code(error::internal_error);
    out.ephemeral_public = noise.local_ephemeral_public();
    return {};
}

InitiationDigest initiation_digest(ByteView datagram) {
    return crypto::sha256(datagram);
}

std::error_code consume_initiation(const crypto::Psk& psk, ByteView datagram, Random& random,
                                   ConsumedInitiation& out) {
    codec::PacketHeader header;
    if (auto ec = decode_header(datagram, codec::PacketType::initiation, kInitiationSize, header)) {
        return ec;
    }
    crypto::X25519Key ephemeral;
    random.fill(MutableByteView(ephemeral.data(), ephemeral.size()));
    auto noise = std::make_unique<crypto::NoiseHandshake>(
        kSuite, false, view(make_prologue(datagram.first(codec::kInitiationHeaderSize))), psk,
        ephemeral);
    OPENSSL_cleanse(ephemeral.data(), ephemeral.size());
    /* psk, e */
    Bytes payload;
    payload.reserve(kInitiationPayloadSize);
    if (auto ec = noise->read_message(datagram.subspan(codec::kInitiationHeaderSize), payload)) {
        return ec;
    }
    codec::Reader r{ByteView(payload)};
    if (!read_payload_fields(r, out.payload) || !r.read_u32(out.payload.channel)) {
        return make_error_code(error::malformed_packet);
    }
    out.initiator_cid = header.sender_cid;
    out.digest = initiation_digest(datagram);
    std::memcpy(out.initiator_ephemeral.data(), datagram.data() + codec::kInitiationHeaderSize,
                out.initiator_ephemeral.size());
    out.noise = std::move(noise);
    return {};
}

std::error_code create_response(ConsumedInitiation& initiation, ConnectionId local_cid,
                                const HandshakePayload& payload, Bytes& datagram,
                                crypto::TransportKeys& keys) {
    codec::PacketHeader header;
    header.type = codec::PacketType::response;
    header.receiver_cid = initiation.initiator_cid;
    header.sender_cid = local_cid;
    datagram.clear();
    datagram.reserve(kResponseSize);
    datagram.resize(codec::kResponseHeaderSize, 0);
    if (codec::encode_packet_header(header, MutableByteView(datagram)) == 0) {
        return make_error_code(error::internal_error);
    }
    std::uint8_t fields[kResponsePayloadSize];
    codec::Writer w(MutableByteView(fields, sizeof fields));
    w.write_u64(local_cid);
    write_payload_fields(w, payload);
    /* e, ee */
    if (auto ec = initiation.noise->write_message(ByteView(fields, sizeof fields), datagram)) {
        return ec;
    }
    keys = initiation.noise->split();
    initiation.noise.reset();
    return {};
}

std::error_code consume_response(const crypto::Psk& psk, const InitiatorState& initiator,
                                 ByteView datagram, ConsumedResponse& out) {
    codec::PacketHeader header;
    if (auto ec = decode_header(datagram, codec::PacketType::response, kResponseSize, header)) {
        return ec;
    }
    if (header.receiver_cid != initiator.local_cid) return make_error_code(error::malformed_packet);

    // A fresh state from the saved one: a forged response cannot touch initiator.noise.
    crypto::NoiseHandshake noise(initiator.noise, psk);
    if (noise.is_failed()) return make_error_code(error::crypto_failure);
    /* e, ee */
    Bytes payload;
    payload.reserve(kResponsePayloadSize);
    if (auto ec = noise.read_message(datagram.subspan(codec::kResponseHeaderSize), payload)) {
        return ec;
    }
    codec::Reader r{ByteView(payload)};
    std::uint64_t responder_cid = 0;
    if (!r.read_u64(responder_cid) || !read_payload_fields(r, out.payload) ||
        responder_cid != header.sender_cid) {
        return make_error_code(error::malformed_packet);
    }
    out.responder_cid = header.sender_cid;
    out.keys = noise.split();
    return {};
}

bool wins_tie_break(const crypto::X25519Key& ours, const crypto::X25519Key& theirs) {
    return std::memcmp(ours.data(), theirs.data(), ours.size()) > 0;
}

}  // namespace srmudp::conn
