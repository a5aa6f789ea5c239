import ArgumentParser
import MeridianControl

/// `dnsctl fleet`: the fleet as the server last saw it in etcd.
struct Fleet: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the fleet's nodes (last seen, data revision served, edges each sees down), drains and the newest publication.",
        discussion: """
        Asks the running server, which watches etcd: while it is disconnected this is the \
        last state it saw. A node is lagging when it serves published data older than the \
        newest publication without having rejected it.
        Exit codes: 0 success, 1 not a fleet node, 2 no server answering.
        """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try ControlConnection(global).request(.fleet, expecting: FleetReply.self) { print(Self.render($0)) }
    }

    static func render(_ fleet: FleetReply) -> String {
        var lines: [String] = []
        if fleet.connected {
            lines.append("node \(fleet.node), connected to etcd (\(fleet.etcd.joined(separator: ", ")))")
        } else {
            let since = fleet.disconnectedSince.map { " since \(Format.dateTime($0))" } ?? ""
            lines.append("node \(fleet.node), DISCONNECTED from etcd\(since): showing the last state seen"
                + (fleet.lastError.map { "\n  \($0)" } ?? ""))
        }
        lines.append("prefix \(fleet.prefix), health_quorum \(fleet.healthQuorum), data \(fleet.data), "
            + "newest publication: \(fleet.publishedRevision.map { "revision \($0)" } ?? "none")")
        lines.append("")
        var table = TextTable(header: ["NODE", "LAST SEEN", "DATA", "REVISION", "EDGES DOWN", "STATE"])
        let now = fleet.nodes.map(\.lastSeen).max() ?? 0
        table.rows = fleet.nodes.map { node in
            let state = node.rejected.map { "REJECTED: \($0)" } ?? (node.lagging ? "LAGGING" : "ok")
            return [node.node, Format.time(node.lastSeen) + (now - node.lastSeen > 5 ? " (late)" : ""), node.data,
                    node.revision.map(String.init) ?? "-", node.edgesDown.isEmpty ? "-" : node.edgesDown.joined(separator: ","), state]
        }
        lines.append(fleet.nodes.isEmpty ? "no live nodes" : table.render())
        lines.append("")
        if fleet.drains.isEmpty {
            lines.append("no fleet-wide drains")
        } else {
            var drains = TextTable(header: ["DRAINED", "BY", "AT", "REASON"])
            drains.rows = fleet.drains.map { [$0.edge, $0.by, Format.dateTime($0.at), $0.reason ?? "-"] }
            lines.append(drains.render())
        }
        return lines.joined(separator: "\n")
    }
}
