#!/usr/bin/env python3
"""srmudp-cat on real loopback sockets: text and binary both ways over IPv4 and IPv6, listen and
symmetric connect, awkward lines, a wrong key, nobody answering, and usage errors.

    python3 test_cat_loopback.py --cat PATH/srmudp-cat [unittest options]
"""

import argparse
import os
import random
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from catproc import Process, free_udp_port  # noqa: E402

CAT = None
KEY = "loopback test key"
# Deadlines: generous for a Debug + sanitizer build on a shared 2-core machine; a passing run
# never waits for them.
EXCHANGE_S = 20
EXIT_S = 15


def cat(*args, name="cat", key=KEY):
    argv = [CAT] + (["--key", key] if key is not None else []) + list(args)
    return Process(argv, name)


def first_difference(x, y):
    return next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))


def text(lines):
    """What srmudp-cat writes for these text lines: each followed by a newline."""
    return b"".join(line + b"\n" for line in lines)


class CatTestCase(unittest.TestCase):
    def start(self, *args, name="cat", key=KEY):
        process = cat(*args, name=name, key=key)
        self.addCleanup(process.kill)
        return process

    def listener(self, bind="127.0.0.1", extra=()):
        process = self.start("--listen", "--bind", bind, *extra, name="listener")
        port = process.wait_local_port()
        self.assertIsNotNone(process.wait_stderr(r"listening$", 10), process.describe())
        return process, port

    def exchange(self, a, b, a_lines, b_lines, fence=b"fence\n"):
        """a and b each send their data; each must print exactly the other's, then both exit 0
        once their stdin is closed. a must be the side that closes (a connector).

        The fence: a closes once its own messages are acknowledged, and b's last messages may
        still wait for a's acknowledgement then. So a sends one more message after it has
        printed all of b's; that packet (or an ACK before it) acknowledges b's messages, and a
        is the last to send. test_close_right_after_receiving covers the case without a fence.
        """
        a_data = a_lines if isinstance(a_lines, bytes) else text(a_lines)
        b_data = b_lines if isinstance(b_lines, bytes) else text(b_lines)
        a.feed([a_data])
        b.feed([b_data])
        self.expect_output(b, a_data, a, b)
        self.expect_output(a, b_data, a, b)
        if fence:
            a.write(fence)
            self.expect_output(b, a_data + fence, a, b)
        a.close_stdin()
        self.assertEqual(a.wait(EXIT_S), 0, a.describe() + "\n" + b.describe())
        b.close_stdin()
        self.assertEqual(b.wait(EXIT_S), 0, b.describe() + "\n" + a.describe())

    def expect_output(self, receiver, expected, *processes):
        receiver.wait_stdout(lambda out, _: len(out) >= len(expected), EXCHANGE_S)
        out = receiver.stdout()
        if out != expected:
            self.fail("%s printed %d bytes, expected %d identical ones (first difference at %d)"
                      "\n%s" % (receiver.name, len(out), len(expected), first_difference(
                          out, expected), "\n".join(p.describe() for p in processes)))

    def exchange_via_listener(self, a_lines, b_lines, bind="127.0.0.1", host="127.0.0.1"):
        b, port = self.listener(bind)
        remote = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
        a = self.start("--remote", remote, "--bind", bind, name="connector")
        self.exchange(a, b, a_lines, b_lines)
        self.assertIsNotNone(a.wait_stderr(r"established with ", 0), a.describe())
        return a, b


