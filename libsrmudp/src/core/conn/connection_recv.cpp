// The receive path of a connection: opening DATA packets (with the current keys, or with the
// keys of a handshake it answered, which the packet then proves), frames, acknowledgements and
// losses.
#include <algorithm>

#include "core/conn/connection.hpp"
#include "srmudp/error.hpp"

namespace srmudp::conn {

void Connection::on_data(TimePoint now, const PeerAddress& from, ByteView datagram,
                         const codec::PacketHeader& header, std::size_t header_size) {
    last_now_ = now;
    if (state_ == ConnectionState::closed) return;
    if (plaintext_.size() < datagram.size()) plaintext_.resize(datagram.size());
    std::size_t plaintext_size = 0;
    const bool current =
        session_ && !session_->protection->open(datagram, header, header_size,
                                                MutableByteView(plaintext_), plaintext_size);
    // A closing connection only repeats its CLOSE; it proves no new handshake.
    if (!current && (state_ == ConnectionState::closing ||
                     !open_with_attempt(now, datagram, header, header_size, plaintext_size))) {
        ++stats_.rejected_packets;
        return;
    }
    ++stats_.packets_received;
    stats_.datagram_bytes_received += datagram.size();
    last_received_ = now;
    first_unanswered_sent_ = kNever;
    if (state_ == ConnectionState::closing) {
        // The peer has not seen our CLOSE yet.
        if (close_sends_left_ > 0) close_send_pending_ = true;
        return;
    }
    note_packet_source(from, datagram.size(), header.packet_number);
    bool ack_eliciting = false;
    if (auto ec =
            process_frames(now, from, ByteView(plaintext_.data(), plaintext_size), ack_eliciting)) {
        const CloseCode code = ec == error::peer_message_too_large ? CloseCode::message_too_large
                                                                   : CloseCode::protocol_violation;
        fail(now, ec == error::malformed_packet ? make_error_code(error::protocol_violation) : ec,
             code, ec.message());
        return;
    }
    if (state_ == ConnectionState::closed) return;  // the packet carried CLOSE
    session_->acks.on_packet_received(header.packet_number, ack_eliciting, now);
    collect_stream_events();
}

std::error_code Connection::process_frames(TimePoint now, const PeerAddress& from,
                                           ByteView plaintext, bool& ack_eliciting) {
    return codec::for_each_frame(
        plaintext, received_frame_, [&](const codec::Frame& frame) -> std::error_code {
            if (state_ == ConnectionState::closed) return {};
            if (codec::is_ack_eliciting(frame)) ack_eliciting = true;
            if (const auto* ack = std::get_if<codec::AckFrame>(&frame))
                return on_ack_frame(now, *ack);
            if (const auto* stream = std::get_if<codec::StreamFrame>(&frame)) {
                return on_stream_frame(*stream);
            }
            if (const auto* max = std::get_if<codec::MaxDataFrame>(&frame)) {
                peer_max_data_ = std::max(peer_max_data_, max->maximum_data);
            } else if (const auto* close = std::get_if<codec::CloseFrame>(&frame)) {
                on_close_frame(*close);
            } else if (const auto* challenge = std::get_if<codec::PathChallengeFrame>(&frame)) {
                path_response_pending_ = challenge->data;
            } else if (const auto* response = std::get_if<codec::PathResponseFrame>(&frame)) {
                on_path_response(now, from, response->data);
            }
            return {};
        });
}

std::error_code Connection::on_ack_frame(TimePoint now, const codec::AckFrame& ack) {
    PacketSession& s = *session_;
    recovery::LossDetector::AckResult result;
    if (auto ec = s.loss.on_ack_received(ack, now, result)) return ec;
    // RFC 9002 appendix A.7: losses first, so that packets sent before the congestion event do
    // not grow the window they have just shrunk.
    on_packets_lost(now, result.lost, result.persistent_congestion);
    if (!result.acked.empty()) s.peer_acked = true;
    for (const auto& packet : result.acked) {
        if (pmtu_.is_probe(packet.packet_number)) {
            if (pmtu_.on_probe_acked(packet.packet_number, now)) apply_datagram_size();
        }
        if (packet.in_flight) s.cc->on_packet_acked(packet, now);
        for (const auto& range : packet.stream)
            send_stream_.on_acked(range.offset, range.length);
        if (packet.carried_ack) s.acks.on_ack_frame_acked(packet.largest_acked_in_ack);
    }
    report_delivered();
    return {};
}

void Connection::report_delivered() {
    for (MessageId id : send_stream_.take_delivered()) {
        ++stats_.messages_delivered;
        events_.emplace_back(MessageDelivered{id});
    }
    const std::size_t buffered = send_stream_.buffered_bytes();
    if (send_buffer_was_full_ && (buffered == 0 || buffered * 2 <= config_.send_buffer_limit)) {
        send_buffer_was_full_ = false;
        events_.emplace_back(SendBufferAvailable{});
    }
}

// Repairs what the lost packets carried. A lost MTU probe only tells that its size does not fit
// the path (RFC 8899 section 3, RFC 9000 section 14.4): it is no sign of congestion, so the
// congestion event is worked out here from the other packets.
void Connection::on_packets_lost(TimePoint now, const std::vector<recovery::SentPacket>& lost,
                                 bool persistent_congestion) {
    bool congestion_event = false;
    TimePoint newest_lost_sent{};
    for (const auto& packet : lost) {
        if (pmtu_.is_probe(packet.packet_number)) {
            pmtu_.on_probe_lost(packet.packet_number, now);
            continue;
        }
        ++stats_.packets_lost;
        for (const auto& range : packet.stream)
            send_stream_.on_lost(range.offset, range.length);
        if (packet.max_data) max_data_pending_ = true;
        if (packet.in_flight) {
            congestion_event = true;
            newest_lost_sent = std::max(newest_lost_sent, packet.time_sent);
        }
    }
    if (!congestion_event) return;
    session_->cc->on_congestion_event(newest_lost_sent, now);
    if (!persistent_congestion) return;
    session_->cc->on_persistent_congestion();
    // Nothing got through for several PTOs: the path may have stopped carrying our size.
    if (pmtu_.on_black_hole(now)) apply_datagram_size();
}

std::error_code Connection::on_stream_frame(const codec::StreamFrame& frame) {
    return recv_stream_.on_stream_data(frame.offset, frame.data);
}

void Connection::on_close_frame(const codec::CloseFrame& frame) {
    enter_closed(make_error_code(error::peer_closed), frame.code, frame.reason);
}

// A message being assembled is credited even while paused (a message larger than the window must
// still complete), so MAX_DATA may be due either way.
void Connection::collect_stream_events() {
    if (!receive_paused_) hand_over_messages();
    if (recv_stream_.should_send_max_data()) max_data_pending_ = true;
}

void Connection::hand_over_messages() {
    while (auto message = recv_stream_.pop_message()) {
        ++stats_.messages_received;
        events_.emplace_back(MessageReceived{std::move(*message)});
    }
}

void Connection::set_receive_paused(bool paused) {
    receive_paused_ = paused;
    if (!paused && state_ != ConnectionState::closed) collect_stream_events();
}

}  // namespace srmudp::conn
