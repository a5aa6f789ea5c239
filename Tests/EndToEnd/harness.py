"""Shared helpers for the end-to-end tests.

* ports and temporary directories,
* starting and stopping ``meridian`` (and NSD as a reference server) with
  deadline-based readiness checks,
* a small DNS wire codec: enough to build any query (including malformed ones)
  and to parse and validate every response precisely,
* helpers around ``dig`` and ``kdig``,
* a private etcd cluster and the ``fleet:`` config section for the fleet tests.

Only the Python standard library is used.
"""

import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MERIDIAN_BIN = os.environ.get("MERIDIAN_BIN", os.path.join(REPO, ".build", "release", "meridian"))
DNSCTL_BIN = os.environ.get("DNSCTL_BIN", os.path.join(REPO, ".build", "release", "dnsctl"))
NSD_BIN = os.environ.get("NSD_BIN", shutil.which("nsd") or "/usr/sbin/nsd")
KNOTD_BIN = os.environ.get("KNOTD_BIN", shutil.which("knotd") or "/usr/sbin/knotd")
ETCD_BIN = os.environ.get("ETCD_BIN", shutil.which("etcd") or "/usr/bin/etcd")
ETCDCTL_BIN = os.environ.get("ETCDCTL_BIN", shutil.which("etcdctl") or "/usr/bin/etcdctl")

# Startup can be slow on a loaded two-core machine; readiness is awaited, never slept for.
STARTUP_TIMEOUT = float(os.environ.get("E2E_STARTUP_TIMEOUT", "30"))
POLL_INTERVAL = 0.05

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

TYPES = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15, "TXT": 16,
    "AAAA": 28, "SRV": 33, "NAPTR": 35, "DNAME": 39, "OPT": 41, "DS": 43, "SSHFP": 44,
    "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "TLSA": 52, "SVCB": 64, "HTTPS": 65,
    "IXFR": 251, "AXFR": 252, "MAILB": 253, "MAILA": 254, "ANY": 255, "CAA": 257,
}
TYPE_NAMES = {v: k for k, v in TYPES.items()}

RCODES = {
    "NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5,
    "BADVERS": 16,
}
RCODE_NAMES = {v: k for k, v in RCODES.items()}

OPT_ECS = 8
OPT_COOKIE = 10

FLAG_QR = 0x8000
FLAG_AA = 0x0400
FLAG_TC = 0x0200
FLAG_RD = 0x0100
FLAG_RA = 0x0080
FLAG_AD = 0x0020
FLAG_CD = 0x0010


def type_code(t):
    if isinstance(t, int):
        return t
    t = t.upper()
    if t in TYPES:
        return TYPES[t]
    if t.startswith("TYPE"):
        return int(t[4:])
    raise KeyError(t)


def type_name(code):
    return TYPE_NAMES.get(code, "TYPE%d" % code)


def rcode_name(code):
    return RCODE_NAMES.get(code, "RCODE%d" % code)


# --------------------------------------------------------------------------------------
# Ports, directories, processes
# --------------------------------------------------------------------------------------

def free_port():
    """A port on 127.0.0.1 that is free for both UDP and TCP right now."""
    for _ in range(200):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
        finally:
            udp.close()
            tcp.close()
    raise RuntimeError("no free port found")


def make_tempdir(testcase, prefix="meridian-e2e-"):
    """A temporary directory removed when the test (or class) is cleaned up."""
    path = tempfile.mkdtemp(prefix=prefix)
    testcase_cleanup(testcase, shutil.rmtree, path, True)
    return path


def wait_until(predicate, timeout, interval=POLL_INTERVAL, message="condition"):
    """Poll ``predicate`` until it returns a truthy value; return it, or raise on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, message))
        time.sleep(interval)


def require_executable(path, what):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise AssertionError("%s binary not found or not executable: %s" % (what, path))


def stop_process(proc, sig=signal.SIGTERM, timeout=10):
    """Stop a process we started; escalate to SIGKILL. Returns the exit code."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


