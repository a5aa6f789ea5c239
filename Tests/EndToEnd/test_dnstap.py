"""The dnstap query log (`log.dnstap`), read back with the readers operators use: Debian's
`dnstap-ldns` for files and `fstrm_capture` on a Frame Streams socket. Every query sent
appears once as AUTH_QUERY and its answer once as AUTH_RESPONSE, with the client's address
and transport; sampling and message kinds follow the configuration; a moved file is opened
again on reload; a reader that goes away or stalls costs counted drops, never answers."""

import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import unittest
import urllib.request

from harness import (MERIDIAN_BIN, E2ECase, Meridian, free_port, make_query, make_tempdir, run_dig, run_dnsctl,
                     stop_process, tcp_frame, tcp_read_message, testcase_cleanup, wait_until)

ZONE = """$ORIGIN tap.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 300
@    IN NS  ns
ns   IN A   192.0.2.53
*    IN A   192.0.2.80
"""

# 2026-12-03 14:03:50.056714 AQ 127.0.0.1 UDP 61b "ns.tap.test." IN A
QUICK_LINE = re.compile(r'^\S+ \S+ (AQ|AR) (\S+) (UDP|TCP) (\d+)b "([^"]*)" IN (\S+)')

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"

# Clients play several networks from 127.0.0.0/8; rate limiting would drop some of their answers.
LOOPBACK_EXEMPT = 'rrl:\n  exempt: ["127.0.0.0/8"]\n'


def require_tool(name, package):
    path = shutil.which(name)
    if path is None:
        raise AssertionError("%s is not installed: install the Debian package `%s`" % (name, package))
    return path


