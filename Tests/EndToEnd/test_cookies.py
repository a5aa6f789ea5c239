"""DNS Cookies (RFC 7873, server cookies per RFC 9018) on the real binary: dig and kdig get
server cookies over UDP and TCP and dig sees them verify; servers sharing a secret accept each
other's cookies, NSD among them (an independent RFC 9018 implementation, so the hash is the
standard one, not merely self-consistent); forged and malformed cookies; a secret rotation
through reloads; a bad secret file rejected at reload; the counters on /metrics and in
`dnsctl stats`.

A server answers a valid server cookie that is under half an hour old with that same cookie,
and anything else with a fresh one stamped with the current second. So once the clock has
moved past the second a cookie was made in, getting it back unchanged shows that the server
verified it. Cookies older than an hour are covered by the unit tests (an injected clock).
"""

import os
import re
import struct
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (NSD, OPT_COOKIE, E2ECase, Meridian, free_port, make_query, make_tempdir, run_dig,  # noqa: E402
                     run_dnsctl, tcp_query, udp_query, wait_until)

ORIGIN = "cookie.test."
NAME = "www.cookie.test."
ZONE = """$ORIGIN cookie.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 60
@    IN NS  ns
ns   IN A   192.0.2.53
www  IN A   192.0.2.80
"""
ZONES = {ORIGIN: ZONE}

# RFC 9018 Appendix A's secrets.
SECRET = "e5e973e5a6b2a43f48e7dc849e37bfcf"
NEXT_SECRET = "445536bcd2513298075a5d379663c962"
CLIENT_COOKIE = bytes.fromhex("2464c4abcf10c957")


def write_secret(path, hex_text, mode=0o600):
    with open(path, "w") as f:
        f.write(hex_text + "\n")
    os.chmod(path, mode)
    return path


def cookies_config(secret_file=None, previous_secret_file=None, enabled=True):
    lines = ["cookies:", "  enabled: %s" % ("true" if enabled else "false")]
    if secret_file:
        lines.append("  secret_file: %s" % secret_file)
    if previous_secret_file:
        lines.append("  previous_secret_file: %s" % previous_secret_file)
    return "\n".join(lines) + "\n"


def ask(port, option_data, tcp=False, name=NAME):
    """Queries with a COOKIE option of ``option_data``; the response and its cookie (or None)."""
    wire = make_query(name, "A", edns={"options": [(OPT_COOKIE, option_data)]})
    message = tcp_query(port, wire) if tcp else udp_query(port, wire)
    cookies = [data for code, data in message.edns_options if code == OPT_COOKIE]
    return message, (cookies[0] if cookies else None)


def made_at(cookie):
    """The timestamp of an RFC 9018 server cookie (after the 8-octet client cookie)."""
    return struct.unpack("!I", cookie[12:16])[0]


def wait_past_second(cookie):
    """Until the clock has left the second the cookie was made in: from then on a fresh
    cookie differs from it."""
    wait_until(lambda: int(time.time()) > made_at(cookie), 3, message="the next second")


