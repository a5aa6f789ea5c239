import MeridianControl

/// The dashboard's panels drawn from ``HistoryReply``: the charts of the last hour, the
/// health timeline and the recent share of each edge. The page script draws the same
/// markup with the same arithmetic (`historyColumns`, `healthSegments`, `recentAnswers`).
extension Dashboard {
    /// Chart width in SVG units: one column per six seconds of the hour.
    static let chartWidth = 600
    static let chartHeight = 100
    /// The window of the edges table's share column.
    static let shareSeconds = 300

    /// How a chart column combines the seconds it covers.
    enum Combine {
        case mean
        case maximum
    }

    /// `series` (one value a second) folded into `chartWidth` columns; a column without any
    /// value is `nil`, so the line breaks where the server was not sampling.
    static func historyColumns(_ series: [Double?], combine: Combine) -> [Double?] {
        guard !series.isEmpty else { return [] }
        var columns = [Double?](repeating: nil, count: chartWidth)
        var counts = [Int](repeating: 0, count: chartWidth)
        for (second, value) in series.enumerated() {
            guard let value, value.isFinite else { continue }
            let column = second * chartWidth / series.count
            switch combine {
            case .mean: columns[column] = (columns[column] ?? 0) + value
            case .maximum: columns[column] = max(columns[column] ?? value, value)
            }
            counts[column] += 1
        }
        if combine == .mean {
            for column in columns.indices where counts[column] > 0 { columns[column] = columns[column]! / Double(counts[column]) }
        }
        return columns
    }

    /// An SVG path through the columns scaled to `top` (the chart's full height), and the
    /// number of points in it.
    static func chartPath(_ columns: [Double?], top: Double) -> (d: String, points: Int) {
        var d = ""
        var points = 0
        var drawing = false
        let step = Double(chartWidth) / Double(max(columns.count, 1))
        for (column, value) in columns.enumerated() {
            guard let value else {
                drawing = false
                continue
            }
            let x = (Double(column) + 0.5) * step
            let y = Double(chartHeight) - 2 - min(value / top, 1) * Double(chartHeight - 4)
            d += (drawing ? "L" : "M") + ReadableText.decimal(x, places: 1) + " " + ReadableText.decimal(y, places: 1)
            drawing = true
            points += 1
        }
        return (d, points)
    }

    /// A chart's top: the largest value with some headroom, never 0.
    static func chartTop(_ columns: [Double?], floor: Double) -> Double {
        max(columns.compactMap { $0 }.max() ?? 0, floor) * 1.1
    }

    /// The card's small line: the last five minutes, as the points of a 120 × 30 polyline.
    static func sparkline(_ series: [Double?]) -> String {
        let recent = series.suffix(shareSeconds)
        let top = max(recent.compactMap { $0 }.max() ?? 0, 1)
        var points: [String] = []
        for (offset, value) in recent.enumerated() {
            guard let value else { continue }
            let x = recent.count == 1 ? 120 : Double(offset) * 120 / Double(recent.count - 1)
            points.append(ReadableText.decimal(x, places: 1) + "," + ReadableText.decimal(29 - value / top * 27, places: 1))
        }
        return points.joined(separator: " ")
    }

    /// Each edge's answers in the last `shareSeconds` of the history.
    static func recentAnswers(_ history: HistoryReply) -> [String: UInt64] {
        history.answersByEdge.mapValues { $0.suffix(shareSeconds).reduce(0, +) }
    }

    /// One stretch of an edge's timeline: `state` is `up`, `down`, `unknown`, `drained` (the
    /// colour the edge has on the map) or `nodata` (before the server started, or before the
    /// oldest transition it kept).
    package struct Segment: Equatable {
        package var state: String
        package var from: Double
        package var to: Double

        package init(state: String, from: Double, to: Double) {
            self.state = state
            self.from = from
            self.to = to
        }
    }

    /// The edge's states over `[from, to)`, oldest first: walks back from its state at `now`
    /// through its transitions, each transition's `from` holding before it.
    package static func healthSegments(_ edge: HistoryReply.Edge, transitions: [HistoryReply.Transition], from: Double, to: Double,
                               now: Double, knownSince: Double) -> [Segment] {
        var health = edge.state.rawValue
        var admin = edge.admin.rawValue
        var cursor = max(now, to)
        var backwards: [Segment] = []
        func add(_ state: String, _ start: Double, _ end: Double) {
            let clippedStart = max(start, from)
            let clippedEnd = min(end, to)
            guard clippedEnd > clippedStart else { return }
            if let last = backwards.last, last.state == state, last.from == clippedEnd {
                backwards[backwards.count - 1].from = clippedStart
            } else {
                backwards.append(Segment(state: state, from: clippedStart, to: clippedEnd))
            }
        }
        for transition in transitions.reversed() where transition.edge == edge.name {
            guard transition.at > knownSince else { break }
            if transition.at < cursor {
                add(admin == "drained" ? "drained" : health, transition.at, cursor)
                cursor = transition.at
            }
            if transition.kind == "admin" { admin = transition.from } else { health = transition.from }
        }
        add(admin == "drained" ? "drained" : health, knownSince, cursor)
        add("nodata", from, min(knownSince, cursor))
        return backwards.reversed()
    }

