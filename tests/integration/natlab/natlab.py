"""A NAT lab built from Linux network namespaces, veth pairs, bridges and nftables.

    with Lab() as lab:
        stun = lab.add_public_host("stun", "198.18.0.10")
        nat = lab.add_nat("nata", "198.18.0.21", "eim")        # or "eim-addr", "eim-open"...
        alice = nat.add_host("alice")                           # 10.1.0.10, default via the NAT
        server = lab.start_stun(stun)                           # ("198.18.0.10", 3478)
        alice.run([sys.executable, UDPPROBE, "stun", "--server", "198.18.0.10:3478"])
        peer = alice.popen(["srmudp-cat", "--stun", "198.18.0.10:3478", ...],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # stopped on exit

Programs run in a node with Node.run / Node.popen (`ip netns exec`), so any binary works
unchanged; udpprobe.py is the plain-UDP stand-in used to prove the lab.

Layout: a "pub" namespace holds the bridge that is the lab's whole internet, 198.18.0.0/24
(RFC 2544 benchmarking space, never routed). Public hosts and NAT routers attach to it with a veth
pair. Each NAT router owns a private LAN 10.X.0.0/24 (a bridge "lan" at 10.X.0.1) and translates
with nftables masquerade. No interface is created in the caller's namespace and no namespace has a
route out of the lab, so nothing reaches the machine's real network.

NAT kinds, in RFC 4787 terms (section 4.1 mapping, section 5 filtering):
  kind         mapping                                filtering
  "eim"        endpoint-independent, port-preserving  address-and-port-dependent
  "eim-addr"   endpoint-independent, port-preserving  address-dependent
  "eim-open"   endpoint-independent, port-preserving  endpoint-independent ("full cone")
  "symmetric"  address-and-port-dependent             address-and-port-dependent
Mapping is Linux's own (netfilter conntrack + nf_nat): masquerade keeps the source port when that
is free and reuses it for every destination; "masquerade random" (NF_NAT_RANGE_PROTO_RANDOM)
picks the port from a keyed hash of the destination, so each destination gets its own mapping.
Conntrack alone only lets replies in, which is address-and-port-dependent filtering. The looser
filters are built from nftables sets that postrouting fills as datagrams leave (after
masquerade, so they hold the public port): map "mappings" (public port -> private ip . port) and
set "peers" (remote ip . public port). A new inbound UDP flow whose destination port is in
"mappings" ("eim-open"), or whose remote address and destination port are in "peers"
("eim-addr"), is DNATed to the private endpoint from "mappings"; everything else new from the
WAN is dropped. Entries expire FILTER_TIMEOUT_S after the last outbound datagram, like a router's
mapping timer (conntrack keeps its own timers for the flows themselves).

Every name the lab creates starts with "sl" + a 4-character tag. Cleanup runs on exit from the
with-block, on SIGTERM/SIGINT and at interpreter exit; a Lab also sweeps labs whose owning process
died without cleaning up (SIGKILL), using the owner record in STATE_ROOT.
"""

import atexit
import ipaddress
import os
import random
import re
import shutil
import signal
import string
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
UDPPROBE = os.path.join(HERE, "udpprobe.py")

PUBLIC_NET = ipaddress.ip_network("198.18.0.0/24")
# kind -> (masquerade statement, filtering: None for conntrack's own, or the set that admits).
NAT_KINDS = {
    "eim": ("masquerade", None),
    "eim-addr": ("masquerade", "ip saddr . udp dport @peers udp dport @mappings"),
    "eim-open": ("masquerade", "udp dport @mappings"),
    "symmetric": ("masquerade random", None),
}
FILTER_TIMEOUT_S = 180
# 10.X.0.0/24 per NAT; X is bounded so a LAN prefix is always a valid private /24.
MAX_NATS = 250
MAX_HOSTS_PER_NAT = 200
LAN_HOST_BASE = 10
STUN_PORT = 3478
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,7}$")
STATE_ROOT = "/run/srmudp-natlab" if os.access("/run", os.W_OK) else os.path.join(
    tempfile.gettempdir(), "srmudp-natlab")
COMMAND_TIMEOUT_S = 20
PROCESS_STOP_S = 2.0


