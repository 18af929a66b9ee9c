#include "asio/udp_batch.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace srmudp::asio_driver {

namespace {

constexpr std::uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// One GSO send is one UDP datagram of up to 65535 bytes before the kernel splits it; stay below
// that with room for the headers. The kernel also caps the segments (64 since Linux 4.18).
constexpr std::size_t kMaxGsoBytes = 60000;
constexpr std::size_t kMaxGsoSegments = 64;

// The control message carrying the GSO segment size, aligned as cmsghdr requires.
union GsoControl {
    cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(std::uint16_t))];
};

void set_gso_segment(msghdr& header, GsoControl& control, std::size_t segment_size) {
    std::memset(&control, 0, sizeof control);
    header.msg_control = control.bytes;
    header.msg_controllen = sizeof control.bytes;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
    cmsg->cmsg_level = SOL_UDP;
    cmsg->cmsg_type = UDP_SEGMENT;
    cmsg->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    const auto size = static_cast<std::uint16_t>(segment_size);
    std::memcpy(CMSG_DATA(cmsg), &size, sizeof size);
}

// The control message of a coalesced receive: the segment size as an int.
union GroControl {
    cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
};

// The segment size of a received entry; 0 if the kernel did not coalesce it.
std::size_t gro_segment(msghdr& header) {
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg != nullptr;
         cmsg = CMSG_NXTHDR(&header, cmsg)) {
        if (cmsg->cmsg_level != SOL_UDP || cmsg->cmsg_type != UDP_GRO ||
            cmsg->cmsg_len < CMSG_LEN(sizeof(int))) {
            continue;
        }
        int size = 0;
        std::memcpy(&size, CMSG_DATA(cmsg), sizeof size);
        return size > 0 ? static_cast<std::size_t>(size) : 0;
    }
    return 0;
}

}  // namespace

socklen_t to_sockaddr(const PeerAddress& address, bool ipv6_socket, sockaddr_storage& out) {
    std::memset(&out, 0, sizeof out);
    if (address.family == PeerAddress::Family::v4 && !ipv6_socket) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&out);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(address.port);
        std::memcpy(&sin->sin_addr, address.ip.data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(address.port);
    if (address.family == PeerAddress::Family::v4) {
        std::memcpy(sin6->sin6_addr.s6_addr, kV4MappedPrefix, 12);
        std::memcpy(sin6->sin6_addr.s6_addr + 12, address.ip.data(), 4);
    } else {
        std::memcpy(sin6->sin6_addr.s6_addr, address.ip.data(), 16);
    }
    return sizeof(sockaddr_in6);
}

PeerAddress from_sockaddr(const sockaddr_storage& address) {
    PeerAddress out;
    if (address.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&address);
        out.family = PeerAddress::Family::v4;
        std::memcpy(out.ip.data(), &sin->sin_addr, 4);
        out.port = ntohs(sin->sin_port);
        return out;
    }
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&address);
    out.port = ntohs(sin6->sin6_port);
    if (std::memcmp(sin6->sin6_addr.s6_addr, kV4MappedPrefix, 12) == 0) {
        out.family = PeerAddress::Family::v4;
        std::memcpy(out.ip.data(), sin6->sin6_addr.s6_addr + 12, 4);
    } else {
        out.family = PeerAddress::Family::v6;
        std::memcpy(out.ip.data(), sin6->sin6_addr.s6_addr, 16);
    }
    return out;
}

UdpBatch::UdpBatch(std::size_t slot_size)
    : slot_size_(slot_size),
      in_entry_size_(slot_size),
      in_(new std::uint8_t[slot_size * kBatch]),
      out_(slot_size * kBatch) {}

bool UdpBatch::enable_gro(int fd) {
    if (gro_) return true;
    const int on = 1;
    if (::setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) != 0) return false;
    gro_ = true;
    in_entries_ = kGroEntries;
    in_entry_size_ = std::max(kGroEntrySize, slot_size_);
    // Not zero-filled: the kernel touches only the pages that datagrams land in, so a socket
    // that receives little costs little (an Endpoint per short-lived client, for one).
    in_.reset(new std::uint8_t[in_entries_ * in_entry_size_]);
    return true;
}

