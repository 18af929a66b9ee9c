"""autoprox with a real browser as its WebSocket client: headless Chromium (Debian's `chromium`)
loads a page from a local HTTP server, and the page's own JavaScript talks through autoprox A
and srmudp to a Python client on autoprox B. A second case shows that a page from an origin
autoprox was not told to allow gets no session.

The browser is driven over the DevTools protocol (a WebSocket, python3-websockets). It is
started so that it reaches nothing but 127.0.0.1: background services off, and every host name
except 127.0.0.1 unresolvable. As root the whole script also runs in a network namespace of its
own that has nothing but a loopback interface (`unshare --net`; the kernel removes it when the
script exits), so nothing the browser tries can leave the machine. Without chromium the tests
are skipped and say so.
"""

import asyncio
import base64
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import (HOST, SecretCheckedTest, connect, next_frame, statuses_until,
                     text_frame)

CHROMIUM = shutil.which("chromium")
# Deadlines: generous for a machine busy with sanitizer builds; a passing run waits for none.
BROWSER_START_S = 30
PAGE_S = 30

# The page: one function per case, each returns a plain object for the test to check.
PAGE = """<!doctype html>
<meta charset="utf-8">
<title>srmudp bridge test page</title>
<script>
// Opens the bridge, waits for UDP_ESTABLISHED, sends a text and a binary message, and collects
// `expect` data frames from the peer.
async function talk(url, text, expect) {
  const ws = new WebSocket(url);
  const statuses = [], received = [], errors = [];
  let established, done;
  const ready = new Promise(r => established = r);
  const finished = new Promise(r => done = r);
  ws.onmessage = e => {
    const f = JSON.parse(e.data);
    if (f.type === "status" && !("stats" in f)) {
      statuses.push(f.status);
      if (f.status === "UDP_ESTABLISHED" || f.status === "ERROR") established();
    } else if (f.type === "data") {
      received.push({format: f.format, data: f.data});
      if (received.length === expect) done();
    } else if (f.type === "error") {
      errors.push(f.message);
    }
  };
  ws.onclose = () => { established(); done(); };
  await ready;
  if (statuses[statuses.length - 1] !== "UDP_ESTABLISHED") return {statuses, received, errors};
  ws.send(JSON.stringify({type: "data", format: "text", data: text}));
  ws.send(new Uint8Array([...Array(256).keys()]).buffer);  // a raw binary frame
  await finished;
  ws.close(1000);
  return {statuses, received, errors};
}

// Tries to open the bridge; reports whether it opened and how it closed.
async function try_open(url) {
  const ws = new WebSocket(url);
  return await new Promise(resolve => {
    let opened = false;
    ws.onopen = () => { opened = true; ws.close(1000); };
    ws.onclose = e => resolve({opened, code: e.code});
  });
}
</script>
"""


