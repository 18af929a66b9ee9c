#include "srmudp_net.hpp"

#include <sys/resource.h>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "srmudp/endpoint.hpp"
#include "srmudp/error.hpp"

namespace srmudp::bench {

namespace {

constexpr std::size_t kPingSize = 64;
// Listener case: handshakes outstanding at once, a few milliseconds of the listener's work.
constexpr std::size_t kListenerInFlight = 32;
constexpr std::uint64_t kMaxMessages = std::uint64_t{1} << 40;
constexpr std::uint64_t kMaxHandshakes = 10'000'000;
// Time allowed for a connection to come up before the case is reported failed.
constexpr Clock::duration kSetupLimit = std::chrono::seconds(5);

// The first failure a handler reports, readable from the main thread.
class Failure {
  public:
    void set(const std::string& text) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!text_.empty()) return;
            text_ = text;
        }
        if (on_first_) on_first_();
    }
    // Runs (on the reporting thread) when the first failure is set; set before the threads run.
    void on_first(std::function<void()> f) { on_first_ = std::move(f); }
    std::string get() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return text_;
    }

  private:
    mutable std::mutex mutex_;
    std::string text_;
    std::function<void()> on_first_;
};

EndpointOptions loopback_options() {
    EndpointOptions o;
    o.bind_address = "127.0.0.1";
    return o;
}

// One side of a two-thread case: an io_context and the thread that runs it.
class Side {
  public:
    ~Side() { stop(); }

    std::error_code open() {
        std::error_code ec;
        endpoint = Endpoint::open(io, loopback_options(), ec);
        return ec;
    }
    // run() as an application would (run_for() waits in one-second slices and re-reads the
    // clock around every handler); the deadline timer bounds the thread's life.
    void start(Clock::duration limit, const char* name, Role role) {
        deadline_.expires_after(limit);
        deadline_.async_wait([this](std::error_code ec) {
            if (!ec) io.stop();
        });
        thread_ = std::thread([this] { io.run(); });
        name_thread(thread_, name, role);
    }
    // Stops the thread; the endpoint may then be used from the caller's thread.
    void halt() {
        io.stop();
        if (thread_.joinable()) thread_.join();
    }
    // Stops the thread, then closes the endpoint from this (now the only) thread.
    void stop() {
        halt();
        endpoint.reset();
    }

    std::thread* thread() { return &thread_; }

    // Blocks until the thread ends: stopped by a handler or by the deadline timer.
    void join() {
        if (thread_.joinable()) thread_.join();
    }

    asio::io_context io;
    std::unique_ptr<Endpoint> endpoint;

  private:
    asio::steady_timer deadline_{io};
    std::thread thread_;
};

// Handlers report a connection that closes while the case still runs.
std::function<void(ConnectionState, std::error_code)> watch_state(
    const char* who, Failure& failure, const std::atomic<bool>& stopping,
    std::function<void()> on_established = {}) {
    return [=, &failure, &stopping](ConnectionState s, std::error_code reason) {
        if (s == ConnectionState::established && on_established) on_established();
        if (s == ConnectionState::closed && !stopping.load()) {
            failure.set(std::string(who) + " closed: " + reason.message());
        }
    };
}

// State of a goodput run shared by the handlers (declared before the Sides so it outlives them).
struct GoodputRun {
    Failure failure;
    std::atomic<bool> stopping{false};
    std::atomic<bool> established{false};
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> wrong_sizes{0};
    Bytes payload;
    std::uint64_t sent = 0;
    std::shared_ptr<Connection> sender;
    std::shared_ptr<Connection> receiver;

    // Queues messages until send() refuses one; on_writable calls this again.
    void pump() {
        for (MessageId id = 0; sent < kMaxMessages; ++sent) {
            const std::error_code ec = sender->send(MessageKind::binary, payload, id);
            if (ec == error::send_buffer_full) return;
            if (ec) {
                failure.set("send: " + ec.message());
                return;
            }
        }
    }
};

// Both ends' view of the whole connection (not only the window): what limited it.
std::string describe(const ConnectionStats& tx, const ConnectionStats& rx) {
    const auto retransmitted = tx.stream_bytes_sent == 0
                                   ? 0.0
                                   : 100.0 * static_cast<double>(tx.stream_bytes_retransmitted) /
                                         static_cast<double>(tx.stream_bytes_sent);
    char text[256];
    std::snprintf(text, sizeof text,
                  "srtt %.0f us, cwnd %zu B, %llu packets sent, %llu lost, %.1f%% retransmitted; "
                  "receiver sent %llu packets",
                  std::chrono::duration<double, std::micro>(tx.smoothed_rtt).count(),
                  tx.congestion_window, static_cast<unsigned long long>(tx.packets_sent),
                  static_cast<unsigned long long>(tx.packets_lost), retransmitted,
                  static_cast<unsigned long long>(rx.packets_sent));
    return text;
}

