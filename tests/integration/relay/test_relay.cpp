// Integration tests of srmudp-impair-relay: the real binary as a child process, driven through
// its stdin/stdout, between two plain UDP sockets on loopback (A sends to the relay's listen
// address, B is the target).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "relay_options.hpp"

extern char** environ;

namespace {

using srmudp::relay::Endpoint;
using srmudp::relay::format_endpoint;
using srmudp::relay::parse_endpoint;
using srmudp::relay::same_endpoint;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;
using std::chrono::milliseconds;

constexpr milliseconds kPatience{2000};  // how long anything that must happen may take

class Fd {
  public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        reset();
        fd_ = std::exchange(other.fd_, -1);
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) close(fd_);
        fd_ = -1;
    }

  private:
    int fd_;
};

// Waits until fd is readable; false on timeout.
bool wait_readable(int fd, milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

// A child process with stdin, stdout and stderr on pipes; killed and reaped on every exit path.
class ChildProcess {
  public:
    explicit ChildProcess(std::vector<std::string> args) {
        std::signal(SIGPIPE, SIG_IGN);  // a dead child must fail a test, not kill the runner
        int in[2], out[2], err[2];
        REQUIRE(pipe(in) == 0);
        REQUIRE(pipe(out) == 0);
        REQUIRE(pipe(err) == 0);
        for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]})
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        stdin_ = Fd(in[1]), stdout_ = Fd(out[0]), stderr_ = Fd(err[0]);
        Fd child_ends[] = {Fd(in[0]), Fd(out[1]), Fd(err[1])};
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        for (int i = 0; i < 3; ++i)
            posix_spawn_file_actions_adddup2(&actions, child_ends[i].get(), i);
        std::vector<char*> argv;
        for (auto& arg : args)
            argv.push_back(arg.data());
        argv.push_back(nullptr);
        const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() {
        if (pid_ > 0 && status_ < 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }

    void write_line(const std::string& line) {
        const std::string data = line + "\n";
        REQUIRE(write(stdin_.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    }
    void close_stdin() { stdin_.reset(); }
    void signal(int number) { kill(pid_, number); }

    // The next line of the child's stdout, or nothing on timeout or EOF.
    std::optional<std::string> read_line(milliseconds timeout = kPatience) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto newline = stdout_buffer_.find('\n');
            if (newline != std::string::npos) {
                std::string line = stdout_buffer_.substr(0, newline);
                stdout_buffer_.erase(0, newline + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
            if (left.count() <= 0 || !wait_readable(stdout_.get(), left)) return std::nullopt;
            char chunk[4096];
            const ssize_t n = read(stdout_.get(), chunk, sizeof(chunk));
            if (n <= 0) return std::nullopt;
            stdout_buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    // Exit status once the child ended (128 + signal number if killed), -1 on timeout.
    int wait_exit(milliseconds timeout = kPatience) {
        const auto deadline = Clock::now() + timeout;
        while (status_ < 0 && Clock::now() < deadline) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            } else {
                std::this_thread::sleep_for(milliseconds(5));
            }
        }
        return status_;
    }

    // Everything the child wrote to stderr; call after it exited.
    std::string read_stderr() {
        std::string text;
        char chunk[4096];
        while (wait_readable(stderr_.get(), milliseconds(0))) {
            const ssize_t n = read(stderr_.get(), chunk, sizeof(chunk));
            if (n <= 0) break;
            text.append(chunk, static_cast<std::size_t>(n));
        }
        return text;
    }
    std::string unread_stdout() const { return stdout_buffer_; }

  private:
    pid_t pid_ = -1;
    Fd stdin_, stdout_, stderr_;
    std::string stdout_buffer_;
    int status_ = -1;
};

struct Datagram {
    Bytes bytes;
    Endpoint from;
};

// A plain UDP socket bound to a loopback address, standing in for side A or B.
class UdpSocket {
  public:
    explicit UdpSocket(const char* bind_to = "127.0.0.1:0") {
        const auto local = parse_endpoint(bind_to);
        REQUIRE(local);
        fd_ = Fd(socket(local->family(), SOCK_DGRAM, 0));
        REQUIRE(fd_.get() >= 0);
        const int buffer = 1 << 20;
        setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
        REQUIRE(bind(fd_.get(), local->address(), local->length) == 0);
    }

    Endpoint local() const {
        Endpoint endpoint;
        endpoint.length = sizeof(endpoint.storage);
        getsockname(fd_.get(), endpoint.address(), &endpoint.length);
        return endpoint;
    }

    void send_to(const Endpoint& to, const Bytes& bytes) const {
        REQUIRE(sendto(fd_.get(), bytes.data(), bytes.size(), 0, to.address(), to.length) ==
                static_cast<ssize_t>(bytes.size()));
    }

    std::optional<Datagram> receive(milliseconds timeout = kPatience) const {
        if (!wait_readable(fd_.get(), timeout)) return std::nullopt;
        Datagram datagram{Bytes(65536), {}};
        datagram.from.length = sizeof(datagram.from.storage);
        const ssize_t n = recvfrom(fd_.get(), datagram.bytes.data(), datagram.bytes.size(), 0,
                                   datagram.from.address(), &datagram.from.length);
        REQUIRE(n >= 0);
        datagram.bytes.resize(static_cast<std::size_t>(n));
        return datagram;
    }

  private:
    Fd fd_;
};

// The value of "key" inside the JSON object "section" of a stats line ("" for the top level).
std::uint64_t counter(const std::string& json, const std::string& section, const std::string& key) {
    std::size_t at = 0;
    if (!section.empty()) at = json.find("\"" + section + "\":{");
    REQUIRE(at != std::string::npos);
    at = json.find("\"" + key + "\":", at);
    REQUIRE(at != std::string::npos);
    return std::stoull(json.substr(at + key.size() + 3));
}

// The relay under test, started with its ready line read and parsed.
class Relay {
  public:
    explicit Relay(std::vector<std::string> args) : process_(with_path(std::move(args))) {
        const auto ready = process_.read_line();
        REQUIRE(ready);
        const auto listen_at = ready->find(" listen=");
        const auto forward_at = ready->find(" forward=");
        REQUIRE(ready->rfind("ready", 0) == 0);
        REQUIRE(forward_at != std::string::npos);
        const auto listen =
            parse_endpoint(ready->substr(listen_at + 8, forward_at - listen_at - 8));
        const auto forward = parse_endpoint(ready->substr(forward_at + 9));
        REQUIRE(listen);
        REQUIRE(forward);
        listen_ = *listen, forward_ = *forward;
    }

    const Endpoint& listen() const { return listen_; }
    const Endpoint& forward() const { return forward_; }
    ChildProcess& process() { return process_; }

    // Sends a control line and returns the answer ("ok" or "error ...").
    std::string command(const std::string& line) {
        process_.write_line(line);
        const auto reply = process_.read_line();
        REQUIRE(reply);
        return *reply;
    }

    // The stats JSON line, after checking that no datagram went unaccounted for.
    std::string stats() {
        process_.write_line("stats");
        const auto json = process_.read_line();
        REQUIRE(json);
        REQUIRE(process_.read_line().value_or("") == "ok");
        for (const char* dir : {"a_to_b", "b_to_a"}) {
            INFO(*json);
            CHECK(counter(*json, dir, "in") + counter(*json, dir, "duplicated") ==
                  counter(*json, dir, "out") + counter(*json, dir, "dropped") +
                      counter(*json, dir, "queued"));
        }
        return *json;
    }

    // Waits until the relay has read `count` datagrams from A.
    void await_received_from_a(std::uint64_t count) {
        const auto deadline = Clock::now() + kPatience;
        while (counter(stats(), "a_to_b", "in") < count) {
            REQUIRE(Clock::now() < deadline);
            std::this_thread::sleep_for(milliseconds(1));
        }
    }

  private:
    static std::vector<std::string> with_path(std::vector<std::string> args) {
        args.insert(args.begin(), SRMUDP_IMPAIR_RELAY_PATH);
        return args;
    }

    ChildProcess process_;
    Endpoint listen_, forward_;
};

Bytes pattern(std::size_t size, std::uint8_t salt) {
    Bytes bytes(size);
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<std::uint8_t>(i * 31 + salt);
    return bytes;
}

Bytes numbered(std::uint32_t id) {
    return {static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
            static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
}

std::uint32_t number_of(const Bytes& bytes) {
    REQUIRE(bytes.size() == 4);
    return std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 |
           std::uint32_t{bytes[2]} << 8 | bytes[3];
}

std::vector<std::string> args_for(const UdpSocket& b, std::vector<std::string> more = {}) {
    const bool v6 = b.local().family() == AF_INET6;
    std::vector<std::string> args = {"--listen", v6 ? "[::1]:0" : "127.0.0.1:0", "--target",
                                     format_endpoint(b.local())};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// A -> relay -> B and back, checking bytes and the addresses each side sees.
void check_round_trip(Relay& relay, const UdpSocket& a, const UdpSocket& b, const Bytes& bytes) {
    a.send_to(relay.listen(), bytes);
    const auto at_b = b.receive();
    REQUIRE(at_b);
    CHECK(at_b->bytes == bytes);
    CHECK(same_endpoint(at_b->from, relay.forward()));
    Bytes answer(bytes.rbegin(), bytes.rend());  // same size: 65507 bytes must fit both ways
    for (auto& byte : answer)
        byte ^= 0xA5;
    b.send_to(at_b->from, answer);
    const auto at_a = a.receive();
    REQUIRE(at_a);
    CHECK(at_a->bytes == answer);
    CHECK(same_endpoint(at_a->from, relay.listen()));
}

// Sends `count` numbered datagrams A -> B in batches, keeping pace with the relay so no socket
// buffer overflows, and returns the numbers B received in arrival order.
std::vector<std::uint32_t> pump(Relay& relay, const UdpSocket& a, const UdpSocket& b,
                                std::uint32_t count) {
    std::vector<std::uint32_t> received;
    const auto drain = [&] {
        while (auto d = b.receive(milliseconds(0)))
            received.push_back(number_of(d->bytes));
    };
    for (std::uint32_t id = 0; id < count; ++id) {
        a.send_to(relay.listen(), numbered(id));
        if ((id + 1) % 50 == 0 || id + 1 == count) {
            relay.await_received_from_a(id + 1);
            drain();
        }
    }
    const auto out = counter(relay.stats(), "a_to_b", "out");
    const auto deadline = Clock::now() + kPatience;
    while (received.size() < out && Clock::now() < deadline) {
        if (auto d = b.receive(milliseconds(50))) received.push_back(number_of(d->bytes));
    }
    CHECK(received.size() == out);
    return received;
}

}  // namespace

TEST_CASE("relay forwards datagrams both ways byte-exact") {
    UdpSocket a, b;
    Relay relay(args_for(b));
    CHECK(format_endpoint(relay.listen()).rfind("127.0.0.1:", 0) == 0);
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{1200}, std::size_t{65507}}) {
        INFO(size);
        check_round_trip(relay, a, b, pattern(size, static_cast<std::uint8_t>(size)));
    }
    const auto json = relay.stats();
    CHECK(counter(json, "a_to_b", "out") == 4);
    CHECK(counter(json, "b_to_a", "out") == 4);
    CHECK(counter(json, "a_to_b", "dropped") == 0);
}

TEST_CASE("relay answers A at its latest address and drops strangers on the forward socket") {
    UdpSocket a, b, a_moved, stranger;
    Relay relay(args_for(b));
    check_round_trip(relay, a, b, pattern(10, 1));
    check_round_trip(relay, a_moved, b, pattern(10, 2));

    a.send_to(relay.listen(), pattern(3, 3));  // A is back at its first address
    REQUIRE(b.receive());
    stranger.send_to(relay.forward(), pattern(5, 4));
    b.send_to(relay.forward(), pattern(6, 5));
    const auto at_a = a.receive();
    REQUIRE(at_a);
    CHECK(at_a->bytes == pattern(6, 5));  // the stranger's datagram, sent first, never came
    CHECK_FALSE(a_moved.receive(milliseconds(0)));
    CHECK(counter(relay.stats(), "", "foreign_dropped") == 1);
}

TEST_CASE("relay drops 30% of 2000 datagrams - the same ones for the same seed") {
    UdpSocket a, b;
    std::vector<std::vector<std::uint32_t>> runs;
    for (const char* seed : {"7", "7", "8"}) {
        Relay relay(args_for(b, {"--loss", "0.3", "--seed", seed}));
        runs.push_back(pump(relay, a, b, 2000));
        const auto json = relay.stats();
        CHECK(counter(json, "a_to_b", "in") == 2000);
        // Expected 600 lost, standard deviation 20.5: the band is about five deviations wide.
        CHECK(counter(json, "a_to_b", "lost") >= 500);
        CHECK(counter(json, "a_to_b", "lost") <= 700);
        CHECK(counter(json, "a_to_b", "dropped") == counter(json, "a_to_b", "lost"));
        CHECK(std::is_sorted(runs.back().begin(), runs.back().end()));
    }
    CHECK(runs[0] == runs[1]);
    CHECK(runs[0] != runs[2]);
}

TEST_CASE("relay blackout drops everything both ways - then traffic flows again") {
    UdpSocket a, b;
    Relay relay(args_for(b));
    check_round_trip(relay, a, b, pattern(8, 1));

    REQUIRE(relay.command("delay 200") == "ok");
    a.send_to(relay.listen(), pattern(8, 2));  // still queued when the blackout begins
    relay.await_received_from_a(2);
    REQUIRE(relay.command("blackout 1000") == "ok");
    const auto blackout_answered = Clock::now();  // the blackout ends at most 1 s after this
    REQUIRE(relay.command("delay 0") == "ok");
    for (std::uint8_t i = 0; i < 5; ++i) {
        a.send_to(relay.listen(), pattern(8, 10));
        b.send_to(relay.forward(), pattern(8, 20));
    }
    std::this_thread::sleep_until(blackout_answered + milliseconds(1020));

    check_round_trip(relay, a, b, pattern(8, 30));  // the first to arrive on either side
    const auto json = relay.stats();
    CHECK(counter(json, "", "blackout_dropped") == 11);
    CHECK(counter(json, "a_to_b", "blackout") == 6);
    CHECK(counter(json, "b_to_a", "blackout") == 5);
    CHECK(relay.command("blackout x").rfind("error", 0) == 0);
}

TEST_CASE("relay delays each datagram at least the set delay - changeable live") {
    UdpSocket a, b;
    Relay relay(args_for(b, {"--delay", "150"}));
    const auto one_way = [&](const UdpSocket& from, const Endpoint& to, const UdpSocket& at) {
        const auto sent = Clock::now();
        from.send_to(to, pattern(16, 0));
        REQUIRE(at.receive());
        return std::chrono::duration_cast<milliseconds>(Clock::now() - sent);
    };
    for (int i = 0; i < 3; ++i) {
        CHECK(one_way(a, relay.listen(), b) >= milliseconds(150));
        CHECK(one_way(b, relay.forward(), a) >= milliseconds(150));
    }
    REQUIRE(relay.command("delay 40") == "ok");
    REQUIRE(relay.command("jitter 30") == "ok");
    const auto measured = one_way(a, relay.listen(), b);
    CHECK(measured >= milliseconds(40));
    CHECK(measured < milliseconds(150));
}

TEST_CASE("relay duplicates and reorders on request") {
    UdpSocket a, b;
    Relay relay(args_for(b, {"--duplicate", "1"}));
    const auto received = pump(relay, a, b, 100);
    CHECK(received.size() == 200);
    CHECK(counter(relay.stats(), "a_to_b", "duplicated") == 100);

    REQUIRE(relay.command("duplicate 0") == "ok");
    REQUIRE(relay.command("reorder 0.5") == "ok");
    REQUIRE(relay.command("reorder-delay 100") == "ok");
    for (std::uint32_t id = 0; id < 100; ++id)
        a.send_to(relay.listen(), numbered(id));
    std::vector<std::uint32_t> order;
    while (order.size() < 100) {
        const auto d = b.receive();
        REQUIRE(d);
        order.push_back(number_of(d->bytes));
    }
    CHECK_FALSE(std::is_sorted(order.begin(), order.end()));
    CHECK(std::set<std::uint32_t>(order.begin(), order.end()).size() == 100);
    const auto reordered = counter(relay.stats(), "a_to_b", "reordered");
    CHECK(reordered >= 25);
    CHECK(reordered <= 75);
}

TEST_CASE("relay holds at most --max-queue datagrams") {
    UdpSocket a, b;
    Relay relay(args_for(b, {"--delay", "300", "--max-queue", "10"}));
    for (std::uint32_t id = 0; id < 30; ++id)
        a.send_to(relay.listen(), numbered(id));
    relay.await_received_from_a(30);
    const auto json = relay.stats();
    CHECK(counter(json, "a_to_b", "overflow") == 20);
    CHECK(counter(json, "a_to_b", "queued") == 10);
    for (std::uint32_t id = 0; id < 10; ++id) {
        const auto d = b.receive();
        REQUIRE(d);
        CHECK(number_of(d->bytes) == id);
    }
}

TEST_CASE("relay forwards over IPv6 loopback") {
    UdpSocket a("[::1]:0"), b("[::1]:0");
    Relay relay(args_for(b));
    CHECK(format_endpoint(relay.listen()).rfind("[::1]:", 0) == 0);
    CHECK(format_endpoint(relay.forward()).rfind("[::1]:", 0) == 0);
    check_round_trip(relay, a, b, pattern(1000, 9));
    check_round_trip(relay, a, b, pattern(0, 0));
}

TEST_CASE("relay refuses non-loopback addresses with exit code 2 before binding anything") {
    const std::vector<std::vector<std::string>> cases = {
        {"--listen", "127.0.0.1:0", "--target", "192.0.2.1:9"},
        {"--listen", "127.0.0.1:0", "--target", "[2001:db8::1]:9"},
        {"--listen", "0.0.0.0:0", "--target", "127.0.0.1:9"},
        {"--listen", "[::]:0", "--target", "[::1]:9"},
        {"--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--forward-bind", "10.1.2.3:0"}};
    for (auto args : cases) {
        args.insert(args.begin(), SRMUDP_IMPAIR_RELAY_PATH);
        ChildProcess child(args);
        CHECK(child.wait_exit() == 2);
        CHECK_FALSE(child.read_line(milliseconds(0)));  // no "ready": no socket was opened
        CHECK(child.unread_stdout().empty());
        CHECK(child.read_stderr().find("loopback") != std::string::npos);
    }
}

TEST_CASE("relay command line: --help and malformed options") {
    ChildProcess help({SRMUDP_IMPAIR_RELAY_PATH, "--help"});
    CHECK(help.wait_exit() == 0);
    const auto first = help.read_line();
    REQUIRE(first);
    CHECK(first->rfind("usage:", 0) == 0);

    ChildProcess bad({SRMUDP_IMPAIR_RELAY_PATH, "--listen", "127.0.0.1:0", "--target",
                      "127.0.0.1:9", "--loss", "2"});
    CHECK(bad.wait_exit() == 2);
    CHECK(bad.read_stderr().find("--loss") != std::string::npos);
}

TEST_CASE("relay control commands answer ok or error") {
    UdpSocket b;
    Relay relay(args_for(b));
    for (const char* good : {"loss 0.5", "duplicate 0", "reorder 1", "reorder-delay 5", "delay 0",
                             "jitter 3", "blackout 0", "loss 0\r"}) {
        INFO(good);
        CHECK(relay.command(good) == "ok");
    }
    for (const char* bad : {"loss 1.5", "loss", "frobnicate", "", "delay -1", "stats now",
                            "quit please", "jitter 3600001", "LOSS 0.1"}) {
        INFO(bad);
        CHECK(relay.command(bad).rfind("error ", 0) == 0);
    }
    CHECK(relay.command(std::string(5000, 'x')) == "error line too long");
    const auto json = relay.stats();
    CHECK(counter(json, "a_to_b", "in") == 0);
    CHECK(counter(json, "", "foreign_dropped") == 0);
    CHECK(relay.command("quit") == "ok");
    CHECK(relay.process().wait_exit() == 0);
}

TEST_CASE("relay exits cleanly on EOF - SIGTERM and SIGINT") {
    UdpSocket b;
    {
        Relay relay(args_for(b));
        relay.process().close_stdin();
        CHECK(relay.process().wait_exit() == 0);
    }
    for (int number : {SIGTERM, SIGINT}) {
        Relay relay(args_for(b, {"--delay", "1000"}));
        relay.process().signal(number);
        CHECK(relay.process().wait_exit() == 0);
    }
}
