"""Offline dnsctl commands: `check` and `dump-zone`."""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

GOOD_ZONE = """$ORIGIN example.test.
$TTL 1h
@       IN SOA  ns1 hostmaster ( 2024060101 ; serial
                    7200 900 1209600 300 )
        IN NS   ns1
        IN NS   ns.elsewhere.example.
        IN MX   10 mail
ns1     IN A    192.0.2.1
mail    2d IN A 192.0.2.2
www     IN A    192.0.2.3
        IN AAAA 2001:db8::3
alias   IN CNAME www
Upper   IN TXT  "hello world" "two"
_sip._udp IN SRV 10 20 5060 www.example.test.
$ORIGIN sub.example.test.
host    300 IN A 192.0.2.4
"""

# What dump-zone must print for GOOD_ZONE: absolute owners, TTLs in seconds, class IN.
GOOD_DUMP = [
    "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2024060101 7200 900 1209600 300",
    "example.test. 3600 IN NS ns1.example.test.",
    "example.test. 3600 IN NS ns.elsewhere.example.",
    "example.test. 3600 IN MX 10 mail.example.test.",
    "ns1.example.test. 3600 IN A 192.0.2.1",
    "mail.example.test. 172800 IN A 192.0.2.2",
    "www.example.test. 3600 IN A 192.0.2.3",
    "www.example.test. 3600 IN AAAA 2001:db8::3",
    "alias.example.test. 3600 IN CNAME www.example.test.",
    'upper.example.test. 3600 IN TXT "hello world" "two"',
    "_sip._udp.example.test. 3600 IN SRV 10 20 5060 www.example.test.",
    "host.sub.example.test. 300 IN A 192.0.2.4",
]

SECOND_ZONE = """$ORIGIN second.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 300
@    IN NS  ns
ns   IN A   192.0.2.10
"""

LOCATION = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>\S.*)$", re.M)


def normalise_line(line):
    """Collapse whitespace outside quotes; lowercase the owner name."""
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|\S+', line)
    if tokens:
        tokens[0] = tokens[0].lower()
    return " ".join(tokens)


