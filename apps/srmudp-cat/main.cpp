// srmudp-cat: a netcat-like srmudp peer for people and scripts (see --help).
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "options.hpp"
#include "srmudp/endpoint.hpp"
#include "srmudp/error.hpp"
#include "stdin_reader.hpp"

namespace srmudp::cat {
namespace {

class App {
  public:
    App(asio::io_context& io, Options options)
        : io_(io),
          options_(std::move(options)),
          signals_(io, SIGINT, SIGTERM),
          linger_timer_(io),
          reader_(options_.binary, options_.max_message_size(),
                  [this] { asio::post(io_, [this] { pump(); }); }) {}

    int run() {
        std::error_code ec;
        EndpointOptions eo;
        eo.bind_address = options_.bind_address;
        eo.port = options_.local_port;
        endpoint_ = Endpoint::open(io_, eo, ec);
        if (!endpoint_) {
            error("cannot open UDP socket on " + options_.bind_address + ":" +
                  std::to_string(options_.local_port) + ": " + ec.message());
            return 1;
        }
        status("local address " + endpoint_->local_address().to_string());
        signals_.async_wait([this](std::error_code e, int) {
            if (!e) stop(stdin_done_ && undelivered_.empty() ? 0 : 1, "interrupted");
        });
        if (options_.stun_server) {
            endpoint_->discover_public_address(
                *options_.stun_server, options_.stun_timeout,
                [this](std::error_code e, PeerAddress a) { on_public_address(e, a); });
        } else {
            begin();
        }
        io_.run();
        return exit_code_;
    }

  private:
    void on_public_address(std::error_code ec, const PeerAddress& address) {
        if (ec) {
            error("STUN query to " + options_.stun_server->to_string() +
                  " failed: " + ec.message());
            return stop(1);
        }
        // Printed even with --quiet: the caller asked for it.
        std::fprintf(stderr, "srmudp-cat: public address %s\n", address.to_string().c_str());
        std::fflush(stderr);
        begin();
    }

    void begin() {
        if (options_.listen) {
            auto ec = endpoint_->listen(
                options_.key, [this](std::shared_ptr<Connection> c) { on_accept(std::move(c)); });
            if (ec) return error("cannot listen: " + ec.message()), stop(1);
            status("listening");
            return;
        }
        if (options_.remote_from_stdin && !read_remote_from_stdin()) return stop(1);
        std::error_code ec;
        auto conn =
            endpoint_->connect(*options_.remote, options_.key, ec, options_.connect_timeout);
        if (!conn) return error("cannot connect: " + ec.message()), stop(1);
        status("connecting to " + options_.remote->to_string());
        attach(std::move(conn));
        reader_.start();
    }

    // The first line of stdin names the peer. Read byte by byte so that nothing after it is
    // taken from the reader thread that starts afterwards.
    bool read_remote_from_stdin() {
        status("waiting for the peer's HOST:PORT on stdin");
        std::string line;
        char c = 0;
        while (line.size() < 256 && ::read(STDIN_FILENO, &c, 1) == 1 && c != '\n')
            line.push_back(c);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        options_.remote = PeerAddress::parse(line);
        if (!options_.remote || options_.remote->port == 0) {
            error("the first line of stdin must be the peer's IP:PORT, got '" + line.substr(0, 64) +
                  "'");
            return false;
        }
        return true;
    }

    void on_accept(std::shared_ptr<Connection> conn) {
        if (conn_) {
            conn->close(1, "busy: serving another peer");
            return;
        }
        status("accepted " + conn->remote_address().to_string());
        attach(std::move(conn));
        if (!reader_started_) {
            reader_started_ = true;
            reader_.start();
        }
        pump();
    }

    void attach(std::shared_ptr<Connection> conn) {
        conn_ = std::move(conn);
        ConnectionHandlers h;
        h.on_state = [this](ConnectionState s, std::error_code reason) { on_state(s, reason); };
        h.on_message = [this](Message&& m) { write_message(m); };
        h.on_delivered = [this](MessageId id) {
            undelivered_.erase(id);
            maybe_finish();
        };
        h.on_failed = [this](MessageId id, std::error_code reason) {
            undelivered_.erase(id);
            ++failed_;
            error("message " + std::to_string(id) + " failed: " + reason.message());
        };
        h.on_writable = [this] { pump(); };
        conn_->set_handlers(std::move(h));
    }

