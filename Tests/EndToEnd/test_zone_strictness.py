"""Zone-file strictness against BIND, NSD and Knot.

A corpus of small zone files with questionable constructs (nested parentheses, bad
escapes, overlong labels and strings, wrong generic RDATA, misplaced SOA records, unknown
directives and so on) is checked by named-checkzone, nsd-checkzone and kzonecheck and read by
`dnsctl dump-zone`. What all three reject, Meridian rejects, with FILE:LINE:COL; what all
three accept, Meridian accepts, except where STRICTER says why not.
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

HEAD = "$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n"
CASES = {
 "nested parens": "x MX ( 10 ( mail ) )\n",
 "unclosed quote": 'x TXT "abc\n',
 "quote spans lines in parens": 'x TXT ( "abc\ndef" )\n',
 "label 64": "%s A 192.0.2.2\n" % ("a"*64),
 "name 256": ".".join(["a"*63]*4) + " A 192.0.2.2\n",
 "escape 256": "x\\256 A 192.0.2.2\n",
 "escape short": "x\\25 A 192.0.2.2\n",
 "ttl 2^31": "x 2147483648 A 192.0.2.2\n",
 "ttl 2^32": "x 4294967296 A 192.0.2.2\n",
 "class CH record": "x CH A 192.0.2.2\n",
 "class mismatch TXT CH": "x CH TXT \"a\"\n",
 "unknown directive": "$FOO bar\n",
 "$TTL no value": "$TTL\n",
 "$ORIGIN relative": "$ORIGIN sub\nx A 192.0.2.2\n",
 "$ORIGIN outside": "$ORIGIN other.test.\nx A 192.0.2.2\n",
 "A with extra field": "x A 192.0.2.2 3\n",
 "A octet 256": "x A 192.0.2.256\n",
 "A short": "x A 192.0.2\n",
 "A leading zero": "x A 192.0.02.1\n",
 "AAAA bad": "x AAAA 2001:db8:::1\n",
 "MX no target": "x MX 10\n",
 "MX pref 65536": "x MX 65536 mail\n",
 "TXT unquoted long 256": "x TXT " + "a"*256 + "\n",
 "TXT quoted 256": 'x TXT "' + "a"*256 + '"\n',
 "generic wrong length": "x TYPE65000 \\# 3 0a0000\n",
 "generic length mismatch": "x TYPE65000 \\# 4 0a0000\n",
 "generic odd hex": "x TYPE65000 \\# 2 abc\n",
 "generic A wrong length": "x A \\# 3 0a0000\n",
 "CNAME and A": "x CNAME www\nx A 192.0.2.2\n",
 "two SOA": "@ IN SOA ns2 hostmaster 2 3600 600 86400 300\n",
 "SOA not at apex": "x IN SOA ns2 hostmaster 2 3600 600 86400 300\n",
 "out of zone": "www.other.test. A 192.0.2.2\n",
 "owner with space escape": "a\\ b A 192.0.2.2\n",
 "TTL units": "x 1h A 192.0.2.2\n",
 "TTL bad unit": "x 1x A 192.0.2.2\n",
 "class after type": "x A IN 192.0.2.2\n",
 "DNAME and child": "d DNAME other.test.\nx.d A 192.0.2.2\n",
 "NS at apex missing": "",
 "blank owner first": " A 192.0.2.9\n",
 "$INCLUDE missing": "$INCLUDE nonexistent.inc\n",
 "CAA bad tag": 'x CAA 0 is-sue "x"\n',
 "SRV missing port": "_s._tcp SRV 0 0 srv\n",
 "parens close without open": "x A 192.0.2.2 )\n",
 "at sign in data": "x CNAME @\n",
 "backslash at end": "x TXT \"abc\\\n",
 "comment in quotes": 'x TXT "a;b"\n',
 "empty label": "x..y A 192.0.2.2\n",
 "wildcard in middle": "a.*.b A 192.0.2.2\n",
 "type CLASS syntax": "x CLASS1 A 192.0.2.2\n",
 "type TYPE1 syntax": "x IN TYPE1 192.0.2.2\n",
 "TYPE1 generic": "x IN TYPE1 \\# 4 c0000202\n",
 "A generic ok": "x A \\# 4 c0000202\n",
 "NSAP?": "x NSAP 0x47.0005.80.005a00.0000.0001.e133.ffffff000162.00\n",
 "A6 obsolete": "x A6 0 2001:db8::1\n",
 "WKS": "x WKS 192.0.2.2 TCP 25\n",
 "MD obsolete": "x MD mail\n",
 "NULL type": "x NULL \\# 0\n",
 "zero TTL": "x 0 A 192.0.2.2\n",
 "SPF": 'x SPF "v=spf1 -all"\n',
}

# Accepted by all three, rejected by Meridian on purpose.
STRICTER = {
    # RFC 2181 section 8: a TTL is a 31-bit value; 2^31 is not one (BIND, NSD and Knot load it).
    "ttl 2^31": "RFC 2181 8",
}

CHECKERS = {
    "bind": lambda path: ["named-checkzone", "-q", "t.test", path],
    "nsd": lambda path: ["nsd-checkzone", "t.test", path],
    "knot": lambda path: ["kzonecheck", "-o", "t.test", path],
}


class ZoneStrictnessTest(harness.E2ECase):

    def test_what_bind_nsd_and_knot_all_reject_is_rejected(self):
        for tool in ("named-checkzone", "nsd-checkzone", "kzonecheck"):
            if shutil.which(tool) is None:
                self.fail("%s is not installed (bind9-utils, nsd, knot-dnssecutils)" % tool)
        workdir = harness.make_tempdir(self)
        path = os.path.join(workdir, "t.test.zone")
        problems = []
        counts = {"all reject": 0, "all accept": 0, "mixed": 0}
        for name, body in CASES.items():
            with open(path, "w") as f:
                f.write(HEAD + body)
            verdicts = {peer: subprocess.run(argv(path), capture_output=True, cwd=workdir).returncode == 0
                        for peer, argv in CHECKERS.items()}
            ours = harness.run_dnsctl("dump-zone", path, "--origin", "t.test.", cwd=workdir)
            accepted = ours.returncode == 0
            if not any(verdicts.values()):
                counts["all reject"] += 1
                if accepted:
                    problems.append("%s: BIND, NSD and Knot reject it, Meridian loads it" % name)
                elif not re.search(r"t\.test\.zone:\d+:\d+: ", ours.stderr):
                    problems.append("%s: rejected without FILE:LINE:COL:\n%s" % (name, ours.stderr))
            elif all(verdicts.values()):
                counts["all accept"] += 1
                if not accepted and name not in STRICTER:
                    problems.append("%s: BIND, NSD and Knot load it, Meridian rejects it:\n%s" % (name, ours.stderr))
            else:
                counts["mixed"] += 1
        print("\nzone strictness: %d constructs; %d rejected by all three, %d accepted by all three "
              "(%d of them rejected here on purpose), %d where they differ"
              % (len(CASES), counts["all reject"], counts["all accept"], len(STRICTER), counts["mixed"]),
              file=sys.stderr)
        self.assertEqual(problems, [], "\n".join(problems))


if __name__ == "__main__":
    unittest.main()
