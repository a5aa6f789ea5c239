"""Record types beyond the everyday ones, read from a zone file as BIND reads them.

A corpus zone holds every type added for zone files that BIND, NSD and Knot accept, written
with escapes, parentheses, comments, mnemonics and RFC 3597 generic RDATA. BIND's
``named-compilezone`` is the reference: its canonical text of the corpus must equal what
``dnsctl dump-zone`` prints, and what ``dig`` prints from Meridian's answers must equal it too,
which checks the wire form the server sends with BIND's own decoder. NSD serves the same
corpus as a second reference: the RDATA octets of every answer must be the same as NSD's.

Presentation details that legitimately differ are normalised on both sides before comparing:
BIND breaks long base64 and hex fields into blank-separated chunks (the chunks are joined),
and BIND 9.18 does not know the dohpath SvcParamKey yet, so it prints it as ``key7`` (renamed).
Owners are lower-cased and blanks between fields collapsed; nothing else is changed.
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

ORIGIN = "types.test."

CORPUS = r"""$ORIGIN types.test.
$TTL 3600
@           IN SOA  ns1 hostmaster 2026120201 7200 900 1209600 300
            IN NS   ns1
ns1         IN A    192.0.2.1
; Contacts and services
@           RP      john\.doe.example.com. contact  ; a mailbox with a dot in its local part
contact     TXT     "call John"
@           MINFO   owner-list.example.com. errors
@           AFSDB   1 afsdb1.example.com.
@           AFSDB   2 AFSDB2
kx          KX      10 kx1.example.com.
rt          RT      10 relay.example.com.
            RT      20 relay2
_ftp._tcp   URI     10 1 "ftp://ftp1.example.com/public"
_http._tcp  URI     ( 1 0
                      "https://example.com/a\"b\065" )
; DNSSEC material
@           DNSKEY  256 3 8 ( AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbz
                              xeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8O
                              g8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBx
                              WezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7
                              pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzu
                              DWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn
                              6UwNR1AkUTV74bU= ) ; ZSK
@           DNSKEY  257 3 ECDSAP256SHA256 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
@           DNSKEY  \# 8 0100 03 0f 01020304
; CDS and CDNSKEY away from the apex: BIND checks apex ones against the DNSKEYs.
child       CDNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=
child       CDS     60485 5 1 ( 2BB183AF5F225881
                                79A53B0A98631FAD1A292118 )
child       CDS     0 0 0 00
sub         NS      ns.elsewhere.example.
sub         DS      60485 RSASHA1 1 2bb183af5f22588179a53b0a 98631fad1a292118
sub         DS      12345 13 2 ( 0123456789ABCDEF0123456789ABCDEF
                                 0123456789ABCDEF0123456789ABCDEF )
@           RRSIG   SOA 8 2 3600 20360101000000 20351201000000 12345 types.test. dGVzdCBzaWduYXR1cmU=
www         RRSIG   TYPE65534 13 3 300 2082758400 2080080000 1 @ ( AAAA
                    BBBB )
@           NSEC    www.types.test. A NS SOA RRSIG NSEC DNSKEY TYPE1234
www         NSEC    \000.www.types.test. A AAAA RRSIG NSEC
2vptu5timamqttgl4luu9kg21e0aor3s NSEC3 1 1 12 aabbccdd ( 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S
                                 A RRSIG )
35mthgpgcu1qg68fab165klnsnk3dpvl NSEC3 1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR
@           NSEC3PARAM 1 0 12 aabbccdd
@           CSYNC   2026120201 3 A NS AAAA
@           CSYNC   66 0
@           ZONEMD  2026120201 1 1 ( FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE
                                     7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE )
; Keys and certificates for applications
_25._tcp    SMIMEA  3 1 1 ( 0123456789abcdef0123456789abcdef
                            0123456789abcdef0123456789abcdef )
abc._openpgpkey OPENPGPKEY mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq
cert        CERT    PGP 0 0 dGVzdA==
cert        CERT    1 12345 RSASHA256 ( dGVz
                                        dA== )
