#!/usr/bin/python3
"""The Python example client (examples/python/srmudp_websocket_example.py), end to end.

    /usr/bin/python3 test_pyclient.py --server PATH/autoprox \
        --client PATH/srmudp_websocket_example.py [unittest options]

ProxyPairTest runs two clients (library and CLI) against two real autoprox processes: client A
talks to autoprox A naming autoprox B's UDP port, client B the other way round. FakeProxyTest runs the client
against a small websockets server in this file that sends exactly the frames a case needs
(duplicates by seq, drops, refusals), for behaviour a real server cannot be made to show on cue.

The autoprox processes are started per test and killed on every exit path (and die with this
script). Only 127.0.0.1 is used. Every wait has a deadline.
"""

import argparse
import asyncio
import http
import os
import select
import signal
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "autoprox"))
import harness as autoprox_harness  # noqa: E402

SERVER = None  # path of autoprox (--server)
CLIENT = None  # path of the example client (--client)
ex = None  # the example module, imported in main()

KEY = "pyclient test key +/&%="  # characters that need percent-encoding in a URL
HOST = "127.0.0.1"
# Generous for a sanitizer build on a shared 2-core machine; a passing run never waits for them.
READY_S = 30
WAIT_S = 20
TEST_S = 120


class ProxyPair:
    """The server under test: two autoprox processes whose srmudp sockets can reach each other
    (tests/integration/autoprox/harness.py starts them, reads their ports from the JSON
    "listening" log line and kills them on every exit path)."""

    def __init__(self, path):
        autoprox_harness.AUTOPROX = path
        self.a = autoprox_harness.Autoprox()
        try:
            self.b = autoprox_harness.Autoprox()
        except BaseException:
            self.a.kill()
            raise
        self.ws_a, self.ws_b = self.a.ws_port, self.b.ws_port
        self.udp_a, self.udp_b = self.a.udp_port, self.b.udp_port

    def url(self, ws_port):
        return f"ws://{HOST}:{ws_port}/v0/ws/proxy"

    def side_a(self):
        """(ws_url, remote_host, remote_port) of client A."""
        return self.url(self.ws_a), HOST, self.udp_b

    def side_b(self):
        return self.url(self.ws_b), HOST, self.udp_a

    def kill(self):
        self.a.kill()
        self.b.kill()


async def within(awaitable, seconds=WAIT_S):
    return await asyncio.wait_for(awaitable, seconds)


async def next_of(client, kind, seconds=WAIT_S):
    """The next event of type kind from client.events(), skipping others."""
    async def find():
        async for event in client.events():
            if isinstance(event, kind):
                return event
        raise AssertionError(f"the session ended ({client.end_reason}) before a {kind.__name__}")
    return await within(find(), seconds)


def run_async(coroutine):
    asyncio.run(asyncio.wait_for(coroutine, TEST_S))


# ---- Against the real server ----------------------------------------------------------------

