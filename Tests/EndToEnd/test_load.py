"""Load-aware routing end to end: the real binary, edges whose /metrics pages are real local
HTTP servers in vLLM's format with settable gauges, a GeoIP database that puts 2,000 client
/24s in London, and queries with Client Subnet for each of them.

The nearest edge, lon1, is made to shed 25, 50, 75 and 100 % of its client networks by its
own `vllm:num_requests_waiting` gauge: about that share of the /24s move to fra1 (the next
edge in their nearest-first order), the same ones every time, more as the share rises and all
of them back when it falls to 0; moved answers have half the record's TTL and a /24 scope.
A feed that starts failing stops shedding within `stale_after` reads.
"""

import ipaddress
import json
import os
import socket
import struct
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import ecs_option, make_query, run_dnsctl, wait_until  # noqa: E402

EDGES = {"lon1": (51.51, -0.13, "192.0.2.10"), "fra1": (50.11, 8.68, "192.0.2.20"), "nyc1": (40.71, -74.0, "192.0.2.30")}
CLIENTS = [ipaddress.ip_network((int(ipaddress.ip_address("11.0.0.0")) + (i << 8), 24)) for i in range(2_000)]
ZONE = """$ORIGIN load.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 60
@    IN NS  ns
ns   IN A   192.0.2.53
api  30 IN DYNA inference
"""

PAGE = """# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="llama"} %s
vllm:num_requests_waiting{engine="0",model_name="other"} 1000.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="llama"} 0.1
"""


class MetricsEndpoint:
    """A vLLM-style /metrics page whose waiting-requests gauge and HTTP status can be set."""

    def __init__(self, testcase):
        self.waiting = 0.0
        self.status = 200
        self.reads = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                endpoint.reads += 1
                body = (PAGE % endpoint.waiting).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/metrics" % self.server.server_address[1]
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        testcase.addCleanup(self.server.shutdown)


