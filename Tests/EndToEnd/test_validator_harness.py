"""The DNSSEC harness itself, against a zone BIND signs and NSD serves: a validating
Unbound (trust anchor, stub zones, client subnet forwarding) and BIND's delv. What the
DNSSEC tests of Meridian conclude rests on these pieces telling a valid answer from a
bogus one, so they are proven here on signatures made by other implementations.

example.test. is signed by dnssec-signzone with one ECDSA P-256 key (a CSK), NSEC denial.
Below it, secure.example.test. is a signed child with a DS in the parent, and
insecure.example.test. an unsigned child without one; all three are served by NSD."""

import shutil
import unittest

from harness import (DNSCTL_BIN, MERIDIAN_BIN, NSD, BindKey, E2ECase, Meridian, Unbound,
                     bind_sign_zone, build_mmdb, delv_anchor_from_bind_key, delv_negative,
                     delv_validated, make_tempdir, require_dnssec_tools, require_executable,
                     run_delv, run_dig, run_dnsctl, write_delv_anchor)

ORIGIN = "example.test."
SECURE_CHILD = "secure.example.test."
INSECURE_CHILD = "insecure.example.test."

CHILD = """$TTL 300
@       IN SOA ns hostmaster 1 3600 600 86400 60
@       IN NS  ns
ns      IN A   192.0.2.53
www     IN A   192.0.2.%d
"""


def parent_zone(secure_child_ds):
    """The parent zone text, delegating to both children (a DS for the secure one)."""
    return """$ORIGIN example.test.
$TTL 300
@         IN SOA ns hostmaster 1 3600 600 86400 60
@         IN NS  ns
ns        IN A   192.0.2.53
www       IN A   192.0.2.1
www       IN AAAA 2001:db8::1
mail      IN MX  10 www
secure    IN NS  ns.secure
ns.secure IN A   192.0.2.53
%s
insecure  IN NS  ns.insecure
ns.insecure IN A 192.0.2.53
""" % secure_child_ds.replace(SECURE_CHILD, "secure", 1)


class ValidatorHarnessCase(E2ECase):
    """One signed zone tree served by NSD for the class, a validating Unbound per test."""

    @classmethod
    def setUpClass(cls):
        require_dnssec_tools("unbound", "unbound-control", "delv", "dnssec-keygen",
                             "dnssec-signzone", "dnssec-dsfromkey")
        if shutil.which("dig") is None:
            raise AssertionError("dig is not installed")
        cls.keydir = make_tempdir(cls, prefix="dnssec-keys-")
        cls.key = BindKey(cls.keydir, ORIGIN)
        cls.child_key = BindKey(cls.keydir, SECURE_CHILD)
        cls.other_key = BindKey(cls.keydir, ORIGIN)   # same zone, never signs: a wrong anchor
        zones = {
            ORIGIN: bind_sign_zone(cls.keydir, ORIGIN, parent_zone(cls.child_key.ds), [cls.key]),
            SECURE_CHILD: bind_sign_zone(cls.keydir, SECURE_CHILD, "$ORIGIN %s\n" % SECURE_CHILD
                                         + CHILD % 2, [cls.child_key]),
            INSECURE_CHILD: "$ORIGIN %s\n" % INSECURE_CHILD + CHILD % 3,
        }
        cls.nsd = NSD(cls, zones)
        cls.nsd.start(cls)
        cls.stubs = {zone: cls.nsd.port for zone in zones}
        cls.anchor = write_delv_anchor(cls.keydir, cls.key.dnskey)

    def resolver(self, anchors=None):
        anchors = [self.key.dnskey] if anchors is None else anchors
        return Unbound(self, self.stubs, anchors).start(self)

    def assertValidated(self, result, status="NOERROR"):
        self.assertEqual(result.status, status, str(result))
        self.assertIn("ad", result.flags, "AD not set:\n%s" % result)


