"""Differential test: Meridian and NSD serve the same zone; their answers must agree.

A few hundred queries (names x types, existing and missing names, with and without EDNS,
over UDP and TCP) go to both servers through the harness codec. For each pair we compare
the rcode, the AA and TC flags, the question (exactly, including case), EDNS presence and
version, and the answer/authority/additional sections as sets of
(owner lowercased, type, TTL, RDATA).

ANY is left out on purpose: Meridian answers ANY with one RRset (RFC 8482) while NSD returns
everything; ANY is covered in test_server.py.

Normalisations of the NSD side, each a documented policy difference and nothing more:

* NSD is run with ``minimal-responses: no`` so that it does additional-section processing
  for MX and SRV targets as Meridian does (with ``yes`` NSD drops it except for NS). The
  price is that NSD then also copies the zone's apex NS RRset into the authority section of
  positive answers, plus the addresses of those name servers into the additional section.
  That NS RRset is optional (RFC 2181 section 6.1; Meridian gives minimal responses), so
  ``normalise_nsd`` removes it, and removes from the additional section those A/AAAA
  records that were added only for it (owners that are apex NS targets but not targets of
  an NS/MX/SRV record in the answer section).

* CNAMEs into another zone: the lookup stops at a CNAME whose target lies outside the
  zone of the CNAME (in another zone this server also serves, or below a delegation).
  NSD restarts the lookup in whatever zone it has for the target (RFC 1034 4.3.2); Meridian,
  by design, chases only in-zone targets, as Knot DNS does. ``cross_zone_cname_ok`` accepts
  the difference only if Meridian's answer is exactly NSD's chain up to that CNAME, with
  the same rcode and flags; the sections after it are then not compared.

* Optional additional records that do not all fit (mxmany: 12 MX targets with A and AAAA,
  no EDNS): both servers leave some out without setting TC (RFC 2181 section 9), but
  NSD fills in all A records first while Meridian keeps whole A/AAAA pairs per target.
  ``optional_additional_ok`` then requires equal everything else, NSD's records to come from
  the full additional section and Meridian's to be whole RRsets of it (the full section is
  fetched from Meridian over TCP).

* Referrals whose in-bailiwick glue does not fit a UDP answer: NSD 4.6 packs as many glue
  records as fit and leaves TC clear; RFC 9471 (section 3) requires TC=1 when not all
  in-domain glue fits, which is what Meridian does. For exactly that case (referral over UDP,
  Meridian TC=1, NSD TC=0) ``glue_truncation_ok`` checks, instead of equality, that both
  have the same NS RRset, that NSD really dropped glue (so TC was due), and that Meridian's
  glue is made of whole RRsets taken from the full referral (fetched over TCP).
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import TYPES, type_code  # noqa: E402

ORIGIN = "diff.test."


def _big_txt(owner, count, size):
    return "\n".join('%s IN TXT "%s"' % (owner, "%03d" % i + "t" * (size - 3)) for i in range(count))


def _many_a(owner, count):
    return "\n".join("%s IN A 10.1.%d.%d" % (owner, i // 250, i % 250 + 1) for i in range(count))


def _big_delegation():
    lines = []
    for i in range(13):
        ns = "ns%02d.a-rather-long-label-for-name-servers.bigdel" % i
        lines.append("bigdel IN NS %s" % ns)
        lines.append("%s IN A 192.0.2.%d" % (ns, 150 + i))
        lines.append("%s IN AAAA 2001:db8:bd::%x" % (ns, i + 1))
    return "\n".join(lines)


# A child zone served by the same server, delegated from diff.test.: the server must answer
# from the deepest zone it has, except DS, which belongs to the parent side of the cut.
CHILD_ORIGIN = "hosted.diff.test."
CHILD_ZONE = r"""$ORIGIN hosted.diff.test.
$TTL 1800
@       IN SOA  ns1.hosted.diff.test. admin.hosted.diff.test. 42 3600 600 86400 900
@       IN NS   ns1
@       IN MX   5 mx.diff.test.
ns1     IN A    192.0.2.201
www     IN A    192.0.2.202
back    IN CNAME www.diff.test.
*.wc    IN AAAA 2001:db8::202
"""
PARENT_ADDITIONS = """
hosted          IN NS   ns1.hosted
ns1.hosted      IN A    192.0.2.201
mxhosted        IN MX   10 www.hosted
tohosted        IN CNAME www.hosted
cdel            IN CNAME host.child
""" + "\n".join("mxmany IN MX %d m%02d\nm%02d IN A 192.0.2.%d\nm%02d IN AAAA 2001:db8::%d"
               % (i, i, i, 210 + i, i, 210 + i) for i in range(1, 13)) + "\n"

ZONE = r"""$ORIGIN diff.test.
$TTL 3600
@               IN SOA  ns1 hostmaster ( 2024010101 7200 900 1209600 600 )
@               IN NS   ns1
@               IN NS   ns2.outside.example.
@               IN MX   10 mail
@               IN MX   20 mail2.outside.example.
@               IN TXT  "v=spf1 -all"
@               IN CAA  0 issue "ca.example.net"
@               IN CAA  0 iodef "mailto:security@diff.test"
ns1             IN A    192.0.2.1
ns1             IN AAAA 2001:db8::1
mail       300  IN A    192.0.2.25
mail       300  IN AAAA 2001:db8::25
www             IN A    192.0.2.80
www             IN AAAA 2001:db8::80
MiXeD           IN A    192.0.2.81
ttl        60   IN A    192.0.2.82
ttl        7200 IN TXT  "a different ttl"

