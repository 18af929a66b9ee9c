#!/usr/bin/env python3
"""The embedding example (examples/embed): a websocketpp server with routes of its own that also
serves the bridge. Its own page and echo WebSocket keep working, and a bridge session reaches a
real srmudp peer (examples/echo, srmudp-echo) and back, with the srmudp endpoint supplied by the
host program and with the Hub's own.

    python3 test_embed.py --embed PATH/srmudp-embed-example --echo PATH/srmudp-echo

Only 127.0.0.1 is used; every process is killed on every exit path; every wait has a deadline.
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "autoprox"))
import harness  # noqa: E402
from harness import connect, http_get, next_frame, statuses_until, text_frame  # noqa: E402

EMBED = ECHO = None
KEY = "embed example key"


def start(argv):
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=harness._die_with_parent)


def stop(process):
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    process.stdout.close()
    process.stderr.close()


class EmbedExample(unittest.TestCase):
    def start_example(self, *args):
        process = start([EMBED, *args])
        self.addCleanup(stop, process)
        words = harness.read_line(process.stdout, harness.READY_S).split()
        self.assertEqual(len(words), 3, f"example said {words!r}")
        self.assertEqual(words[0], "ready")
        return process, int(words[1])

    def start_echo(self):
        port = harness.free_udp_port()
        process = start([ECHO, str(port), KEY])
        self.addCleanup(stop, process)
        return port

    def check(self, *args):
        process, ws_port = self.start_example(*args)
        echo_port = self.start_echo()
        status, _, body = http_get(ws_port, "/")
        self.assertEqual(status, 200)
        self.assertIn("own page", body)

        async def scenario():
            echo = await connect(f"ws://127.0.0.1:{ws_port}/echo")
            await echo.send("ping")
            self.assertEqual(await asyncio.wait_for(echo.recv(), harness.FRAME_S), "ping")
            await echo.close()
            url = (f"ws://127.0.0.1:{ws_port}/v0/ws/proxy?remote_host=127.0.0.1"
                   f"&remote_port={echo_port}")
            bridge = await connect(url, extra_headers={"X-Encryption-Key": KEY})
            seen, _, _ = await statuses_until(bridge, "UDP_ESTABLISHED")
            self.assertEqual(seen, ["CONNECTED", "UDP_WAITING", "UDP_ESTABLISHED"])
            await bridge.send(text_frame("through srmudp and back", id=1))
            frames = [await next_frame(bridge) for _ in range(2)]
            data = [f for f in frames if f["type"] == "data"]
            self.assertEqual([f["data"] for f in data], ["through srmudp and back"])
            self.assertIn({"type": "ack", "id": 1}, frames)
            await bridge.close()
        harness.run(scenario())
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=10), 0)

    def test_host_supplied_endpoint(self):
        self.check()

    def test_hub_owned_endpoint(self):
        self.check("--own-endpoint")

    def test_bad_bridge_request_is_refused_by_the_bridge_other_paths_by_the_host(self):
        _, ws_port = self.start_example()
        status, body = harness.http_upgrade(ws_port, "/v0/ws/proxy?remote_port=1")
        self.assertEqual(status, 400)
        self.assertIn("remote_host", body)
        status, _ = harness.http_upgrade(ws_port, "/elsewhere")
        self.assertNotEqual(status, 101)


def main():
    global EMBED, ECHO
    parser = argparse.ArgumentParser()
    parser.add_argument("--embed", required=True)
    parser.add_argument("--echo", required=True)
    args, rest = parser.parse_known_args()
    EMBED, ECHO = os.path.abspath(args.embed), os.path.abspath(args.echo)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
