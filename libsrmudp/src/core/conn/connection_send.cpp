// The transmit path of a connection: which frames go into the next packet, within the
// congestion window and the pacing rate.
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

}  // namespace

std::size_t Connection::poll_transmit(TimePoint now, MutableByteView out) {
    last_now_ = now;
    switch (state_) {
        case ConnectionState::closed:
            return 0;
        case ConnectionState::connecting:
            return transmit_handshake(now, out);
        case ConnectionState::closing:
            break;
        case ConnectionState::established:
            return transmit_data(now, out);
    }
    if (!close_send_pending_ || !protection_ || !close_frame_) return 0;
    close_send_pending_ = false;
    --close_sends_left_;
    codec::Writer w(MutableByteView(plaintext_.data(), plaintext_.size() - kPacketOverhead));
    if (!codec::encode_close_frame(w, *close_frame_)) return 0;
    const std::uint64_t pn = next_packet_number_++;
    const std::size_t size = protection_->seal(peer_cid_, pn, w.written(), out);
    if (size != 0) {
        ++stats_.packets_sent;
        stats_.datagram_bytes_sent += size;
    }
    return size;
}

std::size_t Connection::transmit_handshake(TimePoint now, MutableByteView out) {
    const Bytes* datagram = nullptr;
    if (role_ == Role::responder && response_pending_) {
        response_pending_ = false;
        datagram = &response_datagram_;
    } else if (initiator_ && now >= next_initiation_time_) {
        next_initiation_time_ = now + initiation_interval_;
        initiation_interval_ = std::min(initiation_interval_ * 2, config_.handshake_retransmit_max);
        datagram = &initiator_->datagram;
    }
    if (!datagram || datagram->empty() || out.size() < datagram->size()) return 0;
    std::memcpy(out.data(), datagram->data(), datagram->size());
    ++stats_.packets_sent;
    stats_.datagram_bytes_sent += datagram->size();
    return datagram->size();
}

bool Connection::can_send_stream_data(TimePoint now, TimePoint* blocked_until) const {
    if (!send_stream_.has_data_to_send(peer_max_data_)) return false;
    const std::size_t mds = plaintext_.size();
    const std::size_t cwnd = cc_->congestion_window();
    if (loss_.bytes_in_flight() + mds > cwnd) return false;  // an ACK or loss will change this
    if (!config_.pacing) return true;
    const TimePoint at = pacer_.next_send_time(now, mds, cwnd, rtt_.smoothed());
    if (at <= now) return true;
    if (blocked_until) *blocked_until = at;
    return false;
}

bool Connection::wants_to_send(TimePoint now) const {
    return (acks_.has_ack_to_send() && acks_.ack_due(now)) || max_data_pending_ ||
           probes_pending_ > 0 || ping_pending_ || path_response_pending_ ||
           can_send_stream_data(now, nullptr);
}

std::size_t Connection::transmit_data(TimePoint now, MutableByteView out) {
    if (!protection_ || !wants_to_send(now)) return 0;
    recovery::SentPacket record;
    const std::size_t frames = build_frames(
        now, MutableByteView(plaintext_.data(), plaintext_.size() - kPacketOverhead), record);
    if (frames == 0) return 0;
    const std::uint64_t pn = next_packet_number_++;
    const std::size_t size =
        protection_->seal(peer_cid_, pn, ByteView(plaintext_.data(), frames), out);
    if (size == 0) {
        fail(now, make_error_code(error::crypto_failure), CloseCode::internal_error, "seal failed");
        return 0;
    }
    record.packet_number = pn;
    record.time_sent = now;
    record.bytes = size;
    record.in_flight = record.ack_eliciting;
    const bool in_flight = record.in_flight;
    loss_.on_packet_sent(std::move(record));
    if (in_flight) {
        cc_->on_packet_sent(now, size);
        pacer_.on_packet_sent(now, size, cc_->congestion_window(), rtt_.smoothed());
        last_ack_eliciting_sent_ = now;
    }
    cc_->set_app_limited(!send_stream_.has_data_to_send(peer_max_data_));
    ++stats_.packets_sent;
    stats_.datagram_bytes_sent += size;
    return size;
}

std::size_t Connection::build_frames(TimePoint now, MutableByteView plaintext,
                                     recovery::SentPacket& record) {
    codec::Writer w(plaintext);
    if (acks_.ack_deadline() != kNever && acks_.has_ack_to_send()) {
        const codec::AckFrame ack = acks_.build_ack_frame(now);
        if (!ack.ranges.empty() && codec::encode_ack_frame(w, ack)) {
            record.carried_ack = true;
            record.largest_acked_in_ack = ack.ranges.front().largest;
            acks_.on_ack_sent(now);
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
    if (stream_chunk_.size() < plaintext_.size()) stream_chunk_.resize(plaintext_.size());
    while (w.remaining() > kMaxStreamFrameHeader && send_stream_.has_data_to_send(peer_max_data_)) {
        const auto chunk = send_stream_.next_chunk(
            peer_max_data_, w.remaining() - kMaxStreamFrameHeader, stream_chunk_.data());
        if (chunk.length == 0) break;
        if (!codec::encode_stream_frame(w, chunk.offset,
                                        ByteView(stream_chunk_.data(), chunk.length))) {
            // Cannot happen: the space was reserved. Hand the range back rather than lose it.
            send_stream_.on_lost(chunk.offset, chunk.length);
            break;
        }
        record.stream.push_back(recovery::StreamRange{chunk.offset, chunk.length});
        ++appended;
    }
    return appended;
}

}  // namespace srmudp::conn
