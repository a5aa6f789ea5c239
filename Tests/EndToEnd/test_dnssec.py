"""DNSSEC end to end: Meridian signs every answer to a query with DO set, static and geo
answers alike, with the keys in `dnssec.keys_directory`, and a validating Unbound (the
zone's DNSKEY as its trust anchor, Client Subnet passed on) and BIND's delv accept them.

The zone dnssec.test. has a geo name over the three edges of the health tests, static
names, an MX with in-zone targets, a CNAME chain, a wildcard, an empty non-terminal and two
delegations: secure.dnssec.test. (signed by BIND, served by NSD, a DS in the parent) and
insecure.dnssec.test. (unsigned, no DS). Denial of existence is compact (RFC 9824): a name
that does not exist is NOERROR with one NSEC at the name whose bitmap is RRSIG NSEC NXNAME,
NXDOMAIN only to a query without DO. The apex has DNSKEY, CDS and CDNSKEY.

Every answer through Unbound must have AD set and none may be SERVFAIL, from Frankfurt,
London and the USA (the networks whose nearest edges are fra1, ams1 and iad1), while an edge
fails and while its load moves clients away. The same checks run with ECDSA P-256 keys
(algorithm 13) and Ed25519 keys (15), made by `dnsctl keygen` and by BIND's dnssec-keygen.
Key files that are missing or readable by others stop `dnsctl check` and the server."""

import base64
import collections
import hashlib
import os
import shutil
import struct
import subprocess
import time
import unittest

from harness import (DNSCTL_BIN, DNSSEC_DSFROMKEY_BIN, MERIDIAN_BIN, NSD, STARTUP_TIMEOUT, BindKey, E2ECase,
                     HealthEndpoint, Meridian, Unbound, bind_sign_zone, build_mmdb, delv_negative,
                     delv_validated, encode_name, make_tempdir, parse_trust_anchor,
                     require_dnssec_tools, require_executable, rr_lines, run_delv, run_dig,
                     run_dnsctl, stop_process, wait_until, write_delv_anchor)

ORIGIN = "dnssec.test."
SECURE_CHILD = "secure.dnssec.test."
INSECURE_CHILD = "insecure.dnssec.test."

# The dnssec: settings as written in the config, and what they mean in seconds.
SIGNATURE_VALIDITY_SETTING, SIGNATURE_VALIDITY = "14d", 14 * 86400
SIGNATURE_REFRESH_SETTING, SIGNATURE_REFRESH = "7d", 7 * 86400
CLOCK_SLACK = 3600   # signers commonly date inception back an hour

# Probe settings of fra1, as in test_health; the load feed of fra1, as in test_load.
INTERVAL = 0.2
TIMEOUT = 0.1
RISE = 2
FALL = 3
GEO_TTL = 2                                      # api's TTL: Unbound asks again soon
MOVE_BOUND = FALL * INTERVAL + TIMEOUT + GEO_TTL + 3.0   # edge fails -> resolver's answer moved
LOAD_BOUND = 3 * 0.2 + GEO_TTL + 3.0                     # load high -> resolver's answer moved

# The edges and the GeoIP database of the health tests; the vLLM-style /metrics page of the
# load tests.
from test_health import EDGES, NETWORKS, order_from  # noqa: E402
from test_load import MetricsEndpoint  # noqa: E402

# (label, client subnet for dig +subnet=, nearest edge): a client near each edge.
CLIENTS = [
    ("Frankfurt", "5.1.2.0/24", order_from("5.1.0.0/16")[0]),
    ("London", "81.2.69.0/24", order_from("81.2.69.0/24")[0]),
    ("USA", "8.8.8.0/24", order_from("8.8.8.0/24")[0]),
]
FRANKFURT = CLIENTS[0][1]

POOLS = """pools:
  edges:
    edges: [fra1, ams1, iad1]
    policy: nearest
    when_all_down: all
"""

CHILD = """$TTL 300
@       IN SOA ns hostmaster 1 3600 600 86400 60
@       IN NS  ns
ns      IN A   192.0.2.53
www     IN A   192.0.2.%d
"""

# What the figures at the end of the run count.
FIGURES = collections.Counter()


def zone(secure_child_ds):
    """dnssec.test., with the DS of the signed child (a DS line for secure.dnssec.test.)."""
    owner, _, rdata = parse_trust_anchor(secure_child_ds)
    assert owner == SECURE_CHILD, secure_child_ds
    return """$ORIGIN dnssec.test.
$TTL 300
@           IN SOA ns hostmaster 1 3600 600 86400 60
@           IN NS  ns
@           IN MX  10 mail
ns          IN A   192.0.2.53
mail        IN A   192.0.2.25
mail        IN AAAA 2001:db8::25
www         IN A   192.0.2.1
www         IN TXT "static"
alias       IN CNAME alias2
alias2      IN CNAME www
cdn         IN CNAME api
api         %d IN DYNA edges
*.wild      IN A   192.0.2.99
host.ent    IN A   192.0.2.7
secure      IN NS  ns.secure
ns.secure   IN A   192.0.2.53
secure      IN DS  %s
insecure    IN NS  ns.insecure
ns.insecure IN A   192.0.2.53
""" % (GEO_TTL, " ".join(rdata))


def dnssec_config(keys_directory):
    return ("dnssec:\n"
            "  keys_directory: %s\n"
            "  signature_validity: %s\n"
            "  signature_refresh: %s\n") % (keys_directory, SIGNATURE_VALIDITY_SETTING, SIGNATURE_REFRESH_SETTING)


