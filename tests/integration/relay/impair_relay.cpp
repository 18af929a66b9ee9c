// srmudp-impair-relay: a bidirectional UDP forwarder between side A (whoever last sent to the
// listen socket) and side B (--target) that drops, duplicates, delays and reorders datagrams,
// in the manner of Linux netem, for tests of srmudp on real loopback sockets.
//
// Every datagram's fate is drawn from a per-direction SplitMix64 stream (five draws per
// datagram, whatever the settings), so datagram n of a direction meets the same fate for the
// same seed. Datagrams wait in one deadline heap bounded by --max-queue and kMaxQueuedBytes;
// a single poll() loop sleeps until the next deadline, a datagram, a stdin line or a signal.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "relay_options.hpp"

namespace srmudp::relay {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// Bytes held in the delay queue at most, whatever --max-queue says.
constexpr std::size_t kMaxQueuedBytes = std::size_t{64} << 20;
// A UDP payload never exceeds this (65535 minus the 8-byte UDP header, IPv6 being the larger).
constexpr std::size_t kMaxDatagram = 65527;
// Datagrams read from one socket per wake-up, so one busy direction cannot starve the others.
constexpr int kReadBurst = 64;
// Longest control line; anything longer is answered with an error and skipped.
constexpr std::size_t kMaxControlLine = 1024;
// Socket buffer asked for, so bursts of a 10,000-message test are not lost in the kernel.
constexpr int kSocketBuffer = 4 << 20;

int g_signal_pipe = -1;  // write end of the self-pipe that turns SIGINT/SIGTERM into a wake-up

// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", 2014).
class Rng {
  public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1) with 53 bits, the same on every platform.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  private:
    std::uint64_t state_;
};

enum Direction : std::size_t { kToTarget = 0, kToClient = 1 };

// Counters of one direction (unsigned long long, the type %llu prints).
struct DirectionStats {
    unsigned long long in = 0, out = 0, lost = 0, blackout = 0, overflow = 0, unsendable = 0;
    unsigned long long duplicated = 0, reordered = 0, queued = 0;
    // Invariant: in + duplicated == out + dropped() + queued.
    unsigned long long dropped() const { return lost + blackout + overflow + unsendable; }
};

// What happens to one datagram; drawn in full before anything else looks at it.
struct Fate {
    bool lost, duplicated, reordered;
    microseconds delay, duplicate_delay;
};

Fate draw_fate(Rng& rng, const Impairment& impairment) {
    const auto jittered = [&](double u) {
        const double ms = impairment.delay_ms + u * impairment.jitter_ms;
        return microseconds(static_cast<std::int64_t>(ms * 1000.0));
    };
    Fate fate{};
    fate.lost = rng.uniform() < impairment.loss;
    fate.duplicated = rng.uniform() < impairment.duplicate;
    fate.reordered = rng.uniform() < impairment.reorder;
    fate.delay = jittered(rng.uniform());
    fate.duplicate_delay = jittered(rng.uniform());
    if (fate.reordered) fate.delay += milliseconds(impairment.reorder_delay_ms);
    return fate;
}

struct Pending {
    Clock::time_point due;
    std::uint64_t order;  // arrival order breaks ties, so equal delays keep FIFO order
    Direction direction;
    std::vector<std::uint8_t> bytes;
};

// Heap order: the earliest deadline on top.
bool later(const Pending& a, const Pending& b) {
    return a.due != b.due ? a.due > b.due : a.order > b.order;
}

class Relay {
  public:
    Relay(const Options& options, int listen_fd, int forward_fd, int signal_fd)
        : options_(options),
          settings_(options.impairment),
          fds_{listen_fd, forward_fd},
          signal_fd_(signal_fd),
          rngs_{Rng(options.seed), Rng(~options.seed)},
          receive_buffer_(kMaxDatagram + 1) {}

    // Forwards until "quit", EOF on stdin or a signal; returns the exit status.
    int run() {
        while (running_) {
            pollfd fds[] = {{fds_[0], POLLIN, 0},
                            {fds_[1], POLLIN, 0},
                            {STDIN_FILENO, POLLIN, 0},
                            {signal_fd_, POLLIN, 0}};
            if (poll(fds, 4, poll_timeout(Clock::now())) < 0 && errno != EINTR) {
                std::perror("srmudp-impair-relay: poll");
                return 1;
            }
            if (fds[3].revents != 0) break;
            if (fds[0].revents != 0) receive(kToTarget);
            if (fds[1].revents != 0) receive(kToClient);
            if (fds[2].revents != 0) read_control();
            send_due(Clock::now());
        }
        return 0;
    }

