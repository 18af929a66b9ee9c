// Command line of srmudp-cat.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "srmudp/address.hpp"
#include "srmudp/config.hpp"
#include "srmudp/time.hpp"

namespace srmudp::cat {

struct Options {
    std::string key;  // from --key or the SRMUDP_KEY environment variable
    std::string bind_address = "0.0.0.0";
    std::uint16_t local_port = 0;
    std::optional<PeerAddress> remote;  // --remote: connect (symmetric, hole punching)
    bool remote_from_stdin = false;     // --remote -: the first line of stdin names the peer
    bool listen = false;
    bool keep_listening = false;
    Duration connect_timeout = seconds(30);
    Duration linger = seconds(60);  // after stdin ends: wait this long for acknowledgements
    std::optional<PeerAddress> stun_server;
    Duration stun_timeout = seconds(5);
    bool binary = false;
    bool quiet = false;

    std::size_t max_message_size() const { return Config{}.max_message_size; }
};

struct ParseResult {
    std::optional<Options> options;  // empty: exit with `exit_code` after printing `message`
    int exit_code = 0;
    std::string message;  // help text (exit 0) or the error (exit 2)
};

// Parses argv; `key_from_env` is the value of SRMUDP_KEY (may be null).
ParseResult parse_options(int argc, char** argv, const char* key_from_env);

std::string usage();

}  // namespace srmudp::cat
