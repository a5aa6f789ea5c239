import MeridianControl
import MeridianWire

/// The live dashboard at `/`: one self-contained HTML page (inline CSS, script and SVG; no
/// external scripts, fonts or styles). The server renders the current state into it, so it
/// reads correctly before its script runs; the script then polls `/api/v1/status`,
/// `/api/v1/edges`, `/api/v1/stats` and `/api/v1/history` every two seconds and redraws the
/// same elements. The history comes from the server (the last hour, second by second), so
/// charts and shares survive a reload of the page; after its first full read the script
/// asks only for the seconds it has not seen.
///
/// Stable hooks for tests and browser automation:
/// - `#edge-rows tr[data-edge=NAME]` and `#edge-dots g[data-edge=NAME]`, each with
///   `data-state` (`up`/`down`/`unknown`), `data-admin` (`active`/`drained`) and
///   `data-health` (`drained` when drained, else the state, which picks the colour);
/// - `#edge-rows td.share[data-recent]`: the edge's share of the answers of the last five
///   minutes; `data-recent` is its answers in them (`td.answers` counts since start);
/// - `#qps`, `#queries-total`, `#edges-serving`, `#last-reload[data-ok]`, `#reload-summary`;
/// - `#qps-line` (the card's last five minutes), `#qps-chart` with `#qps-path[data-points]`
///   (queries/s over the hour, one point per six seconds with data) and `#qps-peak`;
/// - `#latency-chart` with `#p50-path[data-points]` and `#p99-path[data-points]`
///   (response time, milliseconds up to `#latency-top`), `#latency-now`;
/// - `#health-timeline .band[data-edge=NAME]`, one per edge, holding
///   `rect[data-state][data-from][data-to]` (`up`/`down`/`unknown`/`drained`, or `nodata`
///   before the server started; times in seconds since the Unix epoch);
/// - `.history-from[data-epoch]`, `.history-to[data-epoch]` (under each chart; the first
///   pair also `#history-from`, `#history-to`): the ends of the hour shown, in UTC as the
///   server writes them, in the viewer's time zone, named, once the script runs;
/// - `#rcode-rows tr[data-rcode]`, `#qtype-rows tr[data-qtype]`, `#zone-rows tr[data-zone]`;
/// - `#conn[data-state]`: `live` while polls succeed, `offline` when one fails.
public enum Dashboard {
    public static let contentType = "text/html; charset=utf-8"

