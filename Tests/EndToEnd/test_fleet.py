"""Fleets end to end: a private three-member etcd cluster and three meridian nodes (n1, n2,
n3), each with its own directory, port and config but the same zones and edges. Drains
reach every node; health verdicts count by quorum and vanish with a dead node's lease;
publications reach the nodes that can apply them; a partition from etcd changes nothing
that is being served; one etcd member down changes nothing at all."""

import os
import re
import shutil
import signal
import time
import unittest
import urllib.request
import uuid

from harness import (DNSCTL_BIN, MERIDIAN_BIN, TEST_CLIENT_RRL, E2ECase, EtcdCluster, EtcdTLS,
                     FleetHealthEndpoint, Meridian, build_mmdb, fleet_config, free_port,
                     make_tempdir, meridian_config, require_etcd, require_executable, run_dig,
                     run_dnsctl, wait_until)

# Probe settings of fra1 (the only checked edge), as in test_health.
INTERVAL = 0.2
TIMEOUT = 0.1
RISE = 2
FALL = 3
LEASE_TTL = 2.0
CONVERGE = 2.0                                  # a drain or publication reaches every node
VERDICT_BOUND = FALL * INTERVAL + TIMEOUT + 2.0  # endpoint fails for a majority -> all moved
LEASE_BOUND = LEASE_TTL + 2.0                    # node killed -> its verdict no longer counts
RECONNECT_BOUND = 10.0                           # etcd back -> every node connected again
PARTITION = 30.0                                 # etcd down this long, nothing served changes

NODES = ("n1", "n2", "n3")
ORIGIN = "fleet.test."

# The edges, the networks of the GeoIP database and the Frankfurt client of the health tests.
from test_health import EDGES, FRANKFURT, NETWORKS  # noqa: E402

POOLS = """pools:
  edges:
    edges: [fra1, ams1, iad1]
    policy: nearest
    when_all_down: all
"""


def zone(serial, broken_line=None):
    """The zone with SOA serial ``serial``; ``broken_line``: a bad record as line 7."""
    lines = [
        "$ORIGIN fleet.test.",
        "$TTL 300",
        "@       IN SOA ns hostmaster %d 3600 600 86400 60" % serial,
        "@       IN NS  ns",
        "ns      IN A   192.0.2.53",
        "api     30 IN DYNA edges",
    ]
    if broken_line:
        lines.append("bad     IN A   192.0.2.300")
    return "\n".join(lines) + "\n"


BROKEN_LINE = 7


def address(edge):
    return EDGES[edge][2]


class EtcdClusterTest(unittest.TestCase):
    """The harness's cluster itself, without meridian."""

    def test_etcd_cluster_survives_one_member_down(self):
        etcd = EtcdCluster(self)
        etcd.start(self)
        self.assertEqual(len(etcd.endpoints), 3)
        self.assertEqual(len(set(etcd.endpoints)), 3, etcd.endpoints)
        member_list = etcd.etcdctl("member", "list")
        self.assertEqual(len(member_list.strip().splitlines()), 3, member_list)
        key = "/e2e/%s" % uuid.uuid4().hex
        etcd.etcdctl("put", key, "one")
        self.assertEqual(etcd.etcdctl("get", key, "--print-value-only").strip(), "one")

        # One member down: the other two still have a quorum and take writes.
        etcd.stop_member(0)
        self.assertFalse(etcd.running(0))
        self.assertFalse(etcd.healthy())
        etcd.wait_healthy([1, 2])
        etcd.etcdctl("put", key, "two", endpoints=etcd.endpoints[1:])
        self.assertEqual(etcd.etcdctl("get", key, "--print-value-only",
                                      endpoints=etcd.endpoints[1:]).strip(), "two")
        code, output = etcd.run_etcdctl("get", key, endpoints=etcd.endpoints[:1], timeout=20)
        self.assertNotEqual(code, 0, "a stopped member answered:\n%s" % output)

        # Back with its data, it catches up with the write it missed.
        etcd.start_member(0)
        etcd.wait_healthy()
        wait_until(lambda: etcd.run_etcdctl("get", key, "--print-value-only",
                                            "--consistency=s",
                                            endpoints=etcd.endpoints[:1])[1].strip() == "two",
                   10, message="the restarted member to serve the write it missed")

        # Two down: no quorum, no writes (a timed-out proposal may still be committed once
        # the quorum is back, so it goes to a key of its own); all back: the data is intact.
        etcd.stop_member(1)
        etcd.stop_member(2)
        code, output = etcd.run_etcdctl("put", key + "/no-quorum", "three",
                                        endpoints=etcd.endpoints[:1], timeout=20)
        self.assertNotEqual(code, 0, "a write succeeded without a quorum:\n%s" % output)
        etcd.stop_all()
        self.assertEqual(etcd.running_members(), [])
        etcd.start_all()
        self.assertEqual(etcd.etcdctl("get", key, "--print-value-only").strip(), "two")
        wait_until(lambda: etcd.leader() is not None, 10, message="an etcd leader")
        self.assertIn(etcd.leader(), (0, 1, 2))