def read_dnstap(path):
    """(kind, address, transport, name) for every message of a dnstap file, as `dnstap-ldns` reads it."""
    proc = subprocess.run([require_tool("dnstap-ldns", "dnstap-ldns"), "-r", path], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("dnstap-ldns -r %s failed: %s" % (path, proc.stderr.decode(errors="replace")))
    messages = []
    for line in proc.stdout.decode(errors="replace").splitlines():
        match = QUICK_LINE.match(line)
        if match is None:
            raise AssertionError("dnstap-ldns printed a line that is not a message: %r" % line)
        messages.append((match.group(1), match.group(2), match.group(3), match.group(5).lower()))
    return messages


def frames_in(path):
    """Data frames written so far to a Frame Streams file that may still be growing."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return 0
    # The START control frame: an escape (length 0), its length, then its body.
    if len(data) < 8:
        return 0
    offset, count = 8 + struct.unpack("!I", data[4:8])[0], 0
    while offset + 4 <= len(data):
        (length,) = struct.unpack("!I", data[offset:offset + 4])
        if length == 0 or offset + 4 + length > len(data):
            break
        offset += 4 + length
        count += 1
    return count


def read_dnstap_yaml(path):
    proc = subprocess.run([require_tool("dnstap-ldns", "dnstap-ldns"), "-r", path, "-y"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("dnstap-ldns -r %s -y failed: %s" % (path, proc.stderr.decode(errors="replace")))
    return proc.stdout.decode(errors="replace")


def udp_ask(port, name, source="127.0.0.1", edns=None, tcp=False):
    wire = make_query(name, edns=edns)
    if tcp:
        with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as s:
            s.sendall(tcp_frame(wire))
            return tcp_read_message(s)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(3)
        for _ in range(3):
            s.sendto(wire, ("127.0.0.1", port))
            try:
                return s.recv(65535)
            except socket.timeout:
                continue
    raise AssertionError("no answer to %s from %s" % (name, source))


class DnstapCase(E2ECase):
    def start(self, dnstap_yaml, workdir=None, stats=True):
        self.stats_port = free_port() if stats else None
        extra = ('stats:\n  listen: "127.0.0.1:%d"\n' % self.stats_port) if stats else ""
        extra += "log:\n  dnstap:\n" + "".join("    %s\n" % line for line in dnstap_yaml.splitlines())
        self.server = Meridian(self, {"tap.test.": ZONE}, workdir=workdir, extra_config=extra, rrl=LOOPBACK_EXEMPT)
        self.server.start(self)
        return self.server

    def metric(self, name, **labels):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.stats_port, timeout=10) as response:
            text = response.read().decode()
        want = name + ("{" + ",".join('%s="%s"' % item for item in sorted(labels.items())) + "}" if labels else "")
        for line in text.splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        return None

    def dnsctl(self, *args):
        return run_dnsctl("--config", self.server.config_path, *args)

    def assert_each_once(self, messages, asked, kinds=("AQ", "AR")):
        """Every (name, source, transport) asked appears exactly once per kind."""
        for kind in kinds:
            logged = [(name, address, transport) for k, address, transport, name in messages
                      if k == kind and name.startswith("q")]
            self.assertEqual(sorted(logged), sorted(asked), "%s messages" % kind)


class FileTest(DnstapCase):
    def test_every_query_appears_once_with_its_client_transport_and_ecs(self):
        workdir = make_tempdir(self)
        server = self.start("file: queries.dnstap", workdir=workdir)
        path = os.path.join(workdir, "queries.dnstap")
        asked = []
        for index in range(60):
            source = "127.0.0.%d" % (1 + index % 3)
            tcp = index % 5 == 0
            name = "q%d.tap.test." % index
            udp_ask(server.port, name, source=source, tcp=tcp)
            asked.append((name, source, "TCP" if tcp else "UDP"))
        ecs = run_dig(server.port, "q-ecs.tap.test", "A", "+subnet=198.51.100.0/24")
        self.assertEqual(ecs.status, "NOERROR", ecs.output)
        # Written by the writer thread within milliseconds; the counter says when.
        wait_until(lambda: (self.metric("meridian_dnstap_messages_total") or 0) >= 2 * (len(asked) + 1), 10,
                   message="every message written")
        self.assertEqual(self.metric("meridian_dnstap_connected"), 1)
        self.assertEqual(self.metric("meridian_dnstap_dropped_total", reason="full"), 0)
        written = int(self.metric("meridian_dnstap_messages_total"))
        status = self.dnsctl("status")
        self.assertEqual(status.returncode, 0, str(status))
        self.assertRegex(status.stdout, r"query log\s+dnstap to file %s: [\d,]+ messages written, 0 dropped" % re.escape(path))
        reply = self.dnsctl("status", "--json").json()["queryLog"]
        self.assertEqual((reply["destination"], reply["connected"], reply["droppedFull"]), ("file " + path, True, 0))
        self.assertGreaterEqual(reply["written"], written)
        server.stop()

        messages = read_dnstap(path)
        self.assert_each_once(messages, asked + [("q-ecs.tap.test.", "127.0.0.1", "UDP")])
        readiness = [m for m in messages if not m[3].startswith("q")]
        self.assertEqual(len(messages) - len(readiness), 2 * (len(asked) + 1))

        # The ECS query as received: family 1, source /24, scope 0, 198.51.100.
        text = read_dnstap_yaml(path)
        self.assertIn("identity:", text)
        self.assertIn('version: "Meridian', text)
        block = next(part for part in text.split("---") if "q-ecs.tap.test." in part and "AUTH_QUERY" in part)
        self.assertRegex(block.replace(" ", ""), r"0008000700011800c63364", block)
        answer = next(part for part in text.split("---") if "q-ecs.tap.test." in part and "AUTH_RESPONSE" in part)
        self.assertIn("192.0.2.80", answer)
        self.assertIn("response_time:", answer)

    def test_sampling_and_responses_only(self):
        workdir = make_tempdir(self)
        server = self.start("file: sampled.dnstap\nqueries: false\nsample: 0.25", workdir=workdir)
        total = 800
        for index in range(total):
            udp_ask(server.port, "q%d.tap.test." % index)
        wait_until(lambda: self.metric("meridian_queries_total", transport="udp") is not None
                   and self.metric("meridian_queries_total", transport="udp") >= total, 10, message="queries counted")
        server.stop()
        messages = [m for m in read_dnstap(os.path.join(workdir, "sampled.dnstap")) if m[3].startswith("q")]
        self.assertFalse([m for m in messages if m[0] == "AQ"], "queries: false logs no AUTH_QUERY")
        # Binomial(800, 0.25): mean 200, standard deviation 12.2; this range is 8 deviations wide each way.
        self.assertGreater(len(messages), 100)
        self.assertLess(len(messages), 300)
        self.assertEqual(len(set(m[3] for m in messages)), len(messages), "a sampled query is logged once")

    def test_a_rotated_file_is_opened_again_on_reload(self):
        workdir = make_tempdir(self)
        server = self.start("file: queries.dnstap", workdir=workdir)
        path = os.path.join(workdir, "queries.dnstap")
        for index in range(10):
            udp_ask(server.port, "q%d.tap.test." % index)
        wait_until(lambda: (self.metric("meridian_dnstap_messages_total") or 0) >= 20, 10, message="first file written")
        os.rename(path, path + ".1")
        result = self.dnsctl("reload")
        self.assertEqual(result.returncode, 0, str(result))
        wait_until(lambda: os.path.exists(path), 10, message="the file opened again")
        for index in range(10, 25):
            udp_ask(server.port, "q%d.tap.test." % index)
        # A reload that changes nothing keeps writing the same stream.
        result = self.dnsctl("reload")
        self.assertEqual(result.returncode, 0, str(result))
        for index in range(25, 30):
            udp_ask(server.port, "q%d.tap.test." % index)
        wait_until(lambda: (self.metric("meridian_dnstap_messages_total") or 0) >= 60, 10, message="second file written")
        server.stop()
        rotated = read_dnstap(path + ".1")
        current = read_dnstap(path)
        self.assert_each_once(rotated, [("q%d.tap.test." % i, "127.0.0.1", "UDP") for i in range(10)])
        self.assert_each_once(current, [("q%d.tap.test." % i, "127.0.0.1", "UDP") for i in range(10, 30)])

    def test_a_file_behind_a_symbolic_link_is_kept_across_reloads(self):
        workdir = make_tempdir(self)
        os.makedirs(os.path.join(workdir, "logs"))
        os.symlink(os.path.join(workdir, "logs", "queries.dnstap"), os.path.join(workdir, "queries.dnstap"))
        server = self.start("file: queries.dnstap", workdir=workdir)
        for index in range(5):
            udp_ask(server.port, "q%d.tap.test." % index)
        wait_until(lambda: (self.metric("meridian_dnstap_messages_total") or 0) >= 10, 10, message="first messages written")
        result = self.dnsctl("reload")
        self.assertEqual(result.returncode, 0, str(result))
        for index in range(5, 10):
            udp_ask(server.port, "q%d.tap.test." % index)
        wait_until(lambda: (self.metric("meridian_dnstap_messages_total") or 0) >= 20, 10, message="second messages written")
        server.stop()
        self.assert_each_once(read_dnstap(os.path.join(workdir, "logs", "queries.dnstap")),
                              [("q%d.tap.test." % i, "127.0.0.1", "UDP") for i in range(10)])

    def test_a_file_that_cannot_be_opened_stops_the_start_and_is_refused_on_reload(self):
        workdir = make_tempdir(self)
        server = Meridian(self, {"tap.test.": ZONE}, workdir=workdir,
                          extra_config="log:\n  dnstap:\n    file: missing/queries.dnstap\n")
        proc = subprocess.run([MERIDIAN_BIN, "--config", server.config_path], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=30)
        output = proc.stdout.decode(errors="replace")
        self.assertEqual(proc.returncode, 1, output)
        line = config_line(server.config_path, "dnstap:")
        self.assertIn("%s:%d: log.dnstap: cannot open %s" % (server.config_path, line,
                                                               os.path.join(workdir, "missing/queries.dnstap")), output)

        # Running with a good file, a reload to a bad one is refused and the log goes on.
        server = self.start("file: queries.dnstap", workdir=make_tempdir(self))
        good = server.config_path
        with open(good) as f:
            text = f.read()
        with open(good, "w") as f:
            f.write(text.replace("file: queries.dnstap", "file: missing/queries.dnstap"))
        result = self.dnsctl("reload")
        self.assertEqual(result.returncode, 1, str(result))
        self.assertIn("%s:%d: log.dnstap: cannot open" % (good, config_line(good, "dnstap:")), str(result))
        udp_ask(server.port, "q-after.tap.test.")
        wait_until(lambda: (self.metric("meridian_dnstap_messages_total") or 0) >= 2, 10, message="still logging")
        server.stop()
        names = [m[3] for m in read_dnstap(os.path.join(server.workdir, "queries.dnstap"))]
        self.assertEqual(names.count("q-after.tap.test."), 2)


def config_line(path, text):
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if text in line:
                return number
    raise AssertionError("%s not in %s" % (text, path))


class FstrmCapture:
    """`fstrm_capture` listening on a Unix socket and writing what it receives to a file."""

    def __init__(self, testcase, socket_path, output):
        self.socket_path = socket_path
        self.output = output
        self.proc = None
        testcase_cleanup(testcase, self.stop)

    def start(self):
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self.proc = subprocess.Popen([require_tool("fstrm_capture", "fstrm-bin"), "-t", CONTENT_TYPE.decode(), "-u",
                                      self.socket_path, "-w", self.output], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until(lambda: os.path.exists(self.socket_path), 10, message="fstrm_capture's socket")

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None


class SocketTest(DnstapCase):
    def test_fstrm_capture_receives_every_query_and_a_restarted_reader_gets_the_rest(self):
        directory = make_tempdir(self, prefix="tap-")
        socket_path = os.path.join(directory, "tap.sock")
        capture = FstrmCapture(self, socket_path, os.path.join(directory, "first.fstrm"))
        capture.start()
        server = self.start("socket: %s" % socket_path)
        wait_until(lambda: self.metric("meridian_dnstap_connected") == 1, 10, message="connected to fstrm_capture")
        first = [("q%d.tap.test." % i, "127.0.0.%d" % (1 + i % 2), "TCP" if i % 4 == 0 else "UDP") for i in range(40)]
        for name, source, transport in first:
            udp_ask(server.port, name, source=source, tcp=transport == "TCP")
        # Written by the server is not yet read by the reader: wait until the reader's file has them.
        first_file = os.path.join(directory, "first.fstrm")
        wait_until(lambda: frames_in(first_file) >= 80, 10, message="the first 80 messages in the reader's file")

        # The reader goes away: answers go on, the messages are counted as unwritten.
        capture.stop()
        for index in range(40, 60):
            udp_ask(server.port, "q%d.tap.test." % index)
        wait_until(lambda: self.metric("meridian_dnstap_connected") == 0, 10, message="the reader noticed gone")
        wait_until(lambda: (self.metric("meridian_dnstap_dropped_total", reason="unwritten") or 0) > 0, 10,
                   message="unwritten messages counted")

        # A new reader: the server connects again by itself.
        capture = FstrmCapture(self, socket_path, os.path.join(directory, "second.fstrm"))
        capture.start()
        wait_until(lambda: self.metric("meridian_dnstap_connected") == 1, 10, message="connected again")
        second = [("q%d.tap.test." % i, "127.0.0.1", "UDP") for i in range(60, 90)]
        for name, source, _ in second:
            udp_ask(server.port, name, source=source)
        wait_until(lambda: self.metric("meridian_dnstap_messages_total") >= 80 + 60, 10, message="second messages written")
        server.stop()  # STOP, then FINISH from fstrm_capture
        capture.stop()

        self.assert_each_once(read_dnstap(first_file), first)
        self.assert_each_once(read_dnstap(os.path.join(directory, "second.fstrm")), second)

    def test_a_stalled_reader_costs_counted_drops_not_answers(self):
        directory = make_tempdir(self, prefix="tap-")
        socket_path = os.path.join(directory, "stalled.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(socket_path)
        listener.listen(1)
        testcase_cleanup(self, listener.close)
        accepted = []

        def handshake():
            # READY in, ACCEPT out, START in; then never read again.
            connection, _ = listener.accept()
            accepted.append(connection)
            read_control(connection)
            body = struct.pack("!II", 1, 1) + struct.pack("!I", len(CONTENT_TYPE)) + CONTENT_TYPE
            connection.sendall(struct.pack("!II", 0, len(body)) + body)
            read_control(connection)

        reader = threading.Thread(target=handshake, daemon=True)
        reader.start()
        testcase_cleanup(self, lambda: [c.close() for c in accepted])
        server = self.start("socket: %s" % socket_path)
        wait_until(lambda: self.metric("meridian_dnstap_connected") == 1, 10, message="the stalled reader accepted")

        # Large queries (EDNS padding) fill the socket's buffer and then the rings quickly.
        padding = (12, b"\x00" * 1100)
        sources = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(8)]
        for s in sources:
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            testcase_cleanup(self, s.close)
        sent = 0
        deadline = time.monotonic() + 60
        while (self.metric("meridian_dnstap_dropped_total", reason="full") or 0) == 0:
            self.assertLess(time.monotonic(), deadline, "no drop counted after %d queries" % sent)
            for _ in range(500):
                wire = make_query("q%d.tap.test." % sent, edns={"options": [padding]})
                try:
                    sources[sent % len(sources)].sendto(wire, ("127.0.0.1", server.port))
                except BlockingIOError:
                    time.sleep(0.001)
                sent += 1
            for s in sources:
                try:
                    while s.recv(65535):
                        pass
                except BlockingIOError:
                    pass
        # The reader still reads nothing, yet queries are answered at once.
        for index in range(20):
            started = time.monotonic()
            result = run_dig(server.port, "stalled%d.tap.test" % index, "A")
            self.assertEqual(result.status, "NOERROR", result.output)
            self.assertLess(time.monotonic() - started, 1.5, "an answer waited for the log")
        self.assertEqual(self.metric("meridian_dnstap_connected"), 1)


def read_control(connection):
    header = recv_all(connection, 8)
    escape, length = struct.unpack("!II", header)
    if escape != 0:
        raise AssertionError("expected a control frame, got a data frame")
    return recv_all(connection, length)


def recv_all(connection, count):
    data = b""
    connection.settimeout(10)
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise AssertionError("the writer closed the socket")
        data += chunk
    return data


if __name__ == "__main__":
    unittest.main()
