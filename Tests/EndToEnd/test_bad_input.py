"""Hostile input: >= 100,000 random and mutated UDP packets at full speed, and garbage over TCP.

Every reply that arrives must be a well-formed response to a packet we sent (matching ID on
the socket that sent it), never to a packet without a readable header or to a response, and
its rcode must fit what the packet was. Afterwards the server must still answer correctly.

The random seed is printed; set E2E_SEED to replay a run.
"""

import os
import random
import select
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (Message, ParseError, encode_name, header, make_query, opt_rr,  # noqa: E402
                     query, read_name, tcp_frame, wait_until)

ZONE_NAME = "fuzz.test."
ZONE = """$ORIGIN fuzz.test.
$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 300
@       IN NS  ns1
@       IN MX  10 mail
ns1     IN A   192.0.2.1
mail    IN A   192.0.2.2
www     IN A   192.0.2.3
www     IN AAAA 2001:db8::3
alias   IN CNAME www
*.wild  IN A   192.0.2.4
sub     IN NS  ns.sub
ns.sub  IN A   192.0.2.5
%s
""" % "\n".join('big IN TXT "%03d%s"' % (i, "z" * 97) for i in range(40))

NAMES = ["fuzz.test.", "www.fuzz.test.", "WwW.FuZz.TeSt.", "alias.fuzz.test.", "x.wild.fuzz.test.",
         "nope.fuzz.test.", "a.sub.fuzz.test.", "big.fuzz.test.", "example.com.", "."]
QTYPES = [1, 2, 5, 6, 15, 16, 28, 33, 255, 65000, 0, 41, 251, 252]

PACKETS = int(os.environ.get("E2E_FUZZ_PACKETS", "100000"))
SOCKETS = 4  # IDs are unique per socket: at most 65536 packets each
UDP_BUDGET = 40.0  # seconds for generating + sending + draining