class ServerProcess:
    """Common parts of the Meridian and NSD process wrappers."""

    name = "server"

    def __init__(self, workdir, port):
        self.workdir = workdir
        self.port = port
        self.proc = None
        # Variables added to the process's environment (e.g. libfaketime's).
        self.extra_env = {}
        # The working directory to start in, when not `workdir`.
        self.cwd = None
        self.log_path = os.path.join(workdir, "%s.stderr" % self.name)
        self.ready_name = None

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self, argv):
        self._log_file = open(self.log_path, "wb")
        # SwiftNIO only warns when a task is scheduled on an event loop that has stopped (and
        # says it will crash in later versions); strict mode makes that a crash the tests see.
        env = dict(os.environ, SWIFTNIO_STRICT="1", **self.extra_env)
        self.proc = subprocess.Popen(argv, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.cwd or self.workdir, env=env)

    def answers(self, name=None, qtype="SOA", timeout=0.2):
        """One UDP query; the parsed response or None."""
        try:
            return udp_query(self.port, make_query(name or self.ready_name, qtype), timeout=timeout)
        except (socket.timeout, OSError, ParseError):
            return None

    def wait_ready(self, timeout=STARTUP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s before becoming ready:\n%s"
                                     % (self.name, self.proc.returncode, self.log()))
            response = self.answers(timeout=0.1)
            if response is not None and response.rcode == 0 and response.answer:
                return response
            time.sleep(POLL_INTERVAL)
        raise AssertionError("%s did not answer %s SOA on port %d within %.0fs:\n%s"
                             % (self.name, self.ready_name, self.port, timeout, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None:
            return None
        code = stop_process(self.proc, sig, timeout)
        try:
            self._log_file.close()
        except Exception:
            pass
        return code


# Response rate limiting is on by default (20 responses a second per network, class and
# name). The functional tests ask hundreds of questions a second from 127.0.0.1 to check
# answers, as a monitoring client would, so that address is exempt, the way BIND's, NSD's
# and Knot's own suites test everything but RRL without it; every other source is limited
# as in production. Pass ``rrl=""`` for the server's defaults, or an ``rrl:`` section.
TEST_CLIENT_RRL = 'rrl:\n  exempt: ["127.0.0.1/32"]\n'


class Meridian(ServerProcess):
    """A meridian process with its own config, zones directory and control socket."""

    name = "meridian"

    def __init__(self, testcase, zones, udp_payload=1232, tcp_idle_timeout="2s",
                 tcp_max_connections=64, workdir=None, extra_config="", rrl=TEST_CLIENT_RRL,
                 tcp_max_connections_per_client=None):
        require_executable(MERIDIAN_BIN, "meridian")
        workdir = workdir or make_tempdir(testcase)
        super().__init__(workdir, free_port())
        self.zones_dir = os.path.join(workdir, "zones")
        os.makedirs(self.zones_dir, exist_ok=True)
        self.config_path = os.path.join(workdir, "meridian.yaml")
        self.socket_path = os.path.join(workdir, "meridian.sock")
        self.udp_payload = udp_payload
        self.tcp_idle_timeout = tcp_idle_timeout
        self.tcp_max_connections = tcp_max_connections
        self.tcp_max_connections_per_client = tcp_max_connections_per_client
        # Further top-level sections (geoip, edges, pools) as YAML text.
        self.extra_config = extra_config
        self.rrl = rrl
        for origin, text in zones.items():
            self.write_zone(origin, text)
        self.ready_name = next(iter(zones))
        self.write_config()

    def zone_path(self, origin):
        return os.path.join(self.zones_dir, origin.rstrip(".") + ".zone")

    def write_zone(self, origin, text):
        with open(self.zone_path(origin), "w") as f:
            f.write(text)

    def write_config(self):
        with open(self.config_path, "w") as f:
            f.write(meridian_config(self.port, self.zones_dir, self.socket_path,
                                    os.path.join(self.workdir, "admin-state.json"),
                                    self.udp_payload, self.tcp_idle_timeout,
                                    self.tcp_max_connections, self.tcp_max_connections_per_client)
                    + self.rrl + self.extra_config)

    def start(self, testcase, wait=True):
        self._spawn([MERIDIAN_BIN, "--config", self.config_path])
        testcase_cleanup(testcase, self.stop)
        if wait:
            self.wait_ready()
        return self


def meridian_config(port, zones_dir, socket_path, state_file, udp_payload=1232,
                    tcp_idle_timeout="2s", tcp_max_connections=64, tcp_max_connections_per_client=None):
    per_client = ("  tcp_max_connections_per_client: %d\n" % tcp_max_connections_per_client
                  if tcp_max_connections_per_client else "")
    return (
        "dns:\n"
        '  listen: ["127.0.0.1:%d"]\n'
        "  udp_payload: %d\n"
        "  tcp_idle_timeout: %s\n"
        "  tcp_max_connections: %d\n"
        + per_client +
        "zones:\n"
        "  directory: %s\n"
        "control:\n"
        "  socket: %s\n"
        "health:\n"
        "  state_file: %s\n"
    ) % (port, udp_payload, tcp_idle_timeout, tcp_max_connections, zones_dir, socket_path,
         state_file)


class NSD(ServerProcess):
    """A private NSD instance used as the reference implementation. ``server_options`` are
    further lines of its ``server:`` clause, such as ``answer-cookie: yes``."""

    name = "nsd"

    def __init__(self, testcase, zones, workdir=None, minimal_responses=True, server_options=()):
        require_executable(NSD_BIN, "nsd")
        workdir = workdir or make_tempdir(testcase, prefix="nsd-e2e-")
        super().__init__(workdir, free_port())
        self.ready_name = next(iter(zones))
        lines = [
            "server:",
            "  ip-address: 127.0.0.1@%d" % self.port,
            "  port: %d" % self.port,
            "  do-ip6: no",
            '  username: ""',
            '  chroot: ""',
            '  zonesdir: "%s"' % workdir,
            '  pidfile: "%s/nsd.pid"' % workdir,
            '  database: ""',
            '  xfrdfile: "%s/xfrd.state"' % workdir,
            '  xfrdir: "%s"' % workdir,
            '  zonelistfile: "%s/zone.list"' % workdir,
            '  cookie-secret-file: "%s/cookiesecrets.txt"' % workdir,
            '  logfile: "%s/nsd.log"' % workdir,
            "  server-count: 1",
            "  verbosity: 1",
            "  hide-version: yes",
            "  minimal-responses: %s" % ("yes" if minimal_responses else "no"),
            "  refuse-any: no",
            "  zonefiles-write: 0",
        ] + ["  %s" % option for option in server_options] + [
            "remote-control:",
            "  control-enable: no",
        ]
        for origin, text in zones.items():
            fname = origin.rstrip(".") + ".zone"
            with open(os.path.join(workdir, fname), "w") as f:
                f.write(text)
            lines += ["zone:", "  name: %s" % origin, '  zonefile: "%s/%s"' % (workdir, fname)]
        self.config_path = os.path.join(workdir, "nsd.conf")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def log(self):
        text = super().log()
        try:
            with open(os.path.join(self.workdir, "nsd.log"), errors="replace") as f:
                text += f.read()
        except OSError:
            pass
        return text

    def start(self, testcase, wait=True):
        self._spawn([NSD_BIN, "-d", "-c", self.config_path])
        testcase_cleanup(testcase, self.stop)
        if wait:
            self.wait_ready()
        return self


class Knot(ServerProcess):
    """A private Knot DNS instance, the second reference implementation."""

    name = "knot"

    def __init__(self, testcase, zones, workdir=None):
        require_executable(KNOTD_BIN, "knotd")
        workdir = workdir or make_tempdir(testcase, prefix="knot-e2e-")
        super().__init__(workdir, free_port())
        self.ready_name = next(iter(zones))
        lines = [
            "server:",
            "  listen: 127.0.0.1@%d" % self.port,
            '  rundir: "%s"' % workdir,
            "  identity: \"\"",
            "  version: \"\"",
            "database:",
            '  storage: "%s"' % workdir,
            "control:",
            '  listen: "%s/knot.sock"' % workdir,
            "log:",
            "  - target: stderr",
            "    any: warning",
            "template:",
            "  - id: default",
            '    storage: "%s"' % workdir,
            "    zonefile-sync: -1",
            "    journal-content: none",
            "zone:",
        ]
        for origin, text in zones.items():
            fname = origin.rstrip(".") + ".zone"
            with open(os.path.join(workdir, fname), "w") as f:
                f.write(text)
            lines += ["  - domain: %s" % origin, '    file: "%s"' % fname]
        self.config_path = os.path.join(workdir, "knot.conf")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, testcase, wait=True):
        self._spawn([KNOTD_BIN, "-c", self.config_path])
        testcase_cleanup(testcase, self.stop)
        if wait:
            self.wait_ready()
        return self


# --------------------------------------------------------------------------------------
# DNSSEC: a validating Unbound, BIND's delv, dnssec-keygen and dnssec-signzone
# --------------------------------------------------------------------------------------

UNBOUND_BIN = os.environ.get("UNBOUND_BIN", shutil.which("unbound") or "/usr/sbin/unbound")
UNBOUND_CONTROL_BIN = os.environ.get("UNBOUND_CONTROL_BIN",
                                     shutil.which("unbound-control") or "/usr/sbin/unbound-control")
DELV_BIN = os.environ.get("DELV_BIN", shutil.which("delv") or "/usr/bin/delv")
DNSSEC_KEYGEN_BIN = os.environ.get("DNSSEC_KEYGEN_BIN",
                                   shutil.which("dnssec-keygen") or "/usr/bin/dnssec-keygen")
DNSSEC_SIGNZONE_BIN = os.environ.get("DNSSEC_SIGNZONE_BIN",
                                     shutil.which("dnssec-signzone") or "/usr/bin/dnssec-signzone")
DNSSEC_DSFROMKEY_BIN = os.environ.get("DNSSEC_DSFROMKEY_BIN",
                                      shutil.which("dnssec-dsfromkey") or "/usr/bin/dnssec-dsfromkey")

# BIND's names of the algorithms the tests use (RFC 8624 numbers).
BIND_ALGORITHMS = {13: "ECDSAP256SHA256", 15: "ED25519"}


def require_dnssec_tools(*tools):
    """Skips the test (or class) when one of ``tools`` (``unbound``, ``delv``,
    ``dnssec-keygen``, ``dnssec-signzone``) is missing, naming the Debian package."""
    known = {
        "unbound": (UNBOUND_BIN, "unbound"),
        "unbound-control": (UNBOUND_CONTROL_BIN, "unbound"),
        "delv": (DELV_BIN, "bind9-dnsutils"),
        "dnssec-keygen": (DNSSEC_KEYGEN_BIN, "bind9-utils"),
        "dnssec-signzone": (DNSSEC_SIGNZONE_BIN, "bind9-utils"),
        "dnssec-dsfromkey": (DNSSEC_DSFROMKEY_BIN, "bind9-utils"),
    }
    for tool in tools:
        path, package = known[tool]
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise unittest.SkipTest("%s not found or not executable at %s (Debian package %s)"
                                    % (tool, path, package))


def rr_lines(text, rtype):
    """The lines of ``text`` (zone-file or tool output, one record a line) that hold a record
    of type ``rtype`` (``DNSKEY``, ``DS``...), comments dropped, blanks normalised."""
    out = []
    for line in text.splitlines():
        line = line.split(";", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if rtype.upper() in (f.upper() for f in fields[1:4]):
            out.append(" ".join(fields))
    return out


def parse_trust_anchor(line):
    """``(owner, type, rdata fields)`` of a DNSKEY or DS line such as ``zone. 3600 IN DNSKEY
    257 3 13 BASE64`` (TTL and class optional, base64 or hex possibly split by blanks)."""
    fields = line.split(";", 1)[0].split()
    owner = fields[0].lower()
    if not owner.endswith("."):
        owner += "."
    rest = fields[1:]
    while rest and rest[0].upper() not in ("DNSKEY", "DS"):
        rest = rest[1:]   # TTL, class
    if not rest:
        raise ValueError("not a DNSKEY or DS record: %r" % line)
    rtype, rdata = rest[0].upper(), rest[1:]
    if rtype == "DNSKEY":
        if len(rdata) < 4:
            raise ValueError("short DNSKEY record: %r" % line)
        return owner, rtype, rdata[:3] + ["".join(rdata[3:])]
    if len(rdata) < 4:
        raise ValueError("short DS record: %r" % line)
    return owner, rtype, rdata[:3] + ["".join(rdata[3:])]


def write_delv_anchor(directory, lines, name="trust-anchors.conf"):
    """A trust anchor file for ``delv -a`` made from DNSKEY lines (``static-key``) or DS
    lines (``static-ds``); returns its path."""
    if isinstance(lines, str):
        lines = [lines]
    entries = []
    for line in lines:
        owner, rtype, rdata = parse_trust_anchor(line)
        kind = "static-key" if rtype == "DNSKEY" else "static-ds"
        entries.append('  "%s" %s %s %s %s "%s";' % (owner, kind, rdata[0], rdata[1], rdata[2], rdata[3]))
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write("trust-anchors {\n%s\n};\n" % "\n".join(entries))
    return path


def delv_anchor_zone(anchor_file):
    """The zone of the first trust anchor in a ``delv`` anchor file."""
    with open(anchor_file) as f:
        m = re.search(r'trust-anchors\s*\{\s*"?([^"\s]+)"?\s', f.read())
    if not m:
        raise AssertionError("no trust anchor in %s" % anchor_file)
    return m.group(1)


def run_delv(port, name, qtype, anchor_file, *args, root=None, timeout=30):
    """BIND's ``delv`` against the server on ``port``, validating from the trust anchor in
    ``anchor_file`` (``+root=`` its zone unless ``root`` is given). Returns (exit code,
    combined output); delv prints ``; fully validated`` when the answer validated, ``;
    negative response, fully validated`` for a validated denial, and ``;; resolution
    failed: broken trust chain`` for a bogus answer, which it exits 0 after too: judge
    the output (``delv_validated``), not the exit code."""
    require_executable(DELV_BIN, "delv")
    root = root or delv_anchor_zone(anchor_file)
    argv = [DELV_BIN, "@127.0.0.1", "-p", str(port), "-a", anchor_file, "+root=%s" % root,
            name, qtype] + [str(a) for a in args]
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "$ %s\ntimed out after %ss" % (" ".join(argv), timeout)
    return proc.returncode, "$ %s\n%s" % (" ".join(argv), proc.stdout.decode("utf-8", "replace"))


def delv_validated(output):
    """True when delv's output says the answer (or the denial) was fully validated."""
    return re.search(r"^; (negative response, )?fully validated$", output, re.M) is not None


def delv_negative(output):
    """True when delv validated a denial (NXDOMAIN or NODATA)."""
    return re.search(r"^; negative response, fully validated$", output, re.M) is not None


def _run_bind_tool(argv, cwd, timeout=60):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=timeout)
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise AssertionError("$ %s\nexit %s\n%s%s" % (" ".join(argv), proc.returncode, out, err))
    return out


class BindKey:
    """A key pair made by BIND's ``dnssec-keygen`` in ``directory``: ``basename``
    (``Kzone.+alg+tag``), ``tag``, ``algorithm``, the ``dnskey`` line of its ``.key`` file and
    the SHA-256 ``ds`` line (``dnssec-dsfromkey -2``)."""

    def __init__(self, directory, zone, algorithm=13, ksk=True):
        require_executable(DNSSEC_KEYGEN_BIN, "dnssec-keygen")
        zone = zone if zone.endswith(".") else zone + "."
        argv = [DNSSEC_KEYGEN_BIN, "-q", "-a", BIND_ALGORITHMS.get(algorithm, str(algorithm)),
                "-n", "ZONE", "-K", directory]
        if ksk:
            argv += ["-f", "KSK"]
        self.directory, self.zone, self.algorithm = directory, zone, algorithm
        self.basename = _run_bind_tool(argv + [zone], directory).strip().splitlines()[-1]
        self.tag = int(self.basename.rsplit("+", 1)[1])
        self.key_path = os.path.join(directory, self.basename + ".key")
        self.private_path = os.path.join(directory, self.basename + ".private")
        with open(self.key_path) as f:
            self.dnskey = dnskey_from_bind_key(f.read())
        self.ds = rr_lines(_run_bind_tool([DNSSEC_DSFROMKEY_BIN, "-2", self.key_path], directory), "DS")[0]


def dnskey_from_bind_key(text):
    """The DNSKEY line in the text of a BIND ``.key`` file (``dnssec-keygen``'s output),
    as one line: ``zone. IN DNSKEY 257 3 13 BASE64``."""
    lines = rr_lines(text, "DNSKEY")
    if len(lines) != 1:
        raise AssertionError("expected one DNSKEY record in the key file, found %d:\n%s" % (len(lines), text))
    return lines[0]


def delv_anchor_from_bind_key(directory, key_path, name="trust-anchors.conf"):
    """A ``delv -a`` trust anchor file made from a ``dnssec-keygen`` ``.key`` file."""
    with open(key_path) as f:
        return write_delv_anchor(directory, dnskey_from_bind_key(f.read()), name)


def bind_sign_zone(directory, origin, text, keys):
    """Signs the zone ``text`` with BIND's ``dnssec-signzone`` (NSEC, every key a CSK: ``-z``)
    using ``keys`` (BindKey objects whose files are in ``directory``); returns the signed
    zone's text. Signatures are valid from an hour ago for 30 days."""
    require_executable(DNSSEC_SIGNZONE_BIN, "dnssec-signzone")
    origin = origin if origin.endswith(".") else origin + "."
    unsigned = os.path.join(directory, origin.rstrip(".") + ".zone")
    signed = unsigned + ".signed"
    with open(unsigned, "w") as f:
        f.write(text)
        # dnssec-signzone -S adds the keys found in -K; name them anyway, so that exactly these sign.
        for key in keys:
            f.write("$INCLUDE %s\n" % key.key_path)
    _run_bind_tool([DNSSEC_SIGNZONE_BIN, "-z", "-d", directory, "-K", directory, "-o", origin,
                    "-s", "now-3600", "-e", "now+2592000", "-f", signed, unsigned]
                   + [key.basename for key in keys], directory)
    with open(signed) as f:
        return f.read()


class Unbound(ServerProcess):
    """A private validating Unbound (``unbound -d``) on a free loopback port, from its own
    directory. ``stubs``: zone -> port on 127.0.0.1 of the authoritative server (or a list
    of ``addr@port``); ``trust_anchors``: DNSKEY or DS lines; ``client_subnet``: forward
    a client's ECS option (``dig +subnet=``) to the stub servers of these zones (default:
    every stub zone); ``options``: further lines of the ``server:`` clause. ``flush``
    empties the cache; ``stats`` reads ``unbound-control stats_noreset``."""

    name = "unbound"

    def __init__(self, testcase, stubs, trust_anchors=(), client_subnet=None, options=(),
                 workdir=None, verbosity=1):
        require_executable(UNBOUND_BIN, "unbound")
        workdir = workdir or make_tempdir(testcase, prefix="unbound-e2e-")
        super().__init__(workdir, free_port())
        self.stubs = dict(stubs)
        self.trust_anchors = list(trust_anchors)
        self.client_subnet = list(self.stubs) if client_subnet is None else list(client_subnet)
        self.control_socket = os.path.join(workdir, "unbound-control.sock")
        self.config_path = os.path.join(workdir, "unbound.conf")
        self.queries = []   # (name, type, status, AD set) of every query()
        lines = [
            "server:",
            "  interface: 127.0.0.1",
            "  port: %d" % self.port,
            "  do-ip6: no",
            "  do-not-query-localhost: no",
            '  username: ""',
            '  chroot: ""',
            '  directory: "%s"' % workdir,
            '  pidfile: "%s/unbound.pid"' % workdir,
            '  logfile: ""',
            "  use-syslog: no",
            "  log-time-ascii: yes",
            "  verbosity: %d" % verbosity,
            "  val-log-level: 2",
            "  num-threads: 1",
            "  so-reuseport: no",
            "  qname-minimisation: no",
            "  harden-dnssec-stripped: yes",
            "  extended-statistics: yes",
            # The validator needs the subnet cache in front of it to pass ECS on.
            '  module-config: "subnetcache validator iterator"',
            "  send-client-subnet: 127.0.0.1",
            "  client-subnet-always-forward: yes",
            "  max-client-subnet-ipv4: 24",
            # Unbound answers the RFC 6761 names itself (NXDOMAIN) unless told not to.
            '  local-zone: "test." nodefault',
            '  local-zone: "invalid." nodefault',
        ]
        lines += ["  client-subnet-zone: %s" % zone for zone in self.client_subnet]
        for anchor in self.trust_anchors:
            owner, rtype, rdata = parse_trust_anchor(anchor)
            lines.append('  trust-anchor: "%s %s %s"' % (owner, rtype, " ".join(rdata)))
        lines += ["  %s" % option for option in options]
        lines += [
            "remote-control:",
            "  control-enable: yes",
            '  control-interface: "%s"' % self.control_socket,
        ]
        for zone, servers in self.stubs.items():
            if isinstance(servers, int):
                servers = ["127.0.0.1@%d" % servers]
            lines += ["stub-zone:", "  name: %s" % zone]
            lines += ["  stub-addr: %s" % server for server in servers]
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, testcase, wait=True):
        self._spawn([UNBOUND_BIN, "-d", "-c", self.config_path])
        testcase_cleanup(testcase, self.stop)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=STARTUP_TIMEOUT):
        """Waits until Unbound answers ``version.server CH TXT`` (answered by Unbound itself,
        so neither the cache nor the stub servers are touched)."""
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("unbound exited with %s before becoming ready:\n%s"
                                     % (self.proc.returncode, self.log()))
            try:
                return udp_query(self.port, make_query("version.server.", "TXT", qclass=3, rd=True),
                                 timeout=0.2)
            except (socket.timeout, OSError, ParseError):
                return None
        return wait_until(ready, timeout, message="unbound on port %d to answer\n%s"
                          % (self.port, self.config_path))

    def query(self, name, qtype="A", *dig_args):
        """``dig`` through this resolver (recursion desired; dig asks with the AD bit, so a
        validated answer has ``"ad" in result.flags``)."""
        result = run_dig(self.port, name, qtype, "+recurse", *dig_args)
        self.queries.append((name, qtype, result.status, "ad" in result.flags))
        return result

    def validated_count(self):
        """How many of the queries asked through ``query`` came back with AD set."""
        return sum(1 for q in self.queries if q[3])

    def control(self, *args, timeout=30):
        """(exit code, output) of ``unbound-control`` on this instance."""
        require_executable(UNBOUND_CONTROL_BIN, "unbound-control")
        argv = [UNBOUND_CONTROL_BIN, "-c", self.config_path] + [str(a) for a in args]
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=timeout)
        return proc.returncode, proc.stdout.decode("utf-8", "replace")

    def flush(self):
        """Drops every cached answer, DNSKEYs and validation results, by ``unbound-control
        reload`` (which re-reads the config too, and restarts the statistics).
        ``flush_zone`` is not enough: Unbound 1.17 leaves the client-subnet cache (answers to
        queries with ECS) in place."""
        code, output = self.control("reload")
        if code != 0:
            raise AssertionError("unbound-control reload failed (exit %s):\n%s\n%s" % (code, output, self.log()))
        self.wait_ready()

    def stats(self):
        """``unbound-control stats_noreset`` as a dict of numbers (``num.answer.secure``,
        ``num.answer.bogus``, ``total.num.queries``...)."""
        code, output = self.control("stats_noreset")
        if code != 0:
            raise AssertionError("unbound-control stats_noreset failed (exit %s):\n%s" % (code, output))
        out = {}
        for line in output.splitlines():
            key, _, value = line.partition("=")
            try:
                out[key.strip()] = float(value)
            except ValueError:
                pass
        return out


