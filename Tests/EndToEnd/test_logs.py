"""The server's log as an operator reads it: one line per event, state changes at notice and
warning, `log.level` and `log.format` (text or JSON) taken from the configuration and from
every reload, and syslog priorities instead of times when standard error is the journal."""

import json
import os
import re
import signal
import time
import unittest

from harness import E2ECase, HealthEndpoint, Meridian, run_dnsctl, wait_until

ZONE = """$ORIGIN logs.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 300
@    IN NS  ns
ns   IN A   192.0.2.53
api  30 IN DYNA web
"""

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info|notice|warning|error|critical) \S")


def edges_config(url):
    return ("edges:\n"
            "  fra1:\n"
            "    location: [50.1, 8.7]\n"
            '    addresses: ["192.0.2.10"]\n'
            "    check:\n"
            '      http: "%s"\n'
            "      interval: 200ms\n"
            "      timeout: 100ms\n"
            "      rise: 1\n"
            "      fall: 1\n"
            "  iad1:\n"
            "    location: [39.0, -77.5]\n"
            '    addresses: ["192.0.2.20"]\n'
            "pools:\n"
            "  web: {edges: [fra1, iad1], policy: nearest}\n") % url


class LogTest(E2ECase):
    def start(self, log_section="", journal=False, ready_line=True):
        self.endpoint = HealthEndpoint(self)
        self.server = Meridian(self, {"logs.test.": ZONE}, extra_config=edges_config(self.endpoint.url()) + log_section)
        if journal:
            # systemd names the journal's stream (device:inode) in JOURNAL_STREAM; here the
            # stream is the file the harness sends standard error to (opened again, not replaced).
            with open(self.server.log_path, "wb"):
                pass
            info = os.stat(self.server.log_path)
            self.server.extra_env = {"JOURNAL_STREAM": "%d:%d" % (info.st_dev, info.st_ino)}
        self.server.start(self)
        if ready_line:
            wait_until(lambda: "meridian ready" in self.server.log(), 10, message="the ready line")
        return self.server

    def lines(self):
        return [line for line in self.server.log().splitlines() if line.strip()]

    def dnsctl(self, *args):
        result = run_dnsctl("--config", self.server.config_path, *args)
        self.assertEqual(result.returncode, 0, str(result))
        return result

    def test_text_lines_one_per_event(self):
        self.start()
        self.endpoint.set_mode("fail")
        wait_until(lambda: any(" warning edge down " in line for line in self.lines()), 10, message="edge down")
        self.endpoint.set_mode("ok")
        wait_until(lambda: any(" notice edge up " in line for line in self.lines()), 10, message="edge up")
        self.dnsctl("drain", "iad1", "--reason", "disk swap")
        self.dnsctl("reload")
        self.server.write_zone("logs.test.", ZONE + "broken IN A 1.2.3\n")
        rejected = run_dnsctl("--config", self.server.config_path, "reload")
        self.assertEqual(rejected.returncode, 1, str(rejected))
        wait_until(lambda: any("reload rejected" in line for line in self.lines()), 10, message="the rejection logged")

        lines = self.lines()
        for line in lines:
            self.assertRegex(line, TEXT_LINE)
        down = [line for line in lines if " edge down " in line and "edge=fra1" in line]
        self.assertEqual(len([line for line in down if "old=up" in line]), 1, "\n".join(lines))
        self.assertTrue(all(" warning " in line for line in down))
        drains = [line for line in lines if "drained" in line]
        self.assertEqual(len(drains), 1, "a drain is one line:\n" + "\n".join(lines))
        self.assertIn(" notice edge drained ", drains[0])
        self.assertIn('reason="disk swap"', drains[0])
        reloads = [line for line in lines if "reload done" in line]
        self.assertEqual(len(reloads), 1, "\n".join(lines))
        self.assertIn(" notice reload done ", reloads[0])
        rejections = [line for line in lines if "reload" in line and "rejected" in line]
        self.assertEqual(len(rejections), 1, "a rejected reload is one line:\n" + "\n".join(lines))
        self.assertIn(" error reload rejected", rejections[0])
        self.assertRegex(rejections[0], r"logs\.test\.zone:7:\d+: ")

    def test_json_lines_and_level_from_the_configuration_and_reloads(self):
        server = self.start("log:\n  level: notice\n  format: json\n", ready_line=False)
        self.endpoint.set_mode("fail")
        wait_until(lambda: '"edge down"' in server.log(), 10, message="edge down")
        records = [json.loads(line) for line in self.lines()]
        for record in records:
            self.assertRegex(record["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(record["level"], ("notice", "warning", "error", "critical"), record)
        self.assertNotIn("meridian ready", [r["message"] for r in records], "info is below log.level notice")
        down = [r for r in records if r["message"] == "edge down"]
        self.assertEqual(down[0]["level"], "warning")
        self.assertEqual(down[0]["metadata"]["edge"], "fra1")

        # A reload applies a new level at once: debug shows the admin state change too.
        with open(server.config_path) as f:
            text = f.read()
        with open(server.config_path, "w") as f:
            f.write(text.replace("level: notice", "level: debug"))
        self.dnsctl("reload")
        self.dnsctl("drain", "iad1")
        wait_until(lambda: '"edge admin state changed"' in server.log(), 10, message="a debug line after the reload")
        for line in self.lines():
            json.loads(line)

    def test_priorities_instead_of_times_for_the_journal(self):
        self.start(journal=True)
        self.endpoint.set_mode("fail")
        wait_until(lambda: "<4>edge down " in self.server.log(), 10, message="edge down at priority 4")
        lines = self.lines()
        self.assertIn("<6>meridian ready", "\n".join(lines))
        for line in lines:
            self.assertRegex(line, r"^<[2-7]>\S")
