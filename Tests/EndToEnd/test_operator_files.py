"""What an operator's file operations do to a running server: the GeoIP database truncated,
overwritten in place or deleted under it (the server owns a private copy, so explain and
answers carry on and a reload rejects the damaged file), and a damaged admin state file at
start (an error naming the file and line, unless the operator says to ignore it)."""

import json
import os
import re

from harness import (MERIDIAN_BIN, E2ECase, Meridian, build_mmdb, ecs_option, make_query, run_dnsctl,
                     testcase_cleanup, udp_query, wait_until)

ZONE = """$ORIGIN files.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 60
@    IN NS  ns
ns   IN A   192.0.2.53
api  30 IN DYNA edges
"""

# network, latitude, longitude, country, continent, subdivision
NETWORKS = [
    ("81.2.69.0/24", 51.5, -0.12, "GB", "EU", "ENG"),
    ("103.4.96.0/22", 1.29, 103.85, "SG", "AS", ""),
    ("8.8.8.0/24", 37.75, -97.82, "US", "NA", ""),
]
# Enough networks that the file spans many pages: a lookup in a mapping of the shortened
# file itself would touch pages past its end, which faults.
FILLER = [("100.%d.%d.0/24" % (64 + i // 250, i % 250), 40.0 + i % 10, -3.0, "ES", "EU", "") for i in range(3000)]

EDGES = """edges:
  fra1: {location: [50.11, 8.68], addresses: ["192.0.2.10"]}
  sin1: {location: [1.35, 103.82], addresses: ["192.0.2.40"]}
  iad1: {location: [39.04, -77.49], addresses: ["192.0.2.30"]}
pools:
  edges:
    edges: [fra1, sin1, iad1]
    policy: nearest
"""


def explain_edge(server, client):
    """The edge `dnsctl explain` says the client gets, or None when explain failed."""
    result = run_dnsctl("--socket", server.socket_path, "--json", "explain", "api.files.test", client)
    if result.returncode != 0:
        return None
    reply = json.loads(result.stdout)
    return reply["answer"][0].split()[-1] if reply.get("answer") else None


class GeoIPFileTest(E2ECase):
    def setUp(self):
        self.server = Meridian(self, {"files.test.": ZONE})
        self.mmdb = build_mmdb(NETWORKS + FILLER, self.server.workdir)
        self.assertGreater(os.path.getsize(self.mmdb), 4 * 4096)
        self.server.extra_config = "geoip:\n  database: %s\n" % self.mmdb + EDGES
        self.server.write_config()
        self.server.start(self)
        self.assertEqual(explain_edge(self.server, "81.2.69.7"), "192.0.2.10")

    def answer(self, client_subnet):
        address, prefix = client_subnet.split("/")
        response = udp_query(self.server.port, make_query("api.files.test.", "A",
                                                          edns={"options": [ecs_option(address, int(prefix))]}))
        return [rr.text for rr in response.rrs("answer")]

    def assert_still_serving(self, what):
        for _ in range(20):
            self.assertEqual(explain_edge(self.server, "81.2.69.7"), "192.0.2.10", "explain after the database was " + what)
            self.assertEqual(explain_edge(self.server, "103.4.96.9"), "192.0.2.40", "explain after the database was " + what)
        self.assertTrue(self.server.alive(), "meridian died after the database was %s:\n%s" % (what, self.server.log()))
        self.assertEqual(self.answer("103.4.96.0/24"), ["192.0.2.40"])
        reload = run_dnsctl("--socket", self.server.socket_path, "reload")
        self.assertEqual(reload.returncode, 1, "a reload took the %s database: %s" % (what, reload))
        self.assertIn(self.mmdb, reload.stderr)
        self.assertEqual(self.answer("81.2.69.0/24"), ["192.0.2.10"], "the old data stopped serving")

    def test_truncated_in_place(self):
        with open(self.mmdb, "r+b") as f:
            f.truncate(4096)
        self.assert_still_serving("truncated")

    def test_overwritten_in_place(self):
        size = os.path.getsize(self.mmdb)
        with open(self.mmdb, "r+b") as f:
            f.write(b"\xff" * size)
        self.assert_still_serving("overwritten")

    def test_deleted(self):
        os.unlink(self.mmdb)
        self.assert_still_serving("deleted")

    def test_replaced_then_reloaded(self):
        # A new file renamed over the old (the safe way to deploy): the reload takes it.
        moved = [("81.2.69.0/24", 1.29, 103.85, "SG", "AS", "")] + NETWORKS[1:] + FILLER
        replacement = build_mmdb(moved, self.server.workdir, name="next")
        os.rename(replacement, self.mmdb)
        self.assertEqual(explain_edge(self.server, "81.2.69.7"), "192.0.2.10", "the loaded copy changed before a reload")
        reload = run_dnsctl("--socket", self.server.socket_path, "reload")
        self.assertEqual(reload.returncode, 0, str(reload))
        self.assertEqual(explain_edge(self.server, "81.2.69.7"), "192.0.2.40")
        self.assertEqual(self.answer("81.2.69.0/24"), ["192.0.2.40"])


class AdminStateFileTest(E2ECase):
    def setUp(self):
        self.server = Meridian(self, {"files.test.": ZONE}, extra_config=EDGES)
        self.state_file = os.path.join(self.server.workdir, "admin-state.json")

    def start(self, *arguments):
        self.server._spawn([MERIDIAN_BIN, "--config", self.server.config_path] + list(arguments))
        testcase_cleanup(self, self.server.stop)

    def test_damaged_state_file_stops_the_start_with_its_line(self):
        with open(self.state_file, "w") as f:
            f.write('{"drained": ["fra1",\n  "sin1" oops]}\n')
        self.start()
        wait_until(lambda: not self.server.alive(), 20, message="meridian to refuse to start")
        self.assertEqual(self.server.proc.returncode, 1, self.server.log())
        log = self.server.log()
        self.assertRegex(log, re.escape(self.state_file) + r":2: not valid JSON")
        self.assertIn("--ignore-admin-state", log)
        self.assertFalse(os.path.exists(self.server.socket_path), "the control socket was opened")
        with open(self.state_file) as f:
            self.assertIn("oops", f.read(), "the damaged file was changed")

    def test_ignore_flag_starts_without_drains_and_says_what_it_ignored(self):
        with open(self.state_file, "w") as f:
            f.write("not json\n")
        self.start("--ignore-admin-state")
        self.server.wait_ready()
        log = self.server.log()
        self.assertIn("Ignoring the admin state file", log)
        self.assertIn(self.state_file + ":1: not valid JSON", log)
        edges = json.loads(run_dnsctl("--socket", self.server.socket_path, "--json", "edges").stdout)
        self.assertTrue(all(row["admin"] == "active" for row in edges["edges"]), edges)

    def test_unreadable_state_file_stops_the_start(self):
        os.mkdir(self.state_file)  # a directory where the file should be
        self.start()
        wait_until(lambda: not self.server.alive(), 20, message="meridian to refuse to start")
        self.assertEqual(self.server.proc.returncode, 1, self.server.log())
        self.assertIn(self.state_file + ":0: cannot read", self.server.log())

    def test_stale_temporary_files_are_removed_at_start_and_drains_restored(self):
        with open(self.state_file, "w") as f:
            f.write('{"drained":["sin1"]}\n')
        # Left by a writer killed before its rename; no process has this PID (above pid_max).
        stale = os.path.join(self.server.workdir, ".admin-state.json.4194305.tmp")
        with open(stale, "w") as f:
            f.write('{"drained":[]}')
        self.start()
        self.server.wait_ready()
        self.assertFalse(os.path.exists(stale), "the stale temporary file is still there")
        edges = json.loads(run_dnsctl("--socket", self.server.socket_path, "--json", "edges").stdout)
        admin = {row["name"]: row["admin"] for row in edges["edges"]}
        self.assertEqual(admin["sin1"], "drained", edges)
