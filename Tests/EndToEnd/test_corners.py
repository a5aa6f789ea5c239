"""Protocol corners, Meridian beside NSD and Knot DNS on the same zone.

Every query class, the meta and obsolete query types (AXFR and IXFR over UDP and TCP,
MAILA, MAILB, OPT, TYPE0, ANY, RRSIG and NSEC on an unsigned zone), the header bits (RD, CD,
AD, Z) and malformed EDNS (two OPT records, OPT with a non-root owner, options with bad
lengths) go to the three servers over UDP and TCP. Each response is reduced to rcode,
flags, question, section contents and whether it has an OPT record.

* Where NSD and Knot agree, Meridian must give the same, except where an RFC says
  otherwise; those cases are listed in RFC_DIFFERENCES with the section.
* Where they disagree, Meridian must give what one of them gives; the choice and why is in
  CHOSEN.
"""

import os
import socket
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import FLAG_AD, FLAG_CD, FLAG_RD, Message, encode_name, header, opt_rr  # noqa: E402

ORIGIN = "corner.test."
ZONE = """$ORIGIN corner.test.
$TTL 3600
@    IN SOA ns1 hostmaster 1 7200 900 1209600 600
@    IN NS  ns1
ns1  IN A   192.0.2.1
www  IN A   192.0.2.80
www  IN TXT "hello"
sub  IN NS  ns.sub
ns.sub IN A 192.0.2.53
"""
WWW = "www." + ORIGIN


def query(name, qtype="A", qclass=1, flags=0, edns=None, additional=()):
    code = harness.type_code(qtype) if isinstance(qtype, str) else qtype
    records = ([opt_rr(**edns)] if edns is not None else []) + list(additional)
    return (header(0x4242, flags, 1, 0, 0, len(records)) + encode_name(name) + struct.pack("!HH", code, qclass)
            + b"".join(records))


def raw_opt(rdata, owner=b"\x00"):
    return owner + struct.pack("!HHIH", 41, 1232, 0, len(rdata)) + rdata


CASES = {}
for class_name, code in (("IN", 1), ("CH", 3), ("HS", 4), ("NONE", 254), ("ANY", 255), ("CLASS99", 99)):
    CASES["class %s, www A" % class_name] = query(WWW, "A", qclass=code)
    CASES["class %s, outside A" % class_name] = query("www.example.", "A", qclass=code)
CASES["class ANY, NXDOMAIN"] = query("nope." + ORIGIN, "A", qclass=255)
CASES["class ANY, QTYPE ANY"] = query(WWW, "ANY", qclass=255)
for qtype in ("AXFR", "IXFR", "MAILB", "MAILA", "OPT", 0, "ANY", "RRSIG", "NSEC", "DS"):
    label = qtype if isinstance(qtype, str) else "TYPE%d" % qtype
    CASES["%s, www" % label] = query(WWW, qtype)
    CASES["%s, www, EDNS" % label] = query(WWW, qtype, edns={})
CASES["AXFR, apex"] = query(ORIGIN, "AXFR")
CASES["IXFR, apex"] = query(ORIGIN, "IXFR")
CASES["AXFR, outside"] = query("www.example.", "AXFR")
CASES["IXFR, outside"] = query("www.example.", "IXFR")
CASES["AXFR, below a delegation"] = query("x.sub." + ORIGIN, "AXFR")
CASES["MAILA, apex"] = query(ORIGIN, "MAILA")
CASES["OPT, NXDOMAIN"] = query("nope." + ORIGIN, "OPT")
CASES["RD"] = query(WWW, flags=FLAG_RD)
CASES["CD"] = query(WWW, flags=FLAG_CD)
CASES["AD"] = query(WWW, flags=FLAG_AD)
CASES["AD, EDNS"] = query(WWW, flags=FLAG_AD, edns={})
CASES["Z"] = query(WWW, flags=0x0040)
CASES["DO"] = query(WWW, edns={"do": True})
CASES["two OPT"] = query(WWW, additional=[opt_rr(), opt_rr()])
CASES["OPT owner not root"] = query(WWW, additional=[raw_opt(b"", owner=b"\x03www\x00")])
CASES["option longer than the OPT"] = query(WWW, additional=[raw_opt(struct.pack("!HH", 10, 8))])
CASES["option header cut short"] = query(WWW, additional=[raw_opt(b"\x00\x0a")])
CASES["Client Subnet too short"] = query(WWW, additional=[raw_opt(struct.pack("!HH", 8, 1) + b"\x00")])
CASES["COOKIE of 5 octets"] = query(WWW, additional=[raw_opt(struct.pack("!HH", 10, 5) + b"abcde")])
CASES["EDNS version 1"] = query(WWW, edns={"version": 1})
CASES["OPT in the answer section"] = (header(0x4242, 0, 1, 1, 0, 0) + encode_name(WWW) + struct.pack("!HH", 1, 1)
                                      + opt_rr())

# Where NSD and Knot agree and an RFC says otherwise.
RFC_DIFFERENCES = {
    # RFC 4035 section 3.1.6: "The CD bit MUST be copied from the query to the response";
    # neither NSD nor Knot copies it on an unsigned zone.
    "CD": "RFC 4035 3.1.6",
    # RFC 7873 section 5.2.2: a COOKIE option of an impossible length is FORMERR; NSD and
    # Knot (without its cookies module) ignore it.
    "COOKIE of 5 octets": "RFC 7873 5.2.2",
    # RFC 7871 section 7.1.1: a Client Subnet option that cannot be parsed is FORMERR; NSD
    # and Knot (without its geoip module) do not read the option at all.
    "Client Subnet too short": "RFC 7871 7.1.1",
}