class LabError(RuntimeError):
    """A lab command failed; the message carries the command and its stderr."""


# An unsolicited packet that reaches the router's public address gets a conntrack entry which
# can claim the very port a LAN host's mapping needs (Linux then moves the mapping to another
# port). Home routers drop such packets, so the lab does too: at priority -150, after conntrack
# (-200) has classified the packet but before the entry is confirmed. The looser filters admit
# some new flows first (%(admit)s) and DNAT them at -100.
NAT_RULESET = """
table ip natlab {%(sets)s
    chain prerouting {
        type filter hook prerouting priority -150; policy accept;%(admit)s
        iifname "wan" ct state new drop
    }%(inbound)s
    chain forward {
        type filter hook forward priority 0; policy drop;
        iifname "lan" oifname "wan" accept
        iifname "wan" oifname "lan" ct state established,related accept%(forward)s
    }
    chain postrouting {
        type nat hook postrouting priority 100; policy accept;
        oifname "wan" %(masquerade)s
    }%(record)s
}
"""
FILTER_SETS = """
    map mappings {
        type inet_service : ipv4_addr . inet_service
        flags dynamic, timeout
        timeout %(timeout)ds
    }
    set peers {
        type ipv4_addr . inet_service
        flags dynamic, timeout
        timeout %(timeout)ds
    }"""
FILTER_ADMIT = """
        iifname "wan" ct state new %(admit)s accept"""
FILTER_INBOUND = """
    chain inbound {
        type nat hook prerouting priority -100; policy accept;
        iifname "wan" dnat ip to udp dport map @mappings
    }"""
FILTER_FORWARD = """
        iifname "wan" oifname "lan" ct status dnat accept"""
# Priority 200 runs after masquerade (100) has rewritten the source: udp sport is the public
# port. Only the original direction creates mappings; replies of an admitted flow reuse one.
FILTER_RECORD = """
    chain record {
        type filter hook postrouting priority 200; policy accept;
        oifname "wan" ct direction original update @mappings \
            { udp sport : ct original ip saddr . ct original proto-src }
        oifname "wan" ct direction original update @peers { ip daddr . udp sport }
    }"""


def nat_ruleset(kind):
    """The nftables ruleset of a NAT router of this kind (a key of NAT_KINDS)."""
    masquerade, admit = NAT_KINDS[kind]
    parts = {"masquerade": masquerade, "sets": "", "admit": "", "inbound": "", "forward": "",
             "record": ""}
    if admit is not None:
        parts.update(sets=FILTER_SETS % {"timeout": FILTER_TIMEOUT_S},
                     admit=FILTER_ADMIT % {"admit": admit}, inbound=FILTER_INBOUND,
                     forward=FILTER_FORWARD, record=FILTER_RECORD)
    return NAT_RULESET % parts


def _command(argv, stdin_text=None):
    """Run a lab command; raises LabError with its stderr when it fails."""
    try:
        done = subprocess.run(argv, input=stdin_text, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError("%s: %s" % (" ".join(argv), exc)) from exc
    if done.returncode != 0:
        raise LabError("%s: exit %d: %s" % (" ".join(argv), done.returncode, done.stderr.strip()))
    return done.stdout


def _quiet(argv):
    """Run a cleanup command whose failure (already gone) is expected and harmless."""
    try:
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=COMMAND_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        pass


def _netns_pids(netns):
    try:
        out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True,
                             timeout=COMMAND_TIMEOUT_S).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [int(word) for word in out.split() if word.isdigit()]


def _kill_netns_processes(netns):
    """SIGKILL whatever still runs in one of the lab's own namespaces (started by the lab)."""
    for pid in _netns_pids(netns):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _delete_netns(netns):
    _kill_netns_processes(netns)
    _quiet(["ip", "netns", "delete", netns])


