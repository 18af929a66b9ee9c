// Reads stdin on a thread of its own (a regular file or a terminal cannot be waited on with
// epoll) into a bounded queue of messages that the io_context thread drains. When the queue is
// full the thread stops reading, so a slow peer slows the producer instead of growing memory.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "srmudp/message.hpp"

namespace srmudp::cat {

class StdinReader {
  public:
    // on_ready is called from the reader thread whenever the queue goes from empty to non-empty
    // or stdin ends; it must only post work to the io_context.
    StdinReader(bool binary, std::size_t max_message_size, std::function<void()> on_ready);
    // The reader thread may outlive this object (it can be blocked in read()); from here on it
    // never calls on_ready again.
    ~StdinReader();
    StdinReader(const StdinReader&) = delete;
    StdinReader& operator=(const StdinReader&) = delete;
    void start();
    // Takes the next message, or nullopt if none is waiting. `ended` becomes true once stdin has
    // ended and every message has been taken.
    std::optional<Message> take(bool& ended);
    // Puts a message back at the front (the transport's send buffer was full).
    void put_back(Message message);

  private:
    struct Shared {
        std::mutex mutex;
        std::condition_variable room;
        std::deque<Message> queue;
        std::size_t queued_bytes = 0;
        bool eof = false;
        std::mutex notify_mutex;  // guards on_ready, which the destructor clears
        std::function<void()> on_ready;
        void notify();
    };
    static void read_loop(std::shared_ptr<Shared> shared, bool binary, std::size_t max_message);
    static void push(Shared& shared, Message message);

    std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
    bool binary_;
    std::size_t max_message_size_;
};

}  // namespace srmudp::cat
