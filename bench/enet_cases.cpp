#include "enet_cases.hpp"

#include <enet/enet.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

namespace srmudp::bench {

const std::size_t kEnetInFlightLimit = std::size_t{1} << 20;

namespace {

constexpr enet_uint32 kMtu = 1200;
constexpr int kSocketBuffer = 4 << 20;  // as srmudp::Endpoint requests
constexpr std::size_t kPingSize = 64;
constexpr std::uint64_t kMaxIterations = std::uint64_t{1} << 40;
constexpr Clock::duration kSetupLimit = std::chrono::seconds(5);

// An ENet host on 127.0.0.1 (server: bound to a free port) with srmudp's datagram size and
// socket buffers.
class Host {
  public:
    explicit Host(bool bind) {
        ENetAddress address{};
        enet_address_set_host_ip(&address, "127.0.0.1");
        host_ = enet_host_create(bind ? &address : nullptr, 1, 1, 0, 0);
        if (!host_) return;
        host_->mtu = kMtu;
        enet_socket_set_option(host_->socket, ENET_SOCKOPT_RCVBUF, kSocketBuffer);
        enet_socket_set_option(host_->socket, ENET_SOCKOPT_SNDBUF, kSocketBuffer);
    }
    ~Host() {
        if (host_) enet_host_destroy(host_);
    }
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    ENetHost* get() const { return host_; }
    ENetAddress address() const { return host_->address; }

