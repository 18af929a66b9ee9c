#include "srmudp_core.hpp"

#include <array>
#include <cstdint>
#include <variant>

#include "srmudp/endpoint_core.hpp"
#include "srmudp_net.hpp"

namespace srmudp::bench {

namespace {

constexpr std::size_t kDatagramBuffer = 2048;  // above Config::max_datagram_size (1200)
constexpr std::uint64_t kMaxHandshakes = 10'000'000;
// A listener holds at most 1024 connections whose initiator has not confirmed yet
// (conn::kMaxHalfOpenConnections): open them in smaller batches.
constexpr std::size_t kConnectBatch = 256;
constexpr int kMaxRounds = 100000;  // bound on exchange/advance rounds of any one wait

// Each connection is its own pair of addresses, as between real hosts: the client names the
// server as ip:4000 and the server sees that client at ip:5000 (mirror() maps one to the other).
// A listener takes a second initiation from a known address for a restarted peer.
constexpr std::uint16_t kServerPort = 4000;
constexpr std::uint16_t kClientPort = 5000;
const PeerAddress kServerAddress = PeerAddress::v4(127, 0, 0, 2, kServerPort);

PeerAddress mirror(PeerAddress a) {
    a.port = a.port == kServerPort ? kClientPort : kServerPort;
    return a;
}

// Net heap bytes allocated inside the calls made into one core (when enabled).
struct HeapAccount {
    bool enabled = false;
    std::int64_t bytes = 0;

    template <typename F>
    void run(F&& f) {
        if (!enabled) {
            f();
            return;
        }
        const auto before = static_cast<std::int64_t>(heap_in_use());
        f();
        bytes += static_cast<std::int64_t>(heap_in_use()) - before;
    }
};

// A zero-delay, lossless in-memory wire between a connecting core (client) and a listening core
// (server) on a virtual clock. Every datagram the client sends goes to the server, whatever
// address the client named, so one client core can hold many connections to "different peers";
// the sender's address each side sees is mirror() of the address the other side sent to.
class CoreLink {
  public:
    CoreLink(EndpointCore& client, EndpointCore& server) : client_(client), server_(server) {}

    TimePoint now() const { return now_; }

    // Moves datagrams both ways and drains both cores' events until nothing moves.
    void exchange() {
        for (int round = 0; round < kMaxRounds; ++round) {
            const std::size_t moved = move(client_, client_heap, server_, server_heap) +
                                      move(server_, server_heap, client_, client_heap);
            drain(client_, client_heap, client_established);
            drain(server_, server_heap, server_established);
            if (moved == 0) return;
        }
    }

    // Moves virtual time to the cores' next deadline, at most `limit` ahead, and runs the timers.
    void advance(Duration limit) {
        const TimePoint next = std::min(client_.next_deadline(), server_.next_deadline());
        if (next > now_) now_ = std::min(next, now_ + limit);
        client_heap.run([&] { client_.handle_timeout(now_); });
        server_heap.run([&] { server_.handle_timeout(now_); });
    }

    HeapAccount client_heap;
    HeapAccount server_heap;
    std::size_t client_established = 0;
    std::size_t server_established = 0;
    std::string failure;  // the first connection that closed

  private:
    std::size_t move(EndpointCore& from, HeapAccount& from_heap, EndpointCore& to,
                     HeapAccount& to_heap) {
        std::size_t moved = 0;
        for (;;) {
            PeerAddress destination;
            std::size_t n = 0;
            from_heap.run([&] {
                n = from.poll_transmit(now_, MutableByteView(buffer_.data(), buffer_.size()),
                                       destination);
            });
            if (n == 0) return moved;
            to_heap.run(
                [&] { to.receive(now_, mirror(destination), ByteView(buffer_.data(), n)); });
            ++moved;
        }
    }

    void drain(EndpointCore& core, HeapAccount& heap, std::size_t& established) {
        for (;;) {
            EndpointEvent ev;
            bool got = false;
            heap.run([&] { got = core.poll_event(ev); });
            if (!got) return;
            const auto* change = std::get_if<StateChanged>(&ev.event);
            if (!change) continue;
            if (change->state == ConnectionState::established) ++established;
            if (change->state == ConnectionState::closed && failure.empty()) {
                failure = "a connection closed: " + change->reason.message();
            }
        }
    }

