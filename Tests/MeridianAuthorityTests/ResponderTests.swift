import CMallocCounter
import MeridianAuthority
import MeridianWire
import Testing

@Suite struct ResponderTests {
    static let bigZone: String = {
        var text = """
        $ORIGIN big.test.
        $TTL 60
        @ IN SOA ns hostmaster 1 3600 600 86400 60
        @ IN NS ns
        ns IN A 192.0.2.1
        small IN TXT "a" "b"

        """
        for index in 0..<40 {
            text += "txt IN TXT \"record \(index) \(String(repeating: "x", count: 60))\"\n"
        }
        return text
    }()

    static let fixture = try! ZoneFixture([("big.test.", bigZone)])

    func query(_ name: String = "ns.big.test.", _ type: RRType = .a, id: UInt16 = 7) throws -> [UInt8] {
        Message.query(id: id, name: try DNSName(parsing: name), type: type, edns: nil).encode()
    }

    @Test func responsesAreIgnored() throws {
        var packet = try query()
        packet[2] |= 0x80
        #expect(Self.fixture.respond(raw: packet).isEmpty)
    }

    @Test func shortPacketsAreDropped() {
        #expect(Self.fixture.respond(raw: [1, 2, 3]).isEmpty)
    }

    @Test func otherOpcodesGetNotImp() throws {
        var packet = try query()
        packet[2] |= 4 << 3  // NOTIFY
        let response = try Message.decode(Self.fixture.respond(raw: packet))
        #expect(response.rcode == .notImp)
        #expect(response.header.opcode == .notify)
        #expect(response.header.id == 7)
    }

    @Test(arguments: [0, 2])
    func questionCountOtherThanOneIsFormErr(count: UInt8) throws {
        var packet = try query()
        packet[5] = count
        let response = try Message.decode(Self.fixture.respond(raw: packet))
        #expect(response.rcode == .formErr)
        #expect(response.questions.isEmpty)
    }