  private:
    ENetHost* host_ = nullptr;
};

// What the two threads of one run share. Declared before the hosts, which free queued packets
// (calling on_packet_freed with a pointer into it) when destroyed.
struct EnetRun {
    std::atomic<bool> stop{false};
    std::atomic<bool> connected{false};
    std::atomic<bool> failed{false};
    std::atomic<std::uint64_t> received{0};
    std::size_t in_flight = 0;  // sender thread only
};

void on_packet_freed(ENetPacket* packet) {
    auto* in_flight = static_cast<std::size_t*>(packet->userData);
    if (in_flight) *in_flight -= packet->dataLength;
}

// Services `host` until `stop`, passing every received packet to on_receive (which may send).
void serve(ENetHost* host, EnetRun& run, const std::function<void(ENetEvent&)>& on_receive) {
    for (std::uint64_t n = 0; n < kMaxIterations && !run.stop.load(); ++n) {
        ENetEvent ev{};
        const int r = enet_host_service(host, &ev, 5);
        if (r < 0) run.failed = true;
        if (r <= 0) continue;
        if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
            on_receive(ev);
            enet_packet_destroy(ev.packet);
        } else if (ev.type == ENET_EVENT_TYPE_DISCONNECT) {
            run.failed = true;
        }
    }
}

// Connects the client host to `server`; the peer, or nullptr after kSetupLimit.
ENetPeer* connect_peer(ENetHost* client, const ENetAddress& server, EnetRun& run) {
    ENetPeer* peer = enet_host_connect(client, &server, 1, 0);
    if (!peer) return nullptr;
    const Clock::time_point end = Clock::now() + kSetupLimit;
    while (Clock::now() < end && !run.stop.load()) {
        ENetEvent ev{};
        if (enet_host_service(client, &ev, 5) > 0 && ev.type == ENET_EVENT_TYPE_CONNECT) {
            run.connected = true;
            return peer;
        }
    }
    return nullptr;
}

// Queues messages while fewer than kEnetInFlightLimit bytes are unacknowledged.
void blast(ENetHost* host, ENetPeer* peer, EnetRun& run, const std::vector<std::uint8_t>& payload) {
    for (std::uint64_t n = 0; n < kMaxIterations && !run.stop.load(); ++n) {
        while (run.in_flight < kEnetInFlightLimit) {
            ENetPacket* p =
                enet_packet_create(payload.data(), payload.size(), ENET_PACKET_FLAG_RELIABLE);
            p->userData = &run.in_flight;
            p->freeCallback = on_packet_freed;
            if (enet_peer_send(peer, 0, p) < 0) {
                p->userData = nullptr;
                enet_packet_destroy(p);
                run.failed = true;
                return;
            }
            run.in_flight += payload.size();
        }
        ENetEvent ev{};
        const int r = enet_host_service(host, &ev, 1);
        if (r < 0 || (r > 0 && ev.type == ENET_EVENT_TYPE_DISCONNECT)) run.failed = true;
        if (r > 0 && ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
    }
}

}  // namespace

bool enet_start(std::string& error) {
    static const int status = [] {
        const int s = enet_initialize();
        if (s == 0) std::atexit(enet_deinitialize);
        return s;
    }();
    if (status != 0) error = "enet_initialize failed";
    return status == 0;
}

GoodputResult enet_goodput(const Options& options, std::size_t message_bytes) {
    GoodputResult result("enet", message_bytes);
    EnetRun run;
    Host server(true);
    Host client(false);
    if (!server.get() || !client.get()) {
        result.error = "enet_host_create failed";
        return result;
    }
    const std::vector<std::uint8_t> payload(message_bytes, 0x5a);
    std::thread receiver([&] {
        serve(server.get(), run, [&run](ENetEvent& ev) {
            run.received.fetch_add(ev.packet->dataLength, std::memory_order_relaxed);
        });
    });
    std::thread sender([&] {
        if (ENetPeer* peer = connect_peer(client.get(), server.address(), run)) {
            blast(client.get(), peer, run, payload);
        }
    });
    name_thread(receiver, "enet-rx", Role::server);
    name_thread(sender, "enet-tx", Role::client);
    if (wait_until([&] { return run.connected.load(); }, kSetupLimit)) {
        const Window w =
            measure_window(run.received, options.warmup(), options.case_time, &sender, &receiver);
        result.take(w);
    } else {
        result.error = "ENet did not connect";
    }
    run.stop = true;
    sender.join();
    receiver.join();
    if (result.error.empty() && run.failed) result.error = "ENet reported an error or disconnect";
    return result;
}

namespace {

// One round trip: send, flush, service until the echo arrives; false on timeout or error.
bool round_trip(ENetHost* host, ENetPeer* peer, const std::vector<std::uint8_t>& ping) {
    ENetPacket* p = enet_packet_create(ping.data(), ping.size(), ENET_PACKET_FLAG_RELIABLE);
    if (enet_peer_send(peer, 0, p) < 0) {
        enet_packet_destroy(p);
        return false;
    }
    enet_host_flush(host);
    const Clock::time_point end = Clock::now() + std::chrono::seconds(1);
    while (Clock::now() < end) {
        ENetEvent ev{};
        const int r = enet_host_service(host, &ev, 1);
        if (r < 0 || (r > 0 && ev.type == ENET_EVENT_TYPE_DISCONNECT)) return false;
        if (r > 0 && ev.type == ENET_EVENT_TYPE_RECEIVE) {
            const bool ok = ev.packet->dataLength == ping.size();
            enet_packet_destroy(ev.packet);
            return ok;
        }
    }
    return false;
}

}  // namespace

LatencyResult enet_ping_pong(const Options& options) {
    LatencyResult result("enet");
    EnetRun run;
    Host server(true);
    Host client(false);
    if (!server.get() || !client.get()) {
        result.error = "enet_host_create failed";
        return result;
    }
    std::thread echo([&] {
        serve(server.get(), run, [&server](ENetEvent& ev) {
            ENetPacket* p = enet_packet_create(ev.packet->data, ev.packet->dataLength,
                                               ENET_PACKET_FLAG_RELIABLE);
            if (enet_peer_send(ev.peer, 0, p) < 0) enet_packet_destroy(p);
            enet_host_flush(server.get());
        });
    });
    std::vector<double> samples;
    samples.reserve(options.max_round_trips);
    std::thread pinger([&] {
        ENetPeer* peer = connect_peer(client.get(), server.address(), run);
        if (!peer) return;
        const std::vector<std::uint8_t> ping(kPingSize, 0x42);
        const Clock::time_point warm_until = Clock::now() + options.warmup();
        const Clock::time_point end = warm_until + options.case_time;
        for (Clock::time_point now = Clock::now();
             now < end && samples.size() < options.max_round_trips;) {
            if (!round_trip(client.get(), peer, ping)) {
                run.failed = true;
                return;
            }
            const Clock::time_point back = Clock::now();
            if (now >= warm_until) samples.push_back(to_microseconds(back - now));
            now = back;
        }
    });
    name_thread(echo, "enet-echo", Role::server);
    name_thread(pinger, "enet-ping", Role::client);
    pinger.join();
    run.stop = true;
    echo.join();
    if (!run.connected) result.error = "ENet did not connect";
    if (result.error.empty() && run.failed) result.error = "a round trip failed";
    result.rtt = percentiles(std::move(samples));
    return result;
}

}  // namespace srmudp::bench
