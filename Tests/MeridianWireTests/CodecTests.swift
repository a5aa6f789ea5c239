import MeridianWire
import Testing

@Suite struct NameTests {
    @Test func parsesAndPrintsPresentationFormat() throws {
        let name = try DNSName(parsing: "a\\.b.Example.\\065\\032x.")
        #expect(name.labelCount == 3)
        #expect(name.description == "a\\.b.Example.A\\ x.")
        #expect(try DNSName(parsing: "www", origin: DNSName(parsing: "example.")).description == "www.example.")
        #expect(try DNSName(parsing: ".") == .root)
    }

    @Test func comparesIgnoringCase() throws {
        #expect(try DNSName(parsing: "WWW.Example.") == DNSName(parsing: "www.example."))
        #expect(try Set([DNSName(parsing: "A.b."), DNSName(parsing: "a.B.")]).count == 1)
    }

    @Test func rejectsOverlongLabelsAndNames() {
        #expect(throws: NameTextError.labelTooLong) { try DNSName(parsing: String(repeating: "a", count: 64) + ".") }
        let long = Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: ".") + "."
        #expect(throws: NameTextError.nameTooLong) { try DNSName(parsing: long) }
        #expect(throws: NameTextError.emptyLabel) { try DNSName(parsing: "a..b.") }
    }

    @Test func parsesFromBytesAndRejectsBadEscapes() throws {
        let origin = try DNSName(parsing: "example.")
        #expect(try DNSName(presentation: Array("w\\119w".utf8), origin: origin) == DNSName(parsing: "www.example."))
        for bad in ["a\\", "a\\25", "a\\256", "a\\1x2"] {
            #expect(throws: NameTextError.badEscape) { try DNSName(parsing: bad) }
        }
    }

    @Test func canonicalOrderFollowsRFC4034() throws {
        let ordered = ["example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example."]
        let names = try ordered.map { try DNSName(parsing: $0) }
        #expect(names.shuffled().sorted() == names)
    }
}

@Suite struct ReaderTests {
    func header(qd: UInt8 = 1) -> [UInt8] { [0, 1, 0, 0, 0, qd, 0, 0, 0, 0, 0, 0] }

    func readName(_ packet: [UInt8], at offset: Int) throws(WireError) -> DNSName {
        try withBytes(packet) { (raw) throws(WireError) in
            var reader = WireReader(raw, offset: offset)
            return try reader.readName()
        }
    }

    @Test func followsBackwardPointers() throws {
        // "example." at 12, then "www" + pointer to 12.
        let packet = header() + [7] + Array("example".utf8) + [0] + [3] + Array("www".utf8) + [0xC0, 12]
        #expect(try readName(packet, at: 21).description == "www.example.")
    }

    @Test func rejectsPointerToItself() {
        let packet = header() + [0xC0, 12]
        #expect(throws: WireError.pointerLoop(at: 12)) { try readName(packet, at: 12) }
    }

    @Test func rejectsForwardPointers() {
        let packet = header() + [0xC0, 14, 0]
        #expect(throws: WireError.badPointer(at: 12)) { try readName(packet, at: 12) }
    }

    @Test func rejectsPointersOutOfRange() {
        let packet = header() + [0xC0, 200]
        #expect(throws: WireError.badPointer(at: 12)) { try readName(packet, at: 12) }
    }

    @Test func rejectsLoopsThroughSeveralPointers() {
        // 12: label "a" then pointer to 16; 16: pointer back to 12 -> a.a.a... loops only via forward pointer.
        let packet = header() + [1, 0x61, 0xC0, 16, 0xC0, 12]
        #expect(throws: WireError.badPointer(at: 14)) { try readName(packet, at: 12) }
    }

    @Test func rejectsExtendedLabelTypes() {
        let packet = header() + [0x41, 0]
        #expect(throws: WireError.labelTooLong(at: 12)) { try readName(packet, at: 12) }
    }

    @Test func rejectsNamesOver255Octets() {
        var packet = header()
        for _ in 0..<5 { packet += [63] + Array(repeating: 0x61, count: 63) }
        packet.append(0)
        #expect(throws: WireError.nameTooLong(at: 12 + 3 * 64)) { try readName(packet, at: 12) }
    }