class TextTest(CatTestCase):
    def test_lines_both_ways_over_ipv4_with_a_listener(self):
        a, b = self.exchange_via_listener([b"hello", b"from a", b"line 3"],
                                          [b"hi", b"from b"])
        self.assertIsNotNone(b.wait_stderr(r"accepted 127\.0\.0\.1:\d+", 0), b.describe())
        self.assertIsNotNone(b.wait_stderr(r"closed: the peer closed", 0), b.describe())

    def test_lines_both_ways_over_ipv6(self):
        a, b = self.exchange_via_listener([b"six", b"over ::1"], [b"v6 reply"],
                                          bind="::1", host="::1")
        self.assertIsNotNone(a.wait_stderr(r"established with \[::1\]:\d+", 0), a.describe())

    def test_symmetric_connect_both_sides_name_each_other(self):
        port_a, port_b = free_udp_port(), free_udp_port()
        a = self.start("--bind", "127.0.0.1", "--local-port", port_a,
                       "--remote", "127.0.0.1:%d" % port_b, name="a")
        b = self.start("--bind", "127.0.0.1", "--local-port", port_b,
                       "--remote", "127.0.0.1:%d" % port_a, name="b")
        self.exchange(a, b, [b"a%d" % i for i in range(50)], [b"b%d" % i for i in range(40)])
        for process in (a, b):
            self.assertIsNotNone(process.wait_stderr(r"established with ", 0), process.describe())

    def test_empty_lines_stay_empty_messages(self):
        self.exchange_via_listener([b"", b"after one empty", b"", b"", b"x", b""],
                                   [b"", b"", b"b"])

    def test_unicode_lines_are_byte_identical(self):
        lines = ["grüße, Zoë", "日本語のテキスト", "emoji 🦀🚀 and a ZWJ 👩‍💻",
                 "مرحبا بالعالم", "e\u0301 combining", "\u2028 line separator \u00a0nbsp"]
        self.exchange_via_listener([line.encode("utf-8") for line in lines],
                                   [line[::-1].encode("utf-8") for line in lines])

    def test_a_one_mebibyte_line_is_one_message(self):
        rng = random.Random(7)
        big = bytes(rng.randrange(0x21, 0x7f) for _ in range(1 << 20))
        self.exchange_via_listener([b"before", big, b"after"], [big[::-1], b"done"])


class BinaryTest(CatTestCase):
    def test_random_bytes_round_trip_byte_exact(self):
        rng = random.Random(11)
        a_data = bytes(rng.getrandbits(8) for _ in range(300_000)) + b"\n\r\n\x00"
        b_data = b"\x00\xff\r\n" + bytes(rng.getrandbits(8) for _ in range(200_000))
        b, port = self.listener(extra=["--binary"])
        a = self.start("--binary", "--remote", "127.0.0.1:%d" % port, name="connector")
        self.exchange(a, b, a_data, b_data, fence=b"\x00fence\xff")


class CloseTest(CatTestCase):
    def test_close_right_after_receiving_acknowledges_what_was_received(self):
        # The listener's messages have all been printed by the connector, which then closes at
        # once: they were delivered, so the listener must not be told they failed.
        b, port = self.listener()
        a = self.start("--remote", "127.0.0.1:%d" % port, name="connector")
        b_lines = [b"reply %d" % i for i in range(20)]
        b.feed([text(b_lines)])
        self.expect_output(a, text(b_lines), a, b)
        a.close_stdin()
        self.assertEqual(a.wait(EXIT_S), 0, a.describe())
        b.close_stdin()
        self.assertEqual(b.wait(EXIT_S), 0, b.describe())
        self.assertIsNone(b.wait_stderr(r"failed", 0), b.describe())