class LoadAwareRoutingTest(harness.E2ECase):

    def setUp(self):
        self.metrics = MetricsEndpoint(self)
        self.server = harness.Meridian(self, {"load.test.": ZONE})
        database = harness.build_mmdb([("11.0.0.0/13", 51.5, -0.12, "GB", "EU", "ENG")], self.server.workdir)
        lines = ["geoip:", "  database: %s" % database, "edges:"]
        for name, (lat, lon, address) in EDGES.items():
            lines += ["  %s:" % name, "    location: [%s, %s]" % (lat, lon), '    addresses: ["%s"]' % address]
            if name == "lon1":
                lines += ["    load:",
                          '      metrics: "%s"' % self.metrics.url,
                          "      interval: 200ms",
                          "      timeout: 150ms",
                          "      stale_after: 3",
                          "      max_step: 1",
                          "      signals:",
                          '        - { metric: "vllm:num_requests_waiting", low: 0, high: 100, labels: { model_name: "llama" } }']
        lines += ["pools:", "  inference:", "    edges: [lon1, fra1, nyc1]", "    policy: nearest", "    answers: 1"]
        self.stats_port = harness.free_port()
        lines += ["stats:", '  listen: "127.0.0.1:%d"' % self.stats_port]
        self.server.extra_config = "\n".join(lines) + "\n"
        self.server.write_config()
        self.server.start(self)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.settimeout(2)
        self.addCleanup(self.socket.close)

    def lon1(self):
        result = run_dnsctl("--json", "--socket", self.server.socket_path, "edges")
        self.assertEqual(result.returncode, 0, str(result))
        return next(row for row in result.json()["edges"] if row["name"] == "lon1")

    def metrics_page(self):
        """/metrics, read by Prometheus' own parser: {(name, sorted labels): value}."""
        from urllib.request import urlopen
        from prometheus_client.parser import text_string_to_metric_families
        with urlopen("http://127.0.0.1:%d/metrics" % self.stats_port, timeout=10) as response:
            text = response.read().decode()
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples}

    def shed_at(self, waiting):
        """Sets the gauge and waits until the server sheds waiting/100 of lon1's networks."""
        self.metrics.waiting = waiting
        wait_until(lambda: abs(self.lon1()["load"]["shedFraction"] - waiting / 100) < 1e-9, 10,
                   message="lon1 shedding %s" % (waiting / 100))

    def answers(self):
        """For every client /24: (edge, TTL, scope)."""
        out = {}
        for qid, network in enumerate(CLIENTS):
            wire = make_query("api.load.test.", "A", qid=qid, edns={"options": [ecs_option(str(network.network_address), 24)]})
            self.socket.sendto(wire, ("127.0.0.1", self.server.port))
            while True:
                data, _ = self.socket.recvfrom(4096)
                if struct.unpack("!H", data[:2])[0] == qid:
                    break
            msg = harness.Message.parse(data)
            [record] = msg.rrs("answer")
            scope = next(d[3] for code, d in msg.edns_options if code == 8)
            edge = next(name for name, e in EDGES.items() if e[2] == record.text)
            out[network] = (edge, record.ttl, scope)
        return out

    def test_shedding_is_proportional_sticky_monotone_and_fails_open(self):
        self.assertEqual({a[0] for a in self.answers().values()}, {"lon1"})
        shares = {}
        previous = set()
        for waiting in (25, 50, 75):
            self.shed_at(waiting)
            first = self.answers()
            moved = {network for network, answer in first.items() if answer[0] != "lon1"}
            shares[waiting] = len(moved) / len(CLIENTS)
            self.assertLess(abs(shares[waiting] - waiting / 100), 0.05, "%d %% asked, %.3f moved" % (waiting, shares[waiting]))
            self.assertEqual({first[n][0] for n in moved}, {"fra1"}, "moved to the next edge in nearest order")
            self.assertTrue(previous <= moved, "networks shed at a lower share came back at a higher one")
            previous = moved
            # Moved answers: half the record's TTL; every answer depends on the hash: /24 scope.
            self.assertEqual({first[n][1] for n in moved}, {15})
            self.assertEqual({a[1] for n, a in first.items() if n not in moved}, {30})
            self.assertEqual({a[2] for a in first.values()}, {24})
            # The same networks move every time.
            self.assertEqual({n for n, a in self.answers().items() if a[0] != "lon1"}, moved)
        print("\nload shedding: %s of 2,000 client /24s moved at 25/50/75 %% (sticky, monotone)"
              % ", ".join("%.3f" % shares[w] for w in (25, 50, 75)), file=sys.stderr)

        self.shed_at(100)
        self.assertEqual({a[0] for a in self.answers().values()}, {"fra1"})
        self.shed_at(0)
        self.assertEqual({a[0] for a in self.answers().values()}, {"lon1"})

        # explain shows the hash position against the fraction; /metrics the fraction, the
        # signal and the answers moved.
        self.shed_at(50)
        metrics = self.metrics_page()
        self.assertEqual(metrics[("meridian_edge_load_shed_ratio", (("edge", "lon1"),))], 0.5)
        self.assertEqual(metrics[("meridian_edge_load_signal", (("edge", "lon1"), ("metric", "vllm:num_requests_waiting")))], 50)
        self.assertEqual(metrics[("meridian_edge_load_feed_up", (("edge", "lon1"),))], 1)
        wait_until(lambda: self.metrics_page()[("meridian_answers_shed_total", (("edge", "lon1"),))] >= 2_000, 10,
                   message="moved answers counted")
        network = next(n for n, a in self.answers().items() if a[0] == "fra1")
        explained = run_dnsctl("--socket", self.server.socket_path, "explain", "api.load.test", str(network))
        self.assertEqual(explained.returncode, 0, str(explained))
        self.assertIn("shedding load (sheds 0.50; this network at 0.", explained.stdout)
        self.assertIn("moved for load", explained.stdout)

        # A failing feed: the last fraction holds for fewer than stale_after reads, then nothing is shed.
        self.metrics.status = 503
        wait_until(lambda: self.lon1()["load"]["feed"] == "stale", 10, message="the feed going stale")
        row = self.lon1()
        self.assertEqual(row["load"]["shedFraction"], 0)
        self.assertIn("HTTP 503", row["load"]["lastError"])
        self.assertEqual({a[0] for a in self.answers().values()}, {"lon1"})
        edges = run_dnsctl("--socket", self.server.socket_path, "edges")
        self.assertRegex(edges.stdout, r"lon1 .* 0\.00 +stale vllm:num_requests_waiting=50 \(0\.50\): HTTP 503")
        self.assertTrue(self.server.alive())


if __name__ == "__main__":
    unittest.main()
