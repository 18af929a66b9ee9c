#!/usr/bin/env python3
"""autoprox end to end: the HTTP endpoints beside the WebSocket one (section 5 of the issue), the
server's shutdown on SIGTERM and SIGINT, and TLS.

    python3 test_autoprox_http.py --autoprox PATH/autoprox [--relay PATH] [unittest options]

Runs real autoprox processes (harness.Autoprox, at --log-level debug), real WebSocket clients,
coturn's turnserver (Debian package coturn; its absence fails the STUN test) and the openssl
command for a self-signed certificate. Every process and temporary directory is cleaned up on
every exit path, and every wait has a deadline. The encryption key must never appear in any
autoprox log line: each instance's whole log is checked once it is gone, and once more, all of
them together, when the run ends.
"""

import asyncio
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HOST, KEY  # noqa: E402

TOKEN = "e2e-http-token-Xk3"
TEST_S = 90  # one test's async part, end to end
STATUSES = ["CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED", "RECONNECTING", "ERROR"]
API_PATHS = ["/v0/ws/info", "/v0/ws/connections", "/metrics", "/v0/network/public-address"]
# Prometheus text format 0.0.4: `name value` or `name{label="value",...} value`.
METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({METRIC_NAME})(\{{{LABEL}(?:,{LABEL})*\}})? "
                    r"(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN)$")
COMMENT = re.compile(rf"^# (HELP|TYPE) ({METRIC_NAME}) .+$")

ALL_LOGS = []  # every autoprox log of the run, for the final check in main()


def parse_metrics(text):
    """{(name, labels text): value} of a Prometheus text page; raises on a malformed line or a
    sample without a # TYPE line before it."""
    samples, typed = {}, set()
    for line in text.splitlines():
        comment = COMMENT.match(line)
        if comment:
            if comment.group(1) == "TYPE":
                typed.add(comment.group(2))
            continue
        match = SAMPLE.match(line)
        if not match:
            raise AssertionError(f"not a Prometheus sample line: {line!r}")
        name, labels, value = match.groups()
        if name not in typed:
            raise AssertionError(f"sample {name} has no # TYPE line before it")
        samples[(name, labels or "")] = float(value)
    return samples


