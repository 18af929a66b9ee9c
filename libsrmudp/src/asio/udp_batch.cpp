#include "asio/udp_batch.hpp"

#include <netinet/in.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace srmudp::asio_driver {

namespace {

constexpr std::uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

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
    : slot_size_(slot_size), in_(slot_size * kBatch), out_(slot_size * kBatch) {}

std::size_t UdpBatch::receive(int fd) {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    for (std::size_t i = 0; i < kBatch; ++i) {
        iov[i].iov_base = in_.data() + i * slot_size_;
        iov[i].iov_len = slot_size_;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &in_addr_[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    const int n = ::recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return 0;
    std::size_t kept = 0;
    for (int i = 0; i < n; ++i) {
        if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
            ++truncated_;
            continue;
        }
        if (kept != static_cast<std::size_t>(i)) {
            std::memcpy(in_.data() + kept * slot_size_, in_.data() + i * slot_size_,
                        msgs[i].msg_len);
            in_addr_[kept] = in_addr_[i];
        }
        in_len_[kept] = msgs[i].msg_len;
        ++kept;
    }
    return kept;
}

ByteView UdpBatch::datagram(std::size_t i) const {
    return ByteView(in_.data() + i * slot_size_, in_len_[i]);
}

PeerAddress UdpBatch::source(std::size_t i) const {
    return from_sockaddr(in_addr_[i]);
}

void UdpBatch::commit(std::size_t size, const PeerAddress& to, bool ipv6_socket) {
    out_len_[out_count_] = size;
    out_addr_len_[out_count_] = to_sockaddr(to, ipv6_socket, out_addr_[out_count_]);
    ++out_count_;
}

bool UdpBatch::flush(int fd) {
    while (out_sent_ < out_count_) {
        std::array<mmsghdr, kBatch> msgs{};
        std::array<iovec, kBatch> iov{};
        const std::size_t count = out_count_ - out_sent_;
        for (std::size_t k = 0; k < count; ++k) {
            const std::size_t i = out_sent_ + k;
            iov[k].iov_base = out_.data() + i * slot_size_;
            iov[k].iov_len = out_len_[i];
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
            msgs[k].msg_hdr.msg_name = &out_addr_[i];
            msgs[k].msg_hdr.msg_namelen = out_addr_len_[i];
        }
        const int n = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
        if (n > 0) {
            out_sent_ += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return false;
        if (errno == EINTR) continue;
        ++send_errors_;  // this datagram cannot go out; drop it and go on with the rest
        ++out_sent_;
    }
    out_count_ = 0;
    out_sent_ = 0;
    return true;
}

}  // namespace srmudp::asio_driver