    /// The page for the given state; `now` is the current time in seconds since the Unix
    /// epoch (for "3 s ago").
    public static func render(status: StatusReply, edges: EdgesReply, stats: StatsReply, history: HistoryReply, now: Double) -> String {
        let recent = recentAnswers(history)
        let recentTotal = recent.values.reduce(0, +)
        var rows = ""
        var dots = ""
        for row in edges.edges {
            rows += edgeRow(row, recentAnswers: recent[row.name] ?? 0, recentTotal: recentTotal, now: now)
            dots += edgeDot(row)
        }
        var zones = ""
        for zone in status.zones {
            let dnssec = zone.signaturesExpire.map { "signed until " + utcMinute($0) } ?? "unsigned"
            zones += "<tr data-zone=\"\(escape(zone.name))\"><td>\(escape(zone.name))</td><td class=\"num\">\(zone.serial)</td><td class=\"num\">\(ReadableText.grouped(UInt64(max(0, zone.records))))</td><td class=\"dnssec\">\(escape(dnssec))</td></tr>"
        }
        let serving = edges.edges.filter(\.isServing).count
        let reloadOK = status.lastReload.map { $0.ok ? "true" : "false" } ?? "none"
        let reloadText = status.lastReload.map { $0.ok ? "ok" : "failed" } ?? "none yet"
        let reloadSummary = status.lastReload.map(\.summary) ?? "no reload since start"
        let fleetText = status.fleet.map { $0.connected ? "connected" : "disconnected" } ?? ""
        let fleetDetail = status.fleet.map { fleet in
            "node \(fleet.node)" + (fleet.connected ? ", etcd reachable"
                : " for \(ReadableText.duration(now - (fleet.disconnectedSince ?? now), padded: false, placeholder: "–")): serving the last fleet state")
        } ?? ""

        let initial = "{\"status\":\(ControlJSON.encode(status)),\"edges\":\(ControlJSON.encode(edges)),\"stats\":\(ControlJSON.encode(stats)),\"recent\":\(ControlJSON.encode(recent))}"
        let substitutions: [(String, String)] = historySubstitutions(history, startedAt: status.startedAt) + [
            ("{{VERSION}}", escape(status.version)),
            // Unpadded, as the page's script writes it when it redraws.
            ("{{UPTIME}}", escape(ReadableText.duration(status.uptimeSeconds, padded: false, placeholder: "–"))),
            ("{{QPS}}", escape(rate(status.queriesPerSecond))),
            ("{{QUERIES}}", ReadableText.grouped(status.queriesTotal)),
            ("{{QUERIES_RAW}}", String(status.queriesTotal)),
            ("{{SERVING}}", "\(serving) / \(edges.edges.count)"),
            ("{{RELOAD_OK}}", reloadOK),
            ("{{RELOAD_TEXT}}", escape(reloadText)),
            ("{{RELOAD_SUMMARY}}", escape(reloadSummary)),
            ("{{FLEET_CONNECTED}}", status.fleet.map { $0.connected ? "true" : "false" } ?? "none"),
            ("{{FLEET_HIDDEN}}", status.fleet == nil ? " hidden" : ""),
            ("{{FLEET_TEXT}}", escape(fleetText)),
            ("{{FLEET_DETAIL}}", escape(fleetDetail)),
            ("{{LAND}}", WorldMap.landPath),
            ("{{SEAS}}", WorldMap.seaPath),
            ("{{EDGE_DOTS}}", dots),
            ("{{EDGE_ROWS}}", rows),
            ("{{RCODE_ROWS}}", countRows(stats.queries.byRcode, attribute: "data-rcode")),
            ("{{QTYPE_ROWS}}", countRows(stats.queries.byType, attribute: "data-qtype")),
            ("{{ZONE_ROWS}}", zones),
            ("{{INITIAL}}", scriptSafe(initial)),
        ]
        return fill(template, with: Dictionary(uniqueKeysWithValues: substitutions))
    }