    @Test func rejectsTruncatedNames() {
        let packet = header() + [5, 0x61, 0x62]
        #expect(throws: WireError.truncated(at: 12)) { try readName(packet, at: 12) }
    }
}

@Suite struct MessageRoundTripTests {
    static func record(_ name: String, _ type: RRType, _ rdata: [UInt8], ttl: UInt32 = 300) throws -> ResourceRecord {
        ResourceRecord(name: try DNSName(parsing: name), type: type, ttl: ttl, rdata: rdata)
    }

    static func wire(_ name: String) -> [UInt8] { (try? DNSName(parsing: name).wire) ?? [] }

    @Test func everyKnownTypeSurvivesEncodeAndDecode() throws {
        let soa = Self.wire("ns1.example.") + Self.wire("hostmaster.example.") + [0, 0, 0, 1, 0, 0, 14, 16, 0, 0, 2, 88, 0, 18, 117, 0, 0, 0, 1, 44]
        let records: [ResourceRecord] = try [
            Self.record("example.", .a, [192, 0, 2, 1]),
            Self.record("example.", .aaaa, [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]),
            Self.record("example.", .ns, Self.wire("ns1.example.")),
            Self.record("www.example.", .cname, Self.wire("example.")),
            Self.record("example.", .soa, soa),
            Self.record("example.", .mx, [0, 10] + Self.wire("mail.example.")),
            Self.record("example.", .txt, [5] + Array("hello".utf8) + [0]),
            Self.record("_sip._tcp.example.", .srv, [0, 1, 0, 2, 0x13, 0xC4] + Self.wire("sip.example.")),
            Self.record("1.2.0.192.in-addr.arpa.", .ptr, Self.wire("example.")),
            Self.record("example.", .caa, [0, 5] + Array("issue".utf8) + Array("ca.example".utf8)),
            Self.record("example.", .naptr, [0, 100, 0, 10, 1, 0x53, 7] + Array("SIP+D2U".utf8) + [0] + Self.wire("_sip._udp.example.")),
            Self.record("example.", .sshfp, [1, 2] + Array(repeating: 0xAB, count: 32)),
            Self.record("_443._tcp.example.", .tlsa, [3, 1, 1] + Array(repeating: 0xCD, count: 32)),
            Self.record("example.", .hinfo, [3] + Array("x86".utf8) + [5] + Array("Linux".utf8)),
            Self.record("example.", RRType(65_280), [1, 2, 3, 4]),
        ]
        let message = Message(header: Header(id: 99, flags: [.qr, .aa], qdCount: 1),
                              questions: [Question(name: try DNSName(parsing: "example."), type: .any)],
                              answers: records, edns: EDNS(udpPayloadSize: 1232))
        let encoded = message.encode()
        let decoded = try Message.decode(encoded)
        #expect(decoded.answers == records)
        #expect(decoded.edns == message.edns)
        #expect(decoded.header.id == 99)
    }

    @Test func namesAreCompressedOnWrite() throws {
        let records = try (0..<5).map { try Self.record("host\($0).example.", .cname, Self.wire("target.example.")) }
        let message = Message(header: Header(id: 1, flags: .qr), questions: [Question(name: try DNSName(parsing: "host0.example."), type: .cname)],
                              answers: records)
        let encoded = message.encode()
        // Uncompressed: 5 owners (15) + 5 targets (16) + question 15 + ...; compressed is far smaller.
        #expect(encoded.count < 12 + 19 + 5 * (2 + 10 + 2) + 5 * 10)
        #expect(try Message.decode(encoded).answers == records)
    }

    @Test func srvTargetsAreNotCompressed() throws {
        let srv = try Self.record("_x._tcp.example.", .srv, [0, 1, 0, 1, 0, 80] + Self.wire("example."))
        let message = Message(header: Header(id: 1, flags: .qr), questions: [Question(name: try DNSName(parsing: "example."), type: .srv)], answers: [srv])
        let encoded = message.encode()
        // The target appears in full, not as a pointer to the question.
        #expect(encoded.suffix(9) == ArraySlice(Self.wire("example.")))
    }

