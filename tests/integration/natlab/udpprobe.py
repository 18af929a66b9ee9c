#!/usr/bin/env python3
"""A plain-UDP peer that runs inside a NAT lab host: STUN Binding client and hole puncher.

The STUN part is the Binding transaction of RFC 5389 (section 6 for the header, 15.2 for
XOR-MAPPED-ADDRESS), IPv4 only. The punching part is the classic UDP hole punch: both peers learn
their public address from one STUN server through the socket they will punch with, exchange the
addresses out of band, then both send to each other until something arrives.

It talks to the test over stdin/stdout in single lines, the way srmudp-cat will be driven:

  udpprobe.py stun --server IP:PORT [--server IP:PORT ...] [--local-port P] [--timeout S]
      prints "MAPPED <server ip:port> <public ip:port>" per server, all from one socket;
      exit 0, or 2 when a server does not answer in time.
  udpprobe.py punch --stun IP:PORT --local-port P --label L [--timeout S] [--linger S]
      prints "PUBLIC ip:port", reads "PEER ip:port", then prints "RECEIVED <from ip:port> <label>"
      (exit 0) or "TIMEOUT" (exit 3) when nothing from the peer arrived in time.
  udpprobe.py send --to IP:PORT [--local-port P] [--count N] [--label L]
      sends N punch datagrams, one per PUNCH_INTERVAL_S, and prints "SENT N".
  udpprobe.py listen --local-port P [--timeout S] [--until-stdin-ends]
      prints "LISTENING ip:port", then "RECEIVED <from ip:port> <label>" (exit 0) for the first
      datagram, or "TIMEOUT" (exit 3) when none came within S seconds or, with
      --until-stdin-ends, before stdin ended (the caller closes it once its senders are done).
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
ATTR_XOR_MAPPED_ADDRESS = 0x0020
HEADER_LEN = 20
FAMILY_IPV4 = 0x01
# A lab response is a few dozen bytes; anything larger than one datagram is not ours.
MAX_DATAGRAM = 2048
# The lab loses no packets, so a short fixed retransmit interval (instead of RFC 5389's 500 ms
# doubling RTO) only matters while the server is still starting.
STUN_RETRANSMIT_S = 0.2
PUNCH_INTERVAL_S = 0.1
PUNCH_PREFIX = b"natlab-punch "


def encode_binding_request(transaction_id):
    """The 20-byte Binding request header (no attributes) for a 12-byte transaction id."""
    if len(transaction_id) != 12:
        raise ValueError("STUN transaction id must be 12 bytes")
    return struct.pack("!HHI", BINDING_REQUEST, 0, MAGIC_COOKIE) + transaction_id


def decode_binding_response(data, transaction_id):
    """(ip, port) from the XOR-MAPPED-ADDRESS of a Binding success response to transaction_id.

    Returns None for anything else: short, malformed, another transaction, an error response, an
    IPv6 mapping or a response without XOR-MAPPED-ADDRESS.
    """
    if len(data) < HEADER_LEN:
        return None
    msg_type, msg_len, cookie = struct.unpack_from("!HHI", data, 0)
    if msg_type != BINDING_SUCCESS or cookie != MAGIC_COOKIE:
        return None
    if data[8:20] != transaction_id or msg_len % 4 != 0 or HEADER_LEN + msg_len != len(data):
        return None
    offset = HEADER_LEN
    while offset + 4 <= len(data):
        attr_type, attr_len = struct.unpack_from("!HH", data, offset)
        value_at = offset + 4
        if value_at + attr_len > len(data):
            return None
        if attr_type == ATTR_XOR_MAPPED_ADDRESS:
            return _decode_xor_mapped_ipv4(data[value_at:value_at + attr_len])
        offset = value_at + (attr_len + 3) // 4 * 4
    return None


def _decode_xor_mapped_ipv4(value):
    if len(value) != 8 or value[1] != FAMILY_IPV4:
        return None
    x_port, x_addr = struct.unpack_from("!HI", value, 2)
    port = x_port ^ (MAGIC_COOKIE >> 16)
    addr = socket.inet_ntoa(struct.pack("!I", x_addr ^ MAGIC_COOKIE))
    return addr, port


def stun_binding(sock, server, timeout):
    """The public (ip, port) the server sees for sock, or None when it does not answer in time."""
    transaction_id = os.urandom(12)
    request = encode_binding_request(transaction_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.sendto(request, server)
        resend_at = min(deadline, time.monotonic() + STUN_RETRANSMIT_S)
        while True:
            remaining = resend_at - time.monotonic()
            if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
                break
            data, source = sock.recvfrom(MAX_DATAGRAM)
            mapped = decode_binding_response(data, transaction_id) if source == server else None
            if mapped is not None:
                return mapped
    return None


def parse_endpoint(text):
    """'a.b.c.d:port' -> ('a.b.c.d', port); raises ValueError on anything else."""
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        raise ValueError("expected IP:PORT, got %r" % text)
    socket.inet_aton(host)
    number = int(port)
    if not 0 < number < 65536:
        raise ValueError("port out of range in %r" % text)
    return host, number


def format_endpoint(endpoint):
    return "%s:%d" % endpoint


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def bound_socket(local_port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", local_port))
    return sock


def run_stun(args):
    sock = bound_socket(args.local_port)
    say("LOCAL %s" % format_endpoint(sock.getsockname()))
    for server in args.server:
        mapped = stun_binding(sock, server, args.timeout)
        if mapped is None:
            say("NOANSWER %s" % format_endpoint(server))
            return 2
        say("MAPPED %s %s" % (format_endpoint(server), format_endpoint(mapped)))
    return 0


def read_peer():
    line = sys.stdin.readline()
    keyword, _, endpoint = line.strip().partition(" ")
    if keyword != "PEER":
        raise ValueError("expected 'PEER ip:port' on stdin, got %r" % line)
    return parse_endpoint(endpoint)


def punch(sock, peer, stun_server, payload, timeout, linger):
    """Send payload to peer every PUNCH_INTERVAL_S; returns (source, data) of the first punch
    packet that arrives, after lingering so the peer also gets ours, or None on timeout."""
    deadline = time.monotonic() + timeout
    received = None
    while time.monotonic() < deadline:
        sock.sendto(payload, peer)
        wait_until = min(deadline, time.monotonic() + PUNCH_INTERVAL_S)
        while True:
            remaining = wait_until - time.monotonic()
            if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
                break
            data, source = sock.recvfrom(MAX_DATAGRAM)
            if received is None and source != stun_server and data.startswith(PUNCH_PREFIX):
                received = (source, data)
                deadline = min(deadline, time.monotonic() + linger)
    return received


def run_punch(args):
    sock = bound_socket(args.local_port)
    public = stun_binding(sock, args.stun, args.timeout)
    if public is None:
        say("NOANSWER %s" % format_endpoint(args.stun))
        return 2
    say("PUBLIC %s" % format_endpoint(public))
    peer = read_peer()
    payload = PUNCH_PREFIX + args.label.encode()
    received = punch(sock, peer, args.stun, payload, args.timeout, args.linger)
    if received is None:
        say("TIMEOUT")
        return 3
    source, data = received
    say("RECEIVED %s %s" % (format_endpoint(source), describe(data)))
    return 0


def run_send(args):
    sock = bound_socket(args.local_port)
    for _ in range(args.count):
        sock.sendto(PUNCH_PREFIX + args.label.encode(), args.to)
        time.sleep(PUNCH_INTERVAL_S)
    say("SENT %d" % args.count)
    return 0


def run_listen(args):
    sock = bound_socket(args.local_port)
    say("LISTENING %s" % format_endpoint(sock.getsockname()))
    deadline = time.monotonic() + args.timeout
    waiting_for = [sock, sys.stdin] if args.until_stdin_ends else [sock]
    while True:
        left = deadline - time.monotonic()
        ready = select.select(waiting_for, [], [], max(left, 0))[0] if left > 0 else []
        if sock in ready:
            break
        # Timed out, or stdin ended (anything written to it is read and ignored).
        if not ready or not sys.stdin.buffer.read1(4096):
            say("TIMEOUT")
            return 3
    data, source = sock.recvfrom(MAX_DATAGRAM)
    say("RECEIVED %s %s" % (format_endpoint(source), describe(data)))
    return 0


def describe(data):
    """The label of a punch datagram, or a marker for anything else."""
    if data.startswith(PUNCH_PREFIX):
        return data[len(PUNCH_PREFIX):].decode(errors="replace")
    return "(%d bytes, not a punch datagram)" % len(data)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    stun = sub.add_parser("stun")
    stun.add_argument("--server", type=parse_endpoint, action="append", required=True)
    stun.add_argument("--local-port", type=int, default=0)
    stun.add_argument("--timeout", type=float, default=3.0)
    hole = sub.add_parser("punch")
    hole.add_argument("--stun", type=parse_endpoint, required=True)
    hole.add_argument("--local-port", type=int, default=0)
    hole.add_argument("--label", default="peer")
    hole.add_argument("--timeout", type=float, default=5.0)
    hole.add_argument("--linger", type=float, default=0.5)
    send = sub.add_parser("send")
    send.add_argument("--to", type=parse_endpoint, required=True)
    send.add_argument("--local-port", type=int, default=0)
    send.add_argument("--count", type=int, default=5)
    send.add_argument("--label", default="sender")
    listen = sub.add_parser("listen")
    listen.add_argument("--local-port", type=int, required=True)
    listen.add_argument("--timeout", type=float, default=2.0)
    listen.add_argument("--until-stdin-ends", action="store_true")
    args = parser.parse_args(argv)
    modes = {"stun": run_stun, "punch": run_punch, "send": run_send, "listen": run_listen}
    return modes[args.mode](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
