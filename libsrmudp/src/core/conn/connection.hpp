// One srmudp connection as a sans-IO state machine.
//
// The endpoint routes datagrams to it (on_initiation / on_response / on_data), asks it for
// datagrams (poll_transmit), runs its timers (deadline / on_timeout) and drains its events.
// Inside, the connection only sequences the mechanisms that live in their own files: the
// handshake (handshake.hpp), packet protection (packet_protection.hpp), the packet session
// (session.hpp: loss recovery, acknowledgements, congestion control), the message streams
// (message/), path validation (path.hpp) and path MTU discovery (pmtu.hpp).
//
//   connecting --(handshake proven)--> established --(close)--> closing --> closed
//        |                               |     ^
//        |                  idle timeout |     | handshake proven: streams resume
//        |                   (reconnect) v     | (or restart if the peer lost its state)
//        |                           reconnecting --(reconnect_timeout)--> closed
//        \--(deadline, wrong key)--> closed
//
// The source files split by mechanism: connection.cpp (lifecycle, timers, events),
// connection_recv.cpp (receive path), connection_send.cpp (transmit path), resume.cpp
// (handshakes, reconnect and resume), connection_path.cpp (migration and path MTU).
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "core/codec/frame.hpp"
#include "core/codec/packet.hpp"
#include "core/conn/constants.hpp"
#include "core/conn/handshake.hpp"
#include "core/conn/path.hpp"
#include "core/conn/pmtu.hpp"
#include "core/conn/session.hpp"
#include "core/message/recv_stream.hpp"
#include "core/message/send_stream.hpp"
#include "core/recovery/rtt.hpp"
#include "srmudp/address.hpp"
#include "srmudp/config.hpp"
#include "srmudp/events.hpp"
#include "srmudp/random.hpp"

namespace srmudp::conn {

using SessionId = std::array<std::uint8_t, kSessionIdSize>;

struct ConnectionSetup {
    const Config* config = nullptr;
    Random* random = nullptr;
    PeerAddress remote;
    crypto::Psk psk{};
    ConnectionId local_cid = 0;
    // Which of the connections between the same two addresses (PROTOCOL.md section 2.5): chosen
    // by connect(), taken from the initiation by the listener.
    std::uint32_t channel = 0;
};

// Bytes poll_transmit() may need: the largest datagram the config lets a connection send.
std::size_t max_transmit_size(const Config& config);

class Connection {
  public:
    // connect(): sends initiations until answered or `deadline`; on simultaneous open it answers
    // the peer's initiation instead when the tie-break says so.
    Connection(const ConnectionSetup& setup, TimePoint now, TimePoint deadline);
    // listen(): answers an initiation from setup.remote that already authenticated.
    Connection(const ConnectionSetup& setup, TimePoint now, ConsumedInitiation&& initiation);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // An INITIATION routed here (simultaneous open, a retransmission, a reconnecting or
    // restarted peer); authenticated with this connection's psk. Returns false, doing nothing,
    // if it authenticates but carries another channel: it is for another connection between
    // the same addresses.
    bool on_initiation(TimePoint now, const PeerAddress& from, ByteView datagram);
    // The same, already authenticated by the endpoint with a psk this connection uses.
    void on_consumed_initiation(TimePoint now, const PeerAddress& from,
                                ConsumedInitiation&& initiation);
    // Authenticates an initiation with this connection's psk and changes nothing (no failure is
    // counted): the endpoint asks when several connections share the initiation's address.
    std::error_code authenticate_initiation(ByteView datagram, ConsumedInitiation& out) const;
    // True if both connections authenticate handshakes with the same psk (constant time).
    bool same_psk(const Connection& other) const { return uses_psk(other.psk_); }
    void on_response(TimePoint now, const PeerAddress& from, ByteView datagram);
    void on_data(TimePoint now, const PeerAddress& from, ByteView datagram,
                 const codec::PacketHeader& header, std::size_t header_size);

    // Writes the next datagram into out and sets its destination (the peer, the address being
    // validated, or where an initiation came from); 0 when nothing is due. Never writes more
    // than out.size(): a smaller buffer only means smaller packets (and no MTU probes).
    std::size_t poll_transmit(TimePoint now, MutableByteView out, PeerAddress& to);
    TimePoint deadline() const;
    void on_timeout(TimePoint now);
    bool poll_event(Event& out);
    bool has_events() const { return !events_.empty(); }

