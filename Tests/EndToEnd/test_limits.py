"""Connection limits and start-up against real sockets.

* DNS over TCP streams: pipelined queries, queries cut anywhere across writes and a
  half-closed connection are all answered in order; a client that does not read its answers
  is held back (its queries wait in the kernel) rather than buffered, and others are served.
* Fair TCP: a client that holds twice ``tcp_max_connections`` connections (from several
  addresses, each at its per-client cap) and keeps them alive cannot keep a second client
  out; one address cannot hold more than ``tcp_max_connections_per_client``; idle and
  trickling connections close at the idle timeout.
* The stats port and the control socket: hundreds of slow connections do not stop
  ``/metrics``, DNS over TCP or ``dnsctl status``, and the server's descriptors stay bounded.
* Start-up: a DNS port that is taken stops the start with one line naming it, before the
  control socket exists; the descriptor limit is raised to the hard limit, and
  ``tcp_max_connections`` is lowered to fit a small one.
"""

import http.client
import errno
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Message, make_query, run_dnsctl, tcp_frame, tcp_read_message, wait_until  # noqa: E402

ZONE_NAME = "limits.test."
ZONE = """$ORIGIN limits.test.
$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 300
@       IN NS  ns1
ns1     IN A   192.0.2.1
www     IN A   192.0.2.80
big     IN TXT ( %s )
""" % " ".join(['"%s"' % ("x" * 250)] * 16)