void accept_goodput(GoodputRun& run, const std::shared_ptr<Connection>& c) {
    ConnectionHandlers h;
    h.on_message = [&run](Message&& m) {
        run.received.fetch_add(m.data.size(), std::memory_order_relaxed);
        if (m.data.size() != run.payload.size()) ++run.wrong_sizes;
    };
    h.on_state = watch_state("receiver", run.failure, run.stopping);
    c->set_handlers(std::move(h));
    run.receiver = c;
}

}  // namespace

GoodputResult srmudp_goodput(const Options& options, std::size_t message_bytes) {
    GoodputResult result("srmudp", message_bytes);
    GoodputRun run;
    run.payload.assign(message_bytes, 0x5a);
    Side rx;
    Side tx;
    std::error_code ec = rx.open();
    if (!ec) ec = tx.open();
    if (!ec) ec = rx.endpoint->listen(kHexKey, [&run](auto c) { accept_goodput(run, c); });
    if (!ec) run.sender = tx.endpoint->connect(rx.endpoint->local_address(), kHexKey, ec);
    if (ec) {
        result.error = "setup: " + ec.message();
        return result;
    }
    ConnectionHandlers h;
    h.on_state = watch_state("sender", run.failure, run.stopping, [&run] {
        run.established = true;
        run.pump();
    });
    h.on_writable = [&run] { run.pump(); };
    run.sender->set_handlers(std::move(h));
    const Clock::duration limit = kSetupLimit + options.warmup() + options.case_time;
    rx.start(limit, "srmudp-rx", Role::server);
    tx.start(limit, "srmudp-tx", Role::client);
    if (wait_until([&] { return run.established.load(); }, kSetupLimit)) {
        result.take(measure_window(run.received, options.warmup(), options.case_time, tx.thread(),
                                   rx.thread()));
    } else {
        result.error = "handshake did not complete";
    }
    run.stopping = true;
    tx.halt();
    rx.halt();
    result.note =
        describe(run.sender->stats(), run.receiver ? run.receiver->stats() : ConnectionStats{});
    tx.stop();
    rx.stop();
    if (result.error.empty()) result.error = run.failure.get();
    if (result.error.empty() && run.wrong_sizes > 0) result.error = "messages of the wrong size";
    return result;
}

namespace {

// State of a ping-pong run; the client's handlers run on the client thread only.
struct PingPongRun {
    Failure failure;
    std::atomic<bool> stopping{false};
    std::atomic<bool> done{false};
    std::function<void()> finish;  // stops both threads
    std::shared_ptr<Connection> client;
    std::shared_ptr<Connection> server;
    Bytes ping = Bytes(kPingSize, 0x42);
    std::vector<double> samples;
    std::size_t max_samples = 0;
    Clock::duration warmup{};
    Clock::duration span{};
    Clock::time_point warm_until{};
    Clock::time_point end{};
    Clock::time_point sent_at{};

    void start() {
        warm_until = Clock::now() + warmup;
        end = warm_until + span;
        send_ping();
    }
    void send_ping() {
        MessageId id = 0;
        sent_at = Clock::now();
        if (const auto ec = client->send(MessageKind::binary, ping, id)) {
            failure.set("send: " + ec.message());
        }
    }
    void on_pong(const Message& m) {
        const Clock::time_point now = Clock::now();
        if (m.data.size() != kPingSize) failure.set("echo of the wrong size");
        if (now >= warm_until) samples.push_back(to_microseconds(now - sent_at));
        if (now >= end || samples.size() >= max_samples) {
            done = true;
            finish();
            return;
        }
        send_ping();
    }
};

void accept_echo(PingPongRun& run, const std::shared_ptr<Connection>& c) {
    ConnectionHandlers h;
    h.on_message = [&run](Message&& m) {
        MessageId id = 0;
        if (const auto ec = run.server->send(m.kind, m.data, id))
            run.failure.set("echo: " + ec.message());
    };
    h.on_state = watch_state("server", run.failure, run.stopping);
    run.server = c;
    c->set_handlers(std::move(h));
}

}  // namespace

