import MeridianRouting
import MeridianWire
import Testing

/// Load shedding in edge selection: sticky per client network, monotone in the fraction,
/// cascading to the next edge in the client's own order, never emptying an answer.
@Suite struct ShedTests {
    /// Everything in 12.0.0.0/8 is nearest to sfo1, then iad1, then fra1 ...
    static let table = RoutingTable(
        edges: World.edges(ipv6: false),
        pools: [PoolSpec(name: "inference", edges: Array(0..<6), policy: .nearest, answers: 1, fallback: .listed, servfailWhenAllDown: false),
                PoolSpec(name: "pair", edges: Array(0..<6), policy: .nearest, answers: 2, fallback: .listed, servfailWhenAllDown: false,
                         shedPrefixIPv4: 16)],
        geo: World.trie(), overrides: [])
    static let sfo1 = 2, iad1 = 1

    /// Client networks 12.x.y.0/24 inside the 12.0.0.0/8 network of the trie.
    static let clients: [ClientAddress] = (0..<2_000).map { ClientAddress(ipv4: 12, UInt8(1 + $0 / 250), UInt8($0 % 250), 7) }

    static func health(shedding fractions: [Int: Double], down: [Int] = []) -> HealthTable {
        HealthTable(states: (0..<6).map { down.contains($0) ? .down : [] },
                    shedThresholds: (0..<6).map { HealthTable.threshold(shedding: fractions[$0] ?? 0) })
    }

    static func answer(_ client: ClientAddress, _ health: HealthTable, pool: Int = 0) -> (edges: [String], selection: Selection) {
        let output = UnsafeMutablePointer<UInt16>.allocate(capacity: 8)
        defer { output.deallocate() }
        let decision = table.decide(pool: pool, client: client)
        let selection = table.select(pool: pool, list: decision.list, kind: .ipv4, health: health, client: client, into: output)
        return ((0..<selection.count).map { World.names[Int(output[$0])] }, selection)
    }

    static func shed(at fraction: Double) -> Set<Int> {
        let health = health(shedding: [sfo1: fraction])
        return Set(clients.indices.filter { answer(clients[$0], health).edges != ["sfo1"] })
    }

    @Test func theSharesShedFollowTheFraction() {
        #expect(Self.shed(at: 0).isEmpty)
        for fraction in [0.25, 0.5, 0.75] {
            let share = Double(Self.shed(at: fraction).count) / Double(Self.clients.count)
            #expect(abs(share - fraction) < 0.04, "shed \(share) at \(fraction)")
        }
        #expect(Self.shed(at: 1).count == Self.clients.count)
    }

    @Test func aNetworkShedStaysShedAsTheFractionRises() {
        var previous = Set<Int>()
        for step in 0...20 {
            let current = Self.shed(at: Double(step) / 20)
            #expect(previous.isSubset(of: current), "networks came back while the fraction rose to \(Double(step) / 20)")
            previous = current
        }
        // The same fraction sheds the same networks every time.
        #expect(Self.shed(at: 0.4) == Self.shed(at: 0.4))
    }

    @Test func aShedClientGoesToItsNextEdgeAndAnswersSayWhy() {
        let health = Self.health(shedding: [Self.sfo1: 1])
        let (edges, selection) = Self.answer(Self.clients[0], health)
        #expect(edges == ["iad1"])
        #expect(selection.shedNearer)
        #expect(!selection.loadDependent, "shedding everybody does not depend on the hash")
        #expect(!selection.skippedNearer)
        let partial = Self.answer(Self.clients[0], Self.health(shedding: [Self.sfo1: 0.5])).selection
        #expect(partial.loadDependent)
    }

    @Test func whenEveryCandidateShedsTheClientItKeepsItsNearestHealthyEdge() {
        let everything = Self.health(shedding: Dictionary(uniqueKeysWithValues: (0..<6).map { ($0, 1.0) }), down: [Self.sfo1])
        let (edges, selection) = Self.answer(Self.clients[0], everything)
        #expect(edges == ["iad1"])
        #expect(!selection.shedNearer, "nothing moved for load")
        #expect(selection.skippedNearer, "sfo1 is down")
        // Two answers wanted, one edge not shedding: it comes first, the nearest shedding one fills.
        let mostly = Self.health(shedding: [0: 1, 1: 1, 2: 1, 3: 1, 4: 1])
        #expect(Self.answer(Self.clients[0], mostly, pool: 1).edges == ["nrt1", "sfo1"])
    }

    @Test func theDecisionSticksToThePoolsShedPrefix() {
        // pool "pair" sheds per /16: every /24 of one /16 gets the same decision.
        let health = Self.health(shedding: [Self.sfo1: 0.5])
        let byNetwork = Dictionary(grouping: Self.clients, by: { $0.masked(to: 16) }).values
        for group in byNetwork {
            #expect(Set(group.map { Self.answer($0, health, pool: 1).edges }).count == 1)
        }
    }

    @Test func explainShowsEachCandidatesFractionAndTheClientsPosition() {
        let health = Self.health(shedding: [Self.sfo1: 0.5])
        for client in Self.clients.prefix(50) {
            let explanation = Self.table.explain(pool: 0, client: client, kind: .ipv4, health: health)
            let sfo1 = explanation.candidates.first { $0.edge == "sfo1" }!
            #expect(sfo1.shedFraction == 0.5)
            #expect(sfo1.chosen == (sfo1.shedPosition >= 0.5))
        }
    }
}
