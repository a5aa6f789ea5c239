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
        var table = TextTable(header: ["EDGE", "STATE", "ADMIN", "LAST CHECK", "LATENCY", "RESULT", "SINCE", "ANSWERS", "POOLS"],
                              rightAligned: [4, 7])
        for row in reply.edges {
            let lastCheck = row.lastCheck.map { "\(Format.time($0)) (\(Format.ago($0)))" } ?? (row.checked ? "pending" : "-")
            table.rows.append([
                row.name, row.state.rawValue, row.admin.rawValue, lastCheck,
                row.latencyMs.map(Format.milliseconds) ?? "-",
                row.result ?? (row.checked ? "-" : "no check"),
                row.since.map(Format.time) ?? "-",
                ReadableText.grouped(row.answers),
                row.pools.isEmpty ? "-" : row.pools.joined(separator: ","),
            ])
        }
        return table.render()
    }
}
