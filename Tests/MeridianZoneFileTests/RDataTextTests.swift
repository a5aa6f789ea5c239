import MeridianWire
import MeridianZoneFile
import Testing

/// RDATA text of one type, how `RDataText.format` prints it back, and, where given, its
/// wire form in hex.
struct RDataCase: Sendable, CustomTestStringConvertible {
    var type: RRType
    var text: String
    var printed: String
    var wire: String?

    init(_ type: RRType, _ text: String, _ printed: String, _ wire: String? = nil) {
        self.type = type
        self.text = text
        self.printed = printed
        self.wire = wire
    }

    var testDescription: String { "\(type) \(text)" }
}

let rdataCases: [RDataCase] = [
    RDataCase(.a, "192.0.2.1", "192.0.2.1"),
    RDataCase(.aaaa, "2001:DB8::0:1", "2001:db8::1"),
    RDataCase(.aaaa, "::ffff:10.0.0.1", "::ffff:10.0.0.1"),
    RDataCase(.ns, "ns1", "ns1.example."),
    RDataCase(.cname, "target.other.", "target.other."),
    RDataCase(.ptr, "@", "example."),
    RDataCase(.dname, "a\\.b.c.", "a\\.b.c."),
    RDataCase(.soa, "ns1 hostmaster 2026112501 1h 10m 2w 5m", "ns1.example. hostmaster.example. 2026112501 3600 600 1209600 300"),
    RDataCase(.mx, "10 mail", "10 mail.example."),
    RDataCase(.txt, "\"v=spf1 -all\" more \"\"", "\"v=spf1 -all\" \"more\" \"\""),
    RDataCase(.txt, "\"\\000\\255\\\"\\\\;()@$ \"", "\"\\000\\255\\\"\\\\;()@$ \""),
    RDataCase(.spf, "\"v=spf1\"", "\"v=spf1\""),
    RDataCase(.hinfo, "\"PC Intel\" Linux", "\"PC Intel\" \"Linux\""),
    RDataCase(.srv, "10 60 5060 sip", "10 60 5060 sip.example."),
    RDataCase(.naptr, "100 10 S SIP+D2U \"\" _sip._udp", "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example."),
    RDataCase(.ds, "60485 5 1 2bb183af 5f22588179a53b0a98631fad1a292118",
              "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"),
    RDataCase(.sshfp, "4 2 ( 0123 4567 89ab cdef )", "4 2 0123456789ABCDEF"),
    RDataCase(.tlsa, "3 1 1 00ff", "3 1 1 00FF"),
    RDataCase(.caa, "0 issue \"letsencrypt.org; validationmethods=dns-01\"", "0 issue \"letsencrypt.org; validationmethods=dns-01\""),
    RDataCase(.caa, "128 tbs \"\"", "128 tbs \"\""),
    RDataCase(.dyna, "inference", "inference"),
    RDataCase(.dync, "inference-regional", "inference-regional"),
    RDataCase(RRType(65_534), "\\# 4 0a000001", "\\# 4 0A000001"),
    RDataCase(RRType(65_534), "\\# 0", "\\# 0"),
    RDataCase(RRType(260), "\\# 4 01000308", "\\# 4 01000308"),
    RDataCase(.a, "\\# 4 c0000201", "192.0.2.1"),
    RDataCase(.sshfp, "\\# 2 0102", "\\# 2 0102"),
]

@Test(arguments: rdataCases + recordTypeCases)
func formatsAndParsesBack(_ sample: RDataCase) throws {
    let origin = name("example.")
    let rdata = try RDataText.parse(type: sample.type, text: sample.text, origin: origin)
    if let wire = sample.wire {
        #expect(rdata == bytes(wire))
    }
    let printed = RDataText.format(type: sample.type, rdata: rdata)
    #expect(printed == sample.printed)
    #expect(try RDataText.parse(type: sample.type, text: printed, origin: .root) == rdata)
    // The RFC 3597 form of the same octets is checked against the layout and accepted.
    #expect(try RDataText.parse(type: sample.type, text: RDataText.generic(rdata)) == rdata)
    // The same through a whole zone line.
    let zone = parse("$TTL 1\nx \(sample.type) \(printed)\n", origin: "elsewhere.")
    #expect(zone.errors.isEmpty)
    #expect(zone.records.first?.rdata == rdata)
}