def connect_from(source, port, timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def tcp_ask(sock, qid):
    sock.sendall(tcp_frame(make_query("www." + ZONE_NAME, "A", qid=qid)))
    return Message.parse(tcp_read_message(sock))


def open_descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Exhauster(threading.Thread):
    """Keeps up to ``per_source`` connections from each source open, asks one query on each
    every ``period`` seconds (well inside the idle timeout), and reopens any the server
    closes: the exhaustion attack of RFC 7766 section 10."""

    def __init__(self, port, sources, per_source, period):
        super().__init__(daemon=True)
        self.port, self.sources, self.per_source, self.period = port, sources, per_source, period
        self.stopping = threading.Event()
        self.opened = 0
        self.sockets = {}

    def run(self):
        qid = 0
        while not self.stopping.is_set():
            round_started = time.monotonic()
            for source in self.sources:
                for slot in range(self.per_source):
                    if self.stopping.is_set():
                        return
                    qid = (qid + 1) & 0xFFFF
                    key = (source, slot)
                    try:
                        if key not in self.sockets:
                            self.sockets[key] = connect_from(source, self.port, timeout=0.5)
                            self.opened += 1
                        tcp_ask(self.sockets[key], qid)
                    except (OSError, ConnectionError, harness.ParseError):
                        sock = self.sockets.pop(key, None)
                        if sock:
                            sock.close()
            # Traffic pacing, not a wait for a condition: one query per connection per period.
            self.stopping.wait(max(0.0, self.period - (time.monotonic() - round_started)))

    def stop(self):
        self.stopping.set()
        self.join(10)
        for sock in self.sockets.values():
            sock.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


class TCPStreamTest(harness.E2ECase):

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Meridian(cls, {ZONE_NAME: ZONE}, tcp_idle_timeout="10s")
        cls.server.start(cls)

    def read_answers(self, sock, count):
        return [Message.parse(tcp_read_message(sock)) for _ in range(count)]

    def test_pipelined_and_split_queries_are_answered_in_order(self):
        frames = [tcp_frame(make_query(("www." if qid % 3 else "nope.") + ZONE_NAME, "A", qid=qid)) for qid in range(400)]
        stream = b"".join(frames)
        with connect_from("127.0.0.21", self.server.port) as s:
            # Cut at every awkward place: inside a length, right after it, inside a query.
            cuts = [1, 2, 3, len(frames[0]) + 1, len(frames[0]) * 7 + 5, len(stream) // 2, len(stream) - 1]
            start = 0
            for cut in cuts:
                s.sendall(stream[start:cut])
                start = cut
                # Pacing, so that each piece arrives in a read of its own.
                time.sleep(0.02)
            s.sendall(stream[start:])
            answers = self.read_answers(s, 400)
        self.assertEqual([m.id for m in answers], list(range(400)))
        self.assertEqual([m.rcode for m in answers], [0 if qid % 3 else 3 for qid in range(400)])

    def test_a_half_closed_connection_gets_every_answer(self):
        with connect_from("127.0.0.22", self.server.port) as s:
            s.sendall(b"".join(tcp_frame(make_query("big." + ZONE_NAME, "TXT", qid=qid)) for qid in range(200)))
            s.shutdown(socket.SHUT_WR)
            answers = self.read_answers(s, 200)
            self.assertTrue(harness.connection_closed(s, 3.0), "the server kept the connection after the last answer")
        self.assertEqual([m.id for m in answers], list(range(200)))
        self.assertTrue(all(len(m.answer) == 1 and len(m.raw) > 4000 for m in answers))

    def test_a_client_that_does_not_read_is_held_back_not_buffered(self):
        pid = self.server.proc.pid
        before = rss_kib(pid)
        # 3,000 queries whose answers are 4 KiB each: 12 MiB that the client does not read yet.
        count = 3000
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(slow.close)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.bind(("127.0.0.23", 0))
        slow.settimeout(10)
        slow.connect(("127.0.0.1", self.server.port))
        slow.sendall(b"".join(tcp_frame(make_query("big." + ZONE_NAME, "TXT", qid=qid)) for qid in range(count)))
        # Others are answered meanwhile, whichever thread holds the slow connection.
        for qid in range(20):
            with connect_from("127.0.0.24", self.server.port) as s:
                self.assertEqual(tcp_ask(s, qid).id, qid)
        grown = rss_kib(pid) - before
        self.assertLess(grown, 8 * 1024, "the server buffered %d KiB for a client that does not read" % grown)
        answers = self.read_answers(slow, count)
        self.assertEqual([m.id for m in answers], list(range(count)))


class FairTCPTest(harness.E2ECase):

    def test_second_client_is_served_while_connections_are_exhausted(self):
        maximum = 32
        server = harness.Meridian(self, {ZONE_NAME: ZONE}, tcp_idle_timeout="3s",
                                  tcp_max_connections=maximum).start(self)
        # 2 x tcp_max_connections connections: four addresses at their cap of 16 each.
        attacker = Exhauster(server.port, ["127.0.0.%d" % i for i in range(2, 6)], per_source=16, period=1.0)
        attacker.start()
        self.addCleanup(attacker.stop)
        wait_until(lambda: attacker.opened >= maximum, 20, message="the attacker holding every connection")
        answered = 0
        for qid in range(100):
            try:
                with connect_from("127.0.1.1", server.port) as s:
                    if tcp_ask(s, qid).id == qid:
                        answered += 1
            except (OSError, ConnectionError, harness.ParseError):
                pass
        opened = attacker.opened
        attacker.stop()
        print("\nTCP availability under exhaustion: %d/100 answered (attacker opened %d connections "
              "for %d places)" % (answered, opened, maximum), file=sys.stderr)
        self.assertGreaterEqual(answered, 99)
        stats = run_dnsctl("--socket", server.socket_path, "stats")
        self.assertEqual(stats.returncode, 0, str(stats))
        self.assertRegex(stats.stdout, r"tcp\s+[\d,]+ open; [\d,]+ accepted, [\d,]+ refused, [1-9][\d,]* idle evicted")
        self.assertTrue(server.alive())

    def test_one_address_holds_at_most_its_share(self):
        server = harness.Meridian(self, {ZONE_NAME: ZONE}, tcp_idle_timeout="30s", tcp_max_connections=64,
                                  extra_config="").start(self)
        with open(server.config_path) as f:
            config = f.read()
        self.assertNotIn("per_client", config)  # the default, 16, is what is tested
        held = []
        self.addCleanup(lambda: [c.close() for c in held])
        for qid in range(16):
            s = connect_from("127.0.0.7", server.port)
            held.append(s)
            self.assertEqual(tcp_ask(s, qid).id, qid)
        refused = []
        self.addCleanup(lambda: [c.close() for c in refused])
        for _ in range(4):
            refused.append(connect_from("127.0.0.7", server.port))
        for s in refused:
            self.assertTrue(harness.connection_closed(s, timeout=3.0), "a 17th connection from one address was kept")
        # Another address is served, and the 16 kept connections still are.
        with connect_from("127.0.0.8", server.port) as s:
            self.assertEqual(tcp_ask(s, 500).id, 500)
        for qid, s in enumerate(held):
            self.assertEqual(tcp_ask(s, 1000 + qid).id, 1000 + qid)
        metrics = run_dnsctl("--socket", server.socket_path, "stats")
        self.assertRegex(metrics.stdout, r"accepted, ([4-9]|[1-9]\d+) refused")

    def test_idle_and_trickling_connections_close_at_the_idle_timeout(self):
        server = harness.Meridian(self, {ZONE_NAME: ZONE}, tcp_idle_timeout="2s").start(self)
        idle = connect_from("127.0.0.11", server.port)
        self.addCleanup(idle.close)
        trickling = connect_from("127.0.0.12", server.port)
        self.addCleanup(trickling.close)
        started = time.monotonic()
        frame = tcp_frame(make_query("www." + ZONE_NAME, "A", qid=1))
        closed_at = None
        # One byte of a query every 0.4 s: never a whole query, so the idle timeout runs on.
        for byte in frame[:-1]:
            try:
                trickling.sendall(bytes([byte]))
            except OSError:
                closed_at = time.monotonic()
                break
            if harness.connection_closed(trickling, timeout=0.4):
                closed_at = time.monotonic()
                break
        self.assertIsNotNone(closed_at, "a trickling connection outlived %.1fs" % (time.monotonic() - started))
        self.assertLess(closed_at - started, 2 + 2.5, "closed long after the 2s idle timeout")
        self.assertGreater(closed_at - started, 1.5, "closed before the 2s idle timeout")
        self.assertTrue(harness.connection_closed(idle, timeout=2.5), "an idle connection outlived the idle timeout")
        self.assertTrue(server.alive())


class AuxiliaryListenerTest(harness.E2ECase):

    def test_slow_clients_do_not_starve_stats_dns_or_control(self):
        stats_port = harness.free_port()
        server = harness.Meridian(self, {ZONE_NAME: ZONE},
                                  extra_config='stats:\n  listen: "127.0.0.1:%d"\n' % stats_port).start(self)
        pid = server.proc.pid
        baseline = open_descriptors(pid)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 1200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        slow = []
        self.addCleanup(lambda: [c.close() for c in slow])
        # 500 clients of the stats port and 50 of the control socket, each sending a first
        # byte and then nothing: one byte per 5 s is as good as none within the deadline.
        for _ in range(500):
            try:
                s = socket.create_connection(("127.0.0.1", stats_port), timeout=2)
                s.sendall(b"G")
                slow.append(s)
            except OSError:
                pass
        for _ in range(50):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                s.connect(server.socket_path)
                s.sendall(b"{")
                slow.append(s)
            except OSError:
                s.close()
        self.assertGreater(len(slow), 400)
        # The server holds at most its caps (64 stats, 16 control) of them.
        self.assertLess(open_descriptors(pid), baseline + 64 + 16 + 10)

        connection = http.client.HTTPConnection("127.0.0.1", stats_port, timeout=5)
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
        self.assertEqual(response.status, 200)
        self.assertIn("meridian_tcp_connections", body)
        with connect_from("127.0.0.1", server.port) as s:
            self.assertEqual(tcp_ask(s, 77).id, 77)
        status = run_dnsctl("--socket", server.socket_path, "status")
        self.assertEqual(status.returncode, 0, str(status))

        # A request still incomplete after the 5 s deadline is closed.
        trickler = socket.create_connection(("127.0.0.1", stats_port), timeout=2)
        self.addCleanup(trickler.close)
        trickler.sendall(b"GET /metrics HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 9:
            try:
                trickler.sendall(b"X")
            except OSError:
                closed = True
                break
            if harness.connection_closed(trickler, timeout=1.0):
                closed = True
                break
        self.assertTrue(closed, "a request trickled over 9 s was not cut off")
        self.assertGreater(time.monotonic() - started, 4.0)
        self.assertTrue(server.alive())


class StartupTest(harness.E2ECase):

    def start_expecting_failure(self, server):
        proc = subprocess.run([harness.MERIDIAN_BIN, "--config", server.config_path], cwd=server.workdir,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return proc.returncode, proc.stderr.decode()

    def start_with_descriptor_limit(self, server, soft, hard):
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        server._log_file = open(server.log_path, "wb")
        server.proc = subprocess.Popen([harness.MERIDIAN_BIN, "--config", server.config_path], cwd=server.workdir,
                                       stdout=server._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       preexec_fn=limit)
        self.addCleanup(server.stop)
        server.wait_ready()
        return server

    def test_a_taken_port_is_named_in_one_line_and_nothing_else_starts(self):
        for transport, kind in (("udp", socket.SOCK_DGRAM), ("tcp", socket.SOCK_STREAM)):
            server = harness.Meridian(self, {ZONE_NAME: ZONE})
            blocker = socket.socket(socket.AF_INET, kind)
            self.addCleanup(blocker.close)
            blocker.bind(("127.0.0.1", server.port))
            if kind == socket.SOCK_STREAM:
                blocker.listen(1)
            code, stderr = self.start_expecting_failure(server)
            self.assertEqual(code, 1, stderr)
            expected = "127.0.0.1:%d/%s: address already in use" % (server.port, transport)
            lines = [line for line in stderr.splitlines() if line.strip()]
            self.assertEqual(len(lines), 1, stderr)
            self.assertIn(expected, lines[0])
            self.assertFalse(os.path.exists(server.socket_path), "the control socket was opened before DNS")

    def test_no_other_socket_can_share_the_udp_port(self):
        """SO_REUSEADDR on a UDP socket would let any process that sets it bind the same port and
        take queries, or let a client such as dig pick the port and receive its own query."""
        server = harness.Meridian(self, {ZONE_NAME: ZONE}).start(self)
        for address in ("127.0.0.1", "0.0.0.0"):
            with self.subTest(address=address):
                intruder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.addCleanup(intruder.close)
                intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                with self.assertRaises(OSError) as caught:
                    intruder.bind((address, server.port))
                self.assertEqual(caught.exception.errno, errno.EADDRINUSE)
        self.assertEqual(harness.query(server.port, ZONE_NAME, "SOA").rcode, 0)

    def test_descriptor_limit_is_raised_and_tcp_fits_a_small_one(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < 2048 or hard == resource.RLIM_INFINITY:
            self.skipTest("needs a finite hard descriptor limit of at least 2048")
        # More connections than the hard limit allows descriptors: lowered, whatever the machine.
        configured = hard + 1000
        raised = self.start_with_descriptor_limit(harness.Meridian(self, {ZONE_NAME: ZONE}, tcp_max_connections=configured),
                                                  256, hard)
        with open("/proc/%d/limits" % raised.proc.pid) as f:
            line = next(entry for entry in f if entry.startswith("Max open files"))
        self.assertEqual(int(line.split()[3]), hard, line)
        self.assertRegex(raised.log(), r"tcp_max_connections lowered from %d to \d+: the file descriptor limit is %d"
                         % (configured, hard))

        tight = self.start_with_descriptor_limit(harness.Meridian(self, {ZONE_NAME: ZONE}, tcp_max_connections=1024),
                                                 300, 300)
        self.assertRegex(tight.log(), r"tcp_max_connections lowered from 1024 to \d+: the file descriptor limit is 300")
        self.assertRcode(harness.query(tight.port, "www." + ZONE_NAME, "A", tcp=True), "NOERROR")


if __name__ == "__main__":
    unittest.main()
