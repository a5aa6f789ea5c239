import MeridianWire
import MeridianZoneFile
import Testing

/// Zone text that must load, and the records it must produce (dump lines, in file order).
let acceptCases: [ZoneCase] = [
    // Owner, TTL, class
    ZoneCase("plain record", "$TTL 300\nwww IN A 192.0.2.1\n", ["www.example. 300 IN A 192.0.2.1"]),
    ZoneCase("TTL and class in either order",
             "www 60 IN A 192.0.2.1\nwww IN 61 A 192.0.2.2\nwww 62 A 192.0.2.3\n",
             ["www.example. 60 IN A 192.0.2.1", "www.example. 61 IN A 192.0.2.2", "www.example. 62 IN A 192.0.2.3"]),
    ZoneCase("mnemonics in any case", "www 60 in a 192.0.2.1\nwww 60 In Aaaa ::1\n",
             ["www.example. 60 IN A 192.0.2.1", "www.example. 60 IN AAAA ::1"]),
    ZoneCase("CLASS1 is IN", "www 60 CLASS1 A 192.0.2.1", ["www.example. 60 IN A 192.0.2.1"]),
    ZoneCase("@ is the origin", "@ 60 IN A 192.0.2.1", ["example. 60 IN A 192.0.2.1"]),
    ZoneCase("owner inherited from the previous line",
             "www 60 IN A 192.0.2.1\n    60 IN AAAA 2001:db8::1\n\tIN 70 TXT x\n",
             ["www.example. 60 IN A 192.0.2.1", "www.example. 60 IN AAAA 2001:db8::1", "www.example. 70 IN TXT \"x\""]),
    ZoneCase("absolute and relative owners",
             "a.example. 60 A 192.0.2.1\nb.c 60 A 192.0.2.2\nother.test. 60 A 192.0.2.3\n",
             ["a.example. 60 IN A 192.0.2.1", "b.c.example. 60 IN A 192.0.2.2", "other.test. 60 IN A 192.0.2.3"]),
    ZoneCase("wildcard owner", "* 60 A 192.0.2.1", ["*.example. 60 IN A 192.0.2.1"]),
    ZoneCase("escapes in owner names", "a\\.b 60 A 192.0.2.1\n\\065bc 60 A 192.0.2.2\na\\ b 60 A 192.0.2.3\n",
             ["a\\.b.example. 60 IN A 192.0.2.1", "Abc.example. 60 IN A 192.0.2.2", "a\\ b.example. 60 IN A 192.0.2.3"]),
    ZoneCase("root origin", "www 60 A 192.0.2.1\n@ 60 NS ns\n",
             ["www. 60 IN A 192.0.2.1", ". 60 IN NS ns."], origin: "."),

    // Directives
    ZoneCase("$ORIGIN absolute and relative",
             "$ORIGIN sub.example.\nwww 60 A 192.0.2.1\n$ORIGIN deeper\nwww 60 A 192.0.2.2\n@ 60 NS ns\n",
             ["www.sub.example. 60 IN A 192.0.2.1", "www.deeper.sub.example. 60 IN A 192.0.2.2",
              "deeper.sub.example. 60 IN NS ns.deeper.sub.example."]),
    ZoneCase("$ORIGIN keeps the previous owner for inheritance",
             "www 60 A 192.0.2.1\n$ORIGIN other.\n  60 A 192.0.2.2\n",
             ["www.example. 60 IN A 192.0.2.1", "www.example. 60 IN A 192.0.2.2"]),
    ZoneCase("$TTL with units", "$TTL 1h\na A 192.0.2.1\n$TTL 2W\nb A 192.0.2.2\n",
             ["a.example. 3600 IN A 192.0.2.1", "b.example. 1209600 IN A 192.0.2.2"]),
    ZoneCase("directives in lower case", "$ttl 5m\n$origin x.example.\na A 192.0.2.1\n", ["a.x.example. 300 IN A 192.0.2.1"]),
    ZoneCase("directive with a comment", "$TTL 60 ; one minute\na A 192.0.2.1", ["a.example. 60 IN A 192.0.2.1"]),

    // TTLs
    ZoneCase("TTL units",
             "a 1h30m A 192.0.2.1\nb 2w A 192.0.2.1\nc 1D A 192.0.2.1\nd 1h30 A 192.0.2.1\ne 0 A 192.0.2.1\n"
                 + "f 2147483647 A 192.0.2.1\ng 1w2d3h4m5s A 192.0.2.1\nh 90S A 192.0.2.1\ni 10M A 192.0.2.1\n",
             ["a.example. 5400 IN A 192.0.2.1", "b.example. 1209600 IN A 192.0.2.1", "c.example. 86400 IN A 192.0.2.1",
              "d.example. 3630 IN A 192.0.2.1", "e.example. 0 IN A 192.0.2.1", "f.example. 2147483647 IN A 192.0.2.1",
              "g.example. 788645 IN A 192.0.2.1", "h.example. 90 IN A 192.0.2.1", "i.example. 600 IN A 192.0.2.1"]),
    ZoneCase("last explicit TTL without $TTL (RFC 1035)", "a 100 A 192.0.2.1\nb A 192.0.2.2\nc 200 A 192.0.2.3\nd A 192.0.2.4\n",
             ["a.example. 100 IN A 192.0.2.1", "b.example. 100 IN A 192.0.2.2",
              "c.example. 200 IN A 192.0.2.3", "d.example. 200 IN A 192.0.2.4"]),
    ZoneCase("$TTL wins over the last explicit TTL", "$TTL 50\na 100 A 192.0.2.1\nb A 192.0.2.2\n",
             ["a.example. 100 IN A 192.0.2.1", "b.example. 50 IN A 192.0.2.2"]),
    ZoneCase("SOA minimum as the default TTL (BIND)",
             "@ IN SOA ns hostmaster 1 7200 3600 1209600 300\n@ NS ns\nns 10 A 192.0.2.1\nwww A 192.0.2.2\n",
             ["example. 300 IN SOA ns.example. hostmaster.example. 1 7200 3600 1209600 300",
              "example. 300 IN NS ns.example.", "ns.example. 10 IN A 192.0.2.1", "www.example. 300 IN A 192.0.2.2"]),

    // Lexical structure
    ZoneCase("parentheses spanning lines, comments inside",
             """
             $TTL 300
             @ IN SOA ns1 hostmaster ( ; primary and contact
                      2026112501 ; serial
                      1h         ; refresh
                      10m        ; retry
                      2w         ; expire
                      5m )       ; minimum
             @ IN NS ns1 ; after the parentheses
             """,
             ["example. 300 IN SOA ns1.example. hostmaster.example. 2026112501 3600 600 1209600 300",
              "example. 300 IN NS ns1.example."]),
    ZoneCase("parentheses around part of a line", "$TTL 1\nx TXT ( \"a\"\n \"b\" ) \"c\"\n", ["x.example. 1 IN TXT \"a\" \"b\" \"c\""]),
    ZoneCase("comment-only and blank lines", "; a comment\n\n   \n\t; indented comment\n$TTL 1\nx A 192.0.2.1 ; tail\n",
             ["x.example. 1 IN A 192.0.2.1"]),
    ZoneCase("CRLF line ends", "$TTL 1\r\nx A 192.0.2.1\r\n  AAAA ::1\r\n", ["x.example. 1 IN A 192.0.2.1", "x.example. 1 IN AAAA ::1"]),
    ZoneCase("no newline at the end", "$TTL 1\nx A 192.0.2.1", ["x.example. 1 IN A 192.0.2.1"]),
    ZoneCase("semicolon and parentheses inside quotes", "$TTL 1\nx TXT \"a;b\" \"(c)\"\n", ["x.example. 1 IN TXT \"a;b\" \"(c)\""]),
    ZoneCase("quoted string with escapes",
             "$TTL 1\nx TXT \"say \\\"hi\\\"\" \"\\065\\066\" \"back\\\\slash\" \"\\;\" \"tab\\009\" \"\"\n",
             ["x.example. 1 IN TXT \"say \\\"hi\\\"\" \"AB\" \"back\\\\slash\" \";\" \"tab\\009\" \"\""]),
    ZoneCase("unquoted strings with escapes", "$TTL 1\nx TXT hello\\032world a\\;b\n", ["x.example. 1 IN TXT \"hello world\" \"a;b\""]),
    ZoneCase("UTF-8 in strings", "$TTL 1\nx TXT \"héllo\"\n", ["x.example. 1 IN TXT \"h\\195\\169llo\""]),

    // Types
    ZoneCase("A", "$TTL 1\nx A 0.0.0.0\nx A 255.255.255.255\nx A 10.0.0.1\n",
             ["x.example. 1 IN A 0.0.0.0", "x.example. 1 IN A 255.255.255.255", "x.example. 1 IN A 10.0.0.1"]),
    ZoneCase("AAAA forms",
             "$TTL 1\nx AAAA ::\nx AAAA ::1\nx AAAA 2001:DB8:0:0:0:0:0:1\nx AAAA ::ffff:192.0.2.1\nx AAAA 64:ff9b::192.0.2.33\n"
                 + "x AAAA 1:0:0:1:0:0:0:1\nx AAAA 1:0:1:0:1:0:1:0\nx AAAA 2001:db8:0:0:1:0:0:1\nx AAAA 1::\n"
                 + "x AAAA fe80::1:2\nx AAAA 0:0:0:0:0:0:1.2.3.4\nx AAAA 2001:db8:1:2:3:4:5:6\nx AAAA 2001:0db8::0001\n",
             ["x.example. 1 IN AAAA ::", "x.example. 1 IN AAAA ::1", "x.example. 1 IN AAAA 2001:db8::1",
              "x.example. 1 IN AAAA ::ffff:192.0.2.1", "x.example. 1 IN AAAA 64:ff9b::c000:221",
              "x.example. 1 IN AAAA 1:0:0:1::1", "x.example. 1 IN AAAA 1:0:1:0:1:0:1:0",
              "x.example. 1 IN AAAA 2001:db8::1:0:0:1", "x.example. 1 IN AAAA 1::", "x.example. 1 IN AAAA fe80::1:2",
              "x.example. 1 IN AAAA ::102:304", "x.example. 1 IN AAAA 2001:db8:1:2:3:4:5:6",
              "x.example. 1 IN AAAA 2001:db8::1"]),
    ZoneCase("names in RDATA: relative, absolute, @",
             "$TTL 1\nx NS ns1\nx NS ns.other.\nx CNAME @\ny PTR host.example.\nz DNAME target\n",
             ["x.example. 1 IN NS ns1.example.", "x.example. 1 IN NS ns.other.", "x.example. 1 IN CNAME example.",
              "y.example. 1 IN PTR host.example.", "z.example. 1 IN DNAME target.example."]),
    ZoneCase("MX", "$TTL 1\n@ MX 10 mail\n@ MX 0 .\n", ["example. 1 IN MX 10 mail.example.", "example. 1 IN MX 0 ."]),
    ZoneCase("SOA timers with units",
             "@ 60 SOA ns1 host\\.master 4294967295 1h 10M 2w 1d\n",
             ["example. 60 IN SOA ns1.example. host\\.master.example. 4294967295 3600 600 1209600 86400"]),
    ZoneCase("TXT and SPF", "$TTL 1\nx TXT \"v=spf1 -all\"\nx SPF \"v=spf1\" \"-all\"\nx TXT a b c\n",
             ["x.example. 1 IN TXT \"v=spf1 -all\"", "x.example. 1 IN SPF \"v=spf1\" \"-all\"", "x.example. 1 IN TXT \"a\" \"b\" \"c\""]),
    ZoneCase("TXT string of 255 octets", "$TTL 1\nx TXT " + String(repeating: "a", count: 255) + "\n",
             ["x.example. 1 IN TXT \"" + String(repeating: "a", count: 255) + "\""]),
    ZoneCase("SRV", "$TTL 1\n_sip._tcp SRV 10 60 5060 sip\n_x._udp SRV 0 0 0 .\n",
             ["_sip._tcp.example. 1 IN SRV 10 60 5060 sip.example.", "_x._udp.example. 1 IN SRV 0 0 0 ."]),
    ZoneCase("CAA", "$TTL 1\n@ CAA 0 issue \"letsencrypt.org\"\n@ CAA 128 iodef mailto:ops@example.net\n@ CAA 0 Issue \";\"\n",
             ["example. 1 IN CAA 0 issue \"letsencrypt.org\"", "example. 1 IN CAA 128 iodef \"mailto:ops@example.net\"",
              "example. 1 IN CAA 0 Issue \";\""]),
    ZoneCase("NAPTR", "$TTL 1\n@ NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp\n@ NAPTR 10 0 u E2U+sip \"!^.*$!sip:info@example.net!\" .\n",
             ["example. 1 IN NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.",
              "example. 1 IN NAPTR 10 0 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.net!\" ."]),
    ZoneCase("SSHFP with split hex", "$TTL 1\nx SSHFP 1 1 dd465c09 cfa51fb4 5020cc83\n",
             ["x.example. 1 IN SSHFP 1 1 DD465C09CFA51FB45020CC83"]),
    ZoneCase("TLSA in parentheses", "$TTL 1\n_443._tcp TLSA 3 1 1 ( 0123456789abcdef\n  0123456789ABCDEF )\n",
             ["_443._tcp.example. 1 IN TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF"]),
    ZoneCase("HINFO quoted and not", "$TTL 1\nx HINFO \"PC Intel\" \"Linux\"\ny HINFO PC Linux\n",
             ["x.example. 1 IN HINFO \"PC Intel\" \"Linux\"", "y.example. 1 IN HINFO \"PC\" \"Linux\""]),
    ZoneCase("DS", "$TTL 1\nsub DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118\n",
             ["sub.example. 1 IN DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"]),
    ZoneCase("DYNA and DYNC", "api 30 IN DYNA inference\ncdn 30 IN DYNC inference-regional\nx 30 dyna Pool_2\n",
             ["api.example. 30 IN DYNA inference", "cdn.example. 30 IN DYNC inference-regional", "x.example. 30 IN DYNA Pool_2"]),

    // RFC 3597
    ZoneCase("generic type and RDATA", "$TTL 1\nx TYPE65534 \\# 4 0a000001\ny TYPE65534 \\# 0\nz type731 \\# 3 ab CD ef\n",
             ["x.example. 1 IN TYPE65534 \\# 4 0A000001", "y.example. 1 IN TYPE65534 \\# 0", "z.example. 1 IN TYPE731 \\# 3 ABCDEF"]),
    ZoneCase("generic RDATA for known types",
             "$TTL 1\nx A \\# 4 0a000001\nx MX \\# 8 000a 046d61696c 00\nx TXT \\# 4 03616263\nx TYPE1 192.0.2.9\nx DYNA \\# 3 616263\n",
             ["x.example. 1 IN A 10.0.0.1", "x.example. 1 IN MX 10 mail.", "x.example. 1 IN TXT \"abc\"",
              "x.example. 1 IN A 192.0.2.9", "x.example. 1 IN DYNA abc"]),
    ZoneCase("generic RDATA for types without a layout", "$TTL 1\nx TYPE260 \\# 4 01000308\nx TYPE258 \\# ( 2\n 0000 )\n",
             ["x.example. 1 IN TYPE260 \\# 4 01000308", "x.example. 1 IN TYPE258 \\# 2 0000"]),
]

