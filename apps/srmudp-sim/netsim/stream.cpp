// Sender and receiver bookkeeping of one workload direction (see stream.hpp).
#include "netsim/stream.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace srmudp::netsim {
namespace {

const char* kind_name(MessageKind kind) {
    return kind == MessageKind::text ? "text" : "binary";
}

}  // namespace

StreamSender::StreamSender(std::string label, std::uint64_t stream_seed,
                           const WorkloadParams& params, FailureLog& log)
    : label_(std::move(label)), seed_(stream_seed), params_(params), log_(log) {}

const Message& StreamSender::next() {
    if (!pending_) {
        const MessageSpec spec = message_spec(seed_, next_index_, params_);
        Message m;
        m.kind = spec.kind;
        message_content(seed_, next_index_, spec, m.data);
        pending_ = std::move(m);
    }
    return *pending_;
}

void StreamSender::accepted(MessageId id) {
    if (!has_next()) {
        log_.add(fmt::format("{}: accepted() with no message left to send", label_));
        return;
    }
    if (id <= last_id_) {
        log_.add(fmt::format("{}: send() returned id {} after id {} (ids must increase)", label_,
                             id, last_id_));
    }
    last_id_ = std::max(last_id_, id);
    if (!sent_.emplace(id, Sent{next_index_, Status::in_flight}).second) {
        log_.add(fmt::format("{}: send() returned id {} twice", label_, id));
    }
    bytes_accepted_ += next().data.size();
    ++accepted_;
    ++next_index_;
    pending_.reset();
}

StreamSender::Sent* StreamSender::find(MessageId id, const char* event) {
    const auto it = sent_.find(id);
    if (it == sent_.end()) {
        log_.add(fmt::format("{}: {} for id {}, which send() never returned", label_, event, id));
        return nullptr;
    }
    Sent& s = it->second;
    if (s.status != Status::in_flight) {
        log_.add(fmt::format("{}: {} for id {} (message {}), already reported {}", label_, event,
                             id, s.index, s.status == Status::delivered ? "delivered" : "failed"));
        return nullptr;
    }
    return &s;
}

void StreamSender::delivered(MessageId id) {
    Sent* s = find(id, "MessageDelivered");
    if (s == nullptr) return;
    s->status = Status::delivered;
    ++delivered_;
    delivered_prefix_ = std::max(delivered_prefix_, s->index + 1);
}

void StreamSender::failed(MessageId id, std::error_code reason) {
    Sent* s = find(id, "MessageFailed");
    if (s == nullptr) return;
    if (!reason) {
        log_.add(fmt::format("{}: MessageFailed for id {} without a reason", label_, id));
    }
    s->status = Status::failed;
    ++failed_;
}

StreamReceiver::StreamReceiver(std::string label, std::uint64_t stream_seed,
                               const WorkloadParams& params, FailureLog& log)
    : label_(std::move(label)), seed_(stream_seed), params_(params), log_(log) {}

void StreamReceiver::received(const Message& message) {
    const std::size_t index = received_++;
    bytes_ += message.data.size();
    if (index >= params_.messages) {
        ++mismatches_;
        log_.add(fmt::format("{}: message {} received, but only {} were sent", label_, index,
                             params_.messages));
        return;
    }
    const MessageSpec spec = message_spec(seed_, index, params_);
    if (message.kind != spec.kind || message.data.size() != spec.size) {
        ++mismatches_;
        log_.add(fmt::format("{}: message {} arrived as {} bytes of {}, expected {} bytes of {}",
                             label_, index, message.data.size(), kind_name(message.kind), spec.size,
                             kind_name(spec.kind)));
        return;
    }
    message_content(seed_, index, spec, expected_);
    const auto diff = std::mismatch(expected_.begin(), expected_.end(), message.data.begin());
    if (diff.first != expected_.end()) {
        ++mismatches_;
        log_.add(fmt::format("{}: message {} ({} bytes) differs from byte {} on", label_, index,
                             spec.size, diff.first - expected_.begin()));
    }
}

}  // namespace srmudp::netsim
