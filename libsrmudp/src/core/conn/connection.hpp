// One srmudp connection as a sans-IO state machine.
//
// The endpoint routes datagrams to it (on_initiation / on_response / on_data), asks it for
// datagrams (poll_transmit), runs its timers (deadline / on_timeout) and drains its events.
// Inside, the connection only sequences the mechanisms that live in their own files: the
// handshake (handshake.hpp), packet protection (packet_protection.hpp), loss recovery
// (recovery/), congestion control and pacing (cc/) and the message streams (message/).
//
//   connecting --(response / first data packet)--> established --(close)--> closing --> closed
//        \--(deadline, wrong key)--> closed            \--(CLOSE received, idle, violation)-->
//        closed
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "core/cc/congestion_controller.hpp"
#include "core/cc/pacer.hpp"
#include "core/codec/frame.hpp"
#include "core/codec/packet.hpp"
#include "core/conn/constants.hpp"
#include "core/conn/handshake.hpp"
#include "core/conn/packet_protection.hpp"
#include "core/message/recv_stream.hpp"
#include "core/message/send_stream.hpp"
#include "core/recovery/ack_tracker.hpp"
#include "core/recovery/loss_detector.hpp"
#include "core/recovery/rtt.hpp"
#include "srmudp/address.hpp"
#include "srmudp/config.hpp"
#include "srmudp/events.hpp"
#include "srmudp/random.hpp"

namespace srmudp::conn {

struct ConnectionSetup {
    const Config* config = nullptr;
    Random* random = nullptr;
    PeerAddress remote;
    crypto::Psk psk{};
    ConnectionId local_cid = 0;
};

class Connection {
  public:
    // connect(): sends initiations until answered or `deadline`; on simultaneous open it answers
    // the peer's initiation instead when the tie-break says so.
    Connection(const ConnectionSetup& setup, TimePoint now, TimePoint deadline);
    // listen(): answers an initiation that already authenticated.
    Connection(const ConnectionSetup& setup, TimePoint now, ConsumedInitiation&& initiation);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // An INITIATION from the peer's address (simultaneous open or a retransmission).
    void on_initiation(TimePoint now, ByteView datagram);
    // Whether a (retransmitted) initiation with this ephemeral key is the one this connection
    // answered, so the endpoint can route it here.
    bool answered_initiation(const crypto::X25519Key& initiator_ephemeral) const;
    void on_response(TimePoint now, const PeerAddress& from, ByteView datagram);
    void on_data(TimePoint now, const PeerAddress& from, ByteView datagram,
                 const codec::PacketHeader& header, std::size_t header_size);

    std::size_t poll_transmit(TimePoint now, MutableByteView out);
    TimePoint deadline() const;
    void on_timeout(TimePoint now);
    bool poll_event(Event& out);
    bool has_events() const { return !events_.empty(); }

    std::error_code send(MessageKind kind, ByteView data, MessageId& id);
    void close(TimePoint now, std::uint64_t code, std::string_view reason);

    ConnectionState state() const { return state_; }
    ConnectionStats stats() const;
    ConnectionId local_cid() const { return local_cid_; }
    const PeerAddress& remote() const { return remote_; }
    bool accepted_by_listener() const { return accepted_by_listener_; }
    bool authenticated_failures() const { return auth_failures_ > 0; }

  private:
    enum class Role : std::uint8_t { initiator, responder };

    // handshake
    void start_initiation(TimePoint now);
    void answer_initiation(TimePoint now, ConsumedInitiation&& initiation);
    void begin_session(TimePoint now, const crypto::TransportKeys& keys, ConnectionId peer_cid,
                       const HandshakePayload& peer_payload);
    void become_established(TimePoint now);
    void note_authentication_failure(TimePoint now);
    HandshakePayload local_payload() const;

    // receiving
    std::error_code process_frames(TimePoint now, ByteView plaintext, bool& ack_eliciting);
    std::error_code on_ack_frame(TimePoint now, const codec::AckFrame& ack);
    std::error_code on_stream_frame(const codec::StreamFrame& frame);
    void on_close_frame(const codec::CloseFrame& frame);
    void on_packets_lost(TimePoint now, const std::vector<recovery::SentPacket>& lost,
                         bool congestion_event, TimePoint newest_lost_sent,
                         bool persistent_congestion);
    void collect_stream_events();

    // sending
    std::size_t transmit_handshake(TimePoint now, MutableByteView out);
    std::size_t transmit_data(TimePoint now, MutableByteView out);
    bool wants_to_send(TimePoint now) const;
    bool can_send_stream_data(TimePoint now, TimePoint* blocked_until) const;
    std::size_t build_frames(TimePoint now, MutableByteView plaintext,
                             recovery::SentPacket& record);
    std::size_t append_stream_frames(codec::Writer& w, recovery::SentPacket& record);

    // ending
    void fail(TimePoint now, std::error_code reason, CloseCode code, std::string_view text);
    void begin_closing(TimePoint now, std::uint64_t code, std::string_view text,
                       std::error_code reason);
    void enter_closed(std::error_code reason, std::uint64_t peer_code = 0,
                      std::string peer_reason = {});
    void fail_pending_messages(std::error_code reason);
    void emit_state(ConnectionState state, std::error_code reason = {});
    Duration pto() const;

    const Config& config_;
    Random& random_;
    PeerAddress remote_;
    crypto::Psk psk_;
    ConnectionId local_cid_;
    ConnectionId peer_cid_ = 0;
    Role role_ = Role::initiator;
    ConnectionState state_ = ConnectionState::connecting;
    bool accepted_by_listener_ = false;

    // Handshake state.
    std::optional<InitiatorState> initiator_;
    Bytes response_datagram_;                 // responder: cached for retransmitted initiations
    crypto::X25519Key answered_ephemeral_{};  // responder: the initiation it answered
    bool response_pending_ = false;
    TimePoint handshake_deadline_;
    TimePoint next_initiation_time_;
    Duration initiation_interval_;
    unsigned auth_failures_ = 0;
    std::array<std::uint8_t, 16> session_id_{};

    // Session state (after the handshake).
    std::unique_ptr<PacketProtection> protection_;
    std::uint64_t next_packet_number_ = 0;
    recovery::RttEstimator rtt_;
    recovery::LossDetector loss_;
    recovery::AckTracker acks_;
    std::unique_ptr<cc::CongestionController> cc_;
    cc::Pacer pacer_;
    message::SendStream send_stream_;
    message::RecvStream recv_stream_;
    std::uint64_t peer_max_data_ = 0;
    bool max_data_pending_ = false;
    int probes_pending_ = 0;
    bool ping_pending_ = false;
    bool send_buffer_was_full_ = false;
    std::optional<std::array<std::uint8_t, 8>> path_response_pending_;

    // Liveness and ending.
    TimePoint last_now_;  // the latest time passed in; deadline() has no clock of its own
    TimePoint last_received_;
    TimePoint last_ack_eliciting_sent_;
    TimePoint closing_until_ = kNever;
    std::optional<codec::CloseFrame> close_frame_;
    int close_sends_left_ = 0;
    bool close_send_pending_ = false;
    std::error_code close_reason_;

    Bytes plaintext_;     // scratch buffer for one packet's frames
    Bytes stream_chunk_;  // scratch buffer for one STREAM frame's data
    std::deque<Event> events_;
    ConnectionStats stats_{};
};

}  // namespace srmudp::conn
