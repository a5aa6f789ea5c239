"""Geo routing end to end: a GeoIP database built from a readable CSV with `dnsctl geoip
build`, the real server, and `dig +subnet=` from several continents. Expected answers come
from an independent great-circle computation here, not from Meridian's code."""

import ipaddress
import math
import os
import subprocess
import unittest

from harness import (DNSCTL_BIN, E2ECase, Meridian, Message, ecs_option, make_query, run_dig,
                     require_executable, tcp_query, udp_query)

# network, latitude, longitude, country, continent, subdivision
NETWORKS = [
    ("81.2.69.0/24", 51.5, -0.12, "GB", "EU", "ENG"),
    ("2.16.0.0/13", 48.86, 2.35, "FR", "EU", ""),
    ("8.8.8.0/24", 37.75, -97.82, "US", "NA", ""),
    ("12.0.0.0/8", 37.4, -122.1, "US", "NA", "CA"),
    ("1.0.16.0/20", 35.69, 139.75, "JP", "AS", "13"),
    ("103.4.96.0/22", 1.29, 103.85, "SG", "AS", ""),
    ("200.160.0.0/20", -23.5, -46.6, "BR", "SA", "SP"),
    ("41.0.0.0/11", -26.2, 28.04, "ZA", "AF", ""),
    ("1.120.0.0/13", -33.87, 151.21, "AU", "OC", ""),
    ("2001:200::/32", 35.69, 139.75, "JP", "AS", ""),
    ("2a00:1450::/32", 53.35, -6.26, "IE", "EU", ""),
    ("2800:3f0::/32", -34.6, -58.38, "AR", "SA", ""),
    ("12.34.0.0/16", "", "", "US", "NA", ""),  # country only: no coordinates
]

EDGES = {
    # name: (lat, lon, ipv4, ipv6 or None)
    "fra1": (50.11, 8.68, "192.0.2.10", "2001:db8::10"),
    "iad1": (39.04, -77.49, "192.0.2.20", "2001:db8::20"),
    "sfo1": (37.77, -122.42, "192.0.2.30", None),
    "sin1": (1.35, 103.82, "192.0.2.40", "2001:db8::40"),
    "gru1": (-23.55, -46.63, "192.0.2.50", "2001:db8::50"),
    "nrt1": (35.68, 139.69, "192.0.2.60", "2001:db8::60"),
}


