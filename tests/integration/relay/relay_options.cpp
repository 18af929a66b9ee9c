// Address and option parsing of srmudp-impair-relay. The loopback rule of the project's test
// network (PRODUCT.md, "Test network rules") is enforced here, before any socket exists.
#include "relay_options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace srmudp::relay {

const char* const kUsage =
    R"(usage: srmudp-impair-relay --listen HOST:PORT --target HOST:PORT [options]

Forwards UDP datagrams between side A (which sends to --listen) and side B (--target), dropping,
duplicating, delaying and reordering them. Loopback addresses only (127.0.0.0/8, [::1]).
Prints "ready listen=ADDR forward=ADDR" once bound.

  --forward-bind HOST:PORT  socket used towards B (default 127.0.0.1:0 or [::1]:0)
  --seed N                  seed of the per-direction decisions (default 1)
  --loss P, --duplicate P   drop / duplication probability per datagram, 0..1
  --reorder P               probability a datagram is held back by --reorder-delay
  --reorder-delay MS        extra delay of a reordered datagram (default 20)
  --delay MS, --jitter MS   one-way delay, plus a uniform extra delay in [0, jitter]
  --max-queue N             datagrams held at most; more are dropped (default 10000)

stdin, one command per line, each answered "ok" or "error <message>":
  blackout MS | loss P | duplicate P | reorder P | reorder-delay MS | delay MS | jitter MS
  stats (one JSON line, then ok) | quit (EOF on stdin also quits)
)";

namespace {

std::optional<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t max) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (max - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

std::optional<double> parse_probability(std::string_view text) {
    if (text.empty() || text.size() > 32) return std::nullopt;
    const std::string copy(text);
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(copy.c_str(), &end);
    if (errno != 0 || end != copy.c_str() + copy.size()) return std::nullopt;
    if (!std::isfinite(value) || value < 0.0 || value > 1.0) return std::nullopt;
    return value;
}

bool is_impairment(std::string_view name) {
    for (std::string_view known :
         {"loss", "duplicate", "reorder", "reorder-delay", "delay", "jitter"}) {
        if (name == known) return true;
    }
    return false;
}

// Applies one "--flag value" pair to the options; returns an error message on failure.
std::optional<std::string> apply_option(Options& options, std::string_view flag,
                                        std::string_view value) {
    const std::string name(flag);
    Endpoint* endpoint = flag == "--listen"         ? &options.listen
                         : flag == "--target"       ? &options.target
                         : flag == "--forward-bind" ? &options.forward_bind
                                                    : nullptr;
    if (endpoint != nullptr) {
        const auto parsed = parse_endpoint(value);
        if (!parsed) return name + ": expected HOST:PORT or [IPV6]:PORT";
        *endpoint = *parsed;
    } else if (flag == "--seed") {
        const auto seed = parse_unsigned(value, UINT64_MAX);
        if (!seed) return name + ": expected an unsigned 64-bit integer";
        options.seed = *seed;
    } else if (flag == "--max-queue") {
        const auto limit = parse_unsigned(value, kMaxQueueLimit);
        if (!limit || *limit == 0) return name + ": expected 1.." + std::to_string(kMaxQueueLimit);
        options.max_queue = static_cast<std::size_t>(*limit);
    } else if (flag.rfind("--", 0) == 0 && is_impairment(flag.substr(2))) {
        if (auto error = set_impairment(options.impairment, flag.substr(2), value)) {
            return name + ": " + *error;
        }
    } else {
        return "unknown option " + std::string(flag);
    }
    return std::nullopt;
}

// Cross-checks the complete option set: required addresses, the loopback rule, families.
std::optional<std::string> validate(Options& options) {
    if (options.listen.length == 0 || options.target.length == 0) {
        return std::string("--listen and --target are required");
    }
    if (options.forward_bind.length == 0) {
        options.forward_bind =
            *parse_endpoint(options.target.family() == AF_INET6 ? "[::1]:0" : "127.0.0.1:0");
    }
    const std::pair<const char*, const Endpoint*> named[] = {
        {"--listen", &options.listen},
        {"--target", &options.target},
        {"--forward-bind", &options.forward_bind}};
    for (const auto& [flag, endpoint] : named) {
        if (!is_loopback(*endpoint)) {
            return std::string("refusing ") + flag + " " + format_endpoint(*endpoint) +
                   ": only loopback addresses (127.0.0.0/8, ::1) are allowed";
        }
    }
    if (options.forward_bind.family() != options.target.family()) {
        return std::string("--forward-bind and --target must be of the same address family");
    }
    if (options.target.port() == 0) return std::string("--target needs a port other than 0");
    return std::nullopt;
}

}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.size() > 64) return std::nullopt;
    const auto port = parse_unsigned(text.substr(colon + 1), 65535);
    if (!port) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    const bool v6 = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (v6) host = host.substr(1, host.size() - 2);
    const std::string host_text(host);
    const auto port16 = htons(static_cast<std::uint16_t>(*port));
    Endpoint endpoint;
    if (v6) {
        auto& in6 = reinterpret_cast<sockaddr_in6&>(endpoint.storage);
        if (inet_pton(AF_INET6, host_text.c_str(), &in6.sin6_addr) != 1) return std::nullopt;
        in6.sin6_family = AF_INET6;
        in6.sin6_port = port16;
        endpoint.length = sizeof(in6);
    } else {
        auto& in4 = reinterpret_cast<sockaddr_in&>(endpoint.storage);
        if (inet_pton(AF_INET, host_text.c_str(), &in4.sin_addr) != 1) return std::nullopt;
        in4.sin_family = AF_INET;
        in4.sin_port = port16;
        endpoint.length = sizeof(in4);
    }
    return endpoint;
}