class DnsctlTest(harness.E2ECase):

    def setUp(self):
        harness.require_executable(harness.DNSCTL_BIN, "dnsctl")
        self.dir = harness.make_tempdir(self, prefix="dnsctl-e2e-")
        self.zones = os.path.join(self.dir, "zones")
        os.makedirs(self.zones)

    def write(self, path, text):
        with open(path, "w") as f:
            f.write(text)
        return path

    def config(self):
        return self.write(os.path.join(self.dir, "meridian.yaml"), harness.meridian_config(
            53535, self.zones, os.path.join(self.dir, "meridian.sock"),
            os.path.join(self.dir, "admin-state.json")))

    def dnsctl(self, *args):
        proc = subprocess.run([harness.DNSCTL_BIN] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60, cwd=self.dir)
        return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")

    # ---- version ---------------------------------------------------------------------------

    def test_version_matches_the_server(self):
        code, out, err = self.dnsctl("--version")
        self.assertEqual(code, 0, err)
        self.assertRegex(out.strip(), r"^dnsctl \d+\.\d+\.\d+$")
        harness.require_executable(harness.MERIDIAN_BIN, "meridian")
        server = subprocess.run([harness.MERIDIAN_BIN, "--version"], stdout=subprocess.PIPE, timeout=60)
        self.assertEqual(server.returncode, 0)
        self.assertEqual(out.split()[-1], server.stdout.decode().split()[-1])

    def test_usage_errors_exit_2_with_the_usage_line(self):
        for argv in (("frobnicate",), ("drain",), ("status", "--no-such-option"), ("explain", "api.test.", "not-an-address")):
            with self.subTest(argv=argv):
                code, out, err = self.dnsctl(*argv)
                self.assertEqual(code, 2, "stdout:\n%s\nstderr:\n%s" % (out, err))
                self.assertIn("Usage: dnsctl", err)

    def test_help_shows_the_options_each_command_takes(self):
        code, out, err = self.dnsctl("--help")
        self.assertEqual(code, 0, err)
        for option in ("--config", "--json", "--socket"):
            self.assertIn(option, out, "the top-level help names %s" % option)
        # Offline commands never talk to the server: they do not offer its socket.
        for command in (("check",), ("dump-zone",), ("geoip", "build"), ("keygen",), ("publish",)):
            with self.subTest(command=command):
                code, out, err = self.dnsctl(*command, "--help")
                self.assertEqual(code, 0, err)
                self.assertIn("--config", out)
                self.assertNotIn("--socket", out)
        for command in (("status",), ("reload",), ("drain",), ("edges",)):
            with self.subTest(command=command):
                code, out, err = self.dnsctl(*command, "--help")
                self.assertEqual(code, 0, err)
                self.assertIn("--socket", out)

    # ---- check ----------------------------------------------------------------------------

    def test_check_ok(self):
        self.write(os.path.join(self.zones, "example.test.zone"), GOOD_ZONE)
        self.write(os.path.join(self.zones, "second.test.zone"), SECOND_ZONE)
        config = self.config()
        for argv in (("check", "--config", config), ("--config", config, "check")):
            with self.subTest(argv=argv):
                code, out, err = self.dnsctl(*argv)
                self.assertEqual(code, 0, "stdout:\n%s\nstderr:\n%s" % (out, err))
                self.assertIsNone(LOCATION.search(out + err), out + err)

    def test_check_reports_every_broken_zone(self):
        bad_one = GOOD_ZONE.replace("www     IN A    192.0.2.3", "www     IN A    192.0.2.333")
        bad_two = SECOND_ZONE.replace("ns   IN A   192.0.2.10", "ns   IN BOGUSTYPE 192.0.2.10")
        one = self.write(os.path.join(self.zones, "example.test.zone"), bad_one)
        two = self.write(os.path.join(self.zones, "second.test.zone"), bad_two)
        code, out, err = self.dnsctl("check", "--config", self.config())
        text = out + err
        self.assertEqual(code, 1, text)
        found = {}
        for m in LOCATION.finditer(text):
            found.setdefault(os.path.basename(m.group("file")), []).append(
                (int(m.group("line")), int(m.group("col"))))
        self.assertIn(os.path.basename(one), found, "no FILE:LINE:COL error for the first zone:\n" + text)
        self.assertIn(os.path.basename(two), found, "no FILE:LINE:COL error for the second zone:\n" + text)
        self.assertIn(10, [line for line, _ in found[os.path.basename(one)]], text)
        self.assertIn(5, [line for line, _ in found[os.path.basename(two)]], text)
        for entries in found.values():
            for _, col in entries:
                self.assertGreaterEqual(col, 1)

    def test_check_reports_config_errors_with_location(self):
        self.write(os.path.join(self.zones, "example.test.zone"), GOOD_ZONE)
        config = self.config()
        with open(config) as f:
            text = f.read()
        # line 3 of the config gets an unknown key
        lines = text.split("\n")
        lines.insert(2, "  no_such_setting: 1")
        self.write(config, "\n".join(lines))
        code, out, err = self.dnsctl("check", "--config", config)
        self.assertEqual(code, 1, out + err)
        m = re.search(re.escape(os.path.basename(config)) + r":(\d+)(?::\d+)?: \S", out + err)
        self.assertIsNotNone(m, "expected meridian.yaml:LINE: message\n" + out + err)
        self.assertEqual(int(m.group(1)), 3, out + err)

    def test_check_reports_config_database_and_zone_problems_in_one_run(self):
        # A mistake in the configuration does not hide those in the files it names.
        bad_zone = GOOD_ZONE.replace("www     IN A    192.0.2.3", "www     IN A    192.0.2.333")
        self.write(os.path.join(self.zones, "example.test.zone"), bad_zone)
        config = self.config()
        with open(config) as f:
            text = f.read()
        self.assertIn("udp_payload: 1232\n", text)
        self.write(config, text.replace("udp_payload: 1232\n", "udp_payload: 100\n", 1)
                   + "geoip:\n  database: %s\n" % os.path.join(self.dir, "missing.mmdb"))
        code, out, err = self.dnsctl("check", "--config", config)
        text = out + err
        self.assertEqual(code, 1, text)
        self.assertRegex(text, r"meridian\.yaml:\d+:\d+: dns\.udp_payload: 100 is outside")
        self.assertRegex(text, r"missing\.mmdb:0: cannot read GeoIP database")
        self.assertRegex(text, r"example\.test\.zone:10:\d+: ")
        self.assertIn("3 error(s)", text)

    # ---- dump-zone ------------------------------------------------------------------------

    def test_dump_zone_prints_absolute_records(self):
        path = self.write(os.path.join(self.dir, "example.test.zone"), GOOD_ZONE)
        code, out, err = self.dnsctl("dump-zone", path)
        self.assertEqual(code, 0, err)
        got = sorted(normalise_line(l) for l in out.splitlines() if l.strip() and not l.startswith(";"))
        self.assertEqual(got, sorted(normalise_line(l) for l in GOOD_DUMP))
        for line in got:
            self.assertTrue(line.split()[0].endswith("."), "owner not absolute: " + line)

    def test_dump_zone_with_explicit_origin(self):
        relative = GOOD_ZONE.replace("$ORIGIN example.test.\n", "").replace(
            "$ORIGIN sub.example.test.\n", "").replace("host    300 IN A 192.0.2.4\n", "")
        path = self.write(os.path.join(self.dir, "anything.txt"), relative)
        code, out, err = self.dnsctl("dump-zone", path, "--origin", "example.test.")
        self.assertEqual(code, 0, err)
        got = sorted(normalise_line(l) for l in out.splitlines() if l.strip() and not l.startswith(";"))
        self.assertEqual(got, sorted(normalise_line(l) for l in GOOD_DUMP[:-1]))

    def test_dump_zone_follows_include(self):
        # the included file sits next to the zone file, which is also the working directory,
        # so the relative path means the same thing however it is resolved
        self.write(os.path.join(self.dir, "hosts.inc"), "h1 IN A 192.0.2.41\nh2 60 IN A 192.0.2.42\n")
        self.write(os.path.join(self.dir, "more.inc"), "@ IN TXT \"included with origin\"\n")
        zone = ("$ORIGIN inc.test.\n$TTL 300\n@ IN SOA ns hostmaster 1 3600 600 86400 300\n"
                "@ IN NS ns\nns IN A 192.0.2.40\n$INCLUDE hosts.inc\n"
                "$INCLUDE %s other.inc.test.\nafter IN A 192.0.2.43\n"
                % os.path.join(self.dir, "more.inc"))
        path = self.write(os.path.join(self.dir, "inc.test.zone"), zone)
        code, out, err = self.dnsctl("dump-zone", path)
        self.assertEqual(code, 0, err)
        got = sorted(normalise_line(l) for l in out.splitlines() if l.strip() and not l.startswith(";"))
        expected = [
            "inc.test. 300 IN SOA ns.inc.test. hostmaster.inc.test. 1 3600 600 86400 300",
            "inc.test. 300 IN NS ns.inc.test.",
            "ns.inc.test. 300 IN A 192.0.2.40",
            "h1.inc.test. 300 IN A 192.0.2.41",
            "h2.inc.test. 60 IN A 192.0.2.42",
            'other.inc.test. 300 IN TXT "included with origin"',
            "after.inc.test. 300 IN A 192.0.2.43",
        ]
        self.assertEqual(got, sorted(normalise_line(l) for l in expected))

    def test_dump_zone_broken_file(self):
        cases = {
            "bad address": ("www IN A 192.0.2.256", (4,)),
            "unknown type": ("www IN NOSUCHTYPE 1", (4,)),
            # reported where the group opens or where the file ends
            "unbalanced parenthesis": ("www IN TXT ( \"a\"", (4, 5)),
            "bad MX preference": ("@ IN MX 70000 mail", (4,)),
        }
        head = "$ORIGIN broken.test.\n$TTL 300\n@ IN SOA ns hostmaster 1 2 3 4 5\n"
        for label, (line, linenos) in cases.items():
            with self.subTest(label):
                path = self.write(os.path.join(self.dir, "broken.test.zone"), head + line + "\n")
                code, out, err = self.dnsctl("dump-zone", path)
                self.assertEqual(code, 1, out + err)
                m = LOCATION.search(err) or LOCATION.search(out)
                self.assertIsNotNone(m, "expected FILE:LINE:COL: message\n" + out + err)
                self.assertTrue(m.group("file").endswith("broken.test.zone"), m.group(0))
                self.assertIn(int(m.group("line")), linenos, m.group(0))
                self.assertGreaterEqual(int(m.group("col")), 1)