def haversine(lat1, lon1, lat2, lon2):
    r = math.radians
    a = math.sin(r(lat2 - lat1) / 2) ** 2 + math.cos(r(lat1)) * math.cos(r(lat2)) * math.sin(r(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def nearest(lat, lon, family):
    candidates = [(haversine(lat, lon, e[0], e[1]), name) for name, e in EDGES.items()
                  if (e[2] if family == 4 else e[3])]
    return min(candidates)[1]


def expected_scope(client, net):
    """The widest network around `client` inside `net` that no more specific CSV network
    overlaps: the tree splits `net` around such networks, so that is where the answer holds."""
    others = [ipaddress.ip_network(n[0]) for n in NETWORKS]
    inner = [o for o in others if o != net and o.version == net.version and o.subnet_of(net)]
    for length in range(net.prefixlen, net.max_prefixlen + 1):
        around = ipaddress.ip_network("%s/%d" % (client, length), strict=False)
        if not any(around.overlaps(o) for o in inner):
            return length
    return net.max_prefixlen


def sample_addresses(block, count):
    """First, last and evenly spread addresses of a network."""
    size = block.num_addresses
    picks = {0, size - 1} | {size * k // count for k in range(1, count)}
    return [block.network_address + p for p in sorted(picks)]


def edges_yaml():
    lines = ["edges:"]
    for name, (lat, lon, v4, v6) in EDGES.items():
        addresses = ", ".join('"%s"' % a for a in (v4, v6) if a)
        lines += ["  %s:" % name, "    location: [%s, %s]" % (lat, lon), "    addresses: [%s]" % addresses,
                  '    cname: "%s.edge.example.net."' % name]
    return "\n".join(lines) + "\n"


ZONE = """$ORIGIN geo.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 60
@    IN NS ns
ns   IN A 192.0.2.53
api  30 IN DYNA inference
eu   30 IN DYNA regional
cdn  30 IN DYNC inference
static IN A 198.51.100.1
"""


class GeoRoutingTest(E2ECase):
    @classmethod
    def setUpClass(cls):
        require_executable(DNSCTL_BIN, "dnsctl")

    def setUp(self):
        self.server = Meridian(self, {"geo.test.": ZONE})
        csv_path = os.path.join(self.server.workdir, "networks.csv")
        with open(csv_path, "w") as f:
            f.write("network,latitude,longitude,country,continent,subdivision\n")
            for row in NETWORKS:
                f.write(",".join(str(x) for x in row) + "\n")
        self.mmdb = os.path.join(self.server.workdir, "geo.mmdb")
        build = subprocess.run([DNSCTL_BIN, "geoip", "build", csv_path, self.mmdb],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(build.returncode, 0, build.stdout.decode())
        self.server.extra_config = (
            "geoip:\n"
            "  database: %s\n"
            "  client_subnet: true\n"
            "  overrides:\n"
            "    - network: 198.18.0.0/15\n"
            "      edges: [gru1]\n" % self.mmdb
            + edges_yaml()
            + "pools:\n"
            "  inference:\n"
            "    edges: [fra1, iad1, sfo1, sin1, gru1, nrt1]\n"
            "    policy: nearest\n"
            "    fallback: [iad1]\n"
            "  regional:\n"
            "    edges: [fra1, iad1, sin1]\n"
            "    policy: map\n"
            "    map:\n"
            "      US-CA: [sin1, iad1]\n"
            "      US: [iad1, fra1]\n"
            "      EU: [fra1, iad1]\n"
            "      default: [sin1, fra1]\n"
        )
        self.server.write_config()
        self.server.start(self)

    def ask(self, name, qtype, client, prefix, tcp=False):
        wire = make_query(name, qtype, edns={"options": [ecs_option(client, prefix)]})
        return tcp_query(self.server.port, wire) if tcp else udp_query(self.server.port, wire)

    def ecs_scope(self, msg):
        for code, data in msg.edns_options:
            if code == 8:
                return data[3]
        return None

    def test_nearest_edge_for_every_located_network_matches_great_circle(self):
        for network, lat, lon, *_ in NETWORKS:
            if lat == "":
                continue
            net = ipaddress.ip_network(network)
            family = net.version
            qtype = "A" if family == 4 else "AAAA"
            source = min(net.prefixlen + 8, 24 if family == 4 else 56)
            client = str(net.network_address + 1)
            for tcp in (False, True):
                with self.subTest(network=network, tcp=tcp):
                    msg = self.ask("api.geo.test.", qtype, client, source, tcp=tcp)
                    self.assertRcode(msg, "NOERROR")
                    self.assertFlags(msg, aa=True)
                    answers = [rr.text for rr in msg.rrs("answer")]
                    expected = EDGES[nearest(lat, lon, family)][2 if family == 4 else 3]
                    self.assertEqual(answers, [expected], "%s from %s" % (answers, network))
                    # The scope is never finer than the database network (longer than the
                    # source only where the database splits it: test_ecs_scope sweeps that),
                    # and truthful: every address around the source network's address in it
                    # gets this answer.
                    scope = self.ecs_scope(msg)
                    routed = ipaddress.ip_network("%s/%d" % (client, source), strict=False).network_address
                    self.assertLessEqual(scope, expected_scope(routed, net))
                    block = ipaddress.ip_network("%s/%d" % (routed, scope), strict=False)
                    for probe in sample_addresses(block, 6):
                        other = self.ask("api.geo.test.", qtype, str(probe), net.max_prefixlen, tcp=tcp)
                        self.assertEqual([rr.text for rr in other.rrs("answer")], answers,
                                         "%s is inside the scope %s of %s" % (probe, block, client))

    def test_dig_subnet_from_three_continents_gives_three_answers(self):
        seen = set()
        for subnet in ("81.2.69.0/24", "8.8.8.0/24", "1.0.16.0/24"):
            result = run_dig(self.server.port, "api.geo.test", "A", "+subnet=%s" % subnet)
            self.assertEqual(result.status, "NOERROR", str(result))
            records = result.records("ANSWER", "A")
            self.assertEqual(len(records), 1, str(result))
            self.assertEqual(records[0][1], 30)
            seen.add(records[0][3])
            self.assertIn("CLIENT-SUBNET: %s/" % subnet, result.output)
        self.assertEqual(seen, {"192.0.2.10", "192.0.2.20", "192.0.2.60"})

    def test_clients_without_location_get_the_fallback(self):
        # Country without coordinates, and a network the database does not have.
        for client in ("12.34.1.1", "100.64.1.1"):
            msg = self.ask("api.geo.test.", "A", client, 24)
            self.assertEqual([rr.text for rr in msg.rrs("answer")], ["192.0.2.20"], client)
        # No ECS at all: the resolver's address (127.0.0.1) decides, and no option comes back.
        msg = udp_query(self.server.port, make_query("api.geo.test.", "A", edns=True))
        self.assertEqual([rr.text for rr in msg.rrs("answer")], ["192.0.2.20"])
        self.assertIsNone(self.ecs_scope(msg))

    def test_source_prefix_zero_uses_the_resolver_address_with_scope_zero(self):
        msg = self.ask("api.geo.test.", "A", "0.0.0.0", 0)
        self.assertEqual([rr.text for rr in msg.rrs("answer")], ["192.0.2.20"])
        self.assertEqual(self.ecs_scope(msg), 0)

    def test_overrides_win_over_the_database(self):
        msg = self.ask("api.geo.test.", "A", "198.18.3.4", 24)
        self.assertEqual([rr.text for rr in msg.rrs("answer")], ["192.0.2.50"])
        self.assertEqual(self.ecs_scope(msg), 15)

    def test_map_policy_most_specific_key_first(self):
        for client, expected in (("12.1.2.3", "192.0.2.40"), ("8.8.8.8", "192.0.2.20"),
                                 ("81.2.69.1", "192.0.2.10"), ("200.160.1.1", "192.0.2.40")):
            with self.subTest(client=client):
                msg = self.ask("eu.geo.test.", "A", client, 24)
                self.assertEqual([rr.text for rr in msg.rrs("answer")], [expected])

    def test_dync_answers_a_cname_to_the_chosen_edge(self):
        msg = self.ask("cdn.geo.test.", "A", "81.2.69.7", 24)
        self.assertEqual([(rr.type_name, rr.text) for rr in msg.rrs("answer")], [("CNAME", "fra1.edge.example.net.")])

    def test_static_names_have_scope_zero(self):
        msg = self.ask("static.geo.test.", "A", "81.2.69.7", 24)
        self.assertEqual([rr.text for rr in msg.rrs("answer")], ["198.51.100.1"])
        self.assertEqual(self.ecs_scope(msg), 0)

    def test_malformed_client_subnet_is_formerr(self):
        bad = [
            bytes([0, 1, 22, 0, 81, 2, 71]),     # bits set beyond the /22 source prefix
            bytes([0, 3, 8, 0, 10]),            # unknown family
            bytes([0, 1, 33, 0, 1, 2, 3, 4, 5]),  # prefix longer than IPv4
        ]
        for data in bad:
            with self.subTest(data=data.hex()):
                wire = make_query("api.geo.test.", "A", edns={"options": [(8, data)]})
                msg = udp_query(self.server.port, wire)
                self.assertRcode(msg, "FORMERR")


if __name__ == "__main__":
    unittest.main()
