"""Deploying for real: the systemd unit (checked by systemd-analyze), the notify protocol
the unit relies on (a NOTIFY_SOCKET this test listens on), and `make install`'s layout with
man pages that render without warnings."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest
import uuid

from harness import (DNSCTL_BIN, MERIDIAN_BIN, REPO, E2ECase, Meridian, free_port, make_tempdir, query, run_dnsctl,
                     stop_process, testcase_cleanup, wait_until)

UNIT = os.path.join(REPO, "contrib", "systemd", "meridian.service")
ZONE = """$ORIGIN notify.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 300
@    IN NS  ns
ns   IN A   192.0.2.53
www  IN A   192.0.2.80
"""


def verify_unit(testcase, text):
    """systemd-analyze verify on `text` with the binaries it starts pointing at the built ones;
    (exit code, everything it printed)."""
    directory = make_tempdir(testcase, prefix="unit-")
    path = os.path.join(directory, "meridian.service")
    with open(path, "w") as f:
        f.write(text.replace("/usr/sbin/meridian", MERIDIAN_BIN).replace("/usr/bin/dnsctl", DNSCTL_BIN))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


class SystemdUnitTest(E2ECase):
    def test_unit_verifies_cleanly(self):
        with open(UNIT) as f:
            text = f.read()
        code, output = verify_unit(self, text)
        self.assertEqual((code, output), (0, ""))
        for line in ("Type=notify", "ExecStartPre=/usr/bin/dnsctl check --config /etc/meridian/meridian.yaml",
                     "ExecReload=/usr/bin/dnsctl --config /etc/meridian/meridian.yaml reload",
                     "RuntimeDirectory=meridian", "StateDirectory=meridian",
                     "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                     "NoNewPrivileges=yes", "ProtectSystem=strict"):
            self.assertIn(line + "\n", text)

    def test_a_broken_unit_is_noticed(self):
        # The check above could pass by checking nothing.
        code, output = verify_unit(self, "[Service]\nType=notifyy\nExecStart=/usr/sbin/meridian\n")
        self.assertIn("notifyy", output)


class NotifyTest(E2ECase):
    """The server tells systemd when it is ready, reloading and stopping (sd_notify(3))."""

    def listen(self, address):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(address)
        sock.settimeout(0.2)
        self.addCleanup(sock.close)
        return sock

    def next_message(self, sock, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = sock.recv(4096)
            except socket.timeout:
                continue
            return dict(line.split("=", 1) for line in data.decode().splitlines())
        raise AssertionError("no notification within %ds:\n%s" % (timeout, self.server.log()[-2000:]))

    def run_protocol(self, address, notify_socket):
        sock = self.listen(address)
        self.server = Meridian(self, {"notify.test.": ZONE})
        self.server.extra_env = {"NOTIFY_SOCKET": notify_socket}
        self.server.start(self, wait=False)

        ready = self.next_message(sock)
        self.assertEqual(ready.get("READY"), "1", ready)
        self.assertIn("serving 1 zone", ready.get("STATUS", ""))
        # Ready means answering: no waiting after the notification.
        self.assertEqual(query(self.server.port, "www.notify.test.", "A", timeout=1).rcode, 0)

        reload = run_dnsctl("--config", self.server.config_path, "reload")
        self.assertEqual(reload.returncode, 0, str(reload))
        reloading = self.next_message(sock)
        self.assertEqual(reloading.get("RELOADING"), "1", reloading)
        now_usec = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
        self.assertLess(abs(int(reloading["MONOTONIC_USEC"]) - now_usec), 30e6, "MONOTONIC_USEC on the monotonic clock")
        self.assertEqual(self.next_message(sock).get("READY"), "1")

        self.server.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.next_message(sock).get("STOPPING"), "1")
        self.assertEqual(self.server.proc.wait(timeout=10), 0, self.server.log())

    def test_ready_reloading_stopping_on_a_socket_file(self):
        path = os.path.join(make_tempdir(self, prefix="notify-"), "notify.sock")
        self.run_protocol(path, path)

    def test_ready_on_an_abstract_socket(self):
        name = "meridian-test-%s" % uuid.uuid4().hex
        self.run_protocol("\0" + name, "@" + name)


class MakeInstallTest(E2ECase):
    def test_install_layout_and_man_pages(self):
        root = make_tempdir(self, prefix="install-")
        result = subprocess.run(["make", "--no-print-directory", "install", "DESTDIR=" + root, "PREFIX=/usr"],
                                cwd=REPO, capture_output=True, text=True, timeout=900)
        self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr[-3000:])
        for path, mode in (("usr/sbin/meridian", 0o755), ("usr/bin/dnsctl", 0o755),
                           ("usr/lib/systemd/system/meridian.service", 0o644),
                           ("usr/lib/sysusers.d/meridian.conf", 0o644), ("usr/lib/tmpfiles.d/meridian.conf", 0o644),
                           ("usr/share/man/man8/meridian.8", 0o644), ("usr/share/man/man8/dnsctl.8", 0o644),
                           ("usr/share/man/man5/meridian.yaml.5", 0o644), ("etc/meridian/meridian.yaml", 0o644),
                           ("usr/share/doc/meridian/alerts.yml", 0o644), ("usr/share/doc/meridian/meridian.json", 0o644)):
            full = os.path.join(root, path)
            self.assertTrue(os.path.isfile(full), path)
            self.assertEqual(os.stat(full).st_mode & 0o777, mode, path)
        self.assertTrue(os.path.isdir(os.path.join(root, "etc/meridian/zones")))

        with open(os.path.join(root, "usr/lib/systemd/system/meridian.service")) as f:
            code, output = verify_unit(self, f.read())
        self.assertEqual((code, output), (0, ""))

        for page in ("man8/meridian.8", "man8/dnsctl.8", "man5/meridian.yaml.5"):
            rendered = subprocess.run(["man", "--warnings", "-l", os.path.join(root, "usr/share/man", page)],
                                      capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80"), timeout=60)
            self.assertEqual(rendered.returncode, 0, rendered.stderr)
            self.assertEqual(rendered.stderr, "", page)
            self.assertIn("NAME", rendered.stdout)
            self.assertIn("SEE ALSO", rendered.stdout)

        # The example configuration is valid but for the GeoIP database, which is the
        # operator's to install.
        example = os.path.join(root, "etc/meridian/meridian.yaml")
        check = run_dnsctl("check", "--config", example)
        self.assertEqual(check.returncode, 1, str(check))
        problems = [line for line in (check.stdout + check.stderr).splitlines()
                    if line.strip() and not line.endswith(": 1 error(s)")]
        self.assertTrue(problems, str(check))
        self.assertTrue(all("GeoLite2-City.mmdb" in line for line in problems), "\n".join(problems))

        # A second install keeps the operator's configuration.
        with open(example, "a") as f:
            f.write("# edited by the operator\n")
        again = subprocess.run(["make", "--no-print-directory", "install", "DESTDIR=" + root, "PREFIX=/usr"],
                               cwd=REPO, capture_output=True, text=True, timeout=900)
        self.assertEqual(again.returncode, 0, again.stderr[-3000:])
        with open(example) as f:
            self.assertIn("# edited by the operator", f.read())


class MonitoringFilesTest(E2ECase):
    """contrib/prometheus/alerts.yml and contrib/grafana/meridian.json: valid, and every
    metric they name is one the server exports."""

    PROMETHEUS = os.path.join(REPO, "contrib", "prometheus")
    GRAFANA = os.path.join(REPO, "contrib", "grafana", "meridian.json")
    NAME = re.compile(r"\b((?:meridian|process)_[a-z0-9_]+)\b")

    def exported_families(self):
        port = free_port()
        server = Meridian(self, {"notify.test.": ZONE + "api 30 IN DYNA web\n"}, extra_config=(
            'stats:\n  listen: "127.0.0.1:%d"\n'
            "edges:\n  fra1: {location: [50.1, 8.7], addresses: [\"192.0.2.10\"]}\n"
            "pools:\n  web: {edges: [fra1], policy: nearest}\n") % port).start(self)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode()
        conn.close()
        server.stop()
        return {line.split()[2] for line in body.splitlines() if line.startswith("# TYPE ")}

    def assertExported(self, expressions, families, where):
        self.assertTrue(expressions, where)
        for expression in expressions:
            for name in self.NAME.findall(expression):
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                self.assertTrue(name in families or base in families,
                                "%s names %s, which the server does not export" % (where, name))

    def test_rules_check_and_fire_as_tested(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool (Debian package prometheus) is needed")
        for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
            result = subprocess.run([promtool] + args, cwd=self.PROMETHEUS, capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_rules_and_dashboard_name_exported_metrics(self):
        families = self.exported_families()
        self.assertIn("meridian_edge_up", families)
        with open(os.path.join(self.PROMETHEUS, "alerts.yml")) as f:
            rules = f.read()
        # Each rule's expression: everything from `expr:` to its `for:` (one line, or a block).
        expressions = re.findall(r"expr:(.*?)\n\s+for:", rules, re.S)
        self.assertEqual(len(expressions), rules.count("- alert:"))
        self.assertExported(expressions, families, "alerts.yml")

        with open(self.GRAFANA) as f:
            dashboard = json.load(f)
        targets = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
        self.assertGreaterEqual(len(dashboard["panels"]), 8)
        self.assertExported(targets, families, "meridian.json")
        for panel in dashboard["panels"]:
            self.assertEqual(panel["datasource"]["uid"], "${datasource}", panel["title"])

    def test_a_real_prometheus_scrapes_the_server_and_loads_the_rules(self):
        binary = shutil.which("prometheus")
        self.assertIsNotNone(binary, "prometheus (Debian package prometheus) is needed")
        stats_port, prometheus_port = free_port(), free_port()
        server = Meridian(self, {"notify.test.": ZONE + "api 30 IN DYNA web\n"}, extra_config=(
            'stats:\n  listen: "127.0.0.1:%d"\n'
            "edges:\n  fra1: {location: [50.1, 8.7], addresses: [\"192.0.2.10\"]}\n"
            "pools:\n  web: {edges: [fra1], policy: nearest}\n") % stats_port).start(self)
        for _ in range(5):
            query(server.port, "api.notify.test.", "A")
        directory = make_tempdir(self, prefix="prometheus-")
        shutil.copy(os.path.join(self.PROMETHEUS, "alerts.yml"), directory)
        with open(os.path.join(directory, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files: [alerts.yml]\n"
                    "scrape_configs:\n  - job_name: meridian\n    static_configs:\n"
                    "      - targets: [\"127.0.0.1:%d\"]\n" % stats_port)
        proc = subprocess.Popen([binary, "--config.file", os.path.join(directory, "prometheus.yml"),
                                 "--storage.tsdb.path", os.path.join(directory, "data"),
                                 "--web.listen-address", "127.0.0.1:%d" % prometheus_port],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=directory)
        testcase_cleanup(self, stop_process, proc)

        def api(path):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", prometheus_port, timeout=5)
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read().decode()
                conn.close()
                return json.loads(body) if response.status == 200 else None
            except (OSError, ValueError):
                return None

        def target_up():
            reply = api("/api/v1/targets")
            targets = (reply or {}).get("data", {}).get("activeTargets", [])
            return targets and targets[0].get("health") == "up" and targets[0]
        target = wait_until(target_up, 60, message="Prometheus scraping the stats port")
        self.assertEqual(target.get("lastError"), "", target)

        def answered_queries():
            reply = api("/api/v1/query?query=sum(meridian_queries_total)")
            result = (reply or {}).get("data", {}).get("result", [])
            return result and float(result[0]["value"][1]) >= 5 and result
        wait_until(answered_queries, 30, message="meridian_queries_total in Prometheus")
        with open(os.path.join(self.PROMETHEUS, "alerts.yml")) as f:
            alerts = f.read().count("- alert:")

        def rules_evaluated():
            reply = api("/api/v1/rules")
            rules = [rule for group in (reply or {}).get("data", {}).get("groups", []) for rule in group["rules"]]
            return len(rules) == alerts and all(rule.get("health") == "ok" for rule in rules) and rules
        rules = wait_until(rules_evaluated, 30, message="every rule of alerts.yml loaded and evaluated without error")
        self.assertIn("MeridianEdgeDown", [rule["name"] for rule in rules])


if __name__ == "__main__":
    unittest.main()