@Test(arguments: acceptCases)
func accepts(_ zone: ZoneCase) {
    let result = parse(zone.text, origin: zone.origin)
    #expect(located(result.errors) == [])
    #expect(lines(result.records) == zone.expected)
}

@Test func positionsPointAtTheRecord() {
    let result = parse("$TTL 1\n\nwww A 192.0.2.1\n   AAAA ::1\nx MX ( 10\n mail )\n")
    #expect(result.records.map(\.position.description) == ["test.zone:3:1", "test.zone:4:4", "test.zone:5:1"])
}

@Test func defaultTTLParameterActsLikeDollarTTL() {
    let result = ZoneParser.parse(text: "www A 192.0.2.1\n", fileName: "x", origin: name("example."), defaultTTL: 42)
    #expect(lines(result.records) == ["www.example. 42 IN A 192.0.2.1"])
}

@Test func soaMinimumDefaultIsAWarning() {
    let result = parse("@ IN SOA ns hostmaster 1 2 3 4 300\n")
    #expect(result.errors.isEmpty)
    #expect(located(result.warnings) == ["1:1: no TTL given; using the SOA minimum 300 as the default TTL"])
}

@Test func rdataBytes() throws {
    let result = parse("""
        $TTL 1
        a A 192.0.2.1
        a AAAA 2001:db8::1
        a MX 10 mail
        a TXT "ab" c
        a SRV 1 2 3 t.
        a CAA 0 issue "ca"
        a DYNA pool-1
        a TYPE65280 \\# 2 abcd
        """)
    #expect(result.errors.isEmpty)
    let rdata = result.records.map(\.rdata)
    #expect(rdata == [
        [192, 0, 2, 1],
        bytes("20010db8000000000000000000000001"),
        [0, 10, 4] + Array("mail".utf8) + [7] + Array("example".utf8) + [0],
        [2, 97, 98, 1, 99],
        [0, 1, 0, 2, 0, 3, 1, 116, 0],
        [0, 5] + Array("issue".utf8) + Array("ca".utf8),
        Array("pool-1".utf8),
        [0xAB, 0xCD],
    ])
    #expect(result.records.last?.type == RRType(65280))
    #expect(result.records[6].poolName == "pool-1")
}

@Test func ownerNamesKeepTheirCase() {
    let result = parse("$TTL 1\nWWW.Example. A 192.0.2.1\n")
    #expect(result.records.first?.owner.wire == [3] + Array("WWW".utf8) + [7] + Array("Example".utf8) + [0])
}
