// The Asio driver of EndpointCore: one UDP socket, one timer, batched I/O.
//
// Each wake-up (socket readable, socket writable again, timer, or a send()/close() from the
// application) runs the same step: feed what arrived to the core, send what it wants sent,
// hand its events to the connections' handlers, and make sure the timer fires by its next
// deadline.
#include "srmudp/endpoint.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <deque>
#include <unordered_map>
#include <variant>

#include "asio/udp_batch.hpp"
#include "srmudp/error.hpp"
#include "srmudp/stun.hpp"

namespace srmudp {

namespace {

// Datagrams read per wake-up before the step yields to sending, timers and other handlers.
constexpr std::size_t kMaxReadsPerWakeup = 8 * asio_driver::kBatch;
// Events dispatched per step; the rest follow in a posted step so no handler starves the loop.
constexpr std::size_t kMaxEventsPerStep = 4096;

TimePoint now_time() {
    return TimePoint(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace

class Connection::Impl {
  public:
    Impl(std::weak_ptr<Endpoint::Impl> endpoint, ConnectionHandle handle, PeerAddress remote)
        : endpoint_(std::move(endpoint)), handle_(handle), remote_(remote) {}

    std::weak_ptr<Endpoint::Impl> endpoint_;
    ConnectionHandle handle_;
    PeerAddress remote_;  // the last address known, kept for after the connection ends
    ConnectionHandlers handlers_;
    ConnectionState last_state_ = ConnectionState::connecting;
    ConnectionStats final_stats_{};
    // Receive pause: messages the core reported before it was paused wait here. Bounded: the
    // core reports no more while paused.
    bool receive_paused_ = false;
    std::deque<Message> held_;

    // Hands held messages to on_message until empty or paused again (a handler may pause).
    void release_held() {
        while (!receive_paused_ && !held_.empty()) {
            Message m = std::move(held_.front());
            held_.pop_front();
            if (handlers_.on_message) handlers_.on_message(std::move(m));
        }
    }
};

class Endpoint::Impl : public std::enable_shared_from_this<Endpoint::Impl> {
  public:
    Impl(asio::io_context& io, const EndpointOptions& options)
        : io_(io),
          socket_(io),
          timer_(io),
          core_(options.config, system_random()),
          // Slots hold the largest datagram the core writes (MTU probes included) and anything
          // a peer with the same configuration sends.
          batch_(std::max<std::size_t>(2048, core_.max_transmit_size())),
          stun_(system_random()) {}

    // Asio reports socket errors in its own category; hand users std::system_category codes,
    // which compare equal to std::errc values.
    static std::error_code system_error(const std::error_code& ec) {
        return ec ? std::error_code(ec.value(), std::system_category()) : ec;
    }

    std::error_code open(const EndpointOptions& options) {
        std::error_code ec;
        const auto address = asio::ip::make_address(options.bind_address, ec);
        if (ec) return std::make_error_code(std::errc::invalid_argument);
        const asio::ip::udp::endpoint local(address, options.port);
        socket_.open(local.protocol(), ec);
        if (ec) return system_error(ec);
        ipv6_ = address.is_v6();
        if (ipv6_ && address.is_unspecified()) socket_.set_option(asio::ip::v6_only(false), ec);
        if (options.receive_buffer_bytes > 0) {
            socket_.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer_bytes),
                               ec);
        }
        if (options.send_buffer_bytes > 0) {
            socket_.set_option(asio::socket_base::send_buffer_size(options.send_buffer_bytes), ec);
        }
        socket_.bind(local, ec);
        if (ec) return system_error(ec);
        socket_.non_blocking(true, ec);
        if (ec) return system_error(ec);
        // Best effort: without GRO every datagram takes its own receive entry, as before.
        batch_.enable_gro(socket_.native_handle());
        return {};
    }

    void start() { wait_readable(); }

    // --- wake-ups -------------------------------------------------------------------------

    void wait_readable() {
        socket_.async_wait(asio::ip::udp::socket::wait_read,
                           [self = shared_from_this()](std::error_code ec) {
                               if (ec || self->closed_) return;
                               self->on_readable();
                           });
    }

    void on_readable() {
        const TimePoint now = now_time();
        std::size_t total = 0;
        while (total < kMaxReadsPerWakeup) {
            const std::size_t n = batch_.receive(socket_.native_handle());
            if (n == 0) break;
            for (std::size_t i = 0; i < n; ++i) {
                const PeerAddress from = batch_.source(i);
                total += asio_driver::for_each_datagram(
                    batch_.datagram(i), batch_.segment_size(i),
                    [&](ByteView datagram) { deliver(now, from, datagram); });
            }
            // A short batch emptied the socket's queue: another recvmmsg would only say
            // EAGAIN. async_wait re-arms the (edge-triggered) registration, which reports a
            // datagram that arrived since.
            if (batch_.short_batch()) break;
        }
        step();
        wait_readable();
    }

    void deliver(TimePoint now, const PeerAddress& from, ByteView datagram) {
        if (stun_pending_ && stun_.receive(now, from, datagram)) return;
        core_.receive(now, from, datagram);
    }

    void wait_writable() {
        if (write_waiting_) return;
        write_waiting_ = true;
        socket_.async_wait(asio::ip::udp::socket::wait_write,
                           [self = shared_from_this()](std::error_code ec) {
                               self->write_waiting_ = false;
                               if (ec || self->closed_) return;
                               self->step();
                           });
    }

    void on_timer() {
        const TimePoint now = now_time();
        core_.handle_timeout(now);
        if (stun_pending_) stun_.handle_timeout(now);
        step();
    }

    // An application call changed the core: run one step soon (once, however many calls).
    void schedule_step() {
        // From a handler that dispatch_events() is running: the transmit and the timer of that
        // step follow the dispatch, so a posted step would find nothing left to do.
        if (in_dispatch_ || step_posted_ || closed_) return;
        step_posted_ = true;
        asio::post(io_, [self = shared_from_this()] {
            self->step_posted_ = false;
            if (!self->closed_) self->step();
        });
    }

    // --- the step -------------------------------------------------------------------------

    // Events go to the application before anything is sent: an ACK leaves only after the
    // messages it acknowledges were handed over, so "delivered" at the peer never covers a
    // message this process received but had not yet passed on (except what a receive pause
    // holds: those messages are acknowledged while held).
    void step() {
        dispatch_events();
        finish_stun();
        if (!transmit()) wait_writable();
        arm_timer();
    }

    // Sends everything the core and the STUN client want to send now. False if the socket
    // would block (the rest waits for writability).
    bool transmit() {
        if (batch_.pending() > 0 && !batch_.flush(socket_.native_handle())) return false;
        const TimePoint now = now_time();
        for (;;) {
            PeerAddress to;
            std::size_t n = 0;
            if (stun_pending_) n = stun_.poll_transmit(now, batch_.next_slot(), to);
            if (n == 0) n = core_.poll_transmit(now, batch_.next_slot(), to);
            if (n == 0) break;
            if (to.family == PeerAddress::Family::v6 && !ipv6_) continue;  // unreachable from here
            batch_.commit(n, to, ipv6_);
            if (batch_.full() && !batch_.flush(socket_.native_handle())) return false;
        }
        return batch_.pending() == 0 || batch_.flush(socket_.native_handle());
    }

    void arm_timer() {
        TimePoint next = core_.next_deadline();
        if (stun_pending_) next = std::min(next, stun_.next_deadline());
        if (next == TimePoint::min()) return;  // blocked on writability; its wake-up follows
        // The deadline moves with almost every packet (pacing, ack and loss timers), mostly
        // later. Re-arming costs a system call (timerfd_settime) and a cancelled handler, so an
        // armed timer at or before the deadline is kept: it fires early, finds nothing due, and
        // the step that follows arms the real deadline. Only an earlier deadline re-arms.
        if (armed_ <= next) return;
        armed_ = next;
        timer_.expires_at(std::chrono::steady_clock::time_point(next.time_since_epoch()));
        timer_.async_wait([self = shared_from_this(), next](std::error_code ec) {
            if (ec || self->closed_ || self->armed_ != next) return;
            self->armed_ = kNever;
            self->on_timer();
        });
    }

    // --- events ---------------------------------------------------------------------------

    void dispatch_events() {
        EndpointEvent ev;
        {
            struct Dispatching {
                bool& flag;
                explicit Dispatching(bool& f) : flag(f) { flag = true; }
                ~Dispatching() { flag = false; }
            } dispatching(in_dispatch_);
            for (std::size_t n = 0; n < kMaxEventsPerStep; ++n) {
                if (!core_.poll_event(ev)) return;
                dispatch(ev);
            }
        }
        schedule_step();  // more events wait; let other handlers run first
    }

    void dispatch(EndpointEvent& ev) {
        if (std::holds_alternative<ConnectionAccepted>(ev.event)) {
            auto conn = adopt(ev.connection);
            if (on_accept_) on_accept_(conn);
            return;
        }
        auto it = connections_.find(ev.connection);
        if (it == connections_.end()) return;
        std::shared_ptr<Connection> conn = it->second;  // handlers may drop theirs
        auto& c = *conn->impl_;
        std::visit([&](auto& e) { deliver_event(ev.connection, c, e); }, ev.event);
    }

    void deliver_event(ConnectionHandle h, Connection::Impl& c, StateChanged& e) {
        c.last_state_ = e.state;
        if (e.state != ConnectionState::closed) {
            if (c.handlers_.on_state) c.handlers_.on_state(e.state, e.reason);
            return;
        }
        // Nothing can be held back any more: what the connection received goes out first.
        c.receive_paused_ = false;
        c.release_held();
        c.final_stats_ = core_.stats(h);
        connections_.erase(h);
        // Nothing follows `closed`: release the handlers (and whatever they captured, which
        // may be the connection itself) once this last one has run.
        const ConnectionHandlers last = std::move(c.handlers_);
        c.handlers_ = {};
        if (last.on_state) last.on_state(e.state, e.reason);
    }
    void deliver_event(ConnectionHandle, Connection::Impl& c, MessageReceived& e) {
        c.release_held();  // older messages first
        if (c.receive_paused_ || !c.held_.empty()) {
            c.held_.push_back(std::move(e.message));
            return;
        }
        if (c.handlers_.on_message) c.handlers_.on_message(std::move(e.message));
    }
    void deliver_event(ConnectionHandle, Connection::Impl& c, MessageDelivered& e) {
        if (c.handlers_.on_delivered) c.handlers_.on_delivered(e.id);
    }
    void deliver_event(ConnectionHandle, Connection::Impl& c, MessageFailed& e) {
        if (c.handlers_.on_failed) c.handlers_.on_failed(e.id, e.reason);
    }
    void deliver_event(ConnectionHandle, Connection::Impl& c, SendBufferAvailable&) {
        if (c.handlers_.on_writable) c.handlers_.on_writable();
    }
    void deliver_event(ConnectionHandle, Connection::Impl&, ConnectionAccepted&) {}

    std::shared_ptr<Connection> adopt(ConnectionHandle h) {
        auto impl =
            std::make_shared<Connection::Impl>(weak_from_this(), h, core_.remote_address(h));
        std::shared_ptr<Connection> conn(new Connection(std::move(impl)));
        connections_[h] = conn;
        return conn;
    }

    // --- STUN -----------------------------------------------------------------------------

    void finish_stun() {
        if (!stun_pending_ || !stun_.finished()) return;
        stun_pending_ = false;
        auto done = std::move(stun_done_);
        stun_done_ = nullptr;
        if (done) done(stun_.result_error(), stun_.mapped_address().value_or(PeerAddress{}));
    }

    void close_all() {
        if (closed_) return;
        const TimePoint now = now_time();
        for (auto& [h, conn] : connections_)
            core_.close(h, now, 0, "endpoint closed");
        transmit();  // the CLOSE frames go out now; the peers need nothing else from us
        // No handler runs from here (this may be the destructor): the connections just end.
        for (auto& [h, conn] : connections_) {
            conn->impl_->final_stats_ = core_.stats(h);
            conn->impl_->last_state_ = ConnectionState::closed;
            conn->impl_->handlers_ = {};
        }
        connections_.clear();
        closed_ = true;
        if (stun_pending_) {
            stun_pending_ = false;
            if (auto done = std::move(stun_done_)) {
                done(std::make_error_code(std::errc::operation_canceled), PeerAddress{});
            }
        }
        std::error_code ignored;
        timer_.cancel();
        socket_.close(ignored);
    }

    asio::io_context& io_;
    asio::ip::udp::socket socket_;
    asio::steady_timer timer_;
    EndpointCore core_;
    asio_driver::UdpBatch batch_;
    StunClient stun_;
    bool stun_pending_ = false;
    std::function<void(std::error_code, PeerAddress)> stun_done_;
    bool ipv6_ = false;
    bool closed_ = false;
    bool step_posted_ = false;
    bool in_dispatch_ = false;  // dispatch_events() is handing events to handlers
    bool write_waiting_ = false;
    TimePoint armed_ = kNever;
    std::unordered_map<ConnectionHandle, std::shared_ptr<Connection>> connections_;
    std::function<void(std::shared_ptr<Connection>)> on_accept_;
};

// --- Endpoint ------------------------------------------------------------------------------

Endpoint::Endpoint(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Endpoint::~Endpoint() {
    impl_->close_all();
}

std::unique_ptr<Endpoint> Endpoint::open(asio::io_context& io, const EndpointOptions& options,
                                         std::error_code& ec) {
    auto impl = std::make_shared<Impl>(io, options);
    ec = impl->open(options);
    if (ec) return nullptr;
    impl->start();
    return std::unique_ptr<Endpoint>(new Endpoint(std::move(impl)));
}

PeerAddress Endpoint::local_address() const {
    std::error_code ec;
    const auto local = impl_->socket_.local_endpoint(ec);
    if (ec) return {};
    auto addr = PeerAddress::from_ip(local.address().to_string(), local.port());
    return addr.value_or(PeerAddress{});
}

std::shared_ptr<Connection> Endpoint::connect(const PeerAddress& remote, std::string_view key,
                                              std::error_code& ec, Duration timeout) {
    if (impl_->closed_ || (remote.family == PeerAddress::Family::v6 && !impl_->ipv6_)) {
        ec = make_error_code(error::invalid_argument);
        return nullptr;
    }
    const TimePoint now = now_time();
    ConnectOptions options;
    if (timeout > Duration::zero()) options.deadline = now + timeout;
    ConnectionHandle h = 0;
    ec = impl_->core_.connect(now, remote, key, h, options);
    if (ec) return nullptr;
    auto conn = impl_->adopt(h);
    impl_->schedule_step();
    return conn;
}

std::error_code Endpoint::listen(std::string_view key,
                                 std::function<void(std::shared_ptr<Connection>)> on_accept) {
    if (auto ec = impl_->core_.listen(key)) return ec;
    impl_->on_accept_ = std::move(on_accept);
    return {};
}

void Endpoint::stop_listening() {
    impl_->core_.stop_listening();
    impl_->on_accept_ = nullptr;
}

void Endpoint::discover_public_address(const PeerAddress& stun_server, Duration timeout,
                                       std::function<void(std::error_code, PeerAddress)> done) {
    if (impl_->stun_pending_ && impl_->stun_done_) {
        auto previous = std::move(impl_->stun_done_);
        previous(std::make_error_code(std::errc::operation_canceled), PeerAddress{});
    }
    if (impl_->closed_) {
        done(std::make_error_code(std::errc::operation_canceled), PeerAddress{});
        return;
    }
    const TimePoint now = now_time();
    impl_->stun_.start(now, stun_server, now + timeout);
    impl_->stun_pending_ = true;
    impl_->stun_done_ = std::move(done);
    impl_->schedule_step();
}

void Endpoint::close() {
    impl_->close_all();
}

EndpointStats Endpoint::stats() const {
    return impl_->core_.stats();
}

// --- Connection ----------------------------------------------------------------------------

Connection::Connection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

void Connection::set_handlers(ConnectionHandlers handlers) {
    impl_->handlers_ = std::move(handlers);
}

std::error_code Connection::send(MessageKind kind, ByteView data, MessageId& id) {
    auto endpoint = impl_->endpoint_.lock();
    if (!endpoint || endpoint->closed_ || impl_->last_state_ == ConnectionState::closed) {
        return make_error_code(error::connection_closed);
    }
    auto ec = endpoint->core_.send(impl_->handle_, kind, data, id);
    endpoint->schedule_step();
    return ec;
}

void Connection::close(std::uint64_t code, std::string_view reason) {
    auto endpoint = impl_->endpoint_.lock();
    if (!endpoint || endpoint->closed_) return;
    endpoint->core_.close(impl_->handle_, now_time(), code, reason);
    endpoint->schedule_step();
}

void Connection::pause_receiving() {
    auto endpoint = impl_->endpoint_.lock();
    if (!endpoint || endpoint->closed_ || impl_->last_state_ == ConnectionState::closed) return;
    impl_->receive_paused_ = true;
    endpoint->core_.set_receive_paused(impl_->handle_, true);
}

void Connection::resume_receiving() {
    auto endpoint = impl_->endpoint_.lock();
    if (!endpoint || endpoint->closed_ || impl_->last_state_ == ConnectionState::closed) return;
    impl_->receive_paused_ = false;
    endpoint->core_.set_receive_paused(impl_->handle_, false);
    // Not from here: the caller may be inside a handler of this connection.
    asio::post(endpoint->io_, [impl = impl_] { impl->release_held(); });
    endpoint->schedule_step();
}

ConnectionState Connection::state() const {
    auto endpoint = impl_->endpoint_.lock();
    if (!endpoint || impl_->last_state_ == ConnectionState::closed) return ConnectionState::closed;
    return endpoint->core_.state(impl_->handle_);
}

ConnectionStats Connection::stats() const {
    auto endpoint = impl_->endpoint_.lock();
    if (!endpoint || impl_->last_state_ == ConnectionState::closed) return impl_->final_stats_;
    return endpoint->core_.stats(impl_->handle_);
}

PeerAddress Connection::remote_address() const {
    // The peer's address can change (NAT rebinding); the core knows the current one.
    auto endpoint = impl_->endpoint_.lock();
    if (endpoint && impl_->last_state_ != ConnectionState::closed) {
        impl_->remote_ = endpoint->core_.remote_address(impl_->handle_);
    }
    return impl_->remote_;
}

std::size_t Connection::buffered_amount() const {
    return stats().send_buffer_bytes;
}

}  // namespace srmudp
