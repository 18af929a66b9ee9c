// Address and option parsing of srmudp-impair-relay. The loopback rule of the project's test
// network (PRODUCT.md, "Test network rules") is enforced here, before any socket exists.
#include "relay_options.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace srmudp::relay {

const char* const kUsage =
    R"(usage: srmudp-impair-relay --listen HOST:PORT --target HOST:PORT [options]

Forwards UDP datagrams between side A (which sends to --listen) and side B (--target), dropping,
duplicating, delaying and reordering them. Only loopback addresses (127.0.0.0/8, [::1]) are
accepted. Prints "ready listen=ADDR forward=ADDR" once bound.

  --listen HOST:PORT        address side A sends to (port 0: any free port)
  --target HOST:PORT        side B
  --forward-bind HOST:PORT  socket used towards B (default 127.0.0.1:0 or [::1]:0)
  --seed N                  seed of the per-direction decisions (default 1)
  --loss P                  drop probability per datagram, 0..1
  --duplicate P             duplication probability
  --reorder P               probability a datagram is held back by --reorder-delay
  --reorder-delay MS        extra delay of a reordered datagram (default 20)
  --delay MS                one-way delay
  --jitter MS               uniform extra delay in [0, MS]
  --max-queue N             datagrams held at most; more are dropped (default 10000)
  --help                    this text

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

std::optional<Endpoint> make_v4(const std::string& host, std::uint16_t port) {
    Endpoint endpoint;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) != 1) return std::nullopt;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    endpoint.length = sizeof(sockaddr_in);
    return endpoint;
}

std::optional<Endpoint> make_v6(const std::string& host, std::uint16_t port) {
    Endpoint endpoint;
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) != 1) return std::nullopt;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    endpoint.length = sizeof(sockaddr_in6);
    return endpoint;
}

std::uint16_t port_of(const Endpoint& endpoint) {
    if (endpoint.family() == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&endpoint.storage)->sin6_port);
    }
    return ntohs(reinterpret_cast<const sockaddr_in*>(&endpoint.storage)->sin_port);
}

// Matches a command-line flag to the name set_impairment() knows it by.
std::optional<std::string_view> impairment_name(std::string_view flag) {
    for (std::string_view name :
         {"loss", "duplicate", "reorder", "reorder-delay", "delay", "jitter"}) {
        if (flag.size() == name.size() + 2 && flag.substr(2) == name) return name;
    }
    return std::nullopt;
}

// Applies one "--flag value" pair to the options; returns an error message on failure.
std::optional<std::string> apply_option(Options& options, std::string_view flag,
                                        std::string_view value, bool& have_listen,
                                        bool& have_target, bool& have_forward) {
    const auto endpoint_option = [&](Endpoint& out, bool& seen) -> std::optional<std::string> {
        const auto parsed = parse_endpoint(value);
        if (!parsed) return std::string(flag) + ": expected HOST:PORT or [IPV6]:PORT";
        out = *parsed;
        seen = true;
        return std::nullopt;
    };
    if (flag == "--listen") return endpoint_option(options.listen, have_listen);
    if (flag == "--target") return endpoint_option(options.target, have_target);
    if (flag == "--forward-bind") return endpoint_option(options.forward_bind, have_forward);
    if (flag == "--seed") {
        const auto seed = parse_unsigned(value, UINT64_MAX);
        if (!seed) return std::string("--seed: expected an unsigned integer");
        options.seed = *seed;
        return std::nullopt;
    }
    if (flag == "--max-queue") {
        const auto limit = parse_unsigned(value, kMaxQueueLimit);
        if (!limit || *limit == 0) return std::string("--max-queue: expected 1..1000000");
        options.max_queue = static_cast<std::size_t>(*limit);
        return std::nullopt;
    }
    if (const auto name = impairment_name(flag)) {
        if (auto error = set_impairment(options.impairment, *name, value)) {
            return std::string(flag) + ": " + *error;
        }
        return std::nullopt;
    }
    return "unknown option " + std::string(flag);
}