class FleetCase(E2ECase):
    """One etcd cluster for the class; every test runs its own three nodes under its own
    prefix."""

    @classmethod
    def setUpClass(cls):
        require_etcd()
        require_executable(MERIDIAN_BIN, "meridian")
        require_executable(DNSCTL_BIN, "dnsctl")
        if shutil.which("dig") is None:
            raise AssertionError("dig is not installed")
        cls.fixtures = make_tempdir(cls, prefix="fleet-e2e-")
        cls.mmdb = build_mmdb(NETWORKS, cls.fixtures)
        cls.etcd = EtcdCluster(cls)
        cls.etcd.start(cls)

    def setUp(self):
        # A test before may have stopped members.
        self.etcd.start_all()
        self.prefix = "/meridian/%s-%s/" % (self._testMethodName, uuid.uuid4().hex[:8])
        self.endpoint = FleetHealthEndpoint(self)
        self.nodes = {}

    # ---- configs --------------------------------------------------------------------------

    def data_config(self, geoip_database):
        """geoip, edges (fra1 checked by the test's endpoint) and pools."""
        lines = ["geoip:", "  database: %s" % geoip_database, "  client_subnet: true", "edges:"]
        for name, (lat, lon, v4) in EDGES.items():
            lines += ["  %s:" % name, "    location: [%s, %s]" % (lat, lon),
                      '    addresses: ["%s"]' % v4]
            if name == "fra1":
                lines += ["    check:", '      http: "%s"' % self.endpoint.url("/fra1"),
                          "      interval: %dms" % round(INTERVAL * 1000),
                          "      timeout: %dms" % round(TIMEOUT * 1000),
                          "      rise: %d" % RISE, "      fall: %d" % FALL]
        return "\n".join(lines) + "\n" + POOLS

    def start_nodes(self, data="local", stats=False, names=NODES, lease_ttl=LEASE_TTL):
        """Starts the nodes (in parallel) and waits until each answers, is connected and sees
        the others, and answers Frankfurt with fra1."""
        for name in names:
            workdir = make_tempdir(self, prefix="fleet-%s-" % name)
            shutil.copy(self.mmdb, os.path.join(workdir, "geo.mmdb"))
            extra = self.data_config(os.path.join(workdir, "geo.mmdb"))
            stats_port = None
            if stats:
                stats_port = free_port()
                extra += 'stats:\n  listen: "127.0.0.1:%d"\n' % stats_port
            extra += fleet_config(name, self.etcd.endpoints, self.prefix,
                                  lease_ttl="%ds" % lease_ttl, extra="  data: %s\n" % data)
            node = Meridian(self, {ORIGIN: zone(1)}, workdir=workdir, extra_config=extra)
            node.fleet_name = name
            node.stats_port = stats_port
            self.nodes[name] = node
            node.start(self, wait=False)
        nodes = [self.nodes[name] for name in names]
        for node in nodes:
            node.wait_ready()
        for node in nodes:
            wait_until(lambda: self.fleet_json(node).get("connected") is True, 15,
                       message="%s to connect to etcd" % node.fleet_name)
            wait_until(lambda: set(names) <= {row.get("node") for row in self.fleet_json(node)["nodes"]},
                       15, message="%s to see every node in `dnsctl fleet`" % node.fleet_name)
        self.await_all(nodes, [address("fra1")], time.monotonic(), 15, "fra1 at start")
        return nodes

    # ---- asking ---------------------------------------------------------------------------

    def ctl(self, node, *args):
        return run_dnsctl("--config", node.config_path, *args)

    def ctl_json(self, node, *args):
        result = self.ctl(node, *args, "--json")
        self.assertEqual(result.returncode, 0, str(result))
        return result.json()

    def fleet_json(self, node):
        return self.ctl_json(node, "fleet")

    def fleet_nodes(self, node):
        return {row["node"]: row for row in self.fleet_json(node)["nodes"]}

    def edges(self, node):
        return {row["name"]: row for row in self.ctl_json(node, "edges")["edges"]}

    def status_fleet(self, node):
        data = self.ctl_json(node, "status")
        self.assertIn("fleet", data, "`dnsctl status --json` has no fleet object:\n%s" % data)
        return data["fleet"]

    def metrics(self, node):
        url = "http://127.0.0.1:%d/metrics" % node.stats_port
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8", "replace")

    def fleet_connected_metric(self, node):
        m = re.search(r"(?m)^meridian_fleet_connected (\S+)$", self.metrics(node))
        self.assertIsNotNone(m, "no meridian_fleet_connected on %s's /metrics" % node.fleet_name)
        return float(m.group(1))

    def answer(self, node, subnet=FRANKFURT):
        """(status, sorted addresses) of `dig +subnet=` for api.fleet.test at ``node``."""
        result = run_dig(node.port, "api.fleet.test", "A", "+subnet=%s" % subnet)
        return result.status, sorted(r[3] for r in result.records("ANSWER", "A"))

    def serial(self, node):
        result = run_dig(node.port, "fleet.test", "SOA")
        records = result.records("ANSWER", "SOA")
        self.assertEqual((result.status, len(records)), ("NOERROR", 1),
                         "%s: no SOA\n%s" % (node.fleet_name, result))
        return int(records[0][3].split()[2])

    def diagnostics(self, nodes):
        parts = []
        for node in nodes:
            fleet = self.ctl(node, "fleet", "--json") if node.alive() else "(not running)"
            parts.append("==== %s\n%s\n%s" % (node.fleet_name, fleet, node.log()[-2500:]))
        return "\n".join(parts)

    def await_nodes(self, nodes, observe, wanted, since, timeout, what):
        """Polls every node until ``observe(node)`` equals ``wanted`` on each; returns the
        seconds from ``since`` (monotonic) until the last one did."""
        pending = list(nodes)
        last = {}
        while True:
            for node in list(pending):
                last[node.fleet_name] = observe(node)
                if last[node.fleet_name] == wanted:
                    pending.remove(node)
            elapsed = time.monotonic() - since
            if not pending:
                return elapsed
            if elapsed > timeout:
                self.fail("%s: after %.1fs %s still show %s, expected %s\n%s"
                          % (what, elapsed, [n.fleet_name for n in pending],
                             {n.fleet_name: last[n.fleet_name] for n in pending}, wanted,
                             self.diagnostics(pending)))
            time.sleep(0.02)

    def await_all(self, nodes, addresses, since, timeout, what):
        """Until each node answers Frankfurt with ``addresses``."""
        return self.await_nodes(nodes, self.answer, ("NOERROR", sorted(addresses)), since, timeout, what)

    def await_serial(self, nodes, serial, since, timeout, what):
        """Until each node serves the zone with SOA serial ``serial``."""
        return self.await_nodes(nodes, self.serial, serial, since, timeout, what)

    def converge(self, nodes, addresses, since, what, bound=CONVERGE):
        """Waits (longer than ``bound``, for a useful message) and asserts ``bound``."""
        elapsed = self.await_all(nodes, addresses, since, bound + 10, what)
        print("%s converged in %.2f s" % (what, elapsed))
        self.assertLessEqual(elapsed, bound, "%s took %.2f s, more than %.1f s" % (what, elapsed, bound))
        return elapsed

    def drain(self, node, edge, *args):
        result = self.ctl(node, "drain", edge, *args)
        self.assertEqual(result.returncode, 0, str(result))
        return time.monotonic()

    def undrain(self, node, edge):
        result = self.ctl(node, "undrain", edge)
        self.assertEqual(result.returncode, 0, str(result))
        return time.monotonic()


