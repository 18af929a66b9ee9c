#include "core/crypto/noise.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_helpers.hpp"

using namespace srmudp;
using namespace srmudp::crypto;
using srmudp::crypto::test::array_from_hex;
using srmudp::crypto::test::from_hex;
using srmudp::crypto::test::to_hex;

namespace {

struct VectorMessage {
    Bytes payload;
    Bytes ciphertext;
};

struct Vector {
    std::string protocol_name;
    Bytes init_prologue, resp_prologue;
    Psk init_psk{}, resp_psk{};
    X25519Key init_ephemeral{}, resp_ephemeral{};
    Bytes handshake_hash;
    std::vector<VectorMessage> messages;
};

std::string hex_field(const rapidjson::Value& v, const char* name) {
    REQUIRE(v.HasMember(name));
    REQUIRE(v[name].IsString());
    return v[name].GetString();
}

std::string psk_field(const rapidjson::Value& v, const char* name) {
    REQUIRE(v.HasMember(name));
    REQUIRE(v[name].IsArray());
    REQUIRE(v[name].Size() == 1);
    return v[name][0].GetString();
}

std::vector<Vector> load_vectors() {
    std::ifstream file(SRMUDP_TEST_VECTORS_DIR "/noise-nnpsk-vectors.json");
    REQUIRE(file.good());
    std::stringstream text;
    text << file.rdbuf();
    rapidjson::Document doc;
    doc.Parse(text.str().c_str());
    REQUIRE_FALSE(doc.HasParseError());
    std::vector<Vector> vectors;
    for (const auto& v : doc["vectors"].GetArray()) {
        Vector vec;
        vec.protocol_name = hex_field(v, "protocol_name");
        vec.init_prologue = from_hex(hex_field(v, "init_prologue"));
        vec.resp_prologue = from_hex(hex_field(v, "resp_prologue"));
        vec.init_psk = array_from_hex<Psk>(psk_field(v, "init_psks"));
        vec.resp_psk = array_from_hex<Psk>(psk_field(v, "resp_psks"));
        vec.init_ephemeral = array_from_hex<X25519Key>(hex_field(v, "init_ephemeral"));
        vec.resp_ephemeral = array_from_hex<X25519Key>(hex_field(v, "resp_ephemeral"));
        vec.handshake_hash = from_hex(hex_field(v, "handshake_hash"));
        for (const auto& m : v["messages"].GetArray()) {
            vec.messages.push_back(
                {from_hex(hex_field(m, "payload")), from_hex(hex_field(m, "ciphertext"))});
        }
        vectors.push_back(std::move(vec));
    }
    return vectors;
}

NoiseSuite suite_named(const std::string& name) {
    for (NoisePattern p : {NoisePattern::nnpsk0, NoisePattern::nnpsk2}) {
        for (AeadAlgorithm a : {AeadAlgorithm::chacha20_poly1305, AeadAlgorithm::aes256_gcm}) {
            if (noise_protocol_name({p, a}) == name) return {p, a};
        }
    }
    FAIL("unknown protocol " << name);
    return {};
}

// Runs the transport messages (index 2 onwards) with the split keys: even indices go from the
// initiator, odd from the responder, each direction counting its nonce from 0.
void check_transport(const Vector& vec, AeadAlgorithm alg, const TransportKeys& keys) {
    Aead i2r(alg, keys.initiator_to_responder), r2i(alg, keys.responder_to_initiator);
    std::uint64_t i2r_nonce = 0, r2i_nonce = 0;
    for (std::size_t i = 2; i < vec.messages.size(); ++i) {
        const VectorMessage& m = vec.messages[i];
        const bool from_initiator = i % 2 == 0;
        Aead& aead = from_initiator ? i2r : r2i;
        const std::uint64_t nonce = from_initiator ? i2r_nonce++ : r2i_nonce++;
        Bytes sealed(m.payload.size() + kAeadTagSize);
        REQUIRE(aead.seal(nonce, ByteView(), m.payload, sealed.data()));
        CHECK(to_hex(sealed) == to_hex(m.ciphertext));
        Bytes opened(m.payload.size());
        REQUIRE(aead.open(nonce, ByteView(), m.ciphertext, opened.data()));
        CHECK(opened == m.payload);
    }
}

Psk psk_of(std::uint8_t b) {
    Psk p;
    p.fill(b);
    return p;
}

X25519Key ephemeral_of(std::uint8_t b) {
    X25519Key k;
    k.fill(b);
    return k;
}

const NoiseSuite kAllSuites[] = {
    {NoisePattern::nnpsk0, AeadAlgorithm::chacha20_poly1305},
    {NoisePattern::nnpsk0, AeadAlgorithm::aes256_gcm},
    {NoisePattern::nnpsk2, AeadAlgorithm::chacha20_poly1305},
    {NoisePattern::nnpsk2, AeadAlgorithm::aes256_gcm},
};

// Both sides of one handshake with distinct ephemerals and a shared prologue.
struct Pair {
    NoiseHandshake initiator;
    NoiseHandshake responder;
    Pair(NoiseSuite suite, const Psk& init_psk, const Psk& resp_psk)
        : initiator(suite, true, as_bytes("prologue"), init_psk, ephemeral_of(1)),
          responder(suite, false, as_bytes("prologue"), resp_psk, ephemeral_of(2)) {}
};

// NNpsk2's first message uses no secret, so anyone can build one from the spec: this is that
// construction (prologue "prologue", empty payload) for an arbitrary ephemeral public key.
Bytes forge_nnpsk2_first_message(NoiseSuite suite, const X25519Key& e_public) {
    const ByteView e(e_public.data(), e_public.size());
    Hash h = sha256(as_bytes(noise_protocol_name(suite)));  // the name is longer than 32 bytes
    Hash ck = h, k;
    h = sha256(ByteView(h.data(), h.size()), as_bytes("prologue"));
    h = sha256(ByteView(h.data(), h.size()), e);
    noise_hkdf(ck, e, ck, k);
    Bytes msg(e.begin(), e.end());
    msg.resize(e.size() + kAeadTagSize);
    Aead aead(suite.aead, k);
    REQUIRE(aead.seal(0, ByteView(h.data(), h.size()), ByteView(), msg.data() + e.size()));
    return msg;
}

}  // namespace