class CookieCase(E2ECase):
    def start(self, secret_file=None, previous_secret_file=None, enabled=True, stats_port=None):
        extra = cookies_config(secret_file, previous_secret_file, enabled)
        if stats_port:
            extra += 'stats:\n  listen: "127.0.0.1:%d"\n' % stats_port
        return Meridian(self, ZONES, extra_config=extra).start(self)

    def reconfigure(self, server, **cookies):
        server.extra_config = cookies_config(**cookies)
        server.write_config()
        return run_dnsctl("--socket", server.socket_path, "reload")

    def cookie_counts(self, server):
        result = run_dnsctl("--socket", server.socket_path, "stats", "--json")
        self.assertEqual(result.returncode, 0, str(result))
        return result.json()["queries"]["byCookie"]

    def await_count(self, server, result, at_least):
        return wait_until(lambda: self.cookie_counts(server).get(result, 0) >= at_least, 5,
                          message="%d %s cookie(s) counted" % (at_least, result))

    def fresh_cookie(self, server, tcp=False):
        message, cookie = ask(server.port, CLIENT_COOKIE, tcp=tcp)
        self.assertRcode(message, "NOERROR")
        self.assertIsNotNone(cookie, "no cookie in the response\n%s" % message)
        self.assertEqual(len(cookie), 24, cookie.hex())
        self.assertEqual(cookie[:8], CLIENT_COOKIE, "the client cookie is echoed")
        self.assertEqual(cookie[8:12], b"\x01\x00\x00\x00", "version 1, reserved zero")
        self.assertLessEqual(abs(made_at(cookie) - time.time()), 5, "stamped with the current time")
        return cookie

    def assertVerifies(self, server, cookie, context=""):
        """The server takes ``cookie`` as valid: it comes back unchanged (see the module doc)."""
        wait_past_second(cookie)
        message, returned = ask(server.port, cookie)
        self.assertRcode(message, "NOERROR", context)
        self.assertEqual([rr.text for rr in message.answer], ["192.0.2.80"], context)
        self.assertEqual(returned, cookie, "the cookie was not accepted %s" % context)

    def assertRejects(self, server, cookie, context=""):
        """The server answers normally with a fresh cookie of its own (RFC 7873 5.2.4)."""
        wait_past_second(cookie)
        message, returned = ask(server.port, cookie)
        self.assertRcode(message, "NOERROR", context)
        self.assertEqual([rr.text for rr in message.answer], ["192.0.2.80"], context)
        self.assertIsNotNone(returned, context)
        self.assertEqual(returned[:8], cookie[:8], context)
        self.assertNotEqual(returned, cookie, "a cookie that should not verify came back %s" % context)
        self.assertGreater(made_at(returned), made_at(cookie), context)
        return returned