cert        CERT    IACPKIX 65535 253 dGVzdCBjZXJ0
cert        CERT    65534 1 DH AAAA
host        DHCID   ( AAIBY2/AuCccgoJbsaxcQc9TUapptP69
                      lOjxfNuVAA2kjEA= )
ipsec       IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
ipsec       IPSECKEY 10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
ipsec       IPSECKEY 10 2 2 2001:0DB8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
ipsec       IPSECKEY ( 10 3 2 gw
                       AQNRU3mG )
; Hardware and ILNP
eui         EUI48   00-00-5E-00-53-2A
eui         EUI64   00-00-5e-ef-10-00-00-2a
eui         TYPE108 \# 6 00005e00532b
ilnp        NID     10 0014:4fff:ff20:ee64
ilnp        NID     20 0015:5fff:ff21:ee65
ilnp        L32     10 10.1.2.0
ilnp        L64     10 2001:0DB8:1140:1000
ilnp        LP      10 l64-subnet1.example.com.
; Locations and address lists
loc         LOC     52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
loc         LOC     42 21 54 N 71 06 18 W -24m 30m
loc         LOC     ( 42 N 71 W 1500 1500m
                      2.5 0.15 )
loc         LOC     90 S 180 E 42849672.95 90000000 0 0
loc         TYPE29  \# 16 00121613800000017FC9118100000000
apl         APL     1:192.168.32.0/21 !1:192.168.38.0/28
apl         APL     1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8 !2:2001:db8::/32 1:0.0.0.0/0
; Service bindings
alias       HTTPS   0 svc
svc         HTTPS   1 . alpn=h3,h2 ipv4hint=192.0.2.1,192.0.2.2 ech=AEX+DQBBpQAgACBk7v1P ipv6hint=2001:db8::1
svc         HTTPS   2 pool.svc ( mandatory=alpn,port alpn="h2" port=8443
                                 no-default-alpn )
