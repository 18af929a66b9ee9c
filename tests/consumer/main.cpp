// Two endpoint cores connected back to back through an in-memory "network": the smallest
// program that proves the installed headers and library work.
#include <srmudp/endpoint_core.hpp>
#include <srmudp/error.hpp>

#include <cstdio>
#include <string>
#include <variant>

int main() {
    using namespace srmudp;
    const PeerAddress a_addr = PeerAddress::v4(127, 0, 0, 1, 1);
    const PeerAddress b_addr = PeerAddress::v4(127, 0, 0, 1, 2);
    EndpointCore a(Config{}, system_random());
    EndpointCore b(Config{}, system_random());
    TimePoint now{};
    ConnectionHandle ha = 0;
    if (b.listen("consumer key") || a.connect(now, b_addr, "consumer key", ha)) return 1;
    MessageId id = 0;
    if (a.send(ha, MessageKind::text, as_bytes("hello"), id)) return 1;

    std::string received;
    bool delivered = false;
    Bytes buf(2048);
    for (int step = 0; step < 1000 && !(delivered && !received.empty()); ++step) {
        PeerAddress to;
        while (std::size_t n = a.poll_transmit(now, MutableByteView(buf), to))
            b.receive(now, a_addr, ByteView(buf.data(), n));
        while (std::size_t n = b.poll_transmit(now, MutableByteView(buf), to))
            a.receive(now, b_addr, ByteView(buf.data(), n));
        EndpointEvent ev;
        while (a.poll_event(ev))
            delivered = delivered || std::holds_alternative<MessageDelivered>(ev.event);
        while (b.poll_event(ev)) {
            if (auto* m = std::get_if<MessageReceived>(&ev.event))
                received.assign(m->message.data.begin(), m->message.data.end());
        }
        now += milliseconds(5);
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
    std::printf("consumer: received \"%s\", delivered=%s\n", received.c_str(),
                delivered ? "yes" : "no");
    return received == "hello" && delivered ? 0 : 1;
}