class SharedSecretTest(CookieCase):
    """Two servers with one secret file, as a fleet shares one."""

    @classmethod
    def setUpClass(cls):
        shared = make_tempdir(cls, prefix="meridian-cookie-secret-")
        cls.secret_file = write_secret(os.path.join(shared, "cookie.secret"), SECRET)
        cls.stats_port = free_port()
        extra = cookies_config(cls.secret_file) + 'stats:\n  listen: "127.0.0.1:%d"\n' % cls.stats_port
        cls.first = Meridian(cls, ZONES, extra_config=extra).start(cls)
        cls.second = Meridian(cls, ZONES, extra_config=cookies_config(cls.secret_file)).start(cls)

    def test_dig_gets_a_server_cookie_and_sees_it_verify(self):
        for transport in ((), ("+tcp",)):
            with self.subTest(transport=transport):
                first = run_dig(self.first.port, NAME, "A", "+cookie", *transport)
                self.assertEqual(first.status, "NOERROR", str(first))
                match = re.search(r"(?m)^; COOKIE: ([0-9a-f]{48}) \(good\)$", first.output)
                self.assertIsNotNone(match, "dig shows no server cookie\n%s" % first)
                cookie = bytes.fromhex(match.group(1))
                self.assertEqual(cookie[8:12], b"\x01\x00\x00\x00", str(first))
                # Presented again (once its second is over) it comes back as it went: valid.
                wait_past_second(cookie)
                again = run_dig(self.first.port, NAME, "A", "+cookie=%s" % cookie.hex(), *transport)
                self.assertEqual(again.status, "NOERROR", str(again))
                self.assertEqual(again.records("ANSWER"), [("www.cookie.test.", 300, "A", "192.0.2.80")], str(again))
                self.assertIn("; COOKIE: %s (good)" % cookie.hex(), again.output, str(again))
        self.await_count(self.first, "valid", 2)

    def test_kdig_gets_a_server_cookie(self):
        for transport in ((), ("+tcp",)):
            with self.subTest(transport=transport):
                result = run_dig(self.first.port, NAME, "A", "+cookie", *transport, tool="kdig")
                self.assertEqual(result.status, "NOERROR", str(result))
                match = re.search(r"(?m)^;; COOKIE: ([0-9A-Fa-f]{48})\s*$", result.output)
                self.assertIsNotNone(match, "kdig shows no server cookie\n%s" % result)
                self.assertEqual(match.group(1)[16:24].lower(), "01000000", str(result))
                self.assertEqual(result.records("ANSWER"), [("www.cookie.test.", 300, "A", "192.0.2.80")], str(result))

    def test_servers_sharing_a_secret_accept_each_others_cookies(self):
        for maker, checker in ((self.first, self.second), (self.second, self.first)):
            for tcp in (False, True):
                with self.subTest(maker=maker.port, tcp=tcp):
                    cookie = self.fresh_cookie(maker, tcp=tcp)
                    self.assertVerifies(checker, cookie, "by the other server")
        self.await_count(self.second, "valid", 2)

    def test_a_server_with_another_secret_gives_a_fresh_cookie(self):
        stranger = self.start()  # no secret_file: a random secret of its own
        cookie = self.fresh_cookie(self.first)
        self.assertRejects(stranger, cookie, "by a server with another secret")
        self.await_count(stranger, "invalid", 1)

    def test_a_forged_server_cookie_is_treated_as_absent(self):
        now = int(time.time())
        forged = CLIENT_COOKIE + b"\x01\x00\x00\x00" + struct.pack("!I", now) + os.urandom(8)
        replacement = self.assertRejects(self.first, forged, "forged")
        self.assertVerifies(self.first, replacement, "the replacement")

    def test_malformed_cookies_are_formerr(self):
        for length in (1, 7, 9, 15, 41):
            with self.subTest(length=length):
                message, cookie = ask(self.first.port, os.urandom(length))
                self.assertRcode(message, "FORMERR")
                # RFC 7873 5.2.2; like NSD and Knot for any EDNS they cannot read, a bare FORMERR.
                self.assertIsNone(message.opt, str(message))
                self.assertIsNone(cookie, "a malformed cookie is not echoed\n%s" % message)
        self.await_count(self.first, "malformed", 5)

    def test_counters_on_metrics_and_in_dnsctl_stats(self):
        self.fresh_cookie(self.first)
        self.await_count(self.first, "client_only", 1)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.stats_port, timeout=10) as response:
            metrics = response.read().decode()
        for result in ("valid", "client_only", "invalid", "malformed"):
            self.assertRegex(metrics, r'(?m)^meridian_cookies_total\{result="%s"\} \d+$' % result)
        self.assertRegex(metrics, r'(?m)^meridian_cookies_total\{result="client_only"\} [1-9]\d*$')
        text = run_dnsctl("--socket", self.first.socket_path, "stats")
        self.assertEqual(text.returncode, 0, str(text))
        self.assertRegex(text.stdout, r"(?m)^cookies\s+.*client_only [1-9]")


class NSDInteropTest(CookieCase):
    """NSD 4 makes server cookies as RFC 9018 says: with the same secret each accepts the
    other's."""

    @classmethod
    def setUpClass(cls):
        shared = make_tempdir(cls, prefix="meridian-cookie-secret-")
        cls.meridian = Meridian(cls, ZONES, extra_config=cookies_config(write_secret(os.path.join(shared, "s"), SECRET))).start(cls)
        cls.nsd = NSD(cls, ZONES, server_options=("answer-cookie: yes", 'cookie-secret: "%s"' % SECRET)).start(cls)

    def test_nsd_accepts_meridians_cookies(self):
        self.assertVerifies(self.nsd, self.fresh_cookie(self.meridian), "by NSD")

    def test_meridian_accepts_nsds_cookies(self):
        cookie = self.fresh_cookie(self.nsd)
        self.assertVerifies(self.meridian, cookie, "from NSD")
        self.await_count(self.meridian, "valid", 1)


