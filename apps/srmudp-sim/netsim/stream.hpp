// Both ends of one direction of a workload, with the delivery checks of srmudp's promise:
// every message arrives exactly once, in order, byte-identical and with its kind, or its sender
// is told that it failed.
//
// StreamSender hands out the messages to send and checks the sender's events: MessageDelivered
// and MessageFailed only for ids send() returned, each id at most once, never both.
// StreamReceiver checks each MessageReceived against the message it expects next.
// Violations go to the FailureLog, prefixed with the stream's label.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>

#include "netsim/failure_log.hpp"
#include "netsim/workload.hpp"
#include "srmudp/message.hpp"

namespace srmudp::netsim {

class StreamSender {
  public:
    StreamSender(std::string label, std::uint64_t stream_seed, const WorkloadParams& params,
                 FailureLog& log);

    // True while some message of the workload has not been accepted by send().
    bool has_next() const noexcept { return next_index_ < params_.messages; }
    // The next message to send (generated once, kept until accepted). Requires has_next().
    const Message& next();
    // send() accepted next() and returned id.
    void accepted(MessageId id);

    void delivered(MessageId id);
    void failed(MessageId id, std::error_code reason);

    std::size_t accepted_count() const noexcept { return accepted_; }
    std::size_t delivered_count() const noexcept { return delivered_; }
    std::size_t failed_count() const noexcept { return failed_; }
    // Accepted messages that were neither delivered nor reported failed.
    std::size_t unreported() const noexcept { return accepted_ - delivered_ - failed_; }
    // Every message of the workload was accepted and delivered.
    bool all_delivered() const noexcept { return delivered_ == params_.messages; }
    // Number of messages that must have been received for every delivered one to be: the
    // highest delivered index + 1 (0 if none was delivered).
    std::size_t delivered_prefix() const noexcept { return delivered_prefix_; }
    std::uint64_t bytes_accepted() const noexcept { return bytes_accepted_; }

  private:
    enum class Status : std::uint8_t { in_flight, delivered, failed };
    struct Sent {
        std::size_t index;
        Status status;
    };
    Sent* find(MessageId id, const char* event);

    std::string label_;
    std::uint64_t seed_;
    WorkloadParams params_;
    FailureLog& log_;
    std::size_t next_index_ = 0;
    std::optional<Message> pending_;
    std::unordered_map<MessageId, Sent> sent_;  // at most params.messages entries
    MessageId last_id_ = 0;
    std::size_t accepted_ = 0;
    std::size_t delivered_ = 0;
    std::size_t failed_ = 0;
    std::size_t delivered_prefix_ = 0;
    std::uint64_t bytes_accepted_ = 0;
};

class StreamReceiver {
  public:
    StreamReceiver(std::string label, std::uint64_t stream_seed, const WorkloadParams& params,
                   FailureLog& log);

    // Checks message against the next expected one; a mismatch is logged and counted.
    void received(const Message& message);

    std::size_t received_count() const noexcept { return received_; }
    std::size_t mismatches() const noexcept { return mismatches_; }
    std::uint64_t bytes_received() const noexcept { return bytes_; }
    // Every message of the workload arrived.
    bool complete() const noexcept { return received_ >= params_.messages; }

  private:
    std::string label_;
    std::uint64_t seed_;
    WorkloadParams params_;
    FailureLog& log_;
    std::size_t received_ = 0;
    std::size_t mismatches_ = 0;
    std::uint64_t bytes_ = 0;
    Bytes expected_;  // scratch, at most max_size bytes
};

}  // namespace srmudp::netsim
