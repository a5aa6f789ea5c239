import MeridianAuthority
import MeridianRouting
import MeridianServer
import MeridianWire
import Testing

@Suite struct PublisherTests {
    @Test func reloadReturnsOnceEveryContextTookTheNewData() async throws {
        let publisher = SnapshotPublisher(base: try TwoEdges.snapshot(edges: [TwoEdges.fra, TwoEdges.iad], serial: 1))
        let first = publisher.makeContext(name: "udp#0")
        let second = publisher.makeContext(name: "udp#1")
        let next = try TwoEdges.snapshot(edges: [TwoEdges.fra, TwoEdges.iad], serial: 2)

        let generation = publisher.publishReload(next, health: next.health)
        #expect(first.snapshot.zones[0].serial == 1)
        first.checkpoint()
        second.checkpoint()
        try await publisher.waitUntilServed(generation, timeout: .seconds(30))
        #expect(first.snapshot.zones[0].serial == 2)
        #expect(second.snapshot.zones[0].serial == 2)
    }

    @Test func aContextThatNeverTakesTheDataFailsTheReloadByName() async throws {
        let publisher = SnapshotPublisher(base: try TwoEdges.snapshot(edges: [TwoEdges.fra], serial: 1))
        let taking = publisher.makeContext(name: "udp 127.0.0.1:53#0")
        _ = publisher.makeContext(name: "udp 127.0.0.1:53#1")
        let next = try TwoEdges.snapshot(edges: [TwoEdges.fra], serial: 2)

        let generation = publisher.publishReload(next, health: next.health)
        taking.checkpoint()
        let failure = await #expect(throws: PublishFailure.self) {
            try await publisher.waitUntilServed(generation, timeout: .milliseconds(200))
        }
        #expect(failure?.lagging == ["udp 127.0.0.1:53#1"])
    }

    @Test func aRetiredContextIsNotWaitedFor() async throws {
        let publisher = SnapshotPublisher(base: try TwoEdges.snapshot(edges: [TwoEdges.fra], serial: 1))
        let live = publisher.makeContext(name: "tcp#0")
        let stopped = publisher.makeContext(name: "udp#0")
        publisher.retire(stopped)
        let next = try TwoEdges.snapshot(edges: [TwoEdges.fra], serial: 2)
        let generation = publisher.publishReload(next, health: next.health)
        live.checkpoint()
        try await publisher.waitUntilServed(generation, timeout: .seconds(30))
        #expect(live.snapshot.zones[0].serial == 2)
    }

    @Test func healthChangesReachContextsWithoutWaitingAndKeepTheZones() throws {
        let base = try TwoEdges.snapshot(edges: [TwoEdges.fra, TwoEdges.iad])
        let publisher = SnapshotPublisher(base: base)
        let context = publisher.makeContext(name: "udp#0")
        let fraDown = HealthTable(states: [.down, []])
        publisher.health(fraDown)
        #expect(context.snapshot.health !== fraDown)
        context.checkpoint()
        #expect(context.snapshot.health === fraDown)
        #expect(context.snapshot.zones[0] === base.zones[0])
        // A table sized for other routing belongs to a reload still to come: not applied.
        publisher.health(HealthTable(states: [.down]))
        context.checkpoint()
        #expect(context.snapshot.health === fraDown)
    }

    @Test func aContextMadeLaterStartsFromTheNewestData() throws {
        let publisher = SnapshotPublisher(base: try TwoEdges.snapshot(edges: [TwoEdges.fra, TwoEdges.iad]))
        let fraDown = HealthTable(states: [.down, []])
        publisher.health(fraDown)
        let context = publisher.makeContext(name: "tcp#0")
        #expect(context.snapshot.health === fraDown)
    }
}

@Suite struct CounterTests {
    @Test func answersByEdgeSurviveARoutingChange() async throws {
        let publisher = SnapshotPublisher(base: try TwoEdges.snapshot(edges: [TwoEdges.fra, TwoEdges.iad]))
        let context = publisher.makeContext(name: "udp#0")
        for _ in 0..<3 { #expect(context.answerOnce(TwoEdges.query) == .noError) }

        // The new routing lists iad1 first: index 0 now means another edge.
        let swapped = try TwoEdges.snapshot(edges: [TwoEdges.iad, TwoEdges.fra], serial: 2)
        let generation = publisher.publishReload(swapped, health: swapped.health)
        context.checkpoint()
        try await publisher.waitUntilServed(generation, timeout: .seconds(30))
        for _ in 0..<2 { _ = context.answerOnce(TwoEdges.query) }
        context.shareCounters()

        let totals = publisher.totals()
        #expect(totals.edges == ["fra1": 3, "iad1": 2])
        #expect(totals.pools == ["inference": 5])
        #expect(totals.counters.udpQueries == 5)
        #expect(totals.counters.byRCode[0] == 5)
    }

    @Test func countsFromEveryContextAddUp() async throws {
        let publisher = SnapshotPublisher(base: try TwoEdges.snapshot(edges: [TwoEdges.fra]))
        let first = publisher.makeContext(name: "udp#0")
        let second = publisher.makeContext(name: "udp#1")
        _ = first.answerOnce(TwoEdges.query)
        for _ in 0..<4 { _ = second.answerOnce(TwoEdges.query) }
        first.recordResponseTime(nanoseconds: 1_000, answers: 1)
        first.shareCounters()
        second.shareCounters()
        publisher.retire(second)

        let totals = publisher.totals()
        #expect(totals.counters.queries == 5)
        #expect(totals.edges == ["fra1": 5])
        #expect(totals.counters.responseTimes.reduce(0, +) == 1)
    }

    @Test func countersAreSharedOnlyWhenDue() async throws {
        let publisher = SnapshotPublisher(base: try TwoEdges.snapshot(edges: [TwoEdges.fra]))
        let context = publisher.makeContext(name: "udp#0")
        context.shareCounters(now: 1_000_000_000)
        _ = context.answerOnce(TwoEdges.query)
        context.shareCountersIfDue(now: 1_000_000_000 + AnsweringContext.shareInterval - 1)
        #expect(publisher.totals().counters.queries == 0)
        context.shareCountersIfDue(now: 1_000_000_000 + AnsweringContext.shareInterval)
        #expect(publisher.totals().counters.queries == 1)
    }
}
