// EndpointCore: routes the datagrams of one socket to its connections by connection ID (and
// initiations by address, origin or the peer's session id), keeps their wake-up times in one
// ordered set, and hands out their datagrams and events in turn.
#include "srmudp/endpoint_core.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/codec/packet.hpp"
#include "core/conn/connection.hpp"
#include "core/crypto/psk.hpp"
#include "srmudp/error.hpp"

namespace srmudp {

namespace {

// The largest UDP payload over IPv4 (65535 - 20 - 8).
constexpr std::size_t kMaxUdpPayload = 65507;

Config validated(Config c) {
    c.max_datagram_size =
        std::clamp<std::size_t>(c.max_datagram_size, conn::kInitiationSize, kMaxUdpPayload);
    c.max_probe_datagram_size =
        std::clamp<std::size_t>(c.max_probe_datagram_size, c.max_datagram_size, kMaxUdpPayload);
    c.max_message_size = std::max<std::size_t>(c.max_message_size, 1);
    c.receive_window = std::max<std::size_t>(c.receive_window, 16 * 1024);
    return c;
}

bool address_less(const PeerAddress& a, const PeerAddress& b) {
    if (a.port != b.port) return a.port < b.port;
    if (a.family != b.family) return a.family < b.family;
    return a.ip < b.ip;
}

struct OriginKey {
    PeerAddress address;
    codec::ConnectionId initiator_cid;
    bool operator<(const OriginKey& o) const {
        if (initiator_cid != o.initiator_cid) return initiator_cid < o.initiator_cid;
        return address_less(address, o.address);
    }
};

// A connection's place among those with the same peer address: the channel its initiations
// carry (PROTOCOL.md section 2.5), numbered per key. Ordered by address first, so one address's
// connections are adjacent.
struct RouteKey {
    PeerAddress address;
    std::uint32_t channel = 0;
    bool operator<(const RouteKey& o) const {
        if (address != o.address) return address_less(address, o.address);
        return channel < o.channel;
    }
};

// Connections with different keys may share a RouteKey.
using Routes = std::multimap<RouteKey, ConnectionHandle>;

void drop_route(Routes& routes, const RouteKey& key, ConnectionHandle h) {
    const auto [first, last] = routes.equal_range(key);
    for (auto it = first; it != last; ++it) {
        if (it->second == h) {
            routes.erase(it);
            return;
        }
    }
}

// Distinct keys tried on one initiation that several connect()-made connections at its source
// address might own (each try costs what authenticating any initiation costs).
constexpr std::size_t kMaxKeysTriedPerInitiation = 8;

}  // namespace

class EndpointCore::Impl {
  public:
    Impl(const Config& config, Random& random) : config_(validated(config)), random_(random) {}
    ~Impl() {
        if (listen_psk_) OPENSSL_cleanse(listen_psk_->data(), listen_psk_->size());
    }

    struct Entry {
        std::unique_ptr<conn::Connection> connection;
        TimePoint scheduled = kNever;
        bool in_send_queue = false;
        bool in_event_queue = false;
        bool by_connect = false;
        std::optional<OriginKey> origin;  // listener-created: where its initiation came from
        RouteKey routed_remote;           // its key in by_remote_ / by_accepted_remote_
        std::optional<conn::SessionId> routed_session;  // its key in by_session_
    };

    Config config_;
    Random& random_;
    std::optional<crypto::Psk> listen_psk_;
    ConnectionHandle next_handle_ = 1;
    std::unordered_map<ConnectionHandle, Entry> entries_;
    std::unordered_map<codec::ConnectionId, ConnectionHandle> by_cid_;
    // connect()-made connections by current peer address and channel.
    Routes by_remote_;
    std::map<OriginKey, ConnectionHandle> by_origin_;
    // Listener-created connections by current peer address and channel: a restarted peer comes
    // back from the same address with a new session id and the same channel.
    Routes by_accepted_remote_;
    // Every connection by the peer's session id: a reconnecting peer may come from a new address.
    std::map<conn::SessionId, ConnectionHandle> by_session_;
    std::set<std::pair<TimePoint, ConnectionHandle>> timers_;
    std::deque<ConnectionHandle> send_queue_;
    std::deque<ConnectionHandle> event_queue_;
    std::unordered_set<ConnectionHandle> half_open_;  // listener-made, initiator not yet confirmed
    EndpointStats stats_;

