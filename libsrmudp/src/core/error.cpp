#include "srmudp/error.hpp"

namespace srmudp {
namespace {

class ErrorCategory final : public std::error_category {
  public:
    const char* name() const noexcept override { return "srmudp"; }

    std::string message(int code) const override {
        switch (static_cast<error>(code)) {
            case error::invalid_argument:
                return "invalid argument";
            case error::empty_key:
                return "the encryption key is empty";
            case error::message_too_large:
                return "message exceeds the maximum message size";
            case error::send_buffer_full:
                return "send buffer is full; retry when it drains";
            case error::connection_closed:
                return "connection is closed";
            case error::malformed_packet:
                return "malformed packet";
            case error::unsupported_version:
                return "unsupported protocol version";
            case error::authentication_failed:
                return "packet authentication failed";
            case error::replayed_packet:
                return "replayed or too old packet";
            case error::wrong_key:
                return "handshake failed: the peer uses a different key";
            case error::handshake_timeout:
                return "handshake timed out: no answer from the peer";
            case error::idle_timeout:
                return "connection timed out: nothing heard from the peer";
            case error::peer_closed:
                return "the peer closed the connection";
            case error::closed_locally:
                return "connection closed locally";
            case error::protocol_violation:
                return "protocol violation";
            case error::peer_message_too_large:
                return "the peer sent a message larger than the maximum message size";
            case error::crypto_failure:
                return "cryptographic primitive failed";
            case error::internal_error:
                return "internal error";
            case error::peer_restarted:
                return "the peer restarted and lost the connection's state";
        }
        return "unknown srmudp error " + std::to_string(code);
    }

    bool equivalent(int code, const std::error_condition& cond) const noexcept override {
        if (&cond.category() != &condition_category()) return false;
        return in_condition(static_cast<error>(code), static_cast<condition>(cond.value()));
    }

  private:
    static bool in_condition(error e, condition c) noexcept {
        switch (c) {
            case condition::handshake_failed:
                return e == error::wrong_key || e == error::handshake_timeout;
            case condition::protocol_violation:
                return e == error::malformed_packet || e == error::unsupported_version ||
                       e == error::protocol_violation || e == error::peer_message_too_large;
            case condition::connection_lost:
                return e == error::idle_timeout || e == error::peer_closed ||
                       e == error::closed_locally || e == error::connection_closed ||
                       e == error::peer_restarted;
            case condition::would_block:
                return e == error::send_buffer_full;
            case condition::rejected_packet:
                return e == error::malformed_packet || e == error::unsupported_version ||
                       e == error::authentication_failed || e == error::replayed_packet;
        }
        return false;
    }
};

class ConditionCategory final : public std::error_category {
  public:
    const char* name() const noexcept override { return "srmudp-condition"; }
    std::string message(int code) const override {
        switch (static_cast<condition>(code)) {
            case condition::handshake_failed:
                return "handshake failed";
            case condition::protocol_violation:
                return "protocol violation";
            case condition::connection_lost:
                return "connection lost";
            case condition::would_block:
                return "operation would block";
            case condition::rejected_packet:
                return "packet rejected";
        }
        return "unknown srmudp condition " + std::to_string(code);
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const ErrorCategory category;
    return category;
}

const std::error_category& condition_category() noexcept {
    static const ConditionCategory category;
    return category;
}

}  // namespace srmudp