class ProxyPairTest(unittest.TestCase):
    def setUp(self):
        self.proxy = ProxyPair(SERVER)
        self.addCleanup(self.proxy.kill)

    def client(self, side, **options):
        url, host, port = side
        return ex.SRMUDPWebSocketClient(url, host, port, KEY, **options)

    async def established_pair(self, options_b=None, **options_a):
        a = self.client(self.proxy.side_a(), **options_a)
        b = self.client(self.proxy.side_b(), **(options_b or {}))
        await within(a.connect())
        await within(b.connect())
        await within(asyncio.gather(a.wait_established(), b.wait_established()))
        return a, b

    async def close_all(self, *clients):
        for client in clients:
            await within(client.close())

    def test_status_sequence(self):
        async def run():
            a = self.client(self.proxy.side_a())
            b = self.client(self.proxy.side_b())
            await within(asyncio.gather(a.connect(), b.connect()))
            for client in (a, b):
                statuses = []
                while not statuses or statuses[-1].status in ("CONNECTED", "UDP_WAITING"):
                    statuses.append(await next_of(client, ex.Status))
                self.assertEqual([s.status for s in statuses],
                                 ["CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"])
                self.assertEqual({s.connection_id for s in statuses}, {client.connection_id})
                self.assertRegex(client.connection_id, r"^[0-9a-f]{16}$")
                self.assertEqual(client.status, "UDP_ESTABLISHED")
            self.assertNotEqual(a.connection_id, b.connection_id)
            await self.close_all(a, b)
        run_async(run())

    def test_text_both_ways_with_unicode(self):
        texts = ["hello, b", "grüße, мир, 你好, 🚀 (astral), \u2028",
                 "\"quoted\" \\ back\tslash", "nul \u0000 inside", "x" * 100_000]

        async def exchange():
            a, b = await self.established_pair()
            for sender, receiver in ((a, b), (b, a)):
                for text in texts:
                    await sender.send_text(text)
                    data = await within(receiver.receive_data())
                    self.assertEqual((data.format, data.data), ("text", text))
            await self.close_all(a, b)
        run_async(exchange())

    def test_binary_both_ways_raw_and_base64(self):
        payloads = [bytes(range(256)), b"valid utf-8 stays binary", "é".encode(),
                    os.urandom(200_000)]
        async def run():
            a, b = await self.established_pair()
            for sender, receiver in ((a, b), (b, a)):
                for raw in (False, True):
                    for payload in payloads:
                        await sender.send_binary(payload, raw=raw)
                        data = await within(receiver.receive_data())
                        self.assertEqual(data.format, "binary")
                        self.assertIsInstance(data.data, bytes)
                        self.assertEqual(data.data, payload)
            await self.close_all(a, b)
        run_async(run())

    def test_empty_messages(self):
        async def run():
            a, b = await self.established_pair()
            await within(a.send_text_acked(""))
            data = await within(b.receive_data())
            self.assertEqual((data.format, data.data), ("text", ""))
            await within(a.send_binary_acked(b""))
            data = await within(b.receive_data())
            self.assertEqual((data.format, data.data), ("binary", b""))
            await b.send_binary(b"", raw=True)
            data = await within(a.receive_data())
            self.assertEqual((data.format, data.data), ("binary", b""))
            await self.close_all(a, b)
        run_async(run())

    def test_acks_by_id(self):
        async def run():
            a, b = await self.established_pair()
            await a.send_text("int id", id=7)
            self.assertEqual(await next_of(a, ex.Ack), ex.Ack(7))
            await a.send_binary(b"\x01\x02", id="seven")
            self.assertEqual(await next_of(a, ex.Ack), ex.Ack("seven"))
            await a.send_text("negative", id=-(2**63))
            self.assertEqual(await next_of(a, ex.Ack), ex.Ack(-(2**63)))
            # An int and the str of it are different ids.
            await a.send_text("one", id=1)
            await a.send_text("one as text", id="1")
            acks = [await next_of(a, ex.Ack), await next_of(a, ex.Ack)]
            self.assertCountEqual([ack.id for ack in acks], [1, "1"])
            self.assertEqual({type(ack.id) for ack in acks}, {int, str})
            message_id = await within(a.send_text_acked("acked"))
            self.assertEqual(await next_of(a, ex.Ack), ex.Ack(message_id))
            received = [(await within(b.receive_data())).data for _ in range(6)]
            self.assertEqual(received, ["int id", b"\x01\x02", "negative", "one", "one as text",
                                        "acked"])
            await self.close_all(a, b)
        run_async(run())

    def test_bad_parameters_give_the_servers_text(self):
        async def run():
            url, host, _ = self.proxy.side_a()
            cases = [(host, 0, "remote_port"), ("not-an-ip", 4000, "remote_host")]
            for remote_host, remote_port, field in cases:
                client = ex.SRMUDPWebSocketClient(url, remote_host, remote_port, KEY)
                with self.assertRaises(ex.SRMUDPError) as caught:
                    await within(client.connect())
                self.assertEqual(caught.exception.status_code, 400)
                self.assertIn(field, caught.exception.body)
                self.assertIn(caught.exception.body, str(caught.exception))
                self.assertNotIn(KEY, str(caught.exception))
                self.assertTrue(client.ended)
            with self.assertRaises(ex.SRMUDPError) as caught:
                await within(ex.SRMUDPWebSocketClient(url.replace(str(self.proxy.ws_a),
                                                                  str(free_tcp_port())),
                                                      host, 4000, KEY).connect())
            self.assertIsNone(caught.exception.status_code)
            self.assertIn("cannot open the WebSocket", str(caught.exception))
        run_async(run())

    def test_error_session_is_not_reattached(self):
        async def run():
            # B without a client_id: its close ends its session at once (with one, the server
            # may keep it for the re-attach grace period).
            a, b = await self.established_pair(options_b={"auto_reattach": False})
            await within(b.close())  # the peer goes: A's session ends with ERROR and 1011
            error = await next_of(a, ex.Error)
            self.assertIsNone(error.id)
            await within(self.wait_ended(a))
            self.assertEqual(a.status, "ERROR")
            self.assertEqual(a.reattaches, 0)
            self.assertIn("1011", a.end_reason)
            with self.assertRaises(ex.SRMUDPError):
                await a.send_text("too late")
        run_async(run())

    async def wait_ended(self, client):
        async for _ in client.events():
            pass
        self.assertTrue(client.ended)

    # ---- Re-attach (needs the server's "seq")

    async def seq_pair(self, **options_a):
        """An established pair after one B -> A message; skips if the server sends no seq."""
        a, b = await self.established_pair(client_id="pyclient-a", **options_a)
        await b.send_text("first")
        first = await within(a.receive_data())
        if first.seq is None:
            await self.close_all(a, b)
            raise unittest.SkipTest("the server does not send \"seq\" yet (no re-attach)")
        self.assertEqual((first.data, first.seq), ("first", 1))
        return a, b

    def test_reattach_after_drop(self):
        async def run():
            a, b = await self.seq_pair()
            connection_id = a.connection_id
            a._ws.transport.abort()  # the network drops A's WebSocket
            for n in range(3):
                await b.send_text(f"meanwhile {n}")
            await within(a.send_text_acked("sent while re-attaching"))
            self.assertEqual((await within(b.receive_data())).data, "sent while re-attaching")
            received = [await within(a.receive_data()) for _ in range(3)]
            self.assertEqual([d.data for d in received], [f"meanwhile {n}" for n in range(3)])
            self.assertEqual([d.seq for d in received], [2, 3, 4])
            self.assertEqual(a.connection_id, connection_id)
            self.assertEqual(a.reattaches, 1)
            await self.close_all(a, b)
        run_async(run())

    def test_reattach_keeps_order_under_traffic(self):
        async def run():
            # A's small event queue makes its client stop reading, so frames pile up in its
            # socket and die with it: only the server's replay after last_seq can bring them.
            a, b = await self.seq_pair(max_events=4)
            count = 1000
            filler = "x" * 1000

            async def send_all():
                for n in range(count):
                    await b.send_text(f"m{n} {filler}")
            sender = asyncio.create_task(send_all())
            got = [await within(a.receive_data()) for _ in range(20)]
            a._ws.transport.abort()
            got += [await within(a.receive_data()) for _ in range(count - 20)]
            await within(sender)
            self.assertEqual([d.data for d in got], [f"m{n} {filler}" for n in range(count)])
            self.assertEqual([d.seq for d in got], list(range(2, count + 2)))
            self.assertEqual(a.reattaches, 1)
            await self.close_all(a, b)
        run_async(run())

    def test_reattach_resends_what_the_dropped_websocket_swallowed(self):
        async def run():
            # Proxy A stops reading (SIGSTOP) while client A sends 8 MB: the kernel's buffers
            # fill, the rest waits in the client's own buffer, and then the connection dies
            # with it. After the re-attach the proxy's count ("received") tells the client
            # which frames to send again; B must get each message exactly once, in order.
            a, b = await self.seq_pair()
            count = 400
            filler = "y" * 20000
            texts = [f"s{n} {filler}" for n in range(count)]

            async def send_all():
                for text in texts:
                    await a.send_text(text)
            self.proxy.a.signal(signal.SIGSTOP)
            try:
                sender = asyncio.create_task(send_all())
                await asyncio.sleep(1.0)  # the sender is blocked on a full buffer by now
                self.assertFalse(sender.done())
                a._ws.transport.abort()  # the network drops A's WebSocket
            finally:
                self.proxy.a.signal(signal.SIGCONT)
            await within(sender, 60)
            got = [await within(b.receive_data(), 60) for _ in range(count)]
            self.assertEqual([d.data for d in got], texts)
            self.assertEqual(a.reattaches, 1)
            await within(a.send_text_acked("last"))
            self.assertEqual((await within(b.receive_data())).data, "last")
            await self.close_all(a, b)
        run_async(run())

    # ---- The CLI

    def cli_command(self, side, *extra, key_arg=False):
        url, host, port = side
        command = [sys.executable, CLIENT, "--ws-url", url, "--remote-host", host,
                   "--remote-port", str(port), *extra]
        if key_arg:
            command += ["--encryption-key", KEY]
        return command

    def cli_env(self, with_key=True):
        env = {k: v for k, v in os.environ.items() if k not in ("SRMUDP_KEY", "SRMUDP_TOKEN")}
        if with_key:
            env["SRMUDP_KEY"] = KEY
        return env

    async def start_cli(self, command, env):
        return await asyncio.create_subprocess_exec(
            *command, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)

    async def read_until(self, process, needle, lines):
        while not any(needle in line for line in lines):
            line = await within(process.stdout.readline())
            if not line:
                raise AssertionError(f"the CLI ended before printing {needle!r}: {lines}")
            lines.append(line.decode())

    async def finish_cli(self, process):
        stdout, stderr = await within(process.communicate(), 60)
        return process.returncode, stdout.decode(), stderr.decode()

    def test_cli_once(self):
        async def run():
            b = self.client(self.proxy.side_b())
            await within(b.connect())
            cli = await self.start_cli(
                self.cli_command(self.proxy.side_a(), "--once", "ping from the cli",
                                 "--wait-established", str(WAIT_S), "--linger", "3"),
                self.cli_env())
            self.assertEqual((await within(b.receive_data())).data, "ping from the cli")
            await b.send_text("pong to the cli")
            code, out, err = await self.finish_cli(cli)
            self.assertEqual(code, 0, out + err)
            self.assertIn("[status UDP_ESTABLISHED]", out)
            self.assertIn("[ack] 1\n", out)
            self.assertIn("[text] pong to the cli\n", out)
            self.assertNotIn(KEY, out + err)
            await within(b.close())
        run_async(run())

    def test_cli_interactive(self):
        async def run():
            b = self.client(self.proxy.side_b())
            await within(b.connect())
            cli = await self.start_cli(self.cli_command(self.proxy.side_a(), key_arg=True),
                                       self.cli_env(with_key=False))
            cli.stdin.write(b"first line\n")
            await cli.stdin.drain()
            self.assertEqual((await within(b.receive_data())).data, "first line")
            await b.send_text("reply\nwith a newline")
            await b.send_binary(bytes(range(40)))
            lines = []
            await self.read_until(cli, "[binary 40 bytes]", lines)
            cli.stdin.write("second line ünïcödé\n".encode())
            cli.stdin.close()
            code, out, err = await self.finish_cli(cli)
            out = "".join(lines) + out
            self.assertEqual(code, 0, out + err)
            self.assertEqual((await within(b.receive_data())).data, "second line ünïcödé")
            self.assertIn("[ack] 1\n", out)
            self.assertIn("[ack] 2\n", out)
            self.assertIn("[text] reply\\x0awith a newline\n", out)
            self.assertIn(f"[binary 40 bytes] {bytes(range(32)).hex()}...\n", out)
            self.assertNotIn(KEY, out + err)
            await within(b.close())
        run_async(run())

    def test_cli_binary_hex_and_a_bad_line(self):
        async def run():
            b = self.client(self.proxy.side_b())
            await within(b.connect())
            cli = await self.start_cli(
                self.cli_command(self.proxy.side_a(), "--binary-hex", "--key-in-url"),
                self.cli_env())
            cli.stdin.write(b"00ff10\nnot hex\n\n")
            cli.stdin.close()
            code, out, err = await self.finish_cli(cli)
            self.assertEqual(code, 1, out + err)  # the bad line counts as a failed message
            self.assertIn("[error] line 2 not sent", out)
            self.assertIn("[ack] 1\n", out)
            self.assertIn("[ack] 3\n", out)
            self.assertEqual((await within(b.receive_data())).data, b"\x00\xff\x10")
            self.assertEqual((await within(b.receive_data())).data, b"")
            self.assertNotIn(KEY, out + err)
            await within(b.close())
        run_async(run())

    def test_cli_refused_upgrade(self):
        url, host, _ = self.proxy.side_a()
        for extra in ((), ("--key-in-url",)):
            result = subprocess.run(
                [sys.executable, CLIENT, "--ws-url", url, "--remote-host", host,
                 "--remote-port", "0", *extra], env=self.cli_env(), capture_output=True,
                text=True, timeout=60)
            self.assertEqual(result.returncode, 1)
            self.assertIn("HTTP 400", result.stderr)
            self.assertIn("remote_port", result.stderr)
            self.assertNotIn(KEY, result.stdout + result.stderr)
            self.assertNotIn(urllib.parse.quote(KEY, safe=""), result.stdout + result.stderr)

    def test_cli_ends_when_the_session_ends(self):
        async def run():
            b = self.client(self.proxy.side_b(), auto_reattach=False)  # see the test above
            await within(b.connect())
            cli = await self.start_cli(self.cli_command(self.proxy.side_a()), self.cli_env())
            lines = []
            await self.read_until(cli, "[status UDP_ESTABLISHED]", lines)
            await within(b.close())  # stdin stays open: the CLI must not wait for it
            code, out, err = await self.finish_cli(cli)
            out = "".join(lines) + out
            self.assertEqual(code, 1, out + err)
            self.assertIn("[status ERROR]", out)
            self.assertIn("[error] the session is over", out)
            self.assertEqual(err, "")  # no traceback, no abort at interpreter exit
        run_async(run())

    def test_cli_needs_a_key(self):
        result = subprocess.run(self.cli_command(self.proxy.side_a()), env=self.cli_env(False),
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 2)
        self.assertIn("SRMUDP_KEY", result.stderr)