    Entry* find(ConnectionHandle h) {
        auto it = entries_.find(h);
        return it == entries_.end() ? nullptr : &it->second;
    }

    codec::ConnectionId fresh_cid() {
        for (;;) {
            const codec::ConnectionId cid = random_.next_u64();
            if (cid != 0 && by_cid_.count(cid) == 0) return cid;
        }
    }

    ConnectionHandle add(std::unique_ptr<conn::Connection> c, bool by_connect,
                         std::optional<OriginKey> origin) {
        const ConnectionHandle h = next_handle_++;
        by_cid_[c->local_cid()] = h;
        const RouteKey route{c->remote(), c->channel()};
        (by_connect ? by_remote_ : by_accepted_remote_).emplace(route, h);
        if (origin) by_origin_[*origin] = h;
        Entry& e = entries_[h];
        e.routed_remote = route;
        e.connection = std::move(c);
        e.by_connect = by_connect;
        e.origin = origin;
        touch(h);
        return h;
    }

    // A connection may have moved (migration, a handshake from a new address) or learned its
    // peer's session id: keep the routing maps in step.
    void sync_routes(ConnectionHandle h, Entry& e) {
        const conn::Connection& c = *e.connection;
        if (c.remote() != e.routed_remote.address) {
            auto& routes = e.by_connect ? by_remote_ : by_accepted_remote_;
            drop_route(routes, e.routed_remote, h);
            e.routed_remote = RouteKey{c.remote(), c.channel()};
            routes.emplace(e.routed_remote, h);
        }
        if (c.peer_session_id() != e.routed_session) {
            if (e.routed_session) {
                if (auto r = by_session_.find(*e.routed_session);
                    r != by_session_.end() && r->second == h) {
                    by_session_.erase(r);
                }
            }
            e.routed_session = c.peer_session_id();
            if (e.routed_session) by_session_[*e.routed_session] = h;
        }
    }

    // After anything happened to a connection: reschedule its timer, let it send, queue its
    // events, and forget it once it is closed and has told everything.
    void touch(ConnectionHandle h) {
        Entry* e = find(h);
        if (!e) return;
        auto& c = *e->connection;
        if (c.state() == ConnectionState::closed && !c.has_events()) {
            erase(h);
            return;
        }
        if (c.state() != ConnectionState::connecting) half_open_.erase(h);
        sync_routes(h, *e);
        const TimePoint next = c.deadline();
        if (next != e->scheduled) {
            // The deadline moves with nearly every packet: move the set's node rather than
            // freeing it and allocating another.
            auto node = timers_.extract({e->scheduled, h});
            e->scheduled = next;
            if (next != kNever) {
                if (node) {
                    node.value() = {next, h};
                    timers_.insert(std::move(node));
                } else {
                    timers_.insert({next, h});
                }
            }
        }
        if (!e->in_send_queue && c.state() != ConnectionState::closed) {
            e->in_send_queue = true;
            send_queue_.push_back(h);
        }
        if (!e->in_event_queue && c.has_events()) {
            e->in_event_queue = true;
            event_queue_.push_back(h);
        }
    }

    void erase(ConnectionHandle h) {
        auto it = entries_.find(h);
        if (it == entries_.end()) return;
        Entry& e = it->second;
        timers_.erase({e.scheduled, h});
        by_cid_.erase(e.connection->local_cid());
        drop_route(e.by_connect ? by_remote_ : by_accepted_remote_, e.routed_remote, h);
        if (e.routed_session) {
            if (auto r = by_session_.find(*e.routed_session);
                r != by_session_.end() && r->second == h) {
                by_session_.erase(r);
            }
        }
        if (e.origin) {
            if (auto r = by_origin_.find(*e.origin); r != by_origin_.end() && r->second == h) {
                by_origin_.erase(r);
            }
        }
        half_open_.erase(h);
        entries_.erase(it);
        // Stale handles left in send_queue_/event_queue_ are skipped when reached.
    }

