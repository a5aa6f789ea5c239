import MeridianWire
import MeridianZoneFile
import Testing

/// Zone text that must be rejected, and every error it must produce as `LINE:COL: message`.
let rejectCases: [ZoneCase] = [
    // TTLs
    ZoneCase("TTL above 2^31-1", "www 4294967296 A 192.0.2.1", ["1:5: TTL 4294967296 out of range (0..2147483647)"]),
    ZoneCase("TTL just above the limit", "www 2147483648 A 192.0.2.1", ["1:5: TTL 2147483648 out of range (0..2147483647)"]),
    ZoneCase("TTL that overflows 64 bits", "www 99999999999999999999999 A 192.0.2.1",
             ["1:5: TTL 99999999999999999999999 out of range (0..2147483647)"]),
    ZoneCase("TTL with units out of range", "www 9999w A 192.0.2.1", ["1:5: TTL 6047395200 out of range (0..2147483647)"]),
    ZoneCase("$TTL out of range", "$TTL 4294967296\n", ["1:6: TTL 4294967296 out of range (0..2147483647)"]),
    ZoneCase("bad TTL unit", "www 1x A 192.0.2.1", ["1:5: bad TTL \"1x\""]),
    ZoneCase("bad $TTL", "$TTL h1\n$TTL\n$TTL 1 2\n",
             ["1:6: bad TTL \"h1\"", "2:5: missing TTL after $TTL", "3:8: unexpected \"2\" after $TTL"]),
    ZoneCase("no TTL anywhere", "www A 192.0.2.1", ["1:1: no TTL given and no $TTL or earlier TTL to use"]),

    // Lexical
    ZoneCase("unclosed parenthesis", "$TTL 1\nwww MX ( 10 mail\n", ["2:8: unbalanced parenthesis"]),
    ZoneCase("nested parentheses, which BIND, NSD and Knot reject", "$TTL 1\nwww MX ( 10 ( mail )\n)\nok A 192.0.2.2\n",
             ["2:13: nested parenthesis"]),
    ZoneCase("stray closing parenthesis", "$TTL 1\nwww A 192.0.2.1 )\nok A 192.0.2.2\n", ["2:17: unbalanced parenthesis"]),
    ZoneCase("unterminated quoted string", "$TTL 1\nt TXT \"abc\nok A 192.0.2.2\n", ["2:7: unterminated quoted string"]),

    // Owner, class, type
    ZoneCase("unknown type", "$TTL 1\nwww FOO 1\n", ["2:5: unknown record type FOO"]),
    ZoneCase("unknown type after TTL and class", "$TTL 1\nwww 1 IN TYPE 1\n", ["2:10: unknown record type TYPE"]),
    ZoneCase("class CH", "$TTL 1\nwww CH A 192.0.2.1\nwww 5 HS A 192.0.2.1\nwww CLASS3 A 192.0.2.1\n",
             ["2:5: only class IN is supported", "3:7: only class IN is supported", "4:5: only class IN is supported"]),
    ZoneCase("meta types", "$TTL 1\nwww AXFR\nwww IN ANY\nwww OPT \\# 0\n",
             ["2:5: type AXFR cannot appear in a zone file", "3:8: type ANY cannot appear in a zone file",
              "4:5: type OPT cannot appear in a zone file"]),
    ZoneCase("missing type", "$TTL 1\nwww 300\n", ["2:8: missing record type"]),
    ZoneCase("nothing to inherit", "  A 192.0.2.1\n", ["1:3: no owner name to inherit (a line starting with a blank uses the previous owner)"]),
    ZoneCase("bad owner names", "$TTL 1\na..b A 192.0.2.1\n  A 192.0.2.2\n" + String(repeating: "x", count: 70) + " A 192.0.2.3\n",
             ["2:1: bad owner name \"a..b\": empty label in domain name",
              "4:1: bad owner name \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\": label longer than 63 octets"]),
    ZoneCase("owner name too long", "$TTL 1\n" + Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: ".") + " A 192.0.2.1\n",
             ["2:1: bad owner name \"" + String(repeating: "a", count: 60) + "....\": domain name longer than 255 octets"]),
    ZoneCase("quoted owner", "\"www\" 1 A 192.0.2.1\n", ["1:1: expected an owner name, not a quoted string"]),

    // Directives
    ZoneCase("unknown directive", "$FOO bar\n$GENERATE 1-2 x A 192.0.2.$\n",
             ["1:1: unknown directive $FOO", "2:1: $GENERATE is not supported"]),
    ZoneCase("bad $ORIGIN", "$ORIGIN a..b\n$ORIGIN\n$ORIGIN a b\n",
             ["1:9: bad domain name \"a..b\": empty label in domain name", "2:8: missing domain name after $ORIGIN",
              "3:11: unexpected \"b\" after $ORIGIN"]),
    ZoneCase("$INCLUDE without a zones directory", "$INCLUDE other.zone\n",
             ["1:10: $INCLUDE is not allowed without a zones directory"]),

    // RDATA
    ZoneCase("bad IPv4 addresses",
             "$TTL 1\na A 1.2.3\na A 1.2.3.4.5\na A 256.1.1.1\na A 01.2.3.4\na A 1..2.3\na A ::1\na A \"1.2.3.4\"\n",
             ["2:5: bad IPv4 address \"1.2.3\"", "3:5: bad IPv4 address \"1.2.3.4.5\"", "4:5: bad IPv4 address \"256.1.1.1\"",
              "5:5: bad IPv4 address \"01.2.3.4\"", "6:5: bad IPv4 address \"1..2.3\"", "7:5: bad IPv4 address \"::1\"",
              "8:5: expected IPv4 address, not a quoted string"]),
    ZoneCase("bad IPv6 addresses",
             "$TTL 1\na AAAA 1::2::3\na AAAA :1::\na AAAA 1:2:3:4:5:6:7:8:9\na AAAA 12345::\na AAAA ::g\na AAAA 1.2.3.4\n"
                 + "a AAAA ::1.2.3\na AAAA 1:2:3:4:5:6:7:1.2.3.4\na AAAA 1:\na AAAA 1:2:3:4:5:6:7\na AAAA fe80::1%eth0\n"
                 + "a AAAA 1:2:3:4:5:6:7::8\n",
             ["2:8: bad IPv6 address \"1::2::3\"", "3:8: bad IPv6 address \":1::\"", "4:8: bad IPv6 address \"1:2:3:4:5:6:7:8:9\"",
              "5:8: bad IPv6 address \"12345::\"", "6:8: bad IPv6 address \"::g\"", "7:8: bad IPv6 address \"1.2.3.4\"",
              "8:8: bad IPv6 address \"::1.2.3\"", "9:8: bad IPv6 address \"1:2:3:4:5:6:7:1.2.3.4\"",
              "10:8: bad IPv6 address \"1:\"", "11:8: bad IPv6 address \"1:2:3:4:5:6:7\"",
              "12:8: bad IPv6 address \"fe80::1%eth0\"", "13:8: bad IPv6 address \"1:2:3:4:5:6:7::8\""]),
    ZoneCase("missing and extra fields",
             "$TTL 1\n@ MX 10\n@ A\n@ A 192.0.2.1 192.0.2.2\n@ SOA ns host 1 2 3 4\n@ TXT\n",
             ["2:8: missing domain name in MX RDATA", "3:4: missing IPv4 address in A RDATA",
              "4:15: unexpected \"192.0.2.2\" after the A RDATA", "5:22: missing time value in SOA RDATA",
              "6:6: missing character string in TXT RDATA"]),
    ZoneCase("numbers out of range",
             "$TTL 1\n@ MX 65536 mail\n@ SRV 1 2 x t\n@ SSHFP 256 1 00\n@ SOA ns host 4294967296 1 1 1 1\n@ SOA ns host 1h 1 1 1 1\n"
                 + "@ SOA ns host 1 9999999w 1 1 1\n",
             ["2:6: number 65536 out of range (0..65535)", "3:11: bad number \"x\"", "4:9: number 256 out of range (0..255)",
              "5:15: number 4294967296 out of range (0..4294967295)", "6:15: bad number \"1h\"",
              "7:17: time value 6047999395200 out of range (0..4294967295)"]),
    ZoneCase("bad names in RDATA", "$TTL 1\n@ NS a..b\n@ CNAME \"x\"\n@ MX 1 .x\n",
             ["2:6: bad domain name \"a..b\": empty label in domain name", "3:9: expected domain name, not a quoted string",
              "4:8: bad domain name \".x\": empty label in domain name"]),
    ZoneCase("character strings", "$TTL 1\nt TXT " + String(repeating: "a", count: 256) + "\nt TXT \"\\300\"\nt TXT \"\\1\"\nt TXT x\\\nt HINFO a\n",
             ["2:7: character string longer than 255 octets", "3:7: bad escape sequence in \"\\300\"",
              "4:7: bad escape sequence in \"\\1\"", "5:7: bad escape sequence in \"x\\\"",
              "6:10: missing character string in HINFO RDATA"]),
    ZoneCase("hex data", "$TTL 1\ns SSHFP 1 1 abc\ns SSHFP 1 1 zz\ns TLSA 3 1 1\ns DS 1 2 3 \"00\"\n",
             ["2:13: odd number of hex digits", "3:13: bad hex data \"zz\"", "4:13: missing hex data in TLSA RDATA",
              "5:12: expected hex data, not a quoted string"]),
    ZoneCase("CAA", "$TTL 1\n@ CAA 0 is-sue \"x\"\n@ CAA 0 \"issue\" \"x\"\n@ CAA 0 issue\n@ CAA 0 issue a b\n",
             ["2:9: bad CAA tag \"is-sue\" (letters and digits only)", "3:9: expected CAA tag, not a quoted string",
              "4:14: missing value in CAA RDATA", "5:17: unexpected \"b\" after the CAA RDATA"]),
    ZoneCase("pool names", "$TTL 1\na DYNA a.b\nb DYNC\nc DYNA \"pool\"\nd DYNA one two\ne DYNA \\# 3 612e62\n",
             ["2:8: bad pool name \"a.b\" (letters, digits, _ and - only)", "3:7: missing pool name in DYNC record",
              "4:8: bad pool name \"pool\" (letters, digits, _ and - only)", "5:12: unexpected \"two\" after the DYNA RDATA",
              "6:8: generic RDATA is not a valid DYNA pool name"]),
    ZoneCase("generic RDATA", "$TTL 1\na TYPE9999 \\# 4 0a00\nb TYPE9999 \\# x\nc TYPE9999 \\#\nd A \\# 3 010203\ne MX \\# 3 000a05\n"
                 + "f TYPE9999 \\# 70000\ng TYPE9999 \\# 1 0g\n",
             ["2:15: generic RDATA length 4 does not match the 2 octets given", "3:15: bad generic RDATA length \"x\"",
              "4:14: missing RDATA length after \\#", "5:5: generic RDATA is not valid A data",
              "6:6: generic RDATA is not valid MX data", "7:15: bad generic RDATA length \"70000\"",
              "8:17: bad hex data \"0g\""]),
    ZoneCase("types only in generic form", "$TTL 1\nk TYPE260 0 0 1\nz TYPE65534 1 2\n",
             ["2:11: type TYPE260 can only be written in the generic form (\\# LENGTH HEX)",
              "3:13: type TYPE65534 can only be written in the generic form (\\# LENGTH HEX)"]),
    ZoneCase("columns count characters, not bytes", "$TTL 1\nzé A 1.2.3\n", ["2:6: bad IPv4 address \"1.2.3\""]),

    // Many errors in one file, each with its own position; good records in between still load.
    ZoneCase("every error is reported",
             """
             $TTL 300
             @     IN SOA ns1 hostmaster ( 1 2 3 4
                   5 )
             www   IN A 1.2.3
             ok    IN A 192.0.2.1
             mail  IN MX 10
             bad   CH A 192.0.2.1
             txt   IN TXT "unterminated
             big   4294967296 A 192.0.2.1
             x     IN FOO bar
             y     IN AAAA 1::2::3
             multi IN TXT ( "a"
                   "b" ) ( "c" ) 123z )
             """,
             ["4:12: bad IPv4 address \"1.2.3\"", "6:15: missing domain name in MX RDATA", "7:7: only class IN is supported",
              "8:14: unterminated quoted string", "9:7: TTL 4294967296 out of range (0..2147483647)",
              "10:10: unknown record type FOO", "11:15: bad IPv6 address \"1::2::3\"", "13:26: unbalanced parenthesis"]),
]