    void on_state(ConnectionState state, std::error_code reason) {
        if (state == ConnectionState::established) {
            status("established with " + conn_->remote_address().to_string() +
                   (reason ? " (" + reason.message() + ")" : ""));
            if (stdin_done_ && !options_.listen) start_linger();
            pump();
        } else if (state == ConnectionState::closed) {
            on_closed(reason);
        } else if (state != ConnectionState::closing) {
            status(std::string(to_string(state)) + (reason ? ": " + reason.message() : ""));
        }
    }

    void on_closed(std::error_code reason) {
        const bool clean = reason == error::closed_locally || reason == error::peer_closed;
        if (clean)
            status("closed: " + reason.message());
        else
            error("connection failed: " + reason.message());
        const int code = clean && failed_ == 0 && undelivered_.empty() ? 0 : 1;
        conn_.reset();
        if (options_.keep_listening) {
            failed_ = 0;
            undelivered_.clear();
            return;
        }
        stop(code);
    }

    // Moves stdin's messages into the connection until its send buffer is full.
    void pump() {
        if (!conn_ || stopping_) return;
        for (;;) {
            bool ended = false;
            auto message = reader_.take(ended);
            if (!message) {
                if (ended && !stdin_done_) on_stdin_end();
                return;
            }
            MessageId id = 0;
            auto ec = conn_->send(message->kind, ByteView(message->data), id);
            if (ec == error::send_buffer_full) {
                reader_.put_back(std::move(*message));
                return;  // on_writable calls pump() again
            }
            if (ec == error::connection_closed) {
                reader_.put_back(std::move(*message));
                return;  // the connection ended; its closed event (with the reason) follows
            }
            if (ec) return error("send failed: " + ec.message()), stop(1);
            undelivered_.insert(id);
        }
    }

    void on_stdin_end() {
        stdin_done_ = true;
        if (options_.listen) return;  // a listener serves its peer until the peer closes
        // While still connecting, --connect-timeout governs; the linger starts once connected.
        if (conn_ && conn_->state() == ConnectionState::established) start_linger();
        maybe_finish();
    }

    void start_linger() {
        if (linger_started_) return;
        linger_started_ = true;
        linger_timer_.expires_after(options_.linger);
        linger_timer_.async_wait([this](std::error_code e) {
            if (e || stopping_) return;
            error(std::to_string(undelivered_.size()) + " message(s) not acknowledged after " +
                  "--linger; giving up");
            stop(1);
        });
    }

    void maybe_finish() {
        if (options_.listen || !stdin_done_ || !undelivered_.empty() || !conn_) return;
        if (conn_->state() != ConnectionState::established) return;
        linger_timer_.cancel();
        conn_->close(0, "done");  // on_state(closed) ends the program
    }

    void stop(int code, const char* why = nullptr) {
        if (stopping_) return;
        stopping_ = true;
        if (why) status(why);
        exit_code_ = code;
        linger_timer_.cancel();
        signals_.cancel();
        if (conn_) conn_->close(0, why ? why : "done");
        endpoint_.reset();  // sends CLOSE to any peer and releases the socket
        io_.stop();
    }

    void write_message(const Message& m) {
        if (!m.data.empty()) std::fwrite(m.data.data(), 1, m.data.size(), stdout);
        if (!options_.binary) std::fputc('\n', stdout);
        std::fflush(stdout);
    }

    void status(const std::string& line) const {
        if (options_.quiet) return;
        std::fprintf(stderr, "srmudp-cat: %s\n", line.c_str());
        std::fflush(stderr);
    }
    static void error(const std::string& line) {
        std::fprintf(stderr, "srmudp-cat: error: %s\n", line.c_str());
        std::fflush(stderr);
    }

    asio::io_context& io_;
    Options options_;
    asio::signal_set signals_;
    asio::steady_timer linger_timer_;
    StdinReader reader_;
    std::unique_ptr<Endpoint> endpoint_;
    std::shared_ptr<Connection> conn_;
    std::set<MessageId> undelivered_;
    std::size_t failed_ = 0;
    bool stdin_done_ = false;
    bool reader_started_ = false;
    bool linger_started_ = false;
    bool stopping_ = false;
    int exit_code_ = 0;
};

}  // namespace
}  // namespace srmudp::cat

int main(int argc, char** argv) {
    auto parsed = srmudp::cat::parse_options(argc, argv, std::getenv("SRMUDP_KEY"));
    if (!parsed.options) {
        std::fprintf(parsed.exit_code == 0 ? stdout : stderr, "%s\n", parsed.message.c_str());
        return parsed.exit_code;
    }
    asio::io_context io;
    srmudp::cat::App app(io, std::move(*parsed.options));
    return app.run();
}