// Cross-checks the complete option set: required addresses, families, the loopback rule.
std::optional<std::string> validate(Options& options, bool have_listen, bool have_target,
                                    bool have_forward) {
    if (!have_listen || !have_target) return std::string("--listen and --target are required");
    if (!have_forward) options.forward_bind = loopback_any_port(options.target.family());
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
    if (port_of(options.target) == 0) {
        return std::string("--target needs a port other than 0");
    }
    return std::nullopt;
}

}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.size() > 64) return std::nullopt;
    const auto port = parse_unsigned(text.substr(colon + 1), 65535);
    if (!port) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed)
        return make_v6(std::string(host.substr(1, host.size() - 2)),
                       static_cast<std::uint16_t>(*port));
    return make_v4(std::string(host), static_cast<std::uint16_t>(*port));
}

Endpoint endpoint_from(const sockaddr_storage& storage, socklen_t length) {
    Endpoint endpoint;
    endpoint.storage = storage;
    endpoint.length = length;
    return endpoint;
}

bool is_loopback(const Endpoint& endpoint) {
    if (endpoint.family() == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&endpoint.storage);
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (endpoint.family() == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&endpoint.storage);
        return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    }
    return false;
}

bool same_endpoint(const Endpoint& a, const Endpoint& b) {
    if (a.family() != b.family()) return false;
    if (a.family() == AF_INET) {
        const auto* x = reinterpret_cast<const sockaddr_in*>(&a.storage);
        const auto* y = reinterpret_cast<const sockaddr_in*>(&b.storage);
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a.family() == AF_INET6) {
        const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.storage);
        const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.storage);
        return x->sin6_port == y->sin6_port &&
               std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(in6_addr)) == 0;
    }
    return false;
}

std::string format_endpoint(const Endpoint& endpoint) {
    char host[INET6_ADDRSTRLEN] = {};
    if (endpoint.family() == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&endpoint.storage);
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
        return std::string(host) + ":" + std::to_string(ntohs(v4->sin_port));
    }
    if (endpoint.family() == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&endpoint.storage);
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(v6->sin6_port));
    }
    return "<unknown address family>";
}

Endpoint loopback_any_port(int family) {
    return *parse_endpoint(family == AF_INET6 ? "[::1]:0" : "127.0.0.1:0");
}

std::optional<std::uint32_t> parse_millis(std::string_view text) {
    const auto ms = parse_unsigned(text, kMaxMillis);
    if (!ms) return std::nullopt;
    return static_cast<std::uint32_t>(*ms);
}

std::optional<std::string> set_impairment(Impairment& impairment, std::string_view name,
                                          std::string_view value) {
    if (name == "loss" || name == "duplicate" || name == "reorder") {
        const auto p = parse_probability(value);
        if (!p) return std::string("expected a probability between 0 and 1");
        double& field = name == "loss"        ? impairment.loss
                        : name == "duplicate" ? impairment.duplicate
                                              : impairment.reorder;
        field = *p;
        return std::nullopt;
    }
    std::uint32_t* millis = name == "delay"           ? &impairment.delay_ms
                            : name == "jitter"        ? &impairment.jitter_ms
                            : name == "reorder-delay" ? &impairment.reorder_delay_ms
                                                      : nullptr;
    if (millis == nullptr) return std::string("unknown command");
    const auto ms = parse_millis(value);
    if (!ms) return "expected milliseconds 0.." + std::to_string(kMaxMillis);
    *millis = *ms;
    return std::nullopt;
}

ParseResult parse_options(int argc, char** argv) {
    ParseResult result;
    bool have_listen = false, have_target = false, have_forward = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            result.status = ParseStatus::help;
            return result;
        }
        // A missing value reads as empty, which every option rejects with its own message.
        const std::string_view value = i + 1 < argc ? argv[++i] : "";
        if (auto error =
                apply_option(result.options, flag, value, have_listen, have_target, have_forward)) {
            result.message = *error;
            return result;
        }
    }
    if (auto error = validate(result.options, have_listen, have_target, have_forward)) {
        result.message = *error;
        return result;
    }
    result.status = ParseStatus::run;
    return result;
}

}  // namespace srmudp::relay
