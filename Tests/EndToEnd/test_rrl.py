"""Response rate limiting against real traffic.

A flood of ~20,000 queries a second for one large answer, from sockets bound to 127.0.0.2
(network 127.0.0.0/24), against the real binary: what comes back is counted and must stay
within ``rate`` full answers a second plus the first second's burst, plus slipped TC=1
answers; a second client in 127.0.1.0/24 must get every answer during the flood (asking
again, as a stub does, for any query the loaded server's socket loses). The server's
bytes-out / bytes-in amplification factor is printed with limiting on and off.
"""

import http.client
import os
import select
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Message, ParseError, free_port, make_query, run_dnsctl, wait_until  # noqa: E402

ZONE_NAME = "rrl.test."
# "big" is about 1,100 octets with EDNS: the "large" class, and a good amplifier.
ZONE = """$ORIGIN rrl.test.
$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 300
@       IN NS  ns1
ns1     IN A   192.0.2.1
www     IN A   192.0.2.80
%s
""" % "\n".join('big IN TXT "%02d%s"' % (i, "b" * 118) for i in range(8))

RATE = 20
FLOOD_QPS = int(os.environ.get("E2E_RRL_QPS", "20000"))
FLOOD_SECONDS = 3.0
FLOOD_SOURCE = "127.0.0.2"      # network 127.0.0.0/24
VICTIM_SOURCE = "127.0.1.2"     # network 127.0.1.0/24: its own buckets
VICTIM_QPS = 10                 # half of it per name: well within its own rate


class Flood:
    """Sends FLOOD_QPS queries a second for ``seconds`` from FLOOD_SOURCE, paced in 1 ms
    steps over non-blocking sockets, while a victim at VICTIM_SOURCE asks VICTIM_QPS
    queries a second; counts what comes back."""

    def __init__(self, port, seconds, qps=FLOOD_QPS):
        self.port, self.seconds, self.qps = port, seconds, qps
        self.sent = self.bytes_out = self.bytes_in = 0
        self.full = self.slipped = 0
        self.victim_sent = 0
        # ID -> [wire, last sent, tries]: a query the server lost under the flood's load (its
        # socket buffer overflowing, not rate limiting) is asked again, as a stub would.
        self.victim_pending = {}
        self.victim_tries = 0
        self.victim_answered = set()
        self.victim_truncated = 0
        self.elapsed = 0.0

    def socket_from(self, source, sockets=1):
        out = []
        for _ in range(sockets):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.bind((source, 0))
            s.connect(("127.0.0.1", self.port))
            s.setblocking(False)
            out.append(s)
        return out

    def run(self):
        # Several source ports, as a spoofed flood has: SO_REUSEPORT spreads them over the
        # server's UDP threads, which must still share one limit.
        flooders = self.socket_from(FLOOD_SOURCE, sockets=4)
        (victim,) = self.socket_from(VICTIM_SOURCE)
        query = bytearray(make_query("big.rrl.test.", "TXT", qid=0, edns=True))
        victim_queries = [make_query(name, qtype, qid=0, edns=True)
                          for name, qtype in (("big.rrl.test.", "TXT"), ("www.rrl.test.", "A"))]
        try:
            start = time.monotonic()
            deadline = start + self.seconds
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                due = int((now - start) * self.qps)
                while self.sent < due:
                    struct.pack_into("!H", query, 0, self.sent & 0xFFFF)
                    try:
                        flooders[self.sent % len(flooders)].send(query)
                    except BlockingIOError:
                        break
                    self.sent += 1
                    self.bytes_out += len(query)
                if self.victim_sent < int((now - start) * VICTIM_QPS) + 1:
                    wire = bytearray(victim_queries[self.victim_sent % 2])
                    struct.pack_into("!H", wire, 0, self.victim_sent)
                    self.victim_pending[self.victim_sent] = [bytes(wire), 0.0, 0]
                    self.victim_sent += 1
                self.victim_resend(victim, now)
                self.drain(flooders, victim, 0.001)
            self.elapsed = time.monotonic() - start
            # Stragglers: until the line is quiet for half a second and the victim has its answers.
            quiet = time.monotonic() + 0.5
            while time.monotonic() < quiet or (self.victim_pending and time.monotonic() < quiet + 3):
                self.victim_resend(victim, time.monotonic())
                if self.drain(flooders, victim, 0.05):
                    quiet = time.monotonic() + 0.5
        finally:
            for s in flooders + [victim]:
                s.close()
        return self

    def victim_resend(self, victim, now):
        for pending in self.victim_pending.values():
            if now - pending[1] >= 0.25 and pending[2] < 8:
                victim.send(pending[0])
                pending[1] = now
                pending[2] += 1
                self.victim_tries += 1

    def drain(self, flooders, victim, wait):
        got = 0
        ready, _, _ = select.select(flooders + [victim], [], [], wait)
        for s in ready:
            while True:
                try:
                    data = s.recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                got += 1
                # The header is enough, and cheap enough to keep up with the flood.
                qid, flags, _, ancount = struct.unpack_from("!HHHH", data)
                truncated = bool(flags & harness.FLAG_TC)
                if s is victim:
                    if truncated:
                        self.victim_truncated += 1
                    elif flags & 0xF == 0 and ancount > 0:
                        self.victim_answered.add(qid)
                        self.victim_pending.pop(qid, None)
                    continue
                self.bytes_in += len(data)
                if truncated:
                    self.slipped += 1
                else:
                    self.full += 1
                if got >= 512:
                    return got
        return got

    @property
    def amplification(self):
        return self.bytes_in / self.bytes_out if self.bytes_out else 0.0

    def report(self, label):
        print("\n[test_rrl] %s: sent %d queries in %.2fs (%.0f/s), %d full answers, %d slipped; "
              "server bytes in %d, bytes out %d: amplification %.2f; victim %d/%d answered (%d sends)"
              % (label, self.sent, self.elapsed, self.sent / max(self.elapsed, 1e-9), self.full, self.slipped,
                 self.bytes_out, self.bytes_in, self.amplification, len(self.victim_answered), self.victim_sent,
                 self.victim_tries),
              file=sys.stderr)


