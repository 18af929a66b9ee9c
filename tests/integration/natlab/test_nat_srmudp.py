#!/usr/bin/env python3
"""srmudp-cat through real NATs: STUN discovery from behind a NAT, a hole-punched connection
between every pair of endpoint-independent-mapping NATs whatever their filtering (natlab kinds
"eim", "eim-addr", "eim-open"), and a clear timeout between two symmetric NATs. What happens
between an EIM NAT and a symmetric one is printed, not required.

Each peer runs `srmudp-cat --key K --stun STUN:3478 --local-port P --remote -`: it prints its
public address, reads the peer's from the first line of stdin and connects; the rest of stdin
becomes messages. The test plays the rendezvous server and swaps the two addresses.

Run as root: python3 test_nat_srmudp.py --cat PATH/srmudp-cat. Exit 77 (CTest
SKIP_RETURN_CODE) with the reason printed when this machine cannot build a lab.
"""

import argparse
import itertools
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
# Short, so a recorded pair that connects does not hold the suite for the default 60 s.
LINGER_S = 3

EIM_KINDS = ("eim", "eim-addr", "eim-open")
# Pairs whose outcome is printed, not required (RFC 4787 gives no guarantee for them).
RECORDED_PAIRS = (("eim", "symmetric"), ("eim-addr", "symmetric"), ("eim-open", "symmetric"))
SUMMARY = []  # (pair, outcome, seconds), printed at the end

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


def pair_name(kind_a, kind_b):
    return "%s/%s" % (kind_a, kind_b)


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

    def punch_and_exchange(self, kind_a, kind_b):
        """Alice behind a kind_a NAT and Bob behind a kind_b NAT punch through and swap lines
        both ways, then both exit 0."""
        started = time.monotonic()
        a, public_a = self.peer("nata", NAT_A, kind_a, "alice", PORT_A)
        b, public_b = self.peer("natb", NAT_B, kind_b, "bob", PORT_B)
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
        seconds = time.monotonic() - started
        SUMMARY.append((pair_name(kind_a, kind_b), "connected, exchanged, exit 0", seconds))
        sys.stderr.write("\n  lab, STUN, punch and exchange in %.1f s " % seconds)


def _add_pair_test(kind_a, kind_b):
    def test(self):
        self.punch_and_exchange(kind_a, kind_b)
    test.__doc__ = "Hole punching %s succeeds." % pair_name(kind_a, kind_b)
    name = "test_punch_%s_and_%s" % (kind_a.replace("-", "_"), kind_b.replace("-", "_"))
    setattr(EimNatTest, name, test)


# Every unordered pair of EIM kinds, a kind with itself included: RFC 4787 section 4.1 mapping
# is what punching needs, and every filter lets in the peer once the host has sent to it.
for _kind_a, _kind_b in itertools.combinations_with_replacement(EIM_KINDS, 2):
    _add_pair_test(_kind_a, _kind_b)


class SymmetricNatTest(NatTestCase):
    def test_two_peers_behind_symmetric_nats_time_out_clearly(self):
        started = time.monotonic()
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
        SUMMARY.append((pair_name("symmetric", "symmetric"), "timed out, exit 1 (required)",
                        time.monotonic() - started))


@unittest.skipUnless(AVAILABLE and HAVE_TURNSERVER, "NAT lab with coturn not available: %s"
                     % (REASON or "turnserver not found (coturn package)"))
class RecordedPairTest(unittest.TestCase):
    def test_eim_with_symmetric_outcomes_are_recorded(self):
        # Not a requirement: each pair runs in a lab of its own and its outcome is printed.
        for kind_a, kind_b in RECORDED_PAIRS:
            with self.subTest(pair=pair_name(kind_a, kind_b)):
                started = time.monotonic()
                with natlab.Lab() as lab:
                    outcome = self.record_pair(lab, kind_a, kind_b)
                SUMMARY.append((pair_name(kind_a, kind_b), outcome, time.monotonic() - started))

    def record_pair(self, lab, kind_a, kind_b):
        """Both peers try with a short connect timeout; returns what each side saw."""
        stun = "%s:%d" % lab.start_stun(lab.add_public_host("stun", STUN_IP))
        peers = []
        for nat_name, nat_ip, kind, name, port in (("nata", NAT_A, kind_a, "alice", PORT_A),
                                                   ("natb", NAT_B, kind_b, "bob", PORT_B)):
            host = lab.add_nat(nat_name, nat_ip, kind).add_host(name)
            process = Process([CAT, "--key", KEY, "--stun", stun, "--local-port", port,
                               "--remote", "-", "--connect-timeout", CONNECT_TIMEOUT_S,
                               "--linger", LINGER_S], name, popen=host.popen)
            self.addCleanup(process.kill)
            found = process.wait_stderr(PUBLIC_RE, STATUS_S)
            self.assertIsNotNone(found, process.describe())
            peers.append((process, "%s:%s" % (found[2].group(1), found[2].group(2))))
        (a, public_a), (b, public_b) = peers
        a.write("%s\nfrom %s\n" % (public_b, kind_a))
        b.write("%s\nfrom %s\n" % (public_a, kind_b))
        # stdin stays open until the connection is settled: --linger counts from its end.
        settled = [process.wait_stderr(r"established|error: .*", CONNECT_TIMEOUT_S + STATUS_S)
                   for process in (a, b)]
        for process, found in ((a, settled[0]), (b, settled[1])):
            if found is not None and found[2].group(0) == "established":
                process.wait_stdout(lambda out, _: b"from " in out, EXCHANGE_S)
            process.close_stdin()
        sides = []
        for process, kind, found in ((a, kind_a, settled[0]), (b, kind_b, settled[1])):
            status = process.wait(LINGER_S + EXIT_S)
            # Only a hang is a failure here: it would mean a missing deadline.
            self.assertIsNotNone(found, process.describe())
            self.assertIsNotNone(status, process.describe())
            seen = found[2].group(0)
            if seen.startswith("established"):
                seen += ", got %r" % process.stdout().decode(errors="replace").strip()
            sides.append("%s side: %s, exit %s" % (kind, seen, status))
        outcome = "; ".join(sides)
        sys.stderr.write("\n  %s: %s " % (pair_name(kind_a, kind_b), outcome))
        return outcome


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
    for pair, outcome, seconds in SUMMARY:
        print("nat srmudp: %-20s %5.1f s  %s" % (pair, seconds, outcome))
    print("nat srmudp: %.1f s" % (time.monotonic() - started))
    if not program.result.wasSuccessful():
        return 1
    return 0 if AVAILABLE and HAVE_TURNSERVER else SKIP_RETURN_CODE


if __name__ == "__main__":
    sys.exit(main())