std::size_t UdpBatch::receive(int fd) {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    std::array<GroControl, kBatch> control;
    for (std::size_t i = 0; i < in_entries_; ++i) {
        iov[i].iov_base = in_.get() + i * in_entry_size_;
        iov[i].iov_len = in_entry_size_;
        msghdr& header = msgs[i].msg_hdr;
        header.msg_iov = &iov[i];
        header.msg_iovlen = 1;
        header.msg_name = &in_addr_[i];
        header.msg_namelen = sizeof(sockaddr_storage);
        if (gro_) {
            header.msg_control = control[i].bytes;
            header.msg_controllen = sizeof control[i].bytes;
        }
    }
    const int n =
        ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(in_entries_), MSG_DONTWAIT, nullptr);
    last_received_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (n <= 0) return 0;
    std::size_t kept = 0;
    for (int i = 0; i < n; ++i) {
        if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
            ++truncated_;
            continue;
        }
        if (kept != static_cast<std::size_t>(i)) {
            std::memcpy(in_.get() + kept * in_entry_size_, in_.get() + i * in_entry_size_,
                        msgs[i].msg_len);
            in_addr_[kept] = in_addr_[i];
        }
        in_len_[kept] = msgs[i].msg_len;
        in_segment_[kept] = gro_ ? gro_segment(msgs[i].msg_hdr) : 0;
        ++kept;
    }
    return kept;
}

ByteView UdpBatch::datagram(std::size_t i) const {
    return ByteView(in_.get() + i * in_entry_size_, in_len_[i]);
}

PeerAddress UdpBatch::source(std::size_t i) const {
    return from_sockaddr(in_addr_[i]);
}

void UdpBatch::commit(std::size_t size, const PeerAddress& to, bool ipv6_socket) {
    out_len_[out_count_] = size;
    out_addr_len_[out_count_] = to_sockaddr(to, ipv6_socket, out_addr_[out_count_]);
    ++out_count_;
}

// How many datagrams from `first` on can share one GSO send: same destination, every one the
// size of the first except possibly a shorter last one (the kernel's rule for segments). A run
// needs two datagrams of the same size to start, so a lone larger datagram (a path MTU probe,
// which the kernel may refuse as a GSO segment) never leads one.
std::size_t UdpBatch::gso_run_length(std::size_t first) const {
    const std::size_t segment = out_len_[first];
    if (segment == 0 || first + 1 >= out_count_ || out_len_[first + 1] != segment) return 1;
    std::size_t total = segment;
    std::size_t i = first + 1;
    while (i < out_count_ && i - first < kMaxGsoSegments && out_len_[i] <= segment &&
           total + out_len_[i] <= kMaxGsoBytes && out_addr_len_[i] == out_addr_len_[first] &&
           std::memcmp(&out_addr_[i], &out_addr_[first], out_addr_len_[first]) == 0) {
        total += out_len_[i];
        ++i;
        if (out_len_[i - 1] < segment) break;  // a shorter segment ends the run
    }
    return i - first;
}

// Splits the pending datagrams into sendmmsg entries; returns how many.
std::size_t UdpBatch::plan_runs(std::array<Run, kBatch>& runs) const {
    std::size_t n = 0;
    for (std::size_t i = out_sent_; i < out_count_; i += runs[n++].count) {
        runs[n] = Run{i, gso_ == Gso::on ? gso_run_length(i) : 1};
    }
    return n;
}

bool UdpBatch::flush(int fd) {
    if (gso_ == Gso::unknown) {
        // Kernels before 4.18 ignore the UDP_SEGMENT control message and would send a whole run
        // as one large datagram; they also lack the socket option, which is the test here.
        int size = 0;
        socklen_t len = sizeof size;
        gso_ = ::getsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, &len) == 0 ? Gso::on : Gso::off;
    }
    while (out_sent_ < out_count_) {
        std::array<Run, kBatch> runs{};
        std::array<mmsghdr, kBatch> msgs{};
        std::array<iovec, kBatch> iov{};
        std::array<GsoControl, kBatch> control;
        const std::size_t count = plan_runs(runs);
        for (std::size_t k = 0; k < count; ++k) {
            const Run& run = runs[k];
            for (std::size_t i = run.first; i < run.first + run.count; ++i) {
                iov[i].iov_base = out_.data() + i * slot_size_;
                iov[i].iov_len = out_len_[i];
            }
            msghdr& header = msgs[k].msg_hdr;
            header.msg_iov = &iov[run.first];
            header.msg_iovlen = run.count;
            header.msg_name = &out_addr_[run.first];
            header.msg_namelen = out_addr_len_[run.first];
            if (run.count > 1) set_gso_segment(header, control[k], out_len_[run.first]);
        }
        const int n = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
        if (n > 0) {
            for (int k = 0; k < n; ++k)
                out_sent_ += runs[static_cast<std::size_t>(k)].count;
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return false;
        if (errno == EINTR) continue;
        if (runs[0].count > 1 && (errno == EINVAL || errno == EIO)) {
            gso_ = Gso::off;  // no GSO here (old kernel, no checksum offload): send one by one
            continue;
        }
        // These datagrams cannot go out (all to one destination); drop them and go on.
        send_errors_ += runs[0].count;
        out_sent_ += runs[0].count;
    }
    out_count_ = 0;
    out_sent_ = 0;
    return true;
}

}  // namespace srmudp::asio_driver
