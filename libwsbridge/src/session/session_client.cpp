// Client -> peer: data frames from the WebSocket become srmudp messages, in the client's order.
// A full srmudp send buffer pauses reading the WebSocket (the client's TCP window then fills);
// on_writable drains what waits and resumes reading. Acks and errors by the client's "id" follow
// srmudp's delivered/failed events; while no WebSocket is attached they are held for the next.
#include <utility>

#include "session/reports.hpp"
#include "session/session_impl.hpp"
#include "srmudp/error.hpp"

namespace wsbridge {

void Session::Impl::on_text_frame(std::string_view frame) {
    if (!ws_ || ws_ended_) return;
    ++client_messages_;
    on_decoded(decode_client_text_frame(frame, options_.limits));
}

void Session::Impl::on_binary_frame(srmudp::ByteView frame) {
    if (!ws_ || ws_ended_) return;
    ++client_messages_;
    on_decoded(decode_client_binary_frame(frame, options_.limits));
}

void Session::Impl::on_decoded(std::variant<ClientData, FrameError>&& decoded) {
    if (auto* error = std::get_if<FrameError>(&decoded)) {
        on_frame_error(*error);
        return;
    }
    touch();
    submit(std::get<ClientData>(std::move(decoded)));
}

void Session::Impl::on_frame_error(const FrameError& error) {
    send_frame(encode_error(id_, error.message, error.id));
    if (error.severity != Severity::recoverable) {
        end_websocket(close_code(error.severity), error.message);
    }
}

void Session::Impl::submit(ClientData&& data) {
    if (failed_ || !conn_) {
        send_frame(
            encode_error(id_, "message not sent: there is no connection to the peer", data.id));
        return;
    }
    // Keep the client's order: nothing overtakes a message waiting for buffer space.
    if (pending_.empty() && try_send(data)) return;
    if (!pending_.empty() && pending_bytes_ + data.data.size() > options_.max_pending_bytes) {
        const std::string message = "the client sent more than " +
                                    std::to_string(options_.max_pending_bytes) +
                                    " bytes while the proxy had paused reading";
        send_frame(encode_error(id_, message, data.id));
        end_websocket(close_code(Severity::close_policy), message);
        return;
    }
    pending_bytes_ += data.data.size();
    pending_.push_back(std::move(data));
    if (!reading_paused_) {
        reading_paused_ = true;
        if (ws_) ws_->pause_reading();
    }
}

// Hands one message to srmudp. False only when the send buffer is full (the caller keeps it);
// any other refusal is answered with an error frame.
bool Session::Impl::try_send(ClientData& data) {
    srmudp::MessageId message_id = 0;
    const std::error_code ec = conn_->send(data.kind, srmudp::ByteView(data.data), message_id);
    if (ec == srmudp::error::send_buffer_full) return false;
    if (ec == srmudp::error::message_too_large) {
        send_control(encode_error(id_,
                                  "message of " + std::to_string(data.data.size()) +
                                      " bytes is larger than the UDP connection accepts",
                                  data.id));
    } else if (ec) {
        send_control(encode_error(id_, session::undelivered_message(ec, remote_), data.id));
    } else {
        ++messages_to_peer_;
        count(options_.counters, &BridgeCounters::messages_to_peer);
        count(options_.counters, &BridgeCounters::bytes_to_peer, data.data.size());
        if (data.id) tags_.emplace(message_id, std::move(*data.id));
    }
    return true;
}

void Session::Impl::drain_pending() {
    while (!pending_.empty() && conn_ && !failed_) {
        ClientData& front = pending_.front();
        const std::size_t size = front.data.size();
        if (!try_send(front)) return;
        pending_bytes_ -= size;
        pending_.pop_front();
    }
    if (reading_paused_) {
        reading_paused_ = false;
        if (ws_ && !ws_ended_) ws_->resume_reading();
    }
}

void Session::Impl::on_delivered(srmudp::MessageId id) {
    const auto end = tags_.upper_bound(id);
    for (auto it = tags_.begin(); it != end; ++it)
        send_control(encode_ack(it->second));
    tags_.erase(tags_.begin(), end);
}

void Session::Impl::on_failed(srmudp::MessageId id, std::error_code reason) {
    const auto it = tags_.find(id);
    if (it == tags_.end()) return;
    send_control(encode_error(id_, session::undelivered_message(reason, remote_), it->second));
    tags_.erase(it);
}

// An ack or an error for one of the client's messages: sent now, or held for the WebSocket
// that re-attaches. Held frames are bounded by the messages in flight, which srmudp's send
// buffer bounds.
void Session::Impl::send_control(std::string frame) {
    if (ws_) {
        send_frame(std::move(frame));
    } else if (!finished_) {
        held_control_.push_back(std::move(frame));
    }
}

}  // namespace wsbridge