class FleetDrainTest(FleetCase):
    def test_drain_and_undrain_reach_every_node(self):
        nodes = self.start_nodes()
        n1, n2, n3 = nodes
        # A drain made on n1 is applied by all three.
        before = time.time()
        started = time.monotonic()
        done = self.drain(n1, "fra1", "--reason", "fleet e2e maintenance")
        print("dnsctl drain took %.2f s" % (done - started))
        self.converge(nodes, [address("ams1")], done, "fleet drain")
        drains = self.fleet_json(n3)["drains"]
        self.assertEqual([row["edge"] for row in drains], ["fra1"], drains)
        self.assertEqual(drains[0]["reason"], "fleet e2e maintenance", drains)
        self.assertTrue(drains[0]["by"], drains)
        self.assertGreaterEqual(drains[0]["at"], before - 5, drains)
        self.assertLessEqual(drains[0]["at"], time.time() + 5, drains)
        for node in nodes:
            self.assertEqual(self.edges(node)["fra1"]["admin"], "drained", node.fleet_name)
            self.assertEqual(self.edges(node)["fra1"]["fleetDrain"]["reason"], "fleet e2e maintenance")
        table = self.ctl(n2, "edges").stdout
        self.assertIn("FLEET", table)
        self.assertRegex(table, r"(?m)^fra1 .*drained \(fleet\)", table)
        # Undrained from another node: back everywhere.
        done = self.undrain(n3, "fra1")
        self.converge(nodes, [address("fra1")], done, "fleet undrain")
        self.assertEqual(self.fleet_json(n2)["drains"], [])
        for node in nodes:
            self.assertEqual(self.edges(node)["fra1"]["admin"], "active", node.fleet_name)
        # An edge nobody has is rejected and drains nothing.
        result = self.ctl(n2, "drain", "nowhere1")
        self.assertEqual(result.returncode, 1, str(result))
        self.assertIn("nowhere1", result.stdout + result.stderr)
        self.assertEqual(self.fleet_json(n1)["drains"], [])

    def test_restart_while_etcd_is_down_keeps_the_drain(self):
        nodes = self.start_nodes()
        n1, n2, n3 = nodes
        self.converge(nodes, [address("ams1")], self.drain(n1, "fra1"), "fleet drain")
        self.etcd.stop_all()
        self.assertEqual(n2.stop(), 0, n2.log())
        # It starts and answers without etcd, drained from its state file before the first
        # answer.
        n2.start(self)
        self.assertEqual(self.answer(n2), ("NOERROR", [address("ams1")]), n2.log()[-3000:])
        self.assertEqual(self.edges(n2)["fra1"]["admin"], "drained")
        wait_until(lambda: self.status_fleet(n2)["connected"] is False, 10,
                   message="n2 to report that it is not connected")
        for node in nodes:
            self.assertEqual(self.answer(node), ("NOERROR", [address("ams1")]), node.fleet_name)
            self.assertEqual(self.serial(node), 1)
        # etcd back: n2 connects and the drain holds (it is still in etcd).
        self.etcd.start_all()
        wait_until(lambda: self.status_fleet(n2)["connected"] is True, RECONNECT_BOUND,
                   message="n2 to reconnect")
        self.assertEqual([row["edge"] for row in self.fleet_json(n2)["drains"]], ["fra1"])
        for node in nodes:
            self.assertEqual(self.answer(node), ("NOERROR", [address("ams1")]), node.fleet_name)