    // MARK: - Markup (the script builds the same)

    static func historySubstitutions(_ history: HistoryReply, startedAt: Double) -> [(String, String)] {
        let from = Double(history.start)
        let to = Double(history.start + history.seconds)
        let queries = historyColumns(history.queriesPerSecond, combine: .mean)
        let queriesTop = chartTop(queries, floor: 1)
        let queriesPath = chartPath(queries, top: queriesTop)
        let p50 = historyColumns(history.responseP50Seconds, combine: .mean)
        let p99 = historyColumns(history.responseP99Seconds, combine: .maximum)
        let latencyTop = chartTop(p99 + p50, floor: 0.00001)
        let p50Path = chartPath(p50, top: latencyTop)
        let p99Path = chartPath(p99, top: latencyTop)
        let knownSince = max(history.transitionsSince, startedAt)
        var bands = ""
        for edge in history.edges {
            let segments = healthSegments(edge, transitions: history.transitions, from: from, to: to, now: history.now,
                                          knownSince: knownSince)
            bands += band(edge.name, segments: segments, from: from, to: to)
        }
        let peak = queries.compactMap { $0 }.max()
        return [
            ("{{HISTORY_FROM}}", history.seconds == 0 ? "" : String(history.start)),
            ("{{HISTORY_TO}}", history.seconds == 0 ? "" : String(history.start + history.seconds)),
            ("{{HISTORY_FROM_TEXT}}", history.seconds == 0 ? "–" : escape(utcMinute(from))),
            ("{{HISTORY_TO_TEXT}}", history.seconds == 0 ? "–" : escape(utcMinute(to))),
            ("{{QPS_PATH}}", queriesPath.d),
            ("{{QPS_POINTS}}", String(queriesPath.points)),
            ("{{QPS_PEAK}}", peak.map(rate) ?? "–"),
            ("{{QPS_SPARK}}", sparkline(history.queriesPerSecond)),
            ("{{P50_PATH}}", p50Path.d),
            ("{{P50_POINTS}}", String(p50Path.points)),
            ("{{P99_PATH}}", p99Path.d),
            ("{{P99_POINTS}}", String(p99Path.points)),
            ("{{LATENCY_TOP}}", responseTime(latencyTop / 1.1)),
            ("{{LATENCY_NOW}}", latestLatency(history)),
            ("{{HEALTH_BANDS}}", bands),
        ]
    }

    /// The last second's p50 and p99, for the panel's heading.
    static func latestLatency(_ history: HistoryReply) -> String {
        guard let last = history.responseP50Seconds.indices.last(where: { history.responseP50Seconds[$0] != nil }),
              let p50 = history.responseP50Seconds[last], let p99 = history.responseP99Seconds[last] else { return "no queries" }
        return "p50 " + responseTime(p50) + ", p99 " + responseTime(p99)
    }

    /// Response times are mostly microseconds: `4 µs`, `350 µs`, `1.2 ms`.
    static func responseTime(_ seconds: Double) -> String {
        seconds < 0.001 ? "\(Int((seconds * 1e6).rounded())) µs" : milliseconds(seconds * 1000)
    }

    static func band(_ name: String, segments: [Segment], from: Double, to: Double) -> String {
        let span = max(to - from, 1)
        var rects = ""
        for segment in segments {
            let x = (segment.from - from) / span * Double(chartWidth)
            // At least one unit wide, so a down second in an hour still shows.
            let width = max((segment.to - segment.from) / span * Double(chartWidth), 1)
            rects += "<rect data-state=\"\(segment.state)\" data-from=\"\(ReadableText.decimal(segment.from, places: 3))\""
                + " data-to=\"\(ReadableText.decimal(segment.to, places: 3))\" x=\"\(ReadableText.decimal(x, places: 2))\""
                + " width=\"\(ReadableText.decimal(width, places: 2))\" height=\"10\">"
                + "<title>\(escape(name)): \(segment.state) \(utcMinute(segment.from)) – \(utcMinute(segment.to))</title></rect>"
        }
        let escaped = escape(name)
        return "<div class=\"band\" data-edge=\"\(escaped)\"><span class=\"band-name\">\(escaped)</span>"
            + "<svg viewBox=\"0 0 \(chartWidth) 10\" preserveAspectRatio=\"none\" aria-hidden=\"true\">\(rects)</svg></div>"
    }
}