    @Test func truncationSetsTCAndKeepsWholeRecords() throws {
        let records = try (0..<20).map { _ in try Self.record("example.", .txt, [50] + Array(repeating: 0x61, count: 50)) }
        let message = Message(header: Header(id: 1, flags: .qr), questions: [Question(name: try DNSName(parsing: "example."), type: .txt)], answers: records)
        let encoded = message.encode(limit: 512)
        #expect(encoded.count <= 512)
        let decoded = try Message.decode(encoded)
        #expect(decoded.header.flags.contains(.tc))
        #expect(decoded.answers.count < 20 && decoded.answers.count > 0)
    }

    @Test func rejectsTwoOPTRecords() throws {
        var packet = Message.query(name: try DNSName(parsing: "example."), type: .a).encode()
        packet += [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]
        packet[11] = 2
        #expect(throws: WireError.duplicateOPT) { try Message.decode(packet) }
    }

    @Test func optionsSurviveEncodeAndDecode() throws {
        let edns = EDNS(udpPayloadSize: 4096, extendedRCode: 1, version: 0, dnssecOK: true,
                        options: [EDNS.Option(code: .cookie, data: Array(1...8)), EDNS.Option(code: .padding, data: [])])
        let packet = Message.query(name: try DNSName(parsing: "example."), type: .a, edns: edns).encode()
        // Root owner, OPT, payload 4096, TTL (extended RCODE 1, version 0, DO), RDLENGTH 16, then the options.
        #expect(Array(packet.suffix(27)) == [0, 0, 41, 16, 0, 1, 0, 0x80, 0, 0, 16, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 12, 0, 0])
        #expect(try Message.decode(packet).edns == edns)
    }

    @Test func malformedOptionIsReportedAtTheOPTRecord() throws {
        var packet = Message.query(name: try DNSName(parsing: "example."), type: .a, edns: nil).encode()
        packet[11] = 1
        let opt = packet.count
        // An option claiming 4 octets of data with only 1 in RDATA.
        packet += [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 5, 0, 8, 0, 4, 1]
        #expect(throws: WireError.badOPT(at: opt)) { try Message.decode(packet) }
    }

    @Test func rejectsRDataLongerThanItsLength() throws {
        // An A record claiming 2 bytes of RDATA.
        let packet: [UInt8] = [0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 2, 1, 2]
        #expect(throws: WireError.badRData(type: .a, at: 23)) { try Message.decode(packet) }
    }
}

@Suite struct ClientSubnetTests {
    @Test func parsesAndRejects() throws {
        let ok: [UInt8] = [0, 1, 22, 0, 10, 1, 4]
        let subnet = try ok.withUnsafeBytes { try ClientSubnet.parse($0) }
        #expect(subnet.sourcePrefix == 22)
        #expect(subnet.optionData == ok)
        let bad: [[UInt8]] = [[0, 1, 22, 0, 10, 1, 5], [0, 1, 8, 0], [0, 2, 129, 0] + Array(repeating: 0, count: 17), [0, 9, 0, 0], [0, 1]]
        for data in bad {
            #expect(throws: WireError.self) { try data.withUnsafeBytes { try ClientSubnet.parse($0) } }
        }
    }

    @Test func writtenOptionIsCodeLengthAndOptionData() {
        let subnet = ClientSubnet(family: .ipv4, sourcePrefix: 20, scopePrefix: 16, octets: [203, 0, 127, 9])
        var output = [UInt8](repeating: 0, count: 64)
        var table = [UInt16](repeating: 0, count: 4)
        let written = output.withUnsafeMutableBytes { buffer in
            table.withUnsafeMutableBufferPointer { table in
                var writer = MessageWriter(buffer: buffer, limit: 64, compressionTable: table.baseAddress!, compressionCapacity: 4)
                return subnet.write(into: &writer) ? writer.position : -1
            }
        }
        #expect(written == subnet.optionLength)
        #expect(Array(output.prefix(written)) == [0, 8, 0, 7] + subnet.optionData)
    }

    @Test func buildingMasksBitsBeyondThePrefix() {
        let subnet = ClientSubnet(family: .ipv4, sourcePrefix: 20, octets: [203, 0, 127, 9])
        #expect(subnet.optionData == [0, 1, 20, 0, 203, 0, 112])
    }
}