; wildcards
*.wild          IN A    192.0.2.100
*.wild          IN TXT  "wildcard text"
explicit.wild   IN A    192.0.2.101
x.sub.wild      IN A    192.0.2.102     ; sub.wild is an empty non-terminal: it blocks *.wild
*.cwild         IN CNAME www
*.mxwild        IN MX   10 mail
*.mxwild        IN SRV  0 0 25 mail
*.deep.ent2     IN A    192.0.2.103     ; deep.ent2 and ent2 are empty non-terminals

; delegations
child           IN NS   ns1.child
child           IN NS   ns2.child
child           IN NS   ns.elsewhere.example.
ns1.child       IN A    192.0.2.53
ns2.child       IN AAAA 2001:db8::53
other           IN NS   ns.elsewhere.example.
other           IN NS   ns.other2.example.
%(bigdel)s

; CNAMEs
c1              IN CNAME c2
c2              IN CNAME c3
c3              IN CNAME www
ext             IN CNAME target.outside.example.
loopa           IN CNAME loopb
loopb           IN CNAME loopa
cw              IN CNAME foo.wild
cnx             IN CNAME doesnotexist
cmx             IN CNAME @
cbig            IN CNAME big

; empty non-terminals
a.b.c.ent       IN A    192.0.2.7

; big RRsets: big never fits 512 or 1232 octets, medium fits 1232 but not 512
%(big)s
%(medium)s

; MX / SRV with in-zone targets
mx              IN MX   10 mail
mx              IN MX   20 www
mx              IN MX   30 mail2.outside.example.
_sip._tcp       IN SRV  10 60 5060 sip
_sip._tcp       IN SRV  20 0 5060 sip.outside.example.
_sip._tcp       IN SRV  30 0 5061 www
sip             IN A    192.0.2.60
sip             IN AAAA 2001:db8::60

; assorted types
esc             IN TXT  "quote\"d" "semi;colon" "back\\slash" "\065\066C" "tab\009x" ""
multi           IN TXT  ( "part one"
                          "part two" )
caa             IN CAA  0 issuewild ";"
caa             IN CAA  128 tbs "Unknown"
sshfp           IN SSHFP 1 1 123456789abcdef67890123456789abcdef67890
sshfp           IN SSHFP 4 2 ( 0123456789abcdef0123456789abcdef
                               0123456789abcdef0123456789abcdef )
_443._tcp.www   IN TLSA 3 1 1 ( d2abde240d7cd3ee6b4b28c54df034b9
                                7983a1d16e8a410e4561cb106618e971 )
