"""End-to-end tests of the running server: DNS semantics through dig, kdig and raw packets,
TCP handling (pipelining, idle timeout, connection limit), signals and startup errors."""

import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (FLAG_QR, Message, make_query, opt_rr, ecs_option, header,  # noqa: E402
                     encode_name, query, run_dig, tcp_frame, tcp_read_message, wait_until)

ZONE_NAME = "inference.example."
SERIAL = 2026112501


def big_txt_lines(owner, count, size):
    return "\n".join('%s IN TXT "%s"' % (owner, ("%03d" % i) + "b" * (size - 3)) for i in range(count))


# TXT RRsets whose answers are a little under, at and over the 512 and 1232 octet limits
BOUNDARY_SIZES = list(range(3, 13))


def boundary_records():
    lines = []
    for n in BOUNDARY_SIZES:
        for i in range(n):
            lines.append('tb%d IN TXT "%s"' % (n, ("%02d" % i) * 50))
    return "\n".join(lines)


def inference_zone(serial=SERIAL, extra=""):
    return """$ORIGIN inference.example.
$TTL 300
@       IN SOA  ns1 hostmaster %(serial)d 3600 600 1209600 120
@       IN NS   ns1
@       IN NS   ns2
@       IN MX   10 mx1
@       IN TXT  "v=spf1 mx -all"
ns1     IN A    198.51.100.53
ns1     IN AAAA 2001:db8:53::1
ns2     IN A    203.0.113.53
mx1     IN A    198.51.100.25
api  30 IN A    192.0.2.10
api  30 IN AAAA 2001:db8::10
www     IN CNAME api
chain1  IN CNAME chain2
chain2  IN CNAME api
out     IN CNAME edge.example.net.
cbig    IN CNAME big
*.wild  IN A    192.0.2.99
*.wild  IN TXT  "wild"
x.ent.wild IN A 192.0.2.98
lab     IN NS   ns.lab
lab     IN NS   ns.elsewhere.net.
ns.lab  IN A    198.51.100.99
ns.lab  IN AAAA 2001:db8:99::1
_https._tcp.api IN SRV 10 5 443 api
%(big)s
%(medium)s
%(extra)s
""" % {
        "serial": serial,
        "big": big_txt_lines("big", 60, 100),
        "medium": "\n".join("medium IN A 10.9.0.%d" % i for i in range(1, 41))
                  + "\n" + boundary_records(),
        "extra": extra,
    }


# SOA TTL 60 is below its minimum 3600: negative answers must use 60.
OTHER_ZONE = """$ORIGIN other.test.
@   60  IN SOA ns.other.test. admin.other.test. 7 3600 600 86400 3600
@   60  IN NS  ns
ns      3600 IN A 192.0.2.200
"""

SOA_RDATA = "ns1.inference.example. hostmaster.inference.example. %d 3600 600 1209600 120" % SERIAL
SOA_NEG = ("inference.example.", 120, "SOA", SOA_RDATA)


def r(owner, ttl, rtype, rdata):
    return (owner.lower(), ttl, rtype, rdata)


# name, type, status, aa, answer, authority, additional — compared exactly as sets.
DIG_CASES = [
    ("api.inference.example.", "A", "NOERROR", True,
     {r("api.inference.example.", 30, "A", "192.0.2.10")}, set(), set()),
    ("www.inference.example.", "A", "NOERROR", True,
     {r("www.inference.example.", 300, "CNAME", "api.inference.example."),
      r("api.inference.example.", 30, "A", "192.0.2.10")}, set(), set()),
    ("chain1.inference.example.", "AAAA", "NOERROR", True,
     {r("chain1.inference.example.", 300, "CNAME", "chain2.inference.example."),
      r("chain2.inference.example.", 300, "CNAME", "api.inference.example."),
      r("api.inference.example.", 30, "AAAA", "2001:db8::10")}, set(), set()),
    ("out.inference.example.", "A", "NOERROR", True,
     {r("out.inference.example.", 300, "CNAME", "edge.example.net.")}, set(), set()),
    ("nope.inference.example.", "A", "NXDOMAIN", True, set(), {SOA_NEG}, set()),
    ("api.inference.example.", "MX", "NOERROR", True, set(), {SOA_NEG}, set()),
    ("foo.wild.inference.example.", "A", "NOERROR", True,
     {r("foo.wild.inference.example.", 300, "A", "192.0.2.99")}, set(), set()),
    ("a.b.wild.inference.example.", "TXT", "NOERROR", True,
     {r("a.b.wild.inference.example.", 300, "TXT", '"wild"')}, set(), set()),
    ("foo.wild.inference.example.", "MX", "NOERROR", True, set(), {SOA_NEG}, set()),
    ("ent.wild.inference.example.", "A", "NOERROR", True, set(), {SOA_NEG}, set()),
    ("y.ent.wild.inference.example.", "A", "NXDOMAIN", True, set(), {SOA_NEG}, set()),
    ("foo.lab.inference.example.", "A", "NOERROR", False, set(),
     {r("lab.inference.example.", 300, "NS", "ns.lab.inference.example."),
      r("lab.inference.example.", 300, "NS", "ns.elsewhere.net.")},
     {r("ns.lab.inference.example.", 300, "A", "198.51.100.99"),
      r("ns.lab.inference.example.", 300, "AAAA", "2001:db8:99::1")}),
    ("inference.example.", "MX", "NOERROR", True,
     {r("inference.example.", 300, "MX", "10 mx1.inference.example.")}, set(),
     {r("mx1.inference.example.", 300, "A", "198.51.100.25")}),
    ("_https._tcp.api.inference.example.", "SRV", "NOERROR", True,
     {r("_https._tcp.api.inference.example.", 300, "SRV", "10 5 443 api.inference.example.")},
     set(),
     {r("api.inference.example.", 30, "A", "192.0.2.10"),
      r("api.inference.example.", 30, "AAAA", "2001:db8::10")}),
    ("inference.example.", "NS", "NOERROR", True,
     {r("inference.example.", 300, "NS", "ns1.inference.example."),
      r("inference.example.", 300, "NS", "ns2.inference.example.")}, set(),
     {r("ns1.inference.example.", 300, "A", "198.51.100.53"),
      r("ns1.inference.example.", 300, "AAAA", "2001:db8:53::1"),
      r("ns2.inference.example.", 300, "A", "203.0.113.53")}),
    ("example.com.", "A", "REFUSED", False, set(), set(), set()),
    ("nope.other.test.", "A", "NXDOMAIN", True, set(),
     {r("other.test.", 60, "SOA", "ns.other.test. admin.other.test. 7 3600 600 86400 3600")}, set()),
    ("ApI.InFeReNcE.eXaMpLe.", "A", "NOERROR", True,
     {r("api.inference.example.", 30, "A", "192.0.2.10")}, set(), set()),
]

