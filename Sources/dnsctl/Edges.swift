import ArgumentParser
import MeridianControl

/// `dnsctl edges`: one row per edge.
struct Edges: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every edge: health, admin state, last check, latency, result and answers served.",
        discussion: """
        STATE is what the health checks say (up, down, or unknown before the first verdict); \
        ADMIN is active or drained (dnsctl drain). An edge answers when it is up and active.
        Exit codes: 0 success, 2 no server answering.
        """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try ControlConnection(global).request(.edges, expecting: EdgesReply.self) { print(Self.render($0)) }
    }

    static func render(_ reply: EdgesReply) -> String {
        guard !reply.edges.isEmpty else { return "no edges configured" }
        let withLoad = reply.edges.contains { $0.load != nil }
        var table = TextTable(header: ["EDGE", "STATE", "ADMIN", "LAST CHECK", "LATENCY", "RESULT", "SINCE", "ANSWERS", "POOLS"]
                                  + (withLoad ? ["SHED", "LOAD"] : []),
                              rightAligned: withLoad ? [4, 7, 9] : [4, 7])
        for row in reply.edges {
            let lastCheck = row.lastCheck.map { "\(Format.time($0)) (\(Format.ago($0)))" } ?? (row.checked ? "pending" : "-")
            table.rows.append([
                row.name, row.state.rawValue, row.admin.rawValue, lastCheck,
                row.latencyMs.map(Format.milliseconds) ?? "-",
                row.result ?? (row.checked ? "-" : "no check"),
                row.since.map(Format.time) ?? "-",
                ReadableText.grouped(row.answers),
                row.pools.isEmpty ? "-" : row.pools.joined(separator: ","),
            ] + (withLoad ? Self.loadColumns(row.load) : []))
        }
        return table.render()
    }

    /// The shed share and the feed: `fresh vllm:num_requests_waiting=12 (0.67)`.
    static func loadColumns(_ load: EdgesReply.Load?) -> [String] {
        guard let load else { return ["-", "no feed"] }
        let signals = load.signals.map { signal in
            let value = signal.value.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : ReadableText.decimal($0, places: 3) } ?? "?"
            return "\(signal.metric)=\(value)\(signal.fraction.map { " (\(ReadableText.decimal($0, places: 2)))" } ?? "")"
        }
        let error = load.lastError.map { ": \($0)" } ?? ""
        return [ReadableText.decimal(load.shedFraction, places: 2), ([load.feed] + signals).joined(separator: " ") + error]
    }
}