if __name__ == "__main__":
    unittest.main()


class PathsFromTheConfigFileTest(harness.E2ECase):
    """Relative paths in the configuration are taken from the file's directory: the server and
    dnsctl, started from another working directory with `--config /abs/meridian.yaml`, find
    the zones, the state file and the control socket, and never look in the working directory."""

    def test_server_and_dnsctl_from_another_directory(self):
        server = harness.Meridian(self, {"example.test.": GOOD_ZONE})
        with open(server.config_path, "w") as f:
            f.write(harness.meridian_config(server.port, "zones", "run/meridian.sock", "run/admin-state.json")
                    + harness.TEST_CLIENT_RRL
                    + "edges:\n  fra1:\n    location: [50.1, 8.7]\n    addresses: [\"192.0.2.80\"]\n")
        elsewhere = harness.make_tempdir(self, prefix="elsewhere-")
        server.cwd = elsewhere
        server.start(self)
        config = os.path.abspath(server.config_path)

        check = harness.run_dnsctl("check", "--config", config, cwd=elsewhere)
        self.assertEqual(check.returncode, 0, str(check))
        status = harness.run_dnsctl("--config", config, "status", "--json", cwd=elsewhere)
        self.assertEqual(status.returncode, 0, str(status))
        self.assertIn("example.test.", status.stdout)
        drain = harness.run_dnsctl("--config", config, "drain", "fra1", cwd=elsewhere)
        self.assertEqual(drain.returncode, 0, str(drain))

        socket_path = os.path.join(server.workdir, "run", "meridian.sock")
        self.assertTrue(os.path.exists(socket_path), "control socket not next to the config file")
        harness.wait_until(lambda: os.path.exists(os.path.join(server.workdir, "run", "admin-state.json")), 10,
                           message="the drain saved next to the config file")
        self.assertEqual(os.listdir(elsewhere), [], "nothing is written to the working directory")