def list_netns():
    """Names of all network namespaces `ip netns` knows."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


# --- availability -------------------------------------------------------------------------------

_availability = None


def available():
    """(True, "") when this machine can build a lab (root, ip, nft, sysctl, netns, nft NAT),
    else (False, reason). The probe runs once per process."""
    global _availability
    if _availability is None:
        _availability = _probe_availability()
    return _availability


def _probe_availability():
    if sys.platform != "linux":
        return False, "network namespaces need Linux (platform is %s)" % sys.platform
    if os.geteuid() != 0:
        return False, "creating network namespaces needs root (euid is %d)" % os.geteuid()
    for tool, package in (("ip", "iproute2"), ("nft", "nftables"), ("sysctl", "procps")):
        if shutil.which(tool) is None:
            return False, "'%s' not found (install the %s package)" % (tool, package)
    probe = "sl%s-probe" % _random_tag()
    try:
        _command(["ip", "netns", "add", probe])
        _command(["ip", "netns", "exec", probe, "nft", "-f", "-"], nat_ruleset("eim-addr"))
    except LabError as exc:
        return False, "cannot build a namespace with an nftables NAT: %s" % exc
    finally:
        _quiet(["ip", "netns", "delete", probe])
    return True, ""


def _random_tag():
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(4))


# --- ownership records and the stale-lab sweep --------------------------------------------------

def _process_start_time(pid):
    """Field 22 of /proc/<pid>/stat, which tells a live owner from a reused pid; None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19] if len(fields) > 19 else None


def _owner_alive(state_dir):
    try:
        with open(os.path.join(state_dir, "owner")) as owner:
            pid_text, start = owner.read().split()
    except (OSError, ValueError):
        return True  # no record yet: the owner may be creating it right now
    return _process_start_time(int(pid_text)) == start


def sweep_stale_labs():
    """Delete labs whose owning process is gone (killed with SIGKILL, say): their processes,
    namespaces and state directory. Labs with a live owner are left alone."""
    try:
        tags = os.listdir(STATE_ROOT)
    except OSError:
        return
    for tag in tags:
        state_dir = os.path.join(STATE_ROOT, tag)
        if _owner_alive(state_dir):
            continue
        for netns in list_netns():
            if netns.startswith("sl%s-" % tag):
                _delete_netns(netns)
        shutil.rmtree(state_dir, ignore_errors=True)


# --- signal and exit handling -------------------------------------------------------------------

_live_labs = []
_previous_handlers = {}
_HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _cleanup_live_labs():
    for lab in list(_live_labs):
        lab.close()


def _on_signal(signum, frame):
    previous = _previous_handlers.get(signum, signal.SIG_DFL)
    _cleanup_live_labs()
    _restore_signal_handlers()
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        os.kill(os.getpid(), signum)  # default action: die of the same signal, exit status intact


def _install_signal_handlers():
    if _previous_handlers:
        return
    try:
        for signum in _HANDLED_SIGNALS:
            _previous_handlers[signum] = signal.signal(signum, _on_signal)
    except ValueError:
        pass  # not the main thread: the with-block and atexit still clean up


def _restore_signal_handlers():
    for signum, previous in list(_previous_handlers.items()):
        try:
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        except ValueError:
            pass
    _previous_handlers.clear()


atexit.register(_cleanup_live_labs)


# --- the lab ------------------------------------------------------------------------------------

class Node:
    """A network namespace of the lab."""

    def __init__(self, lab, name, netns, ip):
        self.lab = lab
        self.name = name
        self.netns = netns
        self._ip = ip

    @property
    def ip(self):
        """The node's address: public for public hosts and NATs, private behind a NAT."""
        return self._ip

    def run(self, argv, **kwargs):
        """subprocess.run(argv, **kwargs) inside this namespace."""
        kwargs.setdefault("timeout", COMMAND_TIMEOUT_S)
        return subprocess.run(["ip", "netns", "exec", self.netns] + list(argv), **kwargs)

    def popen(self, argv, **kwargs):
        """subprocess.Popen(argv, **kwargs) inside this namespace; the lab stops it on exit."""
        return self.lab._track(
            subprocess.Popen(["ip", "netns", "exec", self.netns] + list(argv), **kwargs))

    def __repr__(self):
        return "<%s %s %s in %s>" % (type(self).__name__, self.name, self._ip, self.netns)


class Host(Node):
    """A machine on the public network or behind a NAT."""