    EndpointCore& client_;
    EndpointCore& server_;
    TimePoint now_ = TimePoint{} + seconds(1);
    std::array<std::uint8_t, kDatagramBuffer> buffer_{};
};

// Runs the link until both sides count `target` established connections (or a failure).
bool run_until_established(CoreLink& link, std::size_t target) {
    for (int round = 0; round < kMaxRounds && link.failure.empty(); ++round) {
        link.exchange();
        if (link.client_established >= target && link.server_established >= target) return true;
        link.advance(milliseconds(1));
    }
    return false;
}

// One complete handshake between two fresh cores; false if it did not complete.
bool one_handshake() {
    EndpointCore server(Config{}, system_random());
    EndpointCore client(Config{}, system_random());
    CoreLink link(client, server);
    ConnectionHandle handle = 0;
    if (server.listen(kHexKey) || client.connect(link.now(), kServerAddress, kHexKey, handle)) {
        return false;
    }
    return run_until_established(link, 1);
}

}  // namespace

HandshakeResult core_handshakes(const Options& options) {
    HandshakeResult result("core");
    const Clock::time_point warm_until = Clock::now() + options.warmup();
    for (std::uint64_t n = 0; n < kMaxHandshakes && Clock::now() < warm_until; ++n) {
        if (!one_handshake()) {
            result.error = "a handshake did not complete";
            return result;
        }
    }
    const Clock::time_point start = Clock::now();
    const Clock::time_point end = start + options.case_time;
    Clock::time_point now = start;
    while (now < end && result.count < kMaxHandshakes) {
        if (!one_handshake()) {
            result.error = "a handshake did not complete";
            break;
        }
        ++result.count;
        now = Clock::now();
    }
    result.seconds = to_seconds(now - start);
    return result;
}

std::optional<double> scrypt_cost_ms(std::string& error) {
    // A passphrase this process has not derived before, so the psk cache cannot answer.
    const std::string passphrase =
        "bench passphrase " + std::to_string(Clock::now().time_since_epoch().count());
    EndpointCore core(Config{}, system_random());
    const Clock::time_point start = Clock::now();
    const std::error_code ec = core.listen(passphrase);
    const Clock::time_point end = Clock::now();
    if (ec) {
        error = ec.message();
        return std::nullopt;
    }
    return std::chrono::duration<double, std::milli>(end - start).count();
}

namespace {

PeerAddress nth_peer(std::size_t i) {
    return PeerAddress::v4(10, static_cast<std::uint8_t>(i >> 16),
                           static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i),
                           kServerPort);
}

// Opens connections first..first+count-1 in batches; false (and link.failure) on failure.
bool open_connections(CoreLink& link, EndpointCore& client, std::size_t first, std::size_t count) {
    for (std::size_t done = 0; done < count;) {
        const std::size_t batch = std::min(kConnectBatch, count - done);
        for (std::size_t i = 0; i < batch; ++i) {
            ConnectionHandle h = 0;
            std::error_code ec;
            link.client_heap.run(
                [&] { ec = client.connect(link.now(), nth_peer(first + done + i), kHexKey, h); });
            if (ec) {
                link.failure = "connect: " + ec.message();
                return false;
            }
        }
        done += batch;
        if (!run_until_established(link, first + done)) {
            if (link.failure.empty()) link.failure = "handshakes did not complete";
            return false;
        }
    }
    return true;
}

// Lets delayed acknowledgements and other short timers run out (idle means nothing pending).
void settle(CoreLink& link, Duration span) {
    const TimePoint end = link.now() + span;
    for (int round = 0; round < kMaxRounds && link.now() < end; ++round) {
        link.exchange();
        link.advance(end - link.now());
    }
    link.exchange();
}

}  // namespace

MemoryResult idle_connection_memory(const Options& options) {
    MemoryResult result;
    const std::size_t k = options.idle_connections;
    result.connections = k;
    EndpointCore client(Config{}, system_random());
    EndpointCore server(Config{}, system_random());
    CoreLink link(client, server);
    // One connection first: it pays the one-time costs (psk cache entry, OpenSSL tables).
    if (server.listen(kHexKey) || !open_connections(link, client, 0, 1)) {
        result.error = link.failure.empty() ? "listen failed" : link.failure;
        return result;
    }
    settle(link, milliseconds(200));
    const std::size_t heap_before = heap_in_use();
    const std::size_t rss_before = resident_bytes();
    link.client_heap = HeapAccount{true, 0};
    link.server_heap = HeapAccount{true, 0};
    if (!open_connections(link, client, 1, k)) {
        result.error = link.failure;
        return result;
    }
    settle(link, milliseconds(200));
    const double n = static_cast<double>(k);
    result.pair_bytes = (static_cast<double>(heap_in_use()) - static_cast<double>(heap_before)) / n;
    result.resident_bytes =
        (static_cast<double>(resident_bytes()) - static_cast<double>(rss_before)) / n;
    result.connector_bytes = static_cast<double>(link.client_heap.bytes) / n;
    result.listener_bytes = static_cast<double>(link.server_heap.bytes) / n;
    result.heap_measured = heap_in_use() > heap_before || link.client_heap.bytes > 0;
    if (client.stats().connections != k + 1 || server.stats().connections != k + 1) {
        result.error = "not every connection stayed open";
    }
    return result;
}

}  // namespace srmudp::bench
