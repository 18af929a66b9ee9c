#include "options.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace autoprox;

namespace {

using Env = std::map<std::string, std::string>;
using Args = std::vector<std::string>;

std::variant<Options, Exit> parse(const Args& args, const Env& env = {}) {
    return parse_options(args, [&env](const char* name) -> std::optional<std::string> {
        const auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    });
}

Options accepted(const Args& args, const Env& env = {}) {
    auto result = parse(args, env);
    if (const auto* exit = std::get_if<Exit>(&result)) {
        FAIL("rejected: " << exit->text);
    }
    return std::get<Options>(result);
}

Exit rejected(const Args& args, const Env& env = {}) {
    auto result = parse(args, env);
    REQUIRE(std::holds_alternative<Exit>(result));
    const Exit exit = std::get<Exit>(result);
    CHECK(exit.code == 2);
    return exit;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

struct Flag {
    std::string flag;
    std::string env;
};

const std::vector<Flag> kAllFlags = {
    {"--host", "AUTOPROX_HOST"},
    {"--port", "AUTOPROX_PORT"},
    {"--srmudp-port", "AUTOPROX_SRMUDP_PORT"},
    {"--srmudp-bind", "AUTOPROX_SRMUDP_BIND"},
    {"--stun-server", "AUTOPROX_STUN_SERVER"},
    {"--allow-target", "AUTOPROX_ALLOW_TARGET"},
    {"--deny-target", "AUTOPROX_DENY_TARGET"},
    {"--token", "AUTOPROX_TOKEN"},
    {"--allow-origin", "AUTOPROX_ALLOW_ORIGIN"},
    {"--max-sessions", "AUTOPROX_MAX_SESSIONS"},
    {"--max-sessions-per-client", "AUTOPROX_MAX_SESSIONS_PER_CLIENT"},
    {"--max-message-size", "AUTOPROX_MAX_MESSAGE_SIZE"},
    {"--idle-timeout", "AUTOPROX_IDLE_TIMEOUT"},
    {"--reattach-grace", "AUTOPROX_REATTACH_GRACE"},
    {"--status-interval", "AUTOPROX_STATUS_INTERVAL"},
    {"--ws-ping-interval", "AUTOPROX_WS_PING_INTERVAL"},
    {"--ws-pong-timeout", "AUTOPROX_WS_PONG_TIMEOUT"},
    {"--connect-timeout", "AUTOPROX_CONNECT_TIMEOUT"},
    {"--tls-cert", "AUTOPROX_TLS_CERT"},
    {"--tls-key", "AUTOPROX_TLS_KEY"},
    {"--log-level", "AUTOPROX_LOG_LEVEL"},
    {"--log-format", "AUTOPROX_LOG_FORMAT"},
};

// A valid, non-default value for every option (repeatable ones once).
const std::map<std::string, std::string> kSampleValues = {
    {"--host", "0.0.0.0"},
    {"--port", "9000"},
    {"--srmudp-port", "4000"},
    {"--srmudp-bind", "::"},
    {"--stun-server", "stun.example.org:3478"},
    {"--allow-target", "10.0.0.0/8"},
    {"--deny-target", "10.1.0.0/16"},
    {"--token", "s3cr3t-token"},
    {"--allow-origin", "https://app.example"},
    {"--max-sessions", "10"},
    {"--max-sessions-per-client", "2"},
    {"--max-message-size", "64K"},
    {"--idle-timeout", "0.5"},
    {"--reattach-grace", "0"},
    {"--status-interval", "2.25"},
    {"--ws-ping-interval", "3"},
    {"--ws-pong-timeout", "1.5"},
    {"--connect-timeout", "7"},
    {"--tls-cert", "/etc/autoprox/cert.pem"},
    {"--tls-key", "/etc/autoprox/key.pem"},
    {"--log-level", "debug"},
    {"--log-format", "json"},
};

void check_sample_values(const Options& o) {
    CHECK(o.host == "0.0.0.0");
    CHECK(o.port == 9000);
    CHECK(o.srmudp_port == 4000);
    CHECK(o.srmudp_bind == "::");
    CHECK(o.stun_server == "stun.example.org:3478");
    CHECK(o.allow_targets == std::vector<std::string>{"10.0.0.0/8"});
    CHECK(o.deny_targets == std::vector<std::string>{"10.1.0.0/16"});
    CHECK(o.token == "s3cr3t-token");
    CHECK(o.allow_origins == std::vector<std::string>{"https://app.example"});
    CHECK(o.max_sessions == 10);
    CHECK(o.max_sessions_per_client == 2);
    CHECK(o.max_message_bytes == 64 * 1024);
    CHECK(o.idle_timeout_s == 0.5);
    CHECK(o.reattach_grace_s == 0);
    CHECK(o.status_interval_s == 2.25);
    CHECK(o.ws_ping_interval_s == 3);
    CHECK(o.ws_pong_timeout_s == 1.5);
    CHECK(o.connect_timeout_s == 7);
    CHECK(o.tls_cert == "/etc/autoprox/cert.pem");
    CHECK(o.tls_key == "/etc/autoprox/key.pem");
    CHECK(o.log_level == LogLevel::debug);
    CHECK(o.log_format == LogFormat::json);
}

}  // namespace

TEST_CASE("no flags and no environment give the defaults") {
    const Options o = accepted({});
    CHECK(o.host == "127.0.0.1");
    CHECK(o.port == 8000);
    CHECK(o.srmudp_port == 0);
    CHECK(o.srmudp_bind.empty());
    CHECK_FALSE(o.stun_server);
    CHECK(o.allow_targets.empty());
    CHECK(o.deny_targets.empty());
    CHECK_FALSE(o.token);
    CHECK(o.allow_origins.empty());
    CHECK(o.max_sessions == 1024);
    CHECK(o.max_sessions_per_client == 64);
    CHECK(o.max_message_bytes == 16 * 1024 * 1024);
    CHECK(o.idle_timeout_s == 3600);
    CHECK(o.reattach_grace_s == 30);
    CHECK(o.status_interval_s == 10);
    CHECK(o.ws_ping_interval_s == 20);
    CHECK(o.ws_pong_timeout_s == 10);
    CHECK(o.connect_timeout_s == 30);
    CHECK_FALSE(o.tls_cert);
    CHECK_FALSE(o.tls_key);
    CHECK(o.log_level == LogLevel::info);
    CHECK(o.log_format == LogFormat::text);
}

TEST_CASE("every flag as flag and value") {
    Args args;
    for (const auto& [flag, value] : kSampleValues) {
        args.push_back(flag);
        args.push_back(value);
    }
    check_sample_values(accepted(args));
}

TEST_CASE("every flag in the equals form") {
    Args args;
    for (const auto& [flag, value] : kSampleValues)
        args.push_back(flag + "=" + value);
    check_sample_values(accepted(args));
}

TEST_CASE("every environment variable") {
    Env env;
    for (const auto& f : kAllFlags)
        env[f.env] = kSampleValues.at(f.flag);
    check_sample_values(accepted({}, env));
}

TEST_CASE("a null getenv means an empty environment") {
    const auto result = parse_options({"--port", "1"}, GetEnv{});
    REQUIRE(std::holds_alternative<Options>(result));
    CHECK(std::get<Options>(result).port == 1);
}

TEST_CASE("a flag wins over its environment variable") {
    Env env;
    for (const auto& f : kAllFlags)
        env[f.env] = kSampleValues.at(f.flag);
    const Options o = accepted({"--port", "1", "--token=flag-token", "--allow-target",
                                "192.168.0.0/16", "--log-level", "error"},
                               env);
    CHECK(o.port == 1);
    CHECK(o.token == "flag-token");
    CHECK(o.allow_targets == std::vector<std::string>{"192.168.0.0/16"});
    CHECK(o.log_level == LogLevel::error);
    CHECK(o.host == "0.0.0.0");  // not given as a flag: from the environment
    CHECK(o.deny_targets == std::vector<std::string>{"10.1.0.0/16"});
}

TEST_CASE("a flag wins even over an invalid environment value") {
    const Options o = accepted({"--port", "2"}, {{"AUTOPROX_PORT", "junk"}});
    CHECK(o.port == 2);
}

TEST_CASE("repeatable flags accumulate in order") {
    const Options o = accepted({"--allow-target", "10.0.0.0/8", "--allow-target=fd00::/8",
                                "--deny-target", "10.9.0.0/16", "--deny-target", "10.8.0.0/16",
                                "--allow-origin", "*", "--allow-origin", "https://a.example"});
    CHECK(o.allow_targets == std::vector<std::string>{"10.0.0.0/8", "fd00::/8"});
    CHECK(o.deny_targets == std::vector<std::string>{"10.9.0.0/16", "10.8.0.0/16"});
    CHECK(o.allow_origins == std::vector<std::string>{"*", "https://a.example"});
}

TEST_CASE("list variables are split on commas trimmed and empty items dropped") {
    const Options o =
        accepted({}, {{"AUTOPROX_ALLOW_TARGET", " 10.0.0.0/8 ,,\tfd00::/8 , "},
                      {"AUTOPROX_DENY_TARGET", ""},
                      {"AUTOPROX_ALLOW_ORIGIN", "https://a.example,https://b.example"}});
    CHECK(o.allow_targets == std::vector<std::string>{"10.0.0.0/8", "fd00::/8"});
    CHECK(o.deny_targets.empty());
    CHECK(o.allow_origins == std::vector<std::string>{"https://a.example", "https://b.example"});
}

TEST_CASE("unknown options are rejected with the exact message") {
    CHECK(rejected({"--x"}).text == "unknown option --x; see --help");
    CHECK(rejected({"--x=1"}).text == "unknown option --x; see --help");
    CHECK(rejected({"-x"}).text == "unknown option -x; see --help");
    CHECK(rejected({"--"}).text == "unknown option --; see --help");
}

TEST_CASE("a mistyped option does not echo its value") {
    CHECK(rejected({"--tokn=hunter2"}).text == "unknown option --tokn; see --help");
    CHECK(rejected({"-tokn=hunter2"}).text == "unknown option -tokn; see --help");
    CHECK(rejected({"--" + std::string(100, 'x')}).text ==
          "unknown option --" + std::string(62, 'x') + "...; see --help");
}

TEST_CASE("positional arguments are rejected") {
    CHECK(rejected({"serve"}).text == "unexpected argument 'serve'; see --help");
    CHECK(rejected({"-"}).text == "unexpected argument '-'; see --help");
}

TEST_CASE("a flag without its value is rejected") {
    CHECK(rejected({"--port"}).text == "--port needs a value");
    CHECK(rejected({"--host", "--port", "1"}).text == "--host needs a value");
    CHECK(rejected({"--token"}).text == "--token needs a value");
}

TEST_CASE("a value starting with a single dash is taken as the value") {
    CHECK(rejected({"--port", "-1"}).text ==
          "--port: invalid value '-1' (expected a port 0..65535)");
}

TEST_CASE("the first error is reported") {
    CHECK(rejected({"--port", "x", "--bogus"}).text ==
          "--port: invalid value 'x' (expected a port 0..65535)");
}

TEST_CASE("a non-repeatable flag given twice is rejected") {
    for (const auto& [flag, value] : kSampleValues) {
        if (flag == "--allow-target" || flag == "--deny-target" || flag == "--allow-origin") {
            continue;
        }
        const Exit exit = rejected({flag, value, flag + "=" + value});
        CHECK(exit.text == flag + " given more than once");
    }
}

TEST_CASE("ports are range checked and strictly parsed") {
    CHECK(accepted({"--port", "0"}).port == 0);
    CHECK(accepted({"--port", "65535"}).port == 65535);
    CHECK(accepted({"--srmudp-port", "00080"}).srmudp_port == 80);
    for (const std::string bad :
         {"65536", "+1", " 1", "1 ", "1x", "0x10", "", "99999999999999999999"}) {
        CAPTURE(bad);
        CHECK(rejected({"--port", bad}).text ==
              "--port: invalid value '" + bad + "' (expected a port 0..65535)");
        CHECK(rejected({}, {{"AUTOPROX_SRMUDP_PORT", bad}}).text ==
              "AUTOPROX_SRMUDP_PORT: invalid value '" + bad + "' (expected a port 0..65535)");
    }
}

TEST_CASE("session limits are at least one and at most a million") {
    CHECK(accepted({"--max-sessions", "1"}).max_sessions == 1);
    CHECK(accepted({"--max-sessions", "1000000"}).max_sessions == 1000000);
    CHECK(accepted({"--max-sessions-per-client", "1"}).max_sessions_per_client == 1);
    for (const std::string bad : {"0", "1000001", "-1", "1.5", "ten"}) {
        CAPTURE(bad);
        CHECK(rejected({"--max-sessions", bad}).text ==
              "--max-sessions: invalid value '" + bad + "' (expected an integer 1..1000000)");
        CHECK(rejected({"--max-sessions-per-client=" + bad}).text ==
              "--max-sessions-per-client: invalid value '" + bad +
                  "' (expected an integer 1..1000000)");
    }
    CHECK(contains(rejected({}, {{"AUTOPROX_MAX_SESSIONS", "0"}}).text, "AUTOPROX_MAX_SESSIONS:"));
    CHECK(contains(rejected({}, {{"AUTOPROX_MAX_SESSIONS_PER_CLIENT", "0"}}).text,
                   "AUTOPROX_MAX_SESSIONS_PER_CLIENT:"));
}

TEST_CASE("message size accepts bytes and binary suffixes up to 16 MiB") {
    const std::vector<std::pair<std::string, std::size_t>> good = {
        {"1", 1},           {"1000", 1000},       {"1K", 1024},          {"1KiB", 1024},
        {"16M", 16u << 20}, {"16MiB", 16u << 20}, {"16384K", 16u << 20}, {"16777216", 16u << 20},
        {"2M", 2u << 20},
    };
    for (const auto& [text, bytes] : good) {
        CAPTURE(text);
        CHECK(accepted({"--max-message-size", text}).max_message_bytes == bytes);
    }
    for (const std::string bad :
         {"0", "0K", "17M", "16385K", "16777217", "1k", "1m", "1KB", "1.5M", "M", "K", "1 K", "-1",
          "", "1Ki", "1MiBx", "99999999999999999999M"}) {
        CAPTURE(bad);
        CHECK(rejected({"--max-message-size", bad}).text ==
              "--max-message-size: invalid value '" + bad +
                  "' (expected 1 to 16MiB, as bytes or with K, M, KiB or MiB)");
    }
    CHECK(contains(rejected({}, {{"AUTOPROX_MAX_MESSAGE_SIZE", "17M"}}).text,
                   "AUTOPROX_MAX_MESSAGE_SIZE: invalid value '17M'"));
}

TEST_CASE("seconds may be fractional and are bounded") {
    CHECK(accepted({"--idle-timeout", "0"}).idle_timeout_s == 0);
    CHECK(accepted({"--idle-timeout", "0.5"}).idle_timeout_s == 0.5);
    CHECK(accepted({"--idle-timeout", ".25"}).idle_timeout_s == 0.25);
    CHECK(accepted({"--idle-timeout", "1e3"}).idle_timeout_s == 1000);
    CHECK(accepted({"--idle-timeout", "1000000"}).idle_timeout_s == 1e6);
    CHECK(accepted({"--reattach-grace", "0"}).reattach_grace_s == 0);
    CHECK(accepted({"--status-interval", "0"}).status_interval_s == 0);
    CHECK(accepted({"--connect-timeout", "0.001"}).connect_timeout_s == 0.001);
    for (const std::string flag : {"--idle-timeout", "--reattach-grace", "--status-interval",
                                   "--ws-ping-interval", "--ws-pong-timeout"}) {
        for (const std::string bad : {"-1", "-0", "+1", "nan", "inf", "-inf", "1e7", "1000000.5",
                                      "1s", "", " 1", "0x10", "1,5"}) {
            CAPTURE(flag, bad);
            CHECK(rejected({flag, bad}).text ==
                  flag + ": invalid value '" + bad + "' (expected seconds from 0 to 1000000)");
        }
    }
}

TEST_CASE("connect timeout must be above zero") {
    for (const std::string bad : {"0", "0.0", "-1", "nan", "1e7"}) {
        CAPTURE(bad);
        CHECK(rejected({"--connect-timeout", bad}).text ==
              "--connect-timeout: invalid value '" + bad +
                  "' (expected seconds above 0, at most 1000000)");
    }
    CHECK(contains(rejected({}, {{"AUTOPROX_CONNECT_TIMEOUT", "0"}}).text,
                   "AUTOPROX_CONNECT_TIMEOUT: invalid value '0'"));
    CHECK(contains(rejected({}, {{"AUTOPROX_IDLE_TIMEOUT", "x"}}).text,
                   "AUTOPROX_IDLE_TIMEOUT: invalid value 'x'"));
    CHECK(contains(rejected({}, {{"AUTOPROX_REATTACH_GRACE", "-5"}}).text,
                   "AUTOPROX_REATTACH_GRACE: invalid value '-5'"));
    CHECK(contains(rejected({}, {{"AUTOPROX_STATUS_INTERVAL", "inf"}}).text,
                   "AUTOPROX_STATUS_INTERVAL: invalid value 'inf'"));
}

TEST_CASE("stun server needs host and port") {
    for (const std::string good :
         {"stun.example.org:3478", "1.2.3.4:19302", "[::1]:3478", "[2001:db8::1]:65535"}) {
        CAPTURE(good);
        CHECK(accepted({"--stun-server", good}).stun_server == good);
    }
    for (const std::string bad : {"stun.example.org", "host:0", "host:", ":3478", "::1:3478",
                                  "[::1]", "[]:1", "[::1:3478", "host:65536", "host:x"}) {
        CAPTURE(bad);
        CHECK(rejected({"--stun-server", bad}).text ==
              "--stun-server: invalid value '" + bad + "' (expected HOST:PORT or [IPv6]:PORT)");
    }
    CHECK(contains(rejected({}, {{"AUTOPROX_STUN_SERVER", "nope"}}).text,
                   "AUTOPROX_STUN_SERVER: invalid value 'nope'"));
}

TEST_CASE("empty values are rejected except for srmudp-bind") {
    for (const std::string flag : {"--host", "--stun-server", "--allow-target", "--deny-target",
                                   "--allow-origin", "--tls-cert", "--tls-key", "--token"}) {
        CAPTURE(flag);
        const Exit exit = rejected({flag + "="});
        if (flag == "--stun-server") {
            CHECK(contains(exit.text, "--stun-server: invalid value ''"));
        } else {
            CHECK(exit.text == flag + ": must not be empty");
        }
    }
    CHECK(rejected({}, {{"AUTOPROX_HOST", ""}}).text == "AUTOPROX_HOST: must not be empty");
    CHECK(accepted({"--srmudp-bind="}).srmudp_bind.empty());
    CHECK(accepted({}, {{"AUTOPROX_SRMUDP_BIND", ""}}).srmudp_bind.empty());
}

TEST_CASE("the token is never echoed") {
    CHECK(rejected({"--token="}).text == "--token: must not be empty");
    CHECK(rejected({"--token", ""}).text == "--token: must not be empty");
    CHECK(rejected({}, {{"AUTOPROX_TOKEN", ""}}).text == "AUTOPROX_TOKEN: must not be empty");
    CHECK(rejected({"--token", "hunter2", "--token", "hunter3"}).text ==
          "--token given more than once");
    const Exit later =
        rejected({"--token", "hunter2", "--port", "bad"}, {{"AUTOPROX_TOKEN", "hunter3"}});
    CHECK_FALSE(contains(later.text, "hunter"));
    const Exit tls = rejected({"--tls-cert", "c.pem"}, {{"AUTOPROX_TOKEN", "hunter4"}});
    CHECK_FALSE(contains(tls.text, "hunter"));
}

TEST_CASE("the pong timeout is shorter than the ping interval, unless pings are off") {
    const std::string problem =
        "--ws-pong-timeout (AUTOPROX_WS_PONG_TIMEOUT) must be shorter than --ws-ping-interval "
        "(AUTOPROX_WS_PING_INTERVAL)";
    CHECK(rejected({"--ws-pong-timeout", "20"}).text == problem);  // the default interval
    CHECK(rejected({"--ws-ping-interval", "5"}, {{"AUTOPROX_WS_PONG_TIMEOUT", "6"}}).text ==
          problem);
    CHECK(accepted({"--ws-ping-interval", "5", "--ws-pong-timeout", "4.9"}).ws_pong_timeout_s ==
          4.9);
    CHECK(accepted({"--ws-ping-interval", "0", "--ws-pong-timeout", "60"}).ws_ping_interval_s == 0);
    CHECK(accepted({"--ws-pong-timeout", "0"}).ws_pong_timeout_s == 0);
}

TEST_CASE("tls certificate and key come together") {
    const Exit cert_only = rejected({"--tls-cert", "c.pem"});
    CHECK(cert_only.text ==
          "--tls-cert (AUTOPROX_TLS_CERT) needs --tls-key (AUTOPROX_TLS_KEY) as well");
    const Exit key_only = rejected({}, {{"AUTOPROX_TLS_KEY", "k.pem"}});
    CHECK(key_only.text ==
          "--tls-key (AUTOPROX_TLS_KEY) needs --tls-cert (AUTOPROX_TLS_CERT) as well");
    const Options mixed = accepted({"--tls-cert", "c.pem"}, {{"AUTOPROX_TLS_KEY", "k.pem"}});
    CHECK(mixed.tls_cert == "c.pem");
    CHECK(mixed.tls_key == "k.pem");
    const Options neither = accepted({});
    CHECK_FALSE(neither.tls_cert);
    CHECK_FALSE(neither.tls_key);
}

TEST_CASE("log level and format take only their names") {
    CHECK(accepted({"--log-level", "error"}).log_level == LogLevel::error);
    CHECK(accepted({"--log-level", "warn"}).log_level == LogLevel::warn);
    CHECK(accepted({"--log-level", "info"}).log_level == LogLevel::info);
    CHECK(accepted({"--log-format=text"}).log_format == LogFormat::text);
    CHECK(rejected({"--log-level", "warning"}).text ==
          "--log-level: invalid value 'warning' (expected error, warn, info or debug)");
    CHECK(rejected({"--log-format", "JSON"}).text ==
          "--log-format: invalid value 'JSON' (expected text or json)");
    CHECK(rejected({}, {{"AUTOPROX_LOG_LEVEL", "trace"}}).text ==
          "AUTOPROX_LOG_LEVEL: invalid value 'trace' (expected error, warn, info or debug)");
    CHECK(rejected({}, {{"AUTOPROX_LOG_FORMAT", "xml"}}).text ==
          "AUTOPROX_LOG_FORMAT: invalid value 'xml' (expected text or json)");
}

TEST_CASE("echoed values are bounded and printable") {
    const std::string long_value(200, '9');
    const Exit exit = rejected({"--port", long_value});
    CHECK(exit.text ==
          "--port: invalid value '" + std::string(64, '9') + "...' (expected a port 0..65535)");
    CHECK(rejected({"--port", "1\n\x1b[2J\xFF"}).text ==
          "--port: invalid value '1??[2J?' (expected a port 0..65535)");
}

TEST_CASE("help lists every flag with its variable and default on one line") {
    const auto result = parse({"--help"});
    REQUIRE(std::holds_alternative<Exit>(result));
    const Exit exit = std::get<Exit>(result);
    CHECK(exit.code == 0);
    CHECK(exit.text == usage());
    std::istringstream in(exit.text);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    for (const auto& f : kAllFlags) {
        CAPTURE(f.flag);
        int matching = 0;
        for (const auto& line : lines) {
            if (contains(line, "  " + f.flag + " ") && contains(line, f.env)) {
                ++matching;
                CHECK(contains(line, "default"));
            }
        }
        CHECK(matching == 1);
    }
    CHECK(contains(exit.text, "--help"));
    CHECK(contains(exit.text, "--version"));
    CHECK(exit.text.back() != '\n');
}

TEST_CASE("help wins over errors in flags and the environment") {
    for (const Args& args : {Args{"--bogus", "--help"}, Args{"-h"}, Args{"--port", "x", "-h"},
                             Args{"--help", "--version"}}) {
        const auto result = parse(args, {{"AUTOPROX_PORT", "junk"}});
        REQUIRE(std::holds_alternative<Exit>(result));
        CHECK(std::get<Exit>(result).code == 0);
        CHECK(std::get<Exit>(result).text == usage());
    }
}

TEST_CASE("version prints the project version") {
    const auto result = parse({"--version"}, {{"AUTOPROX_PORT", "junk"}});
    REQUIRE(std::holds_alternative<Exit>(result));
    const Exit exit = std::get<Exit>(result);
    CHECK(exit.code == 0);
    CHECK(exit.text == std::string("autoprox ") + AUTOPROX_VERSION);
    CHECK(std::string(kVersion) == AUTOPROX_VERSION);
    CHECK_FALSE(std::string(kVersion).empty());
    CHECK(std::string(kVersion).find('.') != std::string::npos);
}

TEST_CASE("help and version take no value") {
    CHECK(rejected({"--help=yes"}).text == "--help takes no value");
    CHECK(rejected({"--version=1"}).text == "--version takes no value");
}
