// Texts and numbers a session reports to its client (see reports.hpp). Messages name the peer's
// address and what the user can do about the failure; they never include the key.
#include "session/reports.hpp"

#include <chrono>

#include "srmudp/error.hpp"

namespace wsbridge::session {
namespace {

// RFC 6455 5.5: control frame payload <= 125 bytes, of which 2 are the close code.
constexpr std::size_t kMaxCloseReasonBytes = 123;

bool is_continuation_byte(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

std::string describe_duration(srmudp::Duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (ms <= 0) return "0 ms";
    if (ms < 1000) return std::to_string(ms) + " ms";
    std::string text = std::to_string(ms / 1000);
    if (const auto rest = ms % 1000; rest != 0) {
        std::string fraction = std::to_string(1000 + rest).substr(1);  // zero-padded to 3
        while (fraction.back() == '0')
            fraction.pop_back();
        text += "." + fraction;
    }
    return text + " s";
}

std::string failure_message(std::error_code reason, const srmudp::PeerAddress& remote,
                            srmudp::Duration connect_timeout) {
    const std::string peer = remote.to_string();
    if (reason == srmudp::error::wrong_key) {
        return "the peer at " + peer + " uses a different encryption key";
    }
    if (reason == srmudp::error::handshake_timeout) {
        return "no answer from " + peer + " within " + describe_duration(connect_timeout) +
               "; check that the peer is running and connects to this proxy's address";
    }
    if (reason == srmudp::error::peer_closed)
        return "the peer at " + peer + " closed the connection";
    if (reason == srmudp::error::idle_timeout) {
        return "lost the connection to " + peer + ": the peer stopped answering";
    }
    if (reason == srmudp::error::peer_restarted) {
        return "the peer at " + peer + " restarted; messages it had not acknowledged were lost";
    }
    if (reason == srmudp::error::peer_message_too_large) {
        return "the peer at " + peer + " sent a message larger than this proxy accepts";
    }
    if (reason == srmudp::condition::protocol_violation) {
        return "the peer at " + peer + " broke the srmudp protocol (" + reason.message() + ")";
    }
    if (!reason) return "the connection to " + peer + " ended";
    return "the connection to " + peer + " failed: " + reason.message();
}

std::string connect_error_message(std::error_code ec, const srmudp::PeerAddress& remote) {
    const std::string peer = remote.to_string();
    if (ec == srmudp::error::invalid_argument) {
        return "cannot connect to " + peer + ": this proxy cannot reach its address family";
    }
    if (ec == srmudp::error::empty_key) return "cannot connect to " + peer + ": the key is empty";
    return "cannot connect to " + peer + ": " + ec.message();
}

std::string undelivered_message(std::error_code reason, const srmudp::PeerAddress& remote) {
    if (reason == srmudp::error::closed_locally || reason == srmudp::error::connection_closed) {
        return "message not delivered: the connection to " + remote.to_string() + " was closed";
    }
    if (reason == srmudp::error::peer_restarted) {
        return "message may not have been delivered: the peer at " + remote.to_string() +
               " restarted";
    }
    return "message not delivered to " + remote.to_string() + ": " + reason.message();
}

LinkStats to_link_stats(const srmudp::ConnectionStats& stats) {
    LinkStats out;
    out.rtt_ms = std::chrono::duration<double, std::milli>(stats.smoothed_rtt).count();
    out.bytes_sent = stats.datagram_bytes_sent;
    out.bytes_received = stats.datagram_bytes_received;
    out.messages_sent = stats.messages_sent;
    out.messages_received = stats.messages_received;
    out.retransmissions = stats.stream_bytes_retransmitted;
    out.packets_lost = stats.packets_lost;
    return out;
}

std::string close_reason(std::string_view text) {
    if (text.size() <= kMaxCloseReasonBytes) return std::string(text);
    std::size_t cut = kMaxCloseReasonBytes;
    while (cut > 0 && is_continuation_byte(text[cut]))
        --cut;
    return std::string(text.substr(0, cut));
}

}  // namespace wsbridge::session