class FleetQuorumTest(FleetCase):
    def test_verdicts_count_by_majority_and_vanish_with_the_lease(self):
        nodes = self.start_nodes()
        n1, n2, n3 = nodes

        # fra1 fails for n2 alone: 1 of 3 is no majority, nobody moves off it, n2 is
        # overruled.
        self.endpoint.set_fail_for_nodes("n2")
        started = time.monotonic()
        overruled_at, row = None, None
        while True:
            for node in nodes:
                got = self.answer(node)
                if got != ("NOERROR", [address("fra1")]):
                    self.fail("%s answers %s %.1f s after fra1 failed for n2 alone\n%s"
                              % (node.fleet_name, got, time.monotonic() - started,
                                 self.diagnostics(nodes)))
            if overruled_at is None:
                row = self.edges(n2)["fra1"]
                if row.get("fleet", {}).get("overruled") is True:
                    overruled_at = time.monotonic()
            now = time.monotonic()
            if now - started >= 3.0 and overruled_at is not None and now - overruled_at >= 1.0:
                break
            if overruled_at is None and now - started > VERDICT_BOUND + 5:
                self.fail("n2 never showed fra1 overruled; last: %s" % row)
            time.sleep(0.05)
        with self.endpoint._lock:
            probes = [(agent or "", status) for _, agent, status in self.endpoint.agent_log]
        self.assertIn(("(node n2)", 503), [(a[-9:], s) for a, s in probes], "n2's probes never failed")
        self.assertEqual({a for a, s in probes if s == 503 and not a.endswith("(node n2)")}, set(),
                         "probes of other nodes failed")
        fleet = self.edges(n2)["fra1"]["fleet"]
        self.assertEqual((fleet["own"], fleet["verdict"], fleet["observers"], fleet["down"],
                          fleet["overruled"]), ("down", "up", 3, 1, True), fleet)
        fleet = self.edges(n1)["fra1"]["fleet"]
        self.assertEqual((fleet["own"], fleet["verdict"], fleet["observers"], fleet["down"],
                          fleet["overruled"]), ("up", "up", 3, 1, False), fleet)
        # explain on n2 says why it still answers with fra1.
        explained = self.ctl(n2, "explain", "api.fleet.test", FRANKFURT)
        self.assertEqual(explained.returncode, 0, str(explained))
        self.assertIn("fra1: this node's probes see it down, but only 1 of 3 fleet nodes do", explained.stdout)
        candidate = [c for c in self.ctl_json(n2, "explain", "api.fleet.test", FRANKFURT)["candidates"]
                     if c["edge"] == "fra1"][0]
        self.assertEqual((candidate["chosen"], candidate["state"], candidate["fleet"]["verdict"]), (True, "down", "up"),
                         candidate)
        rows = self.fleet_nodes(n3)
        self.assertIn("fra1", rows["n2"]["edgesDown"], rows)
        self.assertNotIn("fra1", rows["n1"]["edgesDown"], rows)
        self.assertNotIn("fra1", rows["n3"]["edgesDown"], rows)

        # Fails for n2 and n3: 2 of 3, every node moves off it, n1 too.
        self.endpoint.set_fail_for_nodes("n2", "n3")
        self.converge(nodes, [address("ams1")], time.monotonic(), "fleet verdict down (2 of 3)",
                      bound=VERDICT_BOUND)
        fleet = self.edges(n1)["fra1"]["fleet"]
        self.assertEqual((fleet["own"], fleet["verdict"], fleet["observers"], fleet["down"],
                          fleet["overruled"]), ("up", "down", 3, 2, False), fleet)
        explained = self.ctl(n1, "explain", "api.fleet.test", FRANKFURT)
        self.assertIn("skipped: down (2 of 3 fleet nodes see it down)", explained.stdout, str(explained))

        # n3 dies: once its lease runs out its verdict no longer counts; 1 of 2 is no
        # majority and fra1 is back on n1 and n2.
        n3.stop(sig=signal.SIGKILL)
        killed = time.monotonic()
        self.converge([n1, n2], [address("fra1")], killed, "fleet verdict after n3's lease",
                      bound=LEASE_BOUND)
        fleet = self.edges(n1)["fra1"]["fleet"]
        self.assertEqual((fleet["verdict"], fleet["observers"], fleet["down"]), ("up", 2, 1), fleet)
        fleet = self.edges(n2)["fra1"]["fleet"]
        self.assertEqual((fleet["own"], fleet["verdict"], fleet["overruled"]), ("down", "up", True), fleet)


