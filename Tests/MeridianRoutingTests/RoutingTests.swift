import MeridianRouting
import MeridianWire
import Testing

/// A small world: six edges on five continents, and a hand-made geo trie.
enum World {
    static let names = ["fra1", "iad1", "sfo1", "sin1", "gru1", "nrt1"]
    static let places: [(Double, Double)] = [(50.11, 8.68), (39.04, -77.49), (37.77, -122.42), (1.35, 103.82), (-23.55, -46.63), (35.68, 139.69)]

    static func edges(ipv6: Bool = true) -> [EdgeSpec] {
        names.enumerated().map { index, name in
            EdgeSpec(name: name, latitude: places[index].0, longitude: places[index].1,
                     ipv4: [[192, 0, 2, UInt8(10 * (index + 1))]],
                     ipv6: ipv6 || index % 2 == 0 ? [[0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [UInt8(index + 1)]] : [],
                     cname: try? DNSName(parsing: "\(name).edge.example.net."))
        }
    }

    /// Networks → locations, built into a trie the same way the GeoIP loader does.
    static let networks: [(String, Int, GeoLocation)] = [
        ("81.2.69.0", 24, GeoLocation(latitude: 51.5, longitude: -0.12, hasCoordinates: true, country: "GB", continent: "EU", subdivision: "ENG")),
        ("8.8.8.0", 24, GeoLocation(latitude: 37.75, longitude: -97.82, hasCoordinates: true, country: "US", continent: "NA")),
        ("1.0.16.0", 20, GeoLocation(latitude: 35.69, longitude: 139.75, hasCoordinates: true, country: "JP", continent: "AS")),
        ("200.160.0.0", 20, GeoLocation(latitude: -23.5, longitude: -46.6, hasCoordinates: true, country: "BR", continent: "SA")),
        ("12.0.0.0", 8, GeoLocation(latitude: 37.4, longitude: -122.1, hasCoordinates: true, country: "US", continent: "NA", subdivision: "CA")),
        ("12.34.0.0", 16, GeoLocation(country: "US", continent: "NA")),  // a country without coordinates
    ]

    static func trie() -> GeoTrie {
        var builder = TrieBuilder()
        for (text, prefix, location) in networks {
            builder.insert(ipv4: text.split(separator: ".").map { UInt8($0)! }, prefix: prefix, location: location)
        }
        builder.insert(ipv6: [0x24, 0x00, 0xCB, 0x00], prefix: 32, location: GeoLocation(latitude: 35.7, longitude: 139.7, hasCoordinates: true, country: "JP", continent: "AS"))
        return builder.build()
    }

    static func client(_ text: String) -> ClientAddress {
        if text.contains(":") {
            let groups = text.split(separator: ":", omittingEmptySubsequences: false)
            var octets: [UInt8] = []
            for group in groups where !group.isEmpty {
                let value = UInt16(group, radix: 16)!
                octets += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            octets += Array(repeating: 0, count: 16 - octets.count)
            return ClientAddress(family: .ipv6, octets: pack(octets))
        }
        let parts = text.split(separator: ".").map { UInt8($0)! }
        return ClientAddress(ipv4: parts[0], parts[1], parts[2], parts[3])
    }

    static func pack(_ octets: [UInt8]) -> (UInt64, UInt64) {
        var storage: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &storage) { out in for (index, byte) in octets.enumerated() { out[index] = byte } }
        return storage
    }
}

/// Builds a GeoTrie from networks (test-only: the real trie comes from the MMDB loader).
struct TrieBuilder {
    var records: [UInt32] = [GeoTrie.noData, GeoTrie.noData]
    var leaves: [(node: Int, side: Int, location: Int)] = []
    var locations: [GeoLocation] = []

    mutating func insert(bits: [Int], location: GeoLocation) {
        let index = locations.count
        locations.append(location)
        var node = 0
        for (depth, bit) in bits.enumerated() {
            let slot = node * 2 + bit
            if depth == bits.count - 1 {
                leaves.removeAll { $0.node == node && $0.side == bit }
                leaves.append((node, bit, index))
                records[slot] = UInt32.max - 1  // marked; resolved in build()
                return
            }
            if records[slot] == GeoTrie.noData || records[slot] == UInt32.max - 1 {
                // Push an existing leaf down both sides so a more specific network can split it.
                let inherited = leaves.first { $0.node == node && $0.side == bit }?.location
                leaves.removeAll { $0.node == node && $0.side == bit }
                let child = records.count / 2
                records += [GeoTrie.noData, GeoTrie.noData]
                records[slot] = UInt32(child)
                if let inherited {
                    leaves.append((child, 0, inherited))
                    leaves.append((child, 1, inherited))
                    records[child * 2] = UInt32.max - 1
                    records[child * 2 + 1] = UInt32.max - 1
                }
            }
            node = Int(records[slot])
        }
    }