def testcase_cleanup(testcase, fn, *args):
    """addCleanup for a test instance, addClassCleanup when given the class (setUpClass)."""
    if isinstance(testcase, type):
        testcase.addClassCleanup(fn, *args)
    else:
        testcase.addCleanup(fn, *args)


# --------------------------------------------------------------------------------------
# Wire format: encoding
# --------------------------------------------------------------------------------------

def split_name(name):
    """Labels of a presentation-format name; supports \\. and \\DDD escapes."""
    if name in (".", ""):
        return []
    labels, cur, i = [], bytearray(), 0
    while i < len(name):
        c = name[i]
        if c == "\\":
            if name[i + 1:i + 4].isdigit() and len(name[i + 1:i + 4]) == 3:
                cur.append(int(name[i + 1:i + 4]))
                i += 4
            else:
                cur += name[i + 1].encode()
                i += 2
            continue
        if c == ".":
            labels.append(bytes(cur))
            cur = bytearray()
        else:
            cur += c.encode()
        i += 1
    if cur:
        labels.append(bytes(cur))
    return labels


def encode_name(name):
    """Uncompressed wire form of a name (str in presentation form, or a list of labels)."""
    labels = split_name(name) if isinstance(name, str) else name
    out = bytearray()
    for label in labels:
        out.append(len(label) & 0xFF)  # no length check: tests build bad names on purpose
        out += label
    out.append(0)
    return bytes(out)