def stun_answers(port, timeout):
    """True if a STUN Binding request (RFC 5389) to 127.0.0.1:port gets a success response."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            transaction = os.urandom(12)
            probe.sendto(b"\x00\x01\x00\x00\x21\x12\xa4\x42" + transaction, (HOST, port))
            try:
                data, _ = probe.recvfrom(1500)
            except (socket.timeout, ConnectionRefusedError):
                continue
            if data[:2] == b"\x01\x01" and data[8:20] == transaction:
                return True
    return False


class Coturn:
    """coturn's turnserver as a STUN server on 127.0.0.1, with the arguments of
    tests/integration/stun/test_stun_coturn.cpp; the test's cleanups stop it and remove its
    directory."""

    ATTEMPTS = 3

    def __init__(self, test):
        binary = "/usr/bin/turnserver" if os.access("/usr/bin/turnserver", os.X_OK) \
            else shutil.which("turnserver")
        if binary is None:
            test.fail("turnserver not found in /usr/bin or PATH: install the Debian package "
                      "'coturn' (scripts/install-deps.sh)")
        scratch = tempfile.TemporaryDirectory(prefix="autoprox-coturn-")
        test.addCleanup(scratch.cleanup)
        for attempt in range(self.ATTEMPTS):
            self.port = harness.free_udp_port()
            self.log_path = os.path.join(scratch.name, f"turnserver-{attempt}.log")
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    [binary, "-n", "--stun-only", "--no-auth", "--no-cli", "--no-tls",
                     "--no-dtls", "--no-tcp", "--no-rfc5780", "--fingerprint",
                     "--listening-ip", HOST, "--listening-port", str(self.port),
                     "--log-file", "stdout", "--simple-log",
                     "--pidfile", os.path.join(scratch.name, "turnserver.pid"),
                     "--db", os.path.join(scratch.name, f"turndb-{attempt}")],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    preexec_fn=harness._die_with_parent)
            test.addCleanup(self.stop, self.process)
            if stun_answers(self.port, 10):
                return
            self.stop(self.process)
        test.fail("turnserver did not answer:\n" + self.log())

    @staticmethod
    def stop(process):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait(timeout=10)

    def log(self):
        with open(self.log_path, errors="replace") as log:
            return log.read()[-4000:]


class AutoproxTest(harness.SecretCheckedTest):
    """Autoprox instances whose whole logs are checked for the key and the token."""

    secrets = (KEY, TOKEN)
    test_seconds = TEST_S

    def logged(self, text):
        ALL_LOGS.append(text)

    def get_json(self, instance, path, status=200, headers=None):
        got, response_headers, body = harness.http_get(instance.ws_port, path, headers)
        self.assertEqual(got, status, body)
        self.assertEqual(response_headers.get("content-type"), "application/json")
        self.assert_no_secret(body, path)
        return json.loads(body)

    def metrics(self, instance):
        status, headers, body = harness.http_get(instance.ws_port, "/metrics")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        self.assertTrue(body.endswith("\n"))
        return parse_metrics(body)


class EndpointsTest(AutoproxTest):
    """GET /health, /v0/ws/info, /v0/ws/connections, /metrics and unknown paths."""

    def test_health(self):
        instance = self.start()
        health = self.get_json(instance, "/health")
        self.assertEqual(health["status"], "ok")
        self.assertEqual(health["sessions"], 0)
        self.assertIsInstance(health["uptime_s"], int)
        status, headers, body = harness.http_get(instance.ws_port, "/health", method="HEAD")
        self.assertEqual((status, body), (200, ""))
        self.assertEqual(headers["content-type"], "application/json")
        for method in ("POST", "PUT", "DELETE"):
            with self.subTest(method=method):
                status, headers, body = harness.http_get(instance.ws_port, "/health",
                                                         method=method)
                self.assertEqual(status, 405)
                self.assertEqual(headers.get("allow"), "GET, HEAD")
                self.assertIn("only GET", json.loads(body)["error"])

    def test_info(self):
        instance = self.start("--max-message-size", "64K", "--connect-timeout", "7.5")
        info = self.get_json(instance, "/v0/ws/info")
        self.assertEqual(info["endpoint"], "/v0/ws/proxy")
        self.assertEqual(info["scheme"], "ws")
        for name in ("remote_host", "remote_port", "encryption_key", "client_id"):
            self.assertIn(name, info["parameters"])
        self.assertEqual(info["statuses"], STATUSES)
        self.assertEqual(info["srmudp_port"], instance.udp_port)
        self.assertEqual(info["limits"]["max_message_bytes"], 64 * 1024)
        self.assertEqual(info["limits"]["connect_timeout_s"], 7.5)
        self.assertIn("not required", info["headers"]["Authorization"])

    def test_connections_lists_each_session_without_the_key(self):
        pair = self.pair()

        async def body():
            ws_a, ws_b, _, _ = await pair.open(params_a={"client_id": "client-a"})
            for instance, peer, client_id in ((pair.a, pair.b, "client-a"),
                                              (pair.b, pair.a, None)):
                listing = await asyncio.to_thread(self.get_json, instance, "/v0/ws/connections")
                self.assertEqual(len(listing["sessions"]), 1, listing)
                session = listing["sessions"][0]
                self.assertEqual(session["remote"], f"127.0.0.1:{peer.udp_port}")
                self.assertEqual(session["status"], "UDP_ESTABLISHED")
                self.assertEqual(session["client_id"], client_id)
                self.assertTrue(session["websocket_open"])
                self.assertFalse(session["awaiting_reattach"])
                self.assertRegex(session["connection_id"], "^[0-9a-f]{16}$")
                for field in ("rtt_ms", "bytes_sent", "bytes_received", "messages_sent",
                              "messages_received", "packets_lost"):
                    self.assertIn(field, session["stats"])
                self.assertGreater(session["stats"]["bytes_sent"], 0)
                self.assertNotIn("key", json.dumps(session).lower())
            await ws_a.close()
            await ws_b.close()
        self.run_async(body())

    def test_metrics(self):
        pair = self.pair()
        to_b = [b"\x00" * 10, b"binary \xff", "text to b", "ümlaut", b""]
        to_a = ["reply one", b"\x01\x02\x03"]

        def size(message):
            return len(message if isinstance(message, bytes) else message.encode())

        def frame(message, tag):
            if isinstance(message, bytes):
                return harness.binary_frame(message, id=tag)
            return harness.text_frame(message, id=tag)

        async def send_all(sender, receiver, messages):
            for n, message in enumerate(messages):
                await sender.send(frame(message, n))
            for n, message in enumerate(messages):
                self.assertEqual(harness.payload_of(await harness.next_frame(receiver)), message)
            acks = [await harness.next_frame(sender) for _ in messages]
            self.assertEqual(acks, [{"type": "ack", "id": n} for n in range(len(messages))])

        async def body():
            ws_a, ws_b, _, _ = await pair.open()
            await send_all(ws_a, ws_b, to_b)
            await send_all(ws_b, ws_a, to_a)
            # Checked while both clients are still attached.
            await asyncio.to_thread(check, pair.a, to_b, to_a)
            await asyncio.to_thread(check, pair.b, to_a, to_b)
            await ws_a.close()
            await ws_b.close()

        def check(instance, sent, received):
            m = self.metrics(instance)
            self.assertEqual(m[("autoprox_messages_to_peer_total", "")], len(sent))
            self.assertEqual(m[("autoprox_messages_from_peer_total", "")], len(received))
            self.assertEqual(m[("autoprox_bytes_to_peer_total", "")], sum(map(size, sent)))
            self.assertEqual(m[("autoprox_bytes_from_peer_total", "")],
                             sum(map(size, received)))
            self.assertEqual(m[("autoprox_sessions", '{state="attached"}')], 1)
            self.assertEqual(m[("autoprox_sessions", '{state="awaiting_reattach"}')], 0)
            self.assertEqual(m[("autoprox_sessions_opened_total", "")], 1)
            self.assertEqual(m[("autoprox_handshakes_total", "")], 1)
            self.assertEqual(m[("autoprox_errors_total", "")], 0)
        self.run_async(body())

        self.assertNotIn(("autoprox_sessions_refused_total", '{reason="request"}'),
                         self.metrics(pair.a))
        refused = [("/v0/ws/proxy?remote_port=1&encryption_key=k", 400),
                   ("/v0/ws/proxy?remote_host=224.0.0.1&remote_port=1&encryption_key=k", 403),
                   ("/v0/ws/proxy?remote_host=127.0.0.1&remote_port=0&encryption_key=k", 400)]
        for path, status in refused:
            self.assertEqual(harness.http_upgrade(pair.a.ws_port, path)[0], status)
        m = self.metrics(pair.a)
        self.assertEqual(m[("autoprox_sessions_refused_total", '{reason="request"}')], 2)
        self.assertEqual(m[("autoprox_sessions_refused_total", '{reason="target"}')], 1)
        self.assertNotIn(("autoprox_sessions_refused_total", '{reason="request"}'),
                         self.metrics(pair.b))

    def test_metrics_lines_are_well_formed(self):
        """The pattern check itself, so that a lax pattern cannot hide a bad page."""
        self.assertEqual(parse_metrics('# TYPE a gauge\na{x="1",y="q\\"z"} 2\n'),
                         {("a", '{x="1",y="q\\"z"}'): 2.0})
        for bad in ("# TYPE a gauge\na 1 2", "# TYPE a gauge\na{x=1} 1", "b 1",
                    "# TYPE a gauge\na{x=\"1\"}1", "# TYPE a gauge\na one"):
            with self.subTest(page=bad), self.assertRaises(AssertionError):
                parse_metrics(bad)

    def test_unknown_path(self):
        instance = self.start()
        for path in ("/", "/nope", "/health/x", "/v0/ws", "/metrics2"):
            with self.subTest(path=path):
                self.assertIn("not found", self.get_json(instance, path, 404)["error"])

    def test_token_guards_everything_but_health(self):
        instance = self.start("--token", TOKEN)
        self.assertEqual(self.get_json(instance, "/health")["status"], "ok")
        bearer = {"Authorization": "Bearer " + TOKEN}
        for path in API_PATHS:
            with self.subTest(path=path):
                for headers in ({}, {"Authorization": "Bearer x" + TOKEN},
                                {"Authorization": TOKEN}):
                    status, response_headers, body = harness.http_get(instance.ws_port, path,
                                                                      headers)
                    self.assertEqual(status, 401, body)
                    self.assertEqual(response_headers.get("www-authenticate"), "Bearer")
                    self.assert_no_secret(body, path)
                # No STUN server is configured: past the token check that is a 503.
                expected = 503 if path == "/v0/network/public-address" else 200
                status, _, body = harness.http_get(instance.ws_port, path, bearer)
                self.assertEqual(status, expected, body)
        self.assertIn("Bearer", self.get_json(instance, "/v0/ws/info", 200,
                                              bearer)["headers"]["Authorization"])


class PublicAddressTest(AutoproxTest):
    """GET /v0/network/public-address: STUN through autoprox's shared srmudp socket."""

    def test_without_stun_server(self):
        instance = self.start()
        error = self.get_json(instance, "/v0/network/public-address", 503)["error"]
        self.assertIn("--stun-server", error)

    def test_turnserver_is_installed(self):
        """The machine must have coturn: its absence fails here, not as a skip."""
        coturn = Coturn(self)
        self.assertTrue(stun_answers(coturn.port, 5), coturn.log())

    # A deferred HTTP response: the answer comes after the STUN round trip.
    def test_with_coturn(self):
        coturn = Coturn(self)
        instance = self.start("--stun-server", f"127.0.0.1:{coturn.port}")
        answer = self.get_json(instance, "/v0/network/public-address")
        # The shared srmudp socket asked: its address, not some other socket's.
        self.assertEqual(answer["public_address"], f"127.0.0.1:{instance.udp_port}",
                         coturn.log())
        self.assertEqual((answer["ip"], answer["port"]), ("127.0.0.1", instance.udp_port))
        self.assertEqual(answer["stun_server"], f"127.0.0.1:{coturn.port}")
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(
                lambda _: self.get_json(instance, "/v0/network/public-address"), range(2)))
        self.assertEqual(answers, [answer, answer])

    def test_stun_server_that_does_not_answer(self):
        """Two requests at once share one STUN query: both get 502 after one timeout (3 s),
        not one after the other."""
        port = harness.free_udp_port()
        instance = self.start("--stun-server", f"127.0.0.1:{port}")
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            errors = list(pool.map(
                lambda _: self.get_json(instance, "/v0/network/public-address", 502)["error"],
                range(2)))
        self.assertLess(time.monotonic() - started, 5.5)
        for error in errors:
            self.assertIn(f"no answer from the STUN server 127.0.0.1:{port}", error)
        self.assertEqual(self.get_json(instance, "/health")["status"], "ok")