    std::error_code send(MessageKind kind, ByteView data, MessageId& id);
    void close(TimePoint now, std::uint64_t code, std::string_view reason);
    // While paused, complete messages stay in the receive stream, uncredited, so flow control
    // stops the peer; resuming hands them over in order. A connection that closes hands over
    // what it holds (the peer counts those messages delivered).
    void set_receive_paused(bool paused);
    bool receive_paused() const { return receive_paused_; }

    ConnectionState state() const { return state_; }
    // Handshakes this connection completed (the first one and each reconnect), also those whose
    // connection closed again within the same datagram.
    std::uint64_t times_established() const { return times_established_; }
    ConnectionStats stats() const;
    ConnectionId local_cid() const { return local_cid_; }
    // The peer's connection ID once a handshake completed, else 0. It stays the same across the
    // peer's reconnects (a restarted peer has a new one).
    ConnectionId peer_cid() const { return peer_cid_; }
    std::uint32_t channel() const { return channel_; }
    const PeerAddress& remote() const { return remote_; }
    bool accepted_by_listener() const { return accepted_by_listener_; }
    bool authenticated_failures() const { return auth_failures_ > 0; }
    // The peer's session id from the first completed handshake (updated if the peer restarted).
    const std::optional<SessionId>& peer_session_id() const { return peer_session_id_; }
    // True if the connection authenticates handshakes with psk (constant time).
    bool uses_psk(const crypto::Psk& psk) const;

  private:
    // What both public constructors share.
    Connection(const ConnectionSetup& setup, TimePoint now, TimePoint handshake_deadline,
               bool accepted_by_listener);
    // handshakes, reconnect and resume (resume.cpp)
    HandshakePayload local_payload() const;
    void start_initiation(TimePoint now);
    bool answer_copy(TimePoint now, ByteView datagram);
    void repeat_response(TimePoint now, ResponderAttempt& attempt);
    void handle_initiation(TimePoint now, const PeerAddress& from, ConsumedInitiation&& in);
    void answer_initiation(TimePoint now, const PeerAddress& from, ConsumedInitiation&& in);
    ResponderAttempt* find_attempt(const crypto::X25519Key& initiator_ephemeral);
    bool is_ignored(const crypto::X25519Key& ephemeral) const;
    void ignore_ephemeral(const crypto::X25519Key& ephemeral);
    bool open_with_attempt(TimePoint now, ByteView datagram, const codec::PacketHeader& header,
                           std::size_t header_size, std::size_t& plaintext_size);
    void take_handshake_rtt_sample(TimePoint now, TimePoint first_sent, unsigned sends);
    void commit_session(TimePoint now, std::unique_ptr<PacketProtection> keys, bool initiator,
                        ConnectionId peer_cid, const HandshakePayload& peer,
                        const PeerAddress& peer_address, const crypto::X25519Key& ephemeral);
    std::error_code adopt_peer_streams(const HandshakePayload& peer);
    void become_established(TimePoint now, std::error_code reason);
    void enter_reconnecting(TimePoint now);
    void drop_session();
    void expire_attempts(TimePoint now);
    Duration attempt_lifetime() const;
    void note_authentication_failure(TimePoint now);

    // receiving (connection_recv.cpp)
    std::error_code process_frames(TimePoint now, const PeerAddress& from, ByteView plaintext,
                                   bool& ack_eliciting);
    std::error_code on_ack_frame(TimePoint now, const codec::AckFrame& ack);
    std::error_code on_stream_frame(const codec::StreamFrame& frame);
    void on_close_frame(const codec::CloseFrame& frame);
    void on_packets_lost(TimePoint now, const std::vector<recovery::SentPacket>& lost,
                         bool persistent_congestion);
    void report_delivered();
    void collect_stream_events();
    void hand_over_messages();

    // sending (connection_send.cpp)
    std::size_t transmit_handshake(TimePoint now, MutableByteView out, PeerAddress& to);
    std::size_t transmit_close(MutableByteView out);
    std::size_t transmit_path_challenge(TimePoint now, MutableByteView out, PeerAddress& to);
    std::size_t transmit_pmtu_probe(TimePoint now, MutableByteView out);
    std::size_t transmit_data(TimePoint now, MutableByteView out);
    std::size_t seal_and_track(TimePoint now, std::size_t frames, recovery::SentPacket& record,
                               MutableByteView out);
    bool wants_to_send(TimePoint now) const;
    bool can_send_stream_data(TimePoint now, TimePoint* blocked_until) const;
    std::size_t build_frames(TimePoint now, MutableByteView plaintext,
                             recovery::SentPacket& record);
    std::size_t append_stream_frames(codec::Writer& w, recovery::SentPacket& record);

