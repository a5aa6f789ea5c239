import CMallocCounter
import MeridianAuthority
import MeridianRouting
import MeridianWire
import Testing

let dynamicZone = """
$ORIGIN geo.test.
$TTL 300
@    IN SOA ns hostmaster 1 3600 600 86400 60
@    IN NS  ns
ns   IN A   192.0.2.53
api  30 IN DYNA inference
api  IN MX  10 mail.geo.test.
mail IN A   192.0.2.25
cdn  30 IN DYNC inference
down 30 IN DYNA strict
*.w  30 IN DYNA inference
"""

/// Routing without a database: overrides place the test networks, everything else falls back.
enum DynamicWorld {
    static func pack(_ octets: [UInt8]) -> (UInt64, UInt64) {
        var storage: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &storage) { out in for (index, byte) in octets.enumerated() { out[index] = byte } }
        return storage
    }

    static let edges = [
        EdgeSpec(name: "fra1", latitude: 50.11, longitude: 8.68, ipv4: [[192, 0, 2, 10]], ipv6: [[0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [0x10]],
                 cname: try? DNSName(parsing: "fra1.edge.example.net.")),
        EdgeSpec(name: "iad1", latitude: 39.04, longitude: -77.49, ipv4: [[192, 0, 2, 20]], ipv6: [],
                 cname: try? DNSName(parsing: "iad1.edge.example.net.")),
    ]

    static let routing = RoutingTable(
        edges: edges,
        pools: [
            PoolSpec(name: "inference", edges: [0, 1], policy: .nearest, answers: 1, fallback: .edges([1]), servfailWhenAllDown: false),
            PoolSpec(name: "strict", edges: [0, 1], policy: .nearest, answers: 1, fallback: .listed, servfailWhenAllDown: true),
        ],
        geo: nil,
        overrides: [
            OverrideSpec(family: .ipv4, octets: pack([81, 2, 0, 0]), prefixLength: 16, target: .location(latitude: 51.5, longitude: -0.12)),
            OverrideSpec(family: .ipv4, octets: pack([8, 8, 8, 0]), prefixLength: 24, target: .location(latitude: 37.7, longitude: -97.8)),
        ])

    static func subnet(_ octets: [UInt8], _ prefix: UInt8) -> EDNS {
        let subnet = ClientSubnet(family: .ipv4, sourcePrefix: prefix, octets: octets)
        return EDNS(options: [EDNS.Option(code: .clientSubnet, data: subnet.optionData)])
    }
}

@Suite struct DynamicAnswerTests {
    static let fixture = try! ZoneFixture([("geo.test.", dynamicZone)], routing: DynamicWorld.routing)

    @Test func clientSubnetPicksTheNearestEdgeWithItsScope() throws {
        let london = try Self.fixture.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([81, 2, 69, 0], 24))
        #expect(lines(london.answers) == ["api.geo.test. 30 A 192.0.2.10"])
        #expect(london.header.flags.contains(.aa))
        // The override covers 81.2.0.0/16, so the answer holds for the whole /16.
        #expect(try london.edns?.clientSubnet()?.scopePrefix == 16)