class FleetCleanStopTest(FleetCase):
    def test_a_node_stopped_cleanly_stops_counting_at_once(self):
        # A lease of 10 s: a node that merely died would count for 10 s more.
        nodes = self.start_nodes(lease_ttl=10)
        n1, n2, n3 = nodes
        self.assertEqual(n3.stop(), 0, n3.log()[-3000:])
        stopped = time.monotonic()
        wait_until(lambda: "n3" not in self.fleet_nodes(n1), 3, message="n3 to leave n1's view of the fleet")
        print("a cleanly stopped node left the fleet in %.2f s" % (time.monotonic() - stopped))
        fleet = self.edges(n1)["fra1"]["fleet"]
        self.assertEqual(fleet["observers"], 2, fleet)


class FleetProbeIdentityTest(FleetCase):
    def test_probes_carry_the_node_name(self):
        self.start_nodes()
        wait_until(lambda: self.endpoint.nodes_seen() >= set(NODES), 10,
                   message="probes naming each of %s" % (NODES,))
        agents = self.endpoint.agents()
        self.assertTrue(agents)
        for agent in agents:
            self.assertRegex(agent or "", r"^Meridian/\S+ \(node (n1|n2|n3)\)$")
        self.assertEqual(self.endpoint.nodes_seen(), set(NODES))
        version = run_dnsctl("--version").stdout.split()[-1]
        self.assertEqual(set(agents), {"Meridian/%s (node %s)" % (version, name) for name in NODES})


