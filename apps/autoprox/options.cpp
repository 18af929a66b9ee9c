// autoprox's option parsing: one table (kOptions) names each flag, its variable, its usage line
// and how its value is checked, so the flags, the environment and --help cannot drift apart.
#include "options.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>

namespace autoprox {

namespace {

// An error message for the user, or nullopt when the value was taken.
using Problem = std::optional<std::string>;
// Stores one value; `name` is the flag or variable it came from, for the message.
using Apply = Problem (*)(Options&, std::string_view value, std::string_view name);

struct OptionSpec {
    std::string_view flag;  // "--port"
    const char* env;        // "AUTOPROX_PORT"
    std::string_view arg;   // "PORT", as the usage shows it
    std::string_view help;  // one line, with the default
    bool repeatable;
    Apply apply;
};

constexpr double kMaxSeconds = 1e6;
constexpr std::uint64_t kMaxSessions = 1'000'000;
constexpr std::size_t kMaxEchoedValue = 64;

// User input as shown in a message: bounded, and without bytes that could garble a terminal.
std::string printable(std::string_view value) {
    std::string out;
    for (std::size_t i = 0; i < value.size() && i < kMaxEchoedValue; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        out += (c < 0x20 || c >= 0x7F) ? '?' : static_cast<char>(c);
    }
    if (value.size() > kMaxEchoedValue) out += "...";
    return out;
}

std::string echo(std::string_view value) {
    return "'" + printable(value) + "'";
}

// An unknown option without any "=value" part, which could be a mistyped --token.
std::string unknown_option(std::string_view arg) {
    return "unknown option " + printable(arg.substr(0, arg.find('='))) + "; see --help";
}

Problem invalid(std::string_view name, std::string_view value, std::string_view expected) {
    return std::string(name) + ": invalid value " + echo(value) + " (expected " +
           std::string(expected) + ")";
}

Problem empty(std::string_view name) {
    return std::string(name) + ": must not be empty";
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

// Whole-string decimal, no sign, no spaces.
bool parse_unsigned(std::string_view text, std::uint64_t max, std::uint64_t& out) {
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return !text.empty() && ec == std::errc() && ptr == end && out <= max;
}

Problem parse_port(std::string_view text, std::string_view name, std::uint16_t& out) {
    std::uint64_t value = 0;
    if (!parse_unsigned(text, 65535, value)) return invalid(name, text, "a port 0..65535");
    out = static_cast<std::uint16_t>(value);
    return std::nullopt;
}

Problem parse_count(std::string_view text, std::string_view name, std::size_t& out) {
    std::uint64_t value = 0;
    if (!parse_unsigned(text, kMaxSessions, value) || value < 1) {
        return invalid(name, text, "an integer 1..1000000");
    }
    out = static_cast<std::size_t>(value);
    return std::nullopt;
}

// Fractional seconds, finite, 0..1e6 (or above 0 when `positive`).
Problem parse_seconds(std::string_view text, std::string_view name, bool positive, double& out) {
    const std::string_view expected =
        positive ? "seconds above 0, at most 1000000" : "seconds from 0 to 1000000";
    if (text.empty() || text[0] == '-' || text[0] == '+') return invalid(name, text, expected);
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || !std::isfinite(value) || value < 0 ||
        value > kMaxSeconds || (positive && value == 0)) {
        return invalid(name, text, expected);
    }
    out = value;
    return std::nullopt;
}

// BYTES, BYTESK, BYTESKiB, BYTESM or BYTESMiB (K = 1024), within 1..16 MiB.
Problem parse_size(std::string_view text, std::string_view name, std::size_t& out) {
    constexpr std::string_view expected = "1 to 16MiB, as bytes or with K, M, KiB or MiB";
    const std::size_t digits = text.find_first_not_of("0123456789");
    const std::string_view number = text.substr(0, digits);
    const std::string_view suffix = digits == std::string_view::npos ? "" : text.substr(digits);
    std::uint64_t multiplier = 0;
    if (suffix.empty()) multiplier = 1;
    if (suffix == "K" || suffix == "KiB") multiplier = 1024;
    if (suffix == "M" || suffix == "MiB") multiplier = 1024 * 1024;
    std::uint64_t value = 0;
    if (multiplier == 0 || !parse_unsigned(number, kMaxMessageBytes / multiplier, value) ||
        value == 0) {
        return invalid(name, text, expected);
    }
    out = static_cast<std::size_t>(value * multiplier);
    return std::nullopt;
}

// HOST:PORT or [IPv6]:PORT with a port 1..65535; the host itself is resolved by the server.
Problem parse_host_port(std::string_view text, std::string_view name,
                        std::optional<std::string>& out) {
    constexpr std::string_view expected = "HOST:PORT or [IPv6]:PORT";
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return invalid(name, text, expected);
    const std::string_view host = text.substr(0, colon);
    const bool bracketed = host.front() == '[';
    if (bracketed ? (host.size() < 3 || host.back() != ']')
                  : host.find(':') != std::string_view::npos) {
        return invalid(name, text, expected);
    }
    std::uint64_t port = 0;
    if (!parse_unsigned(text.substr(colon + 1), 65535, port) || port == 0) {
        return invalid(name, text, expected);
    }
    out = std::string(text);
    return std::nullopt;
}

Problem set_text(std::string_view text, std::string_view name, std::string& out) {
    if (text.empty()) return empty(name);
    out = std::string(text);
    return std::nullopt;
}

Problem set_optional(std::string_view text, std::string_view name,
                     std::optional<std::string>& out) {
    if (text.empty()) return empty(name);
    out = std::string(text);
    return std::nullopt;
}

Problem add_item(std::string_view text, std::string_view name, std::vector<std::string>& out) {
    if (text.empty()) return empty(name);
    out.emplace_back(text);
    return std::nullopt;
}

// The token is never echoed: it only can be empty, which needs no value in the message.
Problem set_token(Options& o, std::string_view text, std::string_view name) {
    return set_optional(text, name, o.token);
}

Problem set_log_level(Options& o, std::string_view text, std::string_view name) {
    const auto level = parse_log_level(text);
    if (!level) return invalid(name, text, "error, warn, info or debug");
    o.log_level = *level;
    return std::nullopt;
}

Problem set_log_format(Options& o, std::string_view text, std::string_view name) {
    const auto format = parse_log_format(text);
    if (!format) return invalid(name, text, "text or json");
    o.log_format = *format;
    return std::nullopt;
}

using O = Options;
using SV = std::string_view;

// clang-format off
const std::array<OptionSpec, 22> kOptions = {{
    {"--host", "AUTOPROX_HOST", "ADDRESS", "WebSocket listen address (default 127.0.0.1)", false,
     [](O& o, SV v, SV n) { return set_text(v, n, o.host); }},
    {"--port", "AUTOPROX_PORT", "PORT", "WebSocket listen port, 0 = any (default 8000)", false,
     [](O& o, SV v, SV n) { return parse_port(v, n, o.port); }},
    {"--srmudp-port", "AUTOPROX_SRMUDP_PORT", "PORT", "local UDP port for srmudp, 0 = any (default 0)",
     false, [](O& o, SV v, SV n) { return parse_port(v, n, o.srmudp_port); }},
    {"--srmudp-bind", "AUTOPROX_SRMUDP_BIND", "ADDRESS",
     "local UDP address for srmudp (default: dual-stack any)", false,
     [](O& o, SV v, SV) -> Problem { o.srmudp_bind = std::string(v); return std::nullopt; }},
    {"--stun-server", "AUTOPROX_STUN_SERVER", "HOST:PORT",
     "STUN server that tells our public address (default: none)", false,
     [](O& o, SV v, SV n) { return parse_host_port(v, n, o.stun_server); }},
    {"--allow-target", "AUTOPROX_ALLOW_TARGET", "CIDR",
     "only peers in these networks may be reached; repeatable (default: any but unspecified, multicast, broadcast)", true,
     [](O& o, SV v, SV n) { return add_item(v, n, o.allow_targets); }},
    {"--deny-target", "AUTOPROX_DENY_TARGET", "CIDR",
     "peers in this network may not be reached; repeatable (default: none)", true,
     [](O& o, SV v, SV n) { return add_item(v, n, o.deny_targets); }},
    {"--token", "AUTOPROX_TOKEN", "TOKEN",
     "WebSocket clients must present this token; prefer the variable (default: none)", false,
     set_token},
    {"--allow-origin", "AUTOPROX_ALLOW_ORIGIN", "ORIGIN",
     "browser Origin allowed to connect, or *; repeatable (default: none: requests with an Origin are refused)", true,
     [](O& o, SV v, SV n) { return add_item(v, n, o.allow_origins); }},
    {"--max-sessions", "AUTOPROX_MAX_SESSIONS", "N", "sessions at once, 1..1000000 (default 1024)",
     false, [](O& o, SV v, SV n) { return parse_count(v, n, o.max_sessions); }},
    {"--max-sessions-per-client", "AUTOPROX_MAX_SESSIONS_PER_CLIENT", "N",
     "sessions at once per client address, 1..1000000 (default 64)", false,
     [](O& o, SV v, SV n) { return parse_count(v, n, o.max_sessions_per_client); }},
    {"--max-message-size", "AUTOPROX_MAX_MESSAGE_SIZE", "BYTES",
     "largest message, 1 to 16MiB; suffixes K M KiB MiB (default 16MiB)", false,
     [](O& o, SV v, SV n) { return parse_size(v, n, o.max_message_bytes); }},
    {"--idle-timeout", "AUTOPROX_IDLE_TIMEOUT", "SECONDS",
     "close a session idle this long, 0 = off (default 3600)", false,
     [](O& o, SV v, SV n) { return parse_seconds(v, n, false, o.idle_timeout_s); }},
    {"--reattach-grace", "AUTOPROX_REATTACH_GRACE", "SECONDS",
     "keep a detached session for re-attach, 0 = no re-attach (default 30)", false,
     [](O& o, SV v, SV n) { return parse_seconds(v, n, false, o.reattach_grace_s); }},
    {"--status-interval", "AUTOPROX_STATUS_INTERVAL", "SECONDS",
     "status report period, 0 = off (default 10)", false,
     [](O& o, SV v, SV n) { return parse_seconds(v, n, false, o.status_interval_s); }},
    {"--ws-ping-interval", "AUTOPROX_WS_PING_INTERVAL", "SECONDS",
     "ping each WebSocket client this often, 0 = off (default 20)", false,
     [](O& o, SV v, SV n) { return parse_seconds(v, n, false, o.ws_ping_interval_s); }},
    {"--ws-pong-timeout", "AUTOPROX_WS_PONG_TIMEOUT", "SECONDS",
     "close a WebSocket that does not answer a ping within this, as broken; below the ping "
     "interval, 0 = never (default 10)", false,
     [](O& o, SV v, SV n) { return parse_seconds(v, n, false, o.ws_pong_timeout_s); }},
    {"--connect-timeout", "AUTOPROX_CONNECT_TIMEOUT", "SECONDS",
     "give up connecting to a peer after this, above 0 (default 30)", false,
     [](O& o, SV v, SV n) { return parse_seconds(v, n, true, o.connect_timeout_s); }},
    {"--tls-cert", "AUTOPROX_TLS_CERT", "FILE", "TLS certificate chain, PEM; needs --tls-key "
     "(default: plain ws)", false, [](O& o, SV v, SV n) { return set_optional(v, n, o.tls_cert); }},
    {"--tls-key", "AUTOPROX_TLS_KEY", "FILE", "TLS private key, PEM; needs --tls-cert (default: none)",
     false, [](O& o, SV v, SV n) { return set_optional(v, n, o.tls_key); }},
    {"--log-level", "AUTOPROX_LOG_LEVEL", "LEVEL", "error, warn, info or debug (default info)",
     false, set_log_level},
    {"--log-format", "AUTOPROX_LOG_FORMAT", "FORMAT", "text or json (default text)", false,
     set_log_format},
}};
// clang-format on

const OptionSpec* find_option(std::string_view flag) {
    for (const auto& spec : kOptions) {
        if (spec.flag == flag) return &spec;
    }
    return nullptr;
}

std::size_t index_of(const OptionSpec& spec) {
    return static_cast<std::size_t>(&spec - kOptions.data());
}

// The state of the command-line pass. Only the first error is kept, but the pass goes on so
// that a later --help or --version still wins.
struct FlagPass {
    Options options;
    std::array<bool, kOptions.size()> given{};
    bool help = false;
    bool version = false;
    Problem error;