/// The types added for zone files from BIND, NSD and Knot: RDATA from `RDataLayout` survives
/// the codec, names in it are never compressed (RFC 3597 section 4), and RDATA whose fields do
/// not fit its length is refused.
@Suite struct NewRecordTypeCodecTests {
    static func record(_ name: String, _ type: RRType, _ rdata: [UInt8]) throws -> ResourceRecord {
        try MessageRoundTripTests.record(name, type, rdata)
    }

    static func wire(_ name: String) -> [UInt8] { MessageRoundTripTests.wire(name) }

    @Test func everyNewTypeSurvivesEncodeAndDecode() throws {
        let key: [UInt8] = [1, 2, 3, 4]
        let records: [ResourceRecord] = try [
            Self.record("example.", .rp, Self.wire("admin.example.") + Self.wire("info.example.")),
            Self.record("example.", .afsdb, [0, 1] + Self.wire("afs.example.")),
            Self.record("example.", .kx, [0, 10] + Self.wire("kx.example.")),
            Self.record("example.", .lp, [0, 10] + Self.wire("l64.example.")),
            Self.record("example.", .uri, [0, 10, 0, 1] + Array("https://example/".utf8)),
            Self.record("example.", .dnskey, [1, 0, 3, 13] + key),
            Self.record("example.", .rrsig, [0, 1, 13, 2, 0, 0, 1, 44, 0x7C, 0x24, 0x5F, 0, 0x7B, 0xFB, 0x80, 0x80, 0, 1]
                            + Self.wire("example.") + key),
            Self.record("example.", .nsec, Self.wire("a.example.") + [0, 1, 0x40]),
            Self.record("example.", .nsec3, [1, 0, 0, 0, 0, 2, 0xAB, 0xCD, 0, 1, 0x40]),
            Self.record("example.", .nsec3param, [1, 0, 0, 12, 1, 0xAA]),
            Self.record("example.", .csync, [0, 0, 0, 1, 0, 3]),
            Self.record("example.", .eui48, [0, 0, 0x5E, 0, 0x53, 0x2A]),
            Self.record("example.", .eui64, [0, 0, 0x5E, 0xEF, 0x10, 0, 0, 0x2A]),
            Self.record("example.", .nid, [0, 10, 0, 0x14, 0x4F, 0xFF, 0xFF, 0x20, 0xEE, 0x64]),
            Self.record("example.", .l32, [0, 10, 10, 1, 2, 0]),
            Self.record("example.", .cert, [0, 3, 0, 0, 0] + key),
            Self.record("example.", .loc, [0, 0x12, 0x16, 0x13, 0x8B, 0x3C, 0xF0, 0x18, 0x81, 0x0C, 0xBC, 0xE0, 0, 0x98, 0x95, 0xB8]),
            Self.record("example.", .ipseckey, [10, 3, 2] + Self.wire("gw.example.") + key),
            Self.record("example.", .ipseckey, [10, 1, 2, 192, 0, 2, 38] + key),
            Self.record("example.", .apl, [0, 1, 21, 3, 192, 168, 32]),
            Self.record("example.", .https, [0, 1] + Self.wire("svc.example.") + [0, 3, 0, 2, 1, 187]),
        ]
        let message = Message(header: Header(id: 7, flags: [.qr, .aa], qdCount: 1),
                              questions: [Question(name: try DNSName(parsing: "example."), type: .any)], answers: records)
        let encoded = message.encode()
        #expect(try Message.decode(encoded).answers == records)
        // Every owner is a pointer to the question; every name inside RDATA is written in full.
        #expect(encoded.count == 12 + 13 + records.reduce(0) { $0 + 2 + 10 + $1.rdata.count })
    }

    @Test func ipsecGatewayMustFitItsType() throws {
        for rdata: [UInt8] in [[10, 4, 2, 0, 0], [10, 1, 2, 192, 0], [10, 3, 2, 2, 0x67, 0x77]] {
            var packet = Message.query(name: try DNSName(parsing: "example."), type: .ipseckey, edns: nil).encode()
            packet[7] = 1
            let start = packet.count
            packet += [0xC0, 12, 0, 45, 0, 1, 0, 0, 0, 1, 0, UInt8(rdata.count)] + rdata
            #expect(throws: WireError.badRData(type: .ipseckey, at: start + 13)) { try Message.decode(packet) }
        }
    }
}
