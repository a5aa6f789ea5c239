"""Serial discipline on reload, with the real server and dnsctl.

A zone edited without a serial increase, or whose serial went backwards (RFC 1982), is
served and reported as a warning in `dnsctl reload`, its `--json` and the log, as Knot and
BIND warn; with `zones.serial_check: error` the reload is rejected and the old data keeps
serving.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import query, run_dnsctl, wait_until  # noqa: E402

ZONE_NAME = "serial.test."


def zone(serial, address):
    return ("$ORIGIN serial.test.\n$TTL 300\n"
            "@ IN SOA ns1 hostmaster %d 3600 600 86400 300\n"
            "@ IN NS ns1\nns1 IN A 192.0.2.1\nwww IN A %s\n") % (serial, address)


class SerialDisciplineTest(harness.E2ECase):

    def start(self, serial_check=None):
        server = harness.Meridian(self, {ZONE_NAME: zone(10, "192.0.2.10")})
        if serial_check:
            with open(server.config_path) as f:
                config = f.read()
            with open(server.config_path, "w") as f:
                f.write(config.replace("zones:\n", "zones:\n  serial_check: %s\n" % serial_check, 1))
        return server.start(self)

    def www(self, server):
        return [r.text for r in query(server.port, "www." + ZONE_NAME, "A").answer]

    def test_changes_without_a_serial_increase_are_served_with_a_warning(self):
        server = self.start()
        zone_file = server.zone_path(ZONE_NAME)
        server.write_zone(ZONE_NAME, zone(10, "192.0.2.11"))
        result = run_dnsctl("--socket", server.socket_path, "reload")
        self.assertEqual(result.returncode, 0, str(result))
        self.assertIn("zone serial.test. records changed, serial 10 unchanged", result.stdout)
        self.assertNotIn("nothing changed", result.stdout)
        self.assertIn("warning: %s:3:" % zone_file, result.stderr)
        self.assertIn("records changed but the serial stayed 10", result.stderr)
        self.assertEqual(self.www(server), ["192.0.2.11"])

        server.write_zone(ZONE_NAME, zone(9, "192.0.2.12"))
        result = run_dnsctl("--json", "--socket", server.socket_path, "reload")
        self.assertEqual(result.returncode, 0, str(result))
        warnings = result.json()["warnings"]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("serial went backwards from 10 to 9", warnings[0])
        self.assertEqual(self.www(server), ["192.0.2.12"])
        wait_until(lambda: "serial went backwards" in server.log(), 10, message="the warning in the log")

        # A proper increase, and a reload of unchanged files, warn of nothing.
        server.write_zone(ZONE_NAME, zone(11, "192.0.2.13"))
        result = run_dnsctl("--json", "--socket", server.socket_path, "reload")
        self.assertEqual(result.json()["warnings"], [])
        result = run_dnsctl("--socket", server.socket_path, "reload")
        self.assertIn("nothing changed", result.stdout)
        self.assertEqual(result.stderr, "")

    def test_serial_check_error_rejects_the_reload(self):
        server = self.start(serial_check="error")
        zone_file = server.zone_path(ZONE_NAME)
        server.write_zone(ZONE_NAME, zone(10, "192.0.2.11"))
        result = run_dnsctl("--socket", server.socket_path, "reload")
        self.assertEqual(result.returncode, 1, str(result))
        self.assertIn("%s:3:1: zone serial.test.: records changed but the serial stayed 10" % zone_file, result.stderr)
        self.assertEqual(self.www(server), ["192.0.2.10"])
        server.write_zone(ZONE_NAME, zone(11, "192.0.2.11"))
        result = run_dnsctl("--socket", server.socket_path, "reload")
        self.assertEqual(result.returncode, 0, str(result))
        self.assertEqual(self.www(server), ["192.0.2.11"])


if __name__ == "__main__":
    unittest.main()
