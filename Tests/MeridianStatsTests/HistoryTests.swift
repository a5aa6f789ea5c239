import Foundation
import MeridianControl
import MeridianStats
import Testing

/// The last hour kept by the server: slots found by their second, differences of running
/// totals, quantiles from one second's buckets, and a bounded list of transitions.
struct TrafficHistoryTests {
    static let bounds = [1.0, 2.0, 4.0]

    // Samples a quarter past each second (the server samples just after it; a quarter is
    // exact in binary): the one at `second + 1.25` fills `second`.

    @Test func theRingKeepsTheLastSecondsAndWrapsAround() {
        var history = TrafficHistory(bucketsSeconds: Self.bounds, capacity: 4)
        var total = 0
        history.sample(at: 0.25, queries: 0, responseCounts: [], answersByEdge: [:])
        for second in 0...9 {
            total += 10 * (second + 1)
            history.sample(at: Double(second) + 1.25, queries: total, responseCounts: [], answersByEdge: [:])
        }
        let reply = history.reply(seconds: 4, now: 10.5, edges: [])
        #expect(reply.start == 6 && reply.seconds == 4)
        #expect(reply.queriesPerSecond == [70, 80, 90, 100])
        // More than it keeps is clamped to what it keeps.
        let all = history.reply(seconds: 3600, now: 10.5, edges: [])
        #expect(all.start == 6 && all.queriesPerSecond.count == 4)
        #expect(history.reply(seconds: 2, now: 10.5, edges: []).queriesPerSecond == [90, 100])
        // What `dnsctl status` shows: the newest second.
        #expect(history.latestQueriesPerSecond == 100)
        #expect(TrafficHistory(bucketsSeconds: Self.bounds).latestQueriesPerSecond == 0)
    }

    @Test func secondsNotSampledReadAsMissingNotAsAnOlderRound() {
        var history = TrafficHistory(bucketsSeconds: Self.bounds, capacity: 4)
        history.sample(at: 0.25, queries: 0, responseCounts: [], answersByEdge: [:])
        for second in 0...3 { history.sample(at: Double(second) + 1.25, queries: 10 * (second + 1), responseCounts: [], answersByEdge: [:]) }
        // Four seconds without a sample: their 40 queries are a rate over the four, in the middle one.
        history.sample(at: 8.25, queries: 80, responseCounts: [], answersByEdge: [:])
        history.sample(at: 9.25, queries: 85, responseCounts: [], answersByEdge: [:])
        let reply = history.reply(seconds: 4, now: 9.5, edges: [])
        #expect(reply.start == 5)
        // 5 and 7 reuse the slots of 1 and 3, which must not show through.
        #expect(reply.queriesPerSecond == [nil, 10, nil, 5])
    }

    @Test func countersThatStartAgainCountAsNoChangeAndABackwardClockStartsOver() {
        var history = TrafficHistory(bucketsSeconds: Self.bounds, capacity: 10)
        history.sample(at: 100.25, queries: 500, responseCounts: [], answersByEdge: ["a": 50])
        history.sample(at: 101.25, queries: 20, responseCounts: [], answersByEdge: ["a": 10])
        history.sample(at: 102.25, queries: 30, responseCounts: [], answersByEdge: ["a": 12])
        var reply = history.reply(seconds: 2, now: 102.5, edges: [])
        #expect(reply.queriesPerSecond == [0, 10])
        #expect(reply.answersByEdge["a"] == [0, 2])
        history.sample(at: 50.25, queries: 40, responseCounts: [], answersByEdge: [:])
        history.sample(at: 51.25, queries: 47, responseCounts: [], answersByEdge: [:])
        reply = history.reply(seconds: 3, now: 51.5, edges: [])
        #expect(reply.start == 48)
        #expect(reply.queriesPerSecond == [nil, nil, 7])
    }

    @Test func answersPerEdgeEverySecondAndEveryCurrentEdgeHasASeries() {
        var history = TrafficHistory(bucketsSeconds: Self.bounds, capacity: 10)
        history.sample(at: 0.25, queries: 0, responseCounts: [], answersByEdge: [:])
        history.sample(at: 1.25, queries: 5, responseCounts: [], answersByEdge: ["fra1": 3, "ams1": 2])
        history.sample(at: 2.25, queries: 9, responseCounts: [], answersByEdge: ["fra1": 7, "ams1": 2])
        history.sample(at: 2.75, queries: 10, responseCounts: [], answersByEdge: ["fra1": 8, "ams1": 2])
        // Two samples whose intervals centre on the same second add up; a rate is never
        // taken over less than a second.
        history.sample(at: 3.0, queries: 12, responseCounts: [], answersByEdge: ["fra1": 9, "ams1": 2])
        let edges = [HistoryReply.Edge(name: "fra1", state: .up, admin: .active),
                     HistoryReply.Edge(name: "sin1", state: .up, admin: .active)]
        let reply = history.reply(seconds: 3, now: 3.1, edges: edges)
        #expect(reply.start == 0)
        #expect(reply.answersByEdge == ["fra1": [3, 4, 2], "ams1": [2, 0, 0], "sin1": [0, 0, 0]])
        #expect(reply.queriesPerSecond == [5, 4, 3])
        #expect(reply.edges == edges)
    }