class Fuzzer:
    def __init__(self, rng):
        self.rng = rng

    def rbytes(self, n):
        return self.rng.randbytes(n)

    def valid(self, qid):
        rng = self.rng
        edns = None
        if rng.random() < 0.5:
            options = []
            if rng.random() < 0.3:
                options.append(harness.ecs_option("192.0.2.0", 24))
            if rng.random() < 0.2:
                options.append((10, self.rbytes(8)))  # client cookie
            if rng.random() < 0.2:
                options.append((12, bytes(rng.randrange(0, 600))))  # padding: big queries
            edns = {"payload": rng.choice([0, 512, 1232, 4096, 65535]), "options": options,
                    "do": rng.random() < 0.3}
        return make_query(rng.choice(NAMES), rng.choice(QTYPES[:9]), qid=qid, edns=edns,
                          rd=rng.random() < 0.5)

    def packet(self, qid):
        """(kind, wire) with the ID patched in wherever the packet has a header."""
        rng = self.rng
        kind = rng.choices(KINDS, WEIGHTS)[0]
        wire = bytearray(getattr(self, "k_" + kind)(qid))
        if len(wire) >= 2 and kind != "random":
            wire[0:2] = struct.pack("!H", qid)
        return kind, bytes(wire)

    # -- kinds ---------------------------------------------------------------------------
    def k_valid(self, qid):
        return self.valid(qid)

    def k_random(self, qid):
        n = self.rng.choice([0, 1, 2, 5, 11, 12, 13, 20, 40, 100, 300, 512, 1500])
        data = bytearray(self.rbytes(n))
        if len(data) >= 2:
            data[0:2] = struct.pack("!H", qid)
        return data

    def k_truncated(self, qid):
        v = self.valid(qid)
        return v[:self.rng.randrange(0, len(v))]

    def k_bitflip(self, qid):
        v = bytearray(self.valid(qid))
        for _ in range(self.rng.randint(1, 8)):
            i = self.rng.randrange(2, len(v))
            v[i] ^= 1 << self.rng.randrange(8)
        return v

    def k_bytemut(self, qid):
        v = bytearray(self.valid(qid))
        for _ in range(self.rng.randint(1, 4)):
            v[self.rng.randrange(2, len(v))] = self.rng.getrandbits(8)
        if self.rng.random() < 0.3:
            v += self.rbytes(self.rng.randint(1, 30))
        return v

    def k_pointer_loop(self, qid):
        rng = self.rng
        choice = rng.randrange(4)
        if choice == 0:   # pointer to itself
            name = b"\xc0\x0c"
        elif choice == 1:  # label then pointer back to the label
            name = b"\x03www\xc0\x0c"
        elif choice == 2:  # two pointers pointing at each other
            name = b"\xc0\x0e\xc0\x0c"
        else:              # pointer into the header
            name = bytes([0xC0, rng.randrange(0, 12)])
        return header(qid) + name + struct.pack("!HH", 1, 1)

    def k_forward_pointer(self, qid):
        return header(qid) + b"\x01a\xc0\x20" + struct.pack("!HH", 1, 1) + b"\x00" * 20

    def k_huge_counts(self, qid):
        v = bytearray(self.valid(qid))
        for off in self.rng.sample([4, 6, 8, 10], self.rng.randint(1, 4)):
            v[off:off + 2] = struct.pack("!H", self.rng.choice([2, 255, 0x7FFF, 0xFFFF]))
        return v

    def k_long_label(self, qid):
        n = self.rng.randint(64, 255)
        return header(qid) + bytes([n]) + b"a" * min(n, 200) + b"\x00" + struct.pack("!HH", 1, 1)

    def k_long_name(self, qid):
        labels = b"".join(b"\x3f" + b"n" * 63 for _ in range(self.rng.randint(4, 6)))
        return header(qid) + labels + b"\x00" + struct.pack("!HH", 1, 1)

    def k_bad_opt(self, qid):
        rng = self.rng
        body = make_query(rng.choice(NAMES), 1, qid=qid)[12:]
        variant = rng.randrange(6)
        if variant == 0:    # non-root owner
            opt = encode_name("x.") + opt_rr()[1:]
            return header(qid, 0, 1, 0, 0, 1) + body + opt
        if variant == 1:    # RDLENGTH past the end
            opt = bytearray(opt_rr(options=[(10, b"12345678")]))
            opt[9:11] = struct.pack("!H", 200)
            return header(qid, 0, 1, 0, 0, 1) + body + bytes(opt)
        if variant == 2:    # option length past RDLENGTH
            rdata = struct.pack("!HH", 8, 40) + b"\x00\x01\x18\x00"
            opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(rdata)) + rdata
            return header(qid, 0, 1, 0, 0, 1) + body + opt
        if variant == 3:    # OPT in the answer section
            return header(qid, 0, 1, 1, 0, 0) + body + opt_rr()
        if variant == 4:    # random version / flags
            return header(qid, 0, 1, 0, 0, 1) + body + opt_rr(version=rng.randrange(256),
                                                               flags=rng.getrandbits(16))
        # truncated OPT
        return header(qid, 0, 1, 0, 0, 1) + body + opt_rr()[:rng.randrange(1, 11)]

    def k_two_opt(self, qid):
        body = make_query(self.rng.choice(NAMES), 1, qid=qid)[12:]
        return header(qid, 0, 1, 0, 0, 2) + body + opt_rr() + opt_rr(payload=4096)

    def k_bad_ecs(self, qid):
        rng = self.rng
        fam = rng.choice([0, 1, 2, 3, 0xFFFF])
        src = rng.choice([0, 8, 24, 32, 33, 64, 128, 129, 255])
        scope = rng.choice([0, 0, 24, 255])
        addr = self.rbytes(rng.randint(0, 20))
        data = struct.pack("!HBB", fam, src, scope) + addr
        if rng.random() < 0.2:
            data = data[:rng.randrange(0, 4)]
        return make_query(rng.choice(NAMES), 1, qid=qid, edns={"options": [(8, data)]})

    def k_response(self, qid):
        v = bytearray(self.valid(qid))
        v[2] |= 0x80
        return v

    def k_opcode(self, qid):
        v = bytearray(self.valid(qid))
        v[2] = (v[2] & 0x87) | (self.rng.randrange(1, 16) << 3)
        return v

    def k_qdcount(self, qid):
        v = bytearray(self.valid(qid))
        v[4:6] = struct.pack("!H", self.rng.choice([0, 2, 3]))
        return v

    def k_splice(self, qid):
        a, b = self.valid(qid), self.valid(qid)
        return a[:self.rng.randrange(12, len(a))] + b[self.rng.randrange(0, len(b)):]


