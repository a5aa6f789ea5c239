import ArgumentParser
import MeridianControl

/// `dnsctl edges`: one row per edge.
struct Edges: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every edge: health, admin state, last check, latency, result and answers served.",
        discussion: """
        STATE is what the health checks say (up, down, or unknown before the first verdict); \
        ADMIN is active or drained (dnsctl drain; on a fleet node, fleet or local). FLEET, on a \
        fleet node, is the fleet's verdict and how many of the live nodes observing the edge see \
        it down; "overruled" when this node's probes fail but the fleet keeps the edge. An edge \
        answers when it is up (the fleet's verdict on a fleet node) and active.
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
        let inFleet = reply.edges.contains { $0.fleet != nil }
        var table = TextTable(header: ["EDGE", "STATE", "ADMIN", "LAST CHECK", "LATENCY", "RESULT", "SINCE", "ANSWERS", "POOLS"]
                                  + (withLoad ? ["SHED", "LOAD"] : []) + (inFleet ? ["FLEET"] : []),
                              rightAligned: withLoad ? [4, 7, 9] : [4, 7])
        for row in reply.edges {
            let lastCheck = row.lastCheck.map { "\(Format.time($0)) (\(Format.ago($0)))" } ?? (row.checked ? "pending" : "-")
            table.rows.append([
                row.name, row.state.rawValue, Self.admin(row), lastCheck,
                row.latencyMs.map(Format.milliseconds) ?? "-",
                row.result ?? (row.checked ? "-" : "no check"),
                row.since.map(Format.time) ?? "-",
                ReadableText.grouped(row.answers),
                row.pools.isEmpty ? "-" : row.pools.joined(separator: ","),
            ] + (withLoad ? Self.loadColumns(row.load) : []) + (inFleet ? [Self.fleetColumn(row.fleet)] : []))
        }
        return table.render()
    }

    /// `drained (fleet)`, `drained (local)`, or the plain state outside a fleet.
    static func admin(_ row: EdgesReply.Row) -> String {
        guard row.admin == .drained, row.drainedLocally != nil || row.fleetDrain != nil else { return row.admin.rawValue }
        let scopes = (row.fleetDrain != nil ? ["fleet"] : []) + (row.drainedLocally == true ? ["local"] : [])
        return "drained (\(scopes.joined(separator: ", ")))"
    }

    /// `up 1/3 down, overruled`.
    static func fleetColumn(_ fleet: EdgesReply.FleetVerdict?) -> String {
        guard let fleet else { return "-" }
        return "\(fleet.verdict.rawValue) \(fleet.down)/\(fleet.observers) down" + (fleet.overruled ? ", overruled" : "")
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
