#!/usr/bin/env python3
"""autoprox end to end: the bad-input catalogue (section 2 of the issue).

    python3 test_autoprox_input.py --autoprox PATH/autoprox [--relay PATH] [unittest options]

Every case runs against real autoprox processes (harness.Autoprox; two of them, harness.Pair,
where a peer must acknowledge a good frame). A refused upgrade is checked twice: by a raw HTTP
request (status and body) and by a websockets client, which must raise InvalidStatusCode with the
same status. A bad frame must be answered by an error frame that names the problem; a recoverable
one must leave the session working (a good frame afterwards reaches the peer and is acked), a
fatal one must close the WebSocket with the exact code. No encryption key or token may appear in
any frame, close reason, HTTP body or log line: every test checks what it received, and every
autoprox's whole log is checked once the process is gone.
"""

import asyncio
import base64
import json
import os
import random
import socket
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import websockets.frames  # noqa: E402  (found through the harness's path)
from harness import HOST, KEY, websockets  # noqa: E402

OTHER_KEY = "second e2e key Jw8"
TOKEN = "e2e-token-Qv4r"
TEST_S = 90  # one test's async part, end to end
CONNECTION_ID_CHARS = set("0123456789abcdef")


def upgrade(port, resource, headers=None):
    """A WebSocket upgrade request by hand: (status, lower-case headers, body)."""
    all_headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}
    all_headers.update(headers or {})
    return harness.http_get(port, resource, all_headers)


def resource(remote_port, key=KEY, remote_host=HOST, **params):
    """Path and query of /v0/ws/proxy; a None value leaves its parameter out."""
    query = {"remote_host": remote_host, "remote_port": remote_port, "encryption_key": key}
    query.update(params)
    return "/v0/ws/proxy?" + urllib.parse.urlencode(
        {name: value for name, value in query.items() if value is not None})


def data_frame(**fields):
    """A client frame with exactly these fields, in this order (None values included)."""
    return json.dumps(fields)


def could_be_accepted(text):
    """False only if autoprox certainly refuses the text frame. Python's parser is laxer than
    RapidJSON's (NaN, control characters, duplicates), so a frame it cannot read is bad for both;
    anything that looks like a data frame counts as possibly good."""
    try:
        value = json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return False
    return (isinstance(value, dict) and value.get("type") == "data"
            and value.get("format") in ("text", "binary") and isinstance(value.get("data"), str))


def garbage_frames(seed, count):
    """count seeded text frames that autoprox must refuse: random bytes read as Latin-1, random
    JSON-ish characters, random JSON values and randomly damaged good frames."""
    rng = random.Random(seed)
    good = data_frame(type="data", format="binary", data="aGVsbG8gd29ybGQ=", id="m1")
    alphabet = '{}[]":,.-+0123456789eE \\/truefalsnulldatypeformbinxid\t\n'

    def random_bytes():
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120))).decode("latin-1")

    def random_json_chars():
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 80)))

    def random_value(depth=0):
        choice = rng.randrange(7 if depth < 4 else 4)
        if choice == 0:
            return rng.randrange(-10**20, 10**20)
        if choice == 1:
            return rng.random() * 1e6
        if choice == 2:
            return rng.choice([None, True, False, "data", "text", "binary", "", "=="])
        if choice == 3:
            return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        if choice == 4:
            return [random_value(depth + 1) for _ in range(rng.randrange(0, 4))]
        names = ["type", "format", "data", "id", "x"]
        return {rng.choice(names): random_value(depth + 1) for _ in range(rng.randrange(0, 5))}

    def damaged():
        chars = list(good)
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(chars))
            action = rng.randrange(3)
            if action == 0:
                del chars[at]
            elif action == 1:
                chars[at] = rng.choice(alphabet)
            else:
                chars.insert(at, rng.choice(alphabet))
        return "".join(chars)

    makers = [random_bytes, random_json_chars, lambda: json.dumps(random_value()), damaged]
    frames = []
    while len(frames) < count:
        frame = rng.choice(makers)()
        if not could_be_accepted(frame):
            frames.append(frame)
    return frames