    @Test func malformedBodyIsFormErr() throws {
        // A pointer loop in the question name.
        let packet: [UInt8] = [0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        let response = try Message.decode(Self.fixture.respond(raw: packet))
        #expect(response.rcode == .formErr)
        #expect(response.header.id == 9)
        // Truncated question.
        let truncated = Array(try query().dropLast(3))
        #expect(try Message.decode(Self.fixture.respond(raw: truncated)).rcode == .formErr)
    }

    @Test func ednsVersionOneIsBadVers() throws {
        let packet = Message.query(id: 3, name: try DNSName(parsing: "ns.big.test."), type: .a, edns: EDNS(version: 1)).encode()
        let response = try Message.decode(Self.fixture.respond(raw: packet))
        #expect(response.rcode == .badVers)
        #expect(response.edns?.version == 0)
        #expect(response.answers.isEmpty)
    }

    @Test func twoOPTRecordsAreFormErr() throws {
        var packet = Message.query(id: 3, name: try DNSName(parsing: "ns.big.test."), type: .a, edns: EDNS()).encode()
        packet += [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]
        packet[11] = 2
        #expect(try Message.decode(Self.fixture.respond(raw: packet)).rcode == .formErr)
    }

    @Test func clientSubnetIsEchoedWithScopeZeroForStaticNames() throws {
        let subnet = ClientSubnet(family: .ipv4, sourcePrefix: 24, octets: [198, 51, 100, 0])
        let edns = EDNS(options: [EDNS.Option(code: .clientSubnet, data: subnet.optionData)])
        let packet = Message.query(id: 3, name: try DNSName(parsing: "ns.big.test."), type: .a, edns: edns).encode()
        let response = try Message.decode(Self.fixture.respond(raw: packet))
        let echoed = try response.edns?.clientSubnet()
        #expect(echoed?.sourcePrefix == 24)
        #expect(echoed?.scopePrefix == 0)
        #expect(echoed?.octet(2) == 100)
    }

    @Test(arguments: [
        [0, 1, 24, 0, 198, 51, 100, 1] as [UInt8],  // bits beyond the source prefix
        [0, 3, 8, 0, 10] as [UInt8],  // unknown family
        [0, 1, 33, 0, 1, 2, 3, 4, 5] as [UInt8],  // prefix too long
        [0, 1, 24, 0, 198, 51] as [UInt8],  // address shorter than the prefix
    ])
    func malformedClientSubnetIsFormErr(data: [UInt8]) throws {
        let edns = EDNS(options: [EDNS.Option(code: .clientSubnet, data: data)])
        let packet = Message.query(id: 3, name: try DNSName(parsing: "ns.big.test."), type: .a, edns: edns).encode()
        let response = try Message.decode(Self.fixture.respond(raw: packet))
        #expect(response.rcode == .formErr)
        // A query whose EDNS cannot be read gets a bare FORMERR, as from NSD and Knot.
        #expect(response.edns == nil)
    }

    @Test func bigAnswersAreTruncatedByWholeRRsetsOverUDP() throws {
        let plain = try Message.decode(Self.fixture.respond(raw: try query("txt.big.test.", .txt)))
        #expect(plain.header.flags.contains(.tc))
        #expect(plain.answers.isEmpty)
        #expect(Self.fixture.respond(raw: try query("txt.big.test.", .txt)).count <= 512)

        let large = Message.query(id: 3, name: try DNSName(parsing: "txt.big.test."), type: .txt, edns: EDNS(udpPayloadSize: 4096)).encode()
        let edns = Self.fixture.respond(raw: large)
        let ednsResponse = try Message.decode(edns)
        #expect(edns.count <= 1232)
        #expect(ednsResponse.header.flags.contains(.tc))

        let tcp = try Message.decode(Self.fixture.respond(raw: try query("txt.big.test.", .txt), over: .tcp))
        #expect(!tcp.header.flags.contains(.tc))
        #expect(tcp.answers.count == 40)
    }

    @Test func nonINClassIsRefused() throws {
        var packet = try query()
        packet[packet.count - 1] = 3  // CH
        #expect(try Message.decode(Self.fixture.respond(raw: packet)).rcode == .refused)
    }

    @Test func zoneTransfersAreRefused() throws {
        #expect(try Message.decode(Self.fixture.respond(raw: try query("big.test.", .axfr), over: .tcp)).rcode == .refused)
    }

    /// The claim the server's speed rests on: answering allocates nothing. Only optimized
    /// builds are held to it (`make test` builds release); debug builds box values the
    /// optimizer keeps on the stack.
    @Test(.enabled(if: !_isDebugAssertConfiguration(), "allocation counts hold for optimized builds"))
    func answeringAllocatesNothing() throws {
        #expect(malloc_counter_active() == 1, "the malloc counter is not linked into the test binary")
        let zone = try ZoneFixture([("example.test.", exampleZone)])
        let queries: [[UInt8]] = try [
            Message.query(id: 1, name: DNSName(parsing: "web.example.test."), type: .a).encode(),
            Message.query(id: 2, name: DNSName(parsing: "nope.example.test."), type: .a).encode(),
            Message.query(id: 3, name: DNSName(parsing: "chain1.example.test."), type: .a, edns: nil).encode(),
            Message.query(id: 4, name: DNSName(parsing: "x.wild.example.test."), type: .txt).encode(),
            Message.query(id: 5, name: DNSName(parsing: "host.sub.example.test."), type: .a).encode(),
            Message.query(id: 6, name: DNSName(parsing: "example.test."), type: .mx).encode(),
            Message.query(id: 7, name: DNSName(parsing: "www.other.test."), type: .a).encode(),
        ]
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        let client = ClientAddress(ipv4: 192, 0, 2, 1)
        let scratch = ResponderScratch()
        var answered = 0
        // Warm up once (lazy globals), then count.
        for query in queries {
            _ = query.withUnsafeBytes { Responder.respond(to: $0, from: client, over: .udp, using: zone.snapshot, scratch: scratch, into: output) }
        }
        malloc_counter_start()
        for _ in 0..<100 {
            for query in queries {
                answered += query.withUnsafeBytes {
                    Responder.respond(to: $0, from: client, over: .udp, using: zone.snapshot, scratch: scratch, into: output)
                }.length > 0 ? 1 : 0
            }
        }
        let allocations = malloc_counter_stop()
        #expect(answered == 700)
        #expect(allocations == 0, "\(allocations) allocations for \(answered) answers")
    }
}

/// The SOA of negative answers is copied from a per-zone template whose names point at the
/// origin inside the question; zones whose SOA names lie elsewhere take the general path.
/// Both must give the record the zone file holds, compressed into the client's case.
@Suite struct NegativeSOATests {
    static let inside = """
    $ORIGIN Neg.Test.
    $TTL 300
    @     IN SOA NS1.neg.test. HostMaster.Neg.Test. 7 3600 600 86400 60
    @     IN NS  ns1
    ns1   IN A   192.0.2.53
    www   IN A   192.0.2.80
    """
    static let outside = """
    $ORIGIN out.test.
    $TTL 300
    @     IN SOA ns.provider.example. hostmaster.provider.example. 9 3600 600 86400 120
    @     IN NS  ns.provider.example.
    www   IN A   192.0.2.81
    """
    static let atOrigin = """
    $ORIGIN self.test.
    $TTL 300
    @     IN SOA self.test. self.test. 3 3600 600 86400 30
    @     IN NS  ns.provider.example.
    """
    static let fixture = try! ZoneFixture([("neg.test.", inside), ("out.test.", outside), ("self.test.", atOrigin)])

