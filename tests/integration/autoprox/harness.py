"""Shared by the autoprox end-to-end tests: autoprox as a child process, WebSocket and HTTP
helpers with a deadline on every wait, and a pair of autoprox instances whose clients talk to
each other through srmudp on 127.0.0.1.

Needs python3-websockets (Debian's package; its dist-packages directory is tried when the
running interpreter does not have it). Every process is killed on every exit path: the tests
register kill() with addCleanup, and autoprox also dies with its parent (PR_SET_PDEATHSIG).
"""

import argparse
import asyncio
import base64
import ctypes
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
try:
    import websockets
except ImportError:  # a non-Debian interpreter (e.g. pyenv) first on PATH
    sys.path.append("/usr/lib/python3/dist-packages")
    import websockets

HOST = "127.0.0.1"
KEY = "autoprox e2e key 5Tq"
# Deadlines: generous for a Debug + sanitizer build on a shared 2-core machine; a passing run
# never waits for them.
READY_S = 30
FRAME_S = 20
ESTABLISH_S = 30

AUTOPROX = None  # path of the binary, set by each test script's main()
RELAY = None     # path of srmudp-impair-relay, where a test needs it


def _die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Autoprox:
    """One autoprox process with JSON logs on stderr, which a thread collects."""

    def __init__(self, *args, env=None):
        argv = [AUTOPROX, "--port", "0", "--srmudp-bind", "127.0.0.1", "--log-format", "json",
                "--log-level", "debug", *args]
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=full_env,
                                        preexec_fn=_die_with_parent)
        self.lines = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        ready = self.wait_event("listening", READY_S)
        if ready is None:
            self.kill()
            raise AssertionError("autoprox did not get ready:\n" + self.log_text())
        self.ws_port = int(ready["websocket"].rsplit(":", 1)[1].split("/")[0])
        self.udp_port = int(ready["srmudp"].rsplit(":", 1)[1])

    def _read(self):
        for raw in self.process.stderr:
            with self._lock:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def events(self):
        with self._lock:
            lines = list(self.lines)
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"event": "unparsed", "msg": line})
        return out

    def wait_event(self, name, timeout, **fields):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if event.get("event") == name and all(event.get(k) == v
                                                      for k, v in fields.items()):
                    return event
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        return None

    def log_text(self):
        with self._lock:
            return "\n".join(self.lines[-40:])

    def all_log_text(self):
        with self._lock:
            return "\n".join(self.lines)

    def url(self, remote_port, key=KEY, remote_host=HOST, **params):
        query = {"remote_host": remote_host, "remote_port": remote_port}
        if key is not None:
            query["encryption_key"] = key
        query.update(params)
        return f"ws://{HOST}:{self.ws_port}/v0/ws/proxy?" + urllib.parse.urlencode(query)

    def signal(self, signum):
        self.process.send_signal(signum)

    def wait(self, timeout):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        self.process.stdout.close()
        self.process.stderr.close()


def http_get(port, path, headers=None, method="GET", timeout=FRAME_S):
    """(status, headers dict with lower-case names, body text) of one plain HTTP request."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def http_upgrade(port, resource, headers=None):
    """A WebSocket upgrade request by hand: (status, body) of the answer."""
    all_headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}
    all_headers.update(headers or {})
    status, _, body = http_get(port, resource, all_headers)
    return status, body


async def connect(url, **kwargs):
    kwargs.setdefault("max_size", None)
    kwargs.setdefault("open_timeout", READY_S)
    return await websockets.connect(url, **kwargs)


async def next_frame(ws, timeout=FRAME_S, skip_stats=True):
    """The next JSON frame, skipping regular status frames (those with "stats")."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no frame within %.0f s" % timeout)
        raw = await asyncio.wait_for(ws.recv(), left)
        frame = json.loads(raw)
        if skip_stats and frame.get("type") == "status" and "stats" in frame:
            continue
        return frame


async def statuses_until(ws, final, timeout=ESTABLISH_S):
    """Status names up to and including `final` (or ERROR); other frames are kept aside."""
    seen, others = [], []
    deadline = time.monotonic() + timeout
    while True:
        frame = await next_frame(ws, max(0.1, deadline - time.monotonic()))
        if frame["type"] != "status":
            others.append(frame)
            continue
        seen.append(frame["status"])
        if frame["status"] in (final, "ERROR"):
            return seen, frame, others


async def wait_closed(ws, timeout=FRAME_S):
    """Reads until the server closes; returns (close code, reason, frames read meanwhile)."""
    frames = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the WebSocket was not closed within %.0f s" % timeout)
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
    except websockets.exceptions.ConnectionClosed as closed:
        return closed.code, closed.reason, frames