class AutoproxTest(harness.SecretCheckedTest):
    """Autoprox instances whose logs are checked for secrets once they are gone; everything the
    test receives is recorded for the same check."""

    test_seconds = TEST_S

    def setUp(self):
        self.secrets = [KEY, OTHER_KEY, TOKEN]
        self.received = []  # frames, close reasons and bodies, as text
        self.addCleanup(self.check_received)

    def check_received(self):
        self.assert_no_secret("\n".join(self.received), "what a client received")

    # ---- What a client receives ---------------------------------------------------------------

    async def frame(self, ws, timeout=harness.FRAME_S):
        frame = await harness.next_frame(ws, timeout)
        self.received.append(json.dumps(frame))
        return frame

    async def statuses(self, ws, final):
        seen, last, others = await harness.statuses_until(ws, final)
        self.received.append(json.dumps([last, others]))
        return seen, last

    async def closed(self, ws):
        code, reason, frames = await harness.wait_closed(ws)
        self.received.append(reason)
        self.received.extend(json.dumps(frame) for frame in frames)
        return code, reason, frames

    async def expect_error(self, ws, *words):
        """The next frame is an error frame whose message contains every word."""
        frame = await self.frame(ws)
        self.assertEqual(frame["type"], "error", frame)
        self.assertTrue(set(frame["connection_id"]) <= CONNECTION_ID_CHARS, frame)
        self.assertEqual(len(frame["connection_id"]), 16, frame)
        for word in words:
            self.assertIn(word, frame["message"])
        return frame

    async def expect_goes_on(self, ws_a, ws_b, tag):
        """A good frame from A reaches B and A gets its ack: the session survived."""
        await ws_a.send(harness.text_frame("still working " + tag, id=tag))
        frame = await self.frame(ws_b)
        self.assertEqual((frame["type"], frame["format"], frame["data"]),
                         ("data", "text", "still working " + tag))
        self.assertEqual(await self.frame(ws_a), {"type": "ack", "id": tag})

    async def open_waiting(self, instance, remote_port, **kwargs):
        """A client of instance to a port nobody answers on, once it said UDP_WAITING."""
        url = f"ws://{HOST}:{instance.ws_port}" + resource(remote_port, **kwargs.pop("url", {}))
        ws = await harness.connect(url, **kwargs)
        seen, _ = await self.statuses(ws, "UDP_WAITING")
        self.assertEqual(seen, ["CONNECTED", "UDP_WAITING"])
        return ws

    # ---- Refusals -----------------------------------------------------------------------------

    async def refused(self, instance, path, status, words, headers=None):
        """The upgrade request is refused with status, by raw HTTP and for a websockets client;
        returns the raw answer's headers."""
        got, response_headers, body = await asyncio.to_thread(upgrade, instance.ws_port, path,
                                                              headers)
        self.received.append(body)
        self.assertEqual(got, status, body)
        for word in words:
            self.assertIn(word, body)
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
            ws = await harness.connect(f"ws://{HOST}:{instance.ws_port}{path}",
                                       extra_headers=headers or {})
            await ws.close()
        self.assertEqual(caught.exception.status_code, status)
        return response_headers

    def assert_refused(self, instance, path, status, words, headers=None):
        return self.run_async(self.refused(instance, path, status, words, headers))

    def assert_recoverable(self, cases):
        """On an established pair, each (frame, words) is answered by an error frame whose
        message holds the words (and the frame's "id" when the case gives one), and the session
        goes on."""
        pair = self.pair()

        async def body():
            ws_a, ws_b, _, _ = await pair.open()
            for n, (frame, words, *expected_id) in enumerate(cases):
                with self.subTest(frame=frame[:80]):
                    await ws_a.send(frame)
                    error = await self.expect_error(ws_a, *words)
                    if expected_id:
                        self.assertEqual(error.get("id"), expected_id[0])
                    else:
                        self.assertNotIn("id", error)
                    await self.expect_goes_on(ws_a, ws_b, f"after-{n}")
            await ws_a.close()
            await ws_b.close()
        self.run_async(body())
        self.assertIsNone(pair.a.process.poll(), "autoprox A exited")


