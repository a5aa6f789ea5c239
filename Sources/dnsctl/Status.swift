import ArgumentParser
import MeridianControl

/// `dnsctl status`: is it up, what does it serve, how busy is it.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show version, uptime, zones with serials, query rate and the last reload.",
        discussion: "Exit codes: 0 success, 2 no server answering."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try ControlConnection(global).request(.status, expecting: StatusReply.self) { print(Self.render($0)) }
    }

    static func render(_ status: StatusReply) -> String {
        var lines: [String] = []
        let uptime = ReadableText.duration(status.uptimeSeconds, padded: true, placeholder: "-")
        lines.append("meridian \(status.version), up \(uptime) (since \(Format.dateTime(status.startedAt)))")
        if !status.listen.isEmpty {
            lines.append("listening    \(status.listen.joined(separator: ", "))"
                + (status.stats.map { "; stats http://\($0)/" } ?? ""))
        }
        lines.append("queries      \(ReadableText.grouped(status.queriesTotal)) total, \(ReadableText.decimal(status.queriesPerSecond, places: 1))/s")
        if let reload = status.lastReload {
            lines.append("last reload  \(reload.ok ? "ok" : "FAILED") at \(Format.time(reload.at)): \(reload.summary)")
        } else {
            lines.append("last reload  none since start")
        }
        if let fleet = status.fleet {
            if fleet.connected {
                lines.append("fleet        node \(fleet.node), connected to etcd")
            } else {
                let since = fleet.disconnectedSince.map { "since \(Format.dateTime($0))" } ?? ""
                lines.append("fleet        node \(fleet.node), disconnected \(since)"
                    + " (serving the last fleet state and its own probes)\(fleet.lastError.map { ": \($0)" } ?? "")")
            }
        }
        if let log = status.queryLog {
            let state = log.destination.hasPrefix("socket") ? (log.connected ? ", reader connected" : ", no reader") : ""
            lines.append("query log    dnstap to \(log.destination)\(state): \(ReadableText.grouped(log.written)) messages written, "
                + "\(ReadableText.grouped(log.droppedFull + log.droppedUnwritten)) dropped")
        }
        if let geoip = status.geoip {
            lines.append("geoip        \(geoip.path) (\(geoip.type), built \(Format.date(Double(geoip.buildEpoch))); "
                + "\(ReadableText.grouped(geoip.nodes)) nodes, \(ReadableText.grouped(geoip.locations)) locations)")
        } else {
            lines.append("geoip        none (every client's location is unknown)")
        }
        lines.append("")
        if status.zones.isEmpty {
            lines.append("no zones")
        } else {
            let signed = status.zones.contains { $0.keys != nil }
            var table = TextTable(header: ["ZONE", "SERIAL", "RECORDS"] + (signed ? ["DNSSEC KEYS", "SIGNATURES EXPIRE"] : []),
                                  rightAligned: [1, 2])
            table.rows = status.zones.map { zone in
                [zone.name, String(zone.serial), ReadableText.grouped(zone.records)]
                    + (signed ? [zone.keys?.joined(separator: ",") ?? "unsigned",
                                 zone.signaturesExpire.map { Format.dateTime($0) } ?? "-"] : [])
            }
            lines.append(table.render())
        }
        return lines.joined(separator: "\n")
    }
}