class Nat(Node):
    """A NAT router: "wan" on the public bridge, bridge "lan" for its private /24."""

    def __init__(self, lab, name, netns, public_ip, kind, lan_index):
        super().__init__(lab, name, netns, public_ip)
        self.kind = kind
        self.lan = ipaddress.ip_network("10.%d.0.0/24" % lan_index)
        self.gateway = str(self.lan.network_address + 1)
        self._hosts = 0

    @property
    def public_ip(self):
        return self.ip

    def add_host(self, name):
        """A host with the next private IP of this LAN and its default route via the NAT."""
        if self._hosts >= MAX_HOSTS_PER_NAT:
            raise ValueError("NAT %s already has %d hosts" % (self.name, self._hosts))
        ip = str(self.lan.network_address + LAN_HOST_BASE + self._hosts)
        netns = self.lab._new_netns(name)
        port = "h%d" % self._hosts
        self._hosts += 1
        lab = self.lab
        lab._ip(self.netns, "link", "add", port, "type", "veth", "peer", "name", "eth0",
                "netns", netns)
        lab._ip(self.netns, "link", "set", port, "master", "lan", "up")
        lab._ip(netns, "addr", "add", "%s/24" % ip, "dev", "eth0")
        lab._ip(netns, "link", "set", "eth0", "up")
        lab._ip(netns, "route", "add", "default", "via", self.gateway)
        return Host(lab, name, netns, ip)