TEST_CASE("protocol names", "[noise]") {
    CHECK(noise_protocol_name({NoisePattern::nnpsk0, AeadAlgorithm::chacha20_poly1305}) ==
          "Noise_NNpsk0_25519_ChaChaPoly_SHA256");
    CHECK(noise_protocol_name({NoisePattern::nnpsk2, AeadAlgorithm::aes256_gcm}) ==
          "Noise_NNpsk2_25519_AESGCM_SHA256");
    CHECK(noise_protocol_name({static_cast<NoisePattern>(9), AeadAlgorithm::aes256_gcm}).empty());
    CHECK(noise_protocol_name({NoisePattern::nnpsk0, static_cast<AeadAlgorithm>(0)}).empty());
}

TEST_CASE("all cacophony NNpsk vectors: handshake - handshake hash and transport", "[noise]") {
    const std::vector<Vector> vectors = load_vectors();
    REQUIRE(vectors.size() == 4);
    for (const Vector& vec : vectors) {
        SECTION(vec.protocol_name) {
            REQUIRE(vec.messages.size() >= 2);
            const NoiseSuite suite = suite_named(vec.protocol_name);
            NoiseHandshake initiator(suite, true, vec.init_prologue, vec.init_psk,
                                     vec.init_ephemeral);
            NoiseHandshake responder(suite, false, vec.resp_prologue, vec.resp_psk,
                                     vec.resp_ephemeral);
            REQUIRE_FALSE(initiator.is_failed());

            Bytes wire, payload;
            REQUIRE_FALSE(initiator.write_message(vec.messages[0].payload, wire));
            CHECK(to_hex(wire) == to_hex(vec.messages[0].ciphertext));
            REQUIRE_FALSE(responder.read_message(wire, payload));
            CHECK(payload == vec.messages[0].payload);

            wire.clear();
            payload.clear();
            REQUIRE_FALSE(responder.write_message(vec.messages[1].payload, wire));
            CHECK(to_hex(wire) == to_hex(vec.messages[1].ciphertext));
            REQUIRE_FALSE(initiator.read_message(wire, payload));
            CHECK(payload == vec.messages[1].payload);

            REQUIRE(initiator.is_complete());
            REQUIRE(responder.is_complete());
            const TransportKeys keys = initiator.split();
            const TransportKeys peer_keys = responder.split();
            CHECK(to_hex(ByteView(keys.handshake_hash.data(), 32)) == to_hex(vec.handshake_hash));
            CHECK(peer_keys.handshake_hash == keys.handshake_hash);
            CHECK(peer_keys.initiator_to_responder == keys.initiator_to_responder);
            CHECK(peer_keys.responder_to_initiator == keys.responder_to_initiator);
            CHECK(keys.initiator_to_responder != keys.responder_to_initiator);
            check_transport(vec, suite.aead, keys);
        }
    }
}

