#include "core/conn/packet_protection.hpp"

#include <openssl/crypto.h>

#include "core/conn/constants.hpp"
#include "srmudp/error.hpp"

namespace srmudp::conn {
namespace {

constexpr auto kAlgorithm = crypto::AeadAlgorithm::chacha20_poly1305;

crypto::Hash to_hash(const crypto::AeadKey& key) {
    crypto::Hash h;
    std::copy(key.begin(), key.end(), h.begin());
    return h;
}

crypto::AeadKey to_key(const crypto::Hash& h) {
    crypto::AeadKey k;
    std::copy(h.begin(), h.end(), k.begin());
    return k;
}

}  // namespace

PacketProtection::PacketProtection(const crypto::TransportKeys& keys, bool initiator,
                                   std::uint64_t key_update_packets)
    : key_update_packets_(key_update_packets == 0 ? 1 : key_update_packets) {
    send_.secret = to_hash(initiator ? keys.initiator_to_responder : keys.responder_to_initiator);
    recv_current_.secret =
        to_hash(initiator ? keys.responder_to_initiator : keys.initiator_to_responder);
    send_.aead.emplace(kAlgorithm, to_key(send_.secret));
    recv_current_.aead.emplace(kAlgorithm, to_key(recv_current_.secret));
    recv_next_.secret = recv_current_.secret;
    advance(recv_next_);
}

PacketProtection::~PacketProtection() {
    for (Direction* d : {&send_, &recv_current_, &recv_next_, &recv_previous_}) {
        OPENSSL_cleanse(d->secret.data(), d->secret.size());
    }
}

void PacketProtection::advance(Direction& d) {
    const crypto::Hash next = crypto::hkdf_expand(d.secret, kKeyUpdateLabel);
    OPENSSL_cleanse(d.secret.data(), d.secret.size());
    d.secret = next;
    d.aead.emplace(kAlgorithm, to_key(d.secret));
}

void PacketProtection::update_send_key() {
    advance(send_);
    ++send_generation_;
    packets_under_send_key_ = 0;
    ++key_updates_;
}

void PacketProtection::rotate_receive_keys(std::uint64_t first_packet_number) {
    recv_previous_ = std::move(recv_current_);
    has_previous_ = true;
    recv_current_ = std::move(recv_next_);
    recv_next_.secret = recv_current_.secret;
    advance(recv_next_);
    recv_current_first_pn_ = first_packet_number;
    ++recv_generation_;
    // The peer moved to a new generation: answer by moving our sending key too.
    if (send_generation_ < recv_generation_) update_send_key();
}

std::size_t PacketProtection::seal(codec::ConnectionId peer_cid, std::uint64_t packet_number,
                                   ByteView plaintext, MutableByteView out) {
    if (packets_under_send_key_ >= key_update_packets_ && send_generation_ == recv_generation_) {
        update_send_key();
    }
    codec::PacketHeader header;
    header.type = codec::PacketType::data;
    header.key_phase = (send_generation_ & 1) != 0;
    header.receiver_cid = peer_cid;
    header.packet_number = packet_number;
    const std::size_t total = codec::kDataHeaderSize + plaintext.size() + kAeadTagSize;
    if (out.size() < total || codec::encode_packet_header(header, out) != codec::kDataHeaderSize) {
        return 0;
    }
    if (!send_.aead->seal(packet_number, out.first(codec::kDataHeaderSize), plaintext,
                          out.data() + codec::kDataHeaderSize)) {
        return 0;
    }
    ++packets_under_send_key_;
    return total;
}

std::error_code PacketProtection::open(ByteView datagram, const codec::PacketHeader& header,
                                       std::size_t header_size, MutableByteView out,
                                       std::size_t& plaintext_size) {
    if (datagram.size() < header_size + kAeadTagSize)
        return make_error_code(error::malformed_packet);
    const std::uint64_t pn = header.packet_number;
    if (!replay_.check(pn)) return make_error_code(error::replayed_packet);
    const ByteView ad = datagram.first(header_size);
    const ByteView ciphertext = datagram.subspan(header_size);
    plaintext_size = ciphertext.size() - kAeadTagSize;
    if (out.size() < plaintext_size) return make_error_code(error::malformed_packet);

    const bool current_phase = ((recv_generation_ & 1) != 0) == header.key_phase;
    if (current_phase) {
        if (!recv_current_.aead->open(pn, ad, ciphertext, out.data())) {
            return make_error_code(error::authentication_failed);
        }
    } else if (has_previous_ && pn < recv_current_first_pn_) {
        if (!recv_previous_.aead->open(pn, ad, ciphertext, out.data())) {
            return make_error_code(error::authentication_failed);
        }
    } else {
        if (!recv_next_.aead->open(pn, ad, ciphertext, out.data())) {
            return make_error_code(error::authentication_failed);
        }
        rotate_receive_keys(pn);
    }
    replay_.mark(pn);
    return {};
}

}  // namespace srmudp::conn