CLIENTS = [("dig", ()), ("dig", ("+tcp",)), ("kdig", ()), ("kdig", ("+tcp",))]


class ServerTest(harness.E2ECase):
    """Read-only behaviour, one server for the whole class."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Meridian(cls, {ZONE_NAME: inference_zone(), "other.test.": OTHER_ZONE},
                                      tcp_idle_timeout="2s", tcp_max_connections=64)
        cls.server.start(cls)
        cls.port = cls.server.port

    def tearDown(self):
        self.assertTrue(self.server.alive(), "meridian died:\n" + self.server.log())

    # ---- dig and kdig over UDP and TCP ----------------------------------------------------

    def test_dig_and_kdig_over_udp_and_tcp(self):
        for name, qtype, status, aa, answer, authority, additional in DIG_CASES:
            for tool, opts in CLIENTS:
                with self.subTest(tool=tool, opts=opts, name=name, qtype=qtype):
                    res = run_dig(self.port, name, qtype, *opts, tool=tool)
                    self.assertEqual(res.returncode, 0, str(res))
                    self.assertEqual(res.status, status, str(res))
                    self.assertIn("qr", res.flags, str(res))
                    self.assertEqual("aa" in res.flags, aa, str(res))
                    self.assertNotIn("tc", res.flags, str(res))
                    self.assertNotIn("ra", res.flags, str(res))
                    self.assertEqual(set(res.records("ANSWER")), answer, str(res))
                    self.assertEqual(set(res.records("AUTHORITY")), authority, str(res))
                    self.assertEqual(set(res.records("ADDITIONAL")), additional, str(res))
                    # the question comes back exactly as asked (kdig lowercases what it sends)
                    echoed = res.sections["QUESTION"][0][0]
                    self.assertEqual(echoed if tool == "dig" else echoed.lower(),
                                     name if tool == "dig" else name.lower(), str(res))
                    # dig sends EDNS (with a cookie option) by default, kdig does not
                    if tool == "dig":
                        self.assertEqual(res.edns, (0, 1232), str(res))
                    else:
                        self.assertIsNone(res.edns, str(res))

    def test_dig_edns_version_1_gets_badvers(self):
        for tool, opts in (("dig", ("+edns=1", "+noednsneg")), ("kdig", ("+edns=1",))):
            res = run_dig(self.port, "api.inference.example.", "A", *opts, tool=tool)
            self.assertEqual(res.status, "BADVERS", str(res))
            self.assertEqual(res.counts.get("ANSWER"), 0, str(res))
            self.assertEqual(res.edns, (0, 1232), str(res))

    # ---- raw packets: flags and sections precisely --------------------------------------

    def test_authoritative_answer_flags(self):
        for tcp in (False, True):
            m = query(self.port, "api.inference.example.", "A", tcp=tcp, rd=True)
            self.assertRcode(m, "NOERROR")
            self.assertFlags(m, aa=True, tc=False, rd=True)
            self.assertFalse(m.ra, "an authoritative-only server never sets RA\n%s" % m)
            self.assertEqual(m.opcode, 0)
            self.assertEqual(len(m.questions), 1)
            m2 = query(self.port, "api.inference.example.", "A", tcp=tcp)
            self.assertFalse(m2.rd, str(m2))

    def test_negative_answers_have_soa_with_negative_ttl(self):
        cases = [("nope.inference.example.", "A", "NXDOMAIN", 120),
                 ("api.inference.example.", "TXT", "NOERROR", 120),
                 ("x.y.nope.other.test.", "AAAA", "NXDOMAIN", 60),
                 ("ns.other.test.", "MX", "NOERROR", 60)]
        for name, qtype, rcode, ttl in cases:
            with self.subTest(name=name, qtype=qtype):
                m = query(self.port, name, qtype)
                self.assertRcode(m, rcode)
                self.assertFlags(m, aa=True, tc=False)
                self.assertEqual(m.answer, [], str(m))
                self.assertEqual([(x.type_name, x.ttl) for x in m.authority], [("SOA", ttl)], str(m))
                self.assertEqual(m.additional, [], str(m))

    def test_referral_has_glue_and_no_aa(self):
        for name in ("lab.inference.example.", "ns.lab.inference.example.",
                     "deep.below.lab.inference.example."):
            with self.subTest(name=name):
                m = query(self.port, name, "A")
                self.assertRcode(m, "NOERROR")
                self.assertFlags(m, aa=False)
                self.assertEqual(m.answer, [], str(m))
                self.assertEqual(sorted(x.text for x in m.rrs("authority", "NS")),
                                 ["ns.elsewhere.net.", "ns.lab.inference.example."], str(m))
                self.assertEqual(len(m.authority), 2, str(m))
                self.assertEqual(sorted((x.name.lower(), x.type_name) for x in m.additional),
                                 [("ns.lab.inference.example.", "A"),
                                  ("ns.lab.inference.example.", "AAAA")], str(m))

    def test_any_is_answered_with_one_rrset(self):
        for name in ("api.inference.example.", "inference.example.", "foo.wild.inference.example."):
            for tcp in (False, True):
                with self.subTest(name=name, tcp=tcp):
                    m = query(self.port, name, "ANY", tcp=tcp)
                    self.assertRcode(m, "NOERROR")
                    self.assertFlags(m, aa=True)
                    self.assertGreaterEqual(len(m.answer), 1, str(m))
                    rrsets = {(x.name.lower(), x.type) for x in m.answer}
                    self.assertEqual(len(rrsets), 1, "ANY must return one RRset (RFC 8482)\n%s" % m)
        m = query(self.port, "nope.inference.example.", "ANY")
        self.assertRcode(m, "NXDOMAIN")
        m = query(self.port, "example.org.", "ANY")
        self.assertRcode(m, "REFUSED")

    def test_refused_outside_zones(self):
        for name in ("example.com.", "example.", ".", "xinference.example.", "inference.example.com."):
            for tcp in (False, True):
                with self.subTest(name=name, tcp=tcp):
                    m = query(self.port, name, "A", tcp=tcp)
                    self.assertRcode(m, "REFUSED")
                    self.assertFlags(m, aa=False)
                    self.assertEqual(m.answer + m.authority + m.additional, [], str(m))
                    self.assertEqual(m.questions[0][0], name)

    def test_notimp_for_other_opcodes(self):
        for opcode in range(1, 16):
            with self.subTest(opcode=opcode):
                qid = 0x4000 + opcode
                wire = make_query("api.inference.example.", "A", qid=qid, opcode=opcode)
                m = harness.udp_query(self.port, wire)
                self.assertEqual(m.id, qid)
                self.assertRcode(m, "NOTIMP")
                self.assertTrue(m.qr)
                self.assertFalse(m.aa, str(m))
                self.assertEqual(m.opcode, opcode, "opcode is echoed\n%s" % m)
                self.assertEqual(m.answer, [])

    def test_formerr_for_bad_qdcount(self):
        q = encode_name("api.inference.example.") + struct.pack("!HH", 1, 1)
        for qd, body in ((0, b""), (0, q), (2, q + q), (2, q)):
            with self.subTest(qdcount=qd, body=len(body)):
                wire = header(0x1234 + qd + len(body), 0, qd) + body
                m = harness.udp_query(self.port, wire)
                self.assertEqual(m.id, 0x1234 + qd + len(body))
                self.assertRcode(m, "FORMERR")
                self.assertTrue(m.qr)
                self.assertEqual(m.answer, [])

    def test_formerr_for_malformed_body(self):
        good = make_query("api.inference.example.", "A", qid=0x2222)
        bodies = {
            "truncated question": good[:20],
            "missing qtype": good[:-4],
            "label of 64": header(0x2222) + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01",
            "trailing garbage": good + b"\x00\x01\x02",
            "arcount without record": header(0x2222, 0, 1, 0, 0, 1) + good[12:],
            "forward pointer": header(0x2222) + b"\xc0\x0e\x00\x00\x01\x00\x01",
            "pointer loop": header(0x2222) + b"\x01a\xc0\x0c\x00\x01\x00\x01",
            "name over 255": header(0x2222) + (b"\x3f" + b"x" * 63) * 4 + b"\x00\x00\x01\x00\x01",
        }
        for label, wire in bodies.items():
            with self.subTest(label):
                m = harness.udp_query(self.port, wire)
                self.assertEqual(m.id, 0x2222)
                self.assertRcode(m, "FORMERR")
                self.assertTrue(m.qr)
                self.assertEqual(m.answer, [], str(m))

    def test_responses_are_ignored(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("127.0.0.1", self.port))
            bogus = bytearray(make_query("api.inference.example.", "A", qid=0x5151))
            bogus[2] |= FLAG_QR >> 8
            s.send(bytes(bogus))
            s.send(make_query("api.inference.example.", "A", qid=0x5252))
            s.settimeout(3)
            first = Message.parse(s.recv(65535))
            self.assertEqual(first.id, 0x5252)
            # nothing else may arrive (the QR=1 packet must stay unanswered)
            s.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                extra = s.recv(65535)
                self.fail("got a reply to a response: %r" % extra)

    def test_case_insensitive_and_question_echoed(self):
        for tcp in (False, True):
            wire = make_query("ApI.InFeReNcE.eXaMpLe.", "A", qid=0x7777)
            raw = harness.tcp_exchange(self.port, wire) if tcp else harness.udp_exchange(self.port, wire)
            # the question section is echoed byte for byte
            self.assertEqual(raw[12:12 + len(wire) - 12], wire[12:])
            m = Message.parse(raw)
            self.assertRcode(m, "NOERROR")
            self.assertFlags(m, aa=True)
            self.assertEqual(m.questions[0][0], "ApI.InFeReNcE.eXaMpLe.")
            self.assertEqual([(x.name.lower(), x.text) for x in m.answer],
                             [("api.inference.example.", "192.0.2.10")])

    def test_edns_opt_present_iff_query_had_one(self):
        m = query(self.port, "api.inference.example.", "A")
        self.assertIsNone(m.opt, str(m))
        for payload in (512, 1232, 4096, 65535):
            m = query(self.port, "api.inference.example.", "A", edns={"payload": payload})
            self.assertIsNotNone(m.opt, str(m))
            self.assertEqual(m.edns_version, 0)
            self.assertEqual(m.edns_payload, 1232, "advertises udp_payload\n%s" % m)
            self.assertRcode(m, "NOERROR")
        # negative and error answers carry OPT too
        for name, rcode in (("nope.inference.example.", "NXDOMAIN"), ("example.com.", "REFUSED")):
            m = query(self.port, name, "A", edns=True)
            self.assertRcode(m, rcode)
            self.assertIsNotNone(m.opt, str(m))

    def test_do_bit_copied_and_unknown_options_ignored(self):
        for do in (True, False):
            m = query(self.port, "api.inference.example.", "A", edns={"do": do})
            self.assertEqual(bool(m.opt.ttl & 0x8000), do, "DO is copied (RFC 3225)\n%s" % m)
        m = query(self.port, "api.inference.example.", "A",
                  edns={"options": [(65001, b"abc"), (harness.OPT_COOKIE, b"\x01" * 8)]})
        self.assertRcode(m, "NOERROR")
        self.assertEqual([x.text for x in m.answer], ["192.0.2.10"])
        self.assertNotIn(65001, [code for code, _ in m.edns_options], str(m))

    def test_dig_and_kdig_client_subnet(self):
        for tool, opts in CLIENTS:
            with self.subTest(tool=tool, opts=opts):
                res = run_dig(self.port, "api.inference.example.", "A", "+subnet=192.0.2.0/24",
                              *opts, tool=tool)
                self.assertEqual(res.status, "NOERROR", str(res))
                self.assertRegex(res.output, r"CLIENT-SUBNET: 192\.0\.2\.0/24/0\b", str(res))

    def test_zone_transfers_refused(self):
        for qtype in ("AXFR", "IXFR"):
            with self.subTest(qtype=qtype):
                m = query(self.port, ZONE_NAME, qtype, tcp=True)
                self.assertIn(m.rcode_name, ("REFUSED", "NOTIMP"), str(m))
                self.assertEqual(m.answer, [], str(m))

    def test_longest_names(self):
        # 3 labels of 63, one of 43, then inference.example.: exactly 255 octets
        labels = [b"a" * 63, b"b" * 63, b"c" * 63, b"d" * 43] + harness.split_name(ZONE_NAME)
        self.assertEqual(len(encode_name(labels)), 255)
        for tcp in (False, True):
            with self.subTest(tcp=tcp):
                wire = header(0x0255) + encode_name(labels) + struct.pack("!HH", 1, 1)
                m = harness.tcp_query(self.port, wire) if tcp else harness.udp_query(self.port, wire)
                self.assertRcode(m, "NXDOMAIN")
                self.assertEqual(harness.split_name(m.questions[0][0]), labels)
                # one octet more is not a name
                longer = labels[:3] + [b"d" * 44] + labels[4:]
                wire = header(0x0256) + encode_name(longer) + struct.pack("!HH", 1, 1)
                m = harness.tcp_query(self.port, wire) if tcp else harness.udp_query(self.port, wire)
                self.assertEqual(m.id, 0x0256)
                self.assertRcode(m, "FORMERR")

    def test_large_queries_over_udp(self):
        # queries are not limited to 128 or 512 octets: EDNS padding (option 12) makes them big
        for pad in (0, 100, 200, 468, 1000, 3000):
            for tcp in (False, True):
                with self.subTest(padding=pad, tcp=tcp):
                    wire = make_query("api.inference.example.", "A", qid=pad,
                                      edns={"options": [(12, b"\x00" * pad)]})
                    m = harness.tcp_query(self.port, wire) if tcp else harness.udp_query(self.port, wire)
                    self.assertEqual(m.id, pad)
                    self.assertRcode(m, "NOERROR", "query of %d octets" % len(wire))
                    self.assertEqual([x.text for x in m.answer], ["192.0.2.10"])

    def test_badvers_for_edns_version_1(self):
        for tcp in (False, True):
            m = query(self.port, "api.inference.example.", "A", tcp=tcp, edns={"version": 1})
            self.assertIsNotNone(m.opt, str(m))
            self.assertEqual(m.rcode, 16, "BADVERS\n%s" % m)
            self.assertEqual(m.flags & 0xF, 0, "BADVERS has 0 in the header rcode bits")
            self.assertEqual(m.edns_version, 0, "the response states the version we speak")
            self.assertEqual(m.answer, [])

    def test_two_opt_records_formerr(self):
        body = make_query("api.inference.example.", "A", qid=0x3333)[12:]
        wire = header(0x3333, 0, 1, 0, 0, 2) + body + opt_rr() + opt_rr()
        m = harness.udp_query(self.port, wire)
        self.assertEqual(m.id, 0x3333)
        self.assertEqual(m.rcode & 0xF, 1, "FORMERR\n%s" % m)

    def test_ecs_is_echoed_with_scope_zero(self):
        cases = [("192.0.2.0", 24), ("198.51.100.128", 25), ("0.0.0.0", 0), ("2001:db8:aa00::", 40),
                 ("10.1.2.3", 32)]
        for address, prefix in cases:
            for tcp in (False, True):
                with self.subTest(address=address, prefix=prefix, tcp=tcp):
                    code, data = ecs_option(address, prefix)
                    m = query(self.port, "api.inference.example.", "A", tcp=tcp,
                              edns={"options": [(code, data)]})
                    self.assertRcode(m, "NOERROR")
                    opts = [o for o in m.edns_options if o[0] == harness.OPT_ECS]
                    self.assertEqual(len(opts), 1, str(m))
                    echoed = opts[0][1]
                    fam, src, scope = struct.unpack("!HBB", echoed[:4])
                    self.assertEqual((fam, src, scope), (struct.unpack("!H", data[:2])[0], prefix, 0))
                    self.assertEqual(echoed[4:], data[4:])
        # no ECS in the query, none in the answer
        m = query(self.port, "api.inference.example.", "A", edns=True)
        self.assertEqual([o for o in m.edns_options if o[0] == harness.OPT_ECS], [])

    def test_malformed_ecs_formerr(self):
        bad = {
            # 23-bit prefix, but the last address octet has bit 24 set
            "bits beyond the source prefix": (8, struct.pack("!HBB", 1, 23, 0) + b"\xc0\x00\x03"),
            "family 3": (8, struct.pack("!HBB", 3, 8, 0) + b"\x0a"),
            "IPv4 prefix 33": (8, struct.pack("!HBB", 1, 33, 0) + b"\x0a\x00\x00\x00\x00"),
            "IPv6 prefix 129": (8, struct.pack("!HBB", 2, 129, 0) + b"\x20" * 17),
            "address longer than the prefix": (8, struct.pack("!HBB", 1, 8, 0) + b"\x0a\x00"),
            "address shorter than the prefix": (8, struct.pack("!HBB", 1, 24, 0) + b"\x0a"),
            "option too short": (8, b"\x00\x01\x18"),
        }
        for label, option in bad.items():
            with self.subTest(label):
                wire = make_query("api.inference.example.", "A", qid=0x4242, edns={"options": [option]})
                m = harness.udp_query(self.port, wire)
                self.assertEqual(m.id, 0x4242)
                self.assertRcode(m, "FORMERR")
                self.assertEqual(m.answer, [], str(m))

    # ---- truncation ---------------------------------------------------------------------

    def full_rrsets(self, name, qtype):
        full = query(self.port, name, qtype, tcp=True)
        self.assertFalse(full.tc)
        sets = {}
        for x in full.answer:
            sets.setdefault((x.name.lower(), x.type), set()).add(x.text)
        return full, sets

    def assert_whole_rrsets(self, truncated, sets):
        seen = {}
        for x in truncated.answer:
            seen.setdefault((x.name.lower(), x.type), set()).add(x.text)
        for key, texts in seen.items():
            self.assertEqual(texts, sets.get(key), "partial RRset %s in a truncated answer\n%s"
                             % (key, truncated))

    def test_truncation_without_edns(self):
        full, sets = self.full_rrsets("big.inference.example.", "TXT")
        self.assertEqual(len(full.answer), 60)
        self.assertFlags(full, aa=True)
        raw = harness.udp_exchange(self.port, make_query("big.inference.example.", "TXT", qid=99))
        self.assertLessEqual(len(raw), 512)
        m = Message.parse(raw)
        self.assertFlags(m, tc=True, aa=True)
        self.assertRcode(m, "NOERROR")
        self.assertEqual(m.questions[0][0], "big.inference.example.")
        self.assert_whole_rrsets(m, sets)
        self.assertEqual(m.answer, [], "60 TXT records cannot fit in 512 octets\n%s" % m)

        # a CNAME chain into the big RRset: whatever is kept, it is whole RRsets
        _, csets = self.full_rrsets("cbig.inference.example.", "TXT")
        raw = harness.udp_exchange(self.port, make_query("cbig.inference.example.", "TXT"))
        self.assertLessEqual(len(raw), 512)
        m = Message.parse(raw)
        self.assertTrue(m.tc, str(m))
        self.assert_whole_rrsets(m, csets)

    def test_truncation_with_edns(self):
        _, sets = self.full_rrsets("medium.inference.example.", "A")
        self.assertEqual(sum(len(v) for v in sets.values()), 40)
        # medium (40 A records) needs more than 512 octets but fits 1232
        m = query(self.port, "medium.inference.example.", "A")
        self.assertTrue(m.tc, str(m))
        self.assertLessEqual(len(m.raw), 512)
        for payload, limit in ((1232, 1232), (4096, 1232), (1000, 1000)):
            m = query(self.port, "medium.inference.example.", "A", edns={"payload": payload})
            self.assertFalse(m.tc, str(m))
            self.assertEqual(len(m.answer), 40)
            self.assertLessEqual(len(m.raw), limit)
        # a payload below 512 counts as 512 (RFC 6891 6.2.5)
        m = query(self.port, "medium.inference.example.", "A", edns={"payload": 100})
        self.assertTrue(m.tc, str(m))
        self.assertLessEqual(len(m.raw), 512)
        self.assertIsNotNone(m.opt, "OPT survives truncation\n%s" % m)
        # big does not fit the 1232 octets we advertise, whatever the client says
        for payload in (1232, 4096, 65535):
            m = query(self.port, "big.inference.example.", "TXT", edns={"payload": payload})
            self.assertTrue(m.tc, str(m))
            self.assertLessEqual(len(m.raw), 1232)
            self.assertIsNotNone(m.opt)
            self.assert_whole_rrsets(m, self.full_rrsets("big.inference.example.", "TXT")[1])

    def test_tc_exactly_when_the_answer_does_not_fit(self):
        # For RRsets without optional data: TC=1 if and only if the complete response is larger
        # than the limit (512 without EDNS, else max(512, min(payload, 1232))).
        checked = 0
        for n in BOUNDARY_SIZES:
            name = "tb%d.inference.example." % n
            full_plain = len(query(self.port, name, "TXT", tcp=True).raw)
            full_edns = len(query(self.port, name, "TXT", tcp=True, edns=True).raw)
            m = query(self.port, name, "TXT")
            self.assertEqual(m.tc, full_plain > 512, "%s: %d octets in full\n%s" % (name, full_plain, m))
            self.assertLessEqual(len(m.raw), 512)
            payloads = {512, 1232, 4096, full_edns - 1, full_edns, full_edns + 1}
            payloads.update(range(512, 1233, 90))
            for payload in sorted(p for p in payloads if 0 < p < 65536):
                m = query(self.port, name, "TXT", edns={"payload": payload})
                limit = max(512, min(payload, 1232))
                self.assertEqual(m.tc, full_edns > limit, "%s payload %d: %d octets in full\n%s"
                                 % (name, payload, full_edns, m))
                self.assertLessEqual(len(m.raw), limit)
                if not m.tc:
                    self.assertEqual(len(m.answer), n)
                checked += 1
        self.assertGreater(checked, 100)

    def test_dig_retries_truncated_answer_over_tcp(self):
        for opts in (("+noedns",), ()):
            res = run_dig(self.port, "big.inference.example.", "TXT", *opts)
            self.assertTrue(res.truncated_warning, "dig saw TC and retried\n%s" % res)
            self.assertEqual(res.status, "NOERROR", str(res))
            self.assertNotIn("tc", res.flags, str(res))
            self.assertEqual(len(res.records("ANSWER", "TXT")), 60, str(res))
            self.assertIn("(TCP)", res.output)
        res = run_dig(self.port, "big.inference.example.", "TXT", "+ignore", "+noedns")
        self.assertIn("tc", res.flags, str(res))
        res = run_dig(self.port, "big.inference.example.", "TXT", "+tcp", tool="kdig")
        self.assertEqual(len(res.records("ANSWER", "TXT")), 60, str(res))

    # ---- TCP ----------------------------------------------------------------------------

    def test_tcp_pipelining_in_order(self):
        names = ["api", "www", "nope", "foo.wild", "big", "medium", "chain1", "foo.lab", "ns1",
                 "mx1"]
        queries = []
        for i in range(20):
            name = names[i % len(names)] + "." + ZONE_NAME
            qtype = "TXT" if name.startswith("big") else "A"
            qid = 0x6000 + i * 7
            queries.append((qid, name, make_query(name, qtype, qid=qid)))
        with harness.tcp_connect(self.port) as s:
            s.sendall(b"".join(tcp_frame(w) for _, _, w in queries))
            for qid, name, _ in queries:
                m = Message.parse(tcp_read_message(s))
                self.assertEqual(m.id, qid, "answers must come back in query order")
                self.assertEqual(m.questions[0][0], name)
                self.assertFalse(m.tc)
            # the connection is still usable afterwards
            s.sendall(tcp_frame(make_query(ZONE_NAME, "SOA", qid=1)))
            self.assertEqual(Message.parse(tcp_read_message(s)).id, 1)

    def test_tcp_pipelining_with_large_answers(self):
        # 300 queries whose answers are ~6 kB each: the server has to cope with a client that
        # writes faster than it reads
        count = 300
        data = b"".join(tcp_frame(make_query("big.inference.example.", "TXT", qid=i))
                        for i in range(count))
        with harness.tcp_connect(self.port, timeout=20) as s:
            sender = threading.Thread(target=s.sendall, args=(data,), daemon=True)
            sender.start()
            for i in range(count):
                m = Message.parse(tcp_read_message(s))
                self.assertEqual(m.id, i)
                self.assertEqual(len(m.answer), 60)
            sender.join(timeout=20)
            self.assertFalse(sender.is_alive())

    def test_tcp_query_split_across_writes(self):
        wire = tcp_frame(make_query("api.inference.example.", "A", qid=0x0101))
        with harness.tcp_connect(self.port) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(wire[:1])
            s.sendall(wire[1:9])
            s.sendall(wire[9:])
            m = Message.parse(tcp_read_message(s))
            self.assertEqual(m.id, 0x0101)
            self.assertRcode(m, "NOERROR")

    def test_idle_tcp_connection_closed(self):
        # tcp_idle_timeout is 2s: a silent connection is closed within timeout + 1s
        with harness.tcp_connect(self.port) as s:
            start = time.monotonic()
            closed = harness.connection_closed(s, timeout=3.0)
            elapsed = time.monotonic() - start
            self.assertTrue(closed, "idle connection still open after 3s")
            self.assertGreaterEqual(elapsed, 1.0, "closed much earlier than tcp_idle_timeout")
        # also after some traffic: the timer restarts at the last query
        with harness.tcp_connect(self.port) as s:
            s.sendall(tcp_frame(make_query("api.inference.example.", "A", qid=5)))
            self.assertEqual(Message.parse(tcp_read_message(s)).id, 5)
            start = time.monotonic()
            self.assertTrue(harness.connection_closed(s, timeout=3.0))
            self.assertLessEqual(time.monotonic() - start, 3.0)
        # A query late in the timeout moves the deadline: 1.5s + 1.5s without closing.
        with harness.tcp_connect(self.port) as s:
            s.sendall(tcp_frame(make_query("api.inference.example.", "A", qid=6)))
            self.assertEqual(Message.parse(tcp_read_message(s)).id, 6)
            self.assertFalse(harness.connection_closed(s, timeout=1.5), "closed before tcp_idle_timeout")
            s.sendall(tcp_frame(make_query("api.inference.example.", "A", qid=7)))
            self.assertEqual(Message.parse(tcp_read_message(s)).id, 7)
            self.assertFalse(harness.connection_closed(s, timeout=1.5),
                             "closed 1.5s after a query although tcp_idle_timeout is 2s")
            self.assertTrue(harness.connection_closed(s, timeout=2.0))


class ConnectionLimitTest(harness.E2ECase):

    def test_connections_beyond_limit_are_closed_when_none_is_idle(self):
        server = harness.Meridian(self, {ZONE_NAME: inference_zone()}, tcp_idle_timeout="30s",
                                  tcp_max_connections=8).start(self)
        # Every held connection is left with a query half sent: none is idle, so none may
        # be closed to make room, and new connections are refused. The half query goes in
        # the same segment as a whole one, so its answer shows the server has read both.
        held = []
        self.addCleanup(lambda: [c.close() for c in held])
        pending = [tcp_frame(make_query("www.inference.example.", "A", qid=100 + i)) for i in range(8)]
        for i in range(8):
            s = harness.tcp_connect(server.port)
            held.append(s)
            s.sendall(tcp_frame(make_query("api.inference.example.", "A", qid=i)) + pending[i][:3])
            self.assertEqual(Message.parse(tcp_read_message(s)).id, i)
        extra = []
        self.addCleanup(lambda: [c.close() for c in extra])
        for i in range(6):
            extra.append(harness.tcp_connect(server.port))
        for i, s in enumerate(extra):
            self.assertTrue(harness.connection_closed(s, timeout=2.0),
                            "connection %d beyond tcp_max_connections was not closed" % (i + 9))
        # the server still answers, over UDP and on the connections it kept
        self.assertRcode(query(server.port, "api.inference.example.", "A"), "NOERROR")
        for i, (s, frame) in enumerate(zip(held, pending)):
            s.sendall(frame[3:])
            self.assertEqual(Message.parse(tcp_read_message(s)).id, 100 + i)
        # once the held connections go away, new ones are served again
        for s in held:
            s.close()
        held.clear()

        def new_connection_served():
            try:
                return query(server.port, "api.inference.example.", "A", tcp=True, timeout=1).rcode == 0
            except (OSError, harness.ParseError):
                return False
        wait_until(new_connection_served, 10, message="a TCP answer after the flood")
        self.assertTrue(server.alive())


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def large_zone(records, serial, moved):
    """``records`` A records one per name, in file order, with h0 at ``moved``."""
    lines = ["$ORIGIN big.test.", "$TTL 300", "@ IN SOA ns1 hostmaster %d 3600 600 86400 300" % serial,
             "@ IN NS ns1", "ns1 IN A 192.0.2.1", "h0 IN A %s" % moved]
    lines += ["h%d IN A 198.18.%d.%d" % (i, (i >> 8) & 255, i & 255) for i in range(1, records)]
    return "\n".join(lines) + "\n"


class LargeZoneReloadTest(harness.E2ECase):
    """A reload builds the new zone beside the one being served. The records read are kept in
    columns, not one object each, so the process peaks under twice its memory; and once every
    thread serves the new zone, the old one's memory goes back to the system, reload after
    reload (the zones first loaded are not kept for the life of the process)."""

    RECORDS = 300_000

    def test_a_reload_peaks_under_twice_the_memory_and_gives_the_old_zone_back(self):
        server = harness.Meridian(self, {"big.test.": large_zone(self.RECORDS, 1, "192.0.2.100")}).start(self)
        pid = server.proc.pid
        self.assertEqual([x.text for x in query(server.port, "h299999.big.test.", "A").answer], ["198.18.147.223"])
        steady = status_kib(pid, "VmRSS")
        for serial in range(2, 5):
            moved = "192.0.2.%d" % (100 + serial)
            server.write_zone("big.test.", large_zone(self.RECORDS, serial, moved))
            before = status_kib(pid, "VmRSS")
            with open("/proc/%d/clear_refs" % pid, "w") as f:
                f.write("5")  # VmHWM starts again from the present RSS
            result = harness.run_dnsctl("--socket", server.socket_path, "reload")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            peak = status_kib(pid, "VmHWM")
            self.assertLess(peak, 2 * before, "reload %d peaked at %d KiB from %d KiB" % (serial, peak, before))
            self.assertEqual([x.text for x in query(server.port, "h0.big.test.", "A").answer], [moved])
            self.assertEqual([x.text for x in query(server.port, "h0.big.test.", "A", tcp=True).answer], [moved])
            # The old zone is gone once every thread took the new one (the reload waited for that).
            wait_until(lambda: status_kib(pid, "VmRSS") < steady * 1.15, 10,
                       message="the memory of the zone replaced by reload %d handed back (%d KiB, %d KiB before the first)"
                       % (serial, status_kib(pid, "VmRSS"), steady))


class LifecycleTest(harness.E2ECase):

    def soa_serial(self, server):
        m = query(server.port, ZONE_NAME, "SOA")
        return int(m.answer[0].text.split()[2])

    def test_sighup_reload_picks_up_new_serial(self):
        server = harness.Meridian(self, {ZONE_NAME: inference_zone()}).start(self)
        self.assertEqual(self.soa_serial(server), SERIAL)
        server.write_zone(ZONE_NAME, inference_zone(SERIAL + 1, "newname IN A 192.0.2.77"))
        server.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.soa_serial(server) == SERIAL + 1, 15, message="the new serial")
        m = query(server.port, "newname.inference.example.", "A")
        self.assertRcode(m, "NOERROR")
        self.assertEqual([x.text for x in m.answer], ["192.0.2.77"])
        self.assertTrue(server.alive())

    def test_sighup_adds_and_removes_zones(self):
        server = harness.Meridian(self, {ZONE_NAME: inference_zone()}).start(self)
        self.assertRcode(query(server.port, "other.test.", "SOA"), "REFUSED")
        server.write_zone("other.test.", OTHER_ZONE)
        server.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: query(server.port, "other.test.", "SOA").rcode == 0, 15,
                   message="the added zone")
        m = query(server.port, "ns.other.test.", "A")
        self.assertFlags(m, aa=True)
        self.assertEqual([x.text for x in m.answer], ["192.0.2.200"])
        os.unlink(server.zone_path("other.test."))
        server.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: query(server.port, "other.test.", "SOA").rcode == 5, 15,
                   message="REFUSED for the removed zone")
        self.assertRcode(query(server.port, "api.inference.example.", "A"), "NOERROR")

    def test_a_sighup_as_soon_as_dns_answers_is_not_lost(self):
        """SIGHUP is caught before the DNS ports open: a reload asked for the moment the server
        answers is carried out, and does not end the process (SIGHUP's default action)."""
        for attempt in range(3):
            server = harness.Meridian(self, {ZONE_NAME: inference_zone()})
            # The next serial waits beside the zone, to be moved in within microseconds.
            staged = server.zone_path(ZONE_NAME) + ".next"
            with open(staged, "w") as f:
                f.write(inference_zone(SERIAL + 1))
            server.start(self, wait=False)
            # As fast as the server can answer, not at the harness's polling pace.
            wait_until(lambda: server.answers(timeout=0.01) is not None, 30, interval=0.001,
                       message="the first answer")
            os.replace(staged, server.zone_path(ZONE_NAME))
            server.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: not server.alive() or self.soa_serial(server) == SERIAL + 1, 15,
                       message="the reload asked for at the first answer")
            self.assertTrue(server.alive(), server.log())
            server.stop()

    def test_sighup_with_broken_zone_keeps_old_data(self):
        server = harness.Meridian(self, {ZONE_NAME: inference_zone()}).start(self)
        broken = inference_zone(SERIAL + 5).replace("api  30 IN A    192.0.2.10",
                                                     "api  30 IN A    192.0.2.300")
        server.write_zone(ZONE_NAME, broken)
        server.proc.send_signal(signal.SIGHUP)
        pattern = re.compile(re.escape("inference.example.zone") + r":\d+:\d+: ")
        wait_until(lambda: pattern.search(server.log()), 15,
                   message="the reload error (FILE:LINE:COL) in the log")
        self.assertTrue(server.alive(), server.log())
        self.assertEqual(self.soa_serial(server), SERIAL)
        m = query(server.port, "api.inference.example.", "A")
        self.assertEqual([x.text for x in m.answer], ["192.0.2.10"])
        # a later good reload still works
        server.write_zone(ZONE_NAME, inference_zone(SERIAL + 6))
        server.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.soa_serial(server) == SERIAL + 6, 15, message="the fixed zone")

    def test_sigterm_exits_zero(self):
        server = harness.Meridian(self, {ZONE_NAME: inference_zone()},
                                  tcp_idle_timeout="60s").start(self)
        # an open, idle TCP connection must not hold up the shutdown
        idle = harness.tcp_connect(server.port)
        self.addCleanup(idle.close)
        idle.sendall(tcp_frame(make_query("api.inference.example.", "A", qid=9)))
        self.assertEqual(Message.parse(tcp_read_message(idle)).id, 9)
        start = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(timeout=10)
        self.assertEqual(code, 0, server.log())
        self.assertNotIn("ERROR", server.log())
        self.assertLess(time.monotonic() - start, 5, "SIGTERM should stop promptly")
        self.assertFalse(os.path.exists(server.socket_path), "control socket removed on exit")
        self.assertTrue(harness.connection_closed(idle, 1.0))

    def test_startup_with_broken_zone_exits_1(self):
        zone = inference_zone()
        lines = zone.split("\n")
        lines.insert(8, "broken  IN A   10.0.0.999")  # becomes line 9 of the file
        server = harness.Meridian(self, {ZONE_NAME: "\n".join(lines)})
        server.start(self, wait=False)
        code = server.proc.wait(timeout=30)
        log = server.log()
        self.assertEqual(code, 1, log)
        m = re.search(r"(\S*inference\.example\.zone):(\d+):(\d+): \S", log)
        self.assertIsNotNone(m, "expected FILE:LINE:COL: message on stderr:\n" + log)
        self.assertEqual(int(m.group(2)), 9, log)
        self.assertGreaterEqual(int(m.group(3)), 1)


if __name__ == "__main__":
    unittest.main()