    mutating func insert(ipv4: [UInt8], prefix: Int, location: GeoLocation) {
        insert(bits: Array(repeating: 0, count: 96) + bits(of: ipv4, prefix: prefix), location: location)
    }

    mutating func insert(ipv6: [UInt8], prefix: Int, location: GeoLocation) {
        insert(bits: bits(of: ipv6, prefix: prefix), location: location)
    }

    func bits(of octets: [UInt8], prefix: Int) -> [Int] {
        (0..<prefix).map { Int(octets[$0 / 8] >> (7 - UInt8($0 % 8))) & 1 }
    }

    func build() -> GeoTrie {
        let nodeCount = UInt32(records.count / 2)
        var final = records
        for leaf in leaves { final[leaf.node * 2 + leaf.side] = nodeCount + UInt32(leaf.location) }
        return GeoTrie(records: final, nodeCount: nodeCount, locations: locations, ipv6Tree: true)
    }
}

struct RouteCase: Sendable, CustomTestStringConvertible {
    var client: String
    var kind: AnswerKind = .ipv4
    var down: [String] = []
    var drained: [String] = []
    var expected: [String]
    var scope: Int
    var halved = false
    var testDescription: String { "\(client) down:\(down) → \(expected)" }
}

@Suite struct NearestPolicyTests {
    static let table: RoutingTable = {
        let pool = PoolSpec(name: "inference", edges: Array(0..<6), policy: .nearest, answers: 1, fallback: .edges([1, 0]), servfailWhenAllDown: false)
        let pair = PoolSpec(name: "pair", edges: Array(0..<6), policy: .nearest, answers: 2, fallback: .listed, servfailWhenAllDown: true)
        let overrides = [
            OverrideSpec(family: .ipv4, octets: World.pack([10, 0, 0, 0]), prefixLength: 8, target: .location(latitude: -33.9, longitude: 151.2)),
            OverrideSpec(family: .ipv4, octets: World.pack([10, 1, 0, 0]), prefixLength: 16, target: .edges([4])),
        ]
        return RoutingTable(edges: World.edges(ipv6: false), pools: [pool, pair], geo: World.trie(), overrides: overrides)
    }()

    static let cases: [RouteCase] = [
        RouteCase(client: "81.2.69.142", expected: ["fra1"], scope: 24),
        RouteCase(client: "8.8.8.8", expected: ["iad1"], scope: 24),
        RouteCase(client: "1.0.16.1", expected: ["nrt1"], scope: 20),
        RouteCase(client: "200.160.2.3", expected: ["gru1"], scope: 20),
        // 12.34.0.0/16 splits 12.0.0.0/8, so the network around 12.200.1.1 is a /9.
        RouteCase(client: "12.200.1.1", expected: ["sfo1"], scope: 9),
        // Tokyo, but nrt1 and sin1 have no IPv6 in this world: the nearest with IPv6 is sfo1.
        RouteCase(client: "2400:cb00::1", kind: .ipv6, expected: ["sfo1"], scope: 32),
        RouteCase(client: "81.2.69.142", down: ["fra1"], expected: ["iad1"], scope: 24, halved: true),
        RouteCase(client: "81.2.69.142", drained: ["fra1"], expected: ["iad1"], scope: 24, halved: true),
        RouteCase(client: "81.2.69.142", down: ["iad1"], expected: ["fra1"], scope: 24),
        // Unknown location: private ranges, networks without coordinates → fallback [iad1, fra1, ...].
        // Nothing is known in all of 128.0.0.0/2, so that is the scope.
        RouteCase(client: "172.16.0.1", expected: ["iad1"], scope: 2),
        RouteCase(client: "12.34.5.6", expected: ["iad1"], scope: 16),
        RouteCase(client: "172.16.0.1", down: ["iad1"], expected: ["fra1"], scope: 2, halved: true),
        // Overrides win, most specific first. 10.9.9.9 is in 10.0.0.0/8, whose 10.1.0.0/16
        // answers otherwise: the scope is the widest network around it that leaves the /16
        // out, 10.8.0.0/13, not the whole /8.
        RouteCase(client: "10.9.9.9", expected: ["sin1"], scope: 13),
        RouteCase(client: "10.1.2.3", expected: ["gru1"], scope: 16),
        // All down: fail open with every edge, nearest first.
        RouteCase(client: "81.2.69.142", down: World.names, expected: ["fra1", "iad1", "sfo1", "gru1", "nrt1", "sin1"], scope: 24),
    ]

