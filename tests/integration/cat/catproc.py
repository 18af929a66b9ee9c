"""Child processes for the srmudp-cat integration tests (Python 3 stdlib only).

    cat = Process([CAT, "--key", "k", "--listen", "--bind", "127.0.0.1"], "listener")
    port = cat.wait_local_port()
    ...
    cat.close_stdin(); self.assertEqual(cat.wait(10), 0, cat.describe())

Every process is killed on every exit path: Process.kill (register it with addCleanup), an atexit
hook and a SIGTERM/SIGINT handler kill whatever is still running, and PR_SET_PDEATHSIG makes the
kernel kill a child whose test process died without running any of them (SIGKILL, a CTest
timeout). Every wait takes a deadline; nothing waits forever.
"""

import atexit
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
KILL_WAIT_S = 5.0
_live = set()
_live_lock = threading.Lock()


def _die_with_parent():
    """Runs in the child between fork and exec: the kernel sends SIGKILL when we die."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def kill_all():
    with _live_lock:
        processes = list(_live)
    for process in processes:
        process.kill()


def _on_signal(signum, frame):
    kill_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(kill_all)
for _signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_signum, _on_signal)


def free_udp_port(host="127.0.0.1"):
    """A UDP port nobody holds right now (the kernel's pick; released before returning)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class Process:
    """A child with stdin, stdout and stderr piped; stdout and stderr are collected by threads.

    popen: how to start it (subprocess.Popen, or a natlab Host.popen).
    """

    def __init__(self, argv, name, env=None, popen=subprocess.Popen):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.started = time.monotonic()
        self._cond = threading.Condition()
        self._stdout = bytearray()
        self._newlines = 0
        self._stderr = []  # (seconds since start, line without the newline)
        self._threads = []
        self.proc = popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, bufsize=0,
                          preexec_fn=_die_with_parent)
        with _live_lock:
            _live.add(self)
        self._spawn(self._read_stdout)
        self._spawn(self._read_stderr)

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _read_stdout(self):
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            with self._cond:
                self._stdout += chunk
                self._newlines += chunk.count(b"\n")
                self._cond.notify_all()

    def _read_stderr(self):
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if os.environ.get("CATTEST_VERBOSE"):
                sys.stderr.write("  [%s %.2f] %s\n" % (self.name, self.elapsed(), line))
            with self._cond:
                self._stderr.append((self.elapsed(), line))
                self._cond.notify_all()

    def elapsed(self):
        return time.monotonic() - self.started

    # -- stdin --

    def write(self, data):
        """Writes bytes (or str, as UTF-8) to stdin; False when the process no longer reads."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):
            return False

    def feed(self, chunks, close=False):
        """Writes an iterable of byte strings from a thread (so a full pipe cannot stall the
        test), then closes stdin if asked. Returns the thread."""
        def run():
            for chunk in chunks:
                if not self.write(chunk):
                    return
            if close:
                self.close_stdin()
        self._spawn(run)
        return self._threads[-1]

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    # -- output --

    def stdout(self):
        with self._cond:
            return bytes(self._stdout)

    def newlines(self):
        with self._cond:
            return self._newlines

    def stderr_lines(self):
        with self._cond:
            return [line for _, line in self._stderr]

    def wait_stdout(self, predicate, timeout):
        """Waits until predicate(stdout bytes, newline count) holds; returns whether it did
        (False at the deadline or once stdout has ended without it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self._stdout, self._newlines):
                left = deadline - time.monotonic()
                if left <= 0 or not self._threads[0].is_alive():
                    return False
                self._cond.wait(min(left, 0.5))
            return True

    def wait_lines(self, count, timeout):
        """Waits until stdout holds at least count newlines."""
        return self.wait_stdout(lambda _, n: n >= count, timeout)

    def wait_stderr(self, pattern, timeout, after=0):
        """Waits for a stderr line (from line index `after` on) matching the regex; returns
        (index, seconds since start, match) or None at the deadline or when stderr ended."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for index in range(after, len(self._stderr)):
                    match = regex.search(self._stderr[index][1])
                    if match:
                        return index, self._stderr[index][0], match
                after = len(self._stderr)
                left = deadline - time.monotonic()
                if left <= 0 or not self._threads[1].is_alive():
                    return None
                self._cond.wait(min(left, 0.5))

    def wait_local_port(self, timeout=10):
        """The port from srmudp-cat's "local address HOST:PORT" status line."""
        found = self.wait_stderr(r"local address .*:(\d+)$", timeout)
        if found is None:
            raise AssertionError("%s printed no local address\n%s" % (self.name, self.describe()))
        return int(found[2].group(1))

    # -- lifetime --

    def wait(self, timeout):
        """The exit status, or None if the process still ran at the deadline (it is then
        killed, so the caller never leaks it)."""
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        self._join()
        return status

    def kill(self):
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(KILL_WAIT_S)
            except subprocess.TimeoutExpired:
                pass
        self.close_stdin()
        self._join()
        with _live_lock:
            _live.discard(self)

    def _join(self):
        readers = self._threads[:2]
        for thread in readers:
            thread.join(KILL_WAIT_S)
        if not any(thread.is_alive() for thread in readers):
            self.proc.stdout.close()
            self.proc.stderr.close()

    def describe(self, lines=25):
        """Name, status and the tail of stderr, for assertion messages."""
        with self._cond:
            tail = self._stderr[-lines:]
        return "--- %s (exit %s) stderr:\n%s" % (
            self.name, self.proc.poll(),
            "\n".join("  %.2f %s" % (t, line) for t, line in tail))


class Relay(Process):
    """srmudp-impair-relay between side A (which sends to .listen) and side B (target)."""

    def __init__(self, relay, target, options, name="relay"):
        super().__init__([relay, "--listen", "127.0.0.1:0", "--target", target] + list(options),
                         name)
        if not self.wait_lines(1, 10):
            self.kill()
            raise AssertionError("relay not ready\n" + self.describe())
        words = self.stdout().split(b"\n", 1)[0].decode().split()
        if not words or words[0] != "ready":
            self.kill()
            raise AssertionError("relay said %r" % words)
        fields = dict(word.split("=", 1) for word in words[1:])
        self.listen, self.forward = fields["listen"], fields["forward"]

    def command(self, line, timeout=5):
        """Sends one control line and returns the relay's answer lines up to "ok"/"error"."""
        before = self.newlines()
        self.write(line + "\n")

        def answered(out, n):
            return n > before and out.split(b"\n")[n - 1].split(b" ")[0] in (b"ok", b"error")
        if not self.wait_stdout(answered, timeout):
            raise AssertionError("relay did not answer %r\n%s" % (line, self.describe()))
        return self.stdout().split(b"\n")[before:self.newlines()]