def encode_rr(name, rtype, rclass, ttl, rdata):
    if isinstance(name, (str, list)):
        name = encode_name(name)
    return name + struct.pack("!HHIH", type_code(rtype), rclass, ttl & 0xFFFFFFFF, len(rdata)) + rdata


def opt_rr(payload=1232, ext_rcode=0, version=0, do=False, options=(), flags=None):
    """An OPT pseudo-record; options are (code, bytes) pairs."""
    rdata = b"".join(struct.pack("!HH", code, len(data)) + data for code, data in options)
    z = flags if flags is not None else (0x8000 if do else 0)
    ttl = (ext_rcode << 24) | (version << 16) | z
    return b"\x00" + struct.pack("!HHIH", 41, payload, ttl, len(rdata)) + rdata


def ecs_option(address, source_prefix, scope_prefix=0, family=None, truncate=True):
    """An EDNS Client Subnet option (code 8) as (code, data)."""
    ip = ipaddress.ip_address(address)
    fam = family if family is not None else (1 if ip.version == 4 else 2)
    raw = ip.packed
    if truncate:
        raw = raw[:(source_prefix + 7) // 8]
    return (OPT_ECS, struct.pack("!HBB", fam, source_prefix, scope_prefix) + raw)


def header(qid, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid & 0xFFFF, flags, qd, an, ns, ar)


def make_query(name, qtype="A", qid=None, rd=False, opcode=0, edns=None, qclass=1,
               flags=None, cd=False, ad=False):
    """A query. ``edns`` is None (no OPT), True (defaults) or a dict of ``opt_rr`` arguments."""
    if qid is None:
        qid = int.from_bytes(os.urandom(2), "big")
    if flags is None:
        flags = (opcode & 0xF) << 11
        if rd:
            flags |= FLAG_RD
        if cd:
            flags |= FLAG_CD
        if ad:
            flags |= FLAG_AD
    add = []
    if edns:
        add.append(opt_rr(**(edns if isinstance(edns, dict) else {})))
    body = encode_name(name) + struct.pack("!HH", type_code(qtype), qclass)
    return header(qid, flags, 1, 0, 0, len(add)) + body + b"".join(add)


# --------------------------------------------------------------------------------------
# Wire format: decoding
# --------------------------------------------------------------------------------------

class ParseError(Exception):
    pass


def read_name(data, offset, allow_forward=False):
    """Read a possibly compressed name; returns (name_str, next_offset).

    Strict: pointers must point to earlier data (no loops, no forward pointers),
    labels <= 63 octets, whole name <= 255 octets.
    """
    labels = []
    total = 0
    jumped = False
    end = None
    pos = offset
    seen = set()
    while True:
        if pos >= len(data):
            raise ParseError("name runs past end of message at %d" % pos)
        length = data[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(data):
                raise ParseError("truncated compression pointer")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if not allow_forward and target >= pos:
                raise ParseError("forward/self compression pointer %d at %d" % (target, pos))
            if target in seen:
                raise ParseError("compression loop")
            seen.add(target)
            if not jumped:
                end = pos + 2
                jumped = True
            pos = target
            continue
        if length & 0xC0:
            raise ParseError("bad label type 0x%02x" % length)
        if length == 0:
            total += 1
            if not jumped:
                end = pos + 1
            break
        label = data[pos + 1:pos + 1 + length]
        if len(label) != length:
            raise ParseError("label runs past end of message")
        labels.append(label)
        total += length + 1
        if total > 255:
            raise ParseError("name longer than 255 octets")
        pos += 1 + length
    return labels_to_text(labels), end


def escape_label(label):
    out = []
    for b in label:
        ch = chr(b)
        if ch in '.\\"();$@ ' or b < 0x21 or b > 0x7E:
            if ch in '.\\"();$@':
                out.append("\\" + ch)
            else:
                out.append("\\%03d" % b)
        else:
            out.append(ch)
    return "".join(out)


def labels_to_text(labels):
    if not labels:
        return "."
    return ".".join(escape_label(l) for l in labels) + "."


class RR:
    __slots__ = ("name", "type", "cls", "ttl", "rdata", "text", "offset")

    def __init__(self, name, rtype, cls, ttl, rdata, text, offset):
        self.name, self.type, self.cls, self.ttl = name, rtype, cls, ttl
        self.rdata, self.text, self.offset = rdata, text, offset

    @property
    def type_name(self):
        return type_name(self.type)

    def key(self, with_ttl=True):
        """Comparable identity: (lowercased owner, type, ttl, rdata text with lowercased names)."""
        return (self.name.lower(), type_name(self.type), self.ttl if with_ttl else None, self.text)

    def __repr__(self):
        return "%s %d %s %s" % (self.name, self.ttl, self.type_name, self.text)


class Message:
    """A parsed DNS message. ``parse`` is strict: any structural fault raises ParseError."""

    def __init__(self):
        self.id = 0
        self.flags = 0
        self.questions = []
        self.answer = []
        self.authority = []
        self.additional = []
        self.opt = None
        self.raw = b""

    # header flags
    qr = property(lambda s: bool(s.flags & FLAG_QR))
    aa = property(lambda s: bool(s.flags & FLAG_AA))
    tc = property(lambda s: bool(s.flags & FLAG_TC))
    rd = property(lambda s: bool(s.flags & FLAG_RD))
    ra = property(lambda s: bool(s.flags & FLAG_RA))
    ad = property(lambda s: bool(s.flags & FLAG_AD))
    cd = property(lambda s: bool(s.flags & FLAG_CD))
    opcode = property(lambda s: (s.flags >> 11) & 0xF)

    @property
    def rcode(self):
        """Full rcode including the EDNS extended bits."""
        low = self.flags & 0xF
        if self.opt is not None:
            return ((self.opt.ttl >> 24) << 4) | low
        return low

    @property
    def rcode_name(self):
        return rcode_name(self.rcode)

    @property
    def edns_version(self):
        return None if self.opt is None else (self.opt.ttl >> 16) & 0xFF

    @property
    def edns_payload(self):
        return None if self.opt is None else self.opt.cls

    @property
    def edns_options(self):
        if self.opt is None:
            return []
        out, rd, i = [], self.opt.rdata, 0
        while i < len(rd):
            if i + 4 > len(rd):
                raise ParseError("truncated EDNS option header")
            code, length = struct.unpack("!HH", rd[i:i + 4])
            if i + 4 + length > len(rd):
                raise ParseError("truncated EDNS option data")
            out.append((code, rd[i + 4:i + 4 + length]))
            i += 4 + length
        return out

    def flag_names(self):
        names = []
        for bit, n in ((FLAG_QR, "qr"), (FLAG_AA, "aa"), (FLAG_TC, "tc"), (FLAG_RD, "rd"),
                       (FLAG_RA, "ra"), (FLAG_AD, "ad"), (FLAG_CD, "cd")):
            if self.flags & bit:
                names.append(n)
        return names

    def section(self, name):
        return {"answer": self.answer, "authority": self.authority,
                "additional": self.additional}[name]

    def rrs(self, section, rtype=None):
        recs = self.section(section)
        if rtype is not None:
            recs = [r for r in recs if r.type == type_code(rtype)]
        return recs

    def __str__(self):
        lines = [";; id %d opcode %d rcode %s flags %s" % (self.id, self.opcode, self.rcode_name,
                                                           " ".join(self.flag_names()))]
        if self.opt is not None:
            lines.append(";; EDNS version %d payload %d options %r"
                         % (self.edns_version, self.edns_payload, self.edns_options))
        for q in self.questions:
            lines.append(";QUESTION %s %s %d" % (q[0], type_name(q[1]), q[2]))
        for sec in ("answer", "authority", "additional"):
            for r in self.section(sec):
                lines.append("%-10s %r" % (sec.upper(), r))
        return "\n".join(lines)

    @classmethod
    def parse(cls, data):
        m = cls()
        m.raw = data
        if len(data) < 12:
            raise ParseError("message shorter than a header (%d octets)" % len(data))
        m.id, m.flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
        pos = 12
        for _ in range(qd):
            name, pos = read_name(data, pos)
            if pos + 4 > len(data):
                raise ParseError("truncated question")
            qtype, qclass = struct.unpack("!HH", data[pos:pos + 4])
            pos += 4
            m.questions.append((name, qtype, qclass))
        for count, target in ((an, m.answer), (ns, m.authority), (ar, m.additional)):
            for _ in range(count):
                rr, pos = parse_rr(data, pos)
                target.append(rr)
        if pos != len(data):
            raise ParseError("%d trailing octets after the last record" % (len(data) - pos))
        opts = [r for r in m.additional if r.type == 41]
        if len(opts) > 1:
            raise ParseError("more than one OPT record")
        if opts:
            if opts[0].name != ".":
                raise ParseError("OPT owner is not the root")
            if m.additional[-1].type != 41:
                pass  # position is not mandated; accepted
            m.opt = opts[0]
            m.additional = [r for r in m.additional if r.type != 41]
        for r in m.answer + m.authority:
            if r.type == 41:
                raise ParseError("OPT outside the additional section")
        return m


def parse_rr(data, pos):
    start = pos
    name, pos = read_name(data, pos)
    if pos + 10 > len(data):
        raise ParseError("truncated RR header")
    rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
    pos += 10
    if pos + rdlen > len(data):
        raise ParseError("RDATA runs past end of message")
    text = rdata_text(data, pos, rdlen, rtype)
    return RR(name, rtype, rclass, ttl, data[pos:pos + rdlen], text, start), pos + rdlen


def _char_string(data, pos, end):
    if pos >= end:
        raise ParseError("missing character-string")
    n = data[pos]
    if pos + 1 + n > end:
        raise ParseError("character-string runs past RDATA")
    s = data[pos + 1:pos + 1 + n]
    out = []
    for b in s:
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif b < 0x20 or b > 0x7E:
            out.append("\\%03d" % b)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"', pos + 1 + n


def rdata_text(data, pos, rdlen, rtype):
    """Canonical presentation of RDATA for comparisons; names are lowercased and absolute.

    Decoding failures of known types raise ParseError (they mean a malformed response).
    """
    end = pos + rdlen
    rd = data[pos:end]

    def name_at(p):
        n, q = read_name(data, p)
        if q > end:
            raise ParseError("name in RDATA runs past RDLENGTH")
        return n.lower(), q

    def finish(q, text):
        if q != end:
            raise ParseError("%s RDATA has %d extra octets" % (type_name(rtype), end - q))
        return text

    if rtype == 1:
        if rdlen != 4:
            raise ParseError("A RDATA of %d octets" % rdlen)
        return str(ipaddress.IPv4Address(rd))
    if rtype == 28:
        if rdlen != 16:
            raise ParseError("AAAA RDATA of %d octets" % rdlen)
        return str(ipaddress.IPv6Address(rd))
    if rtype in (2, 5, 12, 39):
        n, q = name_at(pos)
        return finish(q, n)
    if rtype == 6:
        m, q = name_at(pos)
        r, q = name_at(q)
        if q + 20 > end:
            raise ParseError("short SOA")
        nums = struct.unpack("!IIIII", data[q:q + 20])
        return finish(q + 20, "%s %s %s" % (m, r, " ".join(str(x) for x in nums)))
    if rtype == 15:
        if rdlen < 3:
            raise ParseError("short MX")
        pref = struct.unpack("!H", data[pos:pos + 2])[0]
        n, q = name_at(pos + 2)
        return finish(q, "%d %s" % (pref, n))
    if rtype == 33:
        if rdlen < 7:
            raise ParseError("short SRV")
        a, b, c = struct.unpack("!HHH", data[pos:pos + 6])
        n, q = name_at(pos + 6)
        return finish(q, "%d %d %d %s" % (a, b, c, n))
    if rtype in (16, 13):
        parts, q = [], pos
        while q < end:
            s, q = _char_string(data, q, end)
            parts.append(s)
        if rtype == 16 and not parts:
            raise ParseError("empty TXT RDATA")
        return " ".join(parts)
    if rtype == 35:
        if rdlen < 4:
            raise ParseError("short NAPTR")
        order, pref = struct.unpack("!HH", data[pos:pos + 4])
        q = pos + 4
        strs = []
        for _ in range(3):
            s, q = _char_string(data, q, end)
            strs.append(s)
        n, q = name_at(q)
        return finish(q, "%d %d %s %s" % (order, pref, " ".join(strs), n))
    if rtype == 257:
        if rdlen < 2:
            raise ParseError("short CAA")
        flags, tlen = data[pos], data[pos + 1]
        if pos + 2 + tlen > end:
            raise ParseError("CAA tag runs past RDATA")
        tag = data[pos + 2:pos + 2 + tlen].decode("latin-1")
        value = data[pos + 2 + tlen:end]
        return '%d %s "%s"' % (flags, tag, value.decode("latin-1").replace("\\", "\\\\").replace('"', '\\"'))
    if rtype == 44:
        if rdlen < 2:
            raise ParseError("short SSHFP")
        return "%d %d %s" % (data[pos], data[pos + 1], rd[2:].hex().upper())
    if rtype == 52:
        if rdlen < 3:
            raise ParseError("short TLSA")
        return "%d %d %d %s" % (data[pos], data[pos + 1], data[pos + 2], rd[3:].hex().upper())
    if rtype == 41:
        return "OPT %s" % rd.hex()
    return "\\# %d %s" % (rdlen, rd.hex().upper()) if rdlen else "\\# 0"


# --------------------------------------------------------------------------------------
# Transports
# --------------------------------------------------------------------------------------

def udp_exchange(port, wire, timeout=2.0, host="127.0.0.1"):
    """Send one datagram, return the raw reply (the first one whose ID matches)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.send(wire)
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.001, deadline - time.monotonic()))
            data = s.recv(65535)
            if len(wire) < 2 or data[:2] == wire[:2]:
                return data


def udp_query(port, wire, timeout=2.0):
    return Message.parse(udp_exchange(port, wire, timeout))


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed after %d of %d octets" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def tcp_frame(wire):
    return struct.pack("!H", len(wire)) + wire


def tcp_read_message(sock):
    (length,) = struct.unpack("!H", recv_exact(sock, 2))
    return recv_exact(sock, length)


def tcp_connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def tcp_exchange(port, wire, timeout=5.0):
    with tcp_connect(port, timeout) as s:
        s.sendall(tcp_frame(wire))
        return tcp_read_message(s)


def tcp_query(port, wire, timeout=5.0):
    return Message.parse(tcp_exchange(port, wire, timeout))


def query(port, name, qtype="A", tcp=False, timeout=3.0, **kwargs):
    wire = make_query(name, qtype, **kwargs)
    m = tcp_query(port, wire, timeout) if tcp else udp_query(port, wire, timeout)
    if m.id != struct.unpack("!H", wire[:2])[0]:
        raise ParseError("reply ID mismatch")
    return m


def connection_closed(sock, timeout):
    """True if the peer closes ``sock`` (EOF or reset) within ``timeout`` seconds."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(1)
        return data == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# --------------------------------------------------------------------------------------
# dig / kdig
# --------------------------------------------------------------------------------------

class DigResult:
    def __init__(self, tool, argv, returncode, output):
        self.tool, self.argv, self.returncode, self.output = tool, argv, returncode, output
        self.status = None
        self.flags = set()
        self.counts = {}
        self.sections = {"QUESTION": [], "ANSWER": [], "AUTHORITY": [], "ADDITIONAL": []}
        self.truncated_warning = False
        self.edns = None
        self._parse()

    def _parse(self):
        section = None
        for line in self.output.splitlines():
            if "->>HEADER<<-" in line:
                m = re.search(r"status: (\w+)", line)
                if m:
                    self.status = m.group(1)
                continue
            m = re.match(r";; [Ff]lags: ([a-z ]*);(.*)", line)
            if m:
                self.flags = set(m.group(1).split())
                for k, v in re.findall(r"(QUERY|ANSWER|AUTHORITY|ADDITIONAL): (\d+)", m.group(2)):
                    self.counts[k] = int(v)
                continue
            m = re.search(r"(?:; EDNS: version: (\d+).*udp: (\d+))|(?:;; Version: (\d+);.*UDP size: (\d+))", line)
            if m:
                version = m.group(1) or m.group(3)
                size = m.group(2) or m.group(4)
                self.edns = (int(version), int(size))
                continue
            if "runcated" in line:
                self.truncated_warning = True
            m = re.match(r";; (QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:", line)
            if m:
                section = m.group(1)
                continue
            if not line.strip():
                section = None
                continue
            if section == "QUESTION":
                self.sections[section].append(line.lstrip("; ").split())
                continue
            if line.startswith(";") or section is None:
                continue
            parts = line.split(None, 4)
            if len(parts) >= 4:
                self.sections[section].append(parts)

    def records(self, section="ANSWER", rtype=None):
        out = []
        for parts in self.sections[section]:
            owner, ttl = parts[0], parts[1]
            if parts[2].upper() == "IN":
                t, rdata = parts[3], parts[4] if len(parts) > 4 else ""
            else:
                rest = parts[2:]
                t, rdata = rest[0], " ".join(rest[1:])
            if rtype is None or t.upper() == rtype.upper():
                out.append((owner.lower(), int(ttl), t.upper(), rdata))
        return out

    def __str__(self):
        return "$ %s\n%s" % (" ".join(self.argv), self.output)


def run_dig(port, name, qtype="A", *opts, tool="dig", timeout=20):
    exe = shutil.which(tool)
    if exe is None:
        raise AssertionError("%s is not installed" % tool)
    argv = [exe, "@127.0.0.1", "-p", str(port), name, qtype, "+norecurse", "+time=2", "+tries=2"]
    if tool == "kdig":
        argv = [exe, "@127.0.0.1", "-p", str(port), name, qtype, "+norecurse", "+time=2",
                "+retry=1"]
    argv += list(opts)
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return DigResult(tool, argv, proc.returncode, proc.stdout.decode("utf-8", "replace"))


class E2ECase(unittest.TestCase):
    """Base class with a few DNS-aware assertions."""

    maxDiff = None

    def assertRcode(self, msg, rcode, context=""):
        expected = RCODES[rcode] if isinstance(rcode, str) else rcode
        self.assertEqual(msg.rcode, expected, "rcode %s, expected %s %s\n%s"
                         % (msg.rcode_name, rcode_name(expected), context, msg))

    def assertFlags(self, msg, aa=None, tc=None, qr=True, rd=None, context=""):
        for flag, want in (("aa", aa), ("tc", tc), ("qr", qr), ("rd", rd)):
            if want is None:
                continue
            self.assertEqual(getattr(msg, flag), want, "flag %s should be %s %s\n%s"
                             % (flag, want, context, msg))

    def keys(self, rrs, with_ttl=True):
        return sorted(r.key(with_ttl) for r in rrs)


# --------------------------------------------------------------------------------------
# dnsctl, GeoIP fixtures and health-check endpoints (health, operations tests)
# --------------------------------------------------------------------------------------

class DnsctlResult:
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv, self.returncode, self.stdout, self.stderr = argv, returncode, stdout, stderr

    def json(self):
        import json
        try:
            return json.loads(self.stdout)
        except ValueError as error:
            raise AssertionError("dnsctl printed no JSON (%s):\n%s" % (error, self))

    def __str__(self):
        return "$ %s\nexit %s\nstdout:\n%s\nstderr:\n%s" % (" ".join(self.argv), self.returncode,
                                                           self.stdout, self.stderr)


def run_dnsctl(*args, cwd=None, timeout=120):
    """Runs dnsctl with ``args``; never raises on a non-zero exit."""
    require_executable(DNSCTL_BIN, "dnsctl")
    argv = [DNSCTL_BIN] + [str(a) for a in args]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          cwd=cwd, stdin=subprocess.DEVNULL)
    return DnsctlResult(argv, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                        proc.stderr.decode("utf-8", "replace"))


def build_mmdb(rows, directory, name="geo"):
    """A MaxMind DB written by ``dnsctl geoip build`` from CSV rows
    ``(network, latitude, longitude, country, continent, subdivision)``; returns its path."""
    csv_path = os.path.join(directory, name + ".csv")
    with open(csv_path, "w") as f:
        f.write("network,latitude,longitude,country,continent,subdivision\n")
        for row in rows:
            f.write(",".join(str(x) for x in row) + "\n")
    out = os.path.join(directory, name + ".mmdb")
    result = run_dnsctl("geoip", "build", csv_path, out)
    if result.returncode != 0:
        raise AssertionError("dnsctl geoip build failed:\n%s" % result)
    return out


def make_self_signed_cert(directory, common_name="127.0.0.1"):
    """(certificate, key) paths of a fresh self-signed certificate made with the openssl CLI."""
    exe = shutil.which("openssl")
    if exe is None:
        raise AssertionError("openssl is not installed (Debian package openssl)")
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    proc = subprocess.run([exe, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                           "-subj", "/CN=%s" % common_name, "-keyout", key, "-out", cert],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("openssl req failed:\n%s" % proc.stdout.decode(errors="replace"))
    return cert, key


class HealthEndpoint:
    """A real HTTP (or HTTPS) health endpoint on 127.0.0.1, served from threads. Its
    behaviour is switched while it runs:

    ``ok``     200 with body ``ok``
    ``fail``   503
    ``body``   200 with a body that does not say ``ok``
    ``hang``   read the request and never answer (until the mode changes)
    ``close``  read the request and close the connection without a response
    ``flap``   200 and 503 alternately, one per request

    Keep-alive connections are served, so a mode change applies to the next request on an
    open connection too. ``requests`` lists ``(monotonic time, path, mode, status)`` for
    every request read (status None when none was sent), ``hosts`` their Host headers.

    ``agent_log`` lists ``(monotonic time, User-Agent, status)`` of every request,
    ``user_agents`` just the User-Agents. For fleet tests: in mode ``ok`` a request
    whose User-Agent says ``(node NAME)`` with NAME in ``fail_for_nodes`` (empty unless
    set) gets 503, so a check can fail for some probing nodes only (see
    ``FleetHealthEndpoint``).
    """

    def __init__(self, testcase, mode="ok", tls=None):
        import http.server
        import socketserver
        import threading

        self.mode = mode
        self.requests = []
        self.hosts = []
        self.agent_log = []
        self.fail_for_nodes = set()
        self.tls_failures = 0
        self._lock = threading.Lock()
        self._flap = 0
        self._stopping = threading.Event()
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                if tls is not None:
                    try:
                        self.request.settimeout(5)
                        self.request.do_handshake()
                        self.request.settimeout(None)
                    except (OSError, ValueError):
                        with endpoint._lock:
                            endpoint.tls_failures += 1
                        raise
                super().setup()

            def handle(self):
                try:
                    super().handle()
                except (OSError, ValueError):
                    pass

            def log_message(self, *args):
                pass

            def _drop(self):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def do_GET(self):
                with endpoint._lock:
                    mode = endpoint.mode
                    if mode == "flap":
                        endpoint._flap += 1
                        status = 200 if endpoint._flap % 2 == 1 else 503
                    else:
                        status = {"ok": 200, "fail": 503, "body": 200}.get(mode)
                    agent = self.headers.get("User-Agent")
                    if mode == "ok" and endpoint.fail_for_nodes:
                        node = probing_node(agent)
                        if node is not None and node in endpoint.fail_for_nodes:
                            status = 503
                    endpoint.requests.append((time.monotonic(), self.path, mode, status))
                    endpoint.hosts.append(self.headers.get("Host"))
                    endpoint.agent_log.append((time.monotonic(), agent, status))
                if mode == "hang":
                    while endpoint.mode == "hang" and not endpoint._stopping.wait(0.02):
                        pass
                    self._drop()
                    return
                if status is None:  # close
                    self._drop()
                    return
                body = b"maintenance\n" if mode == "body" else (b"ok\n" if status == 200 else b"unavailable\n")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass  # failed TLS handshakes are expected (and counted in tls_failures)

        self.server = Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        testcase_cleanup(testcase, self.stop)

    def url(self, path="/healthz"):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    @property
    def user_agents(self):
        with self._lock:
            return [agent for _, agent, _ in self.agent_log]

    def set_mode(self, mode):
        with self._lock:
            self.mode = mode
            self._flap = 0

    def count(self, mode=None, path=None, since=0.0):
        with self._lock:
            return sum(1 for t, p, m, _ in self.requests
                       if t >= since and (mode is None or m == mode) and (path is None or p == path))

    def stop(self):
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class TCPEndpoint:
    """A TCP listener on 127.0.0.1 that accepts connections and closes them; ``close()``
    stops listening (connections are then refused) and ``reopen()`` listens on the same
    port again."""

    def __init__(self, testcase):
        import threading
        self._threading = threading
        self.port = None
        self.accepted = 0
        self._sock = None
        self._thread = None
        self._stop = None
        self.reopen()
        testcase_cleanup(testcase, self.close)

    def reopen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port or 0))
        s.listen(64)
        s.settimeout(0.05)
        self.port = s.getsockname()[1]
        self._sock = s
        self._stop = self._threading.Event()
        self._thread = self._threading.Thread(target=self._serve, args=(s, self._stop), daemon=True)
        self._thread.start()

    def _serve(self, s, stop):
        while not stop.is_set():
            try:
                conn, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        if self._sock is None:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()
        self._sock = None


