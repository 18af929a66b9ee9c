#!/usr/bin/env python3
"""Proves the NAT lab with plain UDP: STUN through EIM and symmetric NATs, hole punching, cleanup.

Run as root: python3 test_natlab.py. Exit 0 when everything passes, 77 (CTest SKIP_RETURN_CODE)
when this machine cannot build a lab; the reason is printed either way.
"""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import natlab  # noqa: E402
import udpprobe  # noqa: E402

AVAILABLE, REASON = natlab.available()
HAVE_TURNSERVER = shutil.which("turnserver") is not None
needs_lab = unittest.skipUnless(AVAILABLE, "NAT lab not available: %s" % REASON)
needs_stun = unittest.skipUnless(AVAILABLE and HAVE_TURNSERVER,
                                 "NAT lab with coturn not available: %s" %
                                 (REASON or "turnserver not found (coturn package)"))
SKIP_RETURN_CODE = 77

STUN_A = "198.18.0.10"
STUN_B = "198.18.0.11"
NAT_A = "198.18.0.21"
NAT_B = "198.18.0.22"
# Hole punching that works finishes in well under a second; a failure waits this long.
PUNCH_FAIL_TIMEOUT_S = 3.0
PUNCH_OK_TIMEOUT_S = 5.0


def hexbytes(text):
    return bytes.fromhex("".join(text.split()))


# RFC 5769 section 2.2 "Sample IPv4 Response": SOFTWARE (11 bytes, padded), XOR-MAPPED-ADDRESS
# 192.0.2.1:32853, MESSAGE-INTEGRITY, FINGERPRINT.
RFC5769_TRANSACTION = hexbytes("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae")
RFC5769_IPV4_RESPONSE = hexbytes("""
    01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 08 00 01 a1 47 e1 12 a6 43
    00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
    80 28 00 04 c0 7d 4c 96""")
# RFC 5769 section 2.3 "Sample IPv6 Response": the same with an IPv6 XOR-MAPPED-ADDRESS.
RFC5769_IPV6_RESPONSE = hexbytes("""
    01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
    00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
    80 28 00 04 c8 fb 0b 4c""")


class StunCodecTest(unittest.TestCase):
    """The probe's own STUN encoder/decoder, without a lab."""

    def test_binding_request_is_the_20_byte_rfc5389_header(self):
        request = udpprobe.encode_binding_request(RFC5769_TRANSACTION)
        self.assertEqual(request, hexbytes("00 01 00 00 21 12 a4 42") + RFC5769_TRANSACTION)
        with self.assertRaises(ValueError):
            udpprobe.encode_binding_request(b"\x00" * 11)

    def test_rfc5769_ipv4_response_decodes_past_a_padded_attribute(self):
        self.assertEqual(
            udpprobe.decode_binding_response(RFC5769_IPV4_RESPONSE, RFC5769_TRANSACTION),
            ("192.0.2.1", 32853))

    def test_ipv6_mapping_and_other_transactions_are_rejected(self):
        decode = udpprobe.decode_binding_response
        self.assertIsNone(decode(RFC5769_IPV6_RESPONSE, RFC5769_TRANSACTION))
        self.assertIsNone(decode(RFC5769_IPV4_RESPONSE, b"\x00" * 12))

    def test_every_truncation_is_rejected(self):
        for length in range(len(RFC5769_IPV4_RESPONSE)):
            with self.subTest(length=length):
                self.assertIsNone(udpprobe.decode_binding_response(
                    RFC5769_IPV4_RESPONSE[:length], RFC5769_TRANSACTION))

    def test_malformed_headers_and_attributes_are_rejected(self):
        good = bytearray(RFC5769_IPV4_RESPONSE)
        cases = {
            "error response class": (0, b"\x01\x11"),
            "binding request": (0, b"\x00\x01"),
            "wrong magic cookie": (4, b"\x21\x12\xa4\x43"),
            "length not a multiple of 4": (2, b"\x00\x3d"),
            "length beyond the datagram": (2, b"\x00\x40"),
            "attribute running past the end": (22, b"\xff\xf0"),
            "xor-mapped-address of 7 bytes": (38, b"\x00\x07"),
        }
        for name, (offset, patch) in cases.items():
            with self.subTest(name):
                bad = bytearray(good)
                bad[offset:offset + len(patch)] = patch
                self.assertIsNone(udpprobe.decode_binding_response(bytes(bad),
                                                                   RFC5769_TRANSACTION))

    def test_response_without_xor_mapped_address_yields_nothing(self):
        header = hexbytes("01 01 00 10 21 12 a4 42") + RFC5769_TRANSACTION
        software_only = header + hexbytes("80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20")
        self.assertIsNone(udpprobe.decode_binding_response(software_only, RFC5769_TRANSACTION))

    def test_endpoint_parsing(self):
        self.assertEqual(udpprobe.parse_endpoint("198.18.0.1:3478\n"), ("198.18.0.1", 3478))
        for bad in ("198.18.0.1", "198.18.0.1:0", "198.18.0.1:65536", "host:1", ":1"):
            with self.subTest(bad):
                with self.assertRaises((ValueError, OSError)):
                    udpprobe.parse_endpoint(bad)


