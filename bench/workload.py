"""The one description of the benchmark workload.

Everything the three servers serve and every query the load generators send comes from
here; bench/setups.py turns it into a Meridian, a gdnsd 3 and an NSD setup.
"""

ZONE = "bench.example."
SOA = "ns1 hostmaster 2026112501 3600 600 1209600 300"
DEFAULT_TTL = 300

# The six edges of the demo configuration (meridian.yaml): name -> location, IPv4, IPv6.
# The order is the pool's order, which is also the answer for clients with no location
# (Meridian: the pool's `edges` order without `fallback`; gdnsd: the `datacenters` list).
EDGES = [
    ("fra1", (50.11, 8.68), "192.0.2.10", "2001:db8::10"),      # Frankfurt
    ("iad1", (39.04, -77.49), "192.0.2.20", "2001:db8::20"),    # Ashburn
    ("sfo1", (37.77, -122.42), "198.51.100.30", "2001:db8::30"),  # San Francisco
    ("sin1", (1.35, 103.82), "198.51.100.40", "2001:db8::40"),  # Singapore
    ("gru1", (-23.55, -46.63), "203.0.113.50", "2001:db8::50"),  # São Paulo
    ("nrt1", (35.68, 139.69), "203.0.113.60", "2001:db8::60"),  # Tokyo
]
POOL = "inference"          # policy nearest, one answer, no health checks
GEO_NAME = "api"            # api 30 IN DYNA inference
GEO_TTL = 30

# Static records (owner relative to ZONE, TTL or None for the default, type, rdata).
STATIC_HOSTS = 1000         # host0 .. host999 IN A 198.18.x.y (RFC 2544 benchmarking range)
STATIC = [
    ("@", None, "NS", "ns1"),
    ("@", None, "NS", "ns2"),
    ("@", None, "MX", "10 mx1"),
    ("@", None, "TXT", '"v=spf1 mx -all"'),
    ("ns1", None, "A", "198.51.100.53"),
    ("ns2", None, "A", "203.0.113.53"),
    ("mx1", None, "A", "198.51.100.25"),
    ("www", None, "A", "198.51.100.80"),
    ("www", None, "AAAA", "2001:db8:80::1"),
    ("status", 60, "A", "198.51.100.81"),
] + [(f"host{i}", None, "A", f"198.18.{i >> 8}.{i & 255}") for i in range(STATIC_HOSTS)]

# The large zone: ZONE1M_RECORDS A records h0 .. hN-1 in a zone of its own.
ZONE1M = "big.example."
ZONE1M_RECORDS = 1_000_000

# Client subnets for the geo case with ECS: /24s drawn (seeded) from networks of the
# City database that have coordinates, with a quota per continent.
ECS_SUBNETS = 10_000
ECS_QUOTA = {"EU": 0.25, "NA": 0.25, "AS": 0.25, "SA": 0.10, "OC": 0.08, "AF": 0.07}
SEED = 20261125

# What `dig` compares across the three servers before measuring (static names).
CHECK_QUERIES = [
    ("bench.example.", "SOA"), ("bench.example.", "NS"), ("bench.example.", "MX"),
    ("bench.example.", "TXT"), ("www.bench.example.", "A"), ("www.bench.example.", "AAAA"),
    ("status.bench.example.", "A"), ("host0.bench.example.", "A"),
    ("host777.bench.example.", "A"), ("mx1.bench.example.", "A"),
    ("nothing.bench.example.", "A"), ("www.bench.example.", "TXT"),
]


def cases():
    """The measured cases: key -> description, servers, transport, query list builder."""
    return [
        # key, title, servers, transport
        ("static", "static A", ["meridian", "gdnsd", "nsd"], "udp"),
        ("nxdomain", "NXDOMAIN", ["meridian", "gdnsd", "nsd"], "udp"),
        ("geo", "geo A, no ECS", ["meridian", "gdnsd"], "udp"),
        ("geo_ecs", f"geo A, ECS from {ECS_SUBNETS:,} /24s", ["meridian", "gdnsd"], "udp"),
        ("tcp", "static A over TCP", ["meridian", "gdnsd", "nsd"], "tcp"),
    ]


def queries(case, subnets=None, count=None, records=None):
    """Query lines `NAME TYPE [SUBNET]` for a case, in a fixed shuffled order."""
    import random
    rnd = random.Random(SEED)
    if case in ("static", "tcp"):
        out = [f"host{i}.{ZONE} A" for i in range(STATIC_HOSTS)]
    elif case == "nxdomain":
        out = [f"nx{i}.{ZONE} A" for i in range(STATIC_HOSTS)]
    elif case == "geo":
        out = [f"{GEO_NAME}.{ZONE} A"]
    elif case == "geo_ecs":
        out = [f"{GEO_NAME}.{ZONE} A {s}" for s in subnets]
    elif case == "zone1m":
        n = count or 10_000
        out = [f"h{rnd.randrange(records or ZONE1M_RECORDS)}.{ZONE1M} A" for _ in range(n)]
    else:
        raise ValueError(case)
    rnd.shuffle(out)
    return out