# --------------------------------------------------------------------------------------
# Fleet: an etcd cluster, the fleet config section, node-aware health endpoints
# --------------------------------------------------------------------------------------

NODE_IN_USER_AGENT = re.compile(r"\(node ([^)\s]+)\)")


def probing_node(user_agent):
    """The node name in a probe's ``User-Agent: Meridian/VERSION (node NAME)``, or None."""
    m = NODE_IN_USER_AGENT.search(user_agent or "")
    return m.group(1) if m else None


class FleetHealthEndpoint(HealthEndpoint):
    """A HealthEndpoint that answers 503 to the probes of the nodes in ``fail_for_nodes``
    only (while its mode is ``ok``) and 200 to everyone else."""

    def __init__(self, testcase, fail_for_nodes=(), **kwargs):
        super().__init__(testcase, **kwargs)
        self.fail_for_nodes = set(fail_for_nodes)

    def set_fail_for_nodes(self, *nodes):
        with self._lock:
            self.fail_for_nodes = set(nodes)

    def nodes_seen(self, since=0.0):
        """Node names in the User-Agents of the requests since ``since`` (monotonic)."""
        with self._lock:
            return {probing_node(agent) for t, agent, _ in self.agent_log if t >= since} - {None}

    def agents(self, since=0.0):
        with self._lock:
            return [agent for t, agent, _ in self.agent_log if t >= since]