class ValidatingResolverTest(ValidatorHarnessCase):

    def test_signed_answers_validate(self):
        unbound = self.resolver()
        result = unbound.query("www.example.test", "A")
        self.assertValidated(result)
        self.assertEqual([r[3] for r in result.records("ANSWER", "A")], ["192.0.2.1"])
        self.assertValidated(unbound.query("www.example.test", "AAAA"))
        mx = unbound.query("mail.example.test", "MX")
        self.assertValidated(mx)
        self.assertEqual([r[3] for r in mx.records("ANSWER", "MX")], ["10 www.example.test."])
        # The answers are validated by Unbound, not taken on trust: its own counters agree.
        stats = unbound.stats()
        self.assertGreaterEqual(stats.get("num.answer.secure", 0), 3, stats)
        self.assertEqual(stats.get("num.answer.bogus", 0), 0, stats)
        print("\nvalidator harness: %d of %d answers through Unbound validated (num.answer.secure %d)"
              % (unbound.validated_count(), len(unbound.queries), stats.get("num.answer.secure", 0)))

    def test_denial_of_existence_validates(self):
        unbound = self.resolver()
        nx = unbound.query("nope.example.test", "A")
        self.assertValidated(nx, "NXDOMAIN")
        self.assertEqual(nx.records("ANSWER"), [])
        nodata = unbound.query("www.example.test", "TXT")
        self.assertValidated(nodata)
        self.assertEqual(nodata.records("ANSWER"), [])

    def test_wrong_trust_anchor_is_servfail(self):
        unbound = self.resolver(anchors=[self.other_key.dnskey])
        for name, qtype in (("www.example.test", "A"), ("nope.example.test", "A")):
            result = unbound.query(name, qtype)
            self.assertEqual(result.status, "SERVFAIL", str(result))
            self.assertNotIn("ad", result.flags)
        # val-log-level 2 says why: no DNSKEY matched the anchor.
        self.assertIn("validation failure", unbound.log())
        self.assertGreaterEqual(unbound.stats().get("num.answer.bogus", 0), 1)

    def test_trust_anchor_given_as_ds(self):
        unbound = self.resolver(anchors=[self.key.ds])
        self.assertValidated(unbound.query("www.example.test", "A"))

    def test_without_trust_anchor_nothing_is_validated(self):
        unbound = self.resolver(anchors=[])
        result = unbound.query("www.example.test", "A")
        self.assertEqual(result.status, "NOERROR", str(result))
        self.assertNotIn("ad", result.flags, str(result))

    def test_delegations(self):
        unbound = self.resolver()
        # Signed child: the chain runs from the anchor through the DS in the parent.
        ds = unbound.query("secure.example.test", "DS")
        self.assertValidated(ds)
        self.assertEqual(len(ds.records("ANSWER", "DS")), 1, str(ds))
        self.assertValidated(unbound.query("www.secure.example.test", "A"))
        # Unsigned child: the parent proves there is no DS (NSEC), the child is insecure,
        # which is an answer (no AD), not a failure.
        no_ds = unbound.query("insecure.example.test", "DS")
        self.assertValidated(no_ds)
        self.assertEqual(no_ds.records("ANSWER"), [])
        insecure = unbound.query("www.insecure.example.test", "A")
        self.assertEqual(insecure.status, "NOERROR", str(insecure))
        self.assertNotIn("ad", insecure.flags, str(insecure))
        self.assertEqual([r[3] for r in insecure.records("ANSWER", "A")], ["192.0.2.3"])

    def test_ds_without_child_signature_is_bogus(self):
        """A DS in the parent for a child served unsigned: the stripped signatures are caught."""
        keydir = make_tempdir(self, prefix="dnssec-keys-")
        key = BindKey(keydir, ORIGIN)
        orphan = BindKey(keydir, INSECURE_CHILD)
        text = parent_zone(self.child_key.ds).replace(
            "insecure  IN NS  ns.insecure\n",
            "insecure  IN NS  ns.insecure\n%s\n" % orphan.ds.replace(INSECURE_CHILD, "insecure", 1))
        nsd = NSD(self, {ORIGIN: bind_sign_zone(keydir, ORIGIN, text, [key]),
                         INSECURE_CHILD: "$ORIGIN %s\n" % INSECURE_CHILD + CHILD % 3})
        nsd.start(self)
        unbound = Unbound(self, {ORIGIN: nsd.port, INSECURE_CHILD: nsd.port}, [key.dnskey]).start(self)
        self.assertValidated(unbound.query("www.example.test", "A"))
        result = unbound.query("www.insecure.example.test", "A")
        self.assertEqual(result.status, "SERVFAIL", str(result))


class DelvTest(ValidatorHarnessCase):

    def test_delv_validates_answers(self):
        for name, qtype in (("www.example.test", "A"), ("mail.example.test", "MX"),
                            ("www.example.test", "AAAA")):
            code, output = run_delv(self.nsd.port, name, qtype, self.anchor)
            self.assertEqual(code, 0, output)
            self.assertTrue(delv_validated(output), output)

    def test_delv_validates_denial(self):
        code, output = run_delv(self.nsd.port, "nope.example.test", "A", self.anchor)
        self.assertTrue(delv_negative(output), output)
        self.assertIn("NXDOMAIN", output)
        code, output = run_delv(self.nsd.port, "www.example.test", "TXT", self.anchor)
        self.assertTrue(delv_negative(output), output)
        self.assertIn("NXRRSET", output)

    def test_delv_with_anchor_from_key_file(self):
        anchor = delv_anchor_from_bind_key(make_tempdir(self), self.key.key_path)
        code, output = run_delv(self.nsd.port, "www.example.test", "A", anchor)
        self.assertTrue(delv_validated(output), output)

    def test_delv_with_ds_anchor(self):
        anchor = write_delv_anchor(make_tempdir(self), self.key.ds)
        code, output = run_delv(self.nsd.port, "www.example.test", "A", anchor)
        self.assertTrue(delv_validated(output), output)

    def test_delv_rejects_wrong_anchor(self):
        anchor = write_delv_anchor(make_tempdir(self), self.other_key.dnskey)
        code, output = run_delv(self.nsd.port, "www.example.test", "A", anchor)
        # delv exits 0 here too: what counts is what it says.
        self.assertFalse(delv_validated(output), output)
        self.assertIn("broken trust chain", output)


