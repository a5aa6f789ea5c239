"""Health checking end to end: the real server probing real local HTTP, HTTPS and TCP
endpoints that the tests switch between passing, failing, hanging and closing, and `dig
+subnet=` watching the answer move to the next nearest edge and back within the bounds the
check settings promise. Drains through `dnsctl`, persisted across a restart."""

import json
import math
import os
import re
import socket
import ssl
import time
import unittest

from harness import (DNSCTL_BIN, E2ECase, HealthEndpoint, Meridian, TCPEndpoint, build_mmdb,
                     make_self_signed_cert, make_tempdir, require_executable, run_dig, run_dnsctl)

# Probe settings of every checked edge: short, so failover is measured in about a second.
INTERVAL = 0.2
TIMEOUT = 0.1
RISE = 2
FALL = 3
FAIL_BOUND = FALL * INTERVAL + TIMEOUT + 1.0   # endpoint fails -> answer moved
RECOVER_BOUND = RISE * INTERVAL + 1.0          # endpoint recovers -> answer back

EDGES = {
    # name: (latitude, longitude, IPv4 address)
    "fra1": (50.11, 8.68, "192.0.2.10"),
    "ams1": (52.37, 4.90, "192.0.2.20"),
    "iad1": (39.04, -77.49, "192.0.2.30"),
}

# network, latitude, longitude, country, continent, subdivision
NETWORKS = [
    ("5.1.0.0/16", 50.1, 8.7, "DE", "EU", "HE"),       # Frankfurt: fra1, then ams1, then iad1
    ("81.2.69.0/24", 51.5, -0.12, "GB", "EU", "ENG"),  # London: ams1, then fra1
    ("8.8.8.0/24", 37.75, -97.82, "US", "NA", ""),     # USA: iad1
]
FRANKFURT = "5.1.2.0/24"
LONDON = "81.2.69.0/24"

ZONE = """$ORIGIN health.test.
$TTL 300
@       IN SOA ns hostmaster 1 3600 600 86400 60
@       IN NS  ns
ns      IN A   192.0.2.53
api     30 IN DYNA edges
pair    30 IN DYNA pair
strict  30 IN DYNA strict
"""

POOLS = """pools:
  edges:
    edges: [fra1, ams1, iad1]
    policy: nearest
    when_all_down: all
  pair:
    edges: [fra1, ams1]
    policy: nearest
    when_all_down: all
  strict:
    edges: [fra1, ams1]
    policy: nearest
    when_all_down: servfail
"""