class SecretLifecycleTest(CookieCase):
    def setUp(self):
        self.directory = make_tempdir(self, prefix="meridian-cookie-secret-")
        self.secret_file = os.path.join(self.directory, "cookie.secret")
        self.previous_file = os.path.join(self.directory, "cookie.secret.old")

    def test_rotation_keeps_cookies_of_the_previous_secret_valid(self):
        server = self.start(secret_file=write_secret(self.secret_file, SECRET))
        old_cookie = self.fresh_cookie(server)
        # The rotation as the README tells it: the new secret in secret_file, the old one in
        # previous_secret_file, reload.
        write_secret(self.previous_file, SECRET)
        write_secret(self.secret_file, NEXT_SECRET)
        result = self.reconfigure(server, secret_file=self.secret_file, previous_secret_file=self.previous_file)
        self.assertEqual(result.returncode, 0, str(result))
        self.assertIn("cookie settings or secrets changed", result.stdout)
        # The old cookie still verifies, and is replaced by one of the new secret.
        wait_past_second(old_cookie)
        before = self.cookie_counts(server).get("valid", 0)
        message, renewed = ask(server.port, old_cookie)
        self.assertRcode(message, "NOERROR")
        self.assertNotEqual(renewed, old_cookie, "a cookie of the previous secret is renewed")
        self.await_count(server, "valid", before + 1)
        # An hour later the old secret is dropped: its cookies no longer verify, the new ones do.
        result = self.reconfigure(server, secret_file=self.secret_file)
        self.assertEqual(result.returncode, 0, str(result))
        self.assertRejects(server, old_cookie, "after the previous secret was dropped")
        self.assertVerifies(server, renewed, "made with the new secret")

    def test_a_bad_secret_rejects_the_reload_and_the_old_secret_keeps_serving(self):
        server = self.start(secret_file=write_secret(self.secret_file, SECRET))
        cookie = self.fresh_cookie(server)
        write_secret(self.secret_file, SECRET[:30])
        result = run_dnsctl("--socket", server.socket_path, "reload")
        self.assertEqual(result.returncode, 1, str(result))
        self.assertIn("%s:2:1: cookies.secret_file: only 30 hexadecimal digits" % self.secret_file,
                      result.stdout + result.stderr)
        self.assertVerifies(server, cookie, "after the rejected reload")
        self.assertIn("reload rejected", server.log())

    def test_a_random_secret_survives_reloads(self):
        server = self.start()
        cookie = self.fresh_cookie(server)
        result = run_dnsctl("--socket", server.socket_path, "reload")
        self.assertEqual(result.returncode, 0, str(result))
        self.assertVerifies(server, cookie, "after a reload")

    def test_a_secret_others_can_read_is_warned_about(self):
        readable = self.start(secret_file=write_secret(self.secret_file, SECRET, mode=0o644))
        private = self.start(secret_file=write_secret(os.path.join(self.directory, "private"), SECRET, mode=0o640))
        for server in (readable, private):
            wait_until(lambda: "meridian ready" in server.log(), 10, message="meridian ready in the log")
        self.assertIn("%s: cookie secret readable by other users (mode 0644)" % self.secret_file, readable.log())
        self.assertNotIn("readable by other users", private.log())

    def test_cookies_can_be_turned_off(self):
        server = self.start(secret_file=os.path.join(self.directory, "absent"), enabled=False)
        for data in (CLIENT_COOKIE, os.urandom(9)):
            message, cookie = ask(server.port, data)
            self.assertRcode(message, "NOERROR")
            self.assertIsNone(cookie, str(message))
        dig = run_dig(server.port, NAME, "A", "+cookie")
        self.assertEqual(dig.status, "NOERROR", str(dig))
        self.assertNotRegex(dig.output, r"(?m)^; COOKIE: [0-9a-f]{48}", str(dig))


if __name__ == "__main__":
    unittest.main()