class BadFramesTest(AutoproxTest):
    """Bad frames on an established session: an error frame, and the session goes on."""

    def test_invalid_json(self):
        self.assert_recoverable([
            ('{"type":"data",', ["invalid JSON at offset"]),
            ("not json", ["invalid JSON at offset 1", "not a valid JSON value"]),
            ("", ["invalid JSON", "empty"]),
            ('{"type":"data","format":"text","data":"x"} tail', ["invalid JSON",
                                                                 "after the JSON value"]),
            ('{"type":"data","format":"text","data":"x",}', ["invalid JSON"]),
            ('{"type":"data","format":"text","data":"\\uDC00"}', ["invalid JSON", "surrogate"]),
            ('{"type":"data","format":"text","data":"x"}\x00', ["invalid JSON", "NUL"]),
        ])

    def test_json_that_is_not_an_object(self):
        self.assert_recoverable([
            ('[{"type":"data","format":"text","data":"x"}]', ["JSON object", "got an array"]),
            ('"data"', ["JSON object", "got a string"]),
            ("42", ["JSON object", "got an integer"]),
            ("-1.5e3", ["JSON object", "got a number"]),
            ("null", ["JSON object", "got null"]),
        ])

    def test_unknown_type(self):
        self.assert_recoverable([
            (data_frame(type="hello", format="text", data="x"),
             ["unknown frame type", '"hello"', "type"]),
            (data_frame(type="ack", format="text", data="x", id=3), ["unknown frame type",
                                                                       '"ack"'], 3),
            (data_frame(type="DATA", format="text", data="x"), ["unknown frame type"]),
        ])

    def test_missing_type_format_or_data(self):
        self.assert_recoverable([
            (data_frame(format="text", data="x"), ["'type' is missing"]),
            (data_frame(type="data", data="x", id="m"), ["'format'", "missing"], "m"),
            (data_frame(type="data", format="text"), ["'data' is missing"]),
            (data_frame(type="data", format="binary"), ["'data' is missing", "base64"]),
            ("{}", ["'type' is missing"]),
        ])

    def test_mistyped_fields(self):
        self.assert_recoverable([
            (data_frame(type="data", format="text", data=5, id=7),
             ["'data' must be a string", "got an integer"], 7),
            (data_frame(type="data", format="binary", data=None), ["'data'", "got null"]),
            (data_frame(type="data", format=1, data="x"), ["'format'", "got an integer"]),
            (data_frame(type="data", format=["text"], data="x"), ["'format'", "got an array"]),
            (data_frame(type=5, format="text", data="x"), ["'type'", "got an integer"]),
            (data_frame(type="data", format="text", data="x", id=1.5),
             ["'id'", "string or an integer", "got a number with a fraction"]),
            (data_frame(type="data", format="text", data="x", id={}), ["'id'", "got an object"]),
            (data_frame(type="data", format="text", data="x", id=True), ["'id'", "got a boolean"]),
            (data_frame(type="data", format="text", data="x", id=2**63),
             ["'id'", "outside the signed 64-bit range"]),
            (data_frame(type="data", format="text", data="x", id="i" * 257),
             ["'id'", "257 bytes", "256"]),
        ])

    def test_invalid_base64(self):
        def binary(data):
            return data_frame(type="data", format="binary", data=data, id="b64")
        self.assert_recoverable([
            (binary("ab$d"), ["not valid base64", "character 3 is '$'"], "b64"),
            (binary("YW-j"), ["not valid base64", "character 3"], "b64"),
            (binary("ab=c"), ["not valid base64", "padding"], "b64"),
            (binary("a==="), ["not valid base64"], "b64"),
            (binary("YWJjZA"), ["not valid base64", "not a multiple of 4"], "b64"),
            (binary("YR=="), ["not valid base64", "canonical"], "b64"),
            (binary("YWJj ZGV"), ["not valid base64", "character 5 is ' '"], "b64"),
            (binary("YWJj\nZGV"), ["not valid base64", "character 5"], "b64"),
            (binary(" YWJjZGV"), ["not valid base64", "character 1"], "b64"),
            (binary("YWJj ZGVm"), ["not valid base64", "not a multiple of 4"], "b64"),
            (binary("YWJjZGVm\r\n"), ["not valid base64"], "b64"),
        ])

    def test_unknown_format(self):
        self.assert_recoverable([
            (data_frame(type="data", format="hex", data="00", id=9),
             ["'format' must be \"text\" or \"binary\"", '"hex"'], 9),
            (data_frame(type="data", format="TEXT", data="x"), ["'format'", '"TEXT"']),
            (data_frame(type="data", format="", data="x"), ["'format'"]),
        ])

    def test_random_garbage_frames_are_all_answered(self):
        """200 seeded garbage text frames: each gets one error frame, in order; the session goes
        on; a text frame that is not UTF-8 closes the WebSocket; autoprox still answers."""
        frames = garbage_frames(seed=20240601, count=200)
        pair = self.pair()

        async def body():
            ws_a, ws_b, _, _ = await pair.open()
            for n, frame in enumerate(frames):
                await ws_a.send(frame)
                error = await self.expect_error(ws_a)
                self.assertTrue(error["message"], f"garbage frame {n}: {frame!r}")
            await self.expect_goes_on(ws_a, ws_b, "after-garbage")
            # Random bytes as a text frame are not UTF-8: RFC 6455 8.1 fails the connection.
            await ws_a.write_frame(True, websockets.frames.Opcode.TEXT, b"\xff\xfe{\"type\"\xc0")
            code, _, frames_seen = await self.closed(ws_a)
            self.assertEqual(code, 1007)
            self.assertNotIn("data", [f["type"] for f in frames_seen])
            await ws_b.close()
        self.run_async(body())
        status, _, body_text = harness.http_get(pair.a.ws_port, "/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body_text)["status"], "ok")
        self.assertIsNone(pair.a.process.poll(), "autoprox A exited")


class MessageSizeTest(AutoproxTest):
    """--max-message-size 1024: a message at the limit passes, one above it closes with 1009."""

    LIMIT = 1024
    ARGS = ("--max-message-size", str(LIMIT))

    def test_oversize_message(self):
        pair = self.pair(self.ARGS)

        async def body():
            ws_a, ws_b, _, _ = await pair.open()
            exact = bytes(random.Random(1).randrange(256) for _ in range(self.LIMIT))
            await ws_a.send(harness.binary_frame(exact, id="exact"))
            frame = await self.frame(ws_b)
            self.assertEqual(harness.payload_of(frame), exact)
            self.assertEqual(await self.frame(ws_a), {"type": "ack", "id": "exact"})
            await ws_a.send(harness.text_frame("t" * self.LIMIT, id="exact-text"))
            self.assertEqual(harness.payload_of(await self.frame(ws_b)), "t" * self.LIMIT)
            self.assertEqual(await self.frame(ws_a), {"type": "ack", "id": "exact-text"})
            await ws_a.send(bytes(self.LIMIT))  # a raw binary frame at the limit
            self.assertEqual(harness.payload_of(await self.frame(ws_b)), bytes(self.LIMIT))

            await ws_a.send(harness.binary_frame(bytes(2000), id="big"))
            error = await self.expect_error(
                ws_a, "message of 2000 bytes exceeds the limit of 1024 bytes")
            self.assertEqual(error.get("id"), "big")
            code, reason, frames = await self.closed(ws_a)
            self.assertEqual(code, 1009)
            self.assertIn("exceeds the limit", reason)
            self.assertNotIn("data", [f["type"] for f in frames])
            await ws_b.close()
        self.run_async(body())

    def test_binary_frame_above_the_limit(self):
        instance = self.start(*self.ARGS)

        async def body():
            # Above the message limit: the session's error frame, then 1009.
            ws = await self.open_waiting(instance, harness.free_udp_port())
            await ws.send(bytes(self.LIMIT + 1))
            await self.expect_error(ws, "message of 1025 bytes exceeds the limit of 1024 bytes")
            code, _, _ = await self.closed(ws)
            self.assertEqual(code, 1009)
            # Above the largest frame (4 * 342 + 16384 bytes): websocketpp's own 1009.
            ws = await self.open_waiting(instance, harness.free_udp_port())
            await ws.send(bytes(4 * 342 + 16384 + 1))
            code, _, frames = await self.closed(ws)
            self.assertEqual(code, 1009)
            self.assertNotIn("data", [f["type"] for f in frames])
        self.run_async(body())
        self.assertEqual(harness.http_get(instance.ws_port, "/health")[0], 200)


class BadUpgradeTest(AutoproxTest):
    """Upgrade requests the server refuses: the exact HTTP status and a body naming why."""

    def test_missing_remote_host(self):
        instance = self.start()
        self.assert_refused(instance, resource(9000, remote_host=None), 400,
                            ["remote_host is missing"])

    def test_remote_host_not_an_ip_literal(self):
        instance = self.start()
        self.assert_refused(instance, resource(9000, remote_host="example.com"), 400,
                            ["remote_host must be an IPv4 or IPv6 address", "example.com"])
        self.assert_refused(instance, resource(9000, remote_host="[127.0.0.1]"), 400,
                            ["remote_host"])
        self.assert_refused(instance, resource(9000, remote_host=""), 400,
                            ["remote_host is empty"])

    def test_bad_remote_port(self):
        instance = self.start()
        for port in ("0", "65536", "abc", "-1", "80x"):
            with self.subTest(remote_port=port):
                self.assert_refused(instance, resource(port), 400,
                                    ["remote_port must be a number from 1 to 65535", port])
        self.assert_refused(instance, resource(None), 400, ["remote_port is missing"])

    def test_empty_or_missing_key(self):
        instance = self.start()
        self.assert_refused(instance, resource(9000, key=""), 400, ["encryption_key is empty"])
        self.assert_refused(instance, resource(9000, key=None), 400,
                            ["encryption_key is missing"])
        self.assert_refused(instance, resource(9000, key=None), 400,
                            ["X-Encryption-Key header is empty"], {"X-Encryption-Key": " "})
        self.assert_refused(instance, resource(9000), 400, ["differ"],
                            {"X-Encryption-Key": OTHER_KEY})

    def test_multicast_target(self):
        instance = self.start()
        self.assert_refused(instance, resource(9000, remote_host="224.0.0.1"), 403,
                            ["224.0.0.1", "multicast"])

    def test_denied_target(self):
        instance = self.start("--deny-target", "127.0.0.0/8")
        self.assert_refused(instance, resource(9000), 403,
                            ["127.0.0.1", "denied targets (127.0.0.0/8)"])

    def test_target_outside_the_allowed_targets(self):
        instance = self.start("--allow-target", "10.0.0.0/8")
        self.assert_refused(instance, resource(9000), 403,
                            ["127.0.0.1", "not in the allowed targets"])

    def test_max_sessions(self):
        instance = self.start("--max-sessions", "1")

        async def body():
            ws = await self.open_waiting(instance, harness.free_udp_port())
            await self.refused(instance, resource(harness.free_udp_port()), 503, ["limit of 1 sessions"])
            await ws.close()
        self.run_async(body())

    def test_max_sessions_per_client(self):
        instance = self.start("--max-sessions-per-client", "1")

        async def body():
            ws = await self.open_waiting(instance, harness.free_udp_port())
            await self.refused(instance, resource(harness.free_udp_port()), 429,
                               ["too many sessions from 127.0.0.1", "limit 1"])
            await ws.close()
        self.run_async(body())

    def test_origin_without_allow_origin(self):
        instance = self.start()
        self.assert_refused(instance, resource(9000), 403,
                            ["origin http://a.example is not allowed"],
                            {"Origin": "http://a.example"})

    def test_origin_with_allow_origin(self):
        instance = self.start("--allow-origin", "http://a.example")
        status, _, _ = upgrade(instance.ws_port, resource(harness.free_udp_port()),
                               {"Origin": "http://a.example"})
        self.assertEqual(status, 101)
        self.assert_refused(instance, resource(9000), 403, ["http://b.example"],
                            {"Origin": "http://b.example"})

        async def body():
            ws = await self.open_waiting(instance, harness.free_udp_port(), origin="http://a.example")
            await ws.close()
        self.run_async(body())

    def test_bearer_token(self):
        instance = self.start("--token", TOKEN)
        headers = self.assert_refused(instance, resource(9000), 401, ["bearer token"])
        self.assertEqual(headers.get("www-authenticate"), "Bearer")
        self.assert_refused(instance, resource(9000), 401, ["bearer token"],
                            {"Authorization": "Bearer wrong-" + TOKEN[::-1]})
        self.assert_refused(instance, resource(9000, token="x" + TOKEN), 401, ["bearer token"])
        self.assert_refused(instance, resource(9000), 401, ["bearer token"],
                            {"Authorization": "Basic " + TOKEN})

        async def accepted():
            ws = await self.open_waiting(instance, harness.free_udp_port(),
                                         extra_headers={"Authorization": "Bearer " + TOKEN})
            await ws.close()
            ws = await self.open_waiting(instance, harness.free_udp_port(), url={"token": TOKEN})
            await ws.close()
        self.run_async(accepted())
        self.assertTrue(instance.wait_event("session_opened", 5))
        self.assertEqual(instance.process.poll(), None)
        self.assert_no_secret(instance.all_log_text(), "autoprox's log")

    def test_client_id_reused_with_another_key(self):
        instance = self.start()
        port = harness.free_udp_port()

        async def body():
            ws = await self.open_waiting(instance, port, url={"client_id": "c"})
            ws.transport.abort()  # no close handshake: the session waits for its client
            await self.wait_awaiting_reattach(instance)
            await self.refused(instance, resource(port, key=OTHER_KEY, client_id="c"), 409,
                               ["client_id c has a session with", f"127.0.0.1:{port}",
                                "another encryption key"])
            # The same client_id and remote with the right key is the client coming back.
            ws = await harness.connect(f"ws://{HOST}:{instance.ws_port}" +
                                       resource(port, client_id="c"))
            frame = await self.frame(ws)
            self.assertEqual((frame["type"], frame["status"]), ("status", "UDP_WAITING"))
            self.assertIn("re-attached", frame["message"])
            await ws.close()
        self.run_async(body())

    async def wait_awaiting_reattach(self, instance):
        deadline = time.monotonic() + harness.FRAME_S
        while time.monotonic() < deadline:
            status, _, body = await asyncio.to_thread(harness.http_get, instance.ws_port,
                                                      "/v0/ws/connections")
            self.received.append(body)
            sessions = json.loads(body)["sessions"] if status == 200 else []
            if sessions and sessions[0]["awaiting_reattach"]:
                return
            await asyncio.sleep(0.05)
        self.fail("the session never waited for its client to re-attach")


class FailingPeerTest(AutoproxTest):
    """Peers that never answer or use another key: ERROR, an error frame, close 1011."""

    def test_peer_that_never_answers(self):
        instance = self.start("--connect-timeout", "1")
        port = harness.free_udp_port()

        async def body():
            started = time.monotonic()
            ws = await harness.connect(f"ws://{HOST}:{instance.ws_port}" + resource(port))
            seen, last = await self.statuses(ws, "UDP_ESTABLISHED")
            self.assertEqual(seen, ["CONNECTED", "UDP_WAITING", "ERROR"])
            self.assertIn(f"no answer from 127.0.0.1:{port} within 1 s", last["message"])
            code, reason, frames = await self.closed(ws)
            self.assertLess(time.monotonic() - started, 8)
            self.assertEqual(code, 1011)
            self.assertIn("no answer", reason)
            self.assertEqual([f["type"] for f in frames], ["error"])
            self.assertIn("no answer from", frames[0]["message"])
        self.run_async(body())

    def test_wrong_key_at_the_peer(self):
        pair = self.pair()

        async def body():
            started = time.monotonic()
            ws_a = await harness.connect(pair.a.url(pair.b.udp_port))
            ws_b = await harness.connect(pair.b.url(pair.a.udp_port, key=OTHER_KEY))
            for ws, peer in ((ws_a, pair.b), (ws_b, pair.a)):
                seen, last = await self.statuses(ws, "UDP_ESTABLISHED")
                self.assertEqual(seen, ["CONNECTED", "UDP_WAITING", "ERROR"])
                self.assertIn(f"the peer at 127.0.0.1:{peer.udp_port} uses a different "
                              "encryption key", last["message"])
                code, _, frames = await self.closed(ws)
                self.assertEqual(code, 1011)
                self.assertEqual([f["type"] for f in frames], ["error"])
                self.assertIn("different encryption key", frames[0]["message"])
            self.assertLess(time.monotonic() - started, 20)
        self.run_async(body())


def silent_websocket(port, path):
    """A WebSocket opened by hand that then never reads or writes again (its network gone)."""
    sock = socket.create_connection((HOST, port), timeout=harness.FRAME_S)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: Upgrade\r\n"
                  "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Key: %s\r\n\r\n" % (path, HOST, port, key)).encode())
    head = b""
    while not head.endswith(b"\r\n\r\n") and len(head) < 4096:
        byte = sock.recv(1)  # one byte at a time: the frames after the head stay unread
        if not byte:
            break
        head += byte
    return sock, head.decode(errors="replace")


