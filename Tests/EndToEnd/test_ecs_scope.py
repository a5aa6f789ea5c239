"""The ECS scope is truthful, checked against an independent reading of the database.

A GeoIP database of a few hundred random networks (nested, adjacent, some without
coordinates) and two overrides; 10,000 source networks of various prefix lengths, many of
them split by the database. For every answer, the scope network (around the source network's
address, longer than the source prefix when the database splits it, RFC 7871 section 7.2.1)
is walked with bench/mmdb.py, a MaxMind DB reader that shares no code with Meridian, and
every part of it must get the same edge by a great-circle computation done here: a scope may
never cover an address that would get another answer.
"""

import ipaddress
import os
import random
import socket
import struct
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "bench"))

import harness  # noqa: E402
import mmdb  # noqa: E402
from harness import ecs_option, make_query  # noqa: E402
from test_geo import EDGES, haversine  # noqa: E402

SEED = int(os.environ.get("E2E_SEED", "20261202"))
SOURCES = 10_000
BLOCKS = ["11.0.0.0/8", "23.0.0.0/8", "77.0.0.0/8"]
CITIES = [(51.5, -0.12), (48.86, 2.35), (52.52, 13.4), (40.71, -74.0), (37.77, -122.42), (35.68, 139.69),
          (1.29, 103.85), (-23.55, -46.63), (-33.87, 151.21), (19.43, -99.13), (55.75, 37.62), (28.61, 77.2),
          (-26.2, 28.04), (30.04, 31.24), (45.5, -73.57), (41.9, 12.5), (59.33, 18.06), (-34.6, -58.38)]
OVERRIDES = [(ipaddress.ip_network("11.5.0.0/16"), ("edges", "gru1")),
             (ipaddress.ip_network("11.5.7.0/24"), ("location", (-33.87, 151.21)))]
FALLBACK = "iad1"


def nearest(lat, lon):
    return min((haversine(lat, lon, e[0], e[1]), name) for name, e in EDGES.items())[1]


def random_networks(rng):
    """Networks in BLOCKS: wide ones, and narrower ones inside and beside them."""
    rows = []
    for block in BLOCKS:
        base = ipaddress.ip_network(block)
        for _ in range(120):
            length = rng.choice([12, 14, 16, 18, 20, 22, 23, 24, 25, 26, 27, 28, 30])
            offset = rng.randrange(base.num_addresses) >> (32 - length) << (32 - length)
            network = ipaddress.ip_network((int(base.network_address) + offset, length))
            if rng.random() < 0.08:
                rows.append((str(network), "", "", "US", "NA", ""))  # no coordinates: fallback
            else:
                lat, lon = rng.choice(CITIES)
                rows.append((str(network), lat, lon, "XX", "EU", ""))
    # One network each, no duplicates (the CSV may not list a network twice).
    unique = {}
    for row in rows:
        unique.setdefault(row[0], row)
    return list(unique.values())


class ScopeSweep:
    """The independent side: what any block of addresses gets, from the database and the
    overrides, without Meridian's code."""

    def __init__(self, reader):
        self.reader = reader

    def answer_of_record(self, record):
        location = (record or {}).get("location") or {}
        if "latitude" not in location or "longitude" not in location:
            return FALLBACK
        return nearest(location["latitude"], location["longitude"])

    @staticmethod
    def override_answer(target):
        kind, value = target
        return value if kind == "edges" else nearest(*value)

    def pointer_at(self, network):
        pointer = self.reader.root(4)
        value = int(network.network_address)
        for depth in range(network.prefixlen):
            if not self.reader.is_node(pointer):
                break
            pointer = self.reader.child(pointer, (value >> (31 - depth)) & 1)
        return pointer

    def answers(self, block, pointer=None):
        """Every answer some address of ``block`` gets."""
        if pointer is None:
            pointer = self.pointer_at(block)
        inside = [o for o, _ in OVERRIDES if o.prefixlen > block.prefixlen and o.subnet_of(block)]
        containing = sorted(((o, t) for o, t in OVERRIDES if block.subnet_of(o)), key=lambda e: -e[0].prefixlen)
        if not inside and containing:
            return {self.override_answer(containing[0][1])}
        if not inside and not self.reader.is_node(pointer):
            return {self.answer_of_record(self.reader.data(pointer))}
        low, high = block.subnets(prefixlen_diff=1)
        if self.reader.is_node(pointer):
            return self.answers(low, self.reader.child(pointer, 0)) | self.answers(high, self.reader.child(pointer, 1))
        return self.answers(low, pointer) | self.answers(high, pointer)


