#include "raw_udp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace srmudp::bench {

namespace {

constexpr std::size_t kDatagramSize = 1200;
constexpr std::size_t kBatch = 32;  // as srmudp's Asio driver
constexpr int kSocketBuffer = 4 << 20;
constexpr std::size_t kPingSize = 64;
// Upper bounds on loop iterations, so that a stuck clock cannot make a case run forever.
constexpr std::uint64_t kMaxBatches = std::uint64_t{1} << 32;

// A bound, blocking UDP socket on 127.0.0.1 with a receive timeout so loops can see `stop`.
class Socket {
  public:
    Socket() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {}
    ~Socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    // Binds to 127.0.0.1:0 and sets buffers and the receive timeout; errno text on failure.
    std::string open(int timeout_ms) {
        if (fd_ < 0) return std::strerror(errno);
        const timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
            return std::strerror(errno);
        }
        socklen_t len = sizeof address_;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &len);
        return {};
    }

    std::string connect_to(const Socket& peer) {
        const auto* to = reinterpret_cast<const sockaddr*>(&peer.address_);
        if (::connect(fd_, to, sizeof peer.address_) != 0) return std::strerror(errno);
        return {};
    }

    int fd() const { return fd_; }

  private:
    int fd_;
    sockaddr_in address_{};
};

void blast(const Socket& tx, const std::atomic<bool>& stop) {
    std::array<std::uint8_t, kDatagramSize> payload;
    payload.fill(0x5a);
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    for (std::size_t i = 0; i < kBatch; ++i) {
        iov[i] = iovec{payload.data(), payload.size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (std::uint64_t n = 0; n < kMaxBatches && !stop.load(std::memory_order_relaxed); ++n) {
        // Loopback drops what the receiver's buffer cannot take; errors (ECONNREFUSED after
        // the receiver closed) end nothing but this batch.
        ::sendmmsg(tx.fd(), msgs.data(), kBatch, 0);
    }
}

void drain(const Socket& rx, const std::atomic<bool>& stop, std::atomic<std::uint64_t>& bytes) {
    std::vector<std::uint8_t> buffers(kBatch * 2048);
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    for (std::uint64_t n = 0; n < kMaxBatches && !stop.load(std::memory_order_relaxed); ++n) {
        for (std::size_t i = 0; i < kBatch; ++i) {
            iov[i] = iovec{buffers.data() + i * 2048, 2048};
            msgs[i] = mmsghdr{};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int got = ::recvmmsg(rx.fd(), msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
        std::uint64_t sum = 0;
        for (int i = 0; i < got; ++i)
            sum += msgs[static_cast<std::size_t>(i)].msg_len;
        bytes.fetch_add(sum, std::memory_order_relaxed);
    }
}

// Keeps the CPU busy for `d` (the work a transport would do before it sends).
void busy_for(Clock::duration d) {
    if (d <= Clock::duration::zero()) return;
    const Clock::time_point until = Clock::now() + d;
    while (Clock::now() < until) {
    }
}

// Echoes every datagram of kPingSize back to where it came from, after `work`, until `stop`;
// other datagrams (the probe's early ones) are read and dropped.
void echo(const Socket& server, const std::atomic<bool>& stop, Clock::duration work) {
    std::array<std::uint8_t, 2048> buf;
    for (std::uint64_t n = 0; n < kMaxBatches && !stop.load(std::memory_order_relaxed); ++n) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t got = ::recvfrom(server.fd(), buf.data(), buf.size(), 0,
                                       reinterpret_cast<sockaddr*>(&from), &len);
        if (got != static_cast<ssize_t>(kPingSize)) continue;
        busy_for(work);
        ::sendto(server.fd(), buf.data(), static_cast<std::size_t>(got), 0,
                 reinterpret_cast<const sockaddr*>(&from), len);
    }
}

// Opens both sockets and connects `from` to `to`; the error text, or empty.
std::string open_pair(Socket& to, int to_timeout_ms, Socket& from, int from_timeout_ms) {
    if (auto e = to.open(to_timeout_ms); !e.empty()) return e;
    if (auto e = from.open(from_timeout_ms); !e.empty()) return e;
    return from.connect_to(to);
}

}  // namespace

GoodputResult raw_udp_goodput(const Options& options) {
    GoodputResult result("raw-udp", kDatagramSize);
    Socket rx;
    Socket tx;
    result.error = open_pair(rx, 50, tx, 50);
    if (!result.error.empty()) return result;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> bytes{0};
    std::thread receiver([&] { drain(rx, stop, bytes); });
    std::thread sender([&] { blast(tx, stop); });
    name_thread(receiver, "raw-rx", Role::server);
    name_thread(sender, "raw-tx", Role::client);
    const Window w = measure_window(bytes, options.warmup(), options.case_time, &sender, &receiver);
    stop = true;
    sender.join();
    receiver.join();
    result.take(w);
    return result;
}

LatencyResult raw_udp_ping_pong(const Options& options) {
    return raw_udp_ping_pong(options, PingPongShape{}, "raw-udp");
}

LatencyResult raw_udp_ping_pong(const Options& options, const PingPongShape& shape,
                                const std::string& name) {
    LatencyResult result(name);
    Socket server;
    Socket client;
    result.error = open_pair(server, 50, client, 100);
    if (!result.error.empty()) return result;
    std::atomic<bool> stop{false};
    std::thread echo_thread([&] { echo(server, stop, shape.work); });
    name_thread(echo_thread, "raw-echo", Role::server);
    std::vector<double> samples;
    samples.reserve(options.max_round_trips);
    std::array<std::uint8_t, kPingSize> ping;
    ping.fill(0x42);
    std::array<std::uint8_t, 2048> pong;
    const std::uint8_t early = 0x01;
    const Clock::time_point warm_until = Clock::now() + options.warmup();
    const Clock::time_point end = warm_until + options.case_time;
    std::thread client_thread([&] {
        for (Clock::time_point now = Clock::now();
             now < end && samples.size() < options.max_round_trips;) {
            if (shape.early_datagram) ::send(client.fd(), &early, sizeof early, 0);
            busy_for(shape.work);
            ::send(client.fd(), ping.data(), ping.size(), 0);
            const ssize_t got = ::recv(client.fd(), pong.data(), pong.size(), 0);
            const Clock::time_point back = Clock::now();
            if (got != static_cast<ssize_t>(kPingSize)) {
                ++result.lost;
            } else if (now >= warm_until) {
                samples.push_back(to_microseconds(back - now));
            }
            now = back;
        }
    });
    name_thread(client_thread, "raw-ping", Role::client);
    client_thread.join();
    stop = true;
    echo_thread.join();
    result.rtt = percentiles(std::move(samples));
    return result;
}

}  // namespace srmudp::bench