    /// Replaces every `{{NAME}}` in one pass, so substituted text is never scanned again.
    static func fill(_ template: String, with values: [String: String]) -> String {
        var out = ""
        out.reserveCapacity(template.utf8.count + values.values.reduce(0) { $0 + $1.utf8.count })
        var rest = template[...]
        while let open = rest.firstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let key = "{{" + rest[open.upperBound..<close.lowerBound] + "}}"
            out += values[key] ?? key
            rest = rest[close.upperBound...]
        }
        out += rest
        return out
    }

    // MARK: - Server-side pieces (the script builds the same markup)

    static func health(_ row: EdgesReply.Row) -> String {
        row.admin == .drained ? "drained" : row.state.rawValue
    }

    static func edgeRow(_ row: EdgesReply.Row, recentAnswers: UInt64, recentTotal: UInt64, now: Double) -> String {
        let name = escape(row.name)
        let share = recentTotal == 0 ? "–" : percent(Double(recentAnswers) / Double(recentTotal))
        let probe: String
        if let last = row.lastCheck {
            probe = "<td class=\"probe\" data-epoch=\"\(last)\">\(escape(ago(now - last)))</td>"
        } else {
            probe = "<td class=\"probe\">\(row.checked ? "pending" : "no check")</td>"
        }
        let latency = row.latencyMs.map { escape(milliseconds($0)) } ?? "–"
        return "<tr data-edge=\"\(name)\" data-state=\"\(row.state.rawValue)\" data-admin=\"\(row.admin.rawValue)\" data-health=\"\(health(row))\">"
            + "<td class=\"edge-name\"><span class=\"dot\"></span>\(name)</td>"
            + "<td>\(escape(row.pools.joined(separator: ", ")))</td>"
            + "<td class=\"state\">\(row.state.rawValue)</td>"
            + "<td class=\"admin\">\(row.admin.rawValue)</td>"
            + probe
            + "<td class=\"num latency\">\(latency)</td>"
            + "<td class=\"result\">\(escape(row.result ?? ""))</td>"
            + "<td class=\"num answers\">\(ReadableText.grouped(row.answers))</td>"
            + "<td class=\"num share\" data-recent=\"\(recentAnswers)\">\(share)</td>"
            + "<td class=\"num shed\" title=\"\(escape(loadTitle(row.load)))\">\(row.load.map { percent($0.shedFraction) } ?? "–")</td></tr>"
    }

    /// The load feed in a tooltip: its state and each signal's value.
    static func loadTitle(_ load: EdgesReply.Load?) -> String {
        guard let load else { return "no load feed" }
        let signals = load.signals.map { "\($0.metric) \($0.value.map { ReadableText.decimal($0, places: 3) } ?? "?")" }
        return (["feed " + load.feed] + signals + (load.lastError.map { [$0] } ?? [])).joined(separator: "; ")
    }

    /// One row per name, largest count first.
    static func countRows(_ counts: [String: UInt64], attribute: String) -> String {
        var rows = ""
        for (name, count) in ReadableText.largestFirst(counts) {
            rows += "<tr \(attribute)=\"\(escape(name))\"><td>\(escape(name))</td><td class=\"num\">\(ReadableText.grouped(count))</td></tr>"
        }
        return rows
    }

    static func edgeDot(_ row: EdgesReply.Row) -> String {
        guard row.location.count == 2 else { return "" }
        let (x, y) = WorldMap.project(latitude: row.location[0], longitude: row.location[1])
        let name = escape(row.name)
        let position = "translate(\(ReadableText.decimal(x, places: 2)) \(ReadableText.decimal(y, places: 2)))"
        return "<g class=\"edge\" data-edge=\"\(name)\" data-state=\"\(row.state.rawValue)\" data-admin=\"\(row.admin.rawValue)\" data-health=\"\(health(row))\" transform=\"\(position)\">"
            + "<circle r=\"3.2\"></circle><text x=\"4.5\" y=\"1.6\">\(name)</text><title>\(name): \(health(row))</title></g>"
    }

    // MARK: - Formatting

    /// HTML text and attribute escaping.
    public static func escape(_ text: String) -> String { text.escaping(htmlEscapes) }

    static let htmlEscapes: [Unicode.Scalar: String] = ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"]

    /// JSON made safe inside a `<script>` element: no `<` (so no `</script>`), and no
    /// U+2028/U+2029.
    static func scriptSafe(_ json: String) -> String { json.escaping(scriptEscapes) }

    static let scriptEscapes: [Unicode.Scalar: String] = [
        "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u{2028}": "\\u2028", "\u{2029}": "\\u2029",
    ]

    static func oneDecimal(_ value: Double) -> String {
        value.isFinite ? ReadableText.decimal(value, places: 1) : "–"
    }

    static func percent(_ fraction: Double) -> String { oneDecimal(fraction * 100) + "%" }

    static func rate(_ perSecond: Double) -> String { oneDecimal(perSecond) }

    static func milliseconds(_ value: Double) -> String {
        value < 10 ? oneDecimal(value) + " ms" : "\(Int(value.rounded())) ms"
    }

    static func ago(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "–" }
        let whole = max(0, Int(seconds.rounded()))
        if whole < 60 { return "\(whole) s ago" }
        if whole < 3600 { return "\(whole / 60) min ago" }
        return "\(whole / 3600) h ago"
    }
}

/// `2026-12-17 09:00 UTC`: the server-side form of the page script's `dateTime`.
package func utcMinute(_ epoch: Double) -> String {
    let time = CivilTime.split(Int(epoch.rounded(.down)))
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(time.year)-\(two(time.month))-\(two(time.day)) \(two(time.hour)):\(two(time.minute)) UTC"
}