class PageServer:
    """PAGE over HTTP on 127.0.0.1, from a thread; origin is what the browser sends."""

    def __init__(self):
        body = PAGE.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.origin = f"http://{HOST}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """Headless Chromium with the DevTools protocol on a local port."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="srmudp-chromium-")
        args = [
            CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
            # Nothing but 127.0.0.1: no background services, no other host name resolves.
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-domain-reliability", "--disable-client-side-phishing-detection",
            "--disable-default-apps", "--disable-breakpad", "--no-pings", "--no-proxy-server",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "about:blank",
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + BROWSER_START_S
        lines = []
        while time.monotonic() < deadline and len(lines) < 2:
            if self.process.poll() is not None:
                raise AssertionError(f"chromium exited with {self.process.returncode}")
            if os.path.exists(port_file):
                with open(port_file) as f:
                    lines = f.read().split()
            time.sleep(0.05)
        if len(lines) < 2:
            self.kill()
            raise AssertionError(f"chromium gave no DevTools port within {BROWSER_START_S} s")
        self.url = f"ws://127.0.0.1:{lines[0]}{lines[1]}"

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


class DevTools:
    """One DevTools connection with a page attached; evaluate() runs JavaScript in it."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.session = None

    async def call(self, method, timeout, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        await self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no answer to {method} within {timeout} s")
            reply = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]

    async def open_page(self, url):
        target = await self.call("Target.createTarget", PAGE_S, url=url)
        attached = await self.call("Target.attachToTarget", PAGE_S, targetId=target["targetId"],
                                   flatten=True)
        self.session = attached["sessionId"]
        # The page's functions exist once it has loaded.
        deadline = time.monotonic() + PAGE_S
        while not await self.evaluate("typeof talk === 'function'", 5):
            if time.monotonic() > deadline:
                raise AssertionError("the test page did not load")
            await asyncio.sleep(0.05)

    async def evaluate(self, expression, timeout):
        result = await self.call("Runtime.evaluate", timeout, expression=expression,
                                 awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"the page threw: {result['exceptionDetails']}")
        return result["result"].get("value")


@unittest.skipIf(CHROMIUM is None, "chromium is not installed (apt-get install chromium)")
class BrowserClient(SecretCheckedTest):
    def setUp(self):
        self.page = PageServer()
        self.addCleanup(self.page.close)
        self.browser = Browser()
        self.addCleanup(self.browser.kill)

    async def devtools(self):
        ws = await connect(self.browser.url)
        tools = DevTools(ws)
        await tools.open_page(self.page.origin + "/")
        return ws, tools

    @unittest.skipUnless(os.environ.get("SRMUDP_BROWSER_NETNS"), "not in a private namespace")
    def test_the_namespace_has_nothing_but_loopback(self):
        with open("/proc/net/dev") as devices:
            names = [line.split(":")[0].strip() for line in devices.readlines()[2:]]
        self.assertEqual(names, ["lo"])

    def test_a_page_talks_to_a_python_client_through_two_proxies(self):
        pair = self.pair(args_a=("--allow-origin", self.page.origin))
        text = "grüße aus dem Browser 🌍"

        async def scenario():
            ws, tools = await self.devtools()
            url = pair.a.url(pair.b.udp_port)
            call = f"talk({json.dumps(url)}, {json.dumps(text)}, 2)"
            browser = asyncio.ensure_future(tools.evaluate(call, harness.ESTABLISH_S + 30))
            python = await connect(pair.b.url(pair.a.udp_port))
            seq, _, others = await statuses_until(python, "UDP_ESTABLISHED")
            self.assertEqual(seq, ["CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"])
            got = others + [await next_frame(python) for _ in range(2 - len(others))]
            self.assertEqual([(f["type"], f["format"]) for f in got],
                             [("data", "text"), ("data", "binary")])
            self.assertEqual(got[0]["data"], text)
            self.assertEqual(base64.b64decode(got[1]["data"]), bytes(range(256)))
            await python.send(text_frame("answer from python"))
            await python.send(b"\x00\x01\xfe\xff")
            result = await browser
            self.assertEqual(result["statuses"], ["CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"])
            self.assertEqual(result["errors"], [])
            self.assertEqual(result["received"], [
                {"format": "text", "data": "answer from python"},
                {"format": "binary", "data": base64.b64encode(b"\x00\x01\xfe\xff").decode()},
            ])
            await python.close()
            await ws.close()
        self.run_async(scenario())

    def test_a_page_from_an_origin_not_allowed_gets_no_session(self):
        autoprox = self.start()  # no --allow-origin: pages are refused
        target = harness.free_udp_port()

        async def scenario():
            ws, tools = await self.devtools()
            result = await tools.evaluate(f"try_open({json.dumps(autoprox.url(target))})", 30)
            self.assertFalse(result["opened"])
            self.assertEqual(result["code"], 1006)  # the upgrade was refused: no close frame
            await ws.close()
        self.run_async(scenario())
        status, _, body = harness.http_get(autoprox.ws_port, "/v0/ws/connections")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["sessions"], [])
        refusal = autoprox.wait_event("request_refused", 5, http_status=403)
        self.assertIsNotNone(refusal, "autoprox logged no refusal")
        self.assertIn(f"origin {self.page.origin} is not allowed", json.dumps(refusal))


def isolate():
    """As root: re-runs this script in a new network namespace with only loopback, up."""
    if os.environ.get("SRMUDP_BROWSER_NETNS") or os.geteuid() != 0 or not shutil.which("unshare"):
        return
    os.environ["SRMUDP_BROWSER_NETNS"] = "1"
    script = 'ip link set lo up && exec "$0" "$@"'
    os.execvp("unshare", ["unshare", "--net", "sh", "-c", script, sys.executable,
                          os.path.abspath(__file__), *sys.argv[1:]])


if __name__ == "__main__":
    isolate()
    if not os.environ.get("SRMUDP_BROWSER_NETNS"):
        print("autoprox browser: not root, so no private network namespace; the browser's own "
              "flags keep it on 127.0.0.1")
    harness.main(label="autoprox browser")