    // PROTOCOL.md section 2.5: by address and channel for connect()-made connections, by origin
    // for retransmissions to the listener, then (authenticated with the listen key) by the
    // peer's session id or address and channel for a reconnecting or restarted peer, else a new
    // connection.
    void receive_initiation(TimePoint now, const PeerAddress& from, ByteView datagram,
                            const codec::PacketHeader& header) {
        if (route_to_connector(now, from, datagram, header)) return;
        if (auto o = by_origin_.find(OriginKey{from, header.sender_cid}); o != by_origin_.end()) {
            const ConnectionHandle h = o->second;
            entries_[h].connection->on_initiation(now, from, datagram);
            touch(h);
            return;
        }
        conn::ConsumedInitiation initiation;
        if (!listen_psk_ || conn::consume_initiation(*listen_psk_, datagram, random_, initiation)) {
            ++stats_.datagrams_dropped;
            return;
        }
        const std::uint32_t channel = initiation.payload.channel;
        if (const ConnectionHandle peer = claimant(from, initiation.payload.session_id, channel)) {
            entries_[peer].connection->on_consumed_initiation(now, from, std::move(initiation));
            touch(peer);
            return;
        }
        if (half_open_.size() >= conn::kMaxHalfOpenConnections) {
            ++stats_.datagrams_dropped;
            return;
        }
        conn::ConnectionSetup setup{&config_, &random_, from, *listen_psk_, fresh_cid(), channel};
        half_open_.insert(add(std::make_unique<conn::Connection>(setup, now, std::move(initiation)),
                              false, OriginKey{from, header.sender_cid}));
    }

    // Rule 1 of section 2.5: an initiation from the address of connect()-made connections goes
    // to the one whose channel it carries. The peer's connection ID finds a reconnecting peer at
    // once; otherwise (simultaneous open, a restarted peer) the initiation is authenticated with
    // each distinct key among them until one fits. Returns false if none of them takes it
    // (there are none, or it is for another channel): the other rules apply.
    bool route_to_connector(TimePoint now, const PeerAddress& from, ByteView datagram,
                            const codec::PacketHeader& header) {
        const auto first = by_remote_.lower_bound(RouteKey{from, 0});
        auto last = first;
        std::size_t count = 0;
        ConnectionHandle by_cid = 0;
        for (; last != by_remote_.end() && last->first.address == from; ++last, ++count) {
            if (header.sender_cid != 0 &&
                entries_[last->second].connection->peer_cid() == header.sender_cid) {
                by_cid = last->second;
            }
        }
        if (count == 0) return false;
        // One connection (the usual case), or the peer's own: it authenticates the initiation
        // itself, recognising copies without crypto and counting a wrong key.
        if (by_cid != 0 || count == 1) {
            const ConnectionHandle h = by_cid != 0 ? by_cid : first->second;
            const bool taken = entries_[h].connection->on_initiation(now, from, datagram);
            touch(h);
            return taken;
        }
        // One connection per key tried, so that many connections sharing a key cost one try.
        std::array<const conn::Connection*, kMaxKeysTriedPerInitiation> tried{};
        std::size_t keys_tried = 0;
        for (auto it = first; it != last; ++it) {
            const conn::Connection& candidate = *entries_[it->second].connection;
            const auto tried_end = tried.begin() + static_cast<std::ptrdiff_t>(keys_tried);
            if (std::any_of(tried.begin(), tried_end,
                            [&](const conn::Connection* t) { return t->same_psk(candidate); })) {
                continue;
            }
            if (keys_tried == tried.size()) break;
            tried[keys_tried++] = &candidate;
            conn::ConsumedInitiation initiation;
            if (candidate.authenticate_initiation(datagram, initiation)) continue;
            const auto owner = std::find_if(first, last, [&](const auto& route) {
                return route.first.channel == initiation.payload.channel &&
                       entries_[route.second].connection->same_psk(candidate);
            });
            if (owner == last) return false;  // this key, but a channel not open to that peer
            entries_[owner->second].connection->on_consumed_initiation(now, from,
                                                                       std::move(initiation));
            touch(owner->second);
            return true;
        }
        return false;  // no key of ours fits; the listener may still know it
    }