class ECSScopeSweepTest(harness.E2ECase):

    def test_no_scope_covers_an_address_with_another_answer(self):
        rng = random.Random(SEED)
        server = harness.Meridian(self, {"geo.test.": "$ORIGIN geo.test.\n$TTL 300\n"
                                         "@ IN SOA ns hostmaster 1 3600 600 86400 60\n@ IN NS ns\n"
                                         "ns IN A 192.0.2.53\napi 30 IN DYNA inference\n"})
        database = harness.build_mmdb(random_networks(rng), server.workdir)
        edges = ["edges:"]
        for name, (lat, lon, v4, _) in EDGES.items():
            edges += ["  %s:" % name, "    location: [%s, %s]" % (lat, lon), '    addresses: ["%s"]' % v4]
        server.extra_config = (
            "geoip:\n  database: %s\n  client_subnet: true\n  overrides:\n" % database
            + "".join("    - network: %s\n      %s\n" % (network, "edges: [%s]" % value if kind == "edges"
                                                          else "location: [%s, %s]" % value)
                      for network, (kind, value) in OVERRIDES)
            + "\n".join(edges) + "\n"
            + "pools:\n  inference:\n    edges: [%s]\n    policy: nearest\n    fallback: [%s]\n"
            % (", ".join(EDGES), FALLBACK))
        server.write_config()
        server.start(self)
        sweep = ScopeSweep(mmdb.Reader(database))
        by_address = {e[2]: name for name, e in EDGES.items()}

        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(2.0)
        self.addCleanup(sock.close)
        longer = wider = 0
        untruthful = []
        split_example = None
        for qid in range(SOURCES):
            block = ipaddress.ip_network(rng.choice(BLOCKS))
            prefix = rng.choice([16, 20, 22, 24, 24, 24, 25, 28])
            address = ipaddress.ip_address(int(block.network_address) + rng.randrange(block.num_addresses))
            source = ipaddress.ip_network((int(address) >> (32 - prefix) << (32 - prefix), prefix))
            wire = make_query("api.geo.test.", "A", qid=qid & 0xFFFF,
                              edns={"options": [ecs_option(str(source.network_address), prefix)]})
            sock.sendto(wire, ("127.0.0.1", server.port))
            while True:
                data, _ = sock.recvfrom(4096)
                if struct.unpack("!H", data[:2])[0] == qid & 0xFFFF:
                    break
            msg = harness.Message.parse(data)
            self.assertEqual(len(msg.rrs("answer")), 1, str(msg))
            answer = by_address[msg.rrs("answer")[0].text]
            scope = next(d[3] for code, d in msg.edns_options if code == 8)
            longer += scope > prefix
            if scope > prefix and split_example is None:
                split_example = (source, scope, answer)
            wider += scope < prefix
            network = ipaddress.ip_network((int(source.network_address) >> (32 - scope) << (32 - scope), scope))
            seen = sweep.answers(network)
            if seen != {answer}:
                untruthful.append("%s: answer %s, scope /%d covers %s" % (source, answer, scope, sorted(seen)))
        print("\nECS scope sweep: %d source networks, %d scopes longer than the source, %d wider, %d untruthful"
              % (SOURCES, longer, wider, len(untruthful)), file=sys.stderr)
        self.assertEqual(untruthful, [], "\n".join(untruthful[:20]))
        self.assertGreater(longer, SOURCES // 50, "the sweep hardly tested split source networks")
        # dnsctl explain shows the longer scope and says why.
        source, scope, answer = split_example
        explained = harness.run_dnsctl("--socket", server.socket_path, "explain", "api.geo.test", str(source))
        self.assertEqual(explained.returncode, 0, str(explained))
        self.assertIn("ECS scope /%d" % scope, explained.stdout)
        held = ipaddress.ip_network((int(source.network_address) >> (32 - scope) << (32 - scope), scope))
        self.assertIn("the data splits %s: this answer holds for %s only" % (source, held), explained.stdout)
        self.assertIn(EDGES[answer][2], explained.stdout)
        self.assertTrue(server.alive())


if __name__ == "__main__":
    unittest.main()
