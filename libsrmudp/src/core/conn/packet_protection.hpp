// Protection of DATA packets: ChaCha20-Poly1305 with one key per direction, the 64-bit packet
// number as nonce, the 18-byte header as associated data, a replay window, and key updates.
//
// Key updates follow the scheme of RFC 9001 section 6, reduced to what srmudp needs. Each
// direction starts from the key the handshake produced (Noise Split()); the key of generation
// n + 1 is HKDF-Expand(key n, kKeyUpdateLabel). The header's key-phase bit is the generation's
// parity. A sender starts an update after Config::key_update_packets packets, but only once the
// peer has answered its previous update (it sends under the same generation), so the two sides
// are never more than one generation apart. A receiver that sees the other phase tries the next
// key; when that authenticates a packet newer than the current generation's first, it moves on
// and answers by updating its own sending key. The previous receive key is kept for reordered
// packets until the next update.
#pragma once

#include <cstdint>
#include <optional>
#include <system_error>

#include "core/codec/packet.hpp"
#include "core/crypto/aead.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/noise.hpp"
#include "core/crypto/replay_window.hpp"
#include "srmudp/bytes.hpp"

namespace srmudp::conn {

class PacketProtection {
  public:
    PacketProtection(const crypto::TransportKeys& keys, bool initiator,
                     std::uint64_t key_update_packets);
    ~PacketProtection();
    PacketProtection(const PacketProtection&) = delete;
    PacketProtection& operator=(const PacketProtection&) = delete;

    // Encrypts plaintext into out after an 18-byte DATA header for (peer_cid, pn); out must hold
    // kDataHeaderSize + plaintext.size() + 16 bytes. Returns the datagram size, 0 on failure.
    std::size_t seal(codec::ConnectionId peer_cid, std::uint64_t packet_number, ByteView plaintext,
                     MutableByteView out);

    // Authenticates and decrypts a DATA packet whose header was decoded. The plaintext goes to
    // out (datagram.size() - header - 16 bytes). Errors: error::malformed_packet (too short),
    // error::replayed_packet, error::authentication_failed.
    std::error_code open(ByteView datagram, const codec::PacketHeader& header,
                         std::size_t header_size, MutableByteView out, std::size_t& plaintext_size);

    std::uint64_t key_updates() const { return key_updates_; }
    std::uint32_t send_generation() const { return send_generation_; }
    std::uint32_t receive_generation() const { return recv_generation_; }

  private:
    struct Direction {
        crypto::Hash secret{};
        std::optional<crypto::Aead> aead;
    };
    void advance(Direction& d);
    void update_send_key();
    void rotate_receive_keys(std::uint64_t first_packet_number);

    Direction send_;
    Direction recv_current_;
    Direction recv_next_;
    Direction recv_previous_;
    bool has_previous_ = false;
    std::uint64_t recv_current_first_pn_ = 0;
    std::uint32_t send_generation_ = 0;
    std::uint32_t recv_generation_ = 0;
    std::uint64_t packets_under_send_key_ = 0;
    std::uint64_t key_update_packets_;
    std::uint64_t key_updates_ = 0;
    crypto::ReplayWindow replay_;
};

}  // namespace srmudp::conn