TEST_CASE("handshake messages are e plus encrypted payload and append to out", "[noise]") {
    for (const NoiseSuite& suite : kAllSuites) {
        Pair p(suite, psk_of(7), psk_of(7));
        Bytes wire = {0xEE};  // existing content must be kept
        REQUIRE_FALSE(p.initiator.write_message(ByteView(), wire));
        REQUIRE(wire.size() == 1 + kNoiseMessageOverhead);
        CHECK(wire[0] == 0xEE);
        const auto& e = p.initiator.local_ephemeral_public();
        CHECK(Bytes(wire.begin() + 1, wire.begin() + 33) == Bytes(e.begin(), e.end()));

        Bytes payload = {0x11};
        REQUIRE_FALSE(p.responder.read_message(ByteView(wire).subspan(1), payload));
        CHECK(payload == Bytes{0x11});
        CHECK_FALSE(p.responder.is_complete());
    }
}

TEST_CASE("largest payload passes - one byte more is refused", "[noise]") {
    for (const NoiseSuite& suite : kAllSuites) {
        Pair p(suite, psk_of(3), psk_of(3));
        const Bytes too_big(kNoiseMaxPayloadSize + 1, 0x42);
        Bytes wire;
        CHECK(p.initiator.write_message(too_big, wire) == error::invalid_argument);
        CHECK(wire.empty());
        CHECK(p.initiator.is_failed());

        Pair q(suite, psk_of(3), psk_of(3));
        const Bytes biggest(kNoiseMaxPayloadSize, 0x42);
        REQUIRE_FALSE(q.initiator.write_message(biggest, wire));
        CHECK(wire.size() == kNoiseMaxMessageSize);
        Bytes payload;
        REQUIRE_FALSE(q.responder.read_message(wire, payload));
        CHECK(payload == biggest);
    }
}

TEST_CASE("a wrong psk fails authentication at the first message that carries it", "[noise]") {
    for (const NoiseSuite& suite : kAllSuites) {
        Pair p(suite, psk_of(1), psk_of(2));
        Bytes wire, payload;
        REQUIRE_FALSE(p.initiator.write_message(as_bytes("hello"), wire));
        const std::error_code first = p.responder.read_message(wire, payload);
        if (suite.pattern == NoisePattern::nnpsk0) {
            CHECK(first == error::authentication_failed);
            CHECK(p.responder.is_failed());
            CHECK(payload.empty());
            continue;
        }
        // NNpsk2 mixes the psk only into the second message.
        REQUIRE_FALSE(first);
        wire.clear();
        payload.clear();
        REQUIRE_FALSE(p.responder.write_message(as_bytes("world"), wire));
        CHECK(p.initiator.read_message(wire, payload) == error::authentication_failed);
        CHECK(p.initiator.is_failed());
        CHECK(payload.empty());
    }
}

TEST_CASE("different prologues fail authentication", "[noise]") {
    for (const NoiseSuite& suite : kAllSuites) {
        NoiseHandshake a(suite, true, as_bytes("v1"), psk_of(5), ephemeral_of(1));
        NoiseHandshake b(suite, false, as_bytes("v2"), psk_of(5), ephemeral_of(2));
        Bytes wire, payload;
        REQUIRE_FALSE(a.write_message(ByteView(), wire));
        CHECK(b.read_message(wire, payload) == error::authentication_failed);
    }
}

TEST_CASE("every flipped bit in either message is detected", "[noise]") {
    for (const NoiseSuite& suite : kAllSuites) {
        Bytes msg1, msg2, payload;
        {
            Pair p(suite, psk_of(4), psk_of(4));
            REQUIRE_FALSE(p.initiator.write_message(as_bytes("abc"), msg1));
            REQUIRE_FALSE(p.responder.read_message(msg1, payload));
            REQUIRE_FALSE(p.responder.write_message(as_bytes("def"), msg2));
        }
        for (std::size_t i = 0; i < msg1.size(); ++i) {
            Pair p(suite, psk_of(4), psk_of(4));
            Bytes sent;
            REQUIRE_FALSE(p.initiator.write_message(as_bytes("abc"), sent));
            sent[i] ^= 0x01;
            CHECK(p.responder.read_message(sent, payload) == error::authentication_failed);
        }
        for (std::size_t i = 0; i < msg2.size(); ++i) {
            Pair p(suite, psk_of(4), psk_of(4));
            Bytes sent, reply;
            REQUIRE_FALSE(p.initiator.write_message(as_bytes("abc"), sent));
            REQUIRE_FALSE(p.responder.read_message(sent, payload));
            REQUIRE_FALSE(p.responder.write_message(as_bytes("def"), reply));
            REQUIRE(reply == msg2);  // deterministic given the ephemerals
            reply[i] ^= 0x80;
            CHECK(p.initiator.read_message(reply, payload) == error::authentication_failed);
        }
    }
}

