import MeridianAuthority
import MeridianLoad
import MeridianWire
import MeridianZoneFile
import Testing

/// The loader lays a zone out the same way whatever the order of its file: records already
/// kept together by owner and type stay where they were read; owners that come back later,
/// types out of order and repeated records are sorted and merged. Every answer is the same
/// byte for byte.
struct ZoneLayoutTests {
    /// (owner, type, rest of the line), each owner's records in the order they are written.
    static let records: [(owner: String, type: RRType, data: String)] = [
        ("@", .ns, "ns1"), ("@", .soa, "ns1 hostmaster 1 3600 600 86400 300"), ("@", .mx, "10 mail"),
        ("@", .txt, "\"apex\""), ("ns1", .a, "192.0.2.1"), ("ns1", .aaaa, "2001:db8::1"),
        ("mail", .a, "192.0.2.25"), ("mail", .txt, "\"v=spf1 -all\""), ("www", .a, "192.0.2.80"),
        ("www", .a, "192.0.2.81"), ("www", .aaaa, "2001:db8::80"), ("a.b.deep", .a, "192.0.2.9"),
        ("sub", .ns, "ns.sub"), ("ns.sub", .a, "192.0.2.53"), ("*.wild", .txt, "\"wild\""),
        ("alias", .cname, "www"), ("_x._tcp", .srv, "0 5 443 www"), ("Mixed", .a, "192.0.2.7"),
    ]

    static func line(_ record: (owner: String, type: RRType, data: String)) -> String {
        "\(record.owner) 300 IN \(record.type) \(record.data)"
    }

    /// Owners in order of first appearance, each with its records.
    static var byOwner: [[(owner: String, type: RRType, data: String)]] {
        var owners: [String] = []
        var groups: [String: [(owner: String, type: RRType, data: String)]] = [:]
        for record in records {
            if groups[record.owner] == nil { owners.append(record.owner) }
            groups[record.owner, default: []].append(record)
        }
        return owners.map { groups[$0]! }
    }

    static func zone(_ lines: [String]) -> String { "$ORIGIN layout.test.\n" + lines.joined(separator: "\n") + "\n" }

    /// Together and by type: nothing to move.
    static var inPlace: String {
        zone(byOwner.flatMap { group in group.enumerated().sorted { ($0.element.type.rawValue, $0.offset) < ($1.element.type.rawValue, $1.offset) }.map { line($0.element) } })
    }

    /// The first record of every owner, then the second of every owner, and so on.
    static var interleaved: String {
        let groups = byOwner
        return zone((0..<groups.map(\.count).max()!).flatMap { round in groups.compactMap { round < $0.count ? line($0[round]) : nil } })
    }

    /// The records again, but for the SOA and CNAME (the checks count one of those twice as two,
    /// as a zone with two SOA records).
    static func repeated(_ records: [(owner: String, type: RRType, data: String)]) -> [String] {
        records.filter { $0.type != .soa && $0.type != .cname }.map(line)
    }

    @Test(arguments: [
        ("types out of order", zone(records.map(line))),
        ("owners interleaved", interleaved),
        ("every record twice, side by side", zone(byOwner.flatMap { $0.flatMap { [line($0)] + repeated([$0]) } })),
        ("every record again at the end", zone(records.map(line) + repeated(records.reversed()))),
    ])
    func anyOrderBuildsTheSameZone(order: String, text: String) throws {
        let expected = try ZoneFixture([("layout.test.", Self.inPlace)])
        let built = try ZoneFixture([("layout.test.", text)])
        let names = Self.records.map { $0.owner == "@" ? "" : $0.owner + "." } + ["nope.", "b.deep.", "x.wild.", "x.sub.", "mixed."]
        let types: [RRType] = [.a, .aaaa, .ns, .soa, .mx, .txt, .srv, .cname, .any]
        for name in names {
            for type in types {
                let query = Message.query(id: 7, name: try DNSName(parsing: name + "layout.test."), type: type).encode()
                #expect(built.respond(raw: query) == expected.respond(raw: query), "\(order): \(name) \(type)")
            }
        }
    }

    static let longLabel = String(repeating: "a", count: 63)

    @Test func messagesNameOwnersAsWritten() throws {
        let text = "$ORIGIN layout.test.\n@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ 300 IN NS ns1\n"
            + "WWW 300 IN CNAME ns1\nWWW 300 IN A 192.0.2.1\nOut.Side. 300 IN A 192.0.2.2\n"
            // Capitals past the 64th octet, and a line that inherits that owner.
            + "\(Self.longLabel).Zz.Out. 300 IN TXT \"x\"\n    300 IN TXT \"y\"\n"
        do {
            _ = try ZoneFixture([("layout.test.", text)])
            Issue.record("a zone with CNAME and other data loaded")
        } catch let error as ZoneFixture.FixtureError {
            #expect(error.errors == [
                "layout.test.zone:5:1: CNAME and other data at WWW.layout.test.",
                "layout.test.zone:6:1: Out.Side. is outside the zone layout.test.",
                "layout.test.zone:7:1: \(Self.longLabel).Zz.Out. is outside the zone layout.test.",
                "layout.test.zone:8:5: \(Self.longLabel).Zz.Out. is outside the zone layout.test.",
            ])
        }
    }
}