svc         SVCB    1 doh.types.test. alpn=h2 dohpath=/dns-query{?dns} key65000 key65001="x\ y"
svc         SVCB    3 . key3=53 key667="hello\210qoo"
svc         SVCB    16 foo.example.org. alpn="f\\\\oo\\,bar,h2"
svc         SVCB    \# 3 000100
doh         A       192.0.2.3
"""

# NSD 4.6 reads RRSIG times only as YYYYMMDDHHmmSS. For the comparison of served octets, it
# also takes `key3=53` as port 53 where RFC 9460 section 2.1 and BIND take the value as the
# octets "53", and lower-cases the names in AFSDB RDATA where BIND and Meridian keep their case.
NSD_CORPUS = CORPUS.replace("2082758400 2080080000", "20360101000000 20351201000000")

# Types whose last field is base64 or hex that BIND splits into chunks: the number of fields
# before that one.
CHUNKED_TAIL = {
    "DNSKEY": 3, "CDNSKEY": 3, "RRSIG": 8, "DS": 3, "CDS": 3, "ZONEMD": 3, "TLSA": 3,
    "SMIMEA": 3, "SSHFP": 2, "OPENPGPKEY": 0, "DHCID": 0, "CERT": 3, "IPSECKEY": 4,
}

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\S+')


def canonical(owner, ttl, rtype, rdata):
    tokens = TOKEN.findall(rdata)
    rtype = rtype.upper()
    if rtype in CHUNKED_TAIL and len(tokens) > CHUNKED_TAIL[rtype]:
        keep = CHUNKED_TAIL[rtype]
        tokens = tokens[:keep] + ["".join(tokens[keep:])]
    if rtype in ("SVCB", "HTTPS"):
        tokens = [re.sub(r"^key7=", "dohpath=", t) for t in tokens]
    return (owner.lower(), int(ttl), rtype, " ".join(tokens))


def parse_presentation(text):
    """Records of master-file text with one record per line and absolute owners."""
    records = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        parts = line.split(None, 4)
        owner, ttl, klass, rtype = parts[:4]
        if klass.upper() != "IN":
            raise AssertionError("unexpected class in %r" % line)
        records.append(canonical(owner, ttl, rtype, parts[4] if len(parts) > 4 else ""))
    return sorted(records)


def generic_records(text):
    """Records printed by ``dig +unknownformat``: RDATA as one string of hex octets."""
    records = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        owner, ttl, _, rtype, rdata = line.split(None, 4)
        marker, length, *digits = rdata.split()
        if marker != "\\#":
            raise AssertionError("not in the generic form: %r" % line)
        octets = "".join(digits).lower()
        if len(octets) != 2 * int(length):
            raise AssertionError("length does not match: %r" % line)
        records.append((owner.lower(), int(ttl), rtype.upper(), octets))
    return sorted(records)


class RecordTypesAgainstBIND(harness.E2ECase):
    @classmethod
    def setUpClass(cls):
        cls.compilezone = shutil.which("named-compilezone")
        if cls.compilezone is None:
            raise AssertionError("named-compilezone is not installed (Debian package bind9-utils)")

    def setUp(self):
        self.workdir = harness.make_tempdir(self)
        self.zone_file = os.path.join(self.workdir, "types.test.zone")
        with open(self.zone_file, "w") as f:
            f.write(CORPUS)

    def bind_records(self):
        # -i none: no integrity checks of glue and delegations; -k ignore: NSEC3 owners
        # are not host names. -q would hide why a load failed, so stderr is kept.
        proc = subprocess.run([self.compilezone, "-i", "none", "-k", "ignore", "-f", "text", "-F", "text",
                               "-o", "-", ORIGIN, self.zone_file],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        output = proc.stdout.decode()
        self.assertEqual(proc.returncode, 0, "named-compilezone failed:\n%s\n%s" % (output, proc.stderr.decode()))
        # Everything after the zone text is named-compilezone's own report.
        zone_text = output.split("zone %s/IN: loaded" % ORIGIN.rstrip("."))[0]
        return parse_presentation(zone_text)

    def dump_records(self):
        result = harness.run_dnsctl("dump-zone", self.zone_file, "--origin", ORIGIN)
        self.assertEqual(result.returncode, 0, str(result))
        return parse_presentation(result.stdout)

    def test_dump_zone_prints_what_bind_reads(self):
        bind = self.bind_records()
        ours = self.dump_records()
        new_types = {r[2] for r in bind} - {"SOA", "NS", "A", "TXT"}
        self.assertEqual(len(new_types), 31, sorted(new_types))
        only_bind = sorted(set(bind) - set(ours))
        only_ours = sorted(set(ours) - set(bind))
        equal = len(set(bind) & set(ours))
        print("\nnamed-compilezone comparison: %d records, %d equal, %d only in BIND, %d only in dump-zone"
              % (len(bind), equal, len(only_bind), len(only_ours)), file=sys.stderr)
        self.assertEqual((only_bind, only_ours), ([], []))
        self.assertEqual(len(bind), len(ours))

    def test_dump_zone_output_reads_back(self):
        first = harness.run_dnsctl("dump-zone", self.zone_file, "--origin", ORIGIN)
        self.assertEqual(first.returncode, 0, str(first))
        dumped = os.path.join(self.workdir, "dumped.zone")
        with open(dumped, "w") as f:
            f.write(first.stdout)
        second = harness.run_dnsctl("dump-zone", dumped, "--origin", ORIGIN)
        self.assertEqual(second.returncode, 0, str(second))
        self.assertEqual(second.stdout, first.stdout)

    def test_served_records_decode_as_bind_reads_them(self):
        bind = self.bind_records()
        server = harness.Meridian(self, {ORIGIN: CORPUS}).start(self)
        rrsets = sorted({(owner, rtype) for owner, _, rtype, _ in bind if rtype not in ("SOA", "NS", "DS")})
        # DS lives at the delegation, answered by the parent side like any other data here.
        rrsets.append(("sub.types.test.", "DS"))
        compared = 0
        for owner, rtype in rrsets:
            answer = harness.run_dig(server.port, owner, rtype, "+tcp", "+noall", "+answer", "+nocomments")
            self.assertEqual(answer.returncode, 0, str(answer))
            served = parse_presentation(answer.output)
            expected = [r for r in bind if r[0] == owner and r[2] == rtype]
            self.assertEqual(served, expected, "%s %s\n%s" % (owner, rtype, answer))
            compared += len(served)
        self.assertEqual(compared, len([r for r in bind if r[2] not in ("SOA", "NS")]))

    def test_nsd_and_knot_read_the_corpus(self):
        # The types are those BIND, NSD and Knot all read: NSD 4.6 wants RRSIG times as
        # YYYYMMDDHHmmSS, and Knot 3.2 does not know dohpath (RFC 9461) yet.
        checks = (("nsd-checkzone", [ORIGIN], NSD_CORPUS),
                  # -d off: the keys are not real, so Knot's DNSSEC checks would fail.
                  ("kzonecheck", ["-d", "off", "-o", ORIGIN], CORPUS.replace(" dohpath=/dns-query{?dns}", "")))
        for tool, arguments, corpus in checks:
            executable = shutil.which(tool) or shutil.which(tool, path="/usr/sbin")
            self.assertIsNotNone(executable, "%s is not installed" % tool)
            path = os.path.join(self.workdir, tool + ".zone")
            with open(path, "w") as f:
                f.write(corpus)
            proc = subprocess.run([executable] + arguments + [path], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=60)
            self.assertEqual(proc.returncode, 0, "%s:\n%s" % (tool, proc.stdout.decode()))
            self.assertNotIn("error", proc.stdout.decode().lower(), tool)

    def test_served_wire_matches_nsd(self):
        corpus = NSD_CORPUS.replace("key3=53", "port=53").replace("AFSDB2", "afsdb2")
        meridian = harness.Meridian(self, {ORIGIN: corpus}).start(self)
        nsd = harness.NSD(self, {ORIGIN: corpus}).start(self)
        # NSD answers a query at an NSEC3 owner as if the name did not exist (RFC 5155 section
        # 7.2.8); Meridian does not sign zones and serves NSEC3 records as plain data.
        rrsets = sorted({(owner, rtype) for owner, _, rtype, _ in self.bind_records()
                         if rtype not in ("SOA", "NS", "NSEC3")})
        compared = 0
        for owner, rtype in rrsets:
            answers = []
            for server in (meridian, nsd):
                answer = harness.run_dig(server.port, owner, rtype, "+tcp", "+noall", "+answer", "+unknownformat")
                self.assertEqual(answer.returncode, 0, str(answer))
                answers.append(generic_records(answer.output))
            self.assertEqual(answers[0], answers[1], "%s %s: Meridian's RDATA octets, then NSD's" % (owner, rtype))
            self.assertTrue(answers[0], "%s %s: no answer" % (owner, rtype))
            compared += len(answers[0])
        self.assertEqual(compared, 61)

    def test_names_in_new_types_are_not_compressed(self):
        server = harness.Meridian(self, {ORIGIN: CORPUS}).start(self)
        # The owner and the SOA name ahead of these in the message would make any of them
        # compressible; each must still appear in full.
        for owner, rtype, target in (("types.test.", "TYPE18", b"\x06AFSDB2\x05types\x04test\x00"),
                                     ("ipsec.types.test.", "TYPE45", b"\x02gw\x05types\x04test\x00"),
                                     ("svc.types.test.", "HTTPS", b"\x04pool\x03svc\x05types\x04test\x00"),
                                     ("types.test.", "TYPE17", b"\x07contact\x05types\x04test\x00")):
            response = self.raw_udp(server.port, harness.make_query(owner, rtype))
            self.assertIn(target, response, "%s %s: the name is written out in full" % (owner, rtype))

    @staticmethod
    def raw_udp(port, wire):
        import socket
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(5)
            sock.sendto(wire, ("127.0.0.1", port))
            data, _ = sock.recvfrom(65535)
        return data


if __name__ == "__main__":
    unittest.main()
