import MeridianControl

/// The last hour of the server's traffic, one slot a second, and the last edge transitions:
/// what `/api/v1/history` serves and the dashboard draws. Memory is fixed when it is made
/// (`capacity` slots and `transitionCapacity` transitions), whatever the traffic.
///
/// It is fed the server's running totals once a second (``sample(at:queries:responseCounts:answersByEdge:)``);
/// each slot holds the difference from the sample before, so the totals may come from
/// counters that other threads keep adding to. A slot is found by its second modulo
/// `capacity` and is valid only while it still holds that second, so an hour later the
/// same slot serves again without any shifting, and seconds that were not sampled read as
/// missing rather than as an older hour's values.
public struct TrafficHistory: Sendable {
    public static let defaultCapacity = HistoryReply.maximumSeconds
    public static let defaultTransitionCapacity = 1000

    /// Answers for one edge in one second.
    struct EdgeCount: Sendable {
        var edge: Int32
        var count: Int
    }

    /// The totals of the last sample, from which the next one's differences are taken.
    struct Totals: Sendable {
        var time: Double
        var queries: Int
        var responseCounts: [Int]
        var answersByEdge: [String: Int]
    }

    public let capacity: Int
    public let transitionCapacity: Int
    /// The response-time histogram's upper bounds in seconds; counts have one more slot (+Inf).
    public let bucketsSeconds: [Double]

    private var slotSecond: [Int]
    private var slotQueries: [Int]
    /// Seconds the slot's differences took to accumulate: about 1, more after a late sample.
    private var slotElapsed: [Double]
    /// `capacity` rows of `bucketsSeconds.count + 1` counts.
    private var slotResponses: [Int]
    private var slotEdges: [[EdgeCount]]
    /// The second of the last sample: where every window ends.
    private var newestSecond: Int?
    private var previous: Totals?
    /// Edge names by the number slots use for them; names are never forgotten (an edge
    /// removed by a reload keeps its past answers), and there are as many as the
    /// configurations have named.
    private var edgeNames: [String] = []
    private var edgeNumbers: [String: Int32] = [:]

    private var transitions: [HistoryReply.Transition] = []
    /// The time of the newest transition let go to stay within `transitionCapacity`: the list
    /// is complete only after it.
    private var forgottenUntil: Double?

    public init(bucketsSeconds: [Double], capacity: Int = defaultCapacity, transitionCapacity: Int = defaultTransitionCapacity) {
        precondition(capacity > 0 && transitionCapacity > 0)
        self.capacity = capacity
        self.transitionCapacity = transitionCapacity
        self.bucketsSeconds = bucketsSeconds
        slotSecond = [Int](repeating: .min, count: capacity)
        slotQueries = [Int](repeating: 0, count: capacity)
        slotElapsed = [Double](repeating: 0, count: capacity)
        slotResponses = [Int](repeating: 0, count: capacity * (bucketsSeconds.count + 1))
        slotEdges = [[EdgeCount]](repeating: [], count: capacity)
    }

    // MARK: - Recording

    /// Takes the server's totals since start at `time` (seconds since the Unix epoch). The
    /// first sample only sets the baseline. The differences go to the second in the middle
    /// of the interval since the previous sample (sampling just after each whole second
    /// fills the second that just ended); two samples in one second add up. A total that
    /// went down (counters that started again) counts as no change. When the clock went
    /// back, the history starts again: its seconds would no longer be in order.
    public mutating func sample(at time: Double, queries: Int, responseCounts: [Int], answersByEdge: [String: Int]) {
        let totals = Totals(time: time, queries: queries, responseCounts: responseCounts, answersByEdge: answersByEdge)
        defer { previous = totals }
        guard let previous, time > previous.time else {
            if let previous, time < previous.time { clearSeconds() }
            return
        }
        let elapsed = time - previous.time
        let second = Int((time - elapsed / 2).rounded(.down))
        if let newestSecond, second < newestSecond { clearSeconds() }
        let slot = index(of: second)
        if slotSecond[slot] != second {
            slotSecond[slot] = second
            slotQueries[slot] = 0
            slotElapsed[slot] = 0
            for bucket in 0...bucketsSeconds.count { slotResponses[slot * (bucketsSeconds.count + 1) + bucket] = 0 }
            slotEdges[slot].removeAll(keepingCapacity: true)
        }
        slotQueries[slot] += max(0, queries - previous.queries)
        slotElapsed[slot] += elapsed
        for bucket in 0...bucketsSeconds.count where bucket < responseCounts.count {
            let before = bucket < previous.responseCounts.count ? previous.responseCounts[bucket] : 0
            slotResponses[slot * (bucketsSeconds.count + 1) + bucket] += max(0, responseCounts[bucket] - before)
        }
        for (name, total) in answersByEdge {
            let added = total - (previous.answersByEdge[name] ?? 0)
            guard added > 0 else { continue }
            let number = edgeNumber(name)
            if let existing = slotEdges[slot].firstIndex(where: { $0.edge == number }) {
                slotEdges[slot][existing].count += added
            } else {
                slotEdges[slot].append(EdgeCount(edge: number, count: added))
            }
        }
        newestSecond = second
    }

