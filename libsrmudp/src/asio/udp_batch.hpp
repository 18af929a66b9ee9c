// Batched UDP I/O on a non-blocking socket: recvmmsg/sendmmsg move up to kBatch datagrams per
// system call (Linux), which is most of what a UDP transport spends its CPU on at high rates.
// Runs of equal-size datagrams to one destination go out as one UDP GSO send (UDP_SEGMENT,
// Linux 4.18+): the kernel walks its send path once per run and splits it into datagrams
// late; where the kernel refuses GSO the batch falls back to one datagram per message.
// On receive, UDP GRO (Linux 5.0+) lets the kernel hand over a run of datagrams of one flow as
// one buffer with its segment size: one copy and one receive entry per run, and over loopback
// the sender's GSO run is not split at all. Each receive entry must then hold 64 KiB.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include "srmudp/address.hpp"
#include "srmudp/bytes.hpp"

namespace srmudp::asio_driver {

inline constexpr std::size_t kBatch = 32;
// Receive entries with GRO on, each kGroEntrySize bytes (the largest UDP payload a coalesced
// run can have): 512 KiB per socket, against 32 x the slot size without GRO.
inline constexpr std::size_t kGroEntries = 8;
inline constexpr std::size_t kGroEntrySize = 65536;

// PeerAddress <-> sockaddr. On an IPv6 (dual-stack) socket IPv4 peers appear as ::ffff:a.b.c.d;
// to_sockaddr maps them there and from_sockaddr maps them back, so the core only ever sees the
// plain IPv4 address.
socklen_t to_sockaddr(const PeerAddress& address, bool ipv6_socket, sockaddr_storage& out);
PeerAddress from_sockaddr(const sockaddr_storage& address);

class UdpBatch {
  public:
    explicit UdpBatch(std::size_t slot_size);

    // Asks the kernel to coalesce received runs (UDP_GRO) on this socket. Returns false if it
    // cannot (old kernel, not Linux); receiving then goes on one datagram per entry.
    bool enable_gro(int fd);
    bool gro() const { return gro_; }

    // Receives up to kBatch entries (kGroEntries with GRO) without blocking; returns how many
    // (0 when none are waiting). Entries larger than their buffer are dropped (truncated()).
    std::size_t receive(int fd);
    // True if the last receive() got fewer entries than it asked for: the socket's queue was
    // empty when the call ended.
    bool short_batch() const { return last_received_ < in_entries_; }
    // Entry i: one datagram, or with GRO a run of datagrams of segment_size(i) bytes each (the
    // last may be shorter), all from source(i). Split it with for_each_datagram().
    ByteView datagram(std::size_t i) const;
    std::size_t segment_size(std::size_t i) const { return in_segment_[i]; }
    PeerAddress source(std::size_t i) const;
    std::uint64_t truncated() const { return truncated_; }

    // Outgoing datagrams are written into slots, then sent together.
    MutableByteView next_slot() {
        return MutableByteView(out_.data() + out_count_ * slot_size_, slot_size_);
    }
    void commit(std::size_t size, const PeerAddress& to, bool ipv6_socket);
    std::size_t pending() const { return out_count_ - out_sent_; }
    bool full() const { return out_count_ == kBatch; }
    // Sends what is pending. Returns false if the socket would block (the rest stays pending).
    // Datagrams the kernel refuses for other reasons (unreachable, ...) are dropped: UDP is lossy
    // and the protocol recovers; they are counted in send_errors().
    bool flush(int fd);
    std::uint64_t send_errors() const { return send_errors_; }

  private:
    // Off if the kernel lacks UDP GSO or refused a GSO send: each datagram then goes alone.
    enum class Gso : std::uint8_t { unknown, on, off };
    // Datagrams [first, first + count) as one sendmmsg entry.
    struct Run {
        std::size_t first = 0;
        std::size_t count = 0;
    };
    std::size_t gso_run_length(std::size_t first) const;
    std::size_t plan_runs(std::array<Run, kBatch>& runs) const;

    std::size_t slot_size_;
    bool gro_ = false;
    std::size_t last_received_ = 0;    // entries the last recvmmsg returned, truncated ones too
    std::size_t in_entries_ = kBatch;  // receive entries per call and the size of each
    std::size_t in_entry_size_;
    std::unique_ptr<std::uint8_t[]> in_;  // in_entries_ x in_entry_size_, never read unwritten
    std::array<sockaddr_storage, kBatch> in_addr_{};
    std::array<std::size_t, kBatch> in_len_{};
    std::array<std::size_t, kBatch> in_segment_{};
    std::vector<std::uint8_t> out_;
    std::array<sockaddr_storage, kBatch> out_addr_{};
    std::array<socklen_t, kBatch> out_addr_len_{};
    std::array<std::size_t, kBatch> out_len_{};
    std::size_t out_count_ = 0;
    std::size_t out_sent_ = 0;
    std::uint64_t truncated_ = 0;
    std::uint64_t send_errors_ = 0;
    Gso gso_ = Gso::unknown;
};

// Calls f(ByteView) for each datagram of a received entry: the whole entry, or its segments of
// segment_size bytes (the last one possibly shorter). A segment size of 0 counts as the whole.
template <typename F>
std::size_t for_each_datagram(ByteView entry, std::size_t segment_size, F&& f) {
    if (segment_size == 0 || segment_size >= entry.size()) {
        f(entry);
        return 1;
    }
    std::size_t count = 0;
    for (std::size_t at = 0; at < entry.size(); at += segment_size, ++count)
        f(entry.subspan(at, std::min(segment_size, entry.size() - at)));
    return count;
}

}  // namespace srmudp::asio_driver