bool is_loopback(const Endpoint& endpoint) {
    if (endpoint.family() == AF_INET) return (ntohl(endpoint.v4().sin_addr.s_addr) >> 24) == 127;
    return endpoint.family() == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&endpoint.v6().sin6_addr);
}

bool same_endpoint(const Endpoint& a, const Endpoint& b) {
    if (a.family() != b.family() || a.port() != b.port()) return false;
    if (a.family() == AF_INET) return a.v4().sin_addr.s_addr == b.v4().sin_addr.s_addr;
    return a.family() == AF_INET6 &&
           std::memcmp(&a.v6().sin6_addr, &b.v6().sin6_addr, sizeof(in6_addr)) == 0;
}

std::string format_endpoint(const Endpoint& endpoint) {
    char host[INET6_ADDRSTRLEN] = {};
    if (endpoint.family() == AF_INET) {
        inet_ntop(AF_INET, &endpoint.v4().sin_addr, host, sizeof(host));
        return std::string(host) + ":" + std::to_string(endpoint.port());
    }
    if (endpoint.family() == AF_INET6) {
        inet_ntop(AF_INET6, &endpoint.v6().sin6_addr, host, sizeof(host));
        return "[" + std::string(host) + "]:" + std::to_string(endpoint.port());
    }
    return "<no address>";
}

std::optional<std::uint32_t> parse_millis(std::string_view text) {
    const auto ms = parse_unsigned(text, kMaxMillis);
    if (!ms) return std::nullopt;
    return static_cast<std::uint32_t>(*ms);
}

std::optional<std::string> set_impairment(Impairment& impairment, std::string_view name,
                                          std::string_view value) {
    double* probability = name == "loss"        ? &impairment.loss
                          : name == "duplicate" ? &impairment.duplicate
                          : name == "reorder"   ? &impairment.reorder
                                                : nullptr;
    std::uint32_t* millis = name == "delay"           ? &impairment.delay_ms
                            : name == "jitter"        ? &impairment.jitter_ms
                            : name == "reorder-delay" ? &impairment.reorder_delay_ms
                                                      : nullptr;
    if (probability != nullptr) {
        const auto p = parse_probability(value);
        if (!p) return std::string("expected a probability between 0 and 1");
        *probability = *p;
    } else if (millis != nullptr) {
        const auto ms = parse_millis(value);
        if (!ms) return "expected milliseconds 0.." + std::to_string(kMaxMillis);
        *millis = *ms;
    } else {
        return std::string("unknown command");
    }
    return std::nullopt;
}

ParseResult parse_options(int argc, char** argv) {
    ParseResult result;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            result.status = ParseStatus::help;
            return result;
        }
        // A missing value reads as empty, which every option rejects with its own message.
        const std::string_view value = i + 1 < argc ? argv[++i] : "";
        if (auto error = apply_option(result.options, flag, value)) {
            result.message = *error;
            return result;
        }
    }
    if (auto error = validate(result.options)) {
        result.message = *error;
        return result;
    }
    result.status = ParseStatus::run;
    return result;
}

}  // namespace srmudp::relay
