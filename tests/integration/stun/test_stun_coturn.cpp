// StunClient against a real STUN server: coturn's turnserver (Debian package `coturn`) started on
// 127.0.0.1 for the test, in STUN-only mode with no configuration file, database or TLS. On
// loopback there is no NAT, so the address the server reports must be the socket's own.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "srmudp/random.hpp"
#include "srmudp/stun.hpp"
#include "stun/message.hpp"

using namespace srmudp;

namespace {

constexpr auto kReadinessWindow = std::chrono::seconds(3);
constexpr int kServerAttempts = 2;  // a fresh port if the first one was taken meanwhile
constexpr auto kDiscoveryDeadline = std::chrono::seconds(3);

TimePoint wall_now() {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

std::optional<std::string> find_turnserver() {
    std::vector<std::string> dirs = {"/usr/bin"};
    if (const char* path = std::getenv("PATH")) {
        std::stringstream ss(path);
        for (std::string dir; std::getline(ss, dir, ':');)
            dirs.push_back(dir);
    }
    for (const auto& dir : dirs) {
        const std::string candidate = dir + "/turnserver";
        if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

sockaddr_in to_sockaddr(const PeerAddress& address) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(address.port);
    std::memcpy(&sa.sin_addr, address.ip.data(), 4);
    return sa;
}

PeerAddress from_sockaddr(const sockaddr_in& sa) {
    PeerAddress address;
    address.family = PeerAddress::Family::v4;
    std::memcpy(address.ip.data(), &sa.sin_addr, 4);
    address.port = ntohs(sa.sin_port);
    return address;
}

// A UDP socket bound to 127.0.0.1 on a port the kernel picks.
class UdpSocket {
  public:
    UdpSocket() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        REQUIRE(fd_ >= 0);
        const sockaddr_in sa = to_sockaddr(PeerAddress::v4(127, 0, 0, 1, 0));
        REQUIRE(bind(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0);
    }
    ~UdpSocket() { close(fd_); }
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;

    PeerAddress local_address() const {
        sockaddr_in sa{};
        socklen_t len = sizeof sa;
        REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
        return from_sockaddr(sa);
    }

    void send_to(ByteView datagram, const PeerAddress& to) const {
        const sockaddr_in sa = to_sockaddr(to);
        const auto sent = sendto(fd_, datagram.data(), datagram.size(), 0,
                                 reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
        REQUIRE(sent == static_cast<ssize_t>(datagram.size()));
    }

    // Waits up to timeout for one datagram; its size, or 0 if none came.
    std::size_t receive(std::chrono::milliseconds timeout, MutableByteView buf, PeerAddress& from) {
        pollfd pfd{fd_, POLLIN, 0};
        if (poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return 0;
        sockaddr_in sa{};
        socklen_t len = sizeof sa;
        const auto n =
            recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&sa), &len);
        if (n <= 0) return 0;
        from = from_sockaddr(sa);
        return static_cast<std::size_t>(n);
    }

  private:
    int fd_;
};

std::uint16_t free_udp_port() {
    UdpSocket probe;
    return probe.local_address().port;
}

// A private scratch directory for the server's pid file, database and log; removed afterwards.
class ScratchDir {
  public:
    ScratchDir() {
        char tmpl[] = "/tmp/srmudp-stun-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path_ = tmpl;
    }
    ~ScratchDir() {
        for (const char* name : {"turnserver.pid", "turndb", "turnserver.log"}) {
            unlink((path_ + "/" + name).c_str());
        }
        rmdir(path_.c_str());
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    std::string file(const char* name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

// turnserver running for as long as this object lives; killed on every exit path.
class TurnServer {
  public:
    TurnServer(const std::string& binary, std::uint16_t port, const ScratchDir& scratch)
        : log_path_(scratch.file("turnserver.log")) {
        const std::vector<std::string> args = {binary,
                                               "-n",  // no configuration file
                                               "--stun-only",
                                               "--no-auth",
                                               "--no-cli",
                                               "--no-tls",
                                               "--no-dtls",
                                               "--no-tcp",
                                               "--no-rfc5780",
                                               "--fingerprint",
                                               "--listening-ip",
                                               "127.0.0.1",
                                               "--listening-port",
                                               std::to_string(port),
                                               "--log-file",
                                               "stdout",
                                               "--simple-log",
                                               "--pidfile",
                                               scratch.file("turnserver.pid"),
                                               "--db",
                                               scratch.file("turndb")};
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(log >= 0);
        const pid_t parent = getpid();
        pid_ = fork();
        if (pid_ == 0) {
            // Only async-signal-safe calls between fork and exec. The server dies with the test
            // process even if it is killed before the destructor runs.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(127);
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(log);
        REQUIRE(pid_ > 0);
    }

    ~TurnServer() {
        if (reaped_) return;
        kill(pid_, SIGTERM);
        for (int i = 0; i < 100; ++i) {
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    TurnServer(const TurnServer&) = delete;
    TurnServer& operator=(const TurnServer&) = delete;

    // False once the server has exited (it is then reaped, so its pid is never signalled again).
    bool running() {
        if (!reaped_ && waitpid(pid_, nullptr, WNOHANG) == pid_) reaped_ = true;
        return !reaped_;
    }

    std::string log() const {
        std::ifstream in(log_path_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

  private:
    std::string log_path_;
    pid_t pid_ = -1;
    bool reaped_ = false;
};

// Sends Binding requests every 100 ms until one is answered or the window closes.
bool wait_until_answering(TurnServer& server, const PeerAddress& address) {
    UdpSocket probe;
    const auto give_up = std::chrono::steady_clock::now() + kReadinessWindow;
    std::array<std::uint8_t, 1500> buf{};
    while (std::chrono::steady_clock::now() < give_up && server.running()) {
        stun::TransactionId id{};
        system_random().fill(MutableByteView(id.data(), id.size()));
        probe.send_to(ByteView(stun::encode_binding_request(id)), address);
        PeerAddress from;
        const std::size_t n = probe.receive(std::chrono::milliseconds(100),
                                            MutableByteView(buf.data(), buf.size()), from);
        if (n > 0 && from == address && stun::looks_like_stun(ByteView(buf.data(), n))) return true;
    }
    return false;
}

// Runs a StunClient over socket with a small poll() loop on the wall clock.
void discover(StunClient& client, UdpSocket& socket, const PeerAddress& server) {
    const TimePoint start = wall_now();
    client.start(start, server, start + kDiscoveryDeadline);
    std::array<std::uint8_t, 1500> buf{};
    while (!client.finished()) {
        TimePoint now = wall_now();
        REQUIRE(now < start + kDiscoveryDeadline + seconds(1));  // the client must end by itself
        PeerAddress to;
        while (const std::size_t n =
                   client.poll_transmit(now, MutableByteView(buf.data(), buf.size()), to)) {
            socket.send_to(ByteView(buf.data(), n), to);
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(std::clamp(
            client.next_deadline() - now, Duration::zero(), Duration(milliseconds(100))));
        PeerAddress from;
        const std::size_t n = socket.receive(wait, MutableByteView(buf.data(), buf.size()), from);
        now = wall_now();
        if (n > 0) client.receive(now, from, ByteView(buf.data(), n));
        client.handle_timeout(now);
    }
}

}  // namespace

TEST_CASE("StunClient learns its own address from coturn on loopback", "[stun][coturn]") {
    const auto binary = find_turnserver();
    if (!binary) {
        FAIL(
            "turnserver not found in /usr/bin or PATH: install the Debian package 'coturn' "
            "(scripts/install-deps.sh)");
    }
    ScratchDir scratch;
    for (int attempt = 1; attempt <= kServerAttempts; ++attempt) {
        const PeerAddress server_address = PeerAddress::v4(127, 0, 0, 1, free_udp_port());
        TurnServer server(*binary, server_address.port, scratch);
        if (!wait_until_answering(server, server_address)) {
            INFO("turnserver log:\n" << server.log());
            if (attempt == kServerAttempts)
                FAIL("turnserver did not answer on " << server_address.to_string());
            continue;
        }

        UdpSocket socket;
        StunClient client(system_random());
        discover(client, socket, server_address);
        INFO("turnserver log:\n" << server.log());
        REQUIRE_FALSE(client.result_error());
        REQUIRE(client.mapped_address());
        CHECK(client.mapped_address()->to_string() == socket.local_address().to_string());
        CHECK(*client.mapped_address() == socket.local_address());
        return;
    }
}
