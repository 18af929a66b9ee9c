#!/usr/bin/env python3
"""autoprox end to end: two autoprox processes, one WebSocket client on each, talking to each
other through srmudp on 127.0.0.1.

    python3 test_autoprox_e2e.py --autoprox PATH/autoprox --relay PATH/srmudp-impair-relay

Covers the issue's proof list: text, binary, unicode, empty and 8 MiB messages both ways, the
exact status sequence, acks by id, a 10 s UDP blackout through srmudp-impair-relay (RECONNECTING,
then UDP_ESTABLISHED, nothing lost), a WebSocket drop and re-attach by client_id (nothing lost,
also frames that were in flight on the dropped TCP connection), and a wrong key at the peer
(ERROR, not a hang). After every test, the key must appear in no log line of either process.
"""

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (KEY, Pair, binary_frame, connect, next_frame, payload_of,  # noqa: E402
                     run, statuses_until, text_frame, wait_closed)

BLACKOUT_MS = 10000


class Relay:
    """srmudp-impair-relay between side A (which sends to .listen) and side B (target)."""

    def __init__(self, target_port):
        self.process = subprocess.Popen(
            [harness.RELAY, "--listen", "127.0.0.1:0", "--target", f"127.0.0.1:{target_port}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, preexec_fn=harness._die_with_parent)
        words = harness.read_line(self.process.stdout, 10).split()
        if not words or words[0] != "ready":
            self.kill()
            raise AssertionError(f"relay said {words!r}")
        fields = dict(word.split("=", 1) for word in words[1:])
        self.listen_port = int(fields["listen"].rsplit(":", 1)[1])
        self.forward_port = int(fields["forward"].rsplit(":", 1)[1])

    def command(self, line):
        self.process.stdin.write((line + "\n").encode())
        self.process.stdin.flush()
        answer = harness.read_line(self.process.stdout, 5)
        if answer != "ok":
            raise AssertionError(f"relay answered {answer!r} to {line!r}")

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdin.close()
        self.process.stdout.close()


async def within_s(awaitable, seconds):
    return await asyncio.wait_for(awaitable, seconds)


class Inbox:
    """Every frame a client received, kept, so that waiting for one kind skips none of the other
    (an ack that comes while a test waits for data is still there when it waits for acks)."""

    def __init__(self):
        self.frames = {}  # ws -> frames not yet taken

    async def _take(self, ws, want, timeout):
        pending = self.frames.setdefault(ws, [])
        deadline = time.monotonic() + timeout
        while True:
            for i, frame in enumerate(pending):
                if want(frame):
                    return pending.pop(i)
            pending.append(await next_frame(ws, max(0.1, deadline - time.monotonic())))

    async def data(self, ws, count, timeout=harness.FRAME_S):
        """The next count data frames, in order."""
        deadline = time.monotonic() + timeout
        return [await self._take(ws, lambda f: f["type"] == "data",
                                 max(0.1, deadline - time.monotonic())) for _ in range(count)]

    async def acks(self, ws, ids, timeout=harness.FRAME_S):
        """Waits until every id in ids was acknowledged; fails on an error frame with an id."""
        deadline = time.monotonic() + timeout
        for wanted in ids:
            frame = await self._take(ws, lambda f, w=wanted: f.get("id") == w and
                                     f["type"] in ("ack", "error"),
                                     max(0.1, deadline - time.monotonic()))
            if frame["type"] == "error":
                raise AssertionError(f"message {wanted} failed: {frame['message']}")

    async def status(self, ws, timeout=harness.FRAME_S):
        return await self._take(ws, lambda f: f["type"] == "status", timeout)

    async def statuses_until(self, ws, final, timeout):
        seen, deadline = [], time.monotonic() + timeout
        while True:
            frame = await self.status(ws, max(0.1, deadline - time.monotonic()))
            seen.append(frame["status"])
            if frame["status"] in (final, "ERROR"):
                return seen


class AutoproxEndToEnd(unittest.TestCase):
    def setUp(self):
        self.processes = []
        self.secrets = [KEY]

    def pair(self, *args_a, args_b=()):
        pair = Pair(self, args_a, args_b)
        self.processes += [pair.a, pair.b]
        return pair

    def tearDown(self):
        for process in self.processes:
            for secret in self.secrets:
                self.assertNotIn(secret, process.all_log_text())

    def test_status_sequence_and_every_kind_of_message_both_ways(self):
        pair = self.pair()

        inbox = Inbox()

        async def scenario():
            a, b, seq_a, seq_b = await pair.open()
            expected = ["CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"]
            self.assertEqual(seq_a, expected)
            self.assertEqual(seq_b, expected)
            # A -> B, each with an id (integers and strings): text, unicode, empty text,
            # binary, binary that happens to be UTF-8 (stays binary), empty binary.
            messages = [("text", "hello"), ("text", "grüße 🌍 日本"), ("text", ""),
                        ("binary", bytes(range(256))), ("binary", "plain ascii".encode()),
                        ("binary", b"")]
            for i, (kind, data) in enumerate(messages):
                frame = text_frame(data, id=i) if kind == "text" else binary_frame(data, id=f"m{i}")
                await a.send(frame)
            got = await inbox.data(b, len(messages))
            self.assertEqual([(f["format"], payload_of(f)) for f in got], messages)
            self.assertEqual([f["seq"] for f in got], list(range(1, len(messages) + 1)))
            await inbox.acks(a, [0, 1, 2, "m3", "m4", "m5"])
            # B -> A: a raw binary WebSocket frame and a text frame.
            await b.send(b"\x00\xff raw")
            await b.send(text_frame("back to a"))
            got = await inbox.data(a, 2)
            self.assertEqual([(f["format"], payload_of(f)) for f in got],
                             [("binary", b"\x00\xff raw"), ("text", "back to a")])
            await a.close()
            await b.close()
        run(scenario())

    def test_two_client_pairs_through_the_same_two_proxies(self):
        # Each pair has its own srmudp connection between the same two UDP ports (its own key
        # here); the first pair is not disturbed when the second one connects.
        pair = self.pair()
        second_key = "second pair key 8Wd"
        self.secrets.append(second_key)
        inbox = Inbox()

        async def scenario():
            a1, b1, _, _ = await pair.open()
            a2, b2, seq_a2, seq_b2 = await pair.open(key_b=second_key,
                                                     params_a={"key": second_key})
            expected = ["CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"]
            self.assertEqual(seq_a2, expected)
            self.assertEqual(seq_b2, expected)
            await a1.send(text_frame("pair 1, a to b"))
            await a2.send(text_frame("pair 2, a to b"))
            await b2.send(text_frame("pair 2, b to a"))
            await b1.send(text_frame("pair 1, b to a"))
            for ws, text in ((b1, "pair 1, a to b"), (b2, "pair 2, a to b"),
                             (a1, "pair 1, b to a"), (a2, "pair 2, b to a")):
                got = await inbox.data(ws, 1)
                self.assertEqual(payload_of(got[0]), text)
            for ws in (a1, b1, a2, b2):
                for frame in inbox.frames.get(ws, []):
                    self.assertNotEqual(frame["type"], "error", frame)
                    if frame["type"] == "status":
                        self.assertEqual(frame["status"], "UDP_ESTABLISHED", frame)
                await ws.close()
        run(scenario())

    def test_eight_mib_messages_both_ways(self):
        pair = self.pair()
        rng = random.Random(8)
        big_binary = rng.randbytes(8 << 20)
        big_text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(1 << 16)) * 128

        inbox = Inbox()

        async def scenario():
            a, b, _, _ = await pair.open()
            started = time.monotonic()
            await a.send(binary_frame(big_binary, id="big-binary"))
            await b.send(text_frame(big_text, id="big-text"))
            (at_b,), (at_a,) = await asyncio.gather(inbox.data(b, 1, 120), inbox.data(a, 1, 120))
            self.assertEqual(payload_of(at_b), big_binary)
            self.assertEqual(payload_of(at_a), big_text)
            await asyncio.gather(inbox.acks(a, ["big-binary"], 60), inbox.acks(b, ["big-text"], 60))
            sys.stderr.write(f"\n  8 MiB each way in {time.monotonic() - started:.1f} s ")
            await a.close()
            await b.close()
        run(scenario())

    def test_udp_blackout_gives_reconnecting_then_established_and_loses_nothing(self):
        pair = self.pair()
        relay = Relay(pair.b.udp_port)
        self.addCleanup(relay.kill)

        inbox = Inbox()

        async def scenario():
            # A's srmudp talks to the relay's listen port; B sees the relay's forward port.
            a, b, _, _ = await pair.open(remote_a=relay.listen_port, remote_b=relay.forward_port)
            before = [f"before {i}" for i in range(20)]
            for i, text in enumerate(before):
                await a.send(text_frame(text, id=i))
            self.assertEqual([f["data"] for f in await inbox.data(b, len(before))], before)
            relay.command(f"blackout {BLACKOUT_MS}")
            blackout_at = time.monotonic()
            during = [f"during {i}" for i in range(20)]
            for i, text in enumerate(during):
                await a.send(text_frame(text, id=100 + i))
            # A notices within the path timeout, then gets through once the blackout ends.
            statuses = await inbox.statuses_until(a, "UDP_ESTABLISHED", 60)
            self.assertIn("RECONNECTING", statuses)
            self.assertEqual(statuses[-1], "UDP_ESTABLISHED")
            self.assertGreater(time.monotonic() - blackout_at, BLACKOUT_MS / 1000 - 1)
            got = await inbox.data(b, len(during), 60)
            self.assertEqual([f["data"] for f in got], during)  # exactly once, in order
            self.assertEqual([f["seq"] for f in got], list(range(21, 41)))
            await inbox.acks(a, list(range(20)) + [100 + i for i in range(20)], 30)
            await a.close()
            await b.close()
        run(scenario())

    def test_websocket_drop_and_reattach_by_client_id_loses_nothing(self):
        pair = self.pair()

        inbox = Inbox()

        async def scenario():
            a, b, _, _ = await pair.open(params_b={"client_id": "client-b"})
            connection_id = pair.last_b["connection_id"]
            await a.send(text_frame("hello"))
            received = await inbox.data(b, 1)
            # A burst, and B's TCP connection dies in the middle of it: frames written into the
            # dropped connection must come again after the re-attach.
            burst = [f"burst {i:03d}" for i in range(200)]
            for i, text in enumerate(burst):
                await a.send(text_frame(text, id=i))
            received += await inbox.data(b, 39)
            last_seq = received[-1]["seq"]
            b.transport.abort()  # no close frame: the proxy sees the TCP connection break
            await inbox.acks(a, list(range(200)), 60)  # srmudp delivered all to the proxy
            b2 = await connect(pair.b.url(pair.a.udp_port, client_id="client-b",
                                          last_seq=str(last_seq)))
            status = await inbox.status(b2)
            self.assertEqual(status["status"], "UDP_ESTABLISHED")
            self.assertIn("re-attached", status["message"])
            self.assertEqual(status["connection_id"], connection_id)
            rest = await inbox.data(b2, len(burst) - (last_seq - 1), 60)
            texts = [f["data"] for f in received[1:]] + [f["data"] for f in rest]
            self.assertEqual(texts, burst)  # every message exactly once, in order
            self.assertEqual([f["seq"] for f in rest], list(range(last_seq + 1, 202)))
            # And on it goes both ways.
            await b2.send(text_frame("after re-attach", id="r"))
            self.assertEqual(payload_of((await inbox.data(a, 1))[0]), "after re-attach")
            await inbox.acks(b2, ["r"])
            await a.close()
            await b2.close()
        run(scenario())
        self.assertIsNotNone(pair.b.wait_event("session_reattached", 5))

    def test_a_slow_reader_slows_the_sender_and_memory_stays_bounded(self):
        # B's client stops reading. autoprox B must stop taking messages from srmudp, srmudp's
        # flow control then stops autoprox A's sender, autoprox A stops reading A's WebSocket,
        # and A's client blocks: no process grows without bound. Then B reads everything.
        # In a sanitizer build freed memory would sit in ASan's quarantine and look like growth.
        pair = Pair(self, env={"ASAN_OPTIONS": "quarantine_size_mb=8"})
        self.processes += [pair.a, pair.b]
        inbox = Inbox()
        message = bytes(range(256)) * 4096  # 1 MiB
        count = 200  # 200 MiB: far more than every buffer on the path together

        def rss_mib(process):
            with open(f"/proc/{process.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
            raise AssertionError("no VmRSS")

        async def scenario():
            a = await connect(pair.a.url(pair.b.udp_port))
            b = await connect(pair.b.url(pair.a.udp_port), max_queue=2)
            await asyncio.gather(inbox.statuses_until(a, "UDP_ESTABLISHED", 30),
                                 inbox.statuses_until(b, "UDP_ESTABLISHED", 30))
            sent = 0

            async def send_all():
                nonlocal sent
                for _ in range(count):
                    await a.send(message)  # raw binary frames
                    sent += 1
            sender = asyncio.create_task(send_all())
            # Wait until the sender is stuck: no progress for 5 s. (A shorter quiet spell can be
            # a busy machine starving the two sanitizer-built proxies, not backpressure.)
            deadline, last, quiet_since = time.monotonic() + 90, -1, time.monotonic()
            while time.monotonic() < deadline:
                await asyncio.sleep(1)
                if sent != last:
                    last, quiet_since = sent, time.monotonic()
                elif time.monotonic() - quiet_since >= 5:
                    break
            self.assertFalse(sender.done(), "the sender was never slowed down")
            self.assertLess(sent, count // 2)
            rss_a, rss_b = rss_mib(pair.a), rss_mib(pair.b)
            await asyncio.sleep(3)
            self.assertEqual(sent, last, "the sender went on while the reader was stuck")
            # Stuck means stuck: neither proxy keeps growing.
            self.assertLess(rss_mib(pair.a) - rss_a, 16)
            self.assertLess(rss_mib(pair.b) - rss_b, 16)
            status, _, body = harness.http_get(pair.b.ws_port, "/v0/ws/connections")
            self.assertEqual(status, 200)
            self.assertTrue(json.loads(body)["sessions"][0]["receive_paused"])
            sys.stderr.write(f"\n  sender stuck after {sent} MiB; RSS A {rss_a:.0f} MiB, "
                             f"B {rss_b:.0f} MiB ")
            # B reads again: everything arrives, intact and in order.
            got = 0
            while got < count:
                frame = (await inbox.data(b, 1, 60))[0]
                self.assertEqual(frame["seq"], got + 1)
                if got % 50 == 0:
                    self.assertEqual(payload_of(frame), message)
                got += 1
            await within_s(sender, 60)
            await a.close()
            await b.close()
        run(scenario())

    def test_wrong_key_at_the_peer_gives_error_not_a_hang(self):
        pair = self.pair()

        inbox = Inbox()

        async def scenario():
            a = await connect(pair.a.url(pair.b.udp_port))
            b = await connect(pair.b.url(pair.a.udp_port, key="not the same key"))
            started = time.monotonic()
            (seq_a, last_a, _), (seq_b, last_b, _) = await asyncio.gather(
                statuses_until(a, "UDP_ESTABLISHED", 40), statuses_until(b, "UDP_ESTABLISHED", 40))
            self.assertEqual(seq_a[-1], "ERROR")
            self.assertEqual(seq_b[-1], "ERROR")
            self.assertNotIn("UDP_ESTABLISHED", seq_a + seq_b)
            self.assertIn("key", last_a["message"])
            for ws in (a, b):
                code, _, frames = await wait_closed(ws)
                self.assertEqual(code, 1011)
                self.assertTrue(any(f["type"] == "error" for f in frames))
            sys.stderr.write(f"\n  wrong key reported after {time.monotonic() - started:.1f} s ")
        run(scenario())


if __name__ == "__main__":
    harness.main(relay_required=True, label="autoprox e2e")