def require_etcd():
    """Skips the test (or class) when etcd or etcdctl is missing."""
    for path, what in ((ETCD_BIN, "etcd"), (ETCDCTL_BIN, "etcdctl")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise unittest.SkipTest("%s not found or not executable at %s (Debian packages "
                                    "etcd-server and etcd-client; or set ETCD_BIN/ETCDCTL_BIN)"
                                    % (what, path))


class EtcdTLS:
    """A private CA (openssl), a server certificate for 127.0.0.1 and a client certificate,
    for etcd with client-certificate authentication."""

    def __init__(self, testcase):
        if shutil.which("openssl") is None:
            raise AssertionError("openssl is not installed")
        self.dir = make_tempdir(testcase, prefix="etcd-tls-")
        self.ca, self.ca_key = self.path("ca.pem"), self.path("ca-key.pem")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", self.ca_key, "-out", self.ca, "-days", "2", "-subj", "/CN=meridian-e2e-ca")
        self.server_cert, self.server_key = self.issue("server", "127.0.0.1", server=True)
        self.client_cert, self.client_key = self.issue("client", "meridian-node", server=False)

    def path(self, name):
        return os.path.join(self.dir, name)

    def _openssl(self, *args):
        result = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise AssertionError("openssl %s failed:\n%s" % (args[0], result.stdout.decode(errors="replace")))

    def issue(self, name, common_name, server):
        """A certificate and key signed by the CA: (cert path, key path)."""
        key, csr, cert, ext = (self.path(name + suffix) for suffix in ("-key.pem", ".csr", ".pem", ".ext"))
        with open(ext, "w") as f:
            if server:
                # etcd's JSON gateway dials its own member with this certificate: clientAuth too.
                f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
            else:
                f.write("extendedKeyUsage=clientAuth\n")
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                      "-out", csr, "-subj", "/CN=%s" % common_name)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial",
                      "-out", cert, "-days", "2", "-extfile", ext)
        os.chmod(key, 0o600)
        return cert, key

    def server_args(self):
        return ["--cert-file", self.server_cert, "--key-file", self.server_key,
                "--trusted-ca-file", self.ca, "--client-cert-auth"]

    def client_args(self):
        return ["--cacert", self.ca, "--cert", self.client_cert, "--key", self.client_key]