def data_config(mmdb, check_url=None, metrics_url=None):
    """geoip, the three edges (fra1 with a health check and a load feed when given), pools."""
    lines = ["geoip:", "  database: %s" % mmdb, "  client_subnet: true", "edges:"]
    for name, (lat, lon, v4) in EDGES.items():
        lines += ["  %s:" % name, "    location: [%s, %s]" % (lat, lon), '    addresses: ["%s"]' % v4]
        if name == "fra1" and check_url:
            lines += ["    check:", '      http: "%s"' % check_url,
                      "      interval: %dms" % round(INTERVAL * 1000),
                      "      timeout: %dms" % round(TIMEOUT * 1000),
                      "      rise: %d" % RISE, "      fall: %d" % FALL]
        if name == "fra1" and metrics_url:
            lines += ["    load:",
                      '      metrics: "%s"' % metrics_url,
                      "      interval: 200ms",
                      "      timeout: 150ms",
                      "      stale_after: 3",
                      "      max_step: 1",
                      "      signals:",
                      '        - { metric: "vllm:num_requests_waiting", low: 0, high: 100, '
                      'labels: { model_name: "llama" } }']
    return "\n".join(lines) + "\n" + POOLS


def address(edge):
    return EDGES[edge][2]


# ---- keys -------------------------------------------------------------------------------

def key_tag(dnskey_line):
    """RFC 4034 Appendix B key tag of a DNSKEY line."""
    _, _, rdata = parse_trust_anchor(dnskey_line)
    wire = struct.pack("!HBB", int(rdata[0]), int(rdata[1]), int(rdata[2])) + base64.b64decode(rdata[3])
    total = sum(b if i & 1 else b << 8 for i, b in enumerate(wire))
    total += (total >> 16) & 0xFFFF
    return total & 0xFFFF


def ds_digest(dnskey_line):
    """The SHA-256 DS digest (RFC 4509) of a DNSKEY line, upper-case hex."""
    owner, _, rdata = parse_trust_anchor(dnskey_line)
    wire = struct.pack("!HBB", int(rdata[0]), int(rdata[1]), int(rdata[2])) + base64.b64decode(rdata[3])
    return hashlib.sha256(encode_name(owner.lower()) + wire).hexdigest().upper()


def key_fields(line):
    """Comparable RDATA of a DNSKEY/CDNSKEY (flags, protocol, algorithm, key) or DS/CDS
    (tag, algorithm, digest type, digest) line or dig record."""
    fields = line.split()
    for i, f in enumerate(fields):
        if f.upper() in ("DNSKEY", "CDNSKEY", "DS", "CDS"):
            rdata = fields[i + 1:]
            break
    else:
        rdata = fields
    tail = "".join(rdata[3:])
    is_ds = any(f.upper() in ("DS", "CDS") for f in fields[:4])
    return (int(rdata[0]), int(rdata[1]), int(rdata[2]), tail.upper() if is_ds else tail)


class DnsctlKey:
    """A key pair written by ``dnsctl keygen ZONE --algorithm ALG --directory DIR``: the DS
    and DNSKEY lines it printed, the key tag and the two files."""

    def __init__(self, zone, directory, algorithm):
        before = set(os.listdir(directory))
        self.result = run_dnsctl("keygen", zone, "--algorithm", algorithm, "--directory", directory)
        if self.result.returncode != 0:
            raise AssertionError("dnsctl keygen failed:\n%s" % self.result)
        ds, dnskey = rr_lines(self.result.stdout, "DS"), rr_lines(self.result.stdout, "DNSKEY")
        if len(ds) != 1 or len(dnskey) != 1:
            raise AssertionError("dnsctl keygen should print one DS and one DNSKEY line:\n%s" % self.result)
        self.zone, self.directory, self.algorithm = zone, directory, algorithm
        self.ds, self.dnskey = ds[0], dnskey[0]
        self.tag = key_tag(self.dnskey)
        self.basename = "K%s+%03d+%05d" % (zone, algorithm, self.tag)
        self.key_path = os.path.join(directory, self.basename + ".key")
        self.private_path = os.path.join(directory, self.basename + ".private")
        self.new_files = sorted(set(os.listdir(directory)) - before)


# ---- reading signed answers -------------------------------------------------------------

def parse_sig_time(text):
    """An RRSIG time as dig prints it (YYYYMMDDHHMMSS, or seconds) -> seconds since 1970."""
    if len(text) == 14:
        import calendar
        return calendar.timegm(time.strptime(text, "%Y%m%d%H%M%S"))
    return int(text)


def rrsigs(result, section="ANSWER"):
    """The RRSIGs of a dig result's section as dicts."""
    out = []
    for owner, ttl, _, rdata in result.records(section, "RRSIG"):
        f = rdata.split()
        out.append({"owner": owner, "ttl": ttl, "covered": f[0].upper(), "algorithm": int(f[1]),
                    "labels": int(f[2]), "original_ttl": int(f[3]),
                    "expiration": parse_sig_time(f[4]), "inception": parse_sig_time(f[5]),
                    "tag": int(f[6]), "signer": f[7].lower()})
    return out


def nsecs(result, section="AUTHORITY"):
    """(owner, next name, set of types in the bitmap) of the NSEC records of a section; type
    128 reads NXNAME however dig spells it."""
    out = []
    for owner, _, _, rdata in result.records(section, "NSEC"):
        f = rdata.split()
        types = {"NXNAME" if t.upper() in ("TYPE128", "NXNAME") else t.upper() for t in f[1:]}
        out.append((owner, f[0].lower(), types))
    return out


def one_nsec(testcase, result):
    """The one NSEC record of the authority section: (owner, next name, types)."""
    found = nsecs(result)
    testcase.assertEqual(len(found), 1, "expected one NSEC in authority:\n%s" % result)
    return found[0]


def rdatas(result, rtype, section="ANSWER"):
    return sorted(r[3] for r in result.records(section, rtype))