LatencyResult srmudp_ping_pong(const Options& options) {
    LatencyResult result("srmudp");
    PingPongRun run;
    run.max_samples = options.max_round_trips;
    run.samples.reserve(run.max_samples);
    run.warmup = options.warmup();
    run.span = options.case_time;
    Side server;
    Side client;
    std::error_code ec = server.open();
    if (!ec) ec = client.open();
    if (!ec) ec = server.endpoint->listen(kHexKey, [&run](auto c) { accept_echo(run, c); });
    if (!ec) run.client = client.endpoint->connect(server.endpoint->local_address(), kHexKey, ec);
    if (ec) {
        result.error = "setup: " + ec.message();
        return result;
    }
    ConnectionHandlers h;
    h.on_state = watch_state("client", run.failure, run.stopping, [&run] { run.start(); });
    h.on_message = [&run](Message&& m) { run.on_pong(m); };
    run.client->set_handlers(std::move(h));
    const Clock::duration limit = kSetupLimit + options.warmup() + options.case_time;
    // The main thread blocks in join() rather than polling: a thread waking every millisecond
    // would share the two CPUs with the round trips (the other transports have no such thread).
    run.finish = [&client, &server] {
        client.io.stop();
        server.io.stop();
    };
    run.failure.on_first(run.finish);
    server.start(limit, "srmudp-server", Role::server);
    client.start(limit, "srmudp-client", Role::client);
    client.join();
    run.stopping = true;
    if (!run.done.load() && run.failure.get().empty()) {
        result.error = "round trips did not finish in time";
    }
    client.stop();
    server.stop();
    if (result.error.empty()) result.error = run.failure.get();
    result.rtt = percentiles(std::move(run.samples));
    return result;
}

namespace {

// Sequential handshakes on the client thread: each posts the next one when it is established.
struct HandshakeRun {
    explicit HandshakeRun(asio::io_context& client_io) : io(client_io) {}

    asio::io_context& io;
    PeerAddress server;
    Failure failure;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> completed{0};
    std::unique_ptr<Endpoint> endpoint;
    std::shared_ptr<Connection> connection;

    void next() {
        if (connection) connection->set_handlers({});  // closing must not report a failure
        connection.reset();
        endpoint.reset();
        if (stopping.load() || completed.load() >= kMaxHandshakes) return;
        std::error_code ec;
        endpoint = Endpoint::open(io, loopback_options(), ec);
        if (endpoint) connection = endpoint->connect(server, kHexKey, ec);
        if (ec) {
            failure.set("connect: " + ec.message());
            return;
        }
        ConnectionHandlers h;
        h.on_state = watch_state("client", failure, stopping, [this] {
            completed.fetch_add(1, std::memory_order_relaxed);
            asio::post(io, [this] { next(); });
        });
        connection->set_handlers(std::move(h));
    }
};

}  // namespace

HandshakeResult endpoint_handshakes(const Options& options) {
    HandshakeResult result("endpoint");
    Side server;
    Side client;
    HandshakeRun run(client.io);
    std::error_code ec = server.open();
    if (!ec) ec = server.endpoint->listen(kHexKey, [](auto) {});
    if (ec) {
        result.error = "setup: " + ec.message();
        return result;
    }
    run.server = server.endpoint->local_address();
    asio::post(client.io, [&run] { run.next(); });
    const Clock::duration limit = kSetupLimit + options.warmup() + options.case_time;
    server.start(limit, "srmudp-server", Role::server);
    client.start(limit, "srmudp-client", Role::client);
    const Window w = measure_window(run.completed, options.warmup(), options.case_time);
    run.stopping = true;
    client.stop();
    server.stop();
    run.next();  // closes the last client endpoint from this thread, the client's being stopped
    result.count = w.count;
    result.seconds = w.seconds;
    result.error = run.failure.get();
    if (result.error.empty() && w.count == 0) result.error = "no handshake completed";
    return result;
}

namespace {

// The listener case. Every client handler runs on the client thread; the listener's on_accept
// only advances `accepted`.
//
// A client connects, closes as soon as it is established and is idle again once closed.
// Closing keeps the connection (and so the peer address) for 3 PTO of the RTT the handshake
// measured, so more sockets than handshakes in flight are needed. At most kListenerInFlight
// handshakes are outstanding: a listener sent every client at once falls behind, and the
// retransmitted initiations would then be much of its work.
struct ListenerRun {
    explicit ListenerRun(asio::io_context& client_io) : io(client_io) {}

    struct Client {
        std::unique_ptr<Endpoint> endpoint;
        std::shared_ptr<Connection> connection;
        bool established = false;
    };

    asio::io_context& io;
    PeerAddress server;
    Failure failure;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> accepted{0};
    std::vector<Client> clients;
    std::deque<Client*> idle;
    std::size_t in_flight = 0;