    // migration and path MTU (connection_path.cpp)
    void note_packet_source(const PeerAddress& from, std::size_t bytes,
                            std::uint64_t packet_number);
    void on_path_response(TimePoint now, const PeerAddress& from, const PathData& data);
    void migrate(TimePoint now, const PeerAddress& address);
    void apply_datagram_size();

    // ending (connection.cpp)
    void fail(TimePoint now, std::error_code reason, CloseCode code, std::string_view text);
    void begin_closing(TimePoint now, std::uint64_t code, std::string_view text,
                       std::error_code reason);
    void enter_closed(std::error_code reason, std::uint64_t peer_code = 0,
                      std::string peer_reason = {});
    void fail_pending_messages(std::error_code reason);
    void emit_state(ConnectionState state, std::error_code reason = {});
    void on_established_timeout(TimePoint now);
    TimePoint established_deadline() const;
    // When the path counts as dead (reconnect on): nothing heard for Config::path_timeout
    // (at least 4 PTOs) after a packet the peer had to answer.
    TimePoint path_dead_time() const;
    Duration pto() const;

    const Config& config_;
    Random& random_;
    PeerAddress remote_;
    crypto::Psk psk_;
    ConnectionId local_cid_;
    ConnectionId peer_cid_ = 0;
    std::uint32_t channel_ = 0;
    ConnectionState state_ = ConnectionState::connecting;
    bool accepted_by_listener_ = false;
    bool ever_established_ = false;
    std::uint64_t times_established_ = 0;

    // Handshakes. A connection initiates while connecting or reconnecting (until it answers the
    // peer instead) and answers the peer's initiations in any state before closing.
    std::optional<InitiatorState> initiator_;
    TimePoint next_initiation_time_ = kNever;
    Duration initiation_interval_;
    std::deque<ResponderAttempt> attempts_;             // at most kMaxResponderAttempts
    std::deque<crypto::X25519Key> ignored_ephemerals_;  // at most kMaxIgnoredEphemerals
    TimePoint handshake_deadline_;                      // connecting: give up
    TimePoint reconnect_deadline_ = kNever;             // reconnecting: give up
    unsigned auth_failures_ = 0;
    bool wrong_key_pending_ = false;  // wrong key seen; one last initiation, then closed
    SessionId session_id_{};
    std::optional<SessionId> peer_session_id_;

    // The current packet session (none while connecting or reconnecting) and what outlives it.
    recovery::RttEstimator rtt_;
    std::unique_ptr<PacketSession> session_;
    message::SendStream send_stream_;
    message::RecvStream recv_stream_;
    PathValidator path_;
    PmtuDiscovery pmtu_;
    std::uint64_t peer_max_data_ = 0;
    bool max_data_pending_ = false;
    bool receive_paused_ = false;  // the application stopped taking messages
    int probes_pending_ = 0;
    bool ping_pending_ = false;
    bool send_buffer_was_full_ = false;
    std::optional<PathData> path_response_pending_;
    std::uint64_t retired_key_updates_ = 0;  // key updates of sessions already replaced

    // Liveness and ending.
    TimePoint last_now_;  // the latest time passed in; deadline() has no clock of its own
    TimePoint last_received_;
    // The first ack-eliciting packet sent since the peer was last heard from (kNever: none).
    TimePoint first_unanswered_sent_ = kNever;
    TimePoint last_ack_eliciting_sent_;
    TimePoint closing_until_ = kNever;
    TimePoint next_close_repeat_ = kNever;  // when the CLOSE goes out again unasked
    Duration close_repeat_interval_{};      // the PTO when closing started
    std::optional<codec::CloseFrame> close_frame_;
    int close_sends_left_ = 0;
    bool close_send_pending_ = false;
    std::error_code close_reason_;

    Bytes plaintext_;  // scratch buffer for one packet's frames
    // Kept across packets so that the ranges of ACK frames, sent or received, reuse storage.
    codec::Frame received_frame_;
    codec::AckFrame ack_to_send_;
    std::deque<Event> events_;
    ConnectionStats stats_{};
};

}  // namespace srmudp::conn
