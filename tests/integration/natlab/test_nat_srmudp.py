#!/usr/bin/env python3
"""srmudp-cat through real NATs: STUN discovery from behind a NAT, a hole-punched connection
between two endpoint-independent-mapping NATs, and a clear timeout between two symmetric NATs.

Each peer runs `srmudp-cat --key K --stun STUN:3478 --local-port P --remote -`: it prints its
public address, reads the peer's from the first line of stdin and connects; the rest of stdin
becomes messages. The test plays the rendezvous server and swaps the two addresses.

Run as root: python3 test_nat_srmudp.py --cat PATH/srmudp-cat. Exit 77 (CTest
SKIP_RETURN_CODE) with the reason printed when this machine cannot build a lab.
"""

import argparse
import os
import shutil
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "cat"))

import natlab  # noqa: E402
from catproc import Process  # noqa: E402

AVAILABLE, REASON = natlab.available()
HAVE_TURNSERVER = shutil.which("turnserver") is not None
SKIP_RETURN_CODE = 77
CAT = None
KEY = "nat lab key"

STUN_IP = "198.18.0.10"
NAT_A = "198.18.0.21"
NAT_B = "198.18.0.22"
PORT_A = 40001
PORT_B = 40002
# A punched connection is up in well under a second; the deadlines cover a sanitizer build.
STATUS_S = 15
EXCHANGE_S = 20
EXIT_S = 15
CONNECT_TIMEOUT_S = 5

PUBLIC_RE = r"public address (\d+\.\d+\.\d+\.\d+):(\d+)$"


def text(lines):
    return b"".join(line + b"\n" for line in lines)


@unittest.skipUnless(AVAILABLE and HAVE_TURNSERVER, "NAT lab with coturn not available: %s"
                     % (REASON or "turnserver not found (coturn package)"))
class NatTestCase(unittest.TestCase):
    def setUp(self):
        self.lab = natlab.Lab().__enter__()
        self.addCleanup(self.lab.close)
        self.stun = "%s:%d" % self.lab.start_stun(self.lab.add_public_host("stun", STUN_IP))

    def peer(self, nat_name, nat_ip, kind, host_name, port, *extra):
        """srmudp-cat behind a fresh NAT; returns (process, its public (ip, port))."""
        host = self.lab.add_nat(nat_name, nat_ip, kind).add_host(host_name)
        process = Process([CAT, "--key", KEY, "--stun", self.stun, "--local-port", port,
                           "--remote", "-"] + list(extra), host_name, popen=host.popen)
        self.addCleanup(process.kill)
        found = process.wait_stderr(PUBLIC_RE, STATUS_S)
        self.assertIsNotNone(found, process.describe())
        self.assertIsNotNone(process.wait_stderr(r"waiting for the peer's HOST:PORT", STATUS_S),
                             process.describe())
        return process, (found[2].group(1), int(found[2].group(2)))

    def swap_addresses(self, a, public_a, b, public_b):
        a.write("%s:%d\n" % public_b)
        b.write("%s:%d\n" % public_a)

    def expect_output(self, receiver, expected, *others):
        receiver.wait_stdout(lambda out, _: len(out) >= len(expected), EXCHANGE_S)
        self.assertEqual(receiver.stdout(), expected,
                         "\n".join(p.describe() for p in (receiver,) + others))


class EimNatTest(NatTestCase):
    def test_stun_from_behind_an_eim_nat_prints_the_nats_public_address(self):
        alice, public = self.peer("nata", NAT_A, "eim", "alice", PORT_A)
        # Linux masquerade keeps the source port when it is free.
        self.assertEqual(public, (NAT_A, PORT_A), alice.describe())
        # An unusable first line ends it with a clear error and exit status 1.
        alice.write("not an address\n")
        self.assertEqual(alice.wait(EXIT_S), 1, alice.describe())
        self.assertIsNotNone(alice.wait_stderr(r"error: the first line of stdin must be", 0),
                             alice.describe())

    def test_two_peers_behind_eim_nats_punch_through_and_exchange_lines(self):
        started = time.monotonic()
        a, public_a = self.peer("nata", NAT_A, "eim", "alice", PORT_A)
        b, public_b = self.peer("natb", NAT_B, "eim", "bob", PORT_B)
        self.assertEqual((public_a, public_b), ((NAT_A, PORT_A), (NAT_B, PORT_B)))
        self.swap_addresses(a, public_a, b, public_b)
        a_lines = [b"alice %d: through two NATs" % i for i in range(20)]
        b_lines = [b"bob %d" % i for i in range(15)] + ["grüße 🦀".encode()]
        a.write(text(a_lines))
        b.write(text(b_lines))
        for process, remote in ((a, public_b), (b, public_a)):
            established = process.wait_stderr(r"established with %s:%d" % remote, EXCHANGE_S)
            self.assertIsNotNone(established, process.describe())
        self.expect_output(b, text(a_lines), a)
        self.expect_output(a, text(b_lines), b)
        # Alice sends last (see test_cat_loopback's exchange), closes, and Bob follows.
        a.write(b"fence\n")
        self.expect_output(b, text(a_lines + [b"fence"]), a)
        a.close_stdin()
        self.assertEqual(a.wait(EXIT_S), 0, a.describe())
        b.close_stdin()
        self.assertEqual(b.wait(EXIT_S), 0, b.describe())
        sys.stderr.write("\n  lab, STUN, punch and exchange in %.1f s " %
                         (time.monotonic() - started))


class SymmetricNatTest(NatTestCase):
    def test_two_peers_behind_symmetric_nats_time_out_clearly(self):
        a, public_a = self.peer("nata", NAT_A, "symmetric", "alice", PORT_A,
                                "--connect-timeout", CONNECT_TIMEOUT_S)
        b, public_b = self.peer("natb", NAT_B, "symmetric", "bob", PORT_B,
                                "--connect-timeout", CONNECT_TIMEOUT_S)
        self.assertEqual((public_a[0], public_b[0]), (NAT_A, NAT_B))
        self.swap_addresses(a, public_a, b, public_b)
        a.write(b"never arrives\n")
        b.write(b"never arrives either\n")
        for process in (a, b):
            connecting = process.wait_stderr(r"connecting to ", STATUS_S)
            self.assertIsNotNone(connecting, process.describe())
            self.assertEqual(process.wait(CONNECT_TIMEOUT_S + EXIT_S), 1, process.describe())
            failed = process.wait_stderr(r"error: connection failed: .*timed out", 0)
            self.assertIsNotNone(failed, process.describe())
            waited = failed[1] - connecting[1]
            self.assertGreater(waited, CONNECT_TIMEOUT_S - 0.5, process.describe())
            self.assertLess(waited, CONNECT_TIMEOUT_S + 3, process.describe())
            self.assertIsNone(process.wait_stderr(r"established", 0), process.describe())
            self.assertEqual(process.stdout(), b"")


def main():
    global CAT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cat", required=True, help="path of the srmudp-cat binary")
    args, rest = parser.parse_known_args()
    CAT = os.path.abspath(args.cat)
    if not AVAILABLE:
        print("nat srmudp: SKIPPING: %s" % REASON, flush=True)
    elif not HAVE_TURNSERVER:
        print("nat srmudp: SKIPPING: turnserver not found (coturn package)", flush=True)
    started = time.monotonic()
    program = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    print("nat srmudp: %.1f s" % (time.monotonic() - started))
    if not program.result.wasSuccessful():
        return 1
    return 0 if AVAILABLE and HAVE_TURNSERVER else SKIP_RETURN_CODE


if __name__ == "__main__":
    sys.exit(main())