    @Test func quantilesComeFromTheSecondsOwnBuckets() throws {
        var history = TrafficHistory(bucketsSeconds: Self.bounds, capacity: 10)
        // Since start, everything was fast (the first bucket)...
        history.sample(at: 0.25, queries: 1000, responseCounts: [1000, 0, 0, 0], answersByEdge: [:])
        // ...this second, ten answers between 1 and 2 s and none faster.
        history.sample(at: 1.25, queries: 1010, responseCounts: [1000, 10, 0, 0], answersByEdge: [:])
        // The next, nothing.
        history.sample(at: 2.25, queries: 1010, responseCounts: [1000, 10, 0, 0], answersByEdge: [:])
        let reply = history.reply(seconds: 2, now: 2.5, edges: [])
        #expect(reply.responseP50Seconds == [1.5, nil])
        let p99 = try #require(reply.responseP99Seconds[0])
        #expect(abs(p99 - 1.99) < 1e-9)
        #expect(reply.responseBucketsSeconds == Self.bounds)
    }

    @Test func quantileEstimateInterpolatesAsPrometheusDoes() throws {
        // Linear within the bucket, the first one starting at 0.
        #expect(HistogramQuantile.estimate(0.5, bounds: [1, 2, 4], counts: [10, 0, 0, 0]) == 0.5)
        #expect(HistogramQuantile.estimate(0.5, bounds: [1, 2, 4], counts: [5, 0, 5, 0]) == 1)
        // Rank 75 of 100: the 25th of 50 in (2, 4].
        #expect(HistogramQuantile.estimate(0.75, bounds: [1, 2, 4], counts: [25, 25, 50, 0]) == 3)
        // In the +Inf bucket: the largest bound, nothing being known above it.
        #expect(HistogramQuantile.estimate(0.99, bounds: [1, 2, 4], counts: [1, 0, 0, 99]) == 4)
        // No observations, no estimate.
        #expect(HistogramQuantile.estimate(0.5, bounds: [1, 2, 4], counts: [0, 0, 0, 0]) == nil)
        #expect(HistogramQuantile.estimate(0.5, bounds: [], counts: [3]) == nil)
        // Prometheus' own example shape: cumulative 10, 30, 60 over 0.1, 0.5, 1 -> rank 30 ends (0.1, 0.5].
        let median = try #require(HistogramQuantile.estimate(0.5, bounds: [0.1, 0.5, 1], counts: [10, 20, 30, 0]))
        #expect(abs(median - 0.5) < 1e-12)
    }

    @Test func transitionsAreBoundedAndSayFromWhenTheyAreComplete() {
        var history = TrafficHistory(bucketsSeconds: Self.bounds, capacity: 100, transitionCapacity: 3)
        history.sample(at: 49.25, queries: 0, responseCounts: [], answersByEdge: [:])
        history.sample(at: 50.25, queries: 0, responseCounts: [], answersByEdge: [:])
        for (index, at) in [10.0, 20, 30, 40, 45].enumerated() {
            history.record(HistoryReply.Transition(at: at, edge: "fra1", kind: "health", from: index % 2 == 0 ? "up" : "down",
                                                   to: index % 2 == 0 ? "down" : "up", reason: "probe \(index)"))
        }
        var reply = history.reply(seconds: 100, now: 50.5, edges: [])
        #expect(reply.transitions.map(\.at) == [30, 40, 45])
        // Complete only after the newest one let go.
        #expect(reply.transitionsSince == 20)
        // Within a shorter window, only its own.
        reply = history.reply(seconds: 10, now: 50.5, edges: [])
        #expect(reply.transitions.map(\.at) == [40, 45])
        #expect(reply.transitionsSince == 40)
    }
}

