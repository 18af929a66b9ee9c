#include "options.hpp"

#include <charconv>
#include <string_view>

namespace srmudp::cat {

namespace {

bool parse_seconds(std::string_view text, Duration& out) {
    double value = 0;
    try {
        std::size_t used = 0;
        value = std::stod(std::string(text), &used);
        if (used != text.size() || !(value > 0) || value > 86400.0 * 365) return false;
    } catch (...) {
        return false;
    }
    out = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(value));
    return true;
}

bool parse_port(std::string_view text, std::uint16_t& out) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value > 65535) return false;
    out = static_cast<std::uint16_t>(value);
    return true;
}

ParseResult fail(std::string message) {
    ParseResult r;
    r.exit_code = 2;
    r.message = "srmudp-cat: " + message + "\n(see srmudp-cat --help)";
    return r;
}

}  // namespace

std::string usage() {
    return R"(usage: srmudp-cat --key KEY (--remote HOST:PORT | --listen) [options]

A netcat-like srmudp peer: lines from stdin become messages, messages go to stdout, status and
errors to stderr. Both peers must use the same key.

  --key KEY               the shared key (or set SRMUDP_KEY, which keeps it out of `ps`):
                          64 hex digits are used as 32 bytes; any other text is a passphrase
  --remote HOST:PORT      connect to a peer (symmetric: the peer may connect to us at the same
                          time, as hole punching needs); IPv6 as [ADDR]:PORT
  --remote -              read the peer's HOST:PORT from the first line of stdin (after --stun
                          has printed our public address, for exchanging addresses by hand)
  --listen                accept one peer that proves the key; exit when it has closed
  --keep-listening        with --listen: serve the next peer after one has closed
  --local-port PORT       local UDP port (default: any)
  --bind ADDRESS          local address (default 0.0.0.0; "::" for IPv6 and IPv4)
  --connect-timeout SECS  give up connecting after this long (default 30)
  --linger SECS           after stdin ends (and once connected), wait this long for the peer to
                          acknowledge everything before giving up (default 60)
  --stun HOST:PORT        first ask this STUN server for our public address and print it
  --stun-timeout SECS     (default 5)
  --binary                stdin is read in chunks of up to 64 KiB sent as binary messages, and
                          messages are written to stdout as raw bytes without newlines
  --quiet                 no status lines on stderr (errors are still printed)
  --help                  this text

Exit status: 0 when every message sent was acknowledged by the peer, 1 when the connection could
not be made or a message failed, 2 for a usage error.
)";
}

ParseResult parse_options(int argc, char** argv, const char* key_from_env) {
    Options o;
    if (key_from_env) o.key = key_from_env;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&](std::string_view& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        std::string_view v;
        if (arg == "--help" || arg == "-h") {
            ParseResult r;
            r.message = usage();
            return r;
        } else if (arg == "--listen") {
            o.listen = true;
        } else if (arg == "--keep-listening") {
            o.keep_listening = true;
        } else if (arg == "--binary") {
            o.binary = true;
        } else if (arg == "--quiet") {
            o.quiet = true;
        } else if (!value(v)) {
            return fail(arg.substr(0, 2) == "--"
                            ? "option " + std::string(arg) + " needs a value"
                            : "unexpected argument '" + std::string(arg) + "'");
        } else if (arg == "--key") {
            o.key = std::string(v);
        } else if (arg == "--remote" && v == "-") {
            o.remote_from_stdin = true;
        } else if (arg == "--remote") {
            o.remote = PeerAddress::parse(v);
            if (!o.remote || o.remote->port == 0) {
                return fail("--remote needs IP:PORT or [IPv6]:PORT with a port from 1 to 65535");
            }
        } else if (arg == "--local-port") {
            if (!parse_port(v, o.local_port)) return fail("--local-port needs a number 0..65535");
        } else if (arg == "--bind") {
            if (!PeerAddress::from_ip(v, 0)) return fail("--bind needs an IP address literal");
            o.bind_address = std::string(v);
        } else if (arg == "--connect-timeout") {
            if (!parse_seconds(v, o.connect_timeout))
                return fail("--connect-timeout needs seconds > 0");
        } else if (arg == "--linger") {
            if (!parse_seconds(v, o.linger)) return fail("--linger needs seconds > 0");
        } else if (arg == "--stun") {
            o.stun_server = PeerAddress::parse(v);
            if (!o.stun_server || o.stun_server->port == 0) return fail("--stun needs IP:PORT");
        } else if (arg == "--stun-timeout") {
            if (!parse_seconds(v, o.stun_timeout)) return fail("--stun-timeout needs seconds > 0");
        } else {
            return fail("unknown option '" + std::string(arg) + "'");
        }
    }
    if (o.key.empty()) return fail("a key is required: --key KEY or SRMUDP_KEY");
    if (o.listen == (o.remote.has_value() || o.remote_from_stdin)) {
        return fail("give exactly one of --remote and --listen");
    }
    if (o.keep_listening && !o.listen) return fail("--keep-listening needs --listen");
    ParseResult r;
    r.options = std::move(o);
    return r;
}

}  // namespace srmudp::cat