KIND_WEIGHTS = [
    ("valid", 10), ("random", 10), ("truncated", 10), ("bitflip", 12), ("bytemut", 10),
    ("pointer_loop", 5), ("forward_pointer", 3), ("huge_counts", 6), ("long_label", 4),
    ("long_name", 2), ("bad_opt", 8), ("two_opt", 3), ("bad_ecs", 6), ("response", 4),
    ("opcode", 4), ("qdcount", 3), ("splice", 5),
]
KINDS = [k for k, _ in KIND_WEIGHTS]
WEIGHTS = [w for _, w in KIND_WEIGHTS]


def short_hex(data, limit=64):
    if len(data) <= limit:
        return data.hex()
    return "%s...(%d octets)" % (data[:limit].hex(), len(data))


def expectation(wire):
    """What may come back for ``wire``: None (no reply allowed) or a dict of constraints."""
    if len(wire) < 12:
        return None
    flags = struct.unpack("!H", wire[2:4])[0]
    if flags & 0x8000:
        return None
    opcode = (flags >> 11) & 0xF
    qd = struct.unpack("!H", wire[4:6])[0]
    question = None
    try:
        if qd >= 1:
            name, pos = read_name(wire, 12)
            if pos + 4 <= len(wire):
                question = (name,) + struct.unpack("!HH", wire[pos:pos + 4])
    except ParseError:
        question = None
    edns_payload = None
    try:
        edns_payload = Message.parse(wire).edns_payload
    except (ParseError, ValueError, struct.error):
        pass
    return {"opcode": opcode, "qd": qd, "question": question, "payload": edns_payload}