class FailureTest(CatTestCase):
    def test_wrong_key_fails_on_both_sides_within_seconds(self):
        connect_timeout = 5
        port_a, port_b = free_udp_port(), free_udp_port()
        a = self.start("--bind", "127.0.0.1", "--local-port", port_a, "--remote",
                       "127.0.0.1:%d" % port_b, "--connect-timeout", connect_timeout,
                       name="a", key="key one")
        b = self.start("--bind", "127.0.0.1", "--local-port", port_b, "--remote",
                       "127.0.0.1:%d" % port_a, "--connect-timeout", connect_timeout,
                       name="b", key="key two")
        reported = {}
        for process in (a, b):
            process.write("never delivered\n")
            self.assertEqual(process.wait(connect_timeout + 5), 1, process.describe())
            found = process.wait_stderr(r"error: .*different key", 0)
            self.assertIsNotNone(found, process.describe())
            reported[process.name] = found[1]
            self.assertEqual(process.stdout(), b"")
        # One side learns it from the peer's answers at once; the other may only at its deadline.
        self.assertLess(min(reported.values()), 3.0, reported)
        self.assertLess(max(reported.values()), connect_timeout + 2.0, reported)
        sys.stderr.write("\n  wrong key reported after %s s " % ", ".join(
            "%s %.2f" % item for item in sorted(reported.items())))

    def test_nobody_answering_times_out_clearly(self):
        port = free_udp_port()
        a = self.start("--remote", "127.0.0.1:%d" % port, "--connect-timeout", "2",
                       name="connector")
        a.write("hello?\n")
        a.close_stdin()
        status = a.wait(10)
        self.assertEqual(status, 1, a.describe())
        found = a.wait_stderr(r"error: connection failed: .*timed out", 0)
        self.assertIsNotNone(found, a.describe())
        self.assertGreater(found[1], 1.5, "gave up before --connect-timeout")
        self.assertLess(found[1], 5.0, "gave up long after --connect-timeout")
        self.assertIsNotNone(a.wait_stderr(r"error: message 1 failed", 0), a.describe())

    def test_usage_errors_exit_2(self):
        cases = {
            "no key": ([], ["--listen"], None),
            "neither mode": (["--key", "k"], [], None),
            "both modes": (["--key", "k"], ["--listen", "--remote", "127.0.0.1:9"], None),
            "port 0": (["--key", "k"], ["--remote", "127.0.0.1:0"], None),
            "no port": (["--key", "k"], ["--remote", "127.0.0.1"], None),
            "host name": (["--key", "k"], ["--remote", "localhost:9"], None),
            "bad local port": (["--key", "k"], ["--listen", "--local-port", "65536"], None),
            "bad bind": (["--key", "k"], ["--listen", "--bind", "not-an-ip"], None),
            "zero timeout": (["--key", "k"], ["--listen", "--connect-timeout", "0"], None),
            "missing value": (["--key", "k"], ["--listen", "--linger"], None),
            "unknown option": (["--key", "k"], ["--listen", "--frobnicate"], None),
            "keep-listening alone": (["--key", "k"], ["--keep-listening", "--remote",
                                                      "127.0.0.1:9"], None),
            "stray argument": (["--key", "k"], ["--listen", "extra"], None),
        }
        for name, (key_args, args, _) in cases.items():
            with self.subTest(name):
                process = self.start(*(key_args + args), key=None, name=name)
                process.close_stdin()
                self.assertEqual(process.wait(EXIT_S), 2, process.describe())
                lines = process.stderr_lines()
                self.assertTrue(lines and lines[0].startswith("srmudp-cat: "), lines)
                self.assertIn("--help", "\n".join(lines))

    def test_key_from_environment_and_help(self):
        helped = self.start("--help", key=None, name="help")
        self.assertEqual(helped.wait(EXIT_S), 0, helped.describe())
        self.assertIn(b"usage: srmudp-cat", helped.stdout())
        env = dict(os.environ, SRMUDP_KEY=KEY)
        b = Process([CAT, "--listen", "--bind", "127.0.0.1"], "env listener", env=env)
        self.addCleanup(b.kill)
        port = b.wait_local_port()
        a = self.start("--remote", "127.0.0.1:%d" % port, name="connector")  # same key on argv
        self.exchange(a, b, [b"keyed by env"], [b"ok"])


def main():
    global CAT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cat", required=True, help="path of the srmudp-cat binary")
    args, rest = parser.parse_known_args()
    CAT = os.path.abspath(args.cat)
    started = time.monotonic()
    program = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    print("cat loopback: %.1f s" % (time.monotonic() - started))
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