class DNSSECCase(E2ECase):
    """Fixtures shared by every DNSSEC test: the GeoIP database, and NSD serving the two
    child zones (secure.dnssec.test. signed by BIND with its DS in the parent, and
    insecure.dnssec.test. unsigned)."""

    ALGORITHM = 13

    @classmethod
    def setUpClass(cls):
        require_dnssec_tools("unbound", "unbound-control", "delv", "dnssec-keygen", "dnssec-signzone",
                             "dnssec-dsfromkey")
        require_executable(MERIDIAN_BIN, "meridian")
        require_executable(DNSCTL_BIN, "dnsctl")
        if shutil.which("dig") is None:
            raise AssertionError("dig is not installed")
        cls.fixtures = make_tempdir(cls, prefix="dnssec-e2e-")
        cls.mmdb = build_mmdb(NETWORKS, cls.fixtures)
        cls.child_key = BindKey(cls.fixtures, SECURE_CHILD)
        cls.children = NSD(cls, {
            SECURE_CHILD: bind_sign_zone(cls.fixtures, SECURE_CHILD, "$ORIGIN %s\n" % SECURE_CHILD + CHILD % 2,
                                         [cls.child_key]),
            INSECURE_CHILD: "$ORIGIN %s\n" % INSECURE_CHILD + CHILD % 3,
        })
        cls.children.start(cls)

    @classmethod
    def start_signed(cls, testcase, keys_directory, anchors, check_url=None, metrics_url=None):
        """Meridian serving dnssec.test. signed with the keys in ``keys_directory``, and an
        Unbound with ``anchors`` (DNSKEY or DS lines) sending the zone to it and the children
        to NSD. Returns (server, unbound)."""
        server = Meridian(testcase, {ORIGIN: zone(cls.child_key.ds)},
                          extra_config=data_config(cls.mmdb, check_url, metrics_url)
                          + dnssec_config(keys_directory))
        server.start(testcase)
        unbound = Unbound(testcase, {ORIGIN: server.port, SECURE_CHILD: cls.children.port,
                                     INSECURE_CHILD: cls.children.port},
                          anchors, client_subnet=[ORIGIN])
        unbound.start(testcase)
        return server, unbound

    # ---- asking ---------------------------------------------------------------------------

    def resolve(self, name, qtype="A", *dig_args, unbound=None, statuses=("NOERROR",), secure=True):
        """``dig`` through the validating Unbound: never SERVFAIL, one of ``statuses``, AD set
        (clear when ``secure`` is False: an insecure delegation)."""
        unbound = unbound or self.unbound
        result = unbound.query(name, qtype, *dig_args)
        FIGURES["unbound queries"] += 1
        if result.status == "SERVFAIL":
            FIGURES["unbound SERVFAIL"] += 1
        self.assertNotEqual(result.status, "SERVFAIL", "%s\n---- unbound log\n%s\n---- meridian log\n%s"
                            % (result, unbound.log()[-4000:], self.server.log()[-3000:]))
        self.assertIn(result.status, statuses, str(result))
        if secure:
            self.assertIn("ad", result.flags, "not validated (no AD):\n%s\n%s" % (result, unbound.log()[-3000:]))
            FIGURES["unbound validated"] += 1
        else:
            self.assertNotIn("ad", result.flags, "an insecure answer with AD:\n%s" % result)
            FIGURES["unbound insecure"] += 1
        return result

    def direct(self, name, qtype="A", *dig_args, dnssec=True):
        """``dig`` straight at Meridian, with DO (``+dnssec``) unless ``dnssec`` is False."""
        result = run_dig(self.server.port, name, qtype, *((("+dnssec",) if dnssec else ()) + dig_args))
        self.assertIsNotNone(result.status, str(result))
        return result

    def delv(self, name, qtype="A", anchor=None, *args):
        code, output = run_delv(self.server.port, name, qtype, anchor or self.anchor, *args)
        self.assertIsNotNone(code, output)
        return output

    def assertSigned(self, result, section, owner, rtype, key=None):
        """An RRSIG over ``rtype`` at ``owner`` in ``section``, by the zone's key, valid now."""
        key = key or self.key
        sigs = [s for s in rrsigs(result, section) if s["owner"] == owner and s["covered"] == rtype]
        self.assertTrue(sigs, "no RRSIG %s at %s in %s:\n%s" % (rtype, owner, section, result))
        now = time.time()
        for sig in sigs:
            self.assertEqual(sig["signer"], ORIGIN, str(result))
            self.assertEqual(sig["algorithm"], self.ALGORITHM, str(result))
            self.assertEqual(sig["tag"], key.tag, str(result))
            self.assertLessEqual(sig["inception"], now + 60, str(result))
            self.assertGreater(sig["expiration"], now + SIGNATURE_VALIDITY - SIGNATURE_REFRESH - CLOCK_SLACK,
                               "signature expires too soon for signature_refresh: %s\n%s"
                               % (SIGNATURE_REFRESH_SETTING, result))
            self.assertLessEqual(sig["expiration"], now + SIGNATURE_VALIDITY + CLOCK_SLACK,
                                 "signature valid longer than signature_validity: %s\n%s"
                                 % (SIGNATURE_VALIDITY_SETTING, result))
        FIGURES["signatures checked"] += len(sigs)
        return sigs

    def assertUnsigned(self, result):
        """No DNSSEC records in any section: the answer to a query without DO."""
        for section in ("ANSWER", "AUTHORITY", "ADDITIONAL"):
            for rtype in ("RRSIG", "NSEC"):
                self.assertEqual(result.records(section, rtype), [],
                                 "%s in %s without DO:\n%s" % (rtype, section, result))