    void note(Problem problem) {
        if (problem && !error) error = std::move(problem);
    }
};

// Handles args[i] (and its value, advancing i) when it is a --flag.
void parse_flag(const std::vector<std::string>& args, std::size_t& i, FlagPass& pass) {
    const std::string_view arg = args[i];
    const std::size_t eq = arg.find('=');
    const std::string_view flag = arg.substr(0, eq);
    if (flag == "--help" || flag == "--version") {
        return pass.note(std::string(flag) + " takes no value");
    }
    const OptionSpec* spec = find_option(flag);
    if (spec == nullptr) return pass.note(unknown_option(flag));
    std::string_view value;
    if (eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
    } else if (i + 1 < args.size() && !starts_with(args[i + 1], "--")) {
        value = args[++i];
    } else {
        return pass.note(std::string(flag) + " needs a value");
    }
    bool& given = pass.given[index_of(*spec)];
    if (given && !spec->repeatable) return pass.note(std::string(flag) + " given more than once");
    given = true;
    pass.note(spec->apply(pass.options, value, spec->flag));
}

FlagPass parse_flags(const std::vector<std::string>& args) {
    FlagPass pass;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg == "--help" || arg == "-h") {
            pass.help = true;
        } else if (arg == "--version") {
            pass.version = true;
        } else if (starts_with(arg, "--")) {
            parse_flag(args, i, pass);
        } else if (starts_with(arg, "-") && arg.size() > 1) {
            pass.note(unknown_option(arg));
        } else {
            pass.note("unexpected argument " + echo(arg) + "; see --help");
        }
    }
    return pass;
}