class FleetPublishTest(FleetCase):
    def publisher(self, serial, geoip="geo.mmdb", broken=False):
        """A directory with a config and zones to publish: returns the config path."""
        directory = getattr(self, "publisher_dir", None)
        if directory is None:
            directory = self.publisher_dir = make_tempdir(self, prefix="fleet-publish-")
            os.makedirs(os.path.join(directory, "zones"))
        if not os.path.exists(os.path.join(directory, geoip)):
            shutil.copy(self.mmdb, os.path.join(directory, geoip))
        with open(os.path.join(directory, "zones", "fleet.test.zone"), "w") as f:
            f.write(zone(serial, broken_line=broken))
        config = os.path.join(directory, "meridian.yaml")
        with open(config, "w") as f:
            f.write(meridian_config(free_port(), os.path.join(directory, "zones"),
                                    os.path.join(directory, "meridian.sock"),
                                    os.path.join(directory, "admin-state.json"))
                    + TEST_CLIENT_RRL + self.data_config(geoip)
                    + fleet_config("publisher", self.etcd.endpoints, self.prefix,
                                   lease_ttl="%ds" % LEASE_TTL))
        return config

    def publish(self, config):
        # From the config's own directory, so that a relative geoip.database means the same
        # file whether it is resolved against the config's directory or the working one.
        return run_dnsctl("publish", "--config", config, cwd=os.path.dirname(config))

    def test_publications_reach_the_nodes_that_can_apply_them(self):
        nodes = self.start_nodes(data="published")
        n1, n2, n3 = nodes
        for node in nodes:
            self.assertEqual(self.serial(node), 1)
        self.assertIsNone(self.fleet_json(n1)["publishedRevision"])

        # A new serial: every node serves it.
        result = self.publish(self.publisher(2))
        self.assertEqual(result.returncode, 0, str(result))
        published = time.monotonic()
        elapsed = self.await_serial(nodes, 2, published, CONVERGE + 10, "publication of serial 2")
        print("fleet publication converged in %.2f s" % elapsed)
        self.assertLessEqual(elapsed, CONVERGE)
        revision = self.fleet_json(n1)["publishedRevision"]
        self.assertIsInstance(revision, int)
        self.assertRegex(result.stdout, r"\b%d\b" % revision, "publish did not print the revision")
        wait_until(lambda: all(row["revision"] == revision and row["rejected"] is None
                               for row in self.fleet_nodes(n2).values()), CONVERGE + 2,
                   message="every node to report revision %d, none rejected" % revision)
        # The published data, not only the zone: Frankfurt still gets fra1.
        for node in nodes:
            self.assertEqual(self.answer(node), ("NOERROR", [address("fra1")]))

        # A broken zone: refused with FILE:LINE, nothing written, nothing changes.
        result = self.publish(self.publisher(3, broken=True))
        self.assertEqual(result.returncode, 1, str(result))
        self.assertRegex(result.stdout + result.stderr, r"fleet\.test\.zone:%d:" % BROKEN_LINE, str(result))
        self.assertEqual(self.fleet_json(n1)["publishedRevision"], revision)
        deadline = time.monotonic() + CONVERGE
        while time.monotonic() < deadline:
            for node in nodes:
                self.assertEqual(self.serial(node), 2, "%s changed after a refused publication" % node.fleet_name)
            time.sleep(0.1)
        self.assertEqual(self.fleet_json(n2)["publishedRevision"], revision)

        # A geoip database that n3 does not have: n1 and n2 apply it, n3 keeps serial 2 and
        # says why.
        for node in (n1, n2):
            shutil.copy(self.mmdb, os.path.join(node.workdir, "geo-v3.mmdb"))
        self.assertFalse(os.path.exists(os.path.join(n3.workdir, "geo-v3.mmdb")))
        result = self.publish(self.publisher(3, geoip="geo-v3.mmdb"))
        self.assertEqual(result.returncode, 0, str(result))
        published = time.monotonic()
        elapsed = self.await_serial([n1, n2], 3, published, CONVERGE + 10, "publication of serial 3")
        print("fleet publication (n3 rejecting it) converged on n1, n2 in %.2f s" % elapsed)
        self.assertLessEqual(elapsed, CONVERGE)
        new_revision = self.fleet_json(n1)["publishedRevision"]
        self.assertIsInstance(new_revision, int)
        self.assertGreater(new_revision, revision)
        wait_until(lambda: self.fleet_nodes(n1)["n3"]["rejected"], CONVERGE + 2,
                   message="n3 to report the publication rejected")
        for viewer in (n1, n3):
            rows = self.fleet_nodes(viewer)
            self.assertIsInstance(rows["n3"]["rejected"], str, rows)
            self.assertIn("geo-v3.mmdb", rows["n3"]["rejected"], rows)
            self.assertEqual(rows["n3"]["revision"], revision, rows)
            for name in ("n1", "n2"):
                self.assertEqual((rows[name]["revision"], rows[name]["rejected"]), (new_revision, None), rows)
        self.assertEqual(self.serial(n3), 2)
        self.assertEqual(self.answer(n3), ("NOERROR", [address("fra1")]))
        for node in (n1, n2):
            self.assertEqual(self.serial(node), 3)
            self.assertEqual(self.answer(node), ("NOERROR", [address("fra1")]))


