"""A tiny DNS client (python3 stdlib) for the kit's start-up probes and answer checks."""

import ipaddress
import random
import socket
import struct
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def build(name, qtype, subnet=None, qid=None):
    qid = random.randrange(65536) if qid is None else qid
    wire = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1)
    for label in name.rstrip(".").split("."):
        wire += bytes([len(label)]) + label.encode()
    wire += b"\0" + struct.pack(">HH", TYPES[qtype], 1)
    opt = b""
    if subnet:
        net = ipaddress.ip_network(subnet, strict=False)
        nbytes = (net.prefixlen + 7) // 8
        family = 1 if net.version == 4 else 2
        data = struct.pack(">HBB", family, net.prefixlen, 0) + net.network_address.packed[:nbytes]
        opt = struct.pack(">HH", 8, len(data)) + data
    wire += b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(opt)) + opt
    return qid, wire


def _name(msg, off):
    labels, jumped, end = [], False, off
    for _ in range(128):
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumped = True
            continue
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels) + ".", (end if jumped else off)


def parse(msg):
    """rcode, flags and the answer records as (name, type, ttl, rdata text)."""
    qid, flags, qd, an, ns, ar = struct.unpack_from(">HHHHHH", msg, 0)
    off = 12
    for _ in range(qd):
        _, off = _name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        owner, off = _name(msg, off)
        rtype, _, ttl, rdlen = struct.unpack_from(">HHIH", msg, off)
        off += 10
        rdata = msg[off:off + rdlen]
        if rtype == 1:
            text = str(ipaddress.IPv4Address(rdata))
        elif rtype == 28:
            text = str(ipaddress.IPv6Address(rdata))
        else:
            text = rdata.hex()
        answers.append((owner, rtype, ttl, text))
        off += rdlen
    return {"id": qid, "rcode": RCODES.get(flags & 15, str(flags & 15)), "aa": bool(flags & 0x400),
            "answers": answers}


class Client:
    def __init__(self, port, host="127.0.0.1"):
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def close(self):
        self.sock.close()

    def ask(self, name, qtype, subnet=None, timeout=1.0, tries=2):
        for _ in range(tries):
            qid, wire = build(name, qtype, subnet)
            self.sock.sendto(wire, self.addr)
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                try:
                    msg, _ = self.sock.recvfrom(4096)
                except socket.timeout:
                    break
                except OSError:   # ICMP port unreachable: nothing listens yet
                    return None
                if len(msg) >= 12 and struct.unpack_from(">H", msg)[0] == qid:
                    return parse(msg)
        return None