def free_tcp_port():
    import socket
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---- Against a scripted fake proxy ----------------------------------------------------------

def status_frame(status, connection_id="c0ffee0000000001"):
    return ex.json.dumps({"type": "status", "status": status, "connection_id": connection_id,
                          "message": status.lower()})


def data_frame(text, seq=None):
    frame = {"type": "data", "format": "text", "data": text}
    if seq is not None:
        frame["seq"] = seq
    return ex.json.dumps(frame)


class FakeProxy:
    """A websockets server; connection n (from 0) is served by script(ws, n). refuse(n) may
    return (status, body) to refuse upgrade n. Records every request's path and headers."""

    def __init__(self, script, refuse=None):
        self.script = script
        self.refuse = refuse or (lambda n: None)
        self.requests = []
        self.server = None

    async def __aenter__(self):
        self.server = await ex.websockets.serve(self._handle, HOST, 0,
                                                process_request=self._process_request)
        return self

    async def __aexit__(self, *exc_info):
        self.server.close()
        await within(self.server.wait_closed())

    @property
    def url(self):
        return f"ws://{HOST}:{self.server.sockets[0].getsockname()[1]}/v0/ws/proxy"

    def query(self, n):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.requests[n][0]).query))

    async def _process_request(self, path, headers):
        self.requests.append((path, headers))
        refusal = self.refuse(len(self.requests) - 1)
        if refusal is not None:
            return (http.HTTPStatus(refusal[0]), [("Content-Type", "text/plain")],
                    refusal[1].encode())
        return None

    async def _handle(self, ws):
        await self.script(ws, len(self.requests) - 1)


