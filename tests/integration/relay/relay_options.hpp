// Settings of srmudp-impair-relay and the parsers that fill them: socket addresses (loopback
// only), command-line options and the impairments changed live from stdin. Kept apart from the
// socket loop so every accepted value and its range is decided in one place.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace srmudp::relay {

// Longest delay, jitter or blackout accepted, so a typo cannot park datagrams for days.
inline constexpr std::uint32_t kMaxMillis = 3'600'000;
// Upper bound of --max-queue.
inline constexpr std::size_t kMaxQueueLimit = 1'000'000;

// A numeric IPv4 or IPv6 socket address; length 0 means "none".
struct Endpoint {
    sockaddr_storage storage{};
    socklen_t length = 0;

    int family() const { return storage.ss_family; }
    const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&storage); }
    sockaddr* address() { return reinterpret_cast<sockaddr*>(&storage); }
    const sockaddr_in& v4() const { return *reinterpret_cast<const sockaddr_in*>(&storage); }
    const sockaddr_in6& v6() const { return *reinterpret_cast<const sockaddr_in6*>(&storage); }
    std::uint16_t port() const {
        return ntohs(family() == AF_INET6 ? v6().sin6_port : v4().sin_port);
    }
};

// Parses "A.B.C.D:PORT" or "[IPv6]:PORT"; hosts must be numeric, PORT 0..65535.
std::optional<Endpoint> parse_endpoint(std::string_view text);
// True only for 127.0.0.0/8 and ::1, the only addresses this relay may bind or send to.
bool is_loopback(const Endpoint& endpoint);
// Same family, address and port (IPv6 flow label and scope are ignored).
bool same_endpoint(const Endpoint& a, const Endpoint& b);
// "127.0.0.1:4000" or "[::1]:4000".
std::string format_endpoint(const Endpoint& endpoint);

// The impairments, applied per datagram and per direction.
struct Impairment {
    double loss = 0.0;                    // probability a datagram is dropped
    double duplicate = 0.0;               // probability a second copy is sent
    double reorder = 0.0;                 // probability a datagram is held back reorder_delay_ms
    std::uint32_t delay_ms = 0;           // fixed one-way delay
    std::uint32_t jitter_ms = 0;          // uniform extra delay in [0, jitter_ms]
    std::uint32_t reorder_delay_ms = 20;  // extra delay of a reordered datagram
};

// Parses a whole number of milliseconds in 0..kMaxMillis.
std::optional<std::uint32_t> parse_millis(std::string_view text);
// Sets one impairment by name ("loss", "duplicate", "reorder", "delay", "jitter",
// "reorder-delay") from its text value. Returns an error message, or nothing on success.
std::optional<std::string> set_impairment(Impairment& impairment, std::string_view name,
                                          std::string_view value);

struct Options {
    Endpoint listen;
    Endpoint target;
    Endpoint forward_bind;  // defaults to the loopback address of the target's family, port 0
    std::uint64_t seed = 1;
    std::size_t max_queue = 10'000;
    Impairment impairment;
};

enum class ParseStatus { run, help, invalid };

struct ParseResult {
    ParseStatus status = ParseStatus::invalid;
    Options options;
    std::string message;  // why the arguments were rejected
};

// Parses the command line. Rejects unknown options, missing values, out-of-range numbers, a
// missing --listen/--target, mixed address families and any address that is not loopback.
ParseResult parse_options(int argc, char** argv);

// The --help text.
extern const char* const kUsage;

}  // namespace srmudp::relay