class RateLimitTest(harness.E2ECase):

    def start(self, rrl):
        stats_port = free_port()
        server = harness.Meridian(self, {ZONE_NAME: ZONE}, rrl=rrl,
                                  extra_config='stats:\n  listen: "127.0.0.1:%d"\n' % stats_port)
        server.start(self)
        server.stats_port = stats_port
        return server

    def stats(self, server):
        result = run_dnsctl("--json", "--socket", server.socket_path, "stats")
        self.assertEqual(result.returncode, 0, str(result))
        return result.json()

    def metrics(self, server):
        conn = http.client.HTTPConnection("127.0.0.1", server.stats_port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            return conn.getresponse().read().decode()
        finally:
            conn.close()

    def test_flood_from_one_network_is_limited_and_others_are_served(self):
        server = self.start("rrl:\n  rate: %d\n  slip: 2\n" % RATE)
        flood = Flood(server.port, FLOOD_SECONDS).run()
        flood.report("rrl.rate %d" % RATE)

        self.assertGreater(flood.sent / flood.elapsed, 5 * RATE * 10, "the flood did not reach a flood's rate")
        # At most `rate` a second, plus the first second's burst (the bucket starts full),
        # plus one second for the time the server's and the test's clocks disagree on.
        self.assertLessEqual(flood.full, RATE * (flood.elapsed + 2), "more full answers than the rate allows")
        self.assertGreaterEqual(flood.full, RATE, "not even the first second's burst was answered")
        # Every second limited response slips: about half of what was limited comes back.
        stats = wait_until(lambda: self.settled_stats(server, flood), 10, message="the server's counters")
        rrl = stats["rateLimit"]
        self.assertGreaterEqual(rrl["slipped"], flood.slipped)
        self.assertGreater(flood.slipped, 0, "no slipped TC answer arrived")
        # One slip counter per UDP thread: each may be one short of half.
        self.assertLessEqual(abs(rrl["slipped"] - rrl["dropped"]), 8, rrl)
        self.assertEqual(rrl["limitedByClass"].get("large"), rrl["slipped"] + rrl["dropped"], rrl)
        # The victim's network has its own buckets: every one of its questions answered in full.
        self.assertEqual(flood.victim_truncated, 0)
        self.assertEqual(len(flood.victim_answered), flood.victim_sent,
                         "the client outside the flooding network lost answers")
        self.assertLess(flood.amplification, 1.0, "limited responses still amplify")

        metrics = self.metrics(server)
        self.assertIn('meridian_rrl_responses_total{action="slipped"} %d' % rrl["slipped"], metrics)
        self.assertIn('meridian_rrl_responses_total{action="dropped"} %d' % rrl["dropped"], metrics)
        self.assertIn('meridian_rrl_limited_total{class="large"}', metrics)
        text = run_dnsctl("--socket", server.socket_path, "stats")
        self.assertRegex(text.stdout, r"rrl +[\d,]+ limited \(large [\d,]+\); slipped [\d,]+, dropped [\d,]+")

        # TCP is never limited, even for the flooding network's own name.
        answer = harness.tcp_query(server.port, make_query("big.rrl.test.", "TXT", edns=True))
        self.assertFalse(answer.tc)
        self.assertEqual(len(answer.answer), 8)

    def settled_stats(self, server, flood):
        """The server's counters once every reply the test counted is in them."""
        stats = self.stats(server)
        return stats if stats["rateLimit"]["slipped"] >= flood.slipped else None

    def test_without_limiting_the_flood_is_amplified(self):
        server = self.start("rrl:\n  rate: 0\n")
        flood = Flood(server.port, FLOOD_SECONDS / 2).run()
        flood.report("rrl.rate 0")
        self.assertEqual(flood.slipped, 0)
        self.assertGreater(flood.full, RATE * 10, "without limiting the flood must be answered")
        self.assertGreater(flood.amplification, 5.0)
        self.assertEqual(self.stats(server)["rateLimit"], {"limitedByClass": {}, "slipped": 0, "dropped": 0})

    def test_exempt_network_is_never_limited(self):
        server = self.start('rrl:\n  rate: 5\n  exempt: ["127.0.0.0/24"]\n')
        answered = 0
        for qid in range(60):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind((FLOOD_SOURCE, 0))
                sock.settimeout(2.0)
                sock.connect(("127.0.0.1", server.port))
                sock.send(make_query("big.rrl.test.", "TXT", qid=qid, edns=True))
                if not Message.parse(sock.recv(65535)).tc:
                    answered += 1
            except (socket.timeout, ParseError):
                pass
            finally:
                sock.close()
        self.assertEqual(answered, 60)
        self.assertEqual(self.stats(server)["rateLimit"]["slipped"], 0)


if __name__ == "__main__":
    unittest.main()