class BadInputTest(harness.E2ECase):

    @classmethod
    def setUpClass(cls):
        # With the server's own rate limiting (on by default): hostile input from one
        # network is limited like any other, and what slips out must still be well formed.
        # The TCP garbage comes from one address over some 30 connections: the per-client
        # cap (tested in test_limits) is raised so that every kind of garbage reaches the parser.
        cls.server = harness.Meridian(cls, {ZONE_NAME: ZONE}, tcp_idle_timeout="2s",
                                      tcp_max_connections=64, rrl="", tcp_max_connections_per_client=64)
        cls.server.start(cls)
        cls.port = cls.server.port
        seed = int(os.environ.get("E2E_SEED", str(int(time.time()))))
        print("\n[test_bad_input] seed %d" % seed, file=sys.stderr)
        cls.seed = seed

    def assert_server_healthy(self):
        self.assertTrue(self.server.alive(), "meridian died:\n" + self.server.log()[-4000:])
        m = wait_until(lambda: self.server.answers("www.fuzz.test.", "A", timeout=0.5), 10,
                       message="an answer after the garbage")
        self.assertEqual(m.rcode, 0)
        self.assertTrue(m.aa)
        self.assertEqual([r.text for r in m.answer], ["192.0.2.3"])
        # Over TCP the garbage's own address may still hold its 16 connections until their
        # idle timeout; the server must answer once they are gone.
        def tcp_answer():
            try:
                return query(self.port, "www.fuzz.test.", "AAAA", tcp=True, timeout=1.0)
            except (OSError, ConnectionError, ParseError):
                return None
        m = wait_until(tcp_answer, 10, message="a TCP answer after the garbage")
        self.assertEqual([r.text for r in m.answer], ["2001:db8::3"])

    def check_reply(self, data, sent, errors, stats):
        """Validate one UDP reply against the packet that has its ID."""
        if len(data) < 2:
            errors.append("reply of %d octets" % len(data))
            return
        qid = struct.unpack("!H", data[:2])[0]
        if qid not in sent:
            errors.append("reply with ID %d that no packet on this socket carried" % qid)
            return
        kind, wire = sent[qid]
        exp = expectation(wire)
        context = "kind=%s sent=%s reply=%s" % (kind, short_hex(wire), short_hex(data))
        if exp is None:
            errors.append("reply to a packet without readable header or with QR=1: " + context)
            return
        try:
            msg = Message.parse(data)
        except ParseError as e:
            errors.append("malformed reply (%s): %s" % (e, context))
            return
        stats[(kind, msg.rcode_name)] = stats.get((kind, msg.rcode_name), 0) + 1
        if not msg.qr:
            errors.append("reply without QR: " + context)
        if msg.opcode != exp["opcode"]:
            errors.append("opcode not echoed: " + context)
        if exp["opcode"] != 0 and msg.rcode not in (4, 1):
            errors.append("opcode %d answered with %s: %s" % (exp["opcode"], msg.rcode_name, context))
        limit = 512 if exp["payload"] is None else max(512, min(exp["payload"], 1232))
        if len(data) > limit:
            errors.append("reply of %d octets exceeds %d: %s" % (len(data), limit, context))
        if msg.rcode in (1, 4, 5) and not msg.questions:
            return  # FORMERR, NOTIMP and REFUSED may leave the question out
        # anything else: only for a readable single question, which it must echo
        if exp["qd"] != 1 or exp["question"] is None:
            errors.append("%s answer to a packet without one readable question: %s"
                          % (msg.rcode_name, context))
            return
        if msg.questions != [exp["question"]]:
            errors.append("question not echoed (%r vs %r): %s"
                          % (msg.questions, exp["question"], context))
        if kind == "valid" and msg.rcode not in (0, 3, 5):
            errors.append("valid query answered %s: %s" % (msg.rcode_name, context))

    def test_udp_flood_of_bad_packets(self):
        rng = random.Random(self.seed)
        fuzzer = Fuzzer(rng)
        socks, sent = [], []
        for _ in range(SOCKETS):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.addCleanup(s.close)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.connect(("127.0.0.1", self.port))
            s.setblocking(False)
            socks.append(s)
            sent.append({})
        errors, stats = [], {}
        replies = 0
        per_socket = (PACKETS + SOCKETS - 1) // SOCKETS
        assert per_socket <= 65536

        def drain(wait=0.0):
            nonlocal replies
            got = 0
            ready, _, _ = select.select(socks, [], [], wait)
            for s in ready:
                idx = socks.index(s)
                while True:
                    try:
                        data = s.recv(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    except ConnectionRefusedError:
                        errors.append("ICMP port unreachable: the server stopped listening")
                        break
                    replies += 1
                    got += 1
                    if len(errors) < 50:
                        self.check_reply(data, sent[idx], errors, stats)
            return got

        start = time.monotonic()
        deadline = start + UDP_BUDGET
        total = 0
        ids = [list(range(65536)) for _ in range(SOCKETS)]
        for lst in ids:
            rng.shuffle(lst)
        for i in range(per_socket):
            for k, s in enumerate(socks):
                if total >= PACKETS:
                    break
                qid = ids[k][i]
                kind, wire = fuzzer.packet(qid)
                sent[k][qid] = (kind, wire)
                while True:
                    try:
                        s.send(wire)
                        break
                    except (BlockingIOError, InterruptedError):
                        drain(0.001)
                    except ConnectionRefusedError:
                        errors.append("ICMP port unreachable while sending")
                        break
                total += 1
            if i % 64 == 0:
                drain(0)
                if not self.server.alive():
                    break
            if time.monotonic() > deadline:
                break
        send_time = time.monotonic() - start
        # collect stragglers until the line is quiet for a second
        quiet_deadline = time.monotonic() + 1.0
        while time.monotonic() < quiet_deadline and time.monotonic() < deadline + 10:
            if drain(0.1):
                quiet_deadline = time.monotonic() + 1.0

        print("[test_bad_input] sent %d packets in %.1fs, %d replies" % (total, send_time, replies),
              file=sys.stderr)
        summary = {}
        for (kind, rcode), n in sorted(stats.items()):
            summary.setdefault(kind, []).append("%s=%d" % (rcode, n))
        for kind, parts in summary.items():
            print("    %-16s %s" % (kind, " ".join(parts)), file=sys.stderr)

        self.assertTrue(self.server.alive(), "meridian died under the flood:\n" + self.server.log()[-4000:])
        if errors:
            self.fail("%d bad replies (checking stops at 50), first ones:\n%s"
                      % (len(errors), "\n".join(errors[:20])))
        self.assertGreaterEqual(total, PACKETS, "only %d packets sent within %.0fs" % (total, UDP_BUDGET))
        self.assertGreater(replies, total // 20, "almost nothing was answered")
        self.assert_server_healthy()

    def test_tcp_garbage(self):
        rng = random.Random(self.seed + 1)
        fuzzer = Fuzzer(rng)
        port = self.port
        conns = []

        def connect():
            s = harness.tcp_connect(port)
            conns.append(s)
            return s
        self.addCleanup(lambda: [c.close() for c in conns])

        # 1. random bytes, several connections at once
        for _ in range(20):
            s = connect()
            try:
                s.sendall(fuzzer.rbytes(rng.randint(1, 3000)))
            except OSError:
                pass
        # 2. truncated frames, then half-close: the server must give up on them
        for cut in (1, 2, 5, 13):
            s = connect()
            frame = tcp_frame(make_query("www.fuzz.test.", "A", qid=cut))
            s.sendall(frame[:cut])
            s.shutdown(socket.SHUT_WR)
            self.assertTrue(harness.connection_closed(s, 3.0), "server kept a half-closed connection")
        # 3. zero-length and too-short frames
        for length in (0, 1, 11):
            s = connect()
            try:
                s.sendall(struct.pack("!H", length) + b"\x00" * length)
            except OSError:
                pass
        # 4. a 65535 length prefix followed by a little data and then nothing: closed by the
        #    idle timeout (2s) + 1s, however patient the peer
        slow = connect()
        slow.sendall(struct.pack("!H", 65535) + b"\x00" * 100)
        slow_start = time.monotonic()
        # 5. mutated but framed queries, pipelined; every reply must be well formed
        s = connect()
        sent = {}
        frames = []
        for i in range(500):
            kind, wire = fuzzer.packet(i)
            if len(wire) < 2:
                continue
            sent[struct.unpack("!H", wire[:2])[0]] = (kind, wire)
            frames.append(tcp_frame(wire))
        try:
            s.sendall(b"".join(frames))
        except OSError:
            pass  # the server may close the connection on the first bad frame
        errors, stats = [], {}
        s.settimeout(3.0)
        answered = 0
        while True:
            try:
                data = harness.tcp_read_message(s)
            except (OSError, ConnectionError):
                break
            answered += 1
            self.check_tcp_reply(data, sent, errors)
        if errors:
            self.fail("%d bad TCP replies:\n%s" % (len(errors), "\n".join(errors[:20])))

        self.assertTrue(harness.connection_closed(slow, max(0.1, 3.0 - (time.monotonic() - slow_start))),
                        "a connection stalled inside a frame was not closed by the idle timeout")
        self.assert_server_healthy()

    def check_tcp_reply(self, data, sent, errors):
        try:
            msg = Message.parse(data)
        except ParseError as e:
            errors.append("malformed TCP reply (%s): %s" % (e, short_hex(data)))
            return
        if msg.id not in sent:
            errors.append("TCP reply with unknown ID %d" % msg.id)
            return
        kind, wire = sent[msg.id]
        exp = expectation(wire)
        if exp is None:
            errors.append("TCP reply to a packet without readable header or with QR=1 (%s): %s"
                          % (kind, short_hex(wire)))
            return
        if msg.rcode in (1, 4, 5) and not msg.questions:
            return
        if msg.questions != [exp["question"]]:
            errors.append("TCP reply question %r for %r (%s)" % (msg.questions, exp["question"], kind))


if __name__ == "__main__":
    unittest.main()