TEST_CASE("short and oversized messages are malformed", "[noise]") {
    for (const NoiseSuite& suite : kAllSuites) {
        for (std::size_t size : {std::size_t{0}, std::size_t{32}, kNoiseMessageOverhead - 1,
                                 kNoiseMaxMessageSize + 1}) {
            Pair p(suite, psk_of(6), psk_of(6));
            Bytes payload;
            CHECK(p.responder.read_message(Bytes(size, 9), payload) == error::malformed_packet);
            CHECK(p.responder.is_failed());
        }
    }
}

TEST_CASE("out-of-turn calls are refused and fail the handshake", "[noise]") {
    const NoiseSuite suite = kAllSuites[0];
    Bytes wire, payload;
    {
        Pair p(suite, psk_of(1), psk_of(1));
        CHECK(p.responder.write_message(ByteView(), wire) == error::invalid_argument);
        CHECK(p.responder.is_failed());
        CHECK(wire.empty());
    }
    {
        Pair p(suite, psk_of(1), psk_of(1));
        CHECK(p.initiator.read_message(Bytes(64, 0), payload) == error::invalid_argument);
        CHECK(p.initiator.is_failed());
        // A failed handshake stays failed.
        CHECK(p.initiator.write_message(ByteView(), wire) == error::invalid_argument);
    }
    {
        Pair p(suite, psk_of(1), psk_of(1));
        REQUIRE_FALSE(p.initiator.write_message(ByteView(), wire));
        CHECK(p.initiator.write_message(ByteView(), wire) == error::invalid_argument);
    }
    {
        Pair p(suite, psk_of(1), psk_of(1));
        wire.clear();
        REQUIRE_FALSE(p.initiator.write_message(ByteView(), wire));
        REQUIRE_FALSE(p.responder.read_message(wire, payload));
        // A duplicate of the first message arrives after it was consumed.
        CHECK(p.responder.read_message(wire, payload) == error::invalid_argument);
    }
    {
        Pair p(suite, psk_of(1), psk_of(1));
        wire.clear();
        Bytes reply;
        REQUIRE_FALSE(p.initiator.write_message(ByteView(), wire));
        REQUIRE_FALSE(p.responder.read_message(wire, payload));
        REQUIRE_FALSE(p.responder.write_message(ByteView(), reply));
        REQUIRE_FALSE(p.initiator.read_message(reply, payload));
        CHECK(p.initiator.is_complete());
        CHECK(p.initiator.write_message(ByteView(), wire) == error::invalid_argument);
        CHECK(p.responder.read_message(reply, payload) == error::invalid_argument);
    }
}

TEST_CASE("an invalid suite fails at construction", "[noise]") {
    NoiseHandshake h({static_cast<NoisePattern>(7), AeadAlgorithm::aes256_gcm}, true, ByteView(),
                     psk_of(1), ephemeral_of(1));
    CHECK(h.is_failed());
    Bytes wire;
    CHECK(h.write_message(ByteView(), wire) == error::invalid_argument);
}

TEST_CASE("different ephemerals give different transport keys", "[noise]") {
    auto run = [](std::uint8_t init_e) {
        const NoiseSuite suite = kAllSuites[2];
        NoiseHandshake i(suite, true, ByteView(), psk_of(8), ephemeral_of(init_e));
        NoiseHandshake r(suite, false, ByteView(), psk_of(8), ephemeral_of(200));
        Bytes m1, m2, payload;
        REQUIRE_FALSE(i.write_message(ByteView(), m1));
        REQUIRE_FALSE(r.read_message(m1, payload));
        REQUIRE_FALSE(r.write_message(ByteView(), m2));
        REQUIRE_FALSE(i.read_message(m2, payload));
        return i.split().initiator_to_responder;
    };
    CHECK(run(10) != run(11));
    CHECK(run(10) == run(10));
}

