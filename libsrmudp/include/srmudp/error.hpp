// Errors of libsrmudp as std::error_code values.
//
// Every fallible public function returns or reports an srmudp::error; the category also maps
// codes to a few conditions (srmudp::condition) that callers can branch on without listing
// every code.
#pragma once

#include <string>
#include <system_error>

namespace srmudp {

enum class error {
    // Caller mistakes.
    invalid_argument = 1,   // a parameter is out of range or malformed
    empty_key = 2,          // the key string is empty
    message_too_large = 3,  // the message exceeds Config::max_message_size
    send_buffer_full = 4,   // the bounded send buffer cannot take this message now; retry later
    connection_closed = 6,  // the connection is closed; nothing more can be sent
    // Input from the network that was rejected (the datagram is dropped, nothing else happens).
    malformed_packet = 20,       // too short, bad lengths, unknown packet type, trailing bytes
    unsupported_version = 21,    // protocol version not spoken by this implementation
    authentication_failed = 22,  // AEAD tag did not verify (forged, corrupted or other key)
    replayed_packet = 23,        // packet number already seen or below the replay window
    // Reasons a connection failed or ended.
    wrong_key = 40,               // the peer answered, but proves a different key
    handshake_timeout = 41,       // no authenticated answer before the connect deadline
    idle_timeout = 42,            // nothing heard from the peer for Config::idle_timeout
    peer_closed = 43,             // the peer closed the connection gracefully
    closed_locally = 44,          // close() was called on this side
    protocol_violation = 45,      // the peer broke the protocol (bad frame, flow control, ...)
    peer_message_too_large = 46,  // the peer sent a message above our max_message_size
    crypto_failure = 47,          // an OpenSSL primitive failed unexpectedly
    internal_error = 48,
    peer_restarted = 49,  // the peer lost its state (restarted); undelivered messages failed
};

enum class condition {
    handshake_failed = 1,    // wrong_key, handshake_timeout
    protocol_violation = 2,  // malformed_packet, unsupported_version, protocol_violation, ...
    connection_lost = 3,     // idle_timeout, peer_closed, closed_locally, connection_closed,
                             // peer_restarted
    would_block = 4,         // send_buffer_full
    rejected_packet = 5,     // a datagram was dropped: malformed, unauthenticated, replayed, ...
};

const std::error_category& error_category() noexcept;
const std::error_category& condition_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}
inline std::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

}  // namespace srmudp

namespace std {
template <>
struct is_error_code_enum<srmudp::error> : true_type {};
template <>
struct is_error_condition_enum<srmudp::condition> : true_type {};
}  // namespace std