    @Test(arguments: [
        ("NoPe.NEG.test.", RRType.a, RCode.nxDomain, "neg.test. 60 SOA ns1.neg.test. hostmaster.neg.test. 7 3600 600 86400 60"),
        ("www.neg.test.", RRType.aaaa, RCode.noError, "neg.test. 60 SOA ns1.neg.test. hostmaster.neg.test. 7 3600 600 86400 60"),
        ("ns1.neg.test.", RRType.mx, RCode.noError, "neg.test. 60 SOA ns1.neg.test. hostmaster.neg.test. 7 3600 600 86400 60"),
        ("a.b.c.out.test.", RRType.a, RCode.nxDomain, "out.test. 120 SOA ns.provider.example. hostmaster.provider.example. 9 3600 600 86400 120"),
        ("self.test.", RRType.a, RCode.noError, "self.test. 30 SOA self.test. self.test. 3 3600 600 86400 30"),
        ("x.self.test.", RRType.txt, RCode.nxDomain, "self.test. 30 SOA self.test. self.test. 3 3600 600 86400 30"),
    ])
    func negativeAnswersCarryTheZonesSOA(name: String, type: RRType, rcode: RCode, soa: String) throws {
        let query = Message.query(id: 9, name: try DNSName(parsing: name), type: type, edns: EDNS())
        let raw = Self.fixture.respond(raw: query.encode())
        let response = try Message.decode(raw)
        #expect(response.rcode == rcode)
        #expect(response.answers.isEmpty)
        // Names keep the case they were written in (zone file or question); compare without it.
        #expect(lines(response.authority).map { $0.lowercased() } == [soa.lowercased()])
        // The owner is the question's own labels, in the client's case.
        let owner = try #require(response.authority.first).name.description
        #expect(name.hasSuffix(owner))
        // Compressed as well as plain compression does: no label of a name spelled out twice.
        let text = raw.map(asciiLowercase)
        for label in Set(soa.split(separator: " ").dropFirst(3).prefix(2).flatMap { $0.split(separator: ".") }) {
            let bytes = [UInt8(label.utf8.count)] + Array(label.utf8)
            let count = (0...(text.count - bytes.count)).filter { Array(text[$0..<($0 + bytes.count)]) == bytes }.count
            #expect(count <= 1, "\(label) appears \(count) times in the response")
        }
    }
}