def haversine(lat1, lon1, lat2, lon2):
    r = math.radians
    a = (math.sin(r(lat2 - lat1) / 2) ** 2
         + math.cos(r(lat1)) * math.cos(r(lat2)) * math.sin(r(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def order_from(network):
    lat, lon = next((row[1], row[2]) for row in NETWORKS if row[0] == network)
    return sorted(EDGES, key=lambda name: haversine(lat, lon, EDGES[name][0], EDGES[name][1]))


def address(edge):
    return EDGES[edge][2]


def http_check(url, **extra):
    lines = ['      http: "%s"' % url]
    for key, value in extra.items():
        lines.append("      %s: %s" % (key, value))
    return lines


def tcp_check(port):
    return ['      tcp: "127.0.0.1:%d"' % port]


class HealthCase(E2ECase):
    """A server over the three edges, each with the check the test gives (or none)."""

    @classmethod
    def setUpClass(cls):
        require_executable(DNSCTL_BIN, "dnsctl")
        for name in ("dig", "openssl"):
            if not any(os.access(os.path.join(d, name), os.X_OK) for d in os.environ["PATH"].split(":")):
                raise AssertionError("%s is not installed" % name)
        # The geography the assertions rely on, computed independently of the server.
        assert order_from("5.1.0.0/16") == ["fra1", "ams1", "iad1"], order_from("5.1.0.0/16")
        assert order_from("81.2.69.0/24")[:2] == ["ams1", "fra1"], order_from("81.2.69.0/24")
        cls.fixtures = make_tempdir(cls, prefix="health-e2e-")
        cls.mmdb = build_mmdb(NETWORKS, cls.fixtures)

    def start_server(self, checks, workdir=None, timing=None, wait=True):
        """``checks``: edge name -> list of YAML lines under ``check:`` (None: no check);
        ``timing``: edge name -> (interval, timeout) in seconds instead of the defaults."""
        lines = ["geoip:", "  database: %s" % self.mmdb, "  client_subnet: true", "edges:"]
        for name, (lat, lon, v4) in EDGES.items():
            lines += ["  %s:" % name, "    location: [%s, %s]" % (lat, lon), '    addresses: ["%s"]' % v4]
            check = checks.get(name)
            if check is not None:
                interval, timeout = (timing or {}).get(name, (INTERVAL, TIMEOUT))
                lines += ["    check:"] + check + [
                    "      interval: %dms" % round(interval * 1000), "      timeout: %dms" % round(timeout * 1000),
                    "      rise: %d" % RISE, "      fall: %d" % FALL]
        server = Meridian(self, {"health.test.": ZONE}, workdir=workdir,
                          extra_config="\n".join(lines) + "\n" + POOLS)
        self.server = server
        if wait:
            server.start(self)
        return server

    # ---- asking ---------------------------------------------------------------------------

    def dig(self, subnet, name="api"):
        result = run_dig(self.server.port, "%s.health.test" % name, "A", "+subnet=%s" % subnet)
        self.assertIn(result.status, ("NOERROR", "SERVFAIL"), str(result))
        return result

    def answer(self, subnet, name="api"):
        """(status, sorted addresses, TTLs) of a `dig +subnet=` query."""
        result = self.dig(subnet, name)
        records = result.records("ANSWER", "A")
        return result.status, sorted(r[3] for r in records), sorted({r[1] for r in records})

    def await_answer(self, subnet, addresses, name="api", timeout=15.0, status="NOERROR"):
        """Polls with dig until the answer is ``addresses``; returns (seconds waited, TTLs)."""
        start = time.monotonic()
        last = None
        while True:
            got = self.answer(subnet, name)
            if got[0] == status and got[1] == sorted(addresses):
                return time.monotonic() - start, got[2]
            last = got
            if time.monotonic() - start > timeout:
                self.fail("after %.1fs %s from %s is still %s, expected %s %s\n%s\n%s"
                          % (timeout, name, subnet, last, status, sorted(addresses),
                             self.edges_text(), self.server.log()[-3000:]))
            time.sleep(0.02)

    def edges(self):
        result = run_dnsctl("--socket", self.server.socket_path, "edges", "--json")
        self.assertEqual(result.returncode, 0, str(result))
        return {row["name"]: row for row in result.json()["edges"]}

    def edges_text(self):
        return str(run_dnsctl("--socket", self.server.socket_path, "edges"))

    def await_edge(self, edge, timeout=10.0, **fields):
        """Waits until `dnsctl edges --json` shows ``fields`` for ``edge``; returns the row."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.edges()[edge]
            if all(row.get(k) == v for k, v in fields.items()):
                return row
            if time.monotonic() > deadline:
                self.fail("edge %s never showed %s; last: %s" % (edge, fields, row))
            time.sleep(0.05)

    def edge_row_text(self, edge):
        """The line of the human `dnsctl edges` table for ``edge``."""
        result = run_dnsctl("--socket", self.server.socket_path, "edges")
        self.assertEqual(result.returncode, 0, str(result))
        for line in result.stdout.splitlines():
            if line.split()[:1] == [edge]:
                return line
        self.fail("no row for %s in:\n%s" % (edge, result.stdout))


class FailoverTest(HealthCase):
    """One nearest edge whose endpoint fails in several ways, and comes back."""

    def setUp(self):
        self.endpoint = HealthEndpoint(self)
        self.start_server({"fra1": http_check(self.endpoint.url())})
        self.await_edge("fra1", state="up")
        _, ttls = self.await_answer(FRANKFURT, [address("fra1")], timeout=5)
        self.assertEqual(ttls, [30])

    def transition_lines(self, new_state):
        """Log lines announcing that fra1 became ``new_state``."""
        return [line for line in self.server.log().splitlines()
                if "edge=fra1" in line and re.search(r"\bnew=%s\b" % new_state, line)]

    def fail_and_recover(self, mode, reason_pattern):
        transitions = self.edges()["fra1"]["transitions"]
        logged_down, logged_up = len(self.transition_lines("down")), len(self.transition_lines("up"))
        self.endpoint.set_mode(mode)
        failed_at = time.monotonic()
        waited, ttls = self.await_answer(FRANKFURT, [address("ams1")])
        elapsed = time.monotonic() - failed_at
        self.assertLessEqual(elapsed, FAIL_BOUND,
                             "answer moved %.2fs after switching the endpoint to %r (bound %.2fs)"
                             % (elapsed, mode, FAIL_BOUND))
        # A nearer edge was skipped: the TTL is halved while it is down.
        self.assertEqual(ttls, [15])
        self.assertEqual(self.answer(FRANKFURT)[2], [15])
        row = self.await_edge("fra1", state="down")
        self.assertRegex(row.get("result") or "", reason_pattern, row)
        self.assertRegex(self.edge_row_text("fra1"), reason_pattern)
        self.assertIn("down", self.edge_row_text("fra1").split())
        # The other edges are unaffected.
        self.assertEqual(self.answer(LONDON)[1], [address("ams1")])

        self.endpoint.set_mode("ok")
        recovered_at = time.monotonic()
        _, ttls = self.await_answer(FRANKFURT, [address("fra1")])
        elapsed = time.monotonic() - recovered_at
        self.assertLessEqual(elapsed, RECOVER_BOUND,
                             "answer came back %.2fs after the endpoint recovered (bound %.2fs)"
                             % (elapsed, RECOVER_BOUND))
        self.assertEqual(ttls, [30])
        row = self.await_edge("fra1", state="up")
        self.assertRegex(row.get("result") or "", r"HTTP 200")
        # Each change counted and logged once, with the reason.
        self.assertEqual(row["transitions"], transitions + 2, row)
        down_lines = self.transition_lines("down")[logged_down:]
        self.assertEqual(len(down_lines), 1, down_lines)
        self.assertRegex(down_lines[0], r"\bold=up\b")
        # Values with quotes are written quoted, their quotes escaped.
        self.assertRegex(down_lines[0].replace('\\"', '"'), reason_pattern)
        up_lines = self.transition_lines("up")[logged_up:]
        self.assertEqual(len(up_lines), 1, up_lines)
        self.assertRegex(up_lines[0], r"\bold=down\b")

    def test_http_503(self):
        self.fail_and_recover("fail", r"HTTP 503")

    def test_hanging_endpoint(self):
        self.fail_and_recover("hang", r"timeout after 100 ?ms")

    def test_connection_closed_without_response(self):
        self.fail_and_recover("close", r"(?i)clos|reset")

    def test_unexpected_body(self):
        # Same server, but the check now also wants a body; reload it in.
        config = self.server.config_path
        with open(config) as f:
            text = f.read()
        text = text.replace('      http: "%s"\n' % self.endpoint.url(),
                            '      http: "%s"\n      expect_body: "ok"\n' % self.endpoint.url())
        with open(config, "w") as f:
            f.write(text)
        result = run_dnsctl("--socket", self.server.socket_path, "reload")
        self.assertEqual(result.returncode, 0, str(result))
        self.await_edge("fra1", state="up")
        self.fail_and_recover("body", r'body did not contain "ok"')

    def test_repeated_failover_cycles_stay_within_bounds(self):
        for mode, pattern in (("fail", r"HTTP 503"), ("hang", r"(?i)timeout"), ("fail", r"HTTP 503")):
            with self.subTest(mode=mode):
                self.fail_and_recover(mode, pattern)


class ProbeSettingsTest(HealthCase):
    def test_expect_status_list_and_host_header(self):
        endpoint = HealthEndpoint(self, mode="fail")
        self.start_server({"fra1": http_check(endpoint.url(), expect_status="[200, 503]",
                                              host='"fra1.health.example"')})
        row = self.await_edge("fra1", state="up")
        self.assertIn("HTTP 503", row.get("result", ""))
        self.assertEqual(self.answer(FRANKFURT)[1], [address("fra1")])
        self.assertIn("fra1.health.example", endpoint.hosts)
        self.assertEqual(set(endpoint.hosts), {"fra1.health.example"})
        endpoint.set_mode("close")
        self.await_answer(FRANKFURT, [address("ams1")])
        endpoint.set_mode("ok")
        self.await_answer(FRANKFURT, [address("fra1")])
        self.assertIn("HTTP 200", self.edges()["fra1"].get("result", ""))

    def test_probes_name_the_version_and_the_node(self):
        endpoint = HealthEndpoint(self)
        self.start_server({"fra1": http_check(endpoint.url())})
        self.await_edge("fra1", state="up")
        version = run_dnsctl("--version").stdout.split()[-1]
        node = socket.gethostname()
        self.assertTrue(endpoint.user_agents)
        self.assertEqual(set(endpoint.user_agents), {"Meridian/%s (node %s)" % (version, node)})


class StartupTest(HealthCase):
    def test_first_results_are_used_from_the_first_answer(self):
        endpoint = HealthEndpoint(self, mode="fail")
        refused = TCPEndpoint(self)
        refused.close()
        started = time.monotonic()
        self.start_server({"fra1": http_check(endpoint.url()), "ams1": tcp_check(refused.port)})
        ready = time.monotonic() - started
        # The first probes ran before the listeners served: no answer ever sends a
        # Frankfurt client to its failing nearest edges.
        self.assertEqual(self.answer(FRANKFURT)[1], [address("iad1")])
        rows = self.edges()
        self.assertEqual((rows["fra1"]["state"], rows["ams1"]["state"]), ("down", "down"), rows)
        self.assertLess(ready, 10)

    def test_a_hanging_first_probe_delays_start_by_at_most_its_timeout(self):
        endpoint = HealthEndpoint(self, mode="hang")
        reference = self.start_server({}, wait=False)
        started = time.monotonic()
        reference.start(self)
        baseline = time.monotonic() - started
        reference.stop()

        timeout = 1.5
        self.start_server({"fra1": http_check(endpoint.url())}, timing={"fra1": (3.0, timeout)}, wait=False)
        started = time.monotonic()
        self.server.start(self)
        ready = time.monotonic() - started
        self.assertLessEqual(ready, baseline + timeout + 1.0,
                             "ready after %.2fs; without checks %.2fs, probe timeout %.1fs" % (ready, baseline, timeout))
        self.assertGreater(endpoint.count(), 0, "the first probe did not run at start")
        # Until the first result the edge counts as up; after it, the timeout makes it down.
        row = self.await_edge("fra1", state="down", timeout=timeout + 3)
        self.assertRegex(row.get("result", ""), r"(?i)timeout")
        self.await_answer(FRANKFURT, [address("ams1")], timeout=2)


class IndependentProbesTest(HealthCase):
    def test_a_hanging_probe_does_not_delay_another_edges_failover(self):
        slow, quick = HealthEndpoint(self, mode="hang"), HealthEndpoint(self)
        # fra1's probes hang for most of every interval; ams1 is probed quickly.
        self.start_server({"fra1": http_check(slow.url()), "ams1": http_check(quick.url())},
                          timing={"fra1": (3.0, 2.5)})
        self.await_edge("fra1", state="down", timeout=10)
        self.await_edge("ams1", state="up")
        self.await_answer(LONDON, [address("ams1")], timeout=3)
        for _ in range(2):
            quick.set_mode("fail")
            failed_at = time.monotonic()
            self.await_answer(LONDON, [address("iad1")])
            elapsed = time.monotonic() - failed_at
            self.assertLessEqual(elapsed, FAIL_BOUND, "ams1 failover took %.2fs beside a hanging probe" % elapsed)
            quick.set_mode("ok")
            recovered_at = time.monotonic()
            self.await_answer(LONDON, [address("ams1")])
            elapsed = time.monotonic() - recovered_at
            self.assertLessEqual(elapsed, RECOVER_BOUND, "ams1 recovery took %.2fs beside a hanging probe" % elapsed)
        self.assertGreaterEqual(slow.count(), 2)


class ReloadKeepsHealthTest(HealthCase):
    def test_reload_keeps_the_state_of_unchanged_edges_and_drains(self):
        endpoint = HealthEndpoint(self, mode="fail")
        self.start_server({"fra1": http_check(endpoint.url())})
        self.await_edge("fra1", state="down")
        self.assertEqual(run_dnsctl("--socket", self.server.socket_path, "drain", "iad1").returncode, 0)
        before = self.edges()
        self.assertEqual(self.answer(FRANKFURT)[1:], ([address("ams1")], [15]))

        # A new edge in London, added to the main pool.
        with open(self.server.config_path) as f:
            text = f.read()
        text = text.replace("edges:\n  fra1:", 'edges:\n  lhr1:\n    location: [51.47, -0.45]\n'
                            '    addresses: ["192.0.2.50"]\n  fra1:', 1)
        text = text.replace("    edges: [fra1, ams1, iad1]\n", "    edges: [fra1, ams1, iad1, lhr1]\n")
        with open(self.server.config_path, "w") as f:
            f.write(text)
        result = run_dnsctl("--socket", self.server.socket_path, "reload")
        self.assertEqual(result.returncode, 0, str(result))
        self.assertIn("lhr1", result.stdout)
        # Straight after the reload: fra1 is still down, iad1 still drained.
        for _ in range(10):
            self.assertEqual(self.answer(FRANKFURT)[1:], ([address("ams1")], [15]))
        after = self.edges()
        self.assertEqual(after["fra1"]["state"], "down", after["fra1"])
        self.assertEqual(after["fra1"]["transitions"], before["fra1"]["transitions"], after["fra1"])
        self.assertEqual(after["iad1"]["admin"], "drained", after["iad1"])
        self.assertEqual(after["lhr1"]["state"], "up")
        self.assertEqual(self.answer(LONDON)[1], ["192.0.2.50"])
        endpoint.set_mode("ok")
        self.await_answer(FRANKFURT, [address("fra1")])


class TCPCheckTest(HealthCase):
    def test_listener_closed_and_reopened(self):
        listener = TCPEndpoint(self)
        self.start_server({"fra1": tcp_check(listener.port)})
        self.await_edge("fra1", state="up")
        self.await_answer(FRANKFURT, [address("fra1")], timeout=5)
        self.assertGreater(listener.accepted, 0, "the TCP check never connected")

        listener.close()
        closed_at = time.monotonic()
        _, ttls = self.await_answer(FRANKFURT, [address("ams1")])
        elapsed = time.monotonic() - closed_at
        self.assertLessEqual(elapsed, FAIL_BOUND, "moved after %.2fs" % elapsed)
        self.assertEqual(ttls, [15])
        row = self.await_edge("fra1", state="down")
        self.assertIn("connection refused", row.get("result", ""), row)
        self.assertIn("connection refused", self.edge_row_text("fra1"))

        listener.reopen()
        reopened_at = time.monotonic()
        _, ttls = self.await_answer(FRANKFURT, [address("fra1")])
        elapsed = time.monotonic() - reopened_at
        self.assertLessEqual(elapsed, RECOVER_BOUND, "back after %.2fs" % elapsed)
        self.assertEqual(ttls, [30])


class TLSCheckTest(HealthCase):
    def test_self_signed_rejected_by_default_accepted_without_verification(self):
        cert, key = make_self_signed_cert(make_tempdir(self, prefix="health-tls-"))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        endpoint = HealthEndpoint(self, tls=context)
        self.start_server({
            "fra1": http_check(endpoint.url("/fra1")),
            "ams1": http_check(endpoint.url("/ams1"), tls_verify="false"),
        })
        fra1 = self.await_edge("fra1", state="down")
        self.assertRegex(fra1.get("result", ""), r"(?i)TLS|certificate", fra1)
        ams1 = self.await_edge("ams1", state="up")
        self.assertRegex(ams1.get("result", ""), r"HTTP 200", ams1)
        # The verifying probe never got as far as a request; the other one did, over TLS.
        self.assertEqual(endpoint.count(path="/fra1"), 0)
        self.assertGreater(endpoint.count(path="/ams1"), 0)
        self.assertGreater(endpoint.tls_failures, 0)
        _, ttls = self.await_answer(FRANKFURT, [address("ams1")], timeout=5)
        self.assertEqual(ttls, [15])


class FlappingTest(HealthCase):
    def test_flapping_endpoint_does_not_flap_the_answer(self):
        endpoint = HealthEndpoint(self)
        self.start_server({"fra1": http_check(endpoint.url())})
        self.await_edge("fra1", state="up")
        self.await_answer(FRANKFURT, [address("fra1")], timeout=5)

        def hold(expected, probes, what):
            """Alternate pass/fail for ``probes`` probes; the answer must never change."""
            transitions = self.edges()["fra1"]["transitions"]
            start = time.monotonic()
            endpoint.set_mode("flap")
            seen = set()
            unexpected = []
            samples = 0
            while endpoint.count(mode="flap", since=start) < probes:
                result = self.dig(FRANKFURT)
                addresses = tuple(sorted(r[3] for r in result.records("ANSWER", "A")))
                seen.add(addresses)
                if addresses != (expected,) and len(unexpected) < 3:
                    unexpected.append(str(result))
                samples += 1
                self.assertLess(time.monotonic() - start, 30, "the endpoint was not probed %d times" % probes)
            self.assertEqual(seen, {(expected,)}, "%s: the answer flapped:\n%s" % (what, "\n".join(unexpected)))
            self.assertGreater(samples, probes, "too few answers sampled")
            row = self.edges()["fra1"]
            self.assertEqual(row["transitions"], transitions, "%s: health state changed: %s" % (what, row))

        # Up: one failure at a time never reaches fall=3.
        hold(address("fra1"), 12, "while up")
        endpoint.set_mode("fail")
        self.await_answer(FRANKFURT, [address("ams1")])
        self.await_edge("fra1", state="down")
        # Down: one success at a time never reaches rise=2.
        hold(address("ams1"), 12, "while down")
        endpoint.set_mode("ok")
        self.await_answer(FRANKFURT, [address("fra1")])


class AllDownTest(HealthCase):
    def test_when_all_down_all_and_servfail(self):
        one, two = HealthEndpoint(self), HealthEndpoint(self)
        self.start_server({"fra1": http_check(one.url()), "ams1": http_check(two.url())})
        self.await_edge("fra1", state="up")
        self.await_edge("ams1", state="up")
        self.await_answer(FRANKFURT, [address("fra1")], name="pair", timeout=5)
        self.await_answer(FRANKFURT, [address("fra1")], name="strict", timeout=5)

        one.set_mode("fail")
        two.set_mode("fail")
        self.await_edge("fra1", state="down")
        self.await_edge("ams1", state="down")
        # when_all_down: all -> every edge of the pool (fail open).
        self.await_answer(FRANKFURT, [address("fra1"), address("ams1")], name="pair")
        self.await_answer(LONDON, [address("fra1"), address("ams1")], name="pair")
        # when_all_down: servfail.
        self.await_answer(FRANKFURT, [], name="strict", status="SERVFAIL")
        # A pool with an edge still up answers with it, TTL halved.
        _, ttls = self.await_answer(FRANKFURT, [address("iad1")], name="api")
        self.assertEqual(ttls, [15])

        one.set_mode("ok")
        self.await_answer(FRANKFURT, [address("fra1")], name="pair")
        self.await_answer(LONDON, [address("fra1")], name="strict")
        self.await_answer(FRANKFURT, [address("fra1")], name="api")


class UncheckedEdgeTest(HealthCase):
    def test_edge_without_check_is_always_up(self):
        failing = HealthEndpoint(self, mode="fail")
        refused = TCPEndpoint(self)
        refused.close()
        self.start_server({"ams1": tcp_check(refused.port), "iad1": http_check(failing.url())})
        self.await_edge("ams1", state="down")
        self.await_edge("iad1", state="down")
        rows = self.edges()
        self.assertEqual(rows["fra1"]["state"], "up", rows["fra1"])
        self.assertFalse(rows["fra1"]["checked"], rows["fra1"])
        self.assertNotIn("result", rows["fra1"])
        self.assertTrue(rows["ams1"]["checked"])
        self.assertIn("connection refused", rows["ams1"].get("result", ""))
        self.assertIn("HTTP 503", rows["iad1"].get("result", ""))
        # Every other edge is down: fra1 alone answers (not fail-open with all edges).
        for subnet in (FRANKFURT, LONDON, "8.8.8.0/24"):
            status, addresses, _ = self.answer(subnet)
            self.assertEqual((status, addresses), ("NOERROR", [address("fra1")]), subnet)
        # London's nearest edge is down: fra1 with the TTL halved.
        self.assertEqual(self.answer(LONDON)[2], [15])
        self.assertEqual(self.answer(FRANKFURT)[2], [30])
        # Probes keep failing for the others, fra1 never changes.
        start = time.monotonic()
        while failing.count(since=start) < 5:
            self.assertEqual(self.answer(FRANKFURT)[1], [address("fra1")])
            self.assertLess(time.monotonic() - start, 20, "the failing endpoint is not probed")
        self.assertEqual(self.edges()["fra1"]["transitions"], 0)


class DrainTest(HealthCase):
    def test_drain_moves_the_answer_and_persists_across_restart(self):
        endpoint = HealthEndpoint(self)
        server = self.start_server({"fra1": http_check(endpoint.url())})
        state_file = os.path.join(server.workdir, "admin-state.json")
        self.await_edge("fra1", state="up")
        self.await_answer(FRANKFURT, [address("fra1")], timeout=5)

        result = run_dnsctl("--socket", server.socket_path, "drain", "fra1")
        self.assertEqual(result.returncode, 0, str(result))
        self.assertIn("fra1", result.stdout + result.stderr)
        drained_at = time.monotonic()
        _, ttls = self.await_answer(FRANKFURT, [address("ams1")], timeout=5)
        self.assertLess(time.monotonic() - drained_at, 1.0, "a drain took effect only after a second")
        self.assertEqual(ttls, [15])
        rows = self.edges()
        self.assertEqual(rows["fra1"]["admin"], "drained")
        # Probes keep running: the real state stays visible.
        self.assertEqual(rows["fra1"]["state"], "up")
        self.assertRegex(self.edge_row_text("fra1"), r"\bdrained\b")
        with open(state_file) as f:
            self.assertIn("fra1", json.dumps(json.load(f)), "the drain is not in health.state_file")

        # Restart: the drain is restored before the first answer.
        self.assertEqual(server.stop(), 0, server.log())
        server.start(self)
        self.assertEqual(self.answer(FRANKFURT)[1], [address("ams1")], "drained edge answered after restart")
        rows = self.edges()
        self.assertEqual(rows["fra1"]["admin"], "drained", rows["fra1"])
        self.assertEqual(rows["ams1"]["admin"], "active", rows["ams1"])
        self.await_edge("fra1", state="up")
        self.assertEqual(self.answer(FRANKFURT)[1], [address("ams1")])

        result = run_dnsctl("--socket", server.socket_path, "undrain", "fra1")
        self.assertEqual(result.returncode, 0, str(result))
        _, ttls = self.await_answer(FRANKFURT, [address("fra1")], timeout=5)
        self.assertEqual(ttls, [30])
        self.assertEqual(self.edges()["fra1"]["admin"], "active")

        # And the undrain persists too.
        self.assertEqual(server.stop(), 0, server.log())
        server.start(self)
        self.assertEqual(self.edges()["fra1"]["admin"], "active")
        self.assertEqual(self.answer(FRANKFURT)[1], [address("fra1")])

    def test_drain_unknown_edge_is_rejected(self):
        self.start_server({})
        result = run_dnsctl("--socket", self.server.socket_path, "drain", "nowhere1")
        self.assertEqual(result.returncode, 1, str(result))
        self.assertIn("nowhere1", result.stdout + result.stderr)
        self.assertEqual(self.answer(FRANKFURT)[1], [address("fra1")])


if __name__ == "__main__":
    unittest.main()