# Where NSD and Knot disagree: which one Meridian follows, and why.
CHOSEN = {
    # Refusals and FORMERR: NSD sends no question back; Knot (and Meridian) echo it,
    # which is what RFC 1035 4.1.1 and 7.3 expect of a response to a parsable question.
    **{"class %s, %s" % (c, w): "knot" for c in ("CH", "HS", "NONE", "CLASS99")
       for w in ("www A", "outside A")},
    "two OPT": "knot", "option longer than the OPT": "knot", "option header cut short": "knot",
    "OPT in the answer section": "knot",
    # QCLASS ANY: both answer from the IN data; Knot sets AA and gives the SOA for negative
    # answers, NSD does neither. Meridian is authoritative for that data, as Knot says.
    "class ANY, www A": "knot", "class ANY, outside A": "either", "class ANY, NXDOMAIN": "knot",
    "class ANY, QTYPE ANY": "knot",
    # A transfer of a zone we serve: NSD says REFUSED (a policy refusal: no transfers are
    # allowed), Knot NOTAUTH. Meridian allows no transfers to anyone: REFUSED.
    "AXFR, apex": "nsd", "IXFR, apex": "nsd",
    # TYPE0: NSD answers NODATA like any unknown type, Knot NOTIMP; RFC 6895 3.1 reserves
    # the value but gives no rule, so it is an unknown type like others.
    "TYPE0, www": "nsd", "TYPE0, www, EDNS": "nsd",
    # OPT with a non-root owner: RFC 6891 6.1.2 says the owner MUST be 0; NSD says FORMERR,
    # Knot ignores the owner. Meridian follows the RFC, with Knot's echoed question.
    "OPT owner not root": "formerr",
}


def summary(data):
    if data is None:
        return "no answer"
    try:
        m = Message.parse(data)
    except harness.ParseError as error:
        return "unparsable (%s)" % error
    flags = tuple(name for name, bit in (("aa", 0x0400), ("tc", 0x0200), ("rd", FLAG_RD), ("cd", FLAG_CD),
                                         ("ad", FLAG_AD), ("z", 0x0040)) if m.flags & bit)
    return (m.rcode_name, flags, tuple(m.questions), tuple(sorted(r.key() for r in m.answer)),
            tuple(sorted(r.key() for r in m.authority)), tuple(sorted(r.key() for r in m.additional)),
            m.opt is not None)


def ask(port, wire, tcp):
    try:
        if tcp:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(struct.pack("!H", len(wire)) + wire)
                return harness.tcp_read_message(s)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1.0)
            for _ in range(2):
                s.sendto(wire, ("127.0.0.1", port))
                try:
                    return s.recvfrom(65535)[0]
                except socket.timeout:
                    continue
    except (OSError, ConnectionError):
        return None
    return None


class CornerCaseTest(harness.E2ECase):

    def test_corners_against_nsd_and_knot(self):
        zones = {ORIGIN: ZONE}
        nsd = harness.NSD(self, zones).start(self)
        knot = harness.Knot(self, zones).start(self)
        meridian = harness.Meridian(self, zones).start(self)
        agree = by_rfc = chosen = 0
        problems = []
        for label, wire in CASES.items():
            for tcp in (False, True):
                where = "%s (%s)" % (label, "tcp" if tcp else "udp")
                ours, theirs_nsd, theirs_knot = (summary(ask(s.port, wire, tcp)) for s in (meridian, nsd, knot))
                if theirs_nsd == theirs_knot:
                    if label in RFC_DIFFERENCES:
                        if ours == theirs_nsd:
                            problems.append("%s: expected to differ (%s) but matches" % (where, RFC_DIFFERENCES[label]))
                        by_rfc += 1
                    elif ours == theirs_nsd:
                        agree += 1
                    else:
                        problems.append("%s: NSD and Knot agree\n  both     %s\n  meridian %s" % (where, theirs_nsd, ours))
                    continue
                choice = CHOSEN.get(label)
                expected = {"nsd": [theirs_nsd], "knot": [theirs_knot], "either": [theirs_nsd, theirs_knot]}.get(choice)
                if choice == "formerr":
                    ok = ours != "no answer" and ours[0] == "FORMERR"
                else:
                    ok = expected is not None and ours in expected
                if ok:
                    chosen += 1
                else:
                    problems.append("%s: NSD and Knot disagree (choice: %s)\n  nsd      %s\n  knot     %s\n  meridian %s"
                                    % (where, choice, theirs_nsd, theirs_knot, ours))
        print("\nprotocol corners: %d responses; %d as NSD and Knot both, %d differ by RFC (%s), %d where they "
              "disagree follow the chosen one" % (agree + by_rfc + chosen + len(problems), agree, by_rfc,
                                                   ", ".join(sorted(set(RFC_DIFFERENCES.values()))), chosen),
              file=sys.stderr)
        self.assertEqual(problems, [], "\n".join(problems))
        self.assertTrue(meridian.alive())


if __name__ == "__main__":
    unittest.main()