  private:
    // Milliseconds until the earliest queued datagram is due, rounded up so the loop never spins.
    int poll_timeout(Clock::time_point now) const {
        if (queue_.empty()) return -1;
        const auto wait = queue_.front().due - now;
        if (wait <= Clock::duration::zero()) return 0;
        const auto ms = std::chrono::ceil<milliseconds>(wait).count();
        return static_cast<int>(std::min<std::int64_t>(ms, 60'000));
    }

    // Reads a bounded burst from the socket feeding `direction`.
    void receive(Direction direction) {
        for (int i = 0; i < kReadBurst; ++i) {
            Endpoint source;
            iovec iov{receive_buffer_.data(), receive_buffer_.size()};
            msghdr msg{};
            msg.msg_name = &source.storage;
            msg.msg_namelen = sizeof(source.storage);
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            const ssize_t n = recvmsg(fds_[direction], &msg, MSG_DONTWAIT);
            if (n < 0) return;  // EAGAIN: drained; other errors (ICMP refusals) are not ours
            if ((msg.msg_flags & MSG_TRUNC) != 0) continue;
            source.length = msg.msg_namelen;
            if (direction == kToTarget) {
                client_ = source;
                have_client_ = true;
            } else if (!same_endpoint(source, options_.target)) {
                ++foreign_;
                continue;
            }
            admit(direction, static_cast<std::size_t>(n), Clock::now());
        }
    }

    // Decides the fate of a received datagram and queues what survives.
    void admit(Direction direction, std::size_t size, Clock::time_point now) {
        DirectionStats& stats = stats_[direction];
        ++stats.in;
        const Fate fate = draw_fate(rngs_[direction], settings_);
        if (now < blackout_until_) {
            ++stats.blackout;
            return;
        }
        if (fate.lost) {
            ++stats.lost;
            return;
        }
        if (fate.reordered) ++stats.reordered;
        const std::uint8_t* data = receive_buffer_.data();
        enqueue(direction, std::vector<std::uint8_t>(data, data + size), now + fate.delay);
        if (fate.duplicated) {
            ++stats.duplicated;
            enqueue(direction, std::vector<std::uint8_t>(data, data + size),
                    now + fate.duplicate_delay);
        }
    }

    void enqueue(Direction direction, std::vector<std::uint8_t> bytes, Clock::time_point due) {
        DirectionStats& stats = stats_[direction];
        if (queue_.size() >= options_.max_queue || queued_bytes_ + bytes.size() > kMaxQueuedBytes) {
            ++stats.overflow;
            return;
        }
        queued_bytes_ += bytes.size();
        ++stats.queued;
        queue_.push_back(Pending{due, next_order_++, direction, std::move(bytes)});
        std::push_heap(queue_.begin(), queue_.end(), later);
    }

    // Sends every queued datagram whose deadline has passed, earliest first.
    void send_due(Clock::time_point now) {
        while (!queue_.empty() && queue_.front().due <= now) {
            std::pop_heap(queue_.begin(), queue_.end(), later);
            Pending pending = std::move(queue_.back());
            queue_.pop_back();
            queued_bytes_ -= pending.bytes.size();
            --stats_[pending.direction].queued;
            send(pending, now);
        }
    }

    void send(const Pending& pending, Clock::time_point now) {
        DirectionStats& stats = stats_[pending.direction];
        if (now < blackout_until_) {
            ++stats.blackout;
            return;
        }
        const bool to_target = pending.direction == kToTarget;
        if (!to_target && !have_client_) {
            ++stats.unsendable;
            return;
        }
        const Endpoint& to = to_target ? options_.target : client_;
        // The datagram leaves from the socket the other side knows: forward socket towards B,
        // listen socket towards A.
        const int fd = fds_[to_target ? 1 : 0];
        const ssize_t n = sendto(fd, pending.bytes.data(), pending.bytes.size(), MSG_DONTWAIT,
                                 to.address(), to.length);
        if (n < 0) {
            ++stats.unsendable;  // a full socket buffer drops, like a router queue would
        } else {
            ++stats.out;
        }
    }

    // Reads what stdin has and executes every complete line.
    void read_control() {
        char chunk[512];
        const ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        if (n <= 0) {
            running_ = false;  // EOF or a broken stdin: nobody can control us any more
            return;
        }
        for (ssize_t i = 0; i < n && running_; ++i) {
            if (chunk[i] != '\n') {
                if (control_line_.size() == kMaxControlLine) control_overlong_ = true;
                if (!control_overlong_) control_line_ += chunk[i];
                continue;
            }
            if (control_overlong_) {
                reply("error line too long");
            } else {
                execute(control_line_);
            }
            control_line_.clear();
            control_overlong_ = false;
        }
    }

    // Executes one control line and answers it with "ok" or "error <message>".
    void execute(std::string_view line) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const auto space = line.find(' ');
        const std::string command(line.substr(0, space));
        const std::string_view argument =
            space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
        if ((command == "quit" || command == "stats") && !argument.empty()) {
            reply("error " + command + ": takes no argument");
        } else if (command == "quit") {
            reply("ok");
            running_ = false;
        } else if (command == "stats") {
            reply(stats_json());
            reply("ok");
        } else if (command == "blackout") {
            const auto ms = parse_millis(argument);
            if (ms) blackout_until_ = Clock::now() + milliseconds(*ms);
            reply(ms ? "ok" : "error blackout: expected milliseconds");
        } else if (auto error = set_impairment(settings_, command, argument)) {
            reply("error " + command + ": " + *error);
        } else {
            reply("ok");
        }
    }

    std::string stats_json() const {
        const auto direction = [](const DirectionStats& s) {
            char json[400];
            std::snprintf(json, sizeof(json),
                          R"({"in":%llu,"out":%llu,"dropped":%llu,"lost":%llu,"blackout":%llu,)"
                          R"("overflow":%llu,"unsendable":%llu,"duplicated":%llu,)"
                          R"("reordered":%llu,"queued":%llu})",
                          s.in, s.out, s.dropped(), s.lost, s.blackout, s.overflow, s.unsendable,
                          s.duplicated, s.reordered, s.queued);
            return std::string(json);
        };
        const auto& [a, b] = stats_;
        return R"({"a_to_b":)" + direction(a) + R"(,"b_to_a":)" + direction(b) +
               R"(,"blackout_dropped":)" + std::to_string(a.blackout + b.blackout) +
               R"(,"foreign_dropped":)" + std::to_string(foreign_) + "}";
    }

    static void reply(const std::string& line) {
        std::fputs(line.c_str(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }

    const Options options_;
    Impairment settings_;
    int fds_[2];  // [kToTarget] receives from A (listen), [kToClient] receives from B (forward)
    int signal_fd_;
    Rng rngs_[2];
    DirectionStats stats_[2];
    std::vector<std::uint8_t> receive_buffer_;  // one byte spare, so truncation is visible
    std::vector<Pending> queue_;                // heap ordered by later()
    std::size_t queued_bytes_ = 0;
    std::uint64_t next_order_ = 0;
    unsigned long long foreign_ = 0;
    Endpoint client_;
    bool have_client_ = false;
    Clock::time_point blackout_until_{};
    std::string control_line_;
    bool control_overlong_ = false;
    bool running_ = true;
};

// Opens a non-blocking UDP socket bound to `endpoint`; returns -1 after printing why.
int open_socket(const Endpoint& endpoint, const char* role) {
    const int fd = socket(endpoint.family(), SOCK_DGRAM, 0);
    if (fd < 0) {
        std::fprintf(stderr, "srmudp-impair-relay: %s socket: %s\n", role, std::strerror(errno));
        return -1;
    }
    if (endpoint.family() == AF_INET6) {
        const int on = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    }
    // Best effort: the kernel caps these at rmem_max/wmem_max.
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof(kSocketBuffer));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof(kSocketBuffer));
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || bind(fd, endpoint.address(), endpoint.length) != 0) {
        std::fprintf(stderr, "srmudp-impair-relay: cannot bind %s %s: %s\n", role,
                     format_endpoint(endpoint).c_str(), std::strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

Endpoint local_endpoint(int fd) {
    Endpoint endpoint;
    endpoint.length = sizeof(endpoint.storage);
    getsockname(fd, endpoint.address(), &endpoint.length);
    return endpoint;
}

void on_signal(int) {
    const int saved = errno;
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = write(g_signal_pipe, &byte, 1);
    errno = saved;
}

// Routes SIGINT/SIGTERM into a pipe the poll loop watches; returns its read end or -1.
int install_signal_pipe() {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    for (int fd : fds) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    g_signal_pipe = fds[1];
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a vanished stdout reader must not kill the relay
    return fds[0];
}

int run_relay(const Options& options) {
    const int listen_fd = open_socket(options.listen, "listen");
    if (listen_fd < 0) return 1;
    const int forward_fd = open_socket(options.forward_bind, "forward");
    const int signal_fd = forward_fd < 0 ? -1 : install_signal_pipe();
    if (forward_fd < 0 || signal_fd < 0) {
        close(listen_fd);
        if (forward_fd >= 0) close(forward_fd);
        return 1;
    }
    std::printf("ready listen=%s forward=%s\n", format_endpoint(local_endpoint(listen_fd)).c_str(),
                format_endpoint(local_endpoint(forward_fd)).c_str());
    std::fflush(stdout);
    const int status = Relay(options, listen_fd, forward_fd, signal_fd).run();
    close(listen_fd);
    close(forward_fd);
    return status;
}

}  // namespace
}  // namespace srmudp::relay

int main(int argc, char** argv) {
    using namespace srmudp::relay;
    const ParseResult parsed = parse_options(argc, argv);
    if (parsed.status == ParseStatus::help) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (parsed.status == ParseStatus::invalid) {
        std::fprintf(stderr, "srmudp-impair-relay: %s (see --help)\n", parsed.message.c_str());
        return 2;
    }
    return run_relay(parsed.options);
}
