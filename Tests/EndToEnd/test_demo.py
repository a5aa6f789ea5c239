"""`make run`'s script (scripts/run-demo): it says where to look once the server answers, and
Ctrl-C, SIGTERM, or the end of what started it (make, killed by its PID) stop the server."""

import os
import signal
import subprocess
import time
import unittest

from harness import DNSCTL_BIN, MERIDIAN_BIN, REPO, E2ECase, Meridian, free_port, query, wait_until

ZONE = """$ORIGIN demo.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 300
@    IN NS  ns
ns   IN A   192.0.2.53
"""
SCRIPT = os.path.join(REPO, "scripts", "run-demo")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes.
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


class RunDemoTest(E2ECase):
    def setUp(self):
        stats = free_port()
        self.server = Meridian(self, {"demo.test.": ZONE}, extra_config='stats:\n  listen: "127.0.0.1:%d"\n' % stats)
        self.stats = stats
        self.env = dict(os.environ, MERIDIAN_BIN=MERIDIAN_BIN, DNSCTL_BIN=DNSCTL_BIN, DEMO_EDGES="0")

    def meridian_pids(self):
        out = subprocess.run(["pgrep", "-f", "--", "--config %s" % self.server.config_path],
                             capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def start(self, argv):
        proc = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        self.addCleanup(lambda: [os.kill(pid, signal.SIGKILL) for pid in self.meridian_pids()])
        self.addCleanup(lambda: proc.poll() is None and os.killpg(proc.pid, signal.SIGKILL))
        self.addCleanup(proc.stdout.close)
        return proc

    def read_ready_block(self, proc):
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("  stop"):
                return lines
        raise AssertionError("no ready block:\n" + "\n".join(lines))

    def test_ready_block_and_sigterm(self):
        proc = self.start([SCRIPT, self.server.config_path])
        lines = self.read_ready_block(proc)
        text = "\n".join(lines)
        # Ready means answering.
        self.assertEqual(query(self.server.port, "demo.test.", "SOA", timeout=1).rcode, 0)
        self.assertIn("is ready, serving demo.test.", text)
        self.assertIn("DNS        127.0.0.1:%d" % self.server.port, text)
        self.assertIn("dashboard  http://127.0.0.1:%d/" % self.stats, text)
        self.assertIn("dig @127.0.0.1 -p %d demo.test. SOA" % self.server.port, text)
        pids = self.meridian_pids()
        self.assertEqual(len(pids), 1)

        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=15), 143)
        wait_until(lambda: not alive(pids[0]), 10, message="meridian stopped with the script")

    def test_ctrl_c(self):
        proc = self.start([SCRIPT, self.server.config_path])
        self.read_ready_block(proc)
        pids = self.meridian_pids()
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        proc.wait(timeout=15)
        wait_until(lambda: not alive(pids[0]), 10, message="meridian stopped by Ctrl-C")

    def test_stops_when_what_started_it_is_killed(self):
        # make is the parent: killing make by its PID leaves its recipe running, which used
        # to leave the server behind.
        proc = self.start(["bash", "-c", '"$0" "$1"; echo done', SCRIPT, self.server.config_path])
        self.read_ready_block(proc)
        pids = self.meridian_pids()
        self.assertEqual(len(pids), 1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
        wait_until(lambda: not alive(pids[0]), 10, message="meridian stopped once its starter was gone")


if __name__ == "__main__":
    unittest.main()