class ShutdownTest(AutoproxTest):
    """SIGTERM and SIGINT: every client told, the peers' clients too, exit status 0."""

    def shutdown_with_sessions(self, signum):
        pair = self.pair()

        async def body():
            ws_a, ws_b, _, _ = await pair.open()
            started = time.monotonic()
            pair.a.signal(signum)
            seen, last, _ = await harness.statuses_until(ws_a, "ERROR")
            self.assertEqual(seen, ["ERROR"])
            self.assertIn("shutting down", last["message"])
            code, reason, frames = await harness.wait_closed(ws_a)
            self.assertEqual(code, 1001)
            self.assertIn("shutting down", reason)
            self.assertEqual([f["type"] for f in frames], ["error"])
            self.assertIn("shutting down", frames[0]["message"])

            seen, last, _ = await harness.statuses_until(ws_b, "ERROR")
            self.assertEqual(seen, ["ERROR"])
            self.assertIn(f"the peer at 127.0.0.1:{pair.a.udp_port} closed the connection",
                          last["message"])
            code, _, frames = await harness.wait_closed(ws_b)
            self.assertEqual(code, 1011)
            self.assertEqual([f["type"] for f in frames], ["error"])
            status = await asyncio.to_thread(pair.a.wait, 10)
            self.assertEqual(status, 0, pair.a.log_text())
            self.assertLess(time.monotonic() - started, 10)
        self.run_async(body())
        name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        self.assertIsNotNone(pair.a.wait_event("shutting_down", 1, signal=name, sessions=1))
        self.assertIsNotNone(pair.a.wait_event("stopped", 1))
        self.assertIsNone(pair.a.wait_event("shutdown_deadline", 0))
        self.assertIsNone(pair.b.process.poll(), "B must keep running")
        self.assertEqual(self.get_json(pair.b, "/health")["sessions"], 0)

    def test_sigterm_with_sessions(self):
        self.shutdown_with_sessions(signal.SIGTERM)

    def test_sigint_with_sessions(self):
        self.shutdown_with_sessions(signal.SIGINT)

    def test_sigterm_without_sessions(self):
        instance = self.start()
        started = time.monotonic()
        instance.signal(signal.SIGTERM)
        self.assertEqual(instance.wait(10), 0, instance.log_text())
        self.assertLess(time.monotonic() - started, 5)
        self.assertIsNotNone(instance.wait_event("shutting_down", 1, signal="SIGTERM"))