@Test(arguments: rejectCases + recordTypeRejectCases)
func rejects(_ zone: ZoneCase) {
    let result = parse(zone.text, origin: zone.origin)
    #expect(located(result.errors) == zone.expected)
}

@Test func errorsPrintWithFileLineAndColumn() {
    let result = ZoneParser.parse(text: "$TTL 1\nwww A 1.2.3\n", fileName: "zones/example.zone", origin: name("example."))
    #expect(result.errors.map(\.description) == ["zones/example.zone:2:7: bad IPv4 address \"1.2.3\""])
}

@Test func goodRecordsAroundErrorsStillLoad() {
    let result = parse("$TTL 1\na A 192.0.2.1\nb A 1.2.3\nc A 192.0.2.3\n")
    #expect(lines(result.records) == ["a.example. 1 IN A 192.0.2.1", "c.example. 1 IN A 192.0.2.3"])
    #expect(result.errors.count == 1)
}

@Test func linesAfterALexicalErrorInheritItsOwner() {
    let result = parse("$TTL 1\nfirst A 192.0.2.1\nsecond TXT \"open\n  A 192.0.2.2\n")
    #expect(located(result.errors) == ["3:12: unterminated quoted string"])
    #expect(lines(result.records) == ["first.example. 1 IN A 192.0.2.1", "second.example. 1 IN A 192.0.2.2"])
}

@Test func linesInheritingABrokenOwnerAreSkippedQuietly() {
    let result = parse("$TTL 1\na..b A 192.0.2.1\n  AAAA ::1\nok A 192.0.2.2\n  AAAA ::2\n")
    #expect(located(result.errors) == ["2:1: bad owner name \"a..b\": empty label in domain name"])
    #expect(lines(result.records) == ["ok.example. 1 IN A 192.0.2.2", "ok.example. 1 IN AAAA ::2"])
}
