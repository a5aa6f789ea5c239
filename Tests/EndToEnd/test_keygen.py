"""`dnsctl keygen`: BIND key files with the right modes, and a DS that BIND computes too."""

import os
import re
import shutil
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

DSFROMKEY = shutil.which("dnssec-dsfromkey") or "/usr/sbin/dnssec-dsfromkey"
FILE_NAME = re.compile(r"^K(?P<zone>[^+]+)\.\+(?P<alg>\d{3})\+(?P<tag>\d{5})\.(?P<kind>key|private)$")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class KeygenTest(harness.E2ECase):

    def setUp(self):
        harness.require_executable(harness.DNSCTL_BIN, "dnsctl")
        self.dir = harness.make_tempdir(self, prefix="keygen-e2e-")

    def keygen(self, *args):
        return harness.run_dnsctl("keygen", *args, cwd=self.dir)

    def dsfromkey(self, key_file):
        if not os.access(DSFROMKEY, os.X_OK):
            self.skipTest("dnssec-dsfromkey (bind9-utils) is not installed")
        proc = subprocess.run([DSFROMKEY, "-2", key_file], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        return proc.stdout.decode().strip()

    def test_writes_bind_key_files_and_the_ds(self):
        for algorithm in ("13", "15"):
            with self.subTest(algorithm=algorithm):
                result = self.keygen("Example.COM", "--algorithm", algorithm, "--directory", self.dir)
                self.assertEqual(result.returncode, 0, result)
                lines = result.stdout.splitlines()
                self.assertEqual(len(lines), 4, result)
                key_file, private_file, ds, dnskey = lines
                key_name = FILE_NAME.match(os.path.basename(key_file))
                self.assertIsNotNone(key_name, result)
                self.assertEqual(key_name.group("zone"), "example.com")
                self.assertEqual(int(key_name.group("alg")), int(algorithm))
                self.assertEqual(private_file, key_file[:-len(".key")] + ".private")
                self.assertEqual(mode(private_file), 0o600)
                self.assertEqual(mode(key_file), 0o644)
                tag = int(key_name.group("tag"))
                self.assertRegex(ds, r"^example\.com\. 3600 IN DS %d %s 2 [0-9A-F]{64}$" % (tag, algorithm))
                self.assertRegex(dnskey, r"^example\.com\. 3600 IN DNSKEY 257 3 %s [A-Za-z0-9+/=]+$" % algorithm)
                # BIND reads the .key file and computes the same DS (it prints no TTL).
                self.assertEqual(self.dsfromkey(key_file), ds.replace(" 3600 IN ", " IN "))
                with open(private_file) as f:
                    private = f.read()
                self.assertRegex(private, r"^Private-key-format: v1\.3\nAlgorithm: %s \((ECDSAP256SHA256|ED25519)\)\n"
                                          r"PrivateKey: [A-Za-z0-9+/=]{44}\nCreated: \d{14}\n" % algorithm)

    def test_defaults_to_algorithm_13_in_the_current_directory(self):
        result = self.keygen("example.org.")
        self.assertEqual(result.returncode, 0, result)
        key_file = result.stdout.splitlines()[0]
        self.assertRegex(key_file, r"^Kexample\.org\.\+013\+\d{5}\.key$")
        self.assertTrue(os.path.isfile(os.path.join(self.dir, key_file)))

    def test_json(self):
        result = harness.run_dnsctl("--json", "keygen", "example.net", "--algorithm", "ED25519", "--directory", self.dir)
        self.assertEqual(result.returncode, 0, result)
        doc = result.json()
        self.assertEqual(doc["zone"], "example.net.")
        self.assertEqual(doc["algorithm"], 15)
        self.assertTrue(os.path.isfile(doc["keyFile"]), doc)
        self.assertTrue(os.path.isfile(doc["privateKeyFile"]), doc)
        self.assertIn("+015+%05d.key" % doc["keyTag"], doc["keyFile"])
        self.assertEqual(len(doc["ds"]), 1)
        self.assertEqual(self.dsfromkey(doc["keyFile"]), doc["ds"][0].replace(" 3600 IN ", " IN "))
        self.assertTrue(doc["dnskey"].startswith("example.net. 3600 IN DNSKEY 257 3 15 "), doc)

    def test_existing_files_are_not_overwritten(self):
        # Every name an Ed25519 key for the zone could get is taken, so whatever key is
        # made, its .private file exists already.
        for tag in range(65536):
            path = os.path.join(self.dir, "Kexample.com.+015+%05d.private" % tag)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        result = self.keygen("example.com", "--algorithm", "15", "--directory", self.dir)
        self.assertEqual(result.returncode, 1, result)
        self.assertRegex(result.stderr, r"Kexample\.com\.\+015\+\d{5}\.private:0: file exists; key files are never overwritten")
        self.assertEqual(result.stdout, "")
        names = os.listdir(self.dir)
        self.assertEqual(len(names), 65536)
        self.assertFalse([name for name in names if name.endswith(".key")])
        self.assertFalse([name for name in names if os.path.getsize(os.path.join(self.dir, name)) != 0])

    def test_errors_exit_1(self):
        for args in (("example.com", "--directory", os.path.join(self.dir, "missing")),
                     ("bad..name",),
                     ("a/b.example",)):
            with self.subTest(args=args):
                result = self.keygen(*args)
                self.assertEqual(result.returncode, 1, result)
                self.assertEqual(result.stdout, "")
                self.assertNotEqual(result.stderr.strip(), "")
        self.assertEqual(os.listdir(self.dir), [])

    def test_unknown_algorithm_is_a_usage_error(self):
        for algorithm in ("8", "RSASHA256", "14"):
            with self.subTest(algorithm=algorithm):
                result = self.keygen("example.com", "--algorithm", algorithm, "--directory", self.dir)
                self.assertEqual(result.returncode, 2, result)
                self.assertIn("algorithm %s is not supported" % algorithm, result.stderr)
                self.assertIn("Usage: dnsctl keygen", result.stderr)
        self.assertEqual(os.listdir(self.dir), [])


if __name__ == "__main__":
    unittest.main()