class SignedZoneCase(DNSSECCase):
    """One signed server and its validating resolver for the class; keys from dnsctl keygen
    with the class's algorithm."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keys_directory = make_tempdir(cls, prefix="dnssec-keys-")
        cls.key = DnsctlKey(ORIGIN, cls.keys_directory, cls.ALGORITHM)
        cls.anchor = write_delv_anchor(cls.fixtures, cls.key.dnskey, name="anchor-%d.conf" % cls.ALGORITHM)
        cls.server, cls.unbound = cls.start_signed(cls, cls.keys_directory, [cls.key.dnskey])


class ThroughUnboundTest(SignedZoneCase):
    """Every kind of answer validated by Unbound."""

    def test_geo_answers_validate_from_each_client(self):
        seen = {}
        for label, subnet, nearest in CLIENTS:
            with self.subTest(client=label):
                result = self.resolve("api.dnssec.test", "A", "+subnet=%s" % subnet)
                seen[label] = rdatas(result, "A")
                self.assertEqual(seen[label], [address(nearest)], str(result))
                # The same answer as unsigned, straight from the server.
                plain = self.direct("api.dnssec.test", "A", "+subnet=%s" % subnet, dnssec=False)
                self.assertEqual(rdatas(plain, "A"), seen[label], str(plain))
                # And at the end of a CNAME.
                chained = self.resolve("cdn.dnssec.test", "A", "+subnet=%s" % subnet)
                self.assertEqual(rdatas(chained, "CNAME"), ["api.dnssec.test."], str(chained))
                self.assertEqual(rdatas(chained, "A"), seen[label], str(chained))
        self.assertEqual(len({tuple(v) for v in seen.values()}), len(CLIENTS), seen)

    def test_static_answers_validate(self):
        for label, subnet, _ in CLIENTS:
            with self.subTest(client=label):
                result = self.resolve("www.dnssec.test", "A", "+subnet=%s" % subnet)
                self.assertEqual(rdatas(result, "A"), ["192.0.2.1"])
        self.assertEqual(rdatas(self.resolve("www.dnssec.test", "TXT"), "TXT"), ['"static"'])
        self.assertEqual(rdatas(self.resolve("mail.dnssec.test", "AAAA"), "AAAA"), ["2001:db8::25"])
        self.assertEqual(rdatas(self.resolve("dnssec.test", "SOA"), "SOA")[0].split()[2], "1")
        self.assertEqual(rdatas(self.resolve("dnssec.test", "NS"), "NS"), ["ns.dnssec.test."])

    def test_mx_validates(self):
        result = self.resolve("dnssec.test", "MX")
        self.assertEqual(rdatas(result, "MX"), ["10 mail.dnssec.test."])
        # The resolver asks for the target's addresses itself; they validate too.
        self.assertEqual(rdatas(self.resolve("mail.dnssec.test", "A"), "A"), ["192.0.2.25"])

    def test_cname_chain_validates(self):
        result = self.resolve("alias.dnssec.test", "A")
        self.assertEqual(sorted((r[0], r[3]) for r in result.records("ANSWER", "CNAME")),
                         [("alias.dnssec.test.", "alias2.dnssec.test."),
                          ("alias2.dnssec.test.", "www.dnssec.test.")], str(result))
        self.assertEqual(rdatas(result, "A"), ["192.0.2.1"])

    def test_wildcard_validates(self):
        for name in ("anything.wild.dnssec.test", "a.b.wild.dnssec.test"):
            with self.subTest(name=name):
                result = self.resolve(name, "A")
                self.assertEqual([(r[0], r[3]) for r in result.records("ANSWER", "A")],
                                 [(name + ".", "192.0.2.99")], str(result))
        # A type the wildcard does not have: validated NODATA.
        result = self.resolve("anything.wild.dnssec.test", "AAAA")
        self.assertEqual(result.records("ANSWER"), [], str(result))

    def test_nonexistent_names_validate(self):
        """Compact denial reaches the client as NODATA (Unbound 1.17 does not turn NXNAME
        back into NXDOMAIN; RFC 9824 allows a resolver that understands it to): either is
        right, validated; SERVFAIL never."""
        for name, qtype in (("nope.dnssec.test", "A"), ("nope.dnssec.test", "AAAA"),
                            ("deep.nope.dnssec.test", "TXT"), ("below.www.dnssec.test", "A")):
            with self.subTest(name=name, type=qtype):
                result = self.resolve(name, qtype, statuses=("NXDOMAIN", "NOERROR"))
                self.assertEqual(result.records("ANSWER"), [], str(result))
                FIGURES["NXDOMAIN as %s" % result.status] += 1

    def test_nodata_validates(self):
        for name, qtype in (("www.dnssec.test", "AAAA"), ("mail.dnssec.test", "TXT"),
                            ("ent.dnssec.test", "A"), ("dnssec.test", "A")):
            with self.subTest(name=name, type=qtype):
                result = self.resolve(name, qtype)
                self.assertEqual(result.records("ANSWER"), [], str(result))

    def test_signed_delegation(self):
        result = self.resolve("secure.dnssec.test", "DS")
        self.assertEqual([key_fields("DS " + r[3]) for r in result.records("ANSWER", "DS")],
                         [key_fields(self.child_key.ds)], str(result))
        result = self.resolve("www.secure.dnssec.test", "A")
        self.assertEqual(rdatas(result, "A"), ["192.0.2.2"])

    def test_unsigned_delegation(self):
        """The parent proves there is no DS (validated NODATA); the child's answers are then
        insecure: no AD, and no SERVFAIL."""
        result = self.resolve("insecure.dnssec.test", "DS")
        self.assertEqual(result.records("ANSWER"), [], str(result))
        result = self.resolve("www.insecure.dnssec.test", "A", secure=False)
        self.assertEqual(rdatas(result, "A"), ["192.0.2.3"])

    def test_apex_keys_validate(self):
        dnskeys = self.resolve("dnssec.test", "DNSKEY")
        self.assertIn(key_fields(self.key.dnskey),
                      [key_fields("DNSKEY " + r[3]) for r in dnskeys.records("ANSWER", "DNSKEY")], str(dnskeys))
        cds = self.resolve("dnssec.test", "CDS")
        self.assertIn(key_fields(self.key.ds), [key_fields("CDS " + r[3]) for r in cds.records("ANSWER", "CDS")],
                      str(cds))
        cdnskey = self.resolve("dnssec.test", "CDNSKEY")
        self.assertIn(key_fields(self.key.dnskey),
                      [key_fields("CDNSKEY " + r[3]) for r in cdnskey.records("ANSWER", "CDNSKEY")], str(cdnskey))

    def test_nothing_was_bogus(self):
        self.resolve("www.dnssec.test", "A")
        stats = self.unbound.stats()
        self.assertEqual(stats.get("num.answer.bogus", 0), 0, "%s\n%s" % (stats, self.unbound.log()[-4000:]))
        self.assertGreaterEqual(stats.get("num.answer.secure", 0), 1, stats)


class DirectlyTest(SignedZoneCase):
    """What Meridian sends, read with dig: signatures with DO and none without, compact
    denial, the apex keys, signed referrals."""

    def test_signatures_with_do_only(self):
        cases = [("www.dnssec.test", "A", ()), ("www.dnssec.test", "TXT", ()),
                 ("api.dnssec.test", "A", ("+subnet=%s" % FRANKFURT,)), ("dnssec.test", "MX", ()),
                 ("dnssec.test", "NS", ()), ("dnssec.test", "SOA", ()), ("mail.dnssec.test", "AAAA", ())]
        for name, qtype, args in cases:
            with self.subTest(name=name, type=qtype):
                signed = self.direct(name, qtype, *args)
                self.assertEqual(signed.status, "NOERROR", str(signed))
                self.assertIn("aa", signed.flags)
                self.assertTrue(signed.records("ANSWER", qtype), str(signed))
                self.assertSigned(signed, "ANSWER", name + ".", qtype)
                plain = self.direct(name, qtype, *args, dnssec=False)
                self.assertEqual(rdatas(plain, qtype), rdatas(signed, qtype))
                self.assertUnsigned(plain)

    def test_geo_answers_signed_for_each_client(self):
        for label, subnet, nearest in CLIENTS:
            with self.subTest(client=label):
                result = self.direct("api.dnssec.test", "A", "+subnet=%s" % subnet)
                self.assertEqual(rdatas(result, "A"), [address(nearest)], str(result))
                self.assertSigned(result, "ANSWER", "api.dnssec.test.", "A")
                chained = self.direct("cdn.dnssec.test", "A", "+subnet=%s" % subnet)
                self.assertSigned(chained, "ANSWER", "cdn.dnssec.test.", "CNAME")
                self.assertSigned(chained, "ANSWER", "api.dnssec.test.", "A")

    def test_cname_chain_signed(self):
        result = self.direct("alias.dnssec.test", "A")
        self.assertSigned(result, "ANSWER", "alias.dnssec.test.", "CNAME")
        self.assertSigned(result, "ANSWER", "alias2.dnssec.test.", "CNAME")
        self.assertSigned(result, "ANSWER", "www.dnssec.test.", "A")

    def test_mx_additional_records_signed(self):
        """Addresses of in-zone targets in additional, with their RRSIGs: RFC 4035 3.1.1
        says a signed RRset in additional MUST come with its RRSIGs, which may be dropped
        only when they do not fit (here the whole answer is about 500 octets)."""
        result = self.direct("dnssec.test", "MX")
        self.assertEqual(rdatas(result, "A", "ADDITIONAL"), ["192.0.2.25"], str(result))
        self.assertEqual(rdatas(result, "AAAA", "ADDITIONAL"), ["2001:db8::25"], str(result))
        self.assertSigned(result, "ADDITIONAL", "mail.dnssec.test.", "A")
        self.assertSigned(result, "ADDITIONAL", "mail.dnssec.test.", "AAAA")
        self.assertUnsigned(self.direct("dnssec.test", "MX", dnssec=False))

    def test_nonexistent_name_is_compact_denial(self):
        for name in ("nope.dnssec.test", "deep.nope.dnssec.test", "below.www.dnssec.test"):
            with self.subTest(name=name):
                result = self.direct(name, "A")
                self.assertEqual(result.status, "NOERROR", "compact denial answers NOERROR with DO:\n%s" % result)
                self.assertIn("aa", result.flags)
                self.assertEqual(result.records("ANSWER"), [], str(result))
                self.assertEqual(nsecs(result), [(name + ".", "\\000.%s." % name, {"RRSIG", "NSEC", "NXNAME"})],
                                 "one NSEC at the name, next name its successor, bitmap RRSIG NSEC "
                                 "NXNAME:\n%s" % result)
                self.assertSigned(result, "AUTHORITY", name + ".", "NSEC")
                self.assertEqual(len(result.records("AUTHORITY", "SOA")), 1, str(result))
                self.assertSigned(result, "AUTHORITY", ORIGIN, "SOA")
                # Without DO: a plain NXDOMAIN.
                plain = self.direct(name, "A", dnssec=False)
                self.assertEqual(plain.status, "NXDOMAIN", str(plain))
                self.assertEqual(len(plain.records("AUTHORITY", "SOA")), 1, str(plain))
                self.assertUnsigned(plain)

    def test_nodata_nsec_at_the_name(self):
        result = self.direct("www.dnssec.test", "AAAA")
        self.assertEqual((result.status, result.records("ANSWER")), ("NOERROR", []), str(result))
        owner, _, types = one_nsec(self, result)
        self.assertEqual(owner, "www.dnssec.test.", str(result))
        self.assertTrue({"A", "TXT", "RRSIG", "NSEC"} <= types, str(result))
        self.assertFalse({"AAAA", "NXNAME"} & types, str(result))
        self.assertSigned(result, "AUTHORITY", "www.dnssec.test.", "NSEC")
        # An empty non-terminal exists, with no types of its own.
        result = self.direct("ent.dnssec.test", "A")
        self.assertEqual((result.status, result.records("ANSWER")), ("NOERROR", []), str(result))
        self.assertEqual([(o, t) for o, _, t in nsecs(result)], [("ent.dnssec.test.", {"RRSIG", "NSEC"})],
                         str(result))
        plain = self.direct("www.dnssec.test", "AAAA", dnssec=False)
        self.assertEqual(plain.status, "NOERROR", str(plain))
        self.assertUnsigned(plain)

    def test_nxname_query_is_formerr(self):
        """RFC 9824 3.5: NXNAME is a meta-type; an explicit query for it is a format error."""
        for name in ("nope.dnssec.test", "www.dnssec.test"):
            result = self.direct(name, "TYPE128")
            self.assertEqual(result.status, "FORMERR", str(result))

    def test_apex_dnskey_cds_cdnskey(self):
        result = self.direct("dnssec.test", "DNSKEY")
        self.assertIn(key_fields(self.key.dnskey),
                      [key_fields("DNSKEY " + r[3]) for r in result.records("ANSWER", "DNSKEY")], str(result))
        self.assertSigned(result, "ANSWER", ORIGIN, "DNSKEY")
        result = self.direct("dnssec.test", "CDS")
        self.assertEqual([key_fields("CDS " + r[3]) for r in result.records("ANSWER", "CDS")],
                         [key_fields(self.key.ds)], str(result))
        self.assertSigned(result, "ANSWER", ORIGIN, "CDS")
        result = self.direct("dnssec.test", "CDNSKEY")
        self.assertEqual([key_fields("CDNSKEY " + r[3]) for r in result.records("ANSWER", "CDNSKEY")],
                         [key_fields(self.key.dnskey)], str(result))
        self.assertSigned(result, "ANSWER", ORIGIN, "CDNSKEY")
        # Asked for, the keys come without DO too, but unsigned.
        plain = self.direct("dnssec.test", "DNSKEY", dnssec=False)
        self.assertTrue(plain.records("ANSWER", "DNSKEY"), str(plain))
        self.assertUnsigned(plain)

    def test_referral_with_ds(self):
        result = self.direct("www.secure.dnssec.test", "A")
        self.assertEqual(result.status, "NOERROR", str(result))
        self.assertNotIn("aa", result.flags, str(result))
        self.assertEqual(result.records("ANSWER"), [], str(result))
        self.assertEqual(rdatas(result, "NS", "AUTHORITY"), ["ns.secure.dnssec.test."], str(result))
        self.assertEqual([key_fields("DS " + r[3]) for r in result.records("AUTHORITY", "DS")],
                         [key_fields(self.child_key.ds)], str(result))
        self.assertSigned(result, "AUTHORITY", SECURE_CHILD, "DS")
        self.assertEqual(nsecs(result), [], str(result))
        self.assertEqual(rdatas(result, "A", "ADDITIONAL"), ["192.0.2.53"], str(result))
        # The NS set belongs to the child: never signed by the parent.
        self.assertFalse([s for s in rrsigs(result, "AUTHORITY") if s["covered"] == "NS"], str(result))
        self.assertUnsigned(self.direct("www.secure.dnssec.test", "A", dnssec=False))

    def test_referral_without_ds(self):
        result = self.direct("www.insecure.dnssec.test", "A")
        self.assertEqual(result.status, "NOERROR", str(result))
        self.assertNotIn("aa", result.flags, str(result))
        self.assertEqual(rdatas(result, "NS", "AUTHORITY"), ["ns.insecure.dnssec.test."], str(result))
        self.assertEqual(result.records("AUTHORITY", "DS"), [], str(result))
        owner, _, types = one_nsec(self, result)
        self.assertEqual(owner, INSECURE_CHILD, str(result))
        self.assertIn("NS", types, str(result))
        self.assertFalse({"DS", "NXNAME", "SOA"} & types, "the NSEC must prove there is no DS:\n%s" % result)
        self.assertSigned(result, "AUTHORITY", INSECURE_CHILD, "NSEC")
        self.assertFalse([s for s in rrsigs(result, "AUTHORITY") if s["covered"] == "NS"], str(result))

    def test_ds_queries_answered_by_the_parent(self):
        result = self.direct("secure.dnssec.test", "DS")
        self.assertEqual(result.status, "NOERROR", str(result))
        self.assertIn("aa", result.flags, str(result))
        self.assertEqual([key_fields("DS " + r[3]) for r in result.records("ANSWER", "DS")],
                         [key_fields(self.child_key.ds)], str(result))
        self.assertSigned(result, "ANSWER", SECURE_CHILD, "DS")
        result = self.direct("insecure.dnssec.test", "DS")
        self.assertEqual((result.status, result.records("ANSWER")), ("NOERROR", []), str(result))
        self.assertIn("aa", result.flags, str(result))
        owner, _, types = one_nsec(self, result)
        self.assertEqual(owner, INSECURE_CHILD, str(result))
        self.assertIn("NS", types)
        self.assertNotIn("DS", types)


class DelvTest(SignedZoneCase):
    """BIND's delv validating Meridian's answers itself, from the zone's DNSKEY."""

    def assertDelvValidated(self, name, qtype, anchor=None):
        output = self.delv(name, qtype, anchor)
        self.assertTrue(delv_validated(output), output)
        FIGURES["delv validated"] += 1
        return output

    def test_answers_validate(self):
        for name, qtype in (("www.dnssec.test", "A"), ("www.dnssec.test", "TXT"), ("dnssec.test", "MX"),
                            ("alias.dnssec.test", "A"), ("cdn.dnssec.test", "A"), ("api.dnssec.test", "A"),
                            ("anything.wild.dnssec.test", "A"), ("dnssec.test", "DNSKEY"),
                            ("dnssec.test", "CDS"), ("dnssec.test", "CDNSKEY"), ("secure.dnssec.test", "DS")):
            with self.subTest(name=name, type=qtype):
                output = self.assertDelvValidated(name, qtype)
                self.assertFalse(delv_negative(output), output)

    def test_denials_validate(self):
        for name, qtype in (("nope.dnssec.test", "A"), ("www.dnssec.test", "AAAA"), ("ent.dnssec.test", "A"),
                            ("insecure.dnssec.test", "DS"), ("anything.wild.dnssec.test", "AAAA")):
            with self.subTest(name=name, type=qtype):
                output = self.assertDelvValidated(name, qtype)
                self.assertTrue(delv_negative(output), output)

    def test_anchor_given_as_ds(self):
        anchor = write_delv_anchor(make_tempdir(self), self.key.ds)
        self.assertDelvValidated("www.dnssec.test", "A", anchor)

    def test_another_key_does_not_validate(self):
        other = DnsctlKey(ORIGIN, make_tempdir(self), self.ALGORITHM)
        output = self.delv("www.dnssec.test", "A", write_delv_anchor(make_tempdir(self), other.dnskey))
        self.assertFalse(delv_validated(output), output)