def text_frame(text, id=None):
    frame = {"type": "data", "format": "text", "data": text}
    if id is not None:
        frame["id"] = id
    return json.dumps(frame)


def binary_frame(data, id=None):
    frame = {"type": "data", "format": "binary", "data": base64.b64encode(data).decode()}
    if id is not None:
        frame["id"] = id
    return json.dumps(frame)


def payload_of(frame):
    """The message of a data frame: str for text, bytes for binary."""
    if frame["format"] == "text":
        return frame["data"]
    return base64.b64decode(frame["data"])


class Pair:
    """Two autoprox instances, A and B; open() gives two clients talking to each other."""

    def __init__(self, test, args_a=(), args_b=(), env=None):
        self.a = Autoprox(*args_a, env=env)
        test.addCleanup(self.a.kill)
        self.b = Autoprox(*args_b, env=env)
        test.addCleanup(self.b.kill)
        self.last_a = self.last_b = None  # the UDP_ESTABLISHED (or ERROR) frames of open()

    async def open(self, key_b=KEY, params_a=None, params_b=None, remote_a=None, remote_b=None):
        """Clients on A and B (A names B's UDP port and B names A's, unless given); returns them
        once both said UDP_ESTABLISHED, with their status sequences."""
        ws_a = await connect(self.a.url(remote_a or self.b.udp_port, **(params_a or {})))
        ws_b = await connect(self.b.url(remote_b or self.a.udp_port, key=key_b,
                                        **(params_b or {})))
        (seq_a, self.last_a, _), (seq_b, self.last_b, _) = await asyncio.gather(
            statuses_until(ws_a, "UDP_ESTABLISHED"), statuses_until(ws_b, "UDP_ESTABLISHED"))
        return ws_a, ws_b, seq_a, seq_b


def run(coroutine):
    return asyncio.run(coroutine)


def read_line(stream, timeout):
    """One line from a child's pipe, stripped: what came before the deadline or end of file if
    no whole line did."""
    deadline, data = time.monotonic() + timeout, b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            break
        chunk = os.read(stream.fileno(), 1)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def secret_forms(secret):
    """The ways a secret could show up: as is and URL-encoded (Autoprox.url uses urlencode)."""
    return {secret, urllib.parse.quote_plus(secret), urllib.parse.quote(secret, safe="")}


def free_udp_port():
    """A UDP port on 127.0.0.1 nobody listens on (chosen by the kernel, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class SecretCheckedTest(unittest.TestCase):
    """Starts autoprox instances whose whole logs are checked for self.secrets once they are
    gone (the default: the harness's KEY)."""

    secrets = (KEY,)
    test_seconds = 90  # one test's async part, end to end

    def start(self, *args):
        instance = Autoprox(*args)
        self.addCleanup(self.check_log, instance)
        self.addCleanup(instance.kill)
        return instance

    def pair(self, args_a=(), args_b=()):
        pair = Pair(self, args_a, args_b)
        for instance in (pair.a, pair.b):
            self.addCleanup(self.check_log, instance)  # runs before the Pair's kill: kills first
        return pair

    def assert_no_secret(self, text, where):
        for secret in self.secrets:
            for form in secret_forms(secret):
                self.assertNotIn(form, text, f"a key or token appears in {where}")

    def check_log(self, instance):
        instance.kill()  # idempotent; the whole log is read once the process is gone
        text = instance.all_log_text()
        self.logged(text)
        self.assert_no_secret(text, "autoprox's log")

    def logged(self, text):
        """Each instance's whole log, once it is gone (for subclasses that keep them)."""

    def run_async(self, coroutine):
        return run(asyncio.wait_for(coroutine, self.test_seconds))


def main(relay_required=False, label=None, after=None):
    """A test script's entry point: --autoprox PATH [--relay PATH] [unittest options]. `after`
    (true if its own check passed) runs once the tests are done; `label` prints the run time."""
    global AUTOPROX, RELAY
    parser = argparse.ArgumentParser()
    parser.add_argument("--autoprox", required=True)
    parser.add_argument("--relay", required=relay_required)  # where a script needs it
    args, rest = parser.parse_known_args()
    AUTOPROX = os.path.abspath(args.autoprox)
    RELAY = os.path.abspath(args.relay) if args.relay else None
    started = time.monotonic()
    program = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False)
    ok = program.result.wasSuccessful()
    if after is not None:
        ok = after() and ok
    if label:
        print("%s: %.1f s" % (label, time.monotonic() - started))
    sys.exit(0 if ok else 1)