# --- helpers driving udpprobe inside lab hosts --------------------------------------------------

def probe(*args):
    """argv running udpprobe.py with args (for Host.run / Host.popen)."""
    return [sys.executable, udpprobe.__file__] + list(args)


def stun_mappings(testcase, host, servers, local_port):
    """{server: (ip, port)} as seen by each STUN server, all from one socket on local_port."""
    argv = probe("stun", "--local-port", str(local_port))
    for server in servers:
        argv += ["--server", "%s:%d" % server]
    done = host.run(argv, capture_output=True, text=True)
    testcase.assertEqual(done.returncode, 0, done.stdout + done.stderr)
    mapped = {}
    for line in done.stdout.splitlines():
        words = line.split()
        if words[0] == "MAPPED":
            mapped[udpprobe.parse_endpoint(words[1])] = udpprobe.parse_endpoint(words[2])
    testcase.assertEqual(set(mapped), set(servers), done.stdout)
    return mapped


# A listener that must not get anything is stopped this long after the last datagram was sent
# (time for the kernel to pass it through the lab), not after a fixed time: on a busy machine
# starting the senders alone can take longer than any fixed listening time.
SETTLE_S = 0.3
LISTEN_BOUND_S = 60


def start_listener(testcase, host, port):
    """A udpprobe listener on host:port that waits until the caller ends it (stop_listener)."""
    listener = host.popen(probe("listen", "--local-port", str(port), "--timeout",
                                str(LISTEN_BOUND_S), "--until-stdin-ends"),
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    expect_line(testcase, listener, "LISTENING")
    return listener


def stop_listener(listener):
    """The words of what a listener saw, once everything sent to it had time to arrive."""
    return listener.communicate(input="", timeout=10)[0].split()


def expect_line(testcase, process, keyword):
    """The words of the next stdout line of process, which must start with keyword."""
    line = process.stdout.readline()
    if not line.startswith(keyword + " "):
        stderr = process.stderr.read() if process.stderr and process.poll() is not None else ""
        testcase.fail("expected %s, got %r %s" % (keyword, line, stderr))
    return line.split()


def hole_punch(testcase, host_a, host_b, stun, timeout):
    """Both hosts learn their public address from stun, swap it, and punch. Returns
    {"a"/"b": (public endpoint, result words)} where result is RECEIVED ... or TIMEOUT."""
    processes = {}
    for label, host, port in (("a", host_a, 40001), ("b", host_b, 40002)):
        processes[label] = host.popen(
            probe("punch", "--stun", "%s:%d" % stun, "--local-port", str(port),
                  "--label", label, "--timeout", str(timeout)),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    public = {label: udpprobe.parse_endpoint(expect_line(testcase, p, "PUBLIC")[1])
              for label, p in processes.items()}
    for label, other in (("a", "b"), ("b", "a")):
        processes[label].stdin.write("PEER %s\n" % udpprobe.format_endpoint(public[other]))
        processes[label].stdin.flush()
    results = {}
    for label, process in processes.items():
        out, err = process.communicate(timeout=timeout + 10)
        words = out.split()
        testcase.assertIn(words[:1], (["RECEIVED"], ["TIMEOUT"]), out + err)
        results[label] = (public[label], words)
    return results


def lab_namespaces(tag):
    """The namespaces of the lab with this tag that still exist."""
    return [name for name in natlab.list_netns() if name.startswith("sl%s-" % tag)]


# --- lab tests ----------------------------------------------------------------------------------

class LabTestCase(unittest.TestCase):
    def setUp(self):
        self.lab = natlab.Lab().__enter__()
        self.addCleanup(self.lab.close)

    def two_stun_servers(self):
        servers = []
        for name, ip in (("stuna", STUN_A), ("stunb", STUN_B)):
            servers.append(self.lab.start_stun(self.lab.add_public_host(name, ip)))
        return servers


@needs_stun
class EimNatTest(LabTestCase):
    def test_stun_from_behind_eim_nat_maps_to_public_ip_and_same_port(self):
        servers = self.two_stun_servers()
        alice = self.lab.add_nat("nata", NAT_A, "eim").add_host("alice")
        self.assertEqual(alice.ip, "10.1.0.10")
        mapped = stun_mappings(self, alice, servers, 40123)
        # Port preserving, and one mapping for every destination.
        self.assertEqual(mapped[servers[0]], (NAT_A, 40123))
        self.assertEqual(mapped[servers[1]], (NAT_A, 40123))

    def test_public_host_sees_its_own_address(self):
        server = self.lab.start_stun(self.lab.add_public_host("stuna", STUN_A))
        bob = self.lab.add_public_host("bob", "198.18.0.50")
        self.assertEqual(stun_mappings(self, bob, [server], 40200)[server], ("198.18.0.50", 40200))

    def test_hole_punch_between_two_eim_nats(self):
        server = self.lab.start_stun(self.lab.add_public_host("stuna", STUN_A))
        alice = self.lab.add_nat("nata", NAT_A, "eim").add_host("alice")
        bob = self.lab.add_nat("natb", NAT_B, "eim").add_host("bob")
        self.assertEqual(bob.ip, "10.2.0.10")
        results = hole_punch(self, alice, bob, server, PUNCH_OK_TIMEOUT_S)
        (public_a, got_a), (public_b, got_b) = results["a"], results["b"]
        self.assertEqual(public_a, (NAT_A, 40001))
        self.assertEqual(public_b, (NAT_B, 40002))
        self.assertEqual(got_a, ["RECEIVED", "%s:%d" % public_b, "b"])
        self.assertEqual(got_b, ["RECEIVED", "%s:%d" % public_a, "a"])

    def test_unsolicited_inbound_datagram_is_dropped_and_does_not_move_the_mapping(self):
        alice = self.lab.add_nat("nata", NAT_A, "eim").add_host("alice")
        mallory = self.lab.add_public_host("mallory", STUN_A)
        listener = start_listener(self, alice, 40001)
        # Sent from the port the STUN server will use, to the port alice's mapping will want.
        sent = mallory.run(probe("send", "--to", "%s:40001" % NAT_A, "--local-port",
                                 "3478", "--count", "3"), capture_output=True, text=True)
        self.assertEqual(sent.stdout.strip(), "SENT 3", sent.stderr)
        time.sleep(SETTLE_S)
        self.assertEqual(stop_listener(listener), ["TIMEOUT"])
        server = self.lab.start_stun(mallory)
        self.assertEqual(stun_mappings(self, alice, [server], 40001)[server], (NAT_A, 40001))

    def test_lab_has_no_route_out_and_leaves_host_forwarding_alone(self):
        with open("/proc/sys/net/ipv4/ip_forward") as sysctl:
            host_forwarding = sysctl.read()
        nat = self.lab.add_nat("nata", NAT_A, "eim")
        alice = nat.add_host("alice")
        for node in (nat, alice):
            with self.subTest(node.name):
                done = node.run(["ip", "route", "get", "192.0.2.1"], capture_output=True)
                if node is nat:
                    self.assertNotEqual(done.returncode, 0, "the NAT must have no default route")
                else:
                    self.assertIn(b"via 10.1.0.1 dev eth0", done.stdout)
        forwarding = nat.run(["sysctl", "-n", "net.ipv4.ip_forward"], capture_output=True)
        self.assertEqual(forwarding.stdout.strip(), b"1")
        with open("/proc/sys/net/ipv4/ip_forward") as sysctl:
            self.assertEqual(sysctl.read(), host_forwarding)

    def test_invalid_requests_are_refused_before_anything_is_built(self):
        with self.assertRaises(ValueError):
            self.lab.add_public_host("outside", "192.0.2.7")
        with self.assertRaises(ValueError):
            self.lab.add_public_host("bcast", "198.18.0.255")
        with self.assertRaises(ValueError):
            self.lab.add_nat("nata", NAT_A, "full-cone")
        self.lab.add_public_host("one", STUN_A)
        with self.assertRaises(ValueError):
            self.lab.add_public_host("two", STUN_A)
        with self.assertRaises(ValueError):
            self.lab.add_public_host("one", STUN_B)
        with self.assertRaises(ValueError):
            self.lab.add_public_host("Bad-Name", STUN_B)
        self.assertEqual(sorted(lab_namespaces(self.lab.tag)),
                         ["sl%s-one" % self.lab.tag, "sl%s-pub" % self.lab.tag])


@needs_stun
class SymmetricNatTest(LabTestCase):
    def test_each_destination_gets_its_own_mapped_port(self):
        servers = self.two_stun_servers()
        alice = self.lab.add_nat("nata", NAT_A, "symmetric").add_host("alice")
        mapped = stun_mappings(self, alice, servers, 40123)
        self.assertEqual(mapped[servers[0]][0], NAT_A)
        self.assertEqual(mapped[servers[1]][0], NAT_A)
        self.assertNotEqual(mapped[servers[0]][1], mapped[servers[1]][1])
        # The mapping is kept per destination: asking the same server again gives the same port.
        again = stun_mappings(self, alice, [servers[0], servers[0]], 40124)
        self.assertEqual(len(set(again.values())), 1)

    def test_hole_punch_between_two_symmetric_nats_fails(self):
        server = self.lab.start_stun(self.lab.add_public_host("stuna", STUN_A))
        alice = self.lab.add_nat("nata", NAT_A, "symmetric").add_host("alice")
        bob = self.lab.add_nat("natb", NAT_B, "symmetric").add_host("bob")
        results = hole_punch(self, alice, bob, server, PUNCH_FAIL_TIMEOUT_S)
        self.assertEqual(results["a"][1], ["TIMEOUT"])
        self.assertEqual(results["b"][1], ["TIMEOUT"])

    def test_hole_punch_eim_to_symmetric_is_reported(self):
        # Not a requirement: prints what Linux does with this pair.
        server = self.lab.start_stun(self.lab.add_public_host("stuna", STUN_A))
        alice = self.lab.add_nat("nata", NAT_A, "eim").add_host("alice")
        bob = self.lab.add_nat("natb", NAT_B, "symmetric").add_host("bob")
        results = hole_punch(self, alice, bob, server, PUNCH_FAIL_TIMEOUT_S)
        sys.stderr.write("\n  eim<->symmetric: eim side %s, symmetric side %s\n"
                         % (" ".join(results["a"][1]), " ".join(results["b"][1])))


@needs_stun
class FilteringTest(LabTestCase):
    """RFC 4787 section 5 filtering of the four NAT kinds, one host on port 40001 behind each."""

    KINDS = ("eim", "eim-addr", "eim-open", "symmetric")

    def reached(self, sender, hosts, local_port):
        """{kind: True/False}: did datagrams sent from sender:local_port to each NAT's public
        port 40001 reach the host listening on 40001 behind it? All kinds are probed at once."""
        listeners = {kind: start_listener(self, host, 40001)
                     for kind, (nat, host) in hosts.items()}
        for nat, _ in hosts.values():
            sent = sender.run(probe("send", "--to", "%s:40001" % nat.public_ip, "--local-port",
                                    str(local_port), "--count", "2"),
                              capture_output=True, text=True)
            self.assertEqual(sent.stdout.strip(), "SENT 2", sent.stderr)
        time.sleep(SETTLE_S)
        reached = {}
        for kind, listener in listeners.items():
            words = stop_listener(listener)
            if words[:1] == ["RECEIVED"]:
                self.assertEqual(words[1], "%s:%d" % (sender.ip, local_port), words)
            else:
                self.assertEqual(words, ["TIMEOUT"])
            reached[kind] = words[0] == "RECEIVED"
        return reached

    def test_only_the_filter_of_each_kind_lets_strangers_in_once_a_mapping_exists(self):
        stun_host = self.lab.add_public_host("stuna", STUN_A)
        server = self.lab.start_stun(stun_host)
        mallory = self.lab.add_public_host("mallory", "198.18.0.66")
        hosts = {}
        for index, kind in enumerate(self.KINDS):
            nat = self.lab.add_nat("nat%d" % index, "198.18.0.%d" % (21 + index), kind)
            hosts[kind] = (nat, nat.add_host("host%d" % index))
        # No mapping yet: nothing gets in, whatever the filter.
        self.assertEqual(self.reached(mallory, hosts, 5000), dict.fromkeys(self.KINDS, False))
        for kind, (nat, host) in hosts.items():
            mapped = stun_mappings(self, host, [server], 40001)[server]
            self.assertEqual(mapped[0], nat.public_ip)
            if kind != "symmetric":
                self.assertEqual(mapped[1], 40001, kind)  # the probes above claimed no port
        # The STUN server's address from another port: address-dependent filtering admits it.
        self.assertEqual(self.reached(stun_host, hosts, 3479),
                         {"eim": False, "eim-addr": True, "eim-open": True, "symmetric": False})
        # A host nobody behind the NATs ever sent to: only endpoint-independent filtering.
        self.assertEqual(self.reached(mallory, hosts, 5000),
                         {"eim": False, "eim-addr": False, "eim-open": True, "symmetric": False})
        # Letting them in moved no mapping.
        for kind in ("eim-addr", "eim-open"):
            nat, host = hosts[kind]
            self.assertEqual(stun_mappings(self, host, [server], 40001)[server],
                             (nat.public_ip, 40001), kind)

    def test_hole_punch_between_an_open_and_an_address_filtering_nat(self):
        server = self.lab.start_stun(self.lab.add_public_host("stuna", STUN_A))
        alice = self.lab.add_nat("nata", NAT_A, "eim-open").add_host("alice")
        bob = self.lab.add_nat("natb", NAT_B, "eim-addr").add_host("bob")
        results = hole_punch(self, alice, bob, server, PUNCH_OK_TIMEOUT_S)
        (public_a, got_a), (public_b, got_b) = results["a"], results["b"]
        self.assertEqual((public_a, public_b), ((NAT_A, 40001), (NAT_B, 40002)))
        self.assertEqual(got_a, ["RECEIVED", "%s:%d" % public_b, "b"])
        # The open NAT admits bob's first datagram as a new inbound flow. When it crosses
        # alice's first datagram inside NAT A, both conntrack entries are unconfirmed with the
        # same tuple, and Linux resolves the clash by giving the later one another public port:
        # bob then hears alice from NAT A's address but a port other than 40001 (seen under
        # load). The punch still succeeded; the port is the NAT's business.
        self.assertEqual(len(got_b), 3, got_b)
        self.assertEqual((got_b[0], got_b[2]), ("RECEIVED", "a"))
        self.assertEqual(udpprobe.parse_endpoint(got_b[1])[0], NAT_A)


# --- cleanup ------------------------------------------------------------------------------------

def process_alive(pid):
    """True for a running process; a zombie waiting to be reaped counts as gone."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class FailingLab(natlab.Lab):
    """Fails its fail_at-th build command (1-based), after counting every command it runs."""

    def __init__(self, fail_at=None):
        super().__init__()
        self.fail_at = fail_at
        self.commands = 0

    def _run(self, argv, stdin_text=None):
        self.commands += 1
        if self.commands == self.fail_at:
            raise natlab.LabError("injected failure at command %d" % self.commands)
        return super()._run(argv, stdin_text)


def build_small_lab(lab):
    lab.add_public_host("stuna", STUN_A)
    lab.add_nat("nata", NAT_A, "eim").add_host("alice")


CHILD_HOLDING_A_LAB = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, %r)
    import natlab
    with natlab.Lab() as lab:
        stun = lab.add_public_host("stuna", "198.18.0.10")
        lab.add_nat("nata", "198.18.0.21", "eim").add_host("alice")
        lab.start_stun(stun)
        print(lab.tag, lab._processes[0].pid, flush=True)
        time.sleep(60)
""" % HERE)


@needs_lab
class CleanupTest(unittest.TestCase):
    def assert_lab_gone(self, tag, pids=()):
        self.assertEqual(lab_namespaces(tag), [])
        self.assertFalse(os.path.exists(os.path.join(natlab.STATE_ROOT, tag)))
        for pid in pids:
            self.assertFalse(process_alive(pid), "process %d survived the lab" % pid)

    @needs_stun
    def test_normal_exit_removes_namespaces_processes_and_files(self):
        with natlab.Lab() as lab:
            build_small_lab(lab)
            lab.start_stun(lab.add_public_host("stunb", STUN_B))
            tag, pid = lab.tag, lab._processes[0].pid
            self.assertEqual(len(lab_namespaces(tag)), 5)
            self.assertTrue(process_alive(pid))
        self.assert_lab_gone(tag, [pid])

    def test_exception_inside_the_with_block_still_cleans_up(self):
        with self.assertRaises(ZeroDivisionError):
            with natlab.Lab() as lab:
                build_small_lab(lab)
                tag = lab.tag
                self.assertEqual(len(lab_namespaces(tag)), 4)
                1 / 0
        self.assert_lab_gone(tag)

    def test_a_failure_at_every_build_step_leaves_nothing_behind(self):
        counting = FailingLab()
        with counting:
            build_small_lab(counting)
        self.assertGreater(counting.commands, 10)
        for fail_at in range(1, counting.commands + 1):
            with self.subTest(fail_at=fail_at):
                lab = FailingLab(fail_at)
                with self.assertRaises(natlab.LabError):
                    with lab:
                        build_small_lab(lab)
                self.assertIsNotNone(lab.tag)
                self.assert_lab_gone(lab.tag)

    def run_child_and_signal(self, signum):
        child = subprocess.Popen([sys.executable, "-c", CHILD_HOLDING_A_LAB],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            words = child.stdout.readline().split()
            self.assertEqual(len(words), 2, child.stderr.read() if child.poll() else "")
            tag, pid = words[0], int(words[1])
            self.assertEqual(len(lab_namespaces(tag)), 4)
            child.send_signal(signum)
            child.communicate(timeout=20)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        return child.returncode, tag, pid

    @needs_stun
    def test_sigterm_cleans_up_and_still_dies_of_sigterm(self):
        returncode, tag, pid = self.run_child_and_signal(signal.SIGTERM)
        self.assertEqual(returncode, -signal.SIGTERM)
        self.assert_lab_gone(tag, [pid])

    @needs_stun
    def test_sigint_cleans_up(self):
        returncode, tag, pid = self.run_child_and_signal(signal.SIGINT)
        self.assertNotEqual(returncode, 0)
        self.assert_lab_gone(tag, [pid])

    @needs_stun
    def test_the_next_lab_sweeps_a_lab_whose_owner_was_killed(self):
        returncode, tag, pid = self.run_child_and_signal(signal.SIGKILL)
        self.assertEqual(returncode, -signal.SIGKILL)
        self.assertEqual(len(lab_namespaces(tag)), 4)
        with natlab.Lab() as lab:
            self.assert_lab_gone(tag, [pid])
            self.assertNotEqual(lab.tag, tag)


def main():
    if not AVAILABLE:
        print("natlab: SKIPPING the NAT lab tests: %s" % REASON, flush=True)
    elif not HAVE_TURNSERVER:
        print("natlab: SKIPPING the STUN tests: turnserver not found (coturn package)",
              flush=True)
    started = time.monotonic()
    program = unittest.main(exit=False, verbosity=2)
    print("natlab: %.1f s" % (time.monotonic() - started))
    if not program.result.wasSuccessful():
        return 1
    return 0 if AVAILABLE and HAVE_TURNSERVER else SKIP_RETURN_CODE


if __name__ == "__main__":
    sys.exit(main())
