// The WebSocket protocol of the bridge: JSON frames <-> plain structs, and the upgrade request.
//
// The contract is the seed document (websocket-srmudp-proxy.de.md): the endpoint
// /v0/ws/proxy?remote_host=<ip>&remote_port=<port>&encryption_key=<key>[&client_id=<id>], status
// frames {"type":"status","status":S,"connection_id":..,"message":..} with S one of CONNECTED,
// UDP_WAITING, UDP_ESTABLISHED, RECONNECTING, ERROR, data frames
// {"type":"data","format":"text"|"binary","data":..} (binary data in base64) both ways, and error
// frames {"type":"error","connection_id":..,"message":..}. Additions, all optional for a client:
//   - the key may come in an X-Encryption-Key request header instead of the URL;
//   - a binary WebSocket frame carries one binary message as raw bytes (no base64);
//   - a data frame may carry "id" (a JSON string or integer); the bridge then answers
//     {"type":"ack","id":..} once the peer acknowledged the message, or an error frame with that
//     "id" if it failed;
//   - regular status frames carry a "stats" object (RTT, bytes, messages, retransmissions, loss).
// Unknown fields in client frames are ignored so that clients may send newer fields.
//
// Everything here is a pure function: no I/O, no clocks, no websocketpp. Errors are values whose
// message a person can act on; the encryption key never appears in any error or encoded frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "srmudp/address.hpp"
#include "srmudp/bytes.hpp"
#include "srmudp/message.hpp"

namespace wsbridge {

// ---- Status frames --------------------------------------------------------------------------

enum class Status { connected, udp_waiting, udp_established, reconnecting, error };

// The seed's name of status: "CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED", "RECONNECTING",
// "ERROR".
std::string_view status_name(Status status) noexcept;

// Counters of the srmudp connection behind a session, sent in regular status frames.
struct LinkStats {
    double rtt_ms = 0;  // smoothed round-trip time; written as null if negative or not finite
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t messages_received = 0;
    std::uint64_t retransmissions = 0;
    std::uint64_t packets_lost = 0;
};

// ---- Limits and errors ----------------------------------------------------------------------

inline constexpr std::size_t kDefaultMaxMessageBytes = std::size_t{16} << 20;
// Room in a data frame for everything but the base64 data: field names, an "id", extra fields.
inline constexpr std::size_t kFrameOverheadBytes = std::size_t{16} << 10;

// The largest text frame that can carry a binary message of max_message_bytes: the base64
// length 4 * ceil(n / 3) plus kFrameOverheadBytes (saturates instead of overflowing). A text
// message escaped by its sender to more than 4/3 of its size (e.g. all "\u00e9") may not fit.
constexpr std::size_t max_frame_bytes_for(std::size_t max_message_bytes) noexcept {
    constexpr std::size_t kMax = ~std::size_t{0};
    const std::size_t groups = max_message_bytes / 3 + (max_message_bytes % 3 != 0 ? 1 : 0);
    if (groups > (kMax - kFrameOverheadBytes) / 4) return kMax;
    return groups * 4 + kFrameOverheadBytes;
}

struct Limits {
    std::size_t max_message_bytes = kDefaultMaxMessageBytes;  // decoded message size
    std::size_t max_frame_bytes = max_frame_bytes_for(kDefaultMaxMessageBytes);  // whole frame
    std::size_t max_id_length = 256;  // bytes of a string "id"

    // Limits for another message size, with max_frame_bytes computed to match.
    static Limits for_message_size(std::size_t max_message_bytes) noexcept {
        Limits limits;
        limits.max_message_bytes = max_message_bytes;
        limits.max_frame_bytes = max_frame_bytes_for(max_message_bytes);
        return limits;
    }
};

// A client's message id exactly as the client wrote it: a JSON string or a JSON integer; it is
// echoed in the same form in "ack" and "error" frames.
struct MessageTag {
    std::variant<std::string, std::int64_t> value;