    void start_handshakes() {
        while (in_flight < kListenerInFlight && !idle.empty() && !stopping.load()) {
            Client& c = *idle.front();
            idle.pop_front();
            connect(c);
        }
    }

    void connect(Client& c) {
        std::error_code ec;
        c.established = false;
        c.connection = c.endpoint->connect(server, kHexKey, ec);
        if (ec) {
            failure.set("connect: " + ec.message());
            return;
        }
        ++in_flight;
        ConnectionHandlers h;
        h.on_state = [this, &c](ConnectionState s, std::error_code reason) {
            if (s == ConnectionState::established) on_established(c);
            if (s != ConnectionState::closed) return;
            if (!c.established) --in_flight;
            if ((!c.established || reason != error::closed_locally) && !stopping.load()) {
                failure.set("client closed: " + reason.message());
            }
            // Not from inside the handler: replacing the handlers destroys this one.
            asio::post(io, [this, &c] { on_closed(c); });
        };
        c.connection->set_handlers(std::move(h));
    }

    void on_established(Client& c) {
        c.established = true;
        --in_flight;
        c.connection->close();
        start_handshakes();
    }

    void on_closed(Client& c) {
        c.connection->set_handlers({});
        c.connection.reset();
        idle.push_back(&c);
        start_handshakes();
    }

    // From the main thread once both threads stopped.
    void drop_clients() {
        for (Client& c : clients) {
            if (c.connection) c.connection->set_handlers({});
        }
        idle.clear();
        clients.clear();
    }
};

}  // namespace

namespace {

// Datagrams beyond the handful a handshake needs are retransmitted initiations (the listener
// fell behind) or packets of connections that ended.
std::string describe_listener(const EndpointStats& s) {
    const double per_handshake = s.handshakes_completed == 0
                                     ? 0.0
                                     : static_cast<double>(s.datagrams_received) /
                                           static_cast<double>(s.handshakes_completed);
    char text[192];
    std::snprintf(text, sizeof text,
                  "listener over the whole run: %llu handshakes, %.2f datagrams received per "
                  "handshake, %llu dropped",
                  static_cast<unsigned long long>(s.handshakes_completed), per_handshake,
                  static_cast<unsigned long long>(s.datagrams_dropped));
    return text;
}

// Every client is a socket: lifts the soft limit on open files (often 1024) towards the hard
// limit when the clients need more. If that is not enough, opening a client fails and says so.
void allow_open_files(std::size_t clients) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t wanted = static_cast<rlim_t>(clients) + 64;  // and the process's other files
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        limit.rlim_cur =
            limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace

HandshakeResult listener_handshakes(const Options& options) {
    HandshakeResult result("listener");
    result.clients = options.listener_clients;
    Side server;
    Side client;
    ListenerRun run(client.io);
    std::error_code ec = server.open();
    if (!ec) {
        ec = server.endpoint->listen(kHexKey, [&run](const std::shared_ptr<Connection>&) {
            run.accepted.fetch_add(1, std::memory_order_relaxed);
        });
    }
    run.server = server.endpoint ? server.endpoint->local_address() : PeerAddress{};
    allow_open_files(options.listener_clients);
    for (std::size_t i = 0; i < options.listener_clients && !ec; ++i) {
        ListenerRun::Client c;
        c.endpoint = Endpoint::open(client.io, loopback_options(), ec);
        run.clients.push_back(std::move(c));
    }
    if (ec) {
        result.error = "setup: " + ec.message();
        run.drop_clients();
        return result;
    }
    for (ListenerRun::Client& c : run.clients)
        run.idle.push_back(&c);
    asio::post(client.io, [&run] { run.start_handshakes(); });
    const Clock::duration limit = kSetupLimit + options.warmup() + options.case_time;
    server.start(limit, "srmudp-listen", Role::server);
    client.start(limit, "srmudp-clients", Role::client);
    const Window w = measure_window(run.accepted, options.warmup(), options.case_time,
                                    server.thread(), client.thread());
    run.stopping = true;
    client.halt();
    server.halt();
    result.note = describe_listener(server.endpoint->stats());
    run.drop_clients();
    client.stop();
    server.stop();
    result.count = w.count;
    result.seconds = w.seconds;
    result.listener_cpu = w.sender_cpu;
    result.client_cpu = w.receiver_cpu;
    result.error = run.failure.get();
    if (result.error.empty() && w.count == 0) result.error = "no handshake completed";
    return result;
}

}  // namespace srmudp::bench