    /// Keeps `transition`; the oldest goes once `transitionCapacity` are kept.
    public mutating func record(_ transition: HistoryReply.Transition) {
        if transitions.count == transitionCapacity {
            forgottenUntil = transitions.removeFirst().at
        }
        transitions.append(transition)
    }

    private mutating func clearSeconds() {
        for slot in slotSecond.indices { slotSecond[slot] = .min }
        newestSecond = nil
    }

    private func index(of second: Int) -> Int {
        let remainder = second % capacity
        return remainder < 0 ? remainder + capacity : remainder
    }

    private mutating func edgeNumber(_ name: String) -> Int32 {
        if let number = edgeNumbers[name] { return number }
        let number = Int32(edgeNames.count)
        edgeNames.append(name)
        edgeNumbers[name] = number
        return number
    }

    // MARK: - Reading

    /// Queries per second in the newest second sampled, as `reply` gives it; 0 before the
    /// second sample.
    public var latestQueriesPerSecond: Double {
        guard let newestSecond else { return 0 }
        let slot = index(of: newestSecond)
        return Double(slotQueries[slot]) / max(slotElapsed[slot], 1)
    }

    /// The last `seconds` sampled (1 to `capacity`) and the transitions since the first of
    /// them; `edges` is every edge as it is `now`, and each has a series even without answers.
    public func reply(seconds: Int, now: Double, edges: [HistoryReply.Edge]) -> HistoryReply {
        let length = min(max(seconds, 1), capacity)
        let end = newestSecond ?? Int(now.rounded(.down)) - 1
        let start = end - length + 1
        let width = bucketsSeconds.count + 1
        var queriesPerSecond = [Double?](repeating: nil, count: length)
        var p50 = [Double?](repeating: nil, count: length)
        var p99 = [Double?](repeating: nil, count: length)
        var answers = [[UInt64]](repeating: [UInt64](repeating: 0, count: length), count: edgeNames.count)
        var answered = [Bool](repeating: false, count: edgeNames.count)
        for offset in 0..<length {
            let slot = index(of: start + offset)
            guard slotSecond[slot] == start + offset else { continue }
            queriesPerSecond[offset] = Double(slotQueries[slot]) / max(slotElapsed[slot], 1)
            let counts = slotResponses[(slot * width)..<(slot * width + width)]
            p50[offset] = HistogramQuantile.estimate(0.5, bounds: bucketsSeconds, counts: counts)
            p99[offset] = HistogramQuantile.estimate(0.99, bounds: bucketsSeconds, counts: counts)
            for entry in slotEdges[slot] {
                answers[Int(entry.edge)][offset] += UInt64(entry.count)
                answered[Int(entry.edge)] = true
            }
        }
        var answersByEdge: [String: [UInt64]] = [:]
        for (number, name) in edgeNames.enumerated() where answered[number] { answersByEdge[name] = answers[number] }
        for edge in edges where answersByEdge[edge.name] == nil {
            answersByEdge[edge.name] = [UInt64](repeating: 0, count: length)
        }
        let from = Double(start)
        return HistoryReply(
            now: now, start: start, seconds: length, queriesPerSecond: queriesPerSecond, responseP50Seconds: p50,
            responseP99Seconds: p99, responseBucketsSeconds: bucketsSeconds, answersByEdge: answersByEdge, edges: edges,
            transitions: transitions.filter { $0.at >= from }, transitionsSince: max(from, forgottenUntil ?? from))
    }
}

/// Quantiles of a histogram the way Prometheus' `histogram_quantile` estimates them: find
/// the bucket the rank falls in and interpolate linearly between its bounds (the first
/// bucket starts at 0); a rank in the `+Inf` bucket gives the largest finite bound, since
/// nothing is known above it.
public enum HistogramQuantile {
    /// The `quantile` (0...1) of observations counted per bucket (not cumulatively):
    /// `counts[i]` fell at or below `bounds[i]` and above the bound before; one more count
    /// than bounds, the last above every bound. `nil` without observations or bounds.
    public static func estimate(_ quantile: Double, bounds: [Double], counts: some Collection<Int>) -> Double? {
        guard !bounds.isEmpty else { return nil }
        var cumulative: [Double] = []
        cumulative.reserveCapacity(bounds.count + 1)
        var running = 0.0
        for count in counts.prefix(bounds.count + 1) {
            running += Double(max(0, count))
            cumulative.append(running)
        }
        while cumulative.count < bounds.count + 1 { cumulative.append(running) }
        guard running > 0 else { return nil }
        let rank = min(max(quantile, 0), 1) * running
        guard let bucket = bounds.indices.first(where: { cumulative[$0] >= rank }) else { return bounds[bounds.count - 1] }
        let lower = bucket == 0 ? 0 : bounds[bucket - 1]
        let below = bucket == 0 ? 0 : cumulative[bucket - 1]
        let inBucket = cumulative[bucket] - below
        guard inBucket > 0 else { return lower }
        return lower + (bounds[bucket] - lower) * ((rank - below) / inBucket)
    }
}