/// Wire RDATA with awkward octets in names and strings still prints as text that reads back.
@Test func roundTripOfEveryOctet() throws {
    let everyOctet = (0...255).map { UInt8($0) }
    let txt = [UInt8(128)] + everyOctet[0..<128] + [UInt8(128)] + everyOctet[128...]
    let text = RDataText.format(type: .txt, rdata: txt)
    #expect(try RDataText.parse(type: .txt, text: text) == txt)

    var nameWire: [UInt8] = []
    for start in stride(from: 0, to: 256, by: 63) {
        let label = Array(everyOctet[start..<min(start + 63, 256)])
        if nameWire.count + label.count + 2 > 255 { break }
        nameWire += [UInt8(label.count)] + label
    }
    nameWire.append(0)
    let cname = RDataText.format(type: .cname, rdata: nameWire)
    #expect(try RDataText.parse(type: .cname, text: cname) == nameWire)

    let caa: [UInt8] = [0, 5] + Array("issue".utf8) + [0, 34, 92, 59, 255]
    #expect(try RDataText.parse(type: .caa, text: RDataText.format(type: .caa, rdata: caa)) == caa)
}

/// RDATA that does not match its type's layout prints in the generic form.
@Test func malformedRDataPrintsGeneric() {
    #expect(RDataText.format(type: .a, rdata: [1, 2, 3]) == "\\# 3 010203")
    #expect(RDataText.format(type: .mx, rdata: [0, 10, 0xC0, 12]) == "\\# 4 000AC00C")
    #expect(RDataText.format(type: .txt, rdata: []) == "\\# 0")
    #expect(RDataText.format(type: .txt, rdata: [5, 65]) == "\\# 2 0541")
    #expect(RDataText.format(type: .caa, rdata: [0, 2, 45, 45]) == "\\# 4 00022D2D")
    #expect(RDataText.format(type: .dyna, rdata: Array("a b".utf8)) == "\\# 3 612062")
    #expect(RDataText.format(type: RRType(999), rdata: []) == "\\# 0")
}

@Test func parseReportsColumns() {
    #expect(throws: ZoneFileError("bad IPv4 address \"1.2.3\"", at: SourcePosition(file: "<rdata>", line: 1, column: 1))) {
        try RDataText.parse(type: .a, text: "1.2.3")
    }
    #expect(throws: ZoneFileError("missing domain name in MX RDATA", at: SourcePosition(file: "<rdata>", line: 1, column: 3))) {
        try RDataText.parse(type: .mx, text: "10")
    }
}

/// Names print exactly as `DNSName.description` does, whatever their octets.
@Test func namesPrintLikeDNSNameDescription() throws {
    for start in stride(from: 0, to: 256, by: 50) {
        let label = (start..<min(start + 50, 256)).map { UInt8($0) }
        let wire = [UInt8(label.count)] + label + [3, 0x41, 0x2E, 0x5C, 0]
        let expected = DNSName(uncheckedWire: wire).description
        #expect(RDataText.format(type: .ns, rdata: wire) == expected)
        let record = ZoneRecord(owner: DNSName(uncheckedWire: wire), ttl: 1, type: .ns, rdata: wire,
                                position: SourcePosition(file: "x", line: 1, column: 1))
        #expect(ZoneDump.line(record) == "\(expected) 1 IN NS \(expected)")
    }
    #expect(RDataText.format(type: .ns, rdata: [0]) == ".")
}
