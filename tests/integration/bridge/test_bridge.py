#!/usr/bin/env python3
"""The WebSocket bridge end to end: two WebSocket clients, one per Bridge of bridge_test_server,
each naming the other bridge's srmudp port, talk to each other through srmudp on loopback.

    python3 test_bridge.py --server PATH/bridge_test_server [unittest options]

Needs python3-websockets (Debian's package; its dist-packages directory is tried when the
running interpreter does not have it). Only 127.0.0.1 is used. The server is killed on every
exit path (and ends by itself when its stdin closes).
"""

import argparse
import asyncio
import base64
import http.client
import json
import os
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "autoprox"))
import harness  # noqa: E402  (the shared pipe reader)
try:
    import websockets
except ImportError:  # a non-Debian interpreter (e.g. pyenv) first on PATH
    sys.path.append("/usr/lib/python3/dist-packages")
    import websockets

SERVER = None
KEY = "bridge test key"
HOST = "127.0.0.1"
# Deadlines: generous for a Debug + sanitizer build on a shared 2-core machine; a passing run
# never waits for them.
READY_S = 30
FRAME_S = 20


class BridgeServer:
    """bridge_test_server as a child process; kill() is safe to call more than once."""

    def __init__(self, path, *args):
        self.process = subprocess.Popen([path, *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        line = harness.read_line(self.process.stdout, READY_S)
        fields = line.split()
        if len(fields) != 5 or fields[0] != "ready":
            self.kill()
            raise RuntimeError(f"bridge_test_server did not get ready: {line!r}")
        self.ws_a, self.ws_b, self.udp_a, self.udp_b = (int(f) for f in fields[1:])

    def stop(self, timeout=20):
        """Closes the server's stdin, which ends it; returns its exit status (None: it hung)."""
        self.process.stdin.close()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()


def proxy_url(ws_port, udp_port, key=KEY, client_id=None):
    url = f"ws://{HOST}:{ws_port}/v0/ws/proxy?remote_host={HOST}&remote_port={udp_port}"
    if key is not None:
        url += f"&encryption_key={key.replace(' ', '%20')}"
    if client_id is not None:
        url += f"&client_id={client_id}"
    return url


async def next_frame(ws, kind=None):
    """The next JSON frame from the bridge, skipping status frames unless kind is "status"."""
    while True:
        raw = await asyncio.wait_for(ws.recv(), FRAME_S)
        if not isinstance(raw, str):
            raise AssertionError(f"bridge sent a binary frame: {raw!r}")
        frame = json.loads(raw)
        if kind == "status" or frame.get("type") != "status":
            return frame


async def wait_established(ws):
    """The status names received up to and including UDP_ESTABLISHED."""
    statuses = []
    while not statuses or statuses[-1] != "UDP_ESTABLISHED":
        frame = await next_frame(ws, "status")
        if frame.get("type") != "status":
            raise AssertionError(f"expected a status frame, got {frame}")
        statuses.append(frame["status"])
        if frame["status"] == "ERROR":
            raise AssertionError(f"bridge reported ERROR: {frame}")
    return statuses


def http_upgrade(port, resource, headers=None):
    """A raw WebSocket upgrade request; returns (status, body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=FRAME_S)
    try:
        request_headers = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Sec-WebSocket-Version": "13",
        }
        request_headers.update(headers or {})
        connection.request("GET", resource, headers=request_headers)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


class BridgeTest(unittest.TestCase):
    def setUp(self):
        self.server = BridgeServer(SERVER)
        self.addCleanup(self.server.kill)

    def run_async(self, coroutine):
        asyncio.run(asyncio.wait_for(coroutine, 90))

    def test_two_clients_exchange_messages(self):
        self.run_async(self.exchange())
        # A clean exit (status 0) also means the sanitizers found nothing at shutdown.
        self.assertEqual(self.server.stop(), 0)

    def test_server_stops_with_sessions_open(self):
        async def open_and_stop():
            s = self.server
            async with websockets.connect(proxy_url(s.ws_a, s.udp_b)) as a, \
                    websockets.connect(proxy_url(s.ws_b, s.udp_a)) as b:
                await asyncio.gather(wait_established(a), wait_established(b))
                self.assertEqual(await asyncio.to_thread(s.stop), 0)
        self.run_async(open_and_stop())

    async def exchange(self):
        s = self.server
        # Client A gives the key in the URL, client B in the X-Encryption-Key header.
        async with websockets.connect(proxy_url(s.ws_a, s.udp_b, client_id="a")) as a, \
                websockets.connect(proxy_url(s.ws_b, s.udp_a, key=None),
                                   extra_headers={"X-Encryption-Key": KEY}) as b:
            statuses_a, statuses_b = await asyncio.gather(wait_established(a),
                                                          wait_established(b))
            self.assertEqual(statuses_a, ["CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"])
            self.assertEqual(statuses_b, ["CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"])

            # A -> B: text with an integer id, acknowledged by id.
            await a.send(json.dumps({"type": "data", "format": "text", "data": "hello, b",
                                     "id": 1}))
            self.assertEqual(await next_frame(b),
                             {"type": "data", "format": "text", "data": "hello, b", "seq": 1})
            self.assertEqual(await next_frame(a), {"type": "ack", "id": 1})

            # A -> B: binary in a JSON frame (base64) with a string id.
            payload = bytes(range(256))
            await a.send(json.dumps({"type": "data", "format": "binary",
                                     "data": base64.b64encode(payload).decode(), "id": "m2"}))
            frame = await next_frame(b)
            self.assertEqual((frame["format"], frame["seq"]), ("binary", 2))
            self.assertEqual(base64.b64decode(frame["data"]), payload)
            self.assertEqual(await next_frame(a), {"type": "ack", "id": "m2"})

            # B -> A: text, then a raw binary WebSocket frame.
            await b.send(json.dumps({"type": "data", "format": "text", "data": "grüße, a"}))
            self.assertEqual(await next_frame(a),
                             {"type": "data", "format": "text", "data": "grüße, a", "seq": 1})
            await b.send(b"\x00\xffraw")
            frame = await next_frame(a)
            self.assertEqual((frame["format"], base64.b64decode(frame["data"])),
                             ("binary", b"\x00\xffraw"))

            # A bad frame is answered with an error frame carrying its id; the session goes on.
            await a.send(json.dumps({"type": "data", "format": "nope", "data": "", "id": 7}))
            frame = await next_frame(a)
            self.assertEqual((frame["type"], frame.get("id")), ("error", 7))
            self.assertNotIn(KEY, json.dumps(frame))

    def test_missing_remote_host_is_400(self):
        status, body = http_upgrade(
            self.server.ws_a, f"/v0/ws/proxy?remote_port={self.server.udp_b}&encryption_key=k")
        self.assertEqual(status, 400)
        self.assertIn("remote_host", body)

    def test_bad_requests_are_400_without_the_key(self):
        s = self.server
        # Another path is not the bridge's: 404, and the key in its query is not echoed either.
        status, body = http_upgrade(
            s.ws_a, f"/v0/ws/other?remote_host={HOST}&remote_port={s.udp_b}&encryption_key=secret1")
        self.assertEqual(status, 404)
        self.assertIn("/v0/ws/proxy", body)
        self.assertNotIn("secret1", body)
        cases = [
            f"/v0/ws/proxy?remote_host={HOST}&remote_port=0&encryption_key=secret1",
            f"/v0/ws/proxy?remote_host=example.com&remote_port=1&encryption_key=secret1",
            f"/v0/ws/proxy?remote_host={HOST}&remote_port={s.udp_b}",
        ]
        for resource in cases:
            with self.subTest(resource=resource):
                status, body = http_upgrade(s.ws_a, resource)
                self.assertEqual(status, 400)
                self.assertTrue(body)
                self.assertNotIn("secret1", body)
        # The key in the URL and in the header must agree.
        status, _ = http_upgrade(
            s.ws_a, f"/v0/ws/proxy?remote_host={HOST}&remote_port={s.udp_b}&encryption_key=x",
            {"X-Encryption-Key": "y"})
        self.assertEqual(status, 400)

    def test_websockets_client_sees_400(self):
        async def attempt():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
                await websockets.connect(
                    f"ws://{HOST}:{self.server.ws_a}/v0/ws/proxy?remote_port=1&encryption_key=k")
            self.assertEqual(caught.exception.status_code, 400)
        self.run_async(attempt())


class LimitsTest(unittest.TestCase):
    """A server with Limits::for_message_size(100): max_frame_bytes is 4 * 34 + 16384."""

    MAX_FRAME = 4 * 34 + 16384

    def setUp(self):
        self.server = BridgeServer(SERVER, "--max-message", "100")
        self.addCleanup(self.server.kill)

    async def closed_after(self, message):
        """Sends message on a fresh session; returns (frames before the close, close code)."""
        s = self.server
        frames = []
        async with websockets.connect(proxy_url(s.ws_a, s.udp_b), max_size=None) as ws:
            await ws.send(message)
            try:
                while True:
                    frames.append(json.loads(await asyncio.wait_for(ws.recv(), FRAME_S)))
            except websockets.exceptions.ConnectionClosed:
                pass
            return frames, ws.close_code

    def test_message_above_limit_closes_1009_with_error_frame(self):
        frames, code = asyncio.run(self.closed_after(bytes(101)))
        self.assertEqual(code, 1009)
        self.assertIn("error", [f["type"] for f in frames])

    def test_message_at_limit_is_accepted(self):
        async def attempt():
            s = self.server
            async with websockets.connect(proxy_url(s.ws_a, s.udp_b)) as ws:
                await ws.send(bytes(100))
                # Nothing closes the WebSocket: the next frames are status frames only.
                with self.assertRaises(asyncio.TimeoutError):
                    while True:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 1))
                        self.assertEqual(frame["type"], "status")
        asyncio.run(attempt())

    def test_websocket_message_above_max_frame_closes_1009(self):
        frames, code = asyncio.run(self.closed_after("x" * (self.MAX_FRAME + 1)))
        self.assertEqual(code, 1009)
        self.assertNotIn("data", [f["type"] for f in frames])


def main():
    global SERVER
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    args, rest = parser.parse_known_args()
    SERVER = args.server
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
