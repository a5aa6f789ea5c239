import ArgumentParser
import MeridianControl

/// `dnsctl stats`: the counters the stats port exports, for a terminal.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the server's counters: queries, response codes, rate limiting, DNS Cookies, answers per pool and edge, response times, reloads.",
        discussion: """
        The same numbers as /metrics and /api/v1/stats on the stats port, counted since start.
        Exit codes: 0 success, 2 no server answering.
        """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try ControlConnection(global).request(.stats, expecting: StatsReply.self) { print(Self.render($0)) }
    }

    static func render(_ stats: StatsReply) -> String {
        var lines: [String] = []
        func counts(_ values: [String: UInt64]) -> String {
            guard !values.isEmpty else { return "-" }
            return ReadableText.largestFirst(values).map { "\($0.name) \(ReadableText.grouped($0.count))" }.joined(separator: "  ")
        }
        let queries = stats.queries
        lines.append("meridian \(stats.version), up \(ReadableText.duration(stats.uptimeSeconds, padded: true, placeholder: "-"))")
        lines.append("queries    \(ReadableText.grouped(queries.total)) (\(counts(queries.byTransport))); "
            + "dropped \(ReadableText.grouped(queries.dropped)), truncated \(ReadableText.grouped(queries.truncated))")
        lines.append("types      \(counts(queries.byType))")
        lines.append("rcodes     \(counts(queries.byRcode))")
        lines.append("cookies    \(counts(queries.byCookie.filter { $0.value > 0 }))")

        let histogram = stats.responseTime
        if histogram.count > 0 {
            let mean = histogram.sum / Double(histogram.count)
            var parts = ["mean \(Format.seconds(mean))"]
            for (label, quantile) in [("50%", 0.5), ("99%", 0.99)] {
                if let bound = Self.upperBound(histogram, quantile) {
                    parts.append("\(label) within \(Format.seconds(bound))")
                } else if let largest = histogram.bucketsSeconds.last {
                    parts.append("\(label) above \(Format.seconds(largest))")
                }
            }
            lines.append("response   \(parts.joined(separator: ", "))")
        } else {
            lines.append("response   no responses yet")
        }
        let rateLimit = stats.rateLimit
        lines.append("rrl        \(ReadableText.grouped(rateLimit.limited)) limited (\(counts(rateLimit.limitedByClass))); "
            + "slipped \(ReadableText.grouped(rateLimit.slipped)), dropped \(ReadableText.grouped(rateLimit.dropped))")
        let tcp = stats.tcpConnections
        lines.append("tcp        \(ReadableText.grouped(tcp.open)) open; \(ReadableText.grouped(tcp.accepted)) accepted, "
            + "\(ReadableText.grouped(tcp.refused)) refused, \(ReadableText.grouped(tcp.evicted)) idle evicted")
        lines.append("reloads    \(ReadableText.grouped(stats.reloads.ok)) ok, \(ReadableText.grouped(stats.reloads.failed)) failed")
        lines.append("pools      \(counts(stats.answersByPool))")

        if !stats.edges.isEmpty {
            lines.append("")
            var table = TextTable(header: ["EDGE", "STATE", "ADMIN", "ANSWERS", "PROBE", "TRANSITIONS"], rightAligned: [3, 4, 5])
            for edge in stats.edges {
                table.rows.append([
                    edge.name, edge.state.rawValue, edge.drained ? "drained" : "active",
                    ReadableText.grouped(stats.answersByEdge[edge.name] ?? 0),
                    edge.probeLatencySeconds.map { Format.milliseconds($0 * 1000) } ?? "-",
                    ReadableText.grouped(edge.transitions),
                ])
            }
            lines.append(table.render())
        }
        return lines.joined(separator: "\n")
    }

    /// The smallest bucket bound that at least `quantile` of the observations are within;
    /// `nil` when that is beyond the largest bound.
    static func upperBound(_ histogram: StatsReply.Histogram, _ quantile: Double) -> Double? {
        let cumulative = histogram.cumulative
        guard let total = cumulative.last, total > 0 else { return nil }
        let needed = Double(total) * quantile
        for (index, bound) in histogram.bucketsSeconds.enumerated() where Double(cumulative[index]) >= needed {
            return bound
        }
        return nil
    }
}
