// The handshake: a Noise HandshakeState (Noise revision 34, sections 5 and 9) for exactly
// Noise_NNpsk0 and Noise_NNpsk2 with DH 25519, ChaChaPoly or AESGCM, and SHA256.
//
//   NNpsk0:  -> psk, e            NNpsk2:  -> e
//            <- e, ee                      <- e, ee, psk
//
// Both messages are the sender's ephemeral public key (32 bytes) followed by its encrypted
// payload (payload + 16-byte tag): with a psk, "e" also calls MixKey, so a key exists before
// either payload. Only holders of the psk can complete the handshake; both sides' ephemerals
// give forward secrecy.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <system_error>

#include "core/crypto/aead.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/x25519.hpp"
#include "srmudp/bytes.hpp"
#include "srmudp/error.hpp"

namespace srmudp::crypto {

enum class NoisePattern : std::uint8_t { nnpsk0, nnpsk2 };

struct NoiseSuite {
    NoisePattern pattern;
    AeadAlgorithm aead;
};

// The Noise protocol name, e.g. "Noise_NNpsk0_25519_ChaChaPoly_SHA256"; empty if the suite
// holds a value outside its enums.
std::string noise_protocol_name(NoiseSuite suite);

inline constexpr std::size_t kPskSize = 32;
using Psk = std::array<std::uint8_t, kPskSize>;

// Noise limits every message to 65535 bytes; each handshake message carries 48 bytes besides
// the payload (ephemeral key and tag).
inline constexpr std::size_t kNoiseMaxMessageSize = 65535;
inline constexpr std::size_t kNoiseMessageOverhead = kX25519KeySize + kAeadTagSize;
inline constexpr std::size_t kNoiseMaxPayloadSize = kNoiseMaxMessageSize - kNoiseMessageOverhead;

// The result of Split(): one key per direction and the handshake hash (channel binding).
struct TransportKeys {
    AeadKey initiator_to_responder{};
    AeadKey responder_to_initiator{};
    Hash handshake_hash{};
    ~TransportKeys();  // wipes all three
};

// The initiator's HandshakeState between sending its message and reading the response: the
// chaining key, the handshake hash and its ephemeral key pair (the sending key and nonce are
// replaced by the response's first MixKey). A NoiseHandshake built from it reads the response
// without computing the first message or the key pair again; the saved state itself never
// changes, so a forged response cannot damage it. Move-only; wipes its secrets when destroyed.
struct NoiseInitiatorState {
    NoiseSuite suite{};
    Hash ck{};
    Hash h{};
    X25519KeyPair ephemeral;
    NoiseInitiatorState() = default;
    NoiseInitiatorState(NoiseInitiatorState&&) = default;
    NoiseInitiatorState& operator=(NoiseInitiatorState&&) = default;
    ~NoiseInitiatorState();
};

// One side of one handshake. Call order: the initiator write_message()s, the responder
// read_message()s then write_message()s, the initiator read_message()s; then both split().
// Noise state is not rollback-safe: after any error is_failed() is true, every later call
// returns error::invalid_argument, and the object must be discarded.
class NoiseHandshake {
  public:
    // ephemeral_private: this side's 32 random ephemeral bytes, drawn by the caller from
    // srmudp::Random so tests and the simulator are deterministic. Check is_failed() after.
    // The key pair is computed when it is first needed: by the initiator's write_message, or by
    // the responder's read_message once the first message has authenticated (with NNpsk0 a
    // forged initiation then costs no scalar multiplication).
    NoiseHandshake(NoiseSuite suite, bool initiator, ByteView prologue, const Psk& psk,
                   const X25519Key& ephemeral_private);
    // An initiator resumed from save_initiator_state(), ready to read_message() the response.
    // Check is_failed() after (crypto_failure: OpenSSL could not take the key).
    NoiseHandshake(const NoiseInitiatorState& saved, const Psk& psk);
    ~NoiseHandshake();  // wipes every key
    NoiseHandshake(const NoiseHandshake&) = delete;
    NoiseHandshake& operator=(const NoiseHandshake&) = delete;

    // Appends this side's next handshake message, carrying payload encrypted, to out (payload
    // must not point into out). Errors: invalid_argument (not this side's turn, failed before,
    // or payload larger than kNoiseMaxPayloadSize), crypto_failure.
    std::error_code write_message(ByteView payload, Bytes& out);

    // Consumes the peer's next handshake message and appends its decrypted payload to
    // payload_out. Errors: malformed_packet (shorter than 48 or longer than 65535 bytes),
    // authentication_failed (wrong psk, tampering, or a low-order ephemeral key),
    // invalid_argument (not the peer's turn, or failed before), crypto_failure.
    std::error_code read_message(ByteView message, Bytes& payload_out);

    // The initiator's state after its write_message, for the constructor above (it shares this
    // side's key pair). Returns false on a responder or at any other step, or if OpenSSL fails.
    bool save_initiator_state(NoiseInitiatorState& out) const;

    bool is_complete() const { return step_ == Step::complete; }
    bool is_failed() const { return step_ == Step::failed; }
    bool is_initiator() const { return initiator_; }
    // This side's ephemeral public key; all zero until its key pair exists (see the constructor).
    const X25519Key& local_ephemeral_public() const { return e_.public_key; }

    // Split(): the transport keys and the handshake hash. Only valid once is_complete(); calling
    // it earlier is a programming error and aborts (zero keys would be readable by anyone).
    TransportKeys split() const;

  private:
    enum class Step : std::uint8_t { initiation, response, complete, failed };

    bool write_initiation(ByteView payload, Bytes& out);
    bool write_response(ByteView payload, Bytes& out);
    std::error_code read_initiation(ByteView message, Bytes& payload_out);
    std::error_code read_response(ByteView message, Bytes& payload_out);

    bool ensure_ephemeral();
    bool write_e(Bytes& out);
    void read_e(ByteView message);
    bool mix_dh_ee();
    void mix_hash(ByteView data);
    void mix_key(ByteView input_key_material);
    void mix_key_and_hash(ByteView input_key_material);
    bool encrypt_and_hash(ByteView plaintext, Bytes& out);
    std::error_code decrypt_and_hash(ByteView ciphertext, Bytes& out);

    void advance();
    std::error_code fail(std::error_code code);
    void wipe_secrets();

    NoiseSuite suite_;
    bool initiator_;
    Step step_ = Step::initiation;
    Psk psk_;
    X25519KeyPair e_;  // private_key set at construction; public_key and pkey by ensure_ephemeral
    X25519Key re_{};
    X25519Key ee_{};  // DH(e, re), computed once the peer's e is known; wiped once mixed
    bool ee_ready_ = false;
    Hash ck_{};
    Hash h_{};
    AeadKey k_{};
    std::uint64_t n_ = 0;
};

}  // namespace srmudp::crypto
