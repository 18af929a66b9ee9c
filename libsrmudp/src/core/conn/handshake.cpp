#include "core/conn/handshake.hpp"

#include <openssl/crypto.h>

#include <cstring>

#include "core/codec/buffer.hpp"
#include "core/conn/constants.hpp"
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

Bytes make_prologue(ByteView initiation_header) {
    Bytes prologue(kPrologueLabel.size() + initiation_header.size());
    std::memcpy(prologue.data(), kPrologueLabel.data(), kPrologueLabel.size());
    std::memcpy(prologue.data() + kPrologueLabel.size(), initiation_header.data(),
                initiation_header.size());
    return prologue;
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

Bytes initiation_payload(const HandshakePayload& p) {
    // Zero padding inside the AEAD brings the datagram to kInitiationSize.
    Bytes payload(kInitiationPayloadSize, 0);
    codec::Writer w(MutableByteView(payload.data(), payload.size()));
    write_payload_fields(w, p);
    return payload;
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

InitiatorState::~InitiatorState() {
    OPENSSL_cleanse(ephemeral_private.data(), ephemeral_private.size());
}

std::error_code create_initiation(const crypto::Psk& psk, ConnectionId local_cid,
                                  const HandshakePayload& payload, Random& random,
                                  InitiatorState& out) {
    random.fill(MutableByteView(out.ephemeral_private.data(), out.ephemeral_private.size()));
    out.local_cid = local_cid;
    out.payload = payload;

    codec::PacketHeader header;
    header.type = codec::PacketType::initiation;
    header.sender_cid = local_cid;
    out.datagram.assign(codec::kInitiationHeaderSize, 0);
    if (codec::encode_packet_header(header, MutableByteView(out.datagram)) == 0) {
        return make_error_code(error::internal_error);
    }
    const Bytes prologue = make_prologue(ByteView(out.datagram));
    crypto::NoiseHandshake noise(kSuite, true, ByteView(prologue), psk, out.ephemeral_private);
    /* psk, e */
    if (auto ec = noise.write_message(ByteView(initiation_payload(payload)), out.datagram))
        return ec;
    out.ephemeral_public = noise.local_ephemeral_public();
    return {};
}

std::error_code consume_initiation(const crypto::Psk& psk, ByteView datagram, Random& random,
                                   ConsumedInitiation& out) {
    codec::PacketHeader header;
    if (auto ec = decode_header(datagram, codec::PacketType::initiation, kInitiationSize, header)) {
        return ec;
    }
    crypto::X25519Key ephemeral;
    random.fill(MutableByteView(ephemeral.data(), ephemeral.size()));
    const Bytes prologue = make_prologue(datagram.first(codec::kInitiationHeaderSize));
    auto noise =
        std::make_unique<crypto::NoiseHandshake>(kSuite, false, ByteView(prologue), psk, ephemeral);
    OPENSSL_cleanse(ephemeral.data(), ephemeral.size());
    /* psk, e */
    Bytes payload;
    if (auto ec = noise->read_message(datagram.subspan(codec::kInitiationHeaderSize), payload)) {
        return ec;
    }
    codec::Reader r{ByteView(payload)};
    if (!read_payload_fields(r, out.payload)) return make_error_code(error::malformed_packet);
    out.initiator_cid = header.sender_cid;
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
    datagram.assign(codec::kResponseHeaderSize, 0);
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

    // Rebuild the initiator's state after message 1; it is deterministic in its inputs.
    const Bytes prologue =
        make_prologue(ByteView(initiator.datagram).first(codec::kInitiationHeaderSize));
    crypto::NoiseHandshake noise(kSuite, true, ByteView(prologue), psk,
                                 initiator.ephemeral_private);
    Bytes message1;
    if (auto ec = noise.write_message(ByteView(initiation_payload(initiator.payload)), message1)) {
        return ec;
    }
    /* e, ee */
    Bytes payload;
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
