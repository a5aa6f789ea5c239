"""Operating the real server: every dnsctl command over the control socket in both output
modes, safe reloads (also under load), drains, `explain` against what `dig` really gets,
the stats port's Prometheus metrics checked by a real parser and against the queries sent,
and the dashboard rendered by headless Chromium."""

import http.client
import ipaddress
import json
import math
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import threading
import time
import unittest

from harness import (DNSCTL_BIN, REPO, E2ECase, HealthEndpoint, Meridian, TCPEndpoint, build_mmdb,
                     ecs_option, free_port, make_query, make_tempdir, require_executable, run_dig,
                     run_dnsctl, tcp_query, udp_query, wait_until)

EDGES = {
    # name: (latitude, longitude, IPv4, IPv6 or None)
    "fra1": (50.11, 8.68, "192.0.2.10", "2001:db8::10"),
    "ams1": (52.37, 4.90, "192.0.2.20", None),
    "iad1": (39.04, -77.49, "192.0.2.30", None),
    "sin1": (1.35, 103.82, "192.0.2.40", "2001:db8::40"),
}

# network, latitude, longitude, country, continent, subdivision
NETWORKS = [
    ("5.1.0.0/16", 50.1, 8.7, "DE", "EU", "HE"),
    ("5.1.9.128/25", 1.29, 103.85, "SG", "AS", ""),  # a Singapore block inside Frankfurt's
    ("81.2.69.0/24", 51.5, -0.12, "GB", "EU", "ENG"),
    ("8.8.8.0/24", 37.75, -97.82, "US", "NA", ""),
    ("103.4.96.0/22", 1.29, 103.85, "SG", "AS", ""),
    ("1.0.16.0/20", 35.69, 139.75, "JP", "AS", "13"),
    ("200.160.0.0/20", -23.5, -46.6, "BR", "SA", "SP"),
    ("12.34.0.0/16", "", "", "US", "NA", ""),
    ("2001:200::/32", 35.69, 139.75, "JP", "AS", ""),
    ("2a00:1450::/32", 53.35, -6.26, "IE", "EU", ""),
]
FRANKFURT = "5.1.2.0/24"
LONDON = "81.2.69.0/24"

ORIGIN = "ops.test."


def zone_text(serial=1, alt="192.0.2.101", broken=False):
    lines = [
        "$ORIGIN ops.test.",
        "$TTL 300",
        "@       IN SOA ns hostmaster %d 3600 600 86400 60" % serial,
        "@       IN NS  ns",
        "ns      IN A   192.0.2.53",
        "www     IN A   192.0.2.80",
        "alt     IN A   %s" % alt,
        "api     30 IN DYNA edges",
        "duo     30 IN DYNA duo",
        "cdn     30 IN DYNC edges",
    ]
    if broken:
        lines.append("broken  IN A   1.2.3")  # line 11
    return "\n".join(lines) + "\n"


BROKEN_LINE = 11

POOLS = """pools:
  edges:
    edges: [fra1, ams1, iad1, sin1]
    policy: nearest
    fallback: [iad1]
  duo:
    edges: [fra1, ams1, iad1, sin1]
    policy: nearest
    answers: 2
"""


def edges_yaml(checks):
    lines = ["edges:"]
    for name, (lat, lon, v4, v6) in EDGES.items():
        addresses = ", ".join('"%s"' % a for a in (v4, v6) if a)
        lines += ["  %s:" % name, "    location: [%s, %s]" % (lat, lon), "    addresses: [%s]" % addresses,
                  '    cname: "%s.edge.example.net."' % name]
        if checks.get(name):
            lines += ["    check:"] + ["      " + c for c in checks[name]] + [
                "      interval: 200ms", "      timeout: 100ms", "      rise: 2", "      fall: 2"]
    return "\n".join(lines) + "\n"


def edge_of(address):
    for name, (_, _, v4, v6) in EDGES.items():
        if address in (v4, v6):
            return name
    return None


# --------------------------------------------------------------------------------------
# Prometheus text: a real parser validates, values are read from it
# --------------------------------------------------------------------------------------

