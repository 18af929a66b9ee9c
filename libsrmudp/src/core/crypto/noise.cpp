// Noise_NNpsk0 and Noise_NNpsk2 (Noise revision 34: HandshakeState section 5.3, SymmetricState
// section 5.2, psk modifiers section 9) with 25519, ChaChaPoly or AESGCM, and SHA256.
//
// The two patterns share everything but where the "psk" token sits, so each message has one
// writer and one reader function that spell out its tokens in order. With a psk, "e" is
// followed by MixKey(e.public_key) (section 9.2), so every payload is encrypted and each
// message is e (32 bytes) || ciphertext (payload + 16).
#include "core/crypto/noise.hpp"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>

namespace srmudp::crypto {
namespace {

ByteView view(const std::array<std::uint8_t, 32>& a) {
    return ByteView(a.data(), a.size());
}

// InitializeSymmetric's h: the protocol name if it fits in HASHLEN bytes (zero-padded), else
// its hash. Computed once per suite (every handshake starts with it); false for an invalid
// suite.
bool initial_hash(NoiseSuite suite, Hash& out) {
    static const auto table = [] {
        std::array<std::array<Hash, 2>, 2> t{};  // [pattern][aead - 1]
        for (NoisePattern p : {NoisePattern::nnpsk0, NoisePattern::nnpsk2}) {
            for (AeadAlgorithm a : {AeadAlgorithm::chacha20_poly1305, AeadAlgorithm::aes256_gcm}) {
                const std::string name = noise_protocol_name({p, a});
                Hash& h = t[static_cast<std::size_t>(p)][static_cast<std::size_t>(a) - 1];
                if (name.size() <= h.size()) {
                    std::memcpy(h.data(), name.data(), name.size());
                } else {
                    h = sha256(as_bytes(name));
                }
            }
        }
        return t;
    }();
    const bool valid_pattern =
        suite.pattern == NoisePattern::nnpsk0 || suite.pattern == NoisePattern::nnpsk2;
    const bool valid_aead =
        suite.aead == AeadAlgorithm::chacha20_poly1305 || suite.aead == AeadAlgorithm::aes256_gcm;
    if (!valid_pattern || !valid_aead) return false;
    out = table[static_cast<std::size_t>(suite.pattern)][static_cast<std::size_t>(suite.aead) - 1];
    return true;
}

}  // namespace

std::string noise_protocol_name(NoiseSuite suite) {
    std::string pattern;
    switch (suite.pattern) {
        case NoisePattern::nnpsk0:
            pattern = "NNpsk0";
            break;
        case NoisePattern::nnpsk2:
            pattern = "NNpsk2";
            break;
        default:
            return {};
    }
    std::string cipher;
    switch (suite.aead) {
        case AeadAlgorithm::chacha20_poly1305:
            cipher = "ChaChaPoly";
            break;
        case AeadAlgorithm::aes256_gcm:
            cipher = "AESGCM";
            break;
        default:
            return {};
    }
    return "Noise_" + pattern + "_25519_" + cipher + "_SHA256";
}

NoiseInitiatorState::~NoiseInitiatorState() {
    OPENSSL_cleanse(ck.data(), ck.size());
    OPENSSL_cleanse(h.data(), h.size());
}

TransportKeys::~TransportKeys() {
    OPENSSL_cleanse(initiator_to_responder.data(), initiator_to_responder.size());
    OPENSSL_cleanse(responder_to_initiator.data(), responder_to_initiator.size());
    OPENSSL_cleanse(handshake_hash.data(), handshake_hash.size());
}

NoiseHandshake::NoiseHandshake(NoiseSuite suite, bool initiator, ByteView prologue, const Psk& psk,
                               const X25519Key& ephemeral_private)
    : suite_(suite), initiator_(initiator), psk_(psk) {
    if (!initial_hash(suite, h_)) {
        fail(error::invalid_argument);
        return;
    }
    ck_ = h_;
    mix_hash(prologue);
    e_.private_key = ephemeral_private;
}

NoiseHandshake::NoiseHandshake(const NoiseInitiatorState& saved, const Psk& psk)
    : suite_(saved.suite),
      initiator_(true),
      step_(Step::response),
      psk_(psk),
      ck_(saved.ck),
      h_(saved.h) {
    if (!x25519_share_keypair(saved.ephemeral, e_)) fail(error::crypto_failure);
}

bool NoiseHandshake::save_initiator_state(NoiseInitiatorState& out) const {
    if (!initiator_ || step_ != Step::response) return false;
    out.suite = suite_;
    out.ck = ck_;
    out.h = h_;
    return x25519_share_keypair(e_, out.ephemeral);
}

NoiseHandshake::~NoiseHandshake() {
    wipe_secrets();
    OPENSSL_cleanse(h_.data(), h_.size());
    OPENSSL_cleanse(re_.data(), re_.size());
}

std::error_code NoiseHandshake::write_message(ByteView payload, Bytes& out) {
    const Step own_turn = initiator_ ? Step::initiation : Step::response;
    if (step_ != own_turn || payload.size() > kNoiseMaxPayloadSize) {
        return fail(error::invalid_argument);
    }
    const std::size_t start = out.size();
    const bool ok =
        step_ == Step::initiation ? write_initiation(payload, out) : write_response(payload, out);
    if (!ok) {
        out.resize(start);
        return fail(error::crypto_failure);
    }
    advance();
    return {};
}

std::error_code NoiseHandshake::read_message(ByteView message, Bytes& payload_out) {
    const Step peer_turn = initiator_ ? Step::response : Step::initiation;
    if (step_ != peer_turn) return fail(error::invalid_argument);
    if (message.size() < kNoiseMessageOverhead || message.size() > kNoiseMaxMessageSize) {
        return fail(error::malformed_packet);
    }
    const std::size_t start = payload_out.size();
    const std::error_code ec = step_ == Step::initiation ? read_initiation(message, payload_out)
                                                         : read_response(message, payload_out);
    if (ec) {
        payload_out.resize(start);
        return fail(ec);
    }
    advance();
    return {};
}

bool NoiseHandshake::write_initiation(ByteView payload, Bytes& out) {
    if (suite_.pattern == NoisePattern::nnpsk0) mix_key_and_hash(view(psk_)); /* psk */
    if (!write_e(out)) return false;                                          /* e */
    return encrypt_and_hash(payload, out);
}

std::error_code NoiseHandshake::read_initiation(ByteView message, Bytes& payload_out) {
    if (suite_.pattern == NoisePattern::nnpsk0) mix_key_and_hash(view(psk_)); /* psk */
    read_e(message);                                                          /* e */
    if (std::error_code ec = decrypt_and_hash(message.subspan(kX25519KeySize), payload_out)) {
        return ec;
    }
    // Our response needs DH(e, re). NNpsk2's first message is not yet bound to the psk, so
    // anyone can send a low-order re; reject it now rather than fail while responding. The
    // result is kept for the response, so the agreement is computed once.
    if (!ensure_ephemeral()) return make_error_code(error::crypto_failure);
    ee_ready_ = x25519(e_, re_, ee_);
    return ee_ready_ ? std::error_code() : make_error_code(error::authentication_failed);
}

bool NoiseHandshake::write_response(ByteView payload, Bytes& out) {
    if (!write_e(out)) return false;                                          /* e */
    if (!mix_dh_ee()) return false;                                           /* ee */
    if (suite_.pattern == NoisePattern::nnpsk2) mix_key_and_hash(view(psk_)); /* psk */
    return encrypt_and_hash(payload, out);
}

std::error_code NoiseHandshake::read_response(ByteView message, Bytes& payload_out) {
    read_e(message); /* e */
    // A low-order re cannot come from a peer that holds the psk: treat it as a forgery.
    if (!mix_dh_ee()) return make_error_code(error::authentication_failed);   /* ee */
    if (suite_.pattern == NoisePattern::nnpsk2) mix_key_and_hash(view(psk_)); /* psk */
    return decrypt_and_hash(message.subspan(kX25519KeySize), payload_out);
}

bool NoiseHandshake::ensure_ephemeral() {
    if (e_.pkey) return true;
    X25519Key private_key = e_.private_key;  // x25519_keypair() must not read what it writes
    const bool ok = x25519_keypair(private_key, e_);
    OPENSSL_cleanse(private_key.data(), private_key.size());
    return ok;
}

bool NoiseHandshake::write_e(Bytes& out) {
    if (!ensure_ephemeral()) return false;
    out.insert(out.end(), e_.public_key.begin(), e_.public_key.end());
    mix_hash(view(e_.public_key));
    mix_key(view(e_.public_key));  // the psk rule of section 9.2
    return true;
}

void NoiseHandshake::read_e(ByteView message) {
    // read_message has checked that the message holds at least the key and a tag.
    std::memcpy(re_.data(), message.data(), re_.size());
    mix_hash(view(re_));
    mix_key(view(re_));  // the psk rule of section 9.2
}

bool NoiseHandshake::mix_dh_ee() {
    if (!ee_ready_ && !x25519(e_, re_, ee_)) return false;
    mix_key(view(ee_));
    OPENSSL_cleanse(ee_.data(), ee_.size());
    ee_ready_ = false;
    return true;
}

void NoiseHandshake::mix_hash(ByteView data) {
    h_ = sha256(view(h_), data);
}

void NoiseHandshake::mix_key(ByteView input_key_material) {
    noise_hkdf(ck_, input_key_material, ck_, k_);
    n_ = 0;
}

void NoiseHandshake::mix_key_and_hash(ByteView input_key_material) {
    Hash temp_h;
    noise_hkdf(ck_, input_key_material, ck_, temp_h, k_);
    mix_hash(view(temp_h));
    OPENSSL_cleanse(temp_h.data(), temp_h.size());
    n_ = 0;
}

bool NoiseHandshake::encrypt_and_hash(ByteView plaintext, Bytes& out) {
    const std::size_t start = out.size();
    out.resize(start + plaintext.size() + kAeadTagSize);
    Aead aead(suite_.aead, k_);
    if (!aead.valid() || !aead.seal(n_, view(h_), plaintext, out.data() + start)) return false;
    ++n_;
    mix_hash(ByteView(out.data() + start, out.size() - start));
    return true;
}

std::error_code NoiseHandshake::decrypt_and_hash(ByteView ciphertext, Bytes& out) {
    const std::size_t start = out.size();
    out.resize(start + ciphertext.size() - kAeadTagSize);  // read_message checked the size
    Aead aead(suite_.aead, k_);
    if (!aead.valid()) return make_error_code(error::crypto_failure);
    if (!aead.open(n_, view(h_), ciphertext, out.data() + start)) {
        return make_error_code(error::authentication_failed);
    }
    ++n_;
    mix_hash(ciphertext);
    return {};
}

void NoiseHandshake::advance() {
    if (step_ == Step::initiation) {
        step_ = Step::response;
        return;
    }
    step_ = Step::complete;
    // Only ck and h are needed for Split(); dropping the ephemeral now is what gives forward
    // secrecy even while this object lives on.
    e_.wipe_private();
    OPENSSL_cleanse(ee_.data(), ee_.size());
    OPENSSL_cleanse(psk_.data(), psk_.size());
    OPENSSL_cleanse(k_.data(), k_.size());
}

std::error_code NoiseHandshake::fail(std::error_code code) {
    step_ = Step::failed;
    wipe_secrets();
    return code;
}

void NoiseHandshake::wipe_secrets() {
    e_.wipe_private();
    OPENSSL_cleanse(ee_.data(), ee_.size());
    ee_ready_ = false;
    OPENSSL_cleanse(psk_.data(), psk_.size());
    OPENSSL_cleanse(ck_.data(), ck_.size());
    OPENSSL_cleanse(k_.data(), k_.size());
}

TransportKeys NoiseHandshake::split() const {
    if (step_ != Step::complete) std::abort();
    TransportKeys keys;
    noise_hkdf(ck_, ByteView(), keys.initiator_to_responder, keys.responder_to_initiator);
    keys.handshake_hash = h_;
    return keys;
}

}  // namespace srmudp::crypto