class FakeProxyTest(unittest.TestCase):
    def client(self, proxy, **options):
        return ex.SRMUDPWebSocketClient(proxy.url, "::1", 4000, KEY, **options)

    def test_key_in_header_and_parameters(self):
        async def script(ws, n):
            await ws.send(status_frame("CONNECTED"))
            await ws.wait_closed()

        async def run():
            async with FakeProxy(script) as proxy:
                client = self.client(proxy, token="tok en")
                await within(client.connect())
                await within(client.close())
                keyed = self.client(proxy, key_in_url=True, client_id="me", auto_reattach=False)
                await within(keyed.connect())
                await within(keyed.close())
            path, headers = proxy.requests[0]
            self.assertEqual(headers["X-Encryption-Key"], KEY)
            self.assertEqual(headers["Authorization"], "Bearer tok en")
            self.assertNotIn("encryption_key", path)
            self.assertIn("remote_host=%3A%3A1&remote_port=4000", path)
            self.assertRegex(proxy.query(0)["client_id"], r"^[0-9a-f]{32}$")
            self.assertNotIn("last_seq", path)
            path, headers = proxy.requests[1]
            self.assertNotIn("X-Encryption-Key", headers)
            self.assertNotIn("Authorization", headers)
            self.assertEqual(proxy.query(1)["encryption_key"], KEY)
            self.assertIn(urllib.parse.quote(KEY, safe=""), path)  # '+' must not become ' '
            self.assertEqual(proxy.query(1)["client_id"], "me")
        run_async(run())

    def test_refusal_carries_the_body(self):
        async def run():
            async with FakeProxy(None, refuse=lambda n: (403, "bad token, says the server")) \
                    as proxy:
                with self.assertRaises(ex.SRMUDPError) as caught:
                    await within(self.client(proxy, token="t").connect())
            self.assertEqual(caught.exception.status_code, 403)
            self.assertEqual(caught.exception.body, "bad token, says the server")
            self.assertIn("HTTP 403: bad token, says the server", str(caught.exception))
        run_async(run())

    def test_data_deduplicated_by_seq(self):
        async def script(ws, n):
            await ws.send(status_frame("UDP_ESTABLISHED"))
            for text, seq in (("a", 1), ("b", 2), ("b", 2), ("a", 1), ("no seq", None), ("c", 3)):
                await ws.send(data_frame(text, seq))
            await ws.send(b"\x00raw")
            await ws.wait_closed()

        async def run():
            async with FakeProxy(script) as proxy:
                client = self.client(proxy)
                await within(client.connect())
                got = [await within(client.receive_data()) for _ in range(5)]
                self.assertEqual(got, [ex.Data("text", "a", 1), ex.Data("text", "b", 2),
                                       ex.Data("text", "no seq", None), ex.Data("text", "c", 3),
                                       ex.Data("binary", b"\x00raw", None)])
                self.assertEqual(client.last_seq, 3)
                with self.assertRaises(TimeoutError):
                    await client.receive_data(timeout=0.2)
                await within(client.close())
        run_async(run())

    def test_reattach_with_last_seq(self):
        dropped = asyncio.Event()
        received = []

        async def script(ws, n):
            await ws.send(status_frame("UDP_ESTABLISHED"))
            if n == 0:
                await ws.send(data_frame("one", 1))
                await ws.send(data_frame("two", 2))
                await asyncio.sleep(0.2)
                ws.transport.abort()  # a drop: no close frame
                dropped.set()
                return
            await ws.send(data_frame("two", 2))  # replayed although the client has it
            await ws.send(data_frame("three", 3))
            async for frame in ws:
                message = ex.json.loads(frame)
                received.append(message["data"])
                await ws.send(ex.json.dumps({"type": "ack", "id": message["id"]}))

        async def run():
            async with FakeProxy(script) as proxy:
                client = self.client(proxy, client_id="again")
                await within(client.connect())
                self.assertEqual([(await within(client.receive_data())).data for _ in range(2)],
                                 ["one", "two"])
                await within(dropped.wait())
                await within(client.send_text_acked("while dropped"))
                self.assertEqual(await within(client.receive_data()), ex.Data("text", "three", 3))
                self.assertEqual(received, ["while dropped"])
                self.assertEqual(len(proxy.requests), 2)
                self.assertEqual(proxy.query(1)["client_id"], "again")
                self.assertEqual(proxy.query(1)["last_seq"], "2")
                self.assertEqual(client.reattaches, 1)
                await within(client.close())
        run_async(run())

    def test_close_frame_is_not_reattached(self):
        async def script(ws, n):
            await ws.send(status_frame("UDP_ESTABLISHED"))
            await ws.close(4000, "replaced by a new connection")

        async def run():
            async with FakeProxy(script) as proxy:
                client = self.client(proxy)
                await within(client.connect())
                with self.assertRaises(ex.SRMUDPError):
                    await within(client.receive_data())
                self.assertIn("4000", client.end_reason)
                self.assertEqual(len(proxy.requests), 1)
        run_async(run())

    def test_new_session_on_reattach_fails_messages_in_flight(self):
        async def script(ws, n):
            await ws.send(status_frame("UDP_ESTABLISHED", f"session{n}"))
            if n == 0:
                await ws.recv()  # the client's message, never acked
                ws.transport.abort()
                return
            await ws.send(data_frame("fresh", 1))
            await ws.wait_closed()

        async def run():
            async with FakeProxy(script) as proxy:
                client = self.client(proxy)
                await within(client.connect())
                with self.assertRaises(ex.SRMUDPError) as caught:
                    await within(client.send_text_acked("lost"))
                self.assertIn("new session", str(caught.exception))
                # seq starts again at 1 in the new session, so "fresh" is not a duplicate.
                self.assertEqual(await within(client.receive_data()), ex.Data("text", "fresh", 1))
                self.assertEqual(client.connection_id, "session1")
                await within(client.close())
        run_async(run())

    def test_reattach_gives_up_on_refusal(self):
        async def script(ws, n):
            await ws.send(status_frame("UDP_ESTABLISHED"))
            ws.transport.abort()

        async def run():
            refuse = lambda n: (400, "unknown client") if n > 0 else None  # noqa: E731
            async with FakeProxy(script, refuse) as proxy:
                client = self.client(proxy)
                await within(client.connect())
                with self.assertRaises(ex.SRMUDPError):
                    await within(client.receive_data())
                self.assertIn("HTTP 400: unknown client", client.end_reason)
                self.assertEqual(len(proxy.requests), 2)  # a refusal is final
                with self.assertRaises(ex.SRMUDPError):
                    await client.send_text("after the end")
        run_async(run())

    def test_no_reattach_when_disabled(self):
        async def script(ws, n):
            await ws.send(status_frame("UDP_ESTABLISHED"))
            ws.transport.abort()

        async def run():
            async with FakeProxy(script) as proxy:
                client = self.client(proxy, auto_reattach=False)
                self.assertIsNone(client.client_id)
                await within(client.connect())
                with self.assertRaises(ex.SRMUDPError):
                    await within(client.receive_data())
                self.assertEqual(client.end_reason, "the WebSocket dropped")
                self.assertEqual(len(proxy.requests), 1)
                self.assertNotIn("client_id", proxy.requests[0][0])
        run_async(run())

    def test_error_frame_fails_the_acked_send(self):
        async def script(ws, n):
            await ws.send(status_frame("UDP_ESTABLISHED"))
            first = ex.json.loads(await ws.recv())
            await ws.send(ex.json.dumps({"type": "error", "connection_id": "c",
                                         "message": "message too large", "id": first["id"]}))
            second = ex.json.loads(await ws.recv())  # a plain send with an id, never acked
            await ws.send(ex.json.dumps({"type": "something new", "id": second["id"]}))
            await ws.wait_closed()

        async def run():
            async with FakeProxy(script) as proxy:
                client = self.client(proxy)
                await within(client.connect())
                with self.assertRaises(ex.SRMUDPError) as caught:
                    await within(client.send_text_acked("big"))
                self.assertIn("message too large", str(caught.exception))
                await client.send_text("no ack for this", id=5)
                with self.assertRaises(ValueError):  # still waiting for its ack
                    await client.send_text("same id", id=5)
                error = await next_of(client, ex.Error)
                self.assertEqual(error, ex.Error("message too large", error.id))
                self.assertTrue(str(error.id).startswith("auto-"))
                await within(client.close())
        run_async(run())