class Lab:
    """Context manager owning every namespace, process and file of one lab."""

    def __init__(self):
        self.tag = None
        self.state_dir = None
        self.pub_netns = None
        self._netns = []        # created namespaces, in creation order
        self._processes = []
        self._names = set()
        self._public_ips = set()
        self._nats = 0
        self._pub_ports = 0
        self._closed = False

    # -- lifetime --

    def __enter__(self):
        ok, reason = available()
        if not ok:
            raise LabError("NAT lab not available: " + reason)
        sweep_stale_labs()
        _live_labs.append(self)
        _install_signal_handlers()
        try:
            self._claim_tag()
            self.pub_netns = self._new_netns("pub")
            self._ip(self.pub_netns, "link", "add", "br0", "type", "bridge")
            self._ip(self.pub_netns, "link", "set", "br0", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def close(self):
        """Stop the lab's processes, delete its namespaces and files. Idempotent; safe to re-enter
        from a signal handler (each item is dropped only once it is gone)."""
        while self._processes:
            self._stop(self._processes[-1])
            self._processes.pop()
        while self._netns:
            _delete_netns(self._netns[-1])
            self._netns.pop()
        if self.state_dir is not None:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            try:
                os.rmdir(STATE_ROOT)
            except OSError:
                pass  # another lab still uses it
        if self in _live_labs:
            _live_labs.remove(self)
        if not _live_labs:
            _restore_signal_handlers()
        self._closed = True

    def _claim_tag(self):
        os.makedirs(STATE_ROOT, exist_ok=True)
        for _ in range(100):
            tag = _random_tag()
            try:
                os.mkdir(os.path.join(STATE_ROOT, tag))
            except FileExistsError:
                continue
            self.tag, self.state_dir = tag, os.path.join(STATE_ROOT, tag)
            record = os.path.join(self.state_dir, "owner.tmp")
            with open(record, "w") as owner:
                owner.write("%d %s\n" % (os.getpid(), _process_start_time(os.getpid())))
            os.rename(record, os.path.join(self.state_dir, "owner"))
            return
        raise LabError("no free lab tag in %s" % STATE_ROOT)

    # -- building blocks --

    def _run(self, argv, stdin_text=None):
        """Every lab-building command goes through here (tests inject failures at this point)."""
        return _command(argv, stdin_text)

    def _ip(self, netns, *args):
        return self._run(["ip", "-n", netns] + list(args))

    def _new_netns(self, name):
        if self._closed or self.tag is None:
            raise LabError("the lab is not open")
        if not NAME_RE.match(name) or name in self._names:
            raise ValueError("node name must be new and match %s: %r" % (NAME_RE.pattern, name))
        self._names.add(name)
        netns = "sl%s-%s" % (self.tag, name)
        self._netns.append(netns)  # recorded first: a half-made namespace is still deleted
        self._run(["ip", "netns", "add", netns])
        self._ip(netns, "link", "set", "lo", "up")
        return netns

    def _claim_public_ip(self, ip):
        address = ipaddress.ip_address(ip)
        if address not in PUBLIC_NET or address in (PUBLIC_NET.network_address,
                                                     PUBLIC_NET.broadcast_address):
            raise ValueError("public IP must be a host address in %s: %s" % (PUBLIC_NET, ip))
        if ip in self._public_ips:
            raise ValueError("public IP already in use: %s" % ip)
        self._public_ips.add(ip)

    def _attach_public(self, netns, ifname, ip):
        """Connect netns to the public bridge as ifname with ip/24."""
        port = "p%d" % self._pub_ports
        self._pub_ports += 1
        self._ip(self.pub_netns, "link", "add", port, "type", "veth", "peer", "name", ifname,
                 "netns", netns)
        self._ip(self.pub_netns, "link", "set", port, "master", "br0", "up")
        self._ip(netns, "addr", "add", "%s/%d" % (ip, PUBLIC_NET.prefixlen), "dev", ifname)
        self._ip(netns, "link", "set", ifname, "up")

    def _track(self, process):
        self._processes.append(process)
        return process

    @staticmethod
    def _stop(process):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(PROCESS_STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # -- public interface --

    def add_public_host(self, name, ip):
        """A host with address ip (in 198.18.0.0/24) directly on the public network."""
        self._claim_public_ip(ip)
        netns = self._new_netns(name)
        self._attach_public(netns, "eth0", ip)
        return Host(self, name, netns, ip)

    def add_nat(self, name, public_ip, kind):
        """A NAT router with public_ip on the public network and a fresh LAN 10.X.0.0/24 behind
        it; kind is a key of NAT_KINDS: "eim", "eim-addr", "eim-open" or "symmetric" (see the
        module comment)."""
        if kind not in NAT_KINDS:
            raise ValueError("NAT kind must be one of %s: %r" % (sorted(NAT_KINDS), kind))
        if self._nats >= MAX_NATS:
            raise ValueError("a lab holds at most %d NATs" % MAX_NATS)
        self._claim_public_ip(public_ip)
        netns = self._new_netns(name)
        self._nats += 1
        nat = Nat(self, name, netns, public_ip, kind, self._nats)
        self._attach_public(netns, "wan", public_ip)
        self._ip(netns, "link", "add", "lan", "type", "bridge")
        self._ip(netns, "addr", "add", "%s/24" % nat.gateway, "dev", "lan")
        self._ip(netns, "link", "set", "lan", "up")
        # Forwarding is a per-namespace sysctl: only this router forwards.
        self._run(["ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        self._run(["ip", "netns", "exec", netns, "nft", "-f", "-"], nat_ruleset(kind))
        return nat

    def start_stun(self, host, port=STUN_PORT, timeout=10.0):
        """Run coturn as a plain STUN server on host.ip:port and wait until it answers a Binding
        request. Returns the server address (ip, port). Raises LabError if it does not come up."""
        turnserver = shutil.which("turnserver")
        if turnserver is None:
            raise LabError("turnserver not found (install the coturn package)")
        files = os.path.join(self.state_dir, "turnserver-%s-%d" % (host.name, port))
        log_path = files + ".log"
        argv = [turnserver, "-n", "--stun-only", "--listening-ip", host.ip,
                "--listening-port", str(port), "--no-tcp", "--no-tls", "--no-dtls", "--no-cli",
                "--no-rfc5780", "--relay-threads", "0", "--log-file", "stdout", "--log-binding",
                # coturn always opens an SQLite user DB; keep it in the lab's state directory
                # instead of /var/lib/turn.
                "--userdb", files + ".db", "--pidfile", files + ".pid"]
        with open(log_path, "wb") as log:
            server = host.popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
        address = "%s:%d" % (host.ip, port)
        probe = host.run([sys.executable, UDPPROBE, "stun", "--server", address,
                          "--timeout", str(timeout)], capture_output=True, text=True,
                         timeout=timeout + 5)
        if probe.returncode != 0 or server.poll() is not None:
            raise LabError("STUN server on %s did not answer: %s\n--- turnserver log ---\n%s"
                           % (address, probe.stdout.strip(), _tail(log_path)))
        return host.ip, port


def _tail(path, lines=20):
    try:
        with open(path, errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError as exc:
        return "(no log: %s)" % exc