    // The connection an initiation authenticated with the listen key belongs to: the one whose
    // peer has that session id (it reconnects, maybe from a new address), else a listener-made
    // one at that address with that channel (the peer restarted). 0 if none.
    ConnectionHandle claimant(const PeerAddress& from, const conn::SessionId& session,
                              std::uint32_t channel) {
        const auto usable = [this](ConnectionHandle h) {
            const Entry* e = find(h);
            if (!e) return false;
            const ConnectionState state = e->connection->state();
            return state != ConnectionState::closing && state != ConnectionState::closed &&
                   e->connection->uses_psk(*listen_psk_);
        };
        if (auto it = by_session_.find(session); it != by_session_.end() && usable(it->second)) {
            return it->second;
        }
        const auto [first, last] = by_accepted_remote_.equal_range(RouteKey{from, channel});
        for (auto it = first; it != last; ++it) {
            if (usable(it->second)) return it->second;
        }
        return 0;
    }
};

EndpointCore::EndpointCore(const Config& config, Random& random)
    : impl_(std::make_unique<Impl>(config, random)) {}

EndpointCore::~EndpointCore() = default;

std::error_code EndpointCore::connect(TimePoint now, const PeerAddress& remote,
                                      std::string_view key, ConnectionHandle& handle,
                                      ConnectOptions options) {
    conn::ConnectionSetup setup{&impl_->config_, &impl_->random_, remote, {}, impl_->fresh_cid()};
    if (auto ec = crypto::derive_psk(key, setup.psk)) return ec;
    // The lowest channel not in use towards that address with that key: a restarted process
    // numbers its connections to a peer the same way again, so the peer recognises each one
    // (PROTOCOL.md section 5.11).
    std::set<std::uint32_t> used;
    for (auto it = impl_->by_remote_.lower_bound(RouteKey{remote, 0});
         it != impl_->by_remote_.end() && it->first.address == remote; ++it) {
        if (impl_->entries_[it->second].connection->uses_psk(setup.psk)) {
            used.insert(it->first.channel);
        }
    }
    while (used.count(setup.channel) != 0)
        ++setup.channel;
    const TimePoint deadline =
        options.deadline == TimePoint{} ? now + impl_->config_.handshake_timeout : options.deadline;
    handle =
        impl_->add(std::make_unique<conn::Connection>(setup, now, deadline), true, std::nullopt);
    OPENSSL_cleanse(setup.psk.data(), setup.psk.size());
    return {};
}

std::error_code EndpointCore::listen(std::string_view key) {
    crypto::Psk psk;
    if (auto ec = crypto::derive_psk(key, psk)) return ec;
    impl_->listen_psk_ = psk;
    OPENSSL_cleanse(psk.data(), psk.size());
    return {};
}

void EndpointCore::stop_listening() {
    if (impl_->listen_psk_) OPENSSL_cleanse(impl_->listen_psk_->data(), impl_->listen_psk_->size());
    impl_->listen_psk_.reset();
}

void EndpointCore::receive(TimePoint now, const PeerAddress& from, ByteView datagram) {
    auto& d = *impl_;
    ++d.stats_.datagrams_received;
    codec::PacketHeader header;
    std::size_t header_size = 0;
    if (!codec::looks_like_srmudp(datagram) ||
        codec::decode_packet_header(datagram, header, header_size)) {
        ++d.stats_.datagrams_dropped;
        return;
    }
    if (header.type == codec::PacketType::initiation) {
        d.receive_initiation(now, from, datagram, header);
        return;
    }
    auto it = d.by_cid_.find(header.receiver_cid);
    if (it == d.by_cid_.end()) {
        ++d.stats_.datagrams_dropped;
        return;
    }
    auto& c = *d.entries_[it->second].connection;
    const std::uint64_t established_before = c.times_established();
    if (header.type == codec::PacketType::response) {
        c.on_response(now, from, datagram);
    } else {
        c.on_data(now, from, datagram, header, header_size);
    }
    d.stats_.handshakes_completed += c.times_established() - established_before;
    d.touch(it->second);
}

std::size_t EndpointCore::poll_transmit(TimePoint now, MutableByteView out, PeerAddress& to) {
    auto& d = *impl_;
    while (!d.send_queue_.empty()) {
        const ConnectionHandle h = d.send_queue_.front();
        d.send_queue_.pop_front();
        auto* e = d.find(h);
        if (!e) continue;
        e->in_send_queue = false;
        const std::size_t n = e->connection->poll_transmit(now, out, to);
        if (n == 0) {
            d.touch(h);  // its timer may have moved (e.g. the ack it owed went out earlier)
            // touch() re-queued it for sending; it has nothing now, so take it off again.
            if (e = d.find(h); e && e->in_send_queue && d.send_queue_.back() == h) {
                d.send_queue_.pop_back();
                e->in_send_queue = false;
            }
            continue;
        }
        d.touch(h);  // round robin: it goes to the back of the queue
        return n;
    }
    return 0;
}

TimePoint EndpointCore::next_deadline() const {
    if (!impl_->send_queue_.empty()) return TimePoint::min();  // poll_transmit has work to try
    return impl_->timers_.empty() ? kNever : impl_->timers_.begin()->first;
}

void EndpointCore::handle_timeout(TimePoint now) {
    auto& d = *impl_;
    std::vector<ConnectionHandle> due;
    for (auto it = d.timers_.begin(); it != d.timers_.end() && it->first <= now; ++it) {
        due.push_back(it->second);
    }
    for (ConnectionHandle h : due) {
        if (auto* e = d.find(h)) {
            e->connection->on_timeout(now);
            d.touch(h);
        }
    }
}

bool EndpointCore::poll_event(EndpointEvent& out) {
    auto& d = *impl_;
    while (!d.event_queue_.empty()) {
        const ConnectionHandle h = d.event_queue_.front();
        auto* e = d.find(h);
        if (!e || !e->connection->poll_event(out.event)) {
            if (e) e->in_event_queue = false;
            d.event_queue_.pop_front();
            continue;
        }
        out.connection = h;
        if (!e->connection->has_events()) {
            e->in_event_queue = false;
            d.event_queue_.pop_front();
            d.touch(h);  // a closed connection that told everything is forgotten here
        }
        return true;
    }
    return false;
}

std::error_code EndpointCore::send(ConnectionHandle handle, MessageKind kind, ByteView data,
                                   MessageId& id) {
    auto* e = impl_->find(handle);
    if (!e) return make_error_code(error::invalid_argument);
    auto ec = e->connection->send(kind, data, id);
    impl_->touch(handle);
    return ec;
}

void EndpointCore::close(ConnectionHandle handle, TimePoint now, std::uint64_t code,
                         std::string_view reason) {
    auto* e = impl_->find(handle);
    if (!e) return;
    e->connection->close(now, code, reason);
    impl_->touch(handle);
}

void EndpointCore::set_receive_paused(ConnectionHandle handle, bool paused) {
    auto* e = impl_->find(handle);
    if (!e) return;
    e->connection->set_receive_paused(paused);
    impl_->touch(handle);  // resuming queues events and MAX_DATA
}

ConnectionState EndpointCore::state(ConnectionHandle handle) const {
    auto* e = impl_->find(handle);
    return e ? e->connection->state() : ConnectionState::closed;
}

ConnectionStats EndpointCore::stats(ConnectionHandle handle) const {
    auto* e = impl_->find(handle);
    return e ? e->connection->stats() : ConnectionStats{};
}

EndpointStats EndpointCore::stats() const {
    EndpointStats s = impl_->stats_;
    s.connections = impl_->entries_.size();
    return s;
}

std::size_t EndpointCore::max_transmit_size() const {
    return conn::max_transmit_size(impl_->config_);
}

PeerAddress EndpointCore::remote_address(ConnectionHandle handle) const {
    auto* e = impl_->find(handle);
    return e ? e->connection->remote() : PeerAddress{};
}

}  // namespace srmudp
