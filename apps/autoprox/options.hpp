// autoprox's command line and environment: every flag --name has an AUTOPROX_NAME variable,
// and a flag given on the command line wins over its variable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "log.hpp"

#ifndef AUTOPROX_VERSION
#error "AUTOPROX_VERSION must be defined by the build (apps/autoprox/CMakeLists.txt)"
#endif

namespace autoprox {

// The project version, from CMake's PROJECT_VERSION; --version prints "autoprox <kVersion>".
inline constexpr const char* kVersion = AUTOPROX_VERSION;

inline constexpr std::size_t kMaxMessageBytes = 16 * 1024 * 1024;

// What the server runs with. CIDR, origin and address syntax is checked by the server.
struct Options {
    std::string host = "127.0.0.1";          // WebSocket listen address
    std::uint16_t port = 8000;               // WebSocket listen port (0 = any)
    std::uint16_t srmudp_port = 0;           // local UDP port for srmudp (0 = any)
    std::string srmudp_bind = "";            // local UDP address ("" = dual-stack any)
    std::optional<std::string> stun_server;  // HOST:PORT
    std::vector<std::string> allow_targets;  // CIDRs peers may be reached in
    std::vector<std::string> deny_targets;   // CIDRs peers may not be reached in
    std::optional<std::string> token;        // required from WebSocket clients when set
    std::vector<std::string> allow_origins;  // allowed Origin headers, or "*"
    std::size_t max_sessions = 1024;
    std::size_t max_sessions_per_client = 64;
    std::size_t max_message_bytes = kMaxMessageBytes;
    double idle_timeout_s = 3600;         // 0 = off
    double reattach_grace_s = 30;         // 0 = no re-attach
    double status_interval_s = 10;        // 0 = off
    double ws_ping_interval_s = 20;       // 0 = no WebSocket pings
    double ws_pong_timeout_s = 10;        // below ws_ping_interval_s; 0 = pings without a deadline
    double connect_timeout_s = 30;        // > 0
    std::optional<std::string> tls_cert;  // both or neither
    std::optional<std::string> tls_key;
    LogLevel log_level = LogLevel::info;
    LogFormat log_format = LogFormat::text;
};

// Parsing decided to exit now: code 0 with the --help or --version text for stdout, or code 2
// with one error for stderr naming the flag or variable (and the bad value, never the token).
// `text` has no trailing newline.
struct Exit {
    int code;
    std::string text;
};

// Reads the environment through `getenv` (nullopt = unset).
using GetEnv = std::function<std::optional<std::string>(const char*)>;

// Parses argv[1..] and the AUTOPROX_* variables. Flags take "--flag value" or "--flag=value";
// --allow-target, --deny-target and --allow-origin repeat, and their variables hold
// comma-separated lists (items trimmed, empty items dropped). --help and --version win over
// any error. Errors (Exit code 2): unknown option, missing value, a non-repeatable flag given
// twice, a malformed or out-of-range value, an empty value, --tls-cert without --tls-key or
// the reverse.
std::variant<Options, Exit> parse_options(const std::vector<std::string>& args,
                                          const GetEnv& getenv);

// The --help text: usage, then one line per flag with its variable and default.
std::string usage();

}  // namespace autoprox