class Ed25519ThroughUnboundTest(ThroughUnboundTest):
    ALGORITHM = 15


class Ed25519DirectlyTest(DirectlyTest):
    ALGORITHM = 15


class Ed25519DelvTest(DelvTest):
    ALGORITHM = 15


class KeygenTest(DNSSECCase):
    """dnsctl keygen: the files it writes and the records it prints, checked against BIND."""

    def test_keygen(self):
        for algorithm in (13, 15):
            with self.subTest(algorithm=algorithm):
                directory = make_tempdir(self)
                key = DnsctlKey(ORIGIN, directory, algorithm)
                self.assertEqual(key.new_files, sorted([key.basename + ".key", key.basename + ".private"]),
                                 "%s\n%s" % (os.listdir(directory), key.result))
                self.assertEqual(os.stat(key.private_path).st_mode & 0o077, 0, "private key readable by others")
                fields = key.dnskey.split()
                self.assertEqual(fields[0], ORIGIN)
                self.assertEqual(key_fields(key.dnskey)[:3], (257, 3, algorithm), key.dnskey)
                ds = key.ds.split()
                self.assertEqual(ds[:4], [ORIGIN, "3600", "IN", "DS"], key.ds)
                self.assertEqual(key_fields(key.ds), (key.tag, algorithm, 2, ds_digest(key.dnskey)), key.ds)
                with open(key.key_path) as f:
                    self.assertEqual(key_fields(rr_lines(f.read(), "DNSKEY")[0]), key_fields(key.dnskey))
                # BIND reads the key file and derives the same DS.
                proc = subprocess.run([DNSSEC_DSFROMKEY_BIN, "-2", key.key_path], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
                self.assertEqual(proc.returncode, 0, proc.stdout)
                self.assertEqual(key_fields(rr_lines(proc.stdout.decode(), "DS")[0]), key_fields(key.ds))


class BindKeysTest(DNSSECCase):
    """Keys made by BIND's dnssec-keygen, in the keys directory, sign too."""

    def test_dnssec_keygen_keys(self):
        for algorithm in (13, 15):
            with self.subTest(algorithm=algorithm):
                keys_directory = make_tempdir(self, prefix="dnssec-keys-")
                self.key = BindKey(keys_directory, ORIGIN, algorithm=algorithm)
                self.ALGORITHM = algorithm
                self.server, self.unbound = self.start_signed(self, keys_directory, [self.key.dnskey])
                self.assertEqual(rdatas(self.resolve("www.dnssec.test", "A"), "A"), ["192.0.2.1"])
                self.resolve("nope.dnssec.test", "A", statuses=("NXDOMAIN", "NOERROR"))
                self.resolve("api.dnssec.test", "A", "+subnet=%s" % FRANKFURT)
                self.assertSigned(self.direct("www.dnssec.test", "A"), "ANSWER", "www.dnssec.test.", "A")
                output = self.delv("www.dnssec.test", "A", write_delv_anchor(keys_directory, self.key.dnskey))
                self.assertTrue(delv_validated(output), output)
                self.server.stop()
                self.unbound.stop()


class MovingAnswersTest(DNSSECCase):
    """A failing edge and a load change while Unbound validates: the Frankfurt answer moves
    to the next edge and back, and every answer on the way is validated."""

    def setUp(self):
        self.endpoint = HealthEndpoint(self)
        self.metrics = MetricsEndpoint(self)
        keys_directory = make_tempdir(self, prefix="dnssec-keys-")
        self.key = DnsctlKey(ORIGIN, keys_directory, self.ALGORITHM)
        self.server, self.unbound = self.start_signed(self, keys_directory, [self.key.dnskey],
                                                      check_url=self.endpoint.url(),
                                                      metrics_url=self.metrics.url)
        self.first, self.second = order_from("5.1.0.0/16")[:2]
        self.watch(address(self.first), 10, "fra1 up at start")

    def watch(self, expected, timeout, what):
        """Asks through Unbound for Frankfurt until the answer is ``expected``; every answer on
        the way must be validated. Returns (seconds, answers seen)."""
        start = time.monotonic()
        seen = []

        def moved():
            result = self.resolve("api.dnssec.test", "A", "+subnet=%s" % FRANKFURT)
            seen.append(rdatas(result, "A"))
            return seen[-1] == [expected]

        wait_until(moved, timeout, interval=0.1, message="%s: Frankfurt answered %s through Unbound (seen %s)"
                   % (what, expected, seen[-5:]))
        return time.monotonic() - start, seen

    def test_failing_edge(self):
        self.endpoint.set_mode("fail")
        took, seen = self.watch(address(self.second), MOVE_BOUND, "fra1 failing")
        print("\nDNSSEC: fra1 failed, answer moved through Unbound in %.1fs, %d validated answers on the way"
              % (took, len(seen)))
        self.assertSigned(self.direct("api.dnssec.test", "A", "+subnet=%s" % FRANKFURT), "ANSWER",
                          "api.dnssec.test.", "A")
        self.endpoint.set_mode("ok")
        self.watch(address(self.first), MOVE_BOUND, "fra1 recovered")

    def test_load_change(self):
        self.metrics.waiting = 100.0   # at the signal's high mark: fra1 sheds every network
        took, seen = self.watch(address(self.second), LOAD_BOUND, "fra1 loaded")
        print("\nDNSSEC: fra1 loaded, answer moved through Unbound in %.1fs, %d validated answers on the way"
              % (took, len(seen)))
        moved = self.direct("api.dnssec.test", "A", "+subnet=%s" % FRANKFURT)
        self.assertSigned(moved, "ANSWER", "api.dnssec.test.", "A")
        self.metrics.waiting = 0.0
        self.watch(address(self.first), LOAD_BOUND, "fra1 unloaded")


LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


class SignatureExpiryTest(DNSSECCase):
    """The server's wall clock moved with libfaketime (re-read at every call, monotonic clocks
    left alone): past signature_refresh it signs again, past the end of its signatures it
    sends none of them, and signs again within seconds."""

    VALIDITY, REFRESH = 3 * 3600, 2 * 3600

    def setUp(self):
        if not os.path.exists(LIBFAKETIME):
            raise AssertionError("libfaketime not found: %s (Debian package libfaketime)" % LIBFAKETIME)
        self.keys_directory = make_tempdir(self, prefix="dnssec-keys-")
        self.key = DnsctlKey(ORIGIN, self.keys_directory, self.ALGORITHM)
        self.offset_file = os.path.join(make_tempdir(self, prefix="faketime-"), "offset")
        self.offset = 0
        self.move_clock(0)
        self.server = Meridian(self, {ORIGIN: zone(self.child_key.ds)},
                               extra_config=data_config(self.mmdb)
                               + "dnssec:\n  keys_directory: %s\n  signature_validity: 3h\n  signature_refresh: 2h\n"
                               % self.keys_directory)
        self.server.extra_env = {"LD_PRELOAD": LIBFAKETIME, "FAKETIME_TIMESTAMP_FILE": self.offset_file,
                                 "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        self.server.start(self)

    def move_clock(self, seconds):
        """Sets the server's clock `seconds` ahead of the real one."""
        self.offset = seconds
        with open(self.offset_file, "w") as f:
            f.write("+%d\n" % seconds)

    def server_now(self):
        return time.time() + self.offset

    def signatures(self, name):
        """(status, RRSIGs) of a DO query straight at the server."""
        result = run_dig(self.server.port, name, "A", "+dnssec")
        self.assertIsNotNone(result.status, str(result))
        return result.status, rrsigs(result, "ANSWER") + rrsigs(result, "AUTHORITY")

    def assertNothingExpired(self, names, seconds):
        """Asks `names` for `seconds`: no answer carries a signature the server's clock says
        has ended. Returns the earliest expiration of the signed answers, how many there were,
        how many SERVFAILs, and the seconds to the first signed answer."""
        start = time.monotonic()
        deadline, earliest, answered, refused, first = start + seconds, None, 0, 0, None
        while time.monotonic() < deadline:
            for name in names:
                status, sigs = self.signatures(name)
                now = self.server_now()
                for sig in sigs:
                    self.assertGreater(sig["expiration"], now, "an ended signature served for %s: %s" % (name, sig))
                    self.assertLessEqual(sig["inception"], now + 60, "a signature from the future for %s: %s" % (name, sig))
                if sigs:
                    answered += 1
                    first = time.monotonic() - start if first is None else first
                    ends = min(s["expiration"] for s in sigs)
                    earliest = ends if earliest is None else min(earliest, ends)
                else:
                    self.assertEqual(status, "SERVFAIL", "an unsigned answer to DO for %s" % name)
                    refused += 1
        return earliest, answered, refused, first

    def test_signatures_are_made_again_and_never_served_ended(self):
        names = ("www.dnssec.test", "nope.dnssec.test")
        first, answered, _, _ = self.assertNothingExpired(names, 0.5)
        self.assertTrue(answered, "no signed answer before the clock moved")
        self.assertLessEqual(first, time.time() + self.VALIDITY + CLOCK_SLACK)

        # Past signature_refresh, before the end: signed again within a few seconds.
        self.move_clock(self.REFRESH + 1800)
        def signed_again():
            sigs = self.signatures("www.dnssec.test")[1]
            return bool(sigs) and min(s["expiration"] for s in sigs) > first
        wait_until(signed_again,
                   10, interval=0.2, message="signatures made again past signature_refresh")
        self.assertNothingExpired(names, 1.0)

        # Past the end of every signature made so far: none of them is sent, and new ones follow.
        self.move_clock(self.offset + 2 * self.VALIDITY)
        earliest, answered, refused, took = self.assertNothingExpired(names, 3.0)
        self.assertTrue(answered, "no signed answer within 3 s of the clock passing the signatures' end")
        self.assertGreater(earliest, self.server_now() + self.VALIDITY - self.REFRESH - CLOCK_SLACK)
        print("\nDNSSEC: clock moved past the signatures' end: %d SERVFAIL, signed again after %.1fs, "
              "no ended signature in %d signed answers" % (refused, took, answered))
        self.assertIn("zones signed again", self.server.log())


class KeyFileErrorsTest(DNSSECCase):
    """A key that cannot be used stops `dnsctl check` and the server, naming the file."""

    def setUp(self):
        self.keys_directory = make_tempdir(self, prefix="dnssec-keys-")
        self.key = DnsctlKey(ORIGIN, self.keys_directory, self.ALGORITHM)
        self.server = Meridian(self, {ORIGIN: zone(self.child_key.ds)},
                               extra_config=data_config(self.mmdb) + dnssec_config(self.keys_directory))

    def check(self):
        return run_dnsctl("check", "--config", self.server.config_path)

    def run_server(self):
        """(exit code, output) of meridian with the test's config; it must exit by itself."""
        log_path = os.path.join(self.server.workdir, "meridian-exit.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([MERIDIAN_BIN, "--config", self.server.config_path], stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.server.workdir)
            try:
                code = proc.wait(timeout=STARTUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                stop_process(proc)
                code = None
        with open(log_path, errors="replace") as f:
            output = f.read()
        self.assertIsNotNone(code, "meridian kept running with this keys directory:\n%s" % output)
        return code, output

    def assertRejected(self, file_name):
        check = self.check()
        self.assertEqual(check.returncode, 1, str(check))
        self.assertIn(file_name, check.stdout + check.stderr, str(check))
        code, output = self.run_server()
        self.assertEqual(code, 1, output)
        self.assertIn(file_name, output)

    def test_good_keys_pass(self):
        check = self.check()
        self.assertEqual(check.returncode, 0, str(check))

    def test_private_key_without_public_key(self):
        os.remove(self.key.key_path)
        self.assertRejected(self.key.basename)

    def test_world_readable_private_key(self):
        os.chmod(self.key.private_path, 0o644)
        self.assertRejected(os.path.basename(self.key.private_path))


def tearDownModule():
    if FIGURES["unbound queries"]:
        print("\nDNSSEC figures: %d queries through Unbound, %d validated (AD), %d insecure by design "
              "(below the unsigned delegation), %d SERVFAIL; %d answers validated by delv; %d signatures "
              "checked in answers straight from the server; nonexistent names through Unbound: %s"
              % (FIGURES["unbound queries"], FIGURES["unbound validated"], FIGURES["unbound insecure"],
                 FIGURES["unbound SERVFAIL"], FIGURES["delv validated"], FIGURES["signatures checked"],
                 ", ".join("%d %s" % (n, k[len("NXDOMAIN as "):]) for k, n in sorted(FIGURES.items())
                           if k.startswith("NXDOMAIN as ")) or "none"))


if __name__ == "__main__":
    unittest.main()
