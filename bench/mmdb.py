"""A minimal, read-only MaxMind DB reader (python3 stdlib only).

The benchmark uses it to draw client subnets from networks that the GeoIP database really
holds, and to say where each lies, without depending on Meridian's own reader.
Format: https://maxmind.github.io/MaxMind-DB/ (search tree, data section, metadata).
"""

import ipaddress
import struct

_METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"


class Reader:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        at = self.buf.rfind(_METADATA_MARKER)
        if at < 0:
            raise ValueError(f"{path}: not a MaxMind DB file (no metadata marker)")
        self.meta, _ = self._decode(at + len(_METADATA_MARKER), at + len(_METADATA_MARKER))
        self.node_count = self.meta["node_count"]
        self.record_size = self.meta["record_size"]
        self.ip_version = self.meta["ip_version"]
        if self.record_size not in (24, 28, 32):
            raise ValueError(f"{path}: unsupported record size {self.record_size}")
        self.node_bytes = self.record_size * 2 // 8
        self.tree_size = self.node_bytes * self.node_count
        self.data_start = self.tree_size + 16
        self._ipv4_start = 0
        if self.ip_version == 6:
            node = 0
            for _ in range(96):
                if node >= self.node_count:
                    break
                node = self._record(node, 0)
            self._ipv4_start = node

    # -- search tree -------------------------------------------------------------------
    def _record(self, node, bit):
        b = self.buf
        off = node * self.node_bytes
        if self.record_size == 24:
            off += 3 * bit
            return (b[off] << 16) | (b[off + 1] << 8) | b[off + 2]
        if self.record_size == 28:
            if bit == 0:
                return ((b[off + 3] & 0xF0) << 20) | (b[off] << 16) | (b[off + 1] << 8) | b[off + 2]
            return ((b[off + 3] & 0x0F) << 24) | (b[off + 4] << 16) | (b[off + 5] << 8) | b[off + 6]
        off += 4 * bit
        return struct.unpack_from(">I", b, off)[0]

    def lookup(self, address):
        """Returns (record or None, prefix length of the database network)."""
        ip = ipaddress.ip_address(address)
        if ip.version == 4:
            bits, value, node = 32, int(ip), self._ipv4_start
        else:
            bits, value, node = 128, int(ip), 0
        depth = 0
        while depth < bits and node < self.node_count:
            bit = (value >> (bits - 1 - depth)) & 1
            node = self._record(node, bit)
            depth += 1
        if node == self.node_count:
            return None, depth
        if node < self.node_count:
            raise ValueError("invalid search tree")
        offset = self.data_start + (node - self.node_count - 16)
        record, _ = self._decode(offset, self.data_start)
        return record, depth

    # -- walking the tree (the end-to-end ECS-scope test) ------------------------------
    def root(self, version):
        """The pointer IPv4 (4) or IPv6 (6) lookups start from."""
        return self._ipv4_start if version == 4 else 0

    def is_node(self, pointer):
        return pointer < self.node_count

    def child(self, node, bit):
        return self._record(node, bit)

    def data(self, pointer):
        """The record a leaf pointer leads to; None for the empty leaf."""
        if pointer == self.node_count:
            return None
        record, _ = self._decode(self.data_start + (pointer - self.node_count - 16), self.data_start)
        return record

    # -- data section ------------------------------------------------------------------
    def _decode(self, off, base):
        b = self.buf
        ctrl = b[off]
        off += 1
        kind = ctrl >> 5
        if kind == 1:  # pointer
            ss = (ctrl >> 3) & 3
            vvv = ctrl & 7
            if ss == 0:
                ptr = (vvv << 8) | b[off]
                off += 1
            elif ss == 1:
                ptr = ((vvv << 16) | (b[off] << 8) | b[off + 1]) + 2048
                off += 2
            elif ss == 2:
                ptr = ((vvv << 24) | (b[off] << 16) | (b[off + 1] << 8) | b[off + 2]) + 526336
                off += 3
            else:
                ptr = struct.unpack_from(">I", b, off)[0]
                off += 4
            value, _ = self._decode(base + ptr, base)
            return value, off
        if kind == 0:
            kind = 7 + b[off]
            off += 1
        size = ctrl & 0x1F
        if size == 29:
            size = 29 + b[off]
            off += 1
        elif size == 30:
            size = 285 + ((b[off] << 8) | b[off + 1])
            off += 2
        elif size == 31:
            size = 65821 + ((b[off] << 16) | (b[off + 1] << 8) | b[off + 2])
            off += 3
        if kind == 2:
            return b[off:off + size].decode("utf-8", "replace"), off + size
        if kind == 3:
            return struct.unpack_from(">d", b, off)[0], off + 8
        if kind == 4:
            return bytes(b[off:off + size]), off + size
        if kind in (5, 6, 9, 10):
            return int.from_bytes(b[off:off + size], "big"), off + size
        if kind == 7:
            out = {}
            for _ in range(size):
                key, off = self._decode(off, base)
                out[key], off = self._decode(off, base)
            return out, off
        if kind == 8:
            return int.from_bytes(b[off:off + size].rjust(4, b"\0"), "big", signed=True), off + size
        if kind == 11:
            out = []
            for _ in range(size):
                item, off = self._decode(off, base)
                out.append(item)
            return out, off
        if kind == 14:
            return bool(size), off
        if kind == 15:
            return struct.unpack_from(">f", b, off)[0], off + 4
        if kind in (12, 13):
            return None, off
        raise ValueError(f"unknown MaxMind DB data type {kind}")


def place(record):
    """(continent code, country code, latitude, longitude, accuracy radius) of a record."""
    if not record:
        return None
    loc = record.get("location") or {}
    cont = (record.get("continent") or {}).get("code")
    country = (record.get("country") or record.get("registered_country") or {}).get("iso_code")
    return cont, country, loc.get("latitude"), loc.get("longitude"), loc.get("accuracy_radius")