class FleetPartitionTest(FleetCase):
    def test_nodes_serve_unchanged_without_etcd_and_reconnect(self):
        nodes = self.start_nodes(stats=True)
        n1, n2, n3 = nodes
        for node in nodes:
            self.assertEqual(self.status_fleet(node)["connected"], True)
            self.assertIsNone(self.status_fleet(node)["disconnectedSince"])
            self.assertEqual(self.fleet_connected_metric(node), 1)

        stopped_at = time.time()
        self.etcd.stop_all()
        started = time.monotonic()
        # Every second or so, each node: same answer, same zone, and whether it has noticed.
        disconnected = {}
        checks = 0
        while time.monotonic() - started < PARTITION:
            tick = time.monotonic()
            for node in nodes:
                self.assertTrue(node.alive(), node.log()[-3000:])
                self.assertEqual(self.answer(node), ("NOERROR", [address("fra1")]),
                                 "%s changed its answer %.0f s into the partition"
                                 % (node.fleet_name, tick - started))
                self.assertEqual(self.serial(node), 1)
                if node.fleet_name not in disconnected:
                    fleet = self.status_fleet(node)
                    if fleet["connected"] is False:
                        disconnected[node.fleet_name] = (time.monotonic() - started, fleet)
            checks += 1
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        self.assertGreaterEqual(checks, PARTITION * 0.8)
        self.assertEqual(set(disconnected), set(NODES), "nodes that never reported the partition")
        for name, (after, fleet) in sorted(disconnected.items()):
            print("fleet %s reported disconnected after %.2f s" % (name, after))
            self.assertLessEqual(after, RECONNECT_BOUND, name)
            since = fleet["disconnectedSince"]
            self.assertIsInstance(since, (int, float), fleet)
            self.assertGreaterEqual(since, stopped_at - 2, fleet)
            self.assertLessEqual(since, stopped_at + after + 2, fleet)
        for node in nodes:
            self.assertEqual(self.status_fleet(node)["connected"], False)
            self.assertEqual(self.fleet_json(node)["connected"], False)
            self.assertEqual(self.fleet_connected_metric(node), 0)
        # A drain cannot reach the fleet: refused, with the way out named.
        result = self.ctl(n1, "drain", "fra1")
        self.assertEqual(result.returncode, 1, str(result))
        self.assertIn("etcd", (result.stdout + result.stderr).lower(), str(result))
        self.assertIn("--local", result.stdout + result.stderr, str(result))
        self.assertEqual(self.answer(n1), ("NOERROR", [address("fra1")]))

        self.etcd.start_all()
        back = time.monotonic()
        for node in nodes:
            wait_until(lambda: self.status_fleet(node)["connected"] is True,
                       max(1.0, RECONNECT_BOUND - (time.monotonic() - back)),
                       message="%s to reconnect" % node.fleet_name)
        print("fleet reconnected in %.2f s" % (time.monotonic() - back))
        for node in nodes:
            self.assertIsNone(self.status_fleet(node)["disconnectedSince"])
            wait_until(lambda: self.fleet_connected_metric(node) == 1, 2,
                       message="meridian_fleet_connected 1 on %s" % node.fleet_name)
        self.converge(nodes, [address("ams1")], self.drain(n2, "fra1"), "fleet drain after reconnecting")
        self.converge(nodes, [address("fra1")], self.undrain(n2, "fra1"), "fleet undrain after reconnecting")


