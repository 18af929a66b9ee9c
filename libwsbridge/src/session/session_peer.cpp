// Peer -> client: srmudp messages become data frames numbered by "seq".
//
// Backpressure: while the WebSocket holds more than max_websocket_buffered_bytes unsent, and
// while no WebSocket is attached, the session pauses srmudp receiving; srmudp then holds complete
// messages and withholds their flow-control credit, so the peer's sender stops at the receive
// window. websocketpp has no "drained" event, so a short timer polls the buffered amount while
// paused for a slow client (hysteresis: resume below half the limit).
//
// Replay: a session with a client_id keeps the data frames it sent, up to replay_bytes (the
// newest always), because frames written into a WebSocket that then drops may never have reached
// the client. A client that re-attaches with last_seq gets those after it.
#include <algorithm>
#include <chrono>

#include "session/session_impl.hpp"

namespace wsbridge {

namespace {
constexpr auto kDrainPoll = std::chrono::milliseconds(10);
}

bool Session::Impl::replay_enabled() const {
    return client_id_.has_value() && options_.reattach_grace > srmudp::Duration::zero();
}

void Session::Impl::on_message(srmudp::Message&& message) {
    if (ws_ended_ || finished_) return;
    // encode_data's JSON writer measures strings in 32 bits.
    if (message.data.size() >= (std::uint64_t{1} << 32)) {
        send_control(encode_error(id_, "a message from the peer was too large to forward"));
        return;
    }
    touch();
    ++messages_from_peer_;
    count(options_.counters, &BridgeCounters::messages_from_peer);
    count(options_.counters, &BridgeCounters::bytes_from_peer, message.data.size());
    const std::uint64_t seq = next_seq_++;
    std::string frame = encode_data(message.kind, srmudp::ByteView(message.data), seq);
    if (!ws_) {
        // Detached (receiving is paused, but a message may already have been on its way):
        // unsent frames are kept whatever the replay bound.
        keep_for_replay(seq, frame);
        return;
    }
    if (replay_enabled()) keep_for_replay(seq, frame);
    sent_seq_ = seq;
    send_frame(std::move(frame));
    update_receive_pause();
}

void Session::Impl::keep_for_replay(std::uint64_t seq, const std::string& frame) {
    replay_bytes_ += frame.size();
    replay_.emplace_back(seq, frame);
    while (replay_bytes_ > options_.replay_bytes && replay_.size() > 1 &&
           replay_.front().first <= sent_seq_) {
        replay_bytes_ -= replay_.front().second.size();
        replay_.pop_front();
    }
}

// Sends the kept frames after last_seq (after the last one sent, without it) and says so when
// frames the client asked for are no longer kept.
void Session::Impl::replay(std::optional<std::uint64_t> last_seq) {
    const std::uint64_t from = last_seq ? *last_seq : sent_seq_;
    const std::uint64_t oldest_kept = replay_.empty() ? sent_seq_ + 1 : replay_.front().first;
    if (from + 1 < oldest_kept && from < sent_seq_) {
        const std::uint64_t lost = std::min(oldest_kept, sent_seq_ + 1) - (from + 1);
        send_frame(encode_error(
            id_, std::to_string(lost) + " data frame(s) after seq " + std::to_string(from) +
                     " are no longer kept (replay limit " + std::to_string(options_.replay_bytes) +
                     " bytes) and cannot be sent again"));
    }
    for (const auto& [seq, frame] : replay_) {
        if (seq <= from || !ws_) continue;
        send_frame(frame);
        sent_seq_ = std::max(sent_seq_, seq);
    }
    if (!replay_enabled()) {
        replay_.clear();
        replay_bytes_ = 0;
    }
}

void Session::Impl::update_receive_pause() {
    if (!conn_ || failed_ || finished_) return;
    const std::size_t high = options_.max_websocket_buffered_bytes;
    const std::size_t buffered = ws_ ? ws_->buffered_amount() : 0;
    const bool want = !ws_ || buffered > high || (receive_paused_ && buffered > high / 2);
    if (want && !receive_paused_) {
        receive_paused_ = true;
        if (ws_) ++receive_pauses_;
        conn_->pause_receiving();
    } else if (!want && receive_paused_) {
        receive_paused_ = false;
        drain_timer_.cancel();
        conn_->resume_receiving();
    }
    if (receive_paused_ && ws_) arm_drain_timer();
}

void Session::Impl::arm_drain_timer() {
    drain_timer_.expires_after(kDrainPoll);
    drain_timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->update_receive_pause();
    });
}

}  // namespace wsbridge