class TlsTest(AutoproxTest):
    """--tls-cert/--tls-key: wss:// and https:// with a self-signed certificate."""

    def make_certificate(self):
        scratch = tempfile.TemporaryDirectory(prefix="autoprox-tls-")
        self.addCleanup(scratch.cleanup)
        cert = os.path.join(scratch.name, "cert.pem")
        key = os.path.join(scratch.name, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert],
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        return cert, key

    def test_wss_and_https(self):
        cert, key = self.make_certificate()
        instance = self.start("--tls-cert", cert, "--tls-key", key)
        context = ssl.create_default_context(cafile=cert)

        async def body():
            url = instance.url(harness.free_udp_port()).replace("ws://", "wss://", 1)
            ws = await harness.connect(url, ssl=context)
            seen, _, _ = await harness.statuses_until(ws, "UDP_WAITING")
            self.assertEqual(seen, ["CONNECTED", "UDP_WAITING"])
            await ws.close()
        self.run_async(body())

        connection = http.client.HTTPSConnection(HOST, instance.ws_port, context=context,
                                                 timeout=harness.FRAME_S)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            self.assertEqual(response.status, 200)
            self.assertEqual(json.loads(response.read())["status"], "ok")
        finally:
            connection.close()
        self.assertEqual(self.get_https_info(instance, context)["scheme"], "wss")

        # A client that does not trust the certificate cannot connect.
        async def untrusted():
            with self.assertRaises(ssl.SSLCertVerificationError):
                await harness.connect(instance.url(9000).replace("ws://", "wss://", 1),
                                      ssl=ssl.create_default_context())
        self.run_async(untrusted())

    def get_https_info(self, instance, context):
        connection = http.client.HTTPSConnection(HOST, instance.ws_port, context=context,
                                                 timeout=harness.FRAME_S)
        try:
            connection.request("GET", "/v0/ws/info")
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()

    def test_bad_certificate_path(self):
        _, key = self.make_certificate()
        missing = os.path.join(os.path.dirname(key), "no-such-cert.pem")
        result = subprocess.run(
            [harness.AUTOPROX, "--port", "0", "--srmudp-bind", HOST, "--log-format", "json",
             "--log-level", "debug", "--tls-cert", missing, "--tls-key", key],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
            preexec_fn=harness._die_with_parent)
        stderr = result.stderr.decode(errors="replace")
        ALL_LOGS.append(stderr)
        self.assertEqual(result.returncode, 1, stderr)
        self.assertIn(missing, stderr)
        self.assertIn("certificate", stderr)
        self.assertNotIn('"event":"listening"', stderr)


def check_all_logs():
    """The key and the token in no log line of the whole run; returns True if so."""
    text = "\n".join(ALL_LOGS)
    found = [form for secret in (KEY, TOKEN) for form in harness.secret_forms(secret)
             if form in text]
    lines = text.count("\n") + bool(text)
    print(f"key check over the whole run: {len(ALL_LOGS)} autoprox logs, {lines} lines at "
          f"--log-level debug: " + (f"FOUND {found}" if found else "no key, no token"),
          file=sys.stderr)
    return not found


if __name__ == "__main__":
    harness.main(after=check_all_logs)