# The GeoIP fixture of the health tests: Frankfurt, London and the USA.
from test_health import EDGES, NETWORKS, order_from  # noqa: E402

GEO_ZONE = """$ORIGIN geo.test.
$TTL 300
@       IN SOA ns hostmaster 1 3600 600 86400 60
@       IN NS  ns
ns      IN A   192.0.2.53
api     30 IN DYNA edges
"""

GEO_POOLS = """pools:
  edges:
    edges: [fra1, ams1, iad1]
    policy: nearest
    when_all_down: all
"""


class ClientSubnetThroughUnboundTest(E2ECase):
    """Unbound passes a client's subnet (``dig +subnet=``) on to Meridian, whose geo answers
    (unsigned today) differ by client. With the zone's key as trust anchor, an unsigned
    answer is caught as bogus: what the DNSSEC tests would see from a server that does not
    sign."""

    @classmethod
    def setUpClass(cls):
        require_dnssec_tools("unbound", "unbound-control", "dnssec-keygen", "dnssec-dsfromkey")
        require_executable(MERIDIAN_BIN, "meridian")
        require_executable(DNSCTL_BIN, "dnsctl")
        cls.fixtures = make_tempdir(cls, prefix="ecs-unbound-")
        cls.mmdb = build_mmdb(NETWORKS, cls.fixtures)

    def start_meridian(self):
        lines = ["geoip:", "  database: %s" % self.mmdb, "  client_subnet: true", "edges:"]
        for name, (lat, lon, v4) in EDGES.items():
            lines += ["  %s:" % name, "    location: [%s, %s]" % (lat, lon), '    addresses: ["%s"]' % v4]
        server = Meridian(self, {"geo.test.": GEO_ZONE}, extra_config="\n".join(lines) + "\n" + GEO_POOLS)
        return server.start(self)

    def test_client_subnet_reaches_the_server(self):
        server = self.start_meridian()
        unbound = Unbound(self, {"geo.test.": server.port}).start(self)
        seen = {}
        for network in ("5.1.2.0/24", "8.8.8.0/24", "81.2.69.0/24"):
            result = unbound.query("api.geo.test", "A", "+subnet=%s" % network)
            self.assertEqual(result.status, "NOERROR", str(result) + unbound.log())
            self.assertNotIn("ad", result.flags)   # no trust anchor: insecure
            seen[network] = [r[3] for r in result.records("ANSWER", "A")]
            direct = run_dig(server.port, "api.geo.test", "A", "+subnet=%s" % network)
            self.assertEqual(seen[network], [r[3] for r in direct.records("ANSWER", "A")])
        self.assertEqual(seen["5.1.2.0/24"], [EDGES[order_from("5.1.0.0/16")[0]][2]])
        self.assertEqual(seen["8.8.8.0/24"], [EDGES[order_from("8.8.8.0/24")[0]][2]])
        self.assertNotEqual(seen["5.1.2.0/24"], seen["8.8.8.0/24"])

    def test_flush_forgets_client_subnet_answers(self):
        server = self.start_meridian()
        unbound = Unbound(self, {"geo.test.": server.port}).start(self)
        first, second = order_from("5.1.0.0/16")[:2]

        def through_unbound():
            result = unbound.query("api.geo.test", "A", "+subnet=5.1.2.0/24")
            self.assertEqual(result.status, "NOERROR", str(result))
            return [r[3] for r in result.records("ANSWER", "A")]

        self.assertEqual(through_unbound(), [EDGES[first][2]])
        drained = run_dnsctl("--socket", server.socket_path, "drain", first)
        self.assertEqual(drained.returncode, 0, str(drained))
        direct = run_dig(server.port, "api.geo.test", "A", "+subnet=5.1.2.0/24")
        self.assertEqual([r[3] for r in direct.records("ANSWER", "A")], [EDGES[second][2]])
        self.assertEqual(through_unbound(), [EDGES[first][2]])   # cached for the record's TTL
        unbound.flush()
        self.assertEqual(through_unbound(), [EDGES[second][2]])

    def test_unsigned_answers_under_a_trust_anchor_are_bogus(self):
        server = self.start_meridian()
        key = BindKey(make_tempdir(self), "geo.test.")
        unbound = Unbound(self, {"geo.test.": server.port}, [key.dnskey]).start(self)
        result = unbound.query("api.geo.test", "A", "+subnet=5.1.2.0/24")
        self.assertEqual(result.status, "SERVFAIL", str(result))
        # Checking disabled: the same data comes back, unvalidated.
        result = unbound.query("api.geo.test", "A", "+subnet=5.1.2.0/24", "+cd")
        self.assertEqual(result.status, "NOERROR", str(result))
        self.assertNotIn("ad", result.flags)


if __name__ == "__main__":
    unittest.main()