class ArgumentTest(unittest.TestCase):
    """Checks made before anything is sent: no server needed."""

    def test_bad_arguments(self):
        client = ex.SRMUDPWebSocketClient(f"ws://{HOST}:9/v0/ws/proxy", HOST, 4000, KEY)

        async def run():
            for bad_id, error in ((True, TypeError), (1.5, TypeError), (2**63, ValueError),
                                  ("x" * 257, ValueError), ("\ud800", ValueError)):
                with self.assertRaises(error, msg=repr(bad_id)):
                    await client.send_text("t", id=bad_id)
            with self.assertRaises(ValueError):
                await client.send_binary(b"x", id=1, raw=True)
            with self.assertRaises(ValueError):
                await client.send_text("lone \ud800 surrogate")
            with self.assertRaises(TypeError):
                await client.send_text(b"bytes")
            with self.assertRaises(ex.SRMUDPError):  # valid, but not connected
                await client.send_text("t", id="x" * 256)
        run_async(run())
        for key in ("", "line\r\nX-Injected: 1"):
            with self.assertRaises(ValueError):
                ex.SRMUDPWebSocketClient(f"ws://{HOST}:9", HOST, 4000, key)

    def test_url(self):
        self.assertEqual(ex.build_proxy_url("ws://h:1", [("remote_host", "::1"), ("k", "a b+")]),
                         "ws://h:1/v0/ws/proxy?remote_host=%3A%3A1&k=a%20b%2B")
        self.assertEqual(ex.build_proxy_url("ws://h:1/p?x=1", [("y", "2")]), "ws://h:1/p?x=1&y=2")

    def test_describe(self):
        self.assertEqual(ex.describe(ex.Data("binary", bytes(33))), f"[binary 33 bytes] "
                         f"{bytes(32).hex()}...")
        self.assertEqual(ex.describe(ex.Data("text", "a\x1b[2Jb")), "[text] a\\x1b[2Jb")
        self.assertEqual(ex.describe(ex.Error("bad", 3)), "[error] bad (id 3)")
        self.assertEqual(ex.describe(ex.Status("UDP_WAITING", "m", "c")), "[status UDP_WAITING] m")

    def test_split_lines(self):
        def lines_of(data, limit):
            read_fd, write_fd = os.pipe()
            os.write(write_fd, data)
            os.close(write_fd)
            got = []
            saved, ex.MAX_LINE_BYTES = ex.MAX_LINE_BYTES, limit
            try:
                ex.split_lines(read_fd, got.append)
            finally:
                ex.MAX_LINE_BYTES = saved
                os.close(read_fd)
            return [str(item) if isinstance(item, ValueError) else item for item in got]
        self.assertEqual(lines_of(b"a\n\nb\r\nlast", 100), [b"a", b"", b"b\r", b"last", None])
        self.assertEqual(lines_of(b"", 100), [None])
        self.assertEqual(lines_of(b"12345\n123456\n1234567890x\nok\n", 5),
                         [b"12345", "longer than 5 bytes", "longer than 5 bytes", b"ok", None])

    def test_parse_frame(self):
        self.assertEqual(ex.parse_frame('{"type":"data","format":"binary","data":"AAE="}'),
                         ex.Data("binary", b"\x00\x01", None))
        self.assertIsInstance(ex.parse_frame('{"type":"data","format":"binary","data":"A"}'),
                              ex.Error)
        self.assertIsInstance(ex.parse_frame("not json"), ex.Error)
        self.assertIsInstance(ex.parse_frame("[]"), ex.Error)
        self.assertIsNone(ex.parse_frame('{"type":"future"}'))
        self.assertEqual(ex.parse_frame('{"type":"ack","id":true}'), ex.Ack(None))
        self.assertEqual(ex.parse_frame('{"type":"data","format":"text","data":"x","seq":true}'),
                         ex.Data("text", "x", None))


def main():
    global SERVER, CLIENT, ex
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--server", required=True)
    parser.add_argument("--client", required=True)
    args, rest = parser.parse_known_args()
    SERVER, CLIENT = os.path.abspath(args.server), os.path.abspath(args.client)
    sys.path.insert(0, os.path.dirname(CLIENT))
    import srmudp_websocket_example
    ex = srmudp_websocket_example
    unittest.main(argv=[sys.argv[0], *rest])


if __name__ == "__main__":
    main()