naptr           IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._tcp
naptr           IN NAPTR 102 10 "U" "E2U+sip" "!^.*$!sip:info@example.net!" .
generic         IN TYPE65000 \# 4 0a000001
generic         IN TYPE65000 \# 3 abcdef
ptr             IN PTR  www
dot\.inside     IN A    192.0.2.111
sp\032ace       IN TXT  "space in the owner name"
\@at            IN A    192.0.2.112
bin\000ary      IN A    192.0.2.113
cup             IN CNAME WWW.Diff.Test.

; master-file syntax variations
ttlfirst        120 IN A 192.0.2.120
classfirst      IN 121 A 192.0.2.121
noclass         122 A 192.0.2.122
lower           in a 192.0.2.123
units           1w2d3h4m5s IN TXT "ttl with units"
                IN A 192.0.2.124                 ; blank owner: same name, default TTL
atsign          IN CNAME @
v4mapped        IN AAAA ::ffff:192.0.2.125
zeros           IN AAAA 2001:0db8:0000:0000:0000:0000:0000:0001
$ORIGIN sub2.diff.test.
host            IN A 192.0.2.126
@               IN TXT "origin changed"
$ORIGIN diff.test.
$TTL 2h
later           IN A 192.0.2.127
hinfo           IN HINFO "PC" "Linux"
%(parent_additions)s
""" % {
    "parent_additions": PARENT_ADDITIONS,
    "big": _big_txt("big", 30, 100),
    "medium": _many_a("medium", 40),
    "bigdel": _big_delegation(),
}

# Names (relative to the origin, "@" for the apex) and the types asked for each.
COMMON_TYPES = ["A", "AAAA", "TXT", "MX", "NS", "SOA", "CNAME"]
NAMES = {
    "@": COMMON_TYPES + ["CAA", "SRV", "DS", "TYPE65000"],
    "ns1": COMMON_TYPES,
    "mail": ["A", "AAAA", "MX"],
    "www": COMMON_TYPES + ["PTR"],
    "mixed": ["A", "AAAA"],
    "MIXED": ["A"],
    "ttl": ["A", "TXT", "AAAA"],
    "nonexistent": ["A", "MX", "TXT"],
    "deep.nonexistent": ["A"],
    # wildcards
    "x.wild": ["A", "TXT", "AAAA", "MX", "CNAME"],
    "a.b.c.wild": ["A", "TXT"],
    "*.wild": ["A", "TXT", "AAAA"],
    "explicit.wild": ["A", "TXT", "AAAA"],
    "wild": ["A", "TXT"],
    "sub.wild": ["A", "TXT"],
    "y.sub.wild": ["A", "TXT"],
    "x.sub.wild": ["A", "TXT"],
    "foo.cwild": ["A", "AAAA", "CNAME", "MX", "TXT"],
    "q.mxwild": ["MX", "SRV", "A"],
    "z.deep.ent2": ["A", "TXT"],
    "deep.ent2": ["A"],
    "ent2": ["A"],
    "zz.ent2": ["A"],
    # delegations
    "child": ["A", "NS", "DS", "SOA", "MX"],
    "ns1.child": ["A", "AAAA"],
    "ns2.child": ["AAAA"],
    "host.child": ["A", "MX"],
    "a.b.host.child": ["TXT"],
    "other": ["NS", "A"],
    "www.other": ["A"],
    "bigdel": ["NS", "A"],
    "www.bigdel": ["A", "AAAA"],
    # CNAMEs
    "c1": ["A", "AAAA", "CNAME", "TXT", "MX"],
    "c2": ["A"],
    "c3": ["AAAA"],
    "ext": ["A", "CNAME"],
    "loopa": ["A", "CNAME"],
    "loopb": ["TXT"],
    "cw": ["A", "TXT", "AAAA"],
    "cnx": ["A", "CNAME"],
    "cmx": ["MX", "NS", "SOA"],
    "cbig": ["TXT", "A"],
    # empty non-terminals
    "ent": ["A", "TXT"],
    "c.ent": ["A"],
    "b.c.ent": ["A", "AAAA"],
    "a.b.c.ent": ["A", "AAAA"],
    "x.b.c.ent": ["A"],
    # big RRsets
    "big": ["TXT", "A"],
    "medium": ["A", "AAAA"],
    # MX / SRV
    "mx": ["MX", "A"],
    "_sip._tcp": ["SRV", "TXT"],
    "sip": ["A", "AAAA"],
    # assorted types
    "esc": ["TXT"],
    "multi": ["TXT"],
    "caa": ["CAA", "A"],
    "sshfp": ["SSHFP"],
    "_443._tcp.www": ["TLSA", "A"],
    "_tcp.www": ["A"],
    "naptr": ["NAPTR"],
    "generic": ["TYPE65000", "A"],
    "ptr": ["PTR"],
    "hinfo": ["HINFO"],
    # escaped and binary labels
    "dot\\.inside": ["A", "TXT"],
    "inside": ["A"],
    "sp\\032ace": ["TXT"],
    "\\@at": ["A"],
    "bin\\000ary": ["A"],
    "bin": ["A"],
    "cup": ["A", "CNAME"],
    # syntax variations
    "ttlfirst": ["A"],
    "classfirst": ["A"],
    "noclass": ["A"],
    "lower": ["A"],
    "units": ["TXT", "A"],
    "atsign": ["MX", "SOA"],
    "v4mapped": ["AAAA"],
    "zeros": ["AAAA"],
    "host.sub2": ["A"],
    "sub2": ["TXT", "A"],
    "later": ["A"],
    # the hosted child zone
    "hosted": ["SOA", "NS", "DS", "A", "MX"],
    "ns1.hosted": ["A"],
    "www.hosted": ["A", "AAAA"],
    "back.hosted": ["A"],
    "x.wc.hosted": ["AAAA", "A"],
    "nope.hosted": ["A"],
    "mxhosted": ["MX"],
    "tohosted": ["A"],
    "cdel": ["A", "CNAME"],
    "mxmany": ["MX"],
}

# Names outside the zone (REFUSED from both).
OUTSIDE = [("test.", "A"), ("outside.example.", "A"), ("diff.test.example.", "SOA"), (".", "NS"),
           ("xdiff.test.", "A")]

# Case-mangled spellings: the question must come back exactly as asked.
MIXED_CASE = [("WwW.DiFf.TeSt.", "A"), ("X.WILD.diff.TEST.", "TXT"), ("C1.Diff.Test.", "A"),
              ("HoSt.ChIlD.dIfF.tEsT.", "A"), ("NoNeXiStEnT.DIFF.test.", "A")]


def absolute(name):
    return ORIGIN if name == "@" else name + "." + ORIGIN


def all_questions():
    out = []
    for name, types in NAMES.items():
        for t in types:
            out.append((absolute(name), t))
    out += OUTSIDE + MIXED_CASE
    return out


# Transport variants: (label, tcp, edns)
VARIANTS = [
    ("udp", False, None),
    ("udp+edns", False, {"payload": 1232}),
    ("udp+edns4096", False, {"payload": 4096}),
    ("tcp", True, None),
]


APEXES = (ORIGIN, CHILD_ORIGIN)


def zone_of(name):
    """The origin of the deepest zone we serve that contains ``name`` (or None)."""
    name = name.lower()
    best = None
    for apex in APEXES:
        if name == apex or name.endswith("." + apex):
            if best is None or len(apex) > len(best):
                best = apex
    return best


def normalise_nsd(msg):
    """Remove the optional apex NS RRset NSD adds to positive answers (see module doc)."""
    auth_ns = [r for r in msg.authority if r.type == TYPES["NS"] and r.name.lower() in APEXES]
    positive = msg.rcode == 0 and msg.answer and msg.aa
    if not positive or not auth_ns or len(auth_ns) != len(msg.authority):
        return msg
    ns_targets = {r.text.lower() for r in auth_ns}
    msg.authority = []
    wanted = set()
    for r in msg.answer:
        if r.type in (TYPES["NS"], TYPES["MX"], TYPES["SRV"]):
            wanted.add(r.text.split()[-1].lower())
    msg.additional = [r for r in msg.additional
                      if not (r.type in (TYPES["A"], TYPES["AAAA"])
                              and r.name.lower() in ns_targets
                              and r.name.lower() not in wanted)]
    return msg


def below_cut(name):
    """True if ``name`` is at or below a delegation inside diff.test. (per the zone data)."""
    name = name.lower()
    cuts = ("child." + ORIGIN, "other." + ORIGIN, "bigdel." + ORIGIN, CHILD_ORIGIN)
    return any(name == c or name.endswith("." + c) for c in cuts)


def cross_zone_cname_ok(ours, theirs):
    """Meridian stops at a CNAME whose target is in another zone; NSD chases it (module doc)."""
    if ours.rcode != theirs.rcode or ours.aa != theirs.aa or ours.tc != theirs.tc:
        return False
    if not ours.answer or ours.answer[-1].type != TYPES["CNAME"]:
        return False
    n = len(ours.answer)
    if [r.key() for r in theirs.answer[:n]] != [r.key() for r in ours.answer]:
        return False
    if len(theirs.answer) <= n:
        return False
    last = ours.answer[-1]
    target = last.text.lower()
    owner_zone = zone_of(last.name)
    return zone_of(target) != owner_zone or (owner_zone == ORIGIN and below_cut(target))


def is_referral(msg):
    return (msg.rcode == 0 and not msg.aa and not msg.answer
            and any(r.type == TYPES["NS"] for r in msg.authority))


def rrsets(records):
    out = {}
    for r in records:
        out.setdefault((r.name.lower(), r.type), set()).add(r.key())
    return out


def glue_truncation_ok(ours, theirs, full):
    """See the module doc: RFC 9471 truncation of a referral whose glue does not fit."""
    if not (is_referral(ours) and is_referral(theirs) and is_referral(full)):
        return False
    if not ours.tc or theirs.tc or full.tc:
        return False
    if summary(ours)["authority"] != summary(theirs)["authority"]:
        return False
    full_glue = rrsets(full.additional)
    if rrsets(theirs.additional) == full_glue:
        return False  # NSD sent all the glue: Meridian had no reason to truncate
    for key, records in rrsets(ours.additional).items():
        if full_glue.get(key) != records:
            return False  # partial or foreign RRset in Meridian's additional section
    return True


def optional_additional_ok(ours, theirs, full):
    """Both dropped optional additional records to fit, but not the same ones (module doc)."""
    a, b = summary(ours), summary(theirs)
    for key in ("rcode", "aa", "tc", "question", "edns", "answer", "authority"):
        if a[key] != b[key]:
            return False
    if ours.tc or full.tc:
        return False
    full_sets = rrsets(full.additional)
    full_keys = set(r.key() for r in full.additional)
    if not all(r.key() in full_keys for r in theirs.additional):
        return False
    for key, records in rrsets(ours.additional).items():
        if full_sets.get(key) != records:
            return False
    return len(ours.additional) < len(full.additional)


def summary(msg):
    return {
        "rcode": msg.rcode_name,
        "aa": msg.aa,
        "tc": msg.tc,
        "question": msg.questions,
        "edns": None if msg.opt is None else msg.edns_version,
        "answer": sorted(r.key() for r in msg.answer),
        "authority": sorted(r.key() for r in msg.authority),
        "additional": sorted(r.key() for r in msg.additional),
    }


def diff_text(a, b, label_a="meridian", label_b="nsd"):
    lines = []
    for key in a:
        if a[key] == b[key]:
            continue
        if isinstance(a[key], list) and key != "question":
            only_a = [x for x in a[key] if x not in b[key]]
            only_b = [x for x in b[key] if x not in a[key]]
            lines.append("  %s:" % key)
            for x in only_a:
                lines.append("    only %-8s %s" % (label_a, " ".join(str(v) for v in x)))
            for x in only_b:
                lines.append("    only %-8s %s" % (label_b, " ".join(str(v) for v in x)))
        else:
            lines.append("  %s: %s=%r %s=%r" % (key, label_a, a[key], label_b, b[key]))
    return "\n".join(lines)


class DifferentialTest(harness.E2ECase):

    @classmethod
    def setUpClass(cls):
        zones = {ORIGIN: ZONE, CHILD_ORIGIN: CHILD_ZONE}
        cls.nsd = harness.NSD(cls, zones, minimal_responses=False)
        cls.nsd.start(cls)
        cls.meridian = harness.Meridian(cls, zones)
        cls.meridian.start(cls)

    def exchange(self, server, name, qtype, tcp, edns, qid):
        wire = harness.make_query(name, qtype, qid=qid, edns=edns)
        if tcp:
            return harness.tcp_query(server.port, wire, timeout=5)
        try:
            return harness.udp_query(server.port, wire, timeout=2)
        except OSError:
            # one retry for a lost datagram
            return harness.udp_query(server.port, wire, timeout=2)

    def compare_all(self, questions, variants):
        mismatches = []
        count = 0
        qid = 1000
        for name, qtype in questions:
            for label, tcp, edns in variants:
                qid = (qid + 1) & 0xFFFF
                ours = self.exchange(self.meridian, name, qtype, tcp, edns, qid)
                theirs = self.exchange(self.nsd, name, qtype, tcp, edns, qid)
                count += 1
                self.assertEqual(ours.id, qid)
                self.assertTrue(ours.qr)
                theirs = normalise_nsd(theirs)
                a, b = summary(ours), summary(theirs)
                if a != b and not tcp and ours.tc and is_referral(ours):
                    full = self.exchange(self.nsd, name, qtype, True, edns, qid)
                    if glue_truncation_ok(ours, theirs, full):
                        self.normalised.append(("glue", name))
                        continue
                if a != b and not tcp and optional_additional_ok(
                        ours, theirs, self.exchange(self.meridian, name, qtype, True, edns, qid)):
                    self.normalised.append(("additional", name))
                    continue
                if a != b and cross_zone_cname_ok(ours, theirs):
                    self.normalised.append(("cname", name))
                    continue
                if a != b:
                    mismatches.append("%s %s (%s):\n%s" % (name, qtype, label, diff_text(a, b)))
        return count, mismatches

    def test_differential_all_names_and_types(self):
        self.normalised = []
        count, mismatches = self.compare_all(all_questions(), VARIANTS)
        # the normalisations must stay narrow: only these names may need them
        allowed = {
            "glue": {"bigdel." + ORIGIN, "www.bigdel." + ORIGIN},
            "cname": {"back." + CHILD_ORIGIN, "tohosted." + ORIGIN, "cdel." + ORIGIN},
            "additional": {"mxmany." + ORIGIN},
        }
        for reason, name in self.normalised:
            self.assertIn(name, allowed[reason], "unexpected %s normalisation" % reason)
        self.assertGreaterEqual(count, 300)
        if mismatches:
            self.fail("%d of %d responses differ from NSD:\n\n%s"
                      % (len(mismatches), count, "\n\n".join(mismatches)))

    def test_some_answers_truncate_without_edns(self):
        # The zone is built so that the comparison covers truncation at all.
        big = harness.query(self.meridian.port, "big." + ORIGIN, "TXT")
        self.assertTrue(big.tc, str(big))
        medium = harness.query(self.meridian.port, "medium." + ORIGIN, "A")
        self.assertTrue(medium.tc, str(medium))
        medium_edns = harness.query(self.meridian.port, "medium." + ORIGIN, "A",
                                    edns={"payload": 1232})
        self.assertFalse(medium_edns.tc, str(medium_edns))
        self.assertEqual(len(medium_edns.answer), 40)
        full = harness.query(self.meridian.port, "big." + ORIGIN, "TXT", tcp=True)
        self.assertFalse(full.tc)
        self.assertEqual(len(full.answer), 30)


if __name__ == "__main__":
    unittest.main()