std::string_view trim(std::string_view text) {
    const std::size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const std::size_t last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

// Fills every option not given as a flag from its variable.
Problem apply_environment(const std::array<bool, kOptions.size()>& given, const GetEnv& getenv,
                          Options& options) {
    if (!getenv) return std::nullopt;
    for (const auto& spec : kOptions) {
        if (given[index_of(spec)]) continue;
        const std::optional<std::string> value = getenv(spec.env);
        if (!value) continue;
        if (!spec.repeatable) {
            if (auto problem = spec.apply(options, *value, spec.env)) return problem;
            continue;
        }
        std::string_view rest = *value;
        while (!rest.empty()) {
            const std::size_t comma = rest.find(',');
            const std::string_view item = trim(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            if (item.empty()) continue;
            if (auto problem = spec.apply(options, item, spec.env)) return problem;
        }
    }
    return std::nullopt;
}

Problem check_combinations(const Options& o) {
    if (o.tls_cert && !o.tls_key) {
        return "--tls-cert (AUTOPROX_TLS_CERT) needs --tls-key (AUTOPROX_TLS_KEY) as well";
    }
    if (o.tls_key && !o.tls_cert) {
        return "--tls-key (AUTOPROX_TLS_KEY) needs --tls-cert (AUTOPROX_TLS_CERT) as well";
    }
    if (o.ws_ping_interval_s > 0 && o.ws_pong_timeout_s >= o.ws_ping_interval_s) {
        return "--ws-pong-timeout (AUTOPROX_WS_PONG_TIMEOUT) must be shorter than "
               "--ws-ping-interval (AUTOPROX_WS_PING_INTERVAL)";
    }
    return std::nullopt;
}

std::string pad(std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text + ' ';
}

}  // namespace

std::string usage() {
    std::string text =
        "usage: autoprox [options]\n"
        "\n"
        "The WebSocket to srmudp bridge server. Each option can also be set through the\n"
        "environment variable beside it; a flag on the command line wins over its variable.\n"
        "Repeatable options take a comma-separated list in their variable. Seconds may be\n"
        "fractional.\n"
        "\n";
    for (const auto& spec : kOptions) {
        text += pad("  " + std::string(spec.flag) + " " + std::string(spec.arg), 29);
        text += pad(spec.env, 32);
        text.append(spec.help).append("\n");
    }
    text += pad("  --help, -h", 29) + pad("", 32) + "print this text and exit\n";
    text += pad("  --version", 29) + pad("", 32) + "print \"autoprox <version>\" and exit\n";
    text += "\nExit status 2 means a usage error.";
    return text;
}

std::variant<Options, Exit> parse_options(const std::vector<std::string>& args,
                                          const GetEnv& getenv) {
    FlagPass pass = parse_flags(args);
    if (pass.help) return Exit{0, usage()};
    if (pass.version) return Exit{0, std::string("autoprox ") + kVersion};
    if (pass.error) return Exit{2, *pass.error};
    if (auto problem = apply_environment(pass.given, getenv, pass.options)) {
        return Exit{2, *problem};
    }
    if (auto problem = check_combinations(pass.options)) return Exit{2, *problem};
    return std::move(pass.options);
}

}  // namespace autoprox