class FleetEtcdMemberDownTest(FleetCase):
    def test_drain_converges_with_one_etcd_member_down(self):
        nodes = self.start_nodes()
        n1, n2, n3 = nodes
        # The first endpoint of every node's list.
        self.etcd.stop_member(0)
        self.etcd.wait_healthy([1, 2])
        self.converge(nodes, [address("ams1")], self.drain(n3, "fra1"), "fleet drain with one etcd member down")
        self.converge(nodes, [address("fra1")], self.undrain(n1, "fra1"), "fleet undrain with one etcd member down")
        for node in nodes:
            self.assertEqual(self.status_fleet(node)["connected"], True, node.fleet_name)



class FleetTLSTest(E2ECase):
    """etcd over HTTPS with client-certificate authentication: a node with its certificate
    connects and drains; one without a certificate, or trusting another CA, does not connect
    and keeps answering."""

    def test_client_certificates(self):
        require_executable(MERIDIAN_BIN, "meridian")
        tls = EtcdTLS(self)
        etcd = EtcdCluster(self, size=1, tls=tls)
        etcd.start(self)
        other_ca = EtcdTLS(self)
        prefix = "/meridian/tls-%s/" % uuid.uuid4().hex[:8]
        variants = {
            "good": "  tls: {ca: %s, cert: %s, key: %s}\n" % (tls.ca, tls.client_cert, tls.client_key),
            "nocert": "  tls: {ca: %s}\n" % tls.ca,
            "otherca": "  tls: {ca: %s, cert: %s, key: %s}\n" % (other_ca.ca, tls.client_cert, tls.client_key),
        }
        edges = ["edges:"]
        for edge, (lat, lon, v4) in EDGES.items():
            edges += ["  %s:" % edge, "    location: [%s, %s]" % (lat, lon), '    addresses: ["%s"]' % v4]
        nodes = {}
        for name, tls_lines in variants.items():
            extra = "\n".join(edges) + "\n" + POOLS + fleet_config(name, etcd.endpoints, prefix, lease_ttl="%ds" % LEASE_TTL,
                                                                    extra=tls_lines)
            node = Meridian(self, {ORIGIN: zone(1)}, extra_config=extra)
            node.start(self)
            nodes[name] = node

        def connection(node):
            result = run_dnsctl("--config", node.config_path, "status", "--json")
            self.assertEqual(result.returncode, 0, str(result))
            return result.json()["fleet"]

        try:
            wait_until(lambda: connection(nodes["good"])["connected"] is True, 15,
                       message="the node with a certificate to connect")
        except AssertionError as error:
            raise AssertionError("%s\n%s\n%s" % (error, connection(nodes["good"]), nodes["good"].log()[-3000:]))
        result = run_dnsctl("--config", nodes["good"].config_path, "drain", "fra1", "--reason", "tls")
        self.assertEqual(result.returncode, 0, str(result))
        self.assertIn("tls", etcd.etcdctl("get", "--prefix", prefix + "drains/"))
        for name in ("nocert", "otherca"):
            # Each has tried (and failed) by the time it has an error to show.
            wait_until(lambda: connection(nodes[name])["lastError"] is not None, 15,
                       message="%s to report why it cannot connect" % name)
            fleet = connection(nodes[name])
            self.assertEqual(fleet["connected"], False, fleet)
            self.assertEqual(run_dig(nodes[name].port, "fleet.test", "SOA").status, "NOERROR")
        self.assertEqual([k for k in etcd.etcdctl("get", "--prefix", prefix + "nodes/", "--keys-only").split() if k],
                         [prefix + "nodes/good"])


if __name__ == "__main__":
    unittest.main()