class KeepaliveTest(AutoproxTest):
    """WebSocket pings: a client that stops answering is closed as broken; one that answers
    stays."""

    def sessions(self, instance):
        status, _, body = harness.http_get(instance.ws_port, "/v0/ws/connections")
        self.assertEqual(status, 200, body)
        return json.loads(body)["sessions"]

    def test_a_client_that_stops_answering_pings_is_closed_as_broken(self):
        instance = self.start("--ws-ping-interval", "1", "--ws-pong-timeout", "0.5")
        started = time.monotonic()
        sock, head = silent_websocket(instance.ws_port, resource(harness.free_udp_port()))
        self.addCleanup(sock.close)
        self.assertTrue(head.startswith("HTTP/1.1 101"), head)
        self.assertTrue(instance.wait_event("session_opened", 5))
        self.assertEqual(len(self.sessions(instance)), 1)
        # A ping after 1 s, no pong by 1.5 s: closed; the close handshake then waits 5 s for a
        # close frame that never comes, and the connection is dropped.
        finished = instance.wait_event("session_finished", 20)
        self.assertIsNotNone(finished, "the silent client's session did not end")
        elapsed = time.monotonic() - started
        self.assertGreater(elapsed, 1.4)
        self.assertLess(elapsed, 15)
        self.assertEqual(self.sessions(instance), [])

    def test_a_client_that_answers_pings_stays(self):
        instance = self.start("--ws-ping-interval", "1", "--ws-pong-timeout", "0.5")

        async def body():
            ws = await self.open_waiting(instance, harness.free_udp_port())
            await asyncio.sleep(4)  # four pings, each answered by the client library
            self.assertIsNone(ws.close_code)
            self.assertEqual(len(await asyncio.to_thread(self.sessions, instance)), 1)
            await ws.close()
        self.run_async(body())


if __name__ == "__main__":
    harness.main()