    friend bool operator==(const MessageTag& a, const MessageTag& b) { return a.value == b.value; }
    friend bool operator!=(const MessageTag& a, const MessageTag& b) { return !(a == b); }
};

// What the session does after a bad frame: answer an error frame and go on, or close the
// WebSocket with the given code after sending the error frame.
enum class Severity {
    recoverable,    // send an error frame; the session goes on
    close_policy,   // close with 1008 (policy violation); decided by the session, not the codec
    close_too_big,  // close with 1009 (message too big)
};

// The WebSocket close code for severity: 0 for recoverable, 1008 or 1009.
std::uint16_t close_code(Severity severity) noexcept;

struct FrameError {
    Severity severity = Severity::recoverable;
    std::string message;           // names the offending field; safe to send to the client
    std::optional<MessageTag> id;  // the frame's "id" if it had a valid one, for the error frame
};

// ---- Client -> bridge -----------------------------------------------------------------------

// One message a client wants sent to the peer.
struct ClientData {
    srmudp::MessageKind kind = srmudp::MessageKind::binary;
    srmudp::Bytes data;
    std::optional<MessageTag> id;
};

// Decodes a WebSocket text frame from the client: a JSON object with "type":"data", "format"
// ("text" or "binary", required), "data" (a string; base64 for binary) and optionally "id".
// Errors (FrameError): a frame above limits.max_frame_bytes or a message above
// limits.max_message_bytes -> close_too_big, checked before parsing or decoding. Everything else
// is recoverable: invalid JSON (with its byte offset), JSON that is not an object, nesting deeper
// than 64 levels, a field given twice, unknown or missing "type", missing or mistyped "format" /
// "data" / "id", unknown format, invalid base64, an "id" longer than limits.max_id_length or an
// integer outside int64.
std::variant<ClientData, FrameError> decode_client_text_frame(std::string_view frame,
                                                              const Limits& limits);

// Decodes a WebSocket binary frame from the client: the frame is one binary message, raw.
// Errors: a frame above limits.max_message_bytes -> close_too_big.
std::variant<ClientData, FrameError> decode_client_binary_frame(srmudp::ByteView frame,
                                                                const Limits& limits);

// ---- Bridge -> client -----------------------------------------------------------------------
// Every encoder writes compact JSON with "type" first and the seed's field order. Strings that
// are not valid UTF-8 have each bad sequence replaced by U+FFFD, so the output always is.

// {"type":"status","status":..,"connection_id":..,"message":..[,"stats":{..}][,"received":N]}.
// received: how many data messages the session has taken from its client so far (sessions with a
// client_id), so that a client that re-attaches knows which of its frames to send again.
std::string encode_status(Status status, std::string_view connection_id, std::string_view message,
                          const std::optional<LinkStats>& stats = std::nullopt,
                          std::optional<std::uint64_t> received = std::nullopt);

// {"type":"data","format":"text","data":..,"seq":..} for a text message, or format "binary"
// with the base64 of data. seq numbers the session's data frames to the client from 1 so that a
// client re-attaching by client_id can say what it has (last_seq); 0 leaves "seq" out. A text
// message from the peer that is not valid UTF-8 cannot be a JSON string and is sent as format
// "binary" instead: lossless, and the client can tell. data.size() must be below 2^32 bytes (a
// JSON string's limit in the writer).
std::string encode_data(srmudp::MessageKind kind, srmudp::ByteView data, std::uint64_t seq = 0);

// {"type":"error","connection_id":..,"message":..[,"id":..]}.
std::string encode_error(std::string_view connection_id, std::string_view message,
                         const std::optional<MessageTag>& id = std::nullopt);

// {"type":"ack","id":..}: the peer acknowledged the client's message with this id.
std::string encode_ack(const MessageTag& id);

// True if bytes are well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points
// above U+10FFFF).
bool is_valid_utf8(srmudp::ByteView bytes) noexcept;

// ---- The WebSocket upgrade request ----------------------------------------------------------

inline constexpr std::string_view kProxyPath = "/v0/ws/proxy";
inline constexpr std::size_t kMaxResourceBytes = 8192;
inline constexpr std::size_t kMaxQueryParameters = 64;
inline constexpr std::size_t kMaxKeyBytes = 1024;
inline constexpr std::size_t kMaxClientIdLength = 128;
inline constexpr std::uint64_t kMaxLastSeq = (std::uint64_t{1} << 53) - 1;  // exact in a double

struct ProxyRequest {
    std::string remote_host;  // the IP literal as given (percent-decoded, without brackets)
    std::uint16_t remote_port = 0;
    srmudp::PeerAddress remote;  // remote_host and remote_port parsed
    std::string encryption_key;  // non-empty; from the query or the X-Encryption-Key header
    std::optional<std::string> client_id;
    // Re-attach only: the highest "seq" of a data frame the client received before its
    // WebSocket dropped; later frames are replayed.
    std::optional<std::uint64_t> last_seq;
    // The bearer token from the "token" query parameter (for browsers, which cannot set an
    // Authorization header); checked by the Hub, never echoed.
    std::optional<std::string> token;
};

// The HTTP layer answers 400 Bad Request with message. It never contains the key.
struct RequestError {
    std::string message;
};

// Parses the upgrade request. resource is path and query as websocketpp's get_resource() gives
// them; key_header is the X-Encryption-Key header's value if the request had one (spaces and
// tabs around it are ignored). The path must be exactly /v0/ws/proxy. Query values are
// percent-decoded per RFC 3986 ('+' stays '+', not a space); unknown parameters are ignored.
// remote_host may be an IPv6 literal in brackets. The key may be given in the query, in the
// header, or in both with the same value.
// Errors (RequestError): resource above kMaxResourceBytes, more than kMaxQueryParameters
// parameters, another path, a known parameter given twice, bad percent-encoding, remote_host
// missing or not an IP literal, remote_port missing or not 1..65535, key missing, empty, above
// kMaxKeyBytes, with control characters, or differing between query and header, client_id not
// 1..128 characters of [A-Za-z0-9._-], last_seq not a decimal number up to kMaxLastSeq, token
// with bad percent-encoding.
std::variant<ProxyRequest, RequestError> parse_proxy_request(
    std::string_view resource, std::optional<std::string_view> key_header);

// ---- Base64 (RFC 4648 section 4: standard alphabet, padded) ---------------------------------

std::string base64_encode(srmudp::ByteView bytes);

// Strict decoding: nullopt unless text is canonical base64 (length a multiple of 4, only
// alphabet characters, '=' only as the last one or two, unused bits zero; no whitespace).
std::optional<srmudp::Bytes> base64_decode(std::string_view text);

}  // namespace wsbridge