        let kansas = try Self.fixture.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([8, 8, 8, 0], 24))
        #expect(lines(kansas.answers) == ["api.geo.test. 30 A 192.0.2.20"])
        #expect(try kansas.edns?.clientSubnet()?.scopePrefix == 24)

        // A source network the data splits (8.8.0.0/20 holds the 8.8.8.0/24 override): the
        // scope is the network around the source address that shares its answer, 8.8.0.0/21,
        // longer than the source (RFC 7871 7.2.1), so it never covers the override's addresses.
        let wide = try Self.fixture.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([8, 8, 0, 0], 20))
        #expect(lines(wide.answers) == ["api.geo.test. 30 A 192.0.2.20"])
        let wideScope = try wide.edns?.clientSubnet()?.scopePrefix
        #expect(wideScope == 21)
    }

    @Test func withoutSubnetTheResolverAddressDecides() throws {
        let fromLondon = try Self.fixture.ask("api.geo.test.", .a, edns: EDNS(), from: ClientAddress(ipv4: 81, 2, 1, 1))
        #expect(lines(fromLondon.answers) == ["api.geo.test. 30 A 192.0.2.10"])
        // Source prefix 0: use the resolver's address and answer with scope 0.
        let zero = try Self.fixture.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([], 0), from: ClientAddress(ipv4: 81, 2, 1, 1))
        #expect(lines(zero.answers) == ["api.geo.test. 30 A 192.0.2.10"])
        #expect(try zero.edns?.clientSubnet()?.scopePrefix == 0)
        // Unknown client: the fallback order [iad1, fra1].
        let unknown = try Self.fixture.ask("api.geo.test.", .a, edns: nil, from: ClientAddress(ipv4: 172, 16, 0, 1))
        #expect(lines(unknown.answers) == ["api.geo.test. 30 A 192.0.2.20"])
    }

    @Test func aaaaSkipsEdgesWithoutIPv6() throws {
        let response = try Self.fixture.ask("api.geo.test.", .aaaa, edns: DynamicWorld.subnet([8, 8, 8, 0], 24))
        #expect(lines(response.answers) == ["api.geo.test. 30 AAAA 2001:db8::10"])
    }

    @Test func dyncAnswersWithTheEdgesCNAME() throws {
        let response = try Self.fixture.ask("cdn.geo.test.", .a, edns: DynamicWorld.subnet([81, 2, 69, 0], 24))
        #expect(lines(response.answers) == ["cdn.geo.test. 30 CNAME fra1.edge.example.net."])
        #expect(try response.edns?.clientSubnet()?.scopePrefix == 16)
    }

    @Test func otherTypesAtADynamicNameBehaveAsStatic() throws {
        #expect(lines(try Self.fixture.ask("api.geo.test.", .mx).answers) == ["api.geo.test. 300 MX 10 mail.geo.test."])
        let txt = try Self.fixture.ask("api.geo.test.", .txt, edns: DynamicWorld.subnet([81, 2, 69, 0], 24))
        #expect(txt.answers.isEmpty && txt.rcode == .noError && txt.authority.count == 1)
        #expect(try txt.edns?.clientSubnet()?.scopePrefix == 0)
        // The internal record kinds are never served as such.
        #expect(try Self.fixture.ask("api.geo.test.", .dyna).answers.isEmpty)
        // ANY: one RRset (RFC 8482) — the static MX here.
        #expect(try Self.fixture.ask("api.geo.test.", .any).answers.count == 1)
    }

    @Test func wildcardDynamicNamesAnswerForTheQueriedName() throws {
        let response = try Self.fixture.ask("x.w.geo.test.", .a, edns: DynamicWorld.subnet([81, 2, 69, 0], 24))
        #expect(lines(response.answers) == ["x.w.geo.test. 30 A 192.0.2.10"])
    }

    @Test func downEdgesAreSkippedWithHalfTheTTL() throws {
        let health = HealthTable(states: [.down, []])
        let fixture = try ZoneFixture([("geo.test.", dynamicZone)], routing: DynamicWorld.routing, health: health)
        let response = try fixture.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([81, 2, 69, 0], 24))
        #expect(lines(response.answers) == ["api.geo.test. 15 A 192.0.2.20"])
        let drained = try ZoneFixture([("geo.test.", dynamicZone)], routing: DynamicWorld.routing, health: HealthTable(states: [.drained, []]))
        #expect(lines(try drained.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([81, 2, 69, 0], 24)).answers) == ["api.geo.test. 15 A 192.0.2.20"])
    }

    @Test func shedAnswersMoveWithTheLoadTTLAndAScopeNoWiderThanTheHashedNetwork() throws {
        // London (81.2.0.0/16 override) is nearest to fra1; fra1 sheds everybody, then half.
        let everybody = HealthTable(states: [[], []], shedThresholds: [HealthTable.shedsEverybody, 0])
        let moved = try ZoneFixture([("geo.test.", dynamicZone)], routing: DynamicWorld.routing, health: everybody)
        let response = try moved.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([81, 2, 69, 0], 24))
        #expect(lines(response.answers) == ["api.geo.test. 15 A 192.0.2.20"], "moved for load: half the TTL by default")
        // Shedding everybody does not depend on the network: the override's /16 still holds.
        #expect(try response.edns?.clientSubnet()?.scopePrefix == 16)

        let half = try ZoneFixture([("geo.test.", dynamicZone)], routing: DynamicWorld.routing,
                                   health: HealthTable(states: [[], []], shedThresholds: [HealthTable.threshold(shedding: 0.5), 0]))
        var answers = Set<String>()
        for third in 0..<64 {
            let reply = try half.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([81, 2, UInt8(third), 0], 24))
            // The decision depends on the /24's hash: the answer holds for that /24 only.
            #expect(try reply.edns?.clientSubnet()?.scopePrefix == 24)
            answers.formUnion(lines(reply.answers))
        }
        #expect(answers == ["api.geo.test. 30 A 192.0.2.10", "api.geo.test. 15 A 192.0.2.20"])
    }

    @Test func allDownFollowsWhenAllDown() throws {
        let fixture = try ZoneFixture([("geo.test.", dynamicZone)], routing: DynamicWorld.routing, health: HealthTable(states: [.down, .down]))
        let open = try fixture.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([81, 2, 69, 0], 24))
        #expect(lines(open.answers) == ["api.geo.test. 30 A 192.0.2.10", "api.geo.test. 30 A 192.0.2.20"])
        let strict = try fixture.ask("down.geo.test.", .a)
        #expect(strict.rcode == .servFail)
        #expect(strict.answers.isEmpty)
    }

    @Test func unknownPoolsAreRejectedAtLoad() throws {
        #expect(throws: ZoneFixture.FixtureError.self) {
            try ZoneFixture([("geo.test.", dynamicZone + "\nextra 30 IN DYNA nosuchpool\n")], routing: DynamicWorld.routing)
        }
    }

    @Test(.enabled(if: !_isDebugAssertConfiguration(), "allocation counts hold for optimized builds"))
    func geoAnswersAllocateNothing() throws {
        let query = Message.query(id: 1, name: try DNSName(parsing: "api.geo.test."), type: .a, edns: DynamicWorld.subnet([81, 2, 69, 0], 24)).encode()
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        let scratch = ResponderScratch()
        let client = ClientAddress(ipv4: 192, 0, 2, 1)
        _ = query.withUnsafeBytes { Responder.respond(to: $0, from: client, over: .udp, using: Self.fixture.snapshot, scratch: scratch, into: output) }
        var answered = 0
        malloc_counter_start()
        for _ in 0..<1000 {
            answered += query.withUnsafeBytes {
                Responder.respond(to: $0, from: client, over: .udp, using: Self.fixture.snapshot, scratch: scratch, into: output)
            }.length > 0 ? 1 : 0
        }
        let allocations = malloc_counter_stop()
        #expect(answered == 1000)
        #expect(allocations == 0)

        // The same with fra1 shedding half of its clients: hashing, skipping and the load TTL.
        let shedding = try ZoneFixture([("geo.test.", dynamicZone)], routing: DynamicWorld.routing,
                                       health: HealthTable(states: [[], []], shedThresholds: [HealthTable.threshold(shedding: 0.5), 0]))
        let shedQueries = try (0..<250).map { third in
            Message.query(id: 1, name: try DNSName(parsing: "api.geo.test."), type: .a,
                          edns: DynamicWorld.subnet([81, 2, UInt8(third), 0], 24)).encode()
        }
        let moved = try (0..<250).filter { third in
            lines(try shedding.ask("api.geo.test.", .a, edns: DynamicWorld.subnet([81, 2, UInt8(third), 0], 24)).answers)
                == ["api.geo.test. 15 A 192.0.2.20"]
        }.count
        #expect(moved > 50 && moved < 200, "about half moved: \(moved)")
        var shedAnswered = 0
        malloc_counter_start()
        for shedQuery in shedQueries {
            shedAnswered += shedQuery.withUnsafeBytes {
                Responder.respond(to: $0, from: client, over: .udp, using: shedding.snapshot, scratch: scratch, into: output)
            }.length > 0 ? 1 : 0
        }
        let shedAllocations = malloc_counter_stop()
        #expect(shedAnswered == 250)
        #expect(shedAllocations == 0)
    }
}
