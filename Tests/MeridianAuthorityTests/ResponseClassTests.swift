import MeridianAuthority
import MeridianWire
import Testing

/// The class response rate limiting files each answer under, from real answers of the
/// responder: the facts it rests on (wildcard, referral, answer count, size) come from the
/// lookup, not from guesses over the wire.
@Suite struct ResponseClassTests {
    static let fixture = try! ZoneFixture([
        ("example.test.", exampleZone + "\n" + (0..<8).map { "big IN TXT \"\(String(repeating: "x", count: 120))\($0)\"" }.joined(separator: "\n")),
    ])

    static func outcome(_ name: String, _ type: RRType, edns: EDNS? = EDNS(), raw: [UInt8]? = nil) throws -> Outcome {
        let query = try raw ?? Message.query(id: 7, name: DNSName(parsing: name), type: type, edns: edns).encode()
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        return query.withUnsafeBytes {
            Responder.respond(to: $0, from: ClientAddress(ipv4: 192, 0, 2, 9), over: .udp, using: fixture.snapshot,
                              scratch: ResponderScratch(), into: output)
        }
    }

    @Test(arguments: [
        ("web.example.test.", RRType.a, ResponseClass.positive),
        ("www.example.test.", .a, .positive),  // CNAME chased inside the zone
        ("nope.example.test.", .a, .nxDomain),
        ("web.example.test.", .aaaa, .noData),
        ("example.test.", .any, .any),
        ("host.sub.example.test.", .a, .referral),
        ("x.wild.example.test.", .a, .wildcard),
        ("towild.example.test.", .a, .wildcard),  // a CNAME whose target is synthesised
        ("www.other.test.", .a, .error),  // REFUSED: no zone here
        ("big.example.test.", .txt, .large),
    ])
    func classOfAnswer(name: String, type: RRType, expected: ResponseClass) throws {
        #expect(try Self.outcome(name, type).responseClass == expected)
    }

    @Test func truncatedAnswersAreLarge() throws {
        // Without EDNS the 512-octet limit cuts the TXT set: TC=1 and a short response.
        let outcome = try Self.outcome("big.example.test.", .txt, edns: nil)
        #expect(outcome.truncated && outcome.length < ResponseClass.largeSize)
        #expect(outcome.responseClass == .large)
    }

    @Test func errorsBeforeTheZoneAreErrors() throws {
        var query = try Message.query(id: 7, name: DNSName(parsing: "web.example.test."), type: .a).encode()
        query[5] = 2  // QDCOUNT 2: FORMERR
        let outcome = try Self.outcome("", .a, raw: query)
        #expect(outcome.rcode == .formErr && outcome.zone == -1)
        #expect(outcome.responseClass == .error)
    }

    @Test func outcomeRecordsWhereTheOPTRecordIs() throws {
        let withOPT = try Self.outcome("web.example.test.", .a)
        #expect(withOPT.optOffset > 0 && Int(withOPT.optOffset) + OPTFields.recordLengthWithoutOptions == withOPT.length)
        #expect(try Self.outcome("web.example.test.", .a, edns: nil).optOffset == -1)
        #expect(withOPT.zone == 0 && withOPT.answerCount == 1 && !withOPT.hasValidServerCookie)
    }
}