def prometheus_samples(testcase, text):
    """Validates ``text`` with promtool and/or prometheus_client (failing when neither is
    installed) and returns {(sample name, frozenset(labels)): value}."""
    checked = False
    promtool = shutil.which("promtool")
    if promtool:
        proc = subprocess.run([promtool, "check", "metrics"], input=text.encode(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=60)
        testcase.assertEqual(proc.returncode, 0, "promtool check metrics:\n%s" % proc.stdout.decode(errors="replace"))
        checked = True
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        text_string_to_metric_families = None
    if text_string_to_metric_families is not None:
        samples = {}
        for family in text_string_to_metric_families(text):
            for entry in family.samples:
                samples[(entry.name, frozenset(entry.labels.items()))] = entry.value
        return samples
    if not checked:
        testcase.fail("no Prometheus parser installed: install the Debian package `prometheus` (promtool) "
                      "or `python3-prometheus-client` / pip `prometheus_client`")
    # promtool accepted the exposition; read the values off its simple sample lines.
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$', line)
        testcase.assertIsNotNone(m, "unreadable sample line: %r" % line)
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def sample(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


# --------------------------------------------------------------------------------------
# Base
# --------------------------------------------------------------------------------------

class OperationsCase(E2ECase):
    @classmethod
    def setUpClass(cls):
        require_executable(DNSCTL_BIN, "dnsctl")
        cls.fixtures = make_tempdir(cls, prefix="ops-e2e-")
        cls.mmdb = build_mmdb(NETWORKS, cls.fixtures)

    def start_server(self, healthy_fra1=True, stats=True, start=True):
        """fra1 checked against a passing HTTP endpoint, ams1 against a closed TCP port
        (down), iad1 and sin1 without checks."""
        self.endpoint = HealthEndpoint(self, mode="ok" if healthy_fra1 else "fail")
        refused = TCPEndpoint(self)
        refused.close()
        self.stats_port = free_port() if stats else None
        extra = ("geoip:\n  database: %s\n  client_subnet: true\n"
                 "  overrides:\n    - network: 198.18.0.0/15\n      edges: [sin1]\n" % self.mmdb)
        if stats:
            extra += 'stats:\n  listen: "127.0.0.1:%d"\n' % self.stats_port
        extra += edges_yaml({"fra1": ['http: "%s"' % self.endpoint.url()],
                             "ams1": ['tcp: "127.0.0.1:%d"' % refused.port]})
        extra += POOLS
        self.server = Meridian(self, {ORIGIN: zone_text()}, extra_config=extra)
        if start:
            self.server.start(self)
            self.await_edge_state("ams1", "down")
            if healthy_fra1:
                self.await_edge_state("fra1", "up")
        return self.server

    def ctl(self, *args, server=None):
        server = server or self.server
        return run_dnsctl("--socket", server.socket_path, *args)

    def ctl_ok(self, *args):
        result = self.ctl(*args)
        self.assertEqual(result.returncode, 0, str(result))
        return result

    def ctl_json(self, *args):
        result = self.ctl_ok(*(args + ("--json",)))
        return result.json()

    def await_edge_state(self, edge, state, timeout=10):
        def check():
            rows = {r["name"]: r for r in self.ctl_json("edges")["edges"]}
            return rows[edge]["state"] == state
        wait_until(check, timeout, message="edge %s %s" % (edge, state))

    def ask(self, name, qtype="A", subnet=None, tcp=False):
        edns = True
        if subnet:
            net = ipaddress.ip_network(subnet, strict=False)
            edns = {"options": [ecs_option(str(net.network_address), net.prefixlen)]}
        wire = make_query(name, qtype, edns=edns)
        return tcp_query(self.server.port, wire) if tcp else udp_query(self.server.port, wire)

    def addresses(self, name, subnet=None, qtype="A"):
        return sorted(rr.text for rr in self.ask(name, qtype, subnet).rrs("answer"))

    def serial(self):
        soa = self.ask(ORIGIN, "SOA").rrs("answer", "SOA")
        self.assertEqual(len(soa), 1)
        return int(soa[0].text.split()[2])

    def chromium_command(self):
        """Headless Chromium with a fresh profile and five seconds of virtual time, enough for
        the dashboard's first polls."""
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            self.fail("chromium is not installed: install the Debian package `chromium`")
        profile = make_tempdir(self, prefix="ops-chromium-")
        return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=%s" % profile,
                "--virtual-time-budget=5000"]

    def dashboard_dom(self):
        """The dashboard as headless Chromium has it once its script ran."""
        url = "http://127.0.0.1:%d/" % self.stats_port
        proc = subprocess.run(self.chromium_command() + ["--dump-dom", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace")[-2000:])
        return DashboardDOM(proc.stdout.decode("utf-8", "replace"))

    def http_get(self, path, method="GET", body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.stats_port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
        finally:
            conn.close()


# --------------------------------------------------------------------------------------
# dnsctl commands, both output modes
# --------------------------------------------------------------------------------------

class DnsctlCommandsTest(OperationsCase):
    def setUp(self):
        self.start_server()

    def test_status(self):
        # The readiness query has been answered; counters reach status within moments.
        status = wait_until(lambda: (lambda s: s if s["queriesTotal"] >= 1 else None)(self.ctl_json("status")), 5,
                            message="the readiness query in queriesTotal")
        self.assertRegex(status["version"], r"^\d+\.\d+")
        self.assertGreaterEqual(status["uptimeSeconds"], 0)
        self.assertEqual([(z["name"], z["serial"]) for z in status["zones"]], [(ORIGIN, 1)])
        self.assertGreater(status["zones"][0]["records"], 5)
        self.assertIn("queriesPerSecond", status)
        self.assertGreaterEqual(status["queriesTotal"], 1)
        self.assertEqual(status["geoip"]["path"], self.mmdb)
        text = self.ctl_ok("status").stdout
        self.assertIn("meridian %s" % status["version"], text)
        self.assertRegex(text, r"(?m)^%s\s+1\s" % re.escape(ORIGIN))
        self.assertIn("queries", text)
        self.assertIn("last reload", text)
        # Global options before the command, and --config instead of --socket.
        before = run_dnsctl("--json", "--config", self.server.config_path, "status")
        self.assertEqual(before.returncode, 0, str(before))
        self.assertEqual(before.json()["zones"], status["zones"])

    def test_edges(self):
        rows = {r["name"]: r for r in self.ctl_json("edges")["edges"]}
        self.assertEqual(list(rows), list(EDGES))
        self.assertEqual((rows["fra1"]["state"], rows["fra1"]["admin"], rows["fra1"]["checked"]), ("up", "active", True))
        self.assertIn("HTTP 200", rows["fra1"]["result"])
        self.assertIn("lastCheck", rows["fra1"])
        self.assertIn("latencyMs", rows["fra1"])
        self.assertEqual(rows["ams1"]["state"], "down")
        self.assertIn("connection refused", rows["ams1"]["result"])
        self.assertEqual((rows["iad1"]["state"], rows["iad1"]["checked"]), ("up", False))
        self.assertEqual(rows["sin1"]["addresses"], ["192.0.2.40", "2001:db8::40"])
        self.assertEqual(rows["fra1"]["pools"], ["edges", "duo"])
        text = self.ctl_ok("edges").stdout
        for name in EDGES:
            self.assertRegex(text, r"(?m)^%s\s" % name)
        line = {l.split()[0]: l for l in text.splitlines() if l.strip()}
        self.assertIn("up", line["fra1"].split())
        self.assertIn("down", line["ams1"].split())
        self.assertIn("connection refused", line["ams1"])
        self.assertIn("HTTP 200", line["fra1"])

    def test_stats(self):
        for _ in range(5):
            self.assertEqual(self.addresses("api.ops.test.", FRANKFURT), ["192.0.2.10"])

        def counted():
            stats = self.ctl_json("stats")
            return stats if stats["answersByEdge"].get("fra1", 0) >= 5 else None
        stats = wait_until(counted, 5, message="five fra1 answers counted")
        self.assertGreaterEqual(stats["queries"]["byTransport"]["udp"], 5)
        self.assertGreaterEqual(stats["queries"]["byRcode"]["NOERROR"], 5)
        self.assertGreaterEqual(stats["answersByPool"]["edges"], 5)
        self.assertEqual([e["name"] for e in stats["edges"]], list(EDGES))
        self.assertIn("reloads", stats)
        text = self.ctl_ok("stats").stdout
        self.assertIn("queries", text)
        self.assertIn("NOERROR", text)
        self.assertRegex(text, r"(?m)^fra1\s+up\s+active")
        self.assertRegex(text, r"(?m)^ams1\s+down\s")

    def test_explain(self):
        reply = self.ctl_json("explain", "api.ops.test", LONDON)
        self.assertEqual(reply["name"], "api.ops.test.")
        self.assertEqual(reply["type"], "A")
        self.assertEqual(reply["clientSource"], "ecs")
        self.assertEqual(reply["source"], "database")
        self.assertEqual(reply["network"], "81.2.69.0/24")
        self.assertEqual(reply["location"]["country"], "GB")
        self.assertEqual(reply["pool"], "edges")
        self.assertEqual([c["edge"] for c in reply["candidates"]][:2], ["ams1", "fra1"])
        ams1, fra1 = reply["candidates"][0], reply["candidates"][1]
        self.assertEqual((ams1["state"], ams1["chosen"], ams1.get("reason")), ("down", False, "down"))
        self.assertTrue(fra1["chosen"])
        self.assertAlmostEqual(fra1["km"], 640, delta=25)
        self.assertEqual(reply["answer"], ["api.ops.test. 15 IN A 192.0.2.10"])
        self.assertEqual((reply["rcode"], reply["ttl"], reply["scope"]), ("NOERROR", 15, 24))
        text = self.ctl_ok("explain", "api.ops.test", LONDON).stdout
        self.assertIn("81.2.69.0/24", text)
        self.assertRegex(text, r"ams1.*skipped: down.*connection refused")
        self.assertRegex(text, r"fra1.*chosen")
        self.assertIn("192.0.2.10", text)
        self.assertIn("TTL 15", text)
        # Not a dynamic name: exit 1.
        result = self.ctl("explain", "www.ops.test", "81.2.69.1")
        self.assertEqual(result.returncode, 1, str(result))
        self.assertIn("www.ops.test", result.stdout + result.stderr)

    def test_check_offline(self):
        result = run_dnsctl("check", "--config", self.server.config_path)
        self.assertEqual(result.returncode, 0, str(result))
        self.assertIn("OK", result.stdout)
        self.assertIn(ORIGIN, result.stdout)
        data = run_dnsctl("--json", "check", "--config", self.server.config_path).json()
        self.assertTrue(data["ok"])
        self.assertEqual([(z["zone"], z["serial"]) for z in data["zones"]], [(ORIGIN, 1)])
        self.server.write_zone(ORIGIN, zone_text(2, broken=True))
        result = run_dnsctl("check", "--config", self.server.config_path)
        self.assertEqual(result.returncode, 1, str(result))
        self.assertIn("%s:%d:" % (self.server.zone_path(ORIGIN), BROKEN_LINE), result.stdout + result.stderr)
        data = run_dnsctl("check", "--config", self.server.config_path, "--json").json()
        self.assertFalse(data["ok"])
        self.assertTrue(any(":%d:" % BROKEN_LINE in e for e in data["errors"]), data)

    def test_drain_and_undrain_in_both_modes(self):
        self.assertEqual(self.addresses("api.ops.test.", FRANKFURT), ["192.0.2.10"])
        row = self.ctl_json("drain", "fra1")
        self.assertEqual((row["name"], row["admin"]), ("fra1", "drained"))
        wait_until(lambda: self.addresses("api.ops.test.", FRANKFURT) == ["192.0.2.30"], 3,
                   message="answer moved off the drained fra1 (ams1 is down, iad1 next)")
        self.assertEqual(self.ask("api.ops.test.", subnet=FRANKFURT).answer[0].ttl, 15)
        text = self.ctl_ok("undrain", "fra1").stdout
        self.assertIn("fra1", text)
        self.assertIn("undrained", text)
        wait_until(lambda: self.addresses("api.ops.test.", FRANKFURT) == ["192.0.2.10"], 3,
                   message="answer back on fra1")
        text = self.ctl_ok("drain", "sin1").stdout
        self.assertIn("sin1", text)
        self.assertIn("drained", text)
        wait_until(lambda: self.addresses("api.ops.test.", "103.4.97.0/24") == ["192.0.2.10"], 3,
                   message="Singapore moved to fra1")
        row = self.ctl_json("undrain", "sin1")
        self.assertEqual(row["admin"], "active")
        wait_until(lambda: self.addresses("api.ops.test.", "103.4.97.0/24") == ["192.0.2.40"], 3,
                   message="Singapore back on sin1")
        for command in ("drain", "undrain"):
            result = self.ctl(command, "nope1")
            self.assertEqual(result.returncode, 1, str(result))
            self.assertIn("nope1", result.stderr)
            failure = self.ctl(command, "nope1", "--json")
            self.assertEqual(failure.returncode, 1, str(failure))
            self.assertIn("nope1", json.dumps(failure.json()))

    def test_help_for_every_command(self):
        for command in ("reload", "check", "status", "edges", "drain", "undrain", "explain", "stats",
                        "dump-zone"):
            with self.subTest(command=command):
                result = run_dnsctl("help", command)
                self.assertEqual(result.returncode, 0, str(result))
                self.assertIn(command, (result.stdout + result.stderr).lower())
                self.assertRegex(result.stdout + result.stderr, r"(?i)usage")


class NoServerTest(OperationsCase):
    def test_exit_2_with_a_clear_message(self):
        workdir = make_tempdir(self, prefix="ops-noserver-")
        socket_path = os.path.join(workdir, "meridian.sock")
        config = os.path.join(workdir, "meridian.yaml")
        with open(config, "w") as f:
            f.write("control:\n  socket: %s\n" % socket_path)
        commands = [("status",), ("edges",), ("stats",), ("reload",), ("drain", "fra1"), ("undrain", "fra1"),
                    ("explain", "api.ops.test", "81.2.69.1")]
        for command in commands:
            for via in (("--socket", socket_path), ("--config", config)):
                with self.subTest(command=command, via=via[0]):
                    result = run_dnsctl(*(via + command))
                    self.assertEqual(result.returncode, 2, str(result))
                    self.assertIn(socket_path, result.stderr)
                    self.assertRegex(result.stderr, r"(?i)no (meridian )?server|not running|is meridian running")
                    failure = run_dnsctl(*(via + command + ("--json",)))
                    self.assertEqual(failure.returncode, 2, str(failure))
                    self.assertIn(socket_path, json.dumps(failure.json()))
        # A socket file nobody listens on (a server that was killed) is the same.
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(socket_path)
        stale.close()
        result = run_dnsctl("--socket", socket_path, "status")
        self.assertEqual(result.returncode, 2, str(result))


# --------------------------------------------------------------------------------------
# The control socket
# --------------------------------------------------------------------------------------

class ControlSocketTest(OperationsCase):
    def test_socket_mode_and_protocol(self):
        # Even with a permissive umask the socket is for its owner only.
        old = os.umask(0)
        try:
            server = self.start_server(stats=False)
        finally:
            os.umask(old)
        st = os.stat(server.socket_path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, oct(st.st_mode))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(server.socket_path)
            reader = s.makefile("rb")
            for request in (b"this is not json\n", b'{"command":"selfdestruct"}\n', b'{"command":"drain"}\n'):
                s.sendall(request)
                reply = json.loads(reader.readline())
                self.assertFalse(reply["ok"], (request, reply))
                self.assertTrue(reply.get("error"), reply)
            # The same connection still serves good requests.
            s.sendall(b'{"command":"status"}\n{"command":"edges"}\n')
            first, second = json.loads(reader.readline()), json.loads(reader.readline())
            self.assertTrue(first["ok"], first)
            self.assertEqual(first["result"]["zones"][0]["name"], ORIGIN)
            self.assertEqual([e["name"] for e in second["result"]["edges"]], list(EDGES))
        self.assertEqual(self.serial(), 1)

    def test_several_clients_at_once_and_oversized_requests(self):
        server = self.start_server(stats=False)
        # An idle connection does not hold up anyone else.
        idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        idle.connect(server.socket_path)
        self.addCleanup(idle.close)
        results = []

        def worker():
            for _ in range(5):
                results.append(self.ctl("status", "--json").returncode)
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(results, [0] * 30)
        # A request line over the limit gets an error and the connection is closed.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(server.socket_path)
            try:
                s.sendall(b'{"command":"status","pad":"' + b"x" * (200 * 1024) + b'"}\n')
            except (BrokenPipeError, ConnectionResetError):
                pass
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except ConnectionResetError:
                pass
        if data:
            reply = json.loads(data.split(b"\n")[0])
            self.assertFalse(reply["ok"], reply)
        # Garbage bytes, then the server is still fine.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(server.socket_path)
            s.sendall(os.urandom(4096) + b"\n\x00\xff\n")
        self.assertTrue(server.alive())
        self.assertEqual(self.ctl_json("status")["zones"][0]["serial"], 1)

    def test_second_server_on_the_same_socket_is_refused(self):
        first = self.start_server(stats=False)
        second = Meridian(self, {ORIGIN: zone_text()}, extra_config=first.extra_config)
        second.socket_path = first.socket_path
        second.write_config()
        second.start(self, wait=False)
        code = wait_until(lambda: second.proc.poll(), 20, message="second server to exit")
        self.assertNotEqual(code, 0)
        self.assertRegex(second.log(), r"(?i)another .*(server|meridian).*running", second.log())
        # The first keeps serving, on DNS and on its socket.
        self.assertTrue(first.alive())
        self.assertEqual(self.serial(), 1)
        self.assertEqual(self.ctl_json("status")["zones"][0]["name"], ORIGIN)

    def test_socket_removed_on_sigterm_and_stale_socket_replaced(self):
        server = self.start_server(stats=False)
        self.assertTrue(os.path.exists(server.socket_path))
        self.assertEqual(server.stop(signal.SIGTERM), 0, server.log())
        self.assertFalse(os.path.exists(server.socket_path), "control socket left behind after SIGTERM")
        # Killed hard, the socket file stays; the next start replaces it.
        server.start(self)
        server.stop(signal.SIGKILL)
        self.assertTrue(os.path.exists(server.socket_path))
        server.start(self)
        self.assertEqual(self.ctl_json("status")["zones"][0]["serial"], 1)
        # SIGINT stops it the same way.
        self.assertEqual(server.stop(signal.SIGINT), 0, server.log())
        self.assertFalse(os.path.exists(server.socket_path), "control socket left behind after SIGINT")


# --------------------------------------------------------------------------------------
# Reloads
# --------------------------------------------------------------------------------------

class ReloadTest(OperationsCase):
    def setUp(self):
        self.start_server(stats=False)

    def test_good_reload_reports_serial_change(self):
        self.server.write_zone(ORIGIN, zone_text(2, alt="192.0.2.102"))
        result = self.ctl_ok("reload")
        self.assertRegex(result.stdout, r"ops\.test\.? serial 1 (→|->) 2", str(result))
        self.assertEqual(self.serial(), 2)
        self.assertEqual(self.addresses("alt.ops.test."), ["192.0.2.102"])
        self.server.write_zone(ORIGIN, zone_text(3))
        reply = self.ctl_json("reload")
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["errors"], [])
        self.assertTrue(any(re.search(r"serial 2 (→|->) 3", c) for c in reply["changes"]), reply)
        self.assertEqual(self.serial(), 3)
        last = self.ctl_json("status")["lastReload"]
        self.assertTrue(last["ok"], last)
        # Nothing changed: still ok.
        result = self.ctl_ok("reload")
        self.assertRegex(result.stdout, r"(?i)nothing changed|no changes")

    def test_broken_zone_is_rejected_and_old_data_keeps_serving(self):
        self.server.write_zone(ORIGIN, zone_text(2, alt="192.0.2.102", broken=True))
        result = self.ctl("reload")
        self.assertEqual(result.returncode, 1, str(result))
        self.assertIn("%s:%d:" % (self.server.zone_path(ORIGIN), BROKEN_LINE), result.stderr, str(result))
        self.assertEqual(self.serial(), 1)
        self.assertEqual(self.addresses("alt.ops.test."), ["192.0.2.101"])
        self.assertEqual(self.addresses("api.ops.test.", FRANKFURT), ["192.0.2.10"])
        reply = self.ctl("reload", "--json")
        self.assertEqual(reply.returncode, 1, str(reply))
        data = reply.json()
        self.assertFalse(data["ok"])
        self.assertTrue(any(":%d:" % BROKEN_LINE in e for e in data["errors"]), data)
        status = self.ctl_json("status")
        self.assertFalse(status["lastReload"]["ok"])
        self.assertEqual(status["zones"][0]["serial"], 1)
        self.assertIn("FAILED", self.ctl_ok("status").stdout)
        # Fixed: the next reload goes through.
        self.server.write_zone(ORIGIN, zone_text(2, alt="192.0.2.102"))
        self.assertRegex(self.ctl_ok("reload").stdout, r"serial 1 (→|->) 2")
        self.assertEqual(self.addresses("alt.ops.test."), ["192.0.2.102"])

    def test_broken_config_is_rejected(self):
        with open(self.server.config_path) as f:
            lines = f.read().split("\n")
        lines.insert(1, "  no_such_key: 1")
        with open(self.server.config_path, "w") as f:
            f.write("\n".join(lines))
        result = self.ctl("reload")
        self.assertEqual(result.returncode, 1, str(result))
        self.assertRegex(result.stderr, re.escape(self.server.config_path) + r":2:")
        self.assertEqual(self.serial(), 1)

    def test_reload_reports_edge_pool_and_listen_changes(self):
        self.ctl_ok("drain", "iad1")
        with open(self.server.config_path) as f:
            text = f.read()
        new_port = free_port()
        text = text.replace('listen: ["127.0.0.1:%d"]' % self.server.port, 'listen: ["127.0.0.1:%d"]' % new_port)
        text = text.replace("edges:\n  fra1:", 'edges:\n  lhr1:\n    location: [51.47, -0.45]\n'
                            '    addresses: ["192.0.2.50"]\n  fra1:', 1)
        text = text.replace("  duo:\n    edges: [fra1, ams1, iad1, sin1]", "  duo:\n    edges: [fra1, ams1, iad1, sin1, lhr1]")
        with open(self.server.config_path, "w") as f:
            f.write(text)
        reply = self.ctl_json("reload")
        self.assertTrue(reply["ok"], reply)
        self.assertIn("edge lhr1 added", reply["changes"])
        self.assertIn("pool duo changed", reply["changes"])
        self.assertNotIn("pool edges changed", reply["changes"])
        # The new listen address is applied, or the reload says a restart is needed.
        applied = True
        try:
            udp_query(new_port, make_query(ORIGIN, "SOA"), timeout=1)
        except OSError:
            applied = False
        if not applied:
            self.assertTrue(any("restart" in n for n in reply["notes"]), reply)
            self.assertEqual(self.serial(), 1)
        # The drain and the health of unchanged edges carried over.
        rows = {r["name"]: r for r in self.ctl_json("edges")["edges"]}
        self.assertEqual(rows["iad1"]["admin"], "drained")
        self.assertEqual(rows["ams1"]["state"], "down")
        self.assertEqual(rows["lhr1"]["pools"], ["duo"])
        # The pool's routing was rebuilt from the database already open: London now gets lhr1
        # first, and explain still places the client through the database.
        self.assertEqual(self.ask("duo.ops.test.", subnet=LONDON).rrs("answer")[0].text, "192.0.2.50")
        explained = self.ctl_json("explain", "duo.ops.test", LONDON)
        self.assertEqual(explained["location"]["country"], "GB")
        self.assertTrue(explained["answer"][0].endswith(" A 192.0.2.50"), explained["answer"])
        self.assertEqual(explained["candidates"][0]["edge"], "lhr1")
        # Reverted: edge removed, pool changed back, each reported.
        with open(self.server.config_path, "w") as f:
            f.write(text.replace('listen: ["127.0.0.1:%d"]' % new_port, 'listen: ["127.0.0.1:%d"]' % self.server.port)
                    .replace('  lhr1:\n    location: [51.47, -0.45]\n    addresses: ["192.0.2.50"]\n', "")
                    .replace("sin1, lhr1]", "sin1]"))
        text = self.ctl_ok("reload").stdout
        self.assertIn("edge lhr1 removed", text)
        self.assertIn("pool duo changed", text)

    def test_reload_reads_a_replaced_geoip_database(self):
        rows = [r for r in NETWORKS]
        mmdb = build_mmdb(rows, self.server.workdir, name="own")
        with open(self.server.config_path) as f:
            text = f.read()
        with open(self.server.config_path, "w") as f:
            f.write(text.replace(self.mmdb, mmdb))
        self.ctl_ok("reload")
        self.assertEqual(self.addresses("api.ops.test.", FRANKFURT), ["192.0.2.10"])
        self.assertEqual(self.ctl_json("status")["geoip"]["path"], mmdb)
        # The same file rebuilt at once, same size, with Frankfurt's network moved to Singapore.
        moved = [(n, 1.3, 103.8, "SG", "AS", "") if n == "5.1.0.0/16" else (n, la, lo, c, ct, sd)
                 for n, la, lo, c, ct, sd in rows]
        build_mmdb(moved, self.server.workdir, name="own")
        self.ctl_ok("reload")
        self.assertEqual(self.addresses("api.ops.test.", FRANKFURT), ["192.0.2.40"],
                         "the reload did not re-read the replaced GeoIP database")
        reply = self.ctl_json("explain", "api.ops.test", FRANKFURT)
        self.assertEqual(reply["location"]["country"], "SG")

    def test_sighup_reloads(self):
        self.server.write_zone(ORIGIN, zone_text(5))
        self.server.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.serial() == 5, 10, message="serial 5 after SIGHUP")
        last = wait_until(lambda: self.ctl_json("status").get("lastReload"), 5, message="lastReload in status")
        self.assertTrue(last["ok"], last)
        self.assertRegex(last["summary"], r"serial 1 (→|->) 5")

    def test_twenty_reloads_under_continuous_queries(self):
        serials = {1}
        alts = ("192.0.2.101", "192.0.2.102")
        errors = []
        counts = {"queries": 0}
        stop = threading.Event()
        checks = [
            ("www.ops.test.", None, lambda a: a == ["192.0.2.80"]),
            ("alt.ops.test.", None, lambda a: len(a) == 1 and a[0] in alts),
            ("api.ops.test.", FRANKFURT, lambda a: a == ["192.0.2.10"]),
            # ams1 is down: London gets fra1 (a reload must not reset ams1's health).
            ("api.ops.test.", LONDON, lambda a: a == ["192.0.2.10"]),
            ("ops.test.", None, None),
        ]

        def client():
            i = 0
            while not stop.is_set():
                name, subnet, ok = checks[i % len(checks)]
                i += 1
                qtype = "SOA" if name == ORIGIN else "A"
                try:
                    msg = self.ask(name, qtype, subnet)
                except Exception as error:  # timeouts and unreadable answers alike
                    errors.append("%s %s: %r" % (name, subnet, error))
                    continue
                counts["queries"] += 1
                answer = sorted(rr.text for rr in msg.answer)
                if msg.rcode != 0 or not msg.aa:
                    errors.append("%s: rcode %s aa %s" % (name, msg.rcode_name, msg.aa))
                elif ok is None:
                    serial = int(answer[0].split()[2])
                    if serial not in serials:
                        errors.append("SOA serial %d never written" % serial)
                elif not ok(answer):
                    errors.append("%s from %s: %s" % (name, subnet, answer))

        thread = threading.Thread(target=client, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(stop.set)
        for serial in range(2, 22):
            alt = alts[serial % 2]
            serials.add(serial)
            self.server.write_zone(ORIGIN, zone_text(serial, alt=alt))
            result = self.ctl_ok("reload")
            self.assertRegex(result.stdout, r"serial %d (→|->) %d" % (serial - 1, serial))
            # The reload returned: every listener serves the new data.
            for _ in range(4):
                self.assertEqual(self.serial(), serial)
                self.assertEqual(self.addresses("alt.ops.test."), [alt])
        stop.set()
        thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertEqual(errors, [], "%d failed or wrong answers out of %d" % (len(errors), counts["queries"]))
        self.assertGreater(counts["queries"], 100, "the client thread hardly ran")
        self.assertEqual(self.ctl_json("stats")["reloads"]["ok"], 20)
        self.assertTrue(self.server.alive())


# --------------------------------------------------------------------------------------
# explain agrees with dig
# --------------------------------------------------------------------------------------

DIG_ECS = re.compile(r"CLIENT-SUBNET: ([0-9a-fA-F:.]+)/(\d+)/(\d+)")


class ExplainAgreesWithDigTest(OperationsCase):
    def test_explain_matches_dig_for_many_clients(self):
        self.start_server(stats=False)
        self.ctl_ok("drain", "iad1")
        cases = [
            ("api.ops.test", FRANKFURT, "A"),
            ("api.ops.test", LONDON, "A"),          # nearest ams1 is down
            ("api.ops.test", "8.8.8.0/24", "A"),    # nearest iad1 is drained
            ("api.ops.test", "103.4.97.0/24", "A"),
            ("api.ops.test", "1.0.16.0/24", "A"),
            ("api.ops.test", "200.160.1.0/24", "A"),
            ("api.ops.test", "12.34.5.0/24", "A"),  # no coordinates: fallback (iad1, drained)
            ("api.ops.test", "100.64.1.0/24", "A"),  # not in the database
            ("api.ops.test", "198.18.3.0/24", "A"),  # override
            ("api.ops.test", "2001:200:1::/48", "AAAA"),
            ("api.ops.test", "2a00:1450:4000::/48", "AAAA"),
            ("duo.ops.test", LONDON, "A"),
            ("duo.ops.test", "8.8.8.0/24", "A"),
            ("cdn.ops.test", "103.4.97.0/24", "A"),
        ]
        seen_edges = set()
        for name, subnet, qtype in cases:
            with self.subTest(name=name, subnet=subnet, qtype=qtype):
                dig = run_dig(self.server.port, name, qtype, "+subnet=%s" % subnet)
                self.assertEqual(dig.status, "NOERROR", str(dig))
                dig_answer = sorted((r[0].lower(), r[1], r[2], r[3].lower()) for r in dig.records("ANSWER"))
                m = DIG_ECS.search(dig.output)
                self.assertIsNotNone(m, str(dig))
                dig_scope = int(m.group(3))

                reply = self.ctl_json("explain", name, subnet, qtype)
                explained = []
                for line in reply["answer"]:
                    owner, ttl, cls, rtype, rdata = line.split(None, 4)
                    self.assertEqual(cls, "IN")
                    explained.append((owner.lower(), int(ttl), rtype, rdata.lower()))
                self.assertEqual(sorted(explained), dig_answer, "explain %s\ndig:\n%s" % (reply, dig))
                self.assertEqual(reply["rcode"], dig.status)
                self.assertEqual(reply["scope"], dig_scope, "%s\n%s" % (reply, dig))
                self.assertEqual(reply["ttl"], dig_answer[0][1])
                chosen = [c["edge"] for c in reply["candidates"] if c["chosen"]]
                if qtype == "A" and name != "cdn.ops.test":
                    self.assertEqual(sorted(chosen), sorted(edge_of(r[3]) for r in dig_answer))
                elif name == "cdn.ops.test":
                    self.assertEqual(["%s.edge.example.net." % e for e in chosen], [r[3] for r in dig_answer])
                else:
                    self.assertEqual(sorted(chosen), sorted(edge_of(r[3]) for r in dig_answer))
                for candidate in reply["candidates"]:
                    if candidate.get("reason") == "down":
                        self.assertEqual(candidate["edge"], "ams1")
                    if candidate.get("reason") == "drained":
                        self.assertEqual(candidate["edge"], "iad1")
                if subnet == "8.8.8.0/24" and name == "api.ops.test":
                    first = reply["candidates"][0]
                    self.assertEqual((first["edge"], first["admin"], first.get("reason"), first["chosen"]),
                                     ("iad1", "drained", "drained", False), reply)
                    self.assertEqual(reply["ttl"], 15)
                if subnet == "198.18.3.0/24":
                    self.assertEqual(reply["source"], "override")
                    self.assertEqual(chosen, ["sin1"])
                if subnet == "100.64.1.0/24":
                    self.assertEqual(reply["source"], "fallback")
                seen_edges.update(chosen)
        # The set of clients really exercised the routing.
        self.assertGreaterEqual(len(seen_edges), 2)

    def test_explain_of_a_source_address_matches_a_query_from_it(self):
        # `dnsctl explain NAME CLIENT` without /PREFIX explains a query coming from CLIENT,
        # which the server routes by the whole address (as ECS CLIENT/32 would be).
        self.start_server(stats=False)
        for client, expected in (("5.1.9.200", "sin1"), ("5.1.9.20", "fra1")):
            with self.subTest(client=client):
                dig = run_dig(self.server.port, "api.ops.test", "A", "+subnet=%s/32" % client)
                got = [edge_of(r[3]) for r in dig.records("ANSWER", "A")]
                self.assertEqual(got, [expected], str(dig))
                reply = self.ctl_json("explain", "api.ops.test", client)
                self.assertEqual(reply["clientSource"], "source")
                chosen = [c["edge"] for c in reply["candidates"] if c["chosen"]]
                self.assertEqual(chosen, got, "explain %s: %s, a query from it: %s (explain used %s/%s)"
                                 % (client, chosen, got, reply["client"], reply["prefix"]))
                self.assertEqual(reply["prefix"], 32, reply)


# --------------------------------------------------------------------------------------
# Stats port: metrics, JSON, dashboard, limits
# --------------------------------------------------------------------------------------

class StatsPortTest(OperationsCase):
    def setUp(self):
        self.start_server()

    def metrics(self):
        status, headers, body = self.http_get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/plain"), headers)
        return prometheus_samples(self, body)

    def settled_metrics(self):
        """Metrics once the readiness queries are counted and the counters stand still."""
        def settled():
            first = self.metrics()
            time.sleep(0.25)  # longer than the ~100 ms in which workers publish their counters
            second = self.metrics()
            udp = sample(second, "meridian_queries_total", transport="udp") or 0
            stable = all(second.get(k) == v for k, v in first.items()
                         if k[0].startswith(("meridian_queries", "meridian_responses_total")))
            return second if udp >= 1 and stable else None
        return wait_until(settled, 10, message="query counters to settle")

    def test_metrics_parse_and_count_the_queries_sent(self):
        before = self.settled_metrics()
        version = self.ctl_json("status")["version"]
        self.assertEqual(sample(before, "meridian_build_info", version=version), 1)
        self.assertEqual(sample(before, "meridian_edge_up", edge="fra1"), 1)
        self.assertEqual(sample(before, "meridian_edge_up", edge="ams1"), 0)
        self.assertEqual(sample(before, "meridian_edge_drained", edge="iad1"), 0)

        def value(samples, name, **labels):
            return sample(samples, name, **labels) or 0

        n_api, n_nx, n_tcp = 40, 7, 5
        for _ in range(n_api):
            msg = self.ask("api.ops.test.", "A", FRANKFURT)
            self.assertEqual([rr.text for rr in msg.answer], ["192.0.2.10"])
        for _ in range(n_nx):
            self.assertEqual(self.ask("nothere.ops.test.", "A").rcode_name, "NXDOMAIN")
        for _ in range(n_tcp):
            self.assertEqual(self.ask(ORIGIN, "SOA", tcp=True).rcode_name, "NOERROR")

        expected = [
            (("meridian_queries_total",), {"transport": "udp"}, n_api + n_nx),
            (("meridian_queries_total",), {"transport": "tcp"}, n_tcp),
            (("meridian_responses_total",), {"rcode": "NOERROR"}, n_api + n_tcp),
            (("meridian_responses_total",), {"rcode": "NXDOMAIN"}, n_nx),
            (("meridian_pool_answers_total",), {"pool": "edges"}, n_api),
            (("meridian_edge_answers_total",), {"edge": "fra1"}, n_api),
            (("meridian_response_seconds_count",), {}, n_api + n_nx + n_tcp),
        ]

        def grown():
            now = self.metrics()
            for (name,), labels, count in expected:
                if value(now, name, **labels) - value(before, name, **labels) < count:
                    return None
            return now
        after = wait_until(grown, 5, message="the counters to count the queries sent")
        families = {name for name, _ in after}
        for family in ("meridian_queries_total", "meridian_responses_total", "meridian_pool_answers_total",
                       "meridian_edge_answers_total", "meridian_edge_up", "meridian_edge_drained",
                       "meridian_response_seconds_bucket", "meridian_response_seconds_count",
                       "meridian_reloads_total", "meridian_build_info"):
            self.assertIn(family, families)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)
        # Counted exactly once each: no more than was sent.
        for (name,), labels, count in expected:
            self.assertEqual(delta(name, **labels), count, "%s%s" % (name, labels))
        self.assertEqual(delta("meridian_edge_answers_total", edge="ams1"), 0)
        self.assertEqual(delta("meridian_queries_by_qtype_total", qtype="A"), n_api + n_nx)
        self.assertEqual(delta("meridian_queries_by_qtype_total", qtype="SOA"), n_tcp)
        self.assertEqual(value(after, "meridian_response_seconds_bucket", le="+Inf"),
                         value(after, "meridian_response_seconds_count"))
        self.assertGreater(value(after, "meridian_response_seconds_sum"), 0)
        # dnsctl stats reports the same counters.
        stats = self.ctl_json("stats")
        self.assertEqual(stats["queries"]["byTransport"]["udp"], value(after, "meridian_queries_total", transport="udp"))
        self.assertGreater(wait_until(lambda: self.ctl_json("status")["queriesPerSecond"], 5,
                                      message="a query rate above 0 in dnsctl status"), 0)
        self.assertIsNotNone(sample(after, "meridian_probe_latency_seconds", edge="fra1"))
        self.assertEqual(stats["answersByEdge"]["fra1"], value(after, "meridian_edge_answers_total", edge="fra1"))

        # Probe durations per checked edge, as a histogram.
        probes = sample(after, "meridian_probe_duration_seconds_count", edge="fra1")
        self.assertGreaterEqual(probes, 1)
        self.assertEqual(sample(after, "meridian_probe_duration_seconds_bucket", edge="fra1", le="+Inf"), probes)
        self.assertGreater(sample(after, "meridian_probe_duration_seconds_sum", edge="fra1"), 0)
        # The process and the zones, as every exporter names them.
        self.assertEqual(sample(after, "meridian_zone_serial", zone=ORIGIN), 1)
        self.assertEqual(sample(after, "meridian_config_last_reload_successful"), 1)
        self.assertGreater(sample(after, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(sample(after, "process_open_fds"), 5)
        self.assertGreaterEqual(sample(after, "process_max_fds"), sample(after, "process_open_fds"))
        self.assertGreater(sample(after, "process_cpu_seconds_total"), 0)
        self.assertAlmostEqual(sample(after, "process_start_time_seconds"), time.time(), delta=600)

        # Reloads by result, and drains.
        self.server.write_zone(ORIGIN, zone_text(2, broken=True))
        self.assertEqual(self.ctl("reload").returncode, 1)
        self.assertEqual(sample(self.metrics(), "meridian_config_last_reload_successful"), 0)
        self.server.write_zone(ORIGIN, zone_text(2))
        self.ctl_ok("reload")
        self.ctl_ok("drain", "iad1")
        final = self.metrics()
        # Reloads do not reset the counters.
        for (name,), labels, _ in expected:
            self.assertGreaterEqual(value(final, name, **labels), value(after, name, **labels), name)
        self.assertEqual(value(final, "meridian_reloads_total", result="ok") - value(before, "meridian_reloads_total", result="ok"), 1)
        self.assertEqual(value(final, "meridian_reloads_total", result="failed") - value(before, "meridian_reloads_total", result="failed"), 1)
        self.assertEqual(sample(final, "meridian_edge_drained", edge="iad1"), 1)
        self.assertEqual(sample(final, "meridian_pool_edges_available", pool="edges"),
                         sample(after, "meridian_pool_edges_available", pool="edges") - 1, "iad1 drained")
        self.assertEqual(sample(final, "meridian_config_last_reload_successful"), 1)
        self.assertEqual(sample(final, "meridian_zone_serial", zone=ORIGIN), 2)

    def test_api_matches_dnsctl(self):
        status, headers, body = self.http_get("/api/v1/status")
        self.assertEqual(status, 200)
        self.assertIn("json", headers.get("Content-Type", ""))
        api_status = json.loads(body)
        self.assertEqual(api_status["zones"], self.ctl_json("status")["zones"])
        _, _, body = self.http_get("/api/v1/edges")
        api_edges = [(e["name"], e["state"], e["admin"]) for e in json.loads(body)["edges"]]
        ctl_edges = [(e["name"], e["state"], e["admin"]) for e in self.ctl_json("edges")["edges"]]
        self.assertEqual(api_edges, ctl_edges)
        _, _, body = self.http_get("/api/v1/stats")
        self.assertIn("queries", json.loads(body))
        self.assertEqual(self.http_get("/no/such/page")[0], 404)

    def test_read_only_loopback_and_request_limits(self):
        # Bound to loopback only.
        listeners = []
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, state = fields[1], fields[3]
                addr, port = local.split(":")
                if int(port, 16) == self.stats_port and state == "0A":
                    listeners.append(addr)
        self.assertEqual(listeners, ["0100007F"], "stats port listening on %s" % listeners)
        # No control action over HTTP.
        for method in ("POST", "PUT", "DELETE"):
            status, headers, _ = self.http_get("/api/v1/edges", method=method, body=b'{"command":"drain","edge":"fra1"}')
            self.assertEqual(status, 405, method)
        self.assertEqual(self.ctl_json("edges")["edges"][0]["admin"], "active")
        # Requests over the size limit.
        status, _, _ = self.http_get("/metrics", headers={"X-Padding": "a" * 16384})
        self.assertIn(status, (413, 431))
        status, _, _ = self.raw_status(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"b" * 100000)
        self.assertIn(status, (413, 431))
        # Still serving.
        self.assertEqual(self.http_get("/metrics")[0], 200)
        self.assertEqual(self.serial(), 1)

    def raw_status(self, data):
        with socket.create_connection(("127.0.0.1", self.stats_port), timeout=10) as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = b""
            try:
                while b"\r\n" not in reply:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
            except ConnectionResetError:
                pass
        m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
        self.assertIsNotNone(m, "no HTTP status line: %r" % reply[:200])
        return int(m.group(1)), None, reply

    def test_dashboard_in_headless_chromium(self):
        base = self.chromium_command()
        self.ctl_ok("drain", "iad1")
        self.server.write_zone(ORIGIN, zone_text(2))
        self.ctl_ok("reload")
        for _ in range(10):
            self.ask("api.ops.test.", "A", FRANKFURT)

        status, headers, page = self.http_get("/")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/html"))
        # Self-contained: nothing loaded from anywhere else.
        self.assertIsNone(re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//', page, re.I), "external resource")
        self.assertIsNone(re.search(r"<link[^>]+stylesheet", page, re.I))

        url = "http://127.0.0.1:%d/" % self.stats_port
        # The query-rate line needs a rate in the history: a difference of two samples a
        # second apart, so none yet in the first seconds after the start.
        def rate_in_history():
            status, _, body = self.http_get("/api/v1/history")
            return status == 200 and any(v is not None for v in json.loads(body)["queriesPerSecond"])
        wait_until(rate_in_history, 10, message="a query rate in /api/v1/history")
        dom = self.dashboard_dom()

        edges = {e["name"]: e for e in self.ctl_json("edges")["edges"]}
        self.assertEqual((edges["fra1"]["state"], edges["ams1"]["state"], edges["iad1"]["admin"]),
                         ("up", "down", "drained"))
        for container in ("edge-rows", "edge-dots"):
            found = {a["data-edge"]: a for a in dom.inside(container) if "data-edge" in a}
            self.assertEqual(sorted(found), sorted(EDGES), container)
            for name, row in edges.items():
                attrs = found[name]
                self.assertEqual(attrs.get("data-state"), row["state"], (container, name, attrs))
                self.assertEqual(attrs.get("data-admin"), row["admin"], (container, name, attrs))
            self.assertEqual(found["iad1"].get("data-health"), "drained")
            self.assertEqual(found["ams1"].get("data-health"), "down")
            self.assertEqual(found["fra1"].get("data-health"), "up")
        # The script ran (it timestamps the reload) and its polls of the JSON API succeeded;
        # the card's query-rate line is drawn from the server's history.
        self.assertEqual(dom.attrs["conn"].get("data-state"), "live")
        self.assertTrue(dom.attrs["qps-line"].get("points"), "no query-rate line")
        self.assertRegex(dom.text["qps"].strip(), r"^\d+(\.\d+)?$")
        self.assertEqual(dom.attrs["last-reload"].get("data-ok"), "true")
        # Local times name their zone (headless Chromium runs in UTC here).
        self.assertRegex(dom.text["reload-result"], r"^ok at \d{1,2}:\d\d:\d\d(?: [AP]M)? (?!AM$|PM$)\S+$")
        self.assertIn("serial 1", dom.text.get("reload-summary", ""))
        self.assertIn(ORIGIN, [a.get("data-zone") for a in dom.inside("zone-rows")])

        artifacts = os.path.join(REPO, "test-artifacts")
        os.makedirs(artifacts, exist_ok=True)
        png = os.path.join(artifacts, "dashboard.png")
        if os.path.exists(png):
            os.unlink(png)
        proc = subprocess.run(base + ["--screenshot=%s" % png, "--window-size=1400,1000", "--hide-scrollbars", url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace")[-2000:])
        with open(png, "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack("!II", data[16:24])
        self.assertEqual((width, height), (1400, 1000))
        self.assertGreater(len(data), 20000, "the screenshot looks empty")


class HistoryTest(OperationsCase):
    """The last hour kept by the server: /api/v1/history and the dashboard's panels drawn
    from it, through a failover: fra1's health endpoint starts failing while Frankfurt asks."""

    def setUp(self):
        self.start_server()

    def history(self, seconds=None):
        status, headers, body = self.http_get("/api/v1/history" + ("" if seconds is None else "?seconds=%d" % seconds))
        self.assertEqual(status, 200, body)
        self.assertIn("json", headers.get("Content-Type", ""))
        return json.loads(body)

    def answers_until(self, edge, count, message):
        """The history once `edge`'s answers in it reach `count`."""
        def reached():
            reply = self.history()
            return reply if sum(reply["answersByEdge"].get(edge, [])) >= count else None
        return wait_until(reached, 10, message=message)

    @staticmethod
    def recent_share(reply, edge, seconds=300):
        recent = {name: sum(series[-seconds:]) for name, series in reply["answersByEdge"].items()}
        total = sum(recent.values())
        return recent.get(edge, 0) / total if total else None

    def ask_frankfurt(self, answered):
        """One query for the DYNA name from Frankfurt; counts the edge that answered."""
        addresses = self.addresses("api.ops.test.", FRANKFURT)
        self.assertEqual(len(addresses), 1, addresses)
        edge = edge_of(addresses[0])
        answered[edge] = answered.get(edge, 0) + 1
        return edge

    def test_history_through_a_failover(self):
        answered = {}
        for _ in range(40):
            self.assertEqual(self.ask_frankfurt(answered), "fra1")
        before_fail = answered["fra1"]
        reply = self.answers_until("fra1", before_fail, "fra1's answers in the history")

        # The shape: every series one value a second, the whole hour unless asked for less.
        self.assertEqual(reply["seconds"], 3600)
        for key in ("queriesPerSecond", "responseP50Seconds", "responseP99Seconds"):
            self.assertEqual(len(reply[key]), 3600, key)
        self.assertEqual(sorted(reply["answersByEdge"]), sorted(EDGES))
        self.assertEqual(sum(reply["answersByEdge"]["fra1"]), before_fail, "each answer in exactly one second")
        self.assertEqual([(e["name"], e["state"], e["admin"]) for e in reply["edges"]],
                         [(e["name"], e["state"], e["admin"]) for e in self.ctl_json("edges")["edges"]])
        # Queries per second: every second with answers had queries; a rate is never taken
        # over less than a second, so together they are at most the queries received, and at
        # least half of those asked (a late sample spreads its count over its longer interval).
        qps = reply["queriesPerSecond"]
        received = sum(self.ctl_json("stats")["queries"]["byTransport"].values())
        self.assertIsNone(qps[0], "a second before the server started is null")
        for i, answers in enumerate(reply["answersByEdge"]["fra1"]):
            if answers:
                self.assertGreater(qps[i] or 0, 0, "second %d" % i)
        self.assertTrue(before_fail / 2 <= sum(q for q in qps if q) <= received, (sum(q for q in qps if q), received))
        # Response times: numbers within the histogram's bounds, p50 at most p99, in every
        # second that had queries and in none that had not.
        bounds = reply["responseBucketsSeconds"]
        self.assertEqual(bounds, sorted(bounds))
        for p50, p99, rate in zip(reply["responseP50Seconds"], reply["responseP99Seconds"], qps):
            if not rate:
                self.assertIsNone(p50)
                self.assertIsNone(p99)
                continue
            self.assertIsInstance(p50, float)
            self.assertIsInstance(p99, float)
            self.assertTrue(0 < p50 <= p99 <= bounds[-1], (p50, p99, bounds[-1]))
        # fra1 has had every answer of the last five minutes.
        self.assertEqual(self.recent_share(reply, "fra1"), 1.0)
        # Less than the hour: the same end, or a later one as time went on.
        part = self.history(seconds=30)
        self.assertEqual((part["seconds"], len(part["queriesPerSecond"]), len(part["answersByEdge"]["fra1"])), (30, 30, 30))
        self.assertTrue(0 <= (part["start"] + 30) - (reply["start"] + 3600) <= 10, (part["start"], reply["start"]))
        self.assertEqual(self.http_get("/api/v1/history?seconds=0")[0], 400)

        # fra1 fails its checks: the transition is in the history with its reason, and
        # Frankfurt's answers move to the next nearest edge that is up (iad1; ams1 is down).
        self.endpoint.set_mode("fail")
        self.await_edge_state("fra1", "down")
        def transition():
            found = [t for t in self.history()["transitions"]
                     if (t["edge"], t["kind"], t["from"], t["to"]) == ("fra1", "health", "up", "down")]
            return found[0] if found else None
        down = wait_until(transition, 10, message="fra1's up -> down transition in the history")
        self.assertIn("503", down["reason"])
        self.assertLessEqual(down["at"], time.time())
        firsts = [t for t in self.history()["transitions"] if t["edge"] == "fra1" and t["from"] == "unknown"]
        self.assertEqual([(t["to"], t["at"] < down["at"]) for t in firsts], [("up", True)], "fra1's first verdict")
        # The answering threads take the new health table within a wake interval.
        wait_until(lambda: self.ask_frankfurt(answered) == "iad1", 5, message="Frankfurt answered by iad1")
        for _ in range(119):
            self.assertEqual(self.ask_frankfurt(answered), "iad1")
        self.assertEqual(sorted(answered), ["fra1", "iad1"])
        reply = self.answers_until("iad1", answered["iad1"], "iad1's answers in the history")
        self.assertEqual(sum(reply["answersByEdge"]["fra1"]), answered["fra1"])
        self.assertEqual(sum(reply["answersByEdge"]["iad1"]), answered["iad1"])
        fra1_share = answered["fra1"] / (answered["fra1"] + answered["iad1"])
        self.assertLess(fra1_share, 0.3)
        self.assertAlmostEqual(self.recent_share(reply, "fra1"), fra1_share)

        # The dashboard draws the same in a real browser.
        dom = self.dashboard_dom()
        self.assertEqual(dom.attrs["conn"].get("data-state"), "live")
        for path in ("qps-path", "p50-path", "p99-path"):
            attrs = dom.attrs[path]
            self.assertGreater(int(attrs.get("data-points", "0")), 0, path)
            self.assertEqual(attrs.get("d", "")[:1], "M", path)
            points = re.findall(r"[ML]([\d.]+) ([\d.]+)", attrs["d"])
            self.assertEqual(len(points), int(attrs["data-points"]), path)
            self.assertTrue(all(0 <= float(x) <= 600 and 0 <= float(y) <= 100 for x, y in points), path)
        # The ends of the hour in the viewer's time zone, named (the script's form).
        for end in ("history-from", "history-to"):
            self.assertRegex(dom.text[end].strip(), r"^\d{1,2}:\d\d:\d\d(?: [AP]M)? (?!AM$|PM$)\S+$", end)
        # One band per edge; fra1's ends in a down stretch that began with its transition.
        bands, edge = {}, None
        for attrs in dom.inside("health-timeline"):
            if attrs.get("class") == "band":
                edge = attrs["data-edge"]
                bands[edge] = []
            elif "data-state" in attrs:
                bands[edge].append(attrs)
        self.assertEqual(sorted(bands), sorted(EDGES))
        fra1 = bands["fra1"]
        self.assertEqual([r["data-state"] for r in fra1][-3:], ["unknown", "up", "down"], fra1)
        self.assertAlmostEqual(float(fra1[-1]["data-from"]), down["at"], places=2)
        self.assertEqual(bands["ams1"][-1]["data-state"], "down")
        self.assertEqual(bands["iad1"][-1]["data-state"], "up")
        self.assertNotIn("down", [r["data-state"] for r in bands["iad1"]])
        # The share column is the last five minutes: fra1's fell from all to about a quarter.
        rows, edge = {}, None
        for attrs in dom.inside("edge-rows"):
            if "data-edge" in attrs:
                edge = attrs["data-edge"]
            elif "share" in attrs.get("class", "").split():
                rows[edge] = attrs
        self.assertEqual(rows["fra1"].get("data-recent"), str(answered["fra1"]))
        self.assertEqual(rows["iad1"].get("data-recent"), str(answered["iad1"]))
        self.assertEqual(rows["sin1"].get("data-recent"), "0")
        def percent(fraction):  # as the page writes it: rounded half up to one decimal
            return "%.1f%%" % (math.floor(fraction * 1000 + 0.5) / 10)
        self.assertEqual(re.findall(r'<td class="num share" data-recent="\d+">([^<]*)</td>', dom.html),
                         [percent(fra1_share), "0.0%", percent(1 - fra1_share), "0.0%"])


class DashboardDOM:
    """Attributes of every element of a DOM dump, by id, and the elements inside an id."""

    def __init__(self, html):
        from html.parser import HTMLParser

        self.html = html
        self.attrs, self.text, self._inside = {}, {}, {}
        dom = self
        void = {"meta", "link", "br", "img", "input", "hr", "circle", "path", "rect", "polyline"}

        class Parser(HTMLParser):
            def __init__(self):
                super().__init__(convert_charrefs=True)
                self.stack = []

            def handle_starttag(self, tag, attrs):
                attrs = dict(attrs)
                for _, element_id, _ in self.stack:
                    if element_id:
                        dom._inside.setdefault(element_id, []).append(attrs)
                if "id" in attrs:
                    dom.attrs[attrs["id"]] = attrs
                    dom.text.setdefault(attrs["id"], "")
                if tag not in void:
                    self.stack.append((tag, attrs.get("id"), attrs))

            def handle_startendtag(self, tag, attrs):
                attrs = dict(attrs)
                for _, element_id, _ in self.stack:
                    if element_id:
                        dom._inside.setdefault(element_id, []).append(attrs)
                if "id" in attrs:
                    dom.attrs[attrs["id"]] = attrs

            def handle_endtag(self, tag):
                for i in range(len(self.stack) - 1, -1, -1):
                    if self.stack[i][0] == tag:
                        del self.stack[i:]
                        break

            def handle_data(self, data):
                for _, element_id, _ in self.stack:
                    if element_id:
                        dom.text[element_id] = dom.text.get(element_id, "") + data

        Parser().feed(html)

    def inside(self, element_id):
        return self._inside.get(element_id, [])


if __name__ == "__main__":
    unittest.main()
