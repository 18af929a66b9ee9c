// The transmit path of a connection: handshake datagrams, path challenges to a new peer address,
// MTU probes, and which frames go into the next packet within the congestion window and the
// pacing rate.
#include <algorithm>
#include <cstring>

#include "core/codec/buffer.hpp"
#include "core/conn/connection.hpp"
#include "srmudp/error.hpp"

namespace srmudp::conn {

namespace {

constexpr std::size_t kPacketOverhead = codec::kDataHeaderSize + kAeadTagSize;
// A STREAM frame header is at most type (1) + offset (8) + length (2 for <= 16383 bytes).
constexpr std::size_t kMaxStreamFrameHeader = 11;
// A DATA packet holding only a PATH_CHALLENGE: type byte and 8 bytes of data.
constexpr std::size_t kPathChallengePacketSize = kPacketOverhead + 1 + 8;

}  // namespace

std::size_t Connection::poll_transmit(TimePoint now, MutableByteView out, PeerAddress& to) {
    last_now_ = now;
    if (state_ == ConnectionState::closed) return 0;
    if (state_ != ConnectionState::closing) {
        if (const std::size_t n = transmit_handshake(now, out, to)) return n;
    }
    to = remote_;
    switch (state_) {
        case ConnectionState::connecting:
        case ConnectionState::reconnecting:
        case ConnectionState::closed:
            return 0;
        case ConnectionState::closing:
            return transmit_close(out);
        case ConnectionState::established:
            break;
    }
    if (const std::size_t n = transmit_path_challenge(now, out, to)) return n;
    to = remote_;
    if (const std::size_t n = transmit_pmtu_probe(now, out)) return n;
    return transmit_data(now, out);
}

std::size_t Connection::transmit_handshake(TimePoint now, MutableByteView out, PeerAddress& to) {
    const Bytes* datagram = nullptr;
    TimePoint* first_sent = nullptr;
    unsigned* sends = nullptr;
    for (ResponderAttempt& attempt : attempts_) {
        if (!attempt.response_pending) continue;
        attempt.response_pending = false;
        datagram = &attempt.response;
        to = attempt.from;
        first_sent = &attempt.response_first_sent;
        sends = &attempt.response_sends;
        break;
    }
    if (!datagram && initiator_ && now >= next_initiation_time_) {
        next_initiation_time_ = now + initiation_interval_;
        initiation_interval_ = std::min(initiation_interval_ * 2, config_.handshake_retransmit_max);
        datagram = &initiator_->datagram;
        to = remote_;
        first_sent = &initiator_->first_sent;
        sends = &initiator_->sends;
    }
    if (!datagram || datagram->empty() || out.size() < datagram->size()) return 0;
    if ((*sends)++ == 0) *first_sent = now;
    std::memcpy(out.data(), datagram->data(), datagram->size());
    const std::size_t size = datagram->size();
    ++stats_.packets_sent;
    stats_.datagram_bytes_sent += size;
    if (wrong_key_pending_ && datagram == &initiator_->datagram) {
        enter_closed(make_error_code(error::wrong_key));  // that was the last initiation
    }
    return size;
}

std::size_t Connection::transmit_close(MutableByteView out) {
    if (!close_send_pending_ || !session_ || !close_frame_) return 0;
    close_send_pending_ = false;
    --close_sends_left_;
    codec::Writer w(MutableByteView(plaintext_.data(), plaintext_.size() - kPacketOverhead));
    // Acknowledge what arrived before the CLOSE, in front of it: the peer processes frames in
    // order, so its messages we received count as delivered before it learns we closed.
    if (session_->acks.has_ack_to_send()) {
        session_->acks.build_ack_frame(last_now_, ack_to_send_);
        if (!ack_to_send_.ranges.empty()) codec::encode_ack_frame(w, ack_to_send_);
    }
    if (!codec::encode_close_frame(w, *close_frame_)) return 0;
    const std::uint64_t pn = session_->next_packet_number++;
    const std::size_t size = session_->protection->seal(peer_cid_, pn, w.written(), out);
    if (size != 0) {
        ++stats_.packets_sent;
        stats_.datagram_bytes_sent += size;
    }
    return size;
}

// Seals `frames` bytes of plaintext_ as the next packet and hands it to loss recovery (and, if
// it counts in flight, to congestion control and the pacer). Returns the datagram size; 0 if
// sealing failed, which fails the connection.
std::size_t Connection::seal_and_track(TimePoint now, std::size_t frames,
                                       recovery::SentPacket& record, MutableByteView out) {
    PacketSession& s = *session_;
    const std::uint64_t pn = s.next_packet_number++;
    const std::size_t size =
        s.protection->seal(peer_cid_, pn, ByteView(plaintext_.data(), frames), out);
    if (size == 0) {
        fail(now, make_error_code(error::crypto_failure), CloseCode::internal_error, "seal failed");
        return 0;
    }
    record.packet_number = pn;
    record.time_sent = now;
    record.bytes = size;
    const bool in_flight = record.in_flight;
    s.loss.on_packet_sent(std::move(record));
    if (in_flight) {
        s.cc->on_packet_sent(now, size);
        s.pacer.on_packet_sent(now, size, s.cc->congestion_window(), rtt_.smoothed());
        last_ack_eliciting_sent_ = now;
        if (first_unanswered_sent_ == kNever) first_unanswered_sent_ = now;
    }
    ++stats_.packets_sent;
    stats_.datagram_bytes_sent += size;
    return size;
}

// A PATH_CHALLENGE alone, to the address being validated, within its amplification budget. The
// packet is tracked as neither ack-eliciting nor in flight: the validator repeats it itself, and
// its loss says nothing about congestion on the peer's current path.
std::size_t Connection::transmit_path_challenge(TimePoint now, MutableByteView out,
                                                PeerAddress& to) {
    if (!path_.challenge_due() || path_.send_budget() < kPathChallengePacketSize ||
        out.size() < kPathChallengePacketSize) {
        return 0;
    }
    codec::Writer w(MutableByteView(plaintext_.data(), plaintext_.size() - kPacketOverhead));
    if (!codec::encode_path_challenge_frame(w, codec::PathChallengeFrame{path_.challenge()})) {
        return 0;
    }
    recovery::SentPacket record;
    const std::size_t size = seal_and_track(now, w.size(), record, out);
    if (size == 0) return 0;
    to = path_.candidate();
    path_.on_challenge_sent(now, size, pto());
    return size;
}

// RFC 8899 probe: PING plus PADDING up to exactly the size being tried. Sent once the peer has
// acknowledged something in this session (the handshake is confirmed), when the congestion
// window has room for it; probes are not paced (one at a time).
std::size_t Connection::transmit_pmtu_probe(TimePoint now, MutableByteView out) {
    const std::size_t size = pmtu_.probe_size();
    PacketSession& s = *session_;
    if (size == 0 || !s.peer_acked || out.size() < size || plaintext_.size() < size ||
        s.loss.bytes_in_flight() + size > s.cc->congestion_window()) {
        return 0;
    }
    codec::Writer w(MutableByteView(plaintext_.data(), size - kPacketOverhead));
    if (!codec::encode_ping_frame(w) || !codec::encode_padding(w, w.remaining())) return 0;
    recovery::SentPacket record;
    record.ping = true;
    record.ack_eliciting = true;
    record.in_flight = true;
    const std::uint64_t pn = s.next_packet_number;
    const std::size_t sent = seal_and_track(now, w.size(), record, out);
    if (sent != 0) pmtu_.on_probe_sent(pn, sent);
    return sent;
}

bool Connection::can_send_stream_data(TimePoint now, TimePoint* blocked_until) const {
    if (!send_stream_.has_data_to_send(peer_max_data_)) return false;
    const PacketSession& s = *session_;
    const std::size_t mds = pmtu_.current();
    const std::size_t cwnd = s.cc->congestion_window();
    if (s.loss.bytes_in_flight() + mds > cwnd) return false;  // an ACK or loss will change this
    if (!config_.pacing) return true;
    const TimePoint at = s.pacer.next_send_time(now, mds, cwnd, rtt_.smoothed());
    if (at <= now) return true;
    if (blocked_until) *blocked_until = at;
    return false;
}

bool Connection::wants_to_send(TimePoint now) const {
    const PacketSession& s = *session_;
    return (s.acks.has_ack_to_send() && s.acks.ack_due(now)) || max_data_pending_ ||
           probes_pending_ > 0 || ping_pending_ || path_response_pending_ ||
           can_send_stream_data(now, nullptr);
}

std::size_t Connection::transmit_data(TimePoint now, MutableByteView out) {
    if (!wants_to_send(now)) return 0;
    const std::size_t packet_size = std::min({pmtu_.current(), out.size(), plaintext_.size()});
    if (packet_size <= kPacketOverhead) return 0;
    recovery::SentPacket record;
    const std::size_t frames = build_frames(
        now, MutableByteView(plaintext_.data(), packet_size - kPacketOverhead), record);
    if (frames == 0) return 0;
    record.in_flight = record.ack_eliciting;
    const std::size_t size = seal_and_track(now, frames, record, out);
    if (size != 0 && session_) {
        session_->cc->set_app_limited(!send_stream_.has_data_to_send(peer_max_data_));
    }
    return size;
}

std::size_t Connection::build_frames(TimePoint now, MutableByteView plaintext,
                                     recovery::SentPacket& record) {
    PacketSession& s = *session_;
    codec::Writer w(plaintext);
    if (s.acks.ack_deadline() != kNever && s.acks.has_ack_to_send()) {
        s.acks.build_ack_frame(now, ack_to_send_);
        const codec::AckFrame& ack = ack_to_send_;
        if (!ack.ranges.empty() && codec::encode_ack_frame(w, ack)) {
            record.carried_ack = true;
            record.largest_acked_in_ack = ack.ranges.front().largest;
            s.acks.on_ack_sent(now);
        }
    }
    if (max_data_pending_) {
        const std::uint64_t limit = recv_stream_.max_data();
        if (codec::encode_max_data_frame(w, codec::MaxDataFrame{limit})) {
            recv_stream_.on_max_data_sent(limit);
            max_data_pending_ = false;
            record.max_data = true;
            record.ack_eliciting = true;
        }
    }
    if (path_response_pending_) {
        if (codec::encode_path_response_frame(w,
                                              codec::PathResponseFrame{*path_response_pending_})) {
            path_response_pending_.reset();
            record.ack_eliciting = true;
        }
    }
    const bool probe = probes_pending_ > 0;
    if ((ping_pending_ || probe) && codec::encode_ping_frame(w)) {
        ping_pending_ = false;
        if (probe) --probes_pending_;
        record.ping = true;
        record.ack_eliciting = true;
    }
    // A probe may exceed the congestion window (RFC 9002 section 6.2.4); other data may not.
    if (probe ? send_stream_.has_data_to_send(peer_max_data_)
              : can_send_stream_data(now, nullptr)) {
        if (append_stream_frames(w, record) > 0) record.ack_eliciting = true;
    }
    return w.size();
}

std::size_t Connection::append_stream_frames(codec::Writer& w, recovery::SentPacket& record) {
    std::size_t appended = 0;
    while (w.remaining() > kMaxStreamFrameHeader && send_stream_.has_data_to_send(peer_max_data_)) {
        const auto chunk =
            send_stream_.take_chunk(peer_max_data_, w.remaining() - kMaxStreamFrameHeader);
        if (chunk.length == 0) break;
        // The stream's bytes go straight into the packet, with no scratch copy in between.
        MutableByteView data;
        if (!codec::encode_stream_frame_in_place(w, chunk.offset, chunk.length, data)) {
            // Cannot happen: the space was reserved. Hand the range back rather than lose it.
            send_stream_.on_lost(chunk.offset, chunk.length);
            break;
        }
        send_stream_.copy_chunk(chunk, data.data());
        record.stream.push_back(recovery::StreamRange{chunk.offset, chunk.length});
        ++appended;
    }
    return appended;
}

}  // namespace srmudp::conn