TEST_CASE("NNpsk2: a first message with a low-order ephemeral is rejected", "[noise]") {
    const NoiseSuite suite{NoisePattern::nnpsk2, AeadAlgorithm::chacha20_poly1305};
    Bytes payload;

    // The forgery recipe with a real public key is accepted, so the rejection below comes from
    // the low-order check and not from a mistake in building the message.
    X25519KeyPair good;
    REQUIRE(x25519_keypair(ephemeral_of(9), good));
    NoiseHandshake accepts(suite, false, as_bytes("prologue"), psk_of(1), ephemeral_of(2));
    CHECK_FALSE(accepts.read_message(forge_nnpsk2_first_message(suite, good.public_key), payload));

    for (const X25519Key& bad : {X25519Key{}, array_from_hex<X25519Key>("01")}) {
        NoiseHandshake rejects(suite, false, as_bytes("prologue"), psk_of(1), ephemeral_of(2));
        CHECK(rejects.read_message(forge_nnpsk2_first_message(suite, bad), payload) ==
              error::authentication_failed);
        CHECK(rejects.is_failed());
    }
}

TEST_CASE("a resumed initiator reads the response like the original", "[noise]") {
    for (const NoiseSuite& suite : kAllSuites) {
        Pair p(suite, psk_of(4), psk_of(4));
        NoiseInitiatorState saved;
        CHECK_FALSE(p.initiator.save_initiator_state(saved));  // nothing written yet
        Bytes first, second, payload;
        REQUIRE_FALSE(p.initiator.write_message(as_bytes("hello"), first));
        REQUIRE(p.initiator.save_initiator_state(saved));
        CHECK(saved.ephemeral.public_key == p.initiator.local_ephemeral_public());
        REQUIRE_FALSE(p.responder.read_message(first, payload));
        CHECK_FALSE(p.responder.save_initiator_state(saved));  // responders have none
        REQUIRE_FALSE(p.responder.write_message(as_bytes("world"), second));

        // A forged response fails on a resumed copy without touching the saved state.
        Bytes forged = second;
        forged.back() ^= 1;
        NoiseHandshake victim(saved, psk_of(4));
        CHECK(victim.read_message(forged, payload) == error::authentication_failed);

        NoiseHandshake resumed(saved, psk_of(4));
        REQUIRE_FALSE(resumed.is_failed());
        payload.clear();
        REQUIRE_FALSE(resumed.read_message(second, payload));
        CHECK(payload == Bytes(as_bytes("world").begin(), as_bytes("world").end()));
        REQUIRE_FALSE(p.initiator.read_message(second, payload));
        const TransportKeys a = resumed.split(), b = p.initiator.split(), c = p.responder.split();
        CHECK(a.initiator_to_responder == b.initiator_to_responder);
        CHECK(a.responder_to_initiator == c.responder_to_initiator);
        CHECK(a.handshake_hash == c.handshake_hash);
    }
}

TEST_CASE("a resumed NNpsk2 initiator needs the psk", "[noise]") {
    const NoiseSuite suite{NoisePattern::nnpsk2, AeadAlgorithm::chacha20_poly1305};
    Pair p(suite, psk_of(6), psk_of(6));
    Bytes first, second, payload;
    REQUIRE_FALSE(p.initiator.write_message(ByteView(), first));
    NoiseInitiatorState saved;
    REQUIRE(p.initiator.save_initiator_state(saved));
    REQUIRE_FALSE(p.responder.read_message(first, payload));
    REQUIRE_FALSE(p.responder.write_message(ByteView(), second));
    NoiseHandshake wrong(saved, psk_of(7));
    CHECK(wrong.read_message(second, payload) == error::authentication_failed);
    NoiseHandshake right(saved, psk_of(6));
    CHECK_FALSE(right.read_message(second, payload));
}

TEST_CASE("the responder makes its key pair only for an authentic NNpsk0 initiation", "[noise]") {
    const NoiseSuite suite{NoisePattern::nnpsk0, AeadAlgorithm::chacha20_poly1305};
    Pair wrong_key(suite, psk_of(1), psk_of(2));
    Bytes first, payload;
    REQUIRE_FALSE(wrong_key.initiator.write_message(ByteView(), first));
    CHECK(wrong_key.responder.read_message(first, payload) == error::authentication_failed);
    CHECK(wrong_key.responder.local_ephemeral_public() == X25519Key{});

    Pair p(suite, psk_of(1), psk_of(1));
    first.clear();
    REQUIRE_FALSE(p.initiator.write_message(ByteView(), first));
    CHECK(p.responder.local_ephemeral_public() == X25519Key{});
    REQUIRE_FALSE(p.responder.read_message(first, payload));
    X25519KeyPair expected;
    REQUIRE(x25519_keypair(ephemeral_of(2), expected));
    CHECK(p.responder.local_ephemeral_public() == expected.public_key);
}