/// The health timeline walks back from each edge's state now.
struct HealthTimelineTests {
    @Test func segmentsWalkBackFromTheStateNow() {
        let transitions = [
            HistoryReply.Transition(at: 100, edge: "fra1", kind: "health", from: "unknown", to: "up", reason: "first check"),
            HistoryReply.Transition(at: 150, edge: "ams1", kind: "health", from: "up", to: "down", reason: "other edge"),
            HistoryReply.Transition(at: 200, edge: "fra1", kind: "health", from: "up", to: "down", reason: "HTTP 503"),
            HistoryReply.Transition(at: 250, edge: "fra1", kind: "admin", from: "active", to: "drained", reason: "dnsctl drain"),
        ]
        let edge = HistoryReply.Edge(name: "fra1", state: .down, admin: .drained)
        let segments = Dashboard.healthSegments(edge, transitions: transitions, from: 0, to: 300, now: 301, knownSince: 90)
        #expect(segments == [
            .init(state: "nodata", from: 0, to: 90), .init(state: "unknown", from: 90, to: 100), .init(state: "up", from: 100, to: 200),
            .init(state: "down", from: 200, to: 250), .init(state: "drained", from: 250, to: 300),
        ])
        // Clipped to the window; an edge without transitions keeps its state throughout.
        #expect(Dashboard.healthSegments(edge, transitions: transitions, from: 120, to: 220, now: 301, knownSince: 90)
            == [.init(state: "up", from: 120, to: 200), .init(state: "down", from: 200, to: 220)])
        #expect(Dashboard.healthSegments(HistoryReply.Edge(name: "sin1", state: .up, admin: .active), transitions: transitions,
                                         from: 0, to: 300, now: 301, knownSince: 0) == [.init(state: "up", from: 0, to: 300)])
    }
}

/// `/api/v1/history` and the dashboard's history panels over real HTTP.
@Suite struct HistoryEndpointTests {
    @Test func historyIsServedWithTheSecondsAsked() async throws {
        let backend = FakeBackend()
        try await withStatsServer(backend: backend) { port in
            let whole = try #require(await get("/api/v1/history", port: port))
            #expect(whole.status == 200)
            #expect(whole.header("content-type") == "application/json; charset=utf-8")
            let reply = try ControlJSON.decoder().decode(HistoryReply.self, from: Data(whole.body.utf8))
            #expect(reply == (await backend.history(seconds: 3600)))
            #expect(reply.seconds == 3600 && reply.queriesPerSecond.count == 3600)
            // Seconds before the first sample are null, not 0.
            #expect(whole.body.contains("\"queriesPerSecond\":[null,"))
            #expect(reply.queriesPerSecond.suffix(120).allSatisfy { $0 == 10 })

            let part = try #require(await get("/api/v1/history?seconds=30", port: port))
            let last = try ControlJSON.decoder().decode(HistoryReply.self, from: Data(part.body.utf8))
            #expect(last.seconds == 30 && last.start == reply.start + 3600 - 30)
            #expect(last.answersByEdge["sin1"] == [UInt64](repeating: 10, count: 30))
            #expect(last.answersByEdge["fra1"] == [UInt64](repeating: 0, count: 30))

            for bad in ["0", "3601", "-5", "ten", ""] {
                #expect(await get("/api/v1/history?seconds=\(bad)", port: port)?.status == 400, "seconds=\(bad)")
            }
        }
    }

    @Test func dashboardDrawsTheHistoryBeforeItsScriptRuns() async throws {
        try await withStatsServer { port in
            let html = try #require(await get("/", port: port)).body
            // Queries/s and response time: paths with a point per six seconds of data (two minutes: 20).
            for id in ["qps-path", "p50-path", "p99-path"] {
                #expect(html.contains("id=\"\(id)\" data-points=\"20\" d=\"M"), "#\(id)")
            }
            // The card's line: the last five minutes, a point for each second with data.
            let line = try #require(html.firstRange(of: "id=\"qps-line\" points=\"").map { html[$0.upperBound...] })
            #expect(line.prefix { $0 != "\"" }.split(separator: " ").count == 120)
            // iad1 went down a minute ago: its band ends in a down stretch that started then.
            let band = try #require(html.firstRange(of: "<div class=\"band\" data-edge=\"iad1\">").map { html[$0.lowerBound...] })
            let rects = band[..<(band.firstRange(of: "</div>")?.lowerBound ?? band.endIndex)]
            #expect(rects.contains("<rect data-state=\"down\" data-from=\"1764003660.000\""))
            #expect(rects.contains("<rect data-state=\"up\""))
            // The share column is the last five minutes: fra1 answered none of the last 60 s but did before.
            #expect(html.contains("<td class=\"num share\" data-recent=\"600\">50.0%</td>"))
            #expect(html.contains("id=\"latency-now\">p50 "))
            #expect(html.contains("UTC</span>"))
            #expect(html.contains("fetchJSON(historyPath())"))
        }
    }
}