class EtcdCluster:
    """A private etcd cluster (three members by default) on free loopback ports, each member
    with its own data directory and log file. Elections are fast (heartbeat 50 ms, election
    timeout 500 ms). Members are stopped and restarted with their data, so a restarted
    member rejoins the same cluster."""

    HEALTH_TIMEOUT = float(os.environ.get("E2E_ETCD_TIMEOUT", "30"))

    def __init__(self, testcase, size=3, workdir=None, tls=None):
        """``tls``: an ``EtcdTLS``; clients then speak HTTPS and must show a certificate
        signed by its CA."""
        require_etcd()
        self.tls = tls
        self.workdir = workdir or make_tempdir(testcase, prefix="etcd-e2e-")
        self.token = "meridian-e2e-%s" % uuid.uuid4().hex
        self.names = ["m%d" % i for i in range(size)]
        self.client_ports = []
        self.peer_ports = []
        used = set()
        for _ in range(size):
            for ports in (self.client_ports, self.peer_ports):
                port = free_port()
                while port in used:
                    port = free_port()
                used.add(port)
                ports.append(port)
        self.procs = [None] * size
        self._logs = [None] * size
        self._started = [False] * size  # started at least once: restarts join as "existing"

    # ---- addresses --------------------------------------------------------------------

    @property
    def endpoints(self):
        """Client URLs of every member, running or not."""
        scheme = "https" if self.tls else "http"
        return ["%s://127.0.0.1:%d" % (scheme, port) for port in self.client_ports]

    def endpoint(self, i):
        return self.endpoints[i]

    def peer_url(self, i):
        return "http://127.0.0.1:%d" % self.peer_ports[i]

    def data_dir(self, i):
        return os.path.join(self.workdir, self.names[i] + ".etcd")

    def log_path(self, i):
        return os.path.join(self.workdir, self.names[i] + ".log")

    def running(self, i):
        return self.procs[i] is not None and self.procs[i].poll() is None

    def running_members(self):
        return [i for i in range(len(self.names)) if self.running(i)]

    def log(self, i=None):
        """The log of member ``i``, or of all members, for failure messages."""
        members = range(len(self.names)) if i is None else [i]
        parts = []
        for j in members:
            try:
                with open(self.log_path(j), errors="replace") as f:
                    parts.append("---- etcd %s ----\n%s" % (self.names[j], f.read()[-4000:]))
            except OSError:
                pass
        return "\n".join(parts)

    # ---- processes --------------------------------------------------------------------

    def _argv(self, i):
        initial = ",".join("%s=%s" % (name, self.peer_url(j)) for j, name in enumerate(self.names))
        return [ETCD_BIN,
                "--name", self.names[i],
                "--data-dir", self.data_dir(i),
                "--listen-client-urls", self.endpoint(i),
                "--advertise-client-urls", self.endpoint(i),
                "--listen-peer-urls", self.peer_url(i),
                "--initial-advertise-peer-urls", self.peer_url(i),
                "--initial-cluster", initial,
                "--initial-cluster-state", "existing" if self._started[i] else "new",
                "--initial-cluster-token", self.token,
                "--heartbeat-interval", "50",
                "--election-timeout", "500",
                "--logger", "zap",
                "--log-outputs", "stderr"] + (self.tls.server_args() if self.tls else [])

    def _spawn(self, i):
        if self.running(i):
            return
        log = open(self.log_path(i), "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD")}
        self.procs[i] = subprocess.Popen(self._argv(i), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir, env=env)
        self._logs[i] = log
        self._started[i] = True

    def _reap(self, i, sig=signal.SIGTERM):
        if self.procs[i] is None:
            return None
        code = stop_process(self.procs[i], sig)
        self._logs[i].close()
        self.procs[i] = None
        return code

    def start(self, testcase, timeout=None):
        """Starts every member, waits until all are healthy, registers the cleanup."""
        testcase_cleanup(testcase, self.stop_all)
        return self.start_all(timeout)

    def start_all(self, timeout=None):
        """Starts the members that are not running and waits until all are healthy."""
        for i in range(len(self.names)):
            self._spawn(i)
        self.wait_healthy(timeout=timeout)
        return self

    def stop_all(self, sig=None):
        """Stops every member, one after the other, the leader last. By default with
        SIGTERM, but the last member with SIGKILL: left without a quorum, it would spend
        five seconds trying to hand its leadership over before it exits (members signalled
        together do the same). etcd syncs its log before it acknowledges a write, so
        nothing written is lost."""
        running = self.running_members()
        leader = self.leader() if len(running) > 1 else None
        ordered = sorted(running, key=lambda i: i == leader)
        for n, i in enumerate(ordered):
            if sig is not None:
                self._reap(i, sig)
            else:
                self._reap(i, signal.SIGKILL if n == len(ordered) - 1 else signal.SIGTERM)

    def start_member(self, i, timeout=None):
        """Restarts member ``i`` with its data dir; waits until it is healthy."""
        self._spawn(i)
        self.wait_healthy([i], timeout=timeout)

    def stop_member(self, i, sig=signal.SIGTERM):
        return self._reap(i, sig)

    # ---- etcdctl ----------------------------------------------------------------------

    def run_etcdctl(self, *args, endpoints=None, timeout=30):
        """(exit code, combined output) of ``etcdctl`` (API 3) against ``endpoints``
        (default: the running members)."""
        if endpoints is None:
            endpoints = [self.endpoint(i) for i in self.running_members()] or self.endpoints
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL")}
        env["ETCDCTL_API"] = "3"
        argv = [ETCDCTL_BIN, "--endpoints=%s" % ",".join(endpoints), "--dial-timeout=1s",
                "--command-timeout=3s"] + (self.tls.client_args() if self.tls else []) + [str(a) for a in args]
        try:
            proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, "$ %s\ntimed out after %ss" % (" ".join(argv), timeout)
        return proc.returncode, proc.stdout.decode("utf-8", "replace")

    def etcdctl(self, *args, endpoints=None, timeout=30):
        """The output of ``etcdctl args`` (API 3); raises AssertionError when it fails."""
        code, output = self.run_etcdctl(*args, endpoints=endpoints, timeout=timeout)
        if code != 0:
            raise AssertionError("etcdctl %s failed (exit %s):\n%s"
                                 % (" ".join(str(a) for a in args), code, output))
        return output

    def healthy(self, members=None):
        """True when ``etcdctl endpoint health`` passes for each of ``members`` (default all)."""
        members = range(len(self.names)) if members is None else members
        endpoints = [self.endpoint(i) for i in members]
        if not all(self.running(i) for i in members):
            return False
        code, _ = self.run_etcdctl("endpoint", "health", endpoints=endpoints, timeout=10)
        return code == 0

    def wait_healthy(self, members=None, timeout=None):
        timeout = self.HEALTH_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        members = list(range(len(self.names))) if members is None else list(members)
        while not self.healthy(members):
            for i in members:
                if self.procs[i] is not None and self.procs[i].poll() is not None:
                    raise AssertionError("etcd member %s exited with %s:\n%s"
                                         % (self.names[i], self.procs[i].returncode, self.log(i)))
            if time.monotonic() >= deadline:
                raise AssertionError("etcd members %s not healthy within %.0fs:\n%s"
                                     % ([self.names[i] for i in members], timeout, self.log()))
            time.sleep(0.1)

    def leader(self):
        """Index of the current leader among the running members, or None."""
        code, output = self.run_etcdctl("endpoint", "status", "-w", "json", timeout=10)
        if code != 0:
            return None
        try:
            rows = json.loads(output)
        except ValueError:
            return None
        for row in rows:
            status = row.get("Status", {})
            if status.get("header", {}).get("member_id") == status.get("leader"):
                endpoint = row.get("Endpoint")
                if endpoint in self.endpoints:
                    return self.endpoints.index(endpoint)
        return None


def fleet_config(node, endpoints, prefix, quorum="majority", lease_ttl="2s", extra=""):
    """The ``fleet:`` section of a node's config. ``extra``: further lines of the section,
    indented by two spaces (for example ``"  data: published\n"``)."""
    text = ("fleet:\n"
            "  node: %s\n"
            "  etcd: [%s]\n"
            "  prefix: %s\n"
            "  health_quorum: %s\n"
            "  lease_ttl: %s\n") % (node, ", ".join('"%s"' % e for e in endpoints), prefix,
                                     quorum, lease_ttl)
    if extra and not extra.endswith("\n"):
        extra += "\n"
    return text + extra
