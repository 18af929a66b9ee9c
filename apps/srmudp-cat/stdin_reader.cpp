#include "stdin_reader.hpp"

#include <unistd.h>

#include <cerrno>
#include <thread>

namespace srmudp::cat {

namespace {

constexpr std::size_t kMaxQueuedMessages = 1024;
constexpr std::size_t kMaxQueuedBytes = 32u << 20;
constexpr std::size_t kReadChunk = 64u << 10;

}  // namespace

StdinReader::StdinReader(bool binary, std::size_t max_message_size, std::function<void()> on_ready)
    : binary_(binary), max_message_size_(max_message_size) {
    shared_->on_ready = std::move(on_ready);
}

StdinReader::~StdinReader() {
    std::lock_guard<std::mutex> lock(shared_->notify_mutex);
    shared_->on_ready = nullptr;
}

void StdinReader::Shared::notify() {
    std::lock_guard<std::mutex> lock(notify_mutex);
    if (on_ready) on_ready();
}

void StdinReader::start() {
    std::thread(read_loop, shared_, binary_, max_message_size_).detach();
}

void StdinReader::push(Shared& shared, Message message) {
    bool was_empty = false;
    {
        std::unique_lock<std::mutex> lock(shared.mutex);
        shared.room.wait(lock, [&] {
            return shared.queue.size() < kMaxQueuedMessages &&
                   (shared.queue.empty() ||
                    shared.queued_bytes + message.data.size() <= kMaxQueuedBytes);
        });
        was_empty = shared.queue.empty();
        shared.queued_bytes += message.data.size();
        shared.queue.push_back(std::move(message));
    }
    if (was_empty) shared.notify();
}

void StdinReader::read_loop(std::shared_ptr<Shared> shared, bool binary, std::size_t max_message) {
    std::vector<std::uint8_t> chunk(kReadChunk);
    Bytes line;
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (binary) {
            push(*shared, Message{MessageKind::binary, Bytes(chunk.begin(), chunk.begin() + n)});
            continue;
        }
        for (ssize_t i = 0; i < n; ++i) {
            if (chunk[static_cast<std::size_t>(i)] == '\n') {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                push(*shared, Message{MessageKind::text, std::move(line)});
                line.clear();
            } else {
                line.push_back(chunk[static_cast<std::size_t>(i)]);
                // A line longer than a message may be travels as several messages.
                if (line.size() == max_message) {
                    push(*shared, Message{MessageKind::text, std::move(line)});
                    line.clear();
                }
            }
        }
    }
    if (!line.empty()) push(*shared, Message{MessageKind::text, std::move(line)});
    {
        std::lock_guard<std::mutex> lock(shared->mutex);
        shared->eof = true;
    }
    shared->notify();
}

std::optional<Message> StdinReader::take(bool& ended) {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    ended = false;
    if (shared_->queue.empty()) {
        ended = shared_->eof;
        return std::nullopt;
    }
    Message m = std::move(shared_->queue.front());
    shared_->queue.pop_front();
    shared_->queued_bytes -= m.data.size();
    shared_->room.notify_one();
    return m;
}

void StdinReader::put_back(Message message) {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->queued_bytes += message.data.size();
    shared_->queue.push_front(std::move(message));
}

}  // namespace srmudp::cat