    @Test(arguments: cases)
    func routes(_ route: RouteCase) throws {
        let table = Self.table
        let health = HealthTable(states: World.names.map { name in
            var state: HealthTable.State = []
            if route.down.contains(name) { state.insert(.down) }
            if route.drained.contains(name) { state.insert(.drained) }
            return state
        })
        let decision = table.decide(pool: 0, client: World.client(route.client))
        let output = UnsafeMutablePointer<UInt16>.allocate(capacity: 16)
        defer { output.deallocate() }
        let selection = table.select(pool: 0, list: decision.list, kind: route.kind, health: health, client: World.client(route.client), into: output)
        let chosen = (0..<selection.count).map { World.names[Int(output[$0])] }
        #expect(chosen == route.expected)
        #expect(decision.scope == route.scope)
        #expect(selection.skippedNearer == route.halved)
    }

    @Test func nearestOrderMatchesAnIndependentDistanceComputation() {
        // For every located network, the chosen order must be sorted by haversine distance.
        for (text, _, location) in World.networks where location.hasCoordinates {
            var octets = text.split(separator: ".").map { UInt8($0)! }
            octets[3] |= 1
            let decision = Self.table.decide(pool: 0, client: ClientAddress(ipv4: octets[0], octets[1], octets[2], octets[3]))
            let order = Self.table.edgeList(decision.list)
            let distances = order.map { edge in
                greatCircleKilometres(location.latitude, location.longitude, World.places[edge].0, World.places[edge].1)
            }
            #expect(distances == distances.sorted(), "\(text): \(order)")
        }
        // London–Frankfurt is about 640 km.
        #expect(abs(greatCircleKilometres(51.5, -0.12, 50.11, 8.68) - 637) < 15)
    }

    @Test func answersCountsHealthyEdgesAndServfailsWhenAllDown() {
        let table = Self.table
        let output = UnsafeMutablePointer<UInt16>.allocate(capacity: 16)
        defer { output.deallocate() }
        let decision = table.decide(pool: 1, client: World.client("81.2.69.1"))
        let up = table.select(pool: 1, list: decision.list, kind: .ipv4, health: .allUp(edges: 6), client: World.client("81.2.69.142"), into: output)
        #expect((0..<up.count).map { World.names[Int(output[$0])] } == ["fra1", "iad1"])
        let allDown = HealthTable(states: Array(repeating: .down, count: 6))
        let failed = table.select(pool: 1, list: decision.list, kind: .ipv4, health: allDown, client: World.client("81.2.69.142"), into: output)
        #expect(failed.servfail)
        #expect(failed.allDown)
    }
}

@Suite struct MapPolicyTests {
    static let table: RoutingTable = {
        let map: [(key: String, edges: [Int])] = [("US-CA", [2, 1]), ("US", [1, 2]), ("EU", [0, 1]), ("AS", [3, 5]), ("default", [1, 0])]
        let pool = PoolSpec(name: "regional", edges: Array(0..<6), policy: .map(map), answers: 1, fallback: .listed, servfailWhenAllDown: false)
        return RoutingTable(edges: World.edges(), pools: [pool], geo: World.trie(), overrides: [])
    }()

    @Test(arguments: [
        ("12.200.1.1", "sfo1"),  // US-CA: subdivision beats country
        ("8.8.8.8", "iad1"),  // US
        ("12.34.5.6", "iad1"),  // US without coordinates still maps by country
        ("81.2.69.142", "fra1"),  // EU by continent
        ("1.0.16.1", "sin1"),  // AS
        ("200.160.2.3", "iad1"),  // SA: default
    ])
    func mostSpecificKeyWins(client: String, edge: String) {
        let decision = Self.table.decide(pool: 0, client: World.client(client))
        #expect(World.names[Self.table.edgeList(decision.list)[0]] == edge)
    }

    @Test func unknownClientsGetTheListedOrder() {
        let decision = Self.table.decide(pool: 0, client: World.client("172.16.0.1"))
        #expect(decision.source == .fallback)
        #expect(Self.table.edgeList(decision.list) == Array(0..<6))
    }
}

/// A pool whose answer is the same everywhere compiles into a trie of one leaf.
@Suite struct SingleAnswerTests {
    @Test func aPoolOfOneEdgeAnswersWithItEverywhere() {
        let pool = PoolSpec(name: "solo", edges: [2], policy: .nearest, answers: 1, fallback: .listed, servfailWhenAllDown: false)
        let table = RoutingTable(edges: World.edges(), pools: [pool], geo: World.trie(), overrides: [])
        for client in ["81.2.69.142", "172.16.0.1", "12.34.5.6", "2400:cb00::1"] {
            #expect(table.edgeList(table.route(pool: 0, client: World.client(client)).list) == [2], "\(client)")
        }
        // All of IPv4 is one network.
        #expect(table.route(pool: 0, client: World.client("8.8.8.8")).scope == 0)
    }
}
