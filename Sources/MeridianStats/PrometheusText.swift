import MeridianControl

/// Renders ``StatsReply`` in the Prometheus text exposition format, version 0.0.4: every
/// family with `# HELP` and `# TYPE`, counters named `…_total`, the response-time histogram
/// as cumulative `_bucket{le=…}` series ending in `+Inf`, then `_sum` and `_count`.
///
/// Metric objects are not kept here: the server counts per event loop and this renders a
/// snapshot of the sums on every scrape, so label sets are exactly the configured edges and
/// pools and the server's fixed lists of transports, query types and response codes.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Every metric family name `render` writes (a test holds the two to the same set).
    public static let familyNames = [
        "meridian_build_info", "meridian_uptime_seconds", "meridian_start_time_seconds",
        "meridian_queries_total", "meridian_queries_by_qtype_total", "meridian_responses_total",
        "meridian_queries_dropped_total", "meridian_responses_truncated_total", "meridian_cookies_total",
        "meridian_pool_answers_total", "meridian_edge_answers_total",
        "meridian_edge_up", "meridian_edge_drained", "meridian_edge_transitions_total", "meridian_probe_latency_seconds",
        "meridian_edge_load_shed_ratio", "meridian_edge_load_signal", "meridian_edge_load_feed_up",
        "meridian_edge_load_feed_failures_total", "meridian_answers_shed_total",
        "meridian_probe_duration_seconds", "meridian_response_seconds", "meridian_reloads_total",
        "meridian_rrl_responses_total", "meridian_tcp_connections", "meridian_tcp_connections_total",
        "meridian_rrl_limited_total", "meridian_fleet_connected", "meridian_fleet_disconnected_since_seconds",
        "meridian_dnssec_signed_answers_total", "meridian_dnssec_signatures_made_total", "meridian_dnssec_signatures_expire_seconds",
        "meridian_config_last_reload_successful", "meridian_config_last_reload_success_timestamp_seconds", "meridian_zone_serial",
        "meridian_pool_edges", "meridian_pool_edges_available",
        "meridian_dnstap_messages_total", "meridian_dnstap_dropped_total", "meridian_dnstap_connected",
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
        "process_max_fds", "process_start_time_seconds",
    ]

    public static func render(_ stats: StatsReply) -> String {
        var out = Writer()
        out.family("meridian_build_info", .gauge, "Meridian build information; the value is always 1.")
        out.sample("meridian_build_info", [("version", stats.version)], UInt64(1))
        out.family("meridian_uptime_seconds", .gauge, "Seconds since the server started.")
        out.sample("meridian_uptime_seconds", [], stats.uptimeSeconds)
        out.family("meridian_start_time_seconds", .gauge, "When the server started, in seconds since the Unix epoch.")
        out.sample("meridian_start_time_seconds", [], stats.startedAt)

        out.family("meridian_queries_total", .counter, "DNS queries received, by transport (answered or dropped).")
        for (transport, count) in sorted(stats.queries.byTransport) {
            out.sample("meridian_queries_total", [("transport", transport)], count)
        }
        out.family("meridian_queries_by_qtype_total", .counter,
                   "Answered DNS queries by query type; types outside the counted set are OTHER.")
        for (qtype, count) in sorted(stats.queries.byType) {
            out.sample("meridian_queries_by_qtype_total", [("qtype", qtype)], count)
        }
        out.family("meridian_responses_total", .counter, "DNS responses sent, by response code.")
        for (rcode, count) in sorted(stats.queries.byRcode) {
            out.sample("meridian_responses_total", [("rcode", rcode)], count)
        }
        out.family("meridian_queries_dropped_total", .counter, "DNS queries received and not answered (malformed or not a query).")
        out.sample("meridian_queries_dropped_total", [], stats.queries.dropped)
        out.family("meridian_responses_truncated_total", .counter, "DNS responses sent with the TC bit set.")
        out.sample("meridian_responses_truncated_total", [], stats.queries.truncated)
        out.family("meridian_cookies_total", .counter,
                   "Answered DNS queries with a COOKIE option, by result: valid, client_only, invalid or malformed.")
        for (result, count) in sorted(stats.queries.byCookie) {
            out.sample("meridian_cookies_total", [("result", result)], count)
        }

        out.family("meridian_pool_answers_total", .counter, "Dynamic (DYNA/DYNC) answers, by pool.")
        for (pool, count) in sorted(stats.answersByPool) {
            out.sample("meridian_pool_answers_total", [("pool", pool)], count)
        }
        out.family("meridian_edge_answers_total", .counter, "Dynamic answers that included the edge, by edge.")
        for (edge, count) in sorted(stats.answersByEdge) {
            out.sample("meridian_edge_answers_total", [("edge", edge)], count)
        }

        out.family("meridian_edge_up", .gauge,
                   "1 when the edge's health checks pass (or it has none), 0 when they fail; absent until its first verdict.")
        for edge in stats.edges where edge.state != .unknown {
            out.sample("meridian_edge_up", [("edge", edge.name)], edge.state == .down ? UInt64(0) : 1)
        }
        out.family("meridian_edge_drained", .gauge, "1 when an operator has drained the edge.")
        for edge in stats.edges { out.sample("meridian_edge_drained", [("edge", edge.name)], edge.drained ? UInt64(1) : 0) }
        out.family("meridian_edge_transitions_total", .counter, "Health state changes of the edge since start.")
        for edge in stats.edges { out.sample("meridian_edge_transitions_total", [("edge", edge.name)], edge.transitions) }
        out.family("meridian_probe_latency_seconds", .gauge, "Duration of the edge's last health probe.")
        for edge in stats.edges {
            if let latency = edge.probeLatencySeconds {
                out.sample("meridian_probe_latency_seconds", [("edge", edge.name)], latency)
            }
        }

        out.family("meridian_edge_load_shed_ratio", .gauge, "Share of client networks the edge sends elsewhere because of its load, 0 to 1.")
        for edge in stats.edges { if let load = edge.load { out.sample("meridian_edge_load_shed_ratio", [("edge", edge.name)], load.shedFraction) } }
        out.family("meridian_edge_load_signal", .gauge, "The value of each load signal at the edge's last metrics read (summed over series).")
        for edge in stats.edges {
            for signal in edge.load?.signals ?? [] {
                if let value = signal.value { out.sample("meridian_edge_load_signal", [("edge", edge.name), ("metric", signal.metric)], value) }
            }
        }
        out.family("meridian_edge_load_feed_up", .gauge, "1 when the edge's last metrics read succeeded, 0 when it failed (stale: nothing is shed).")
        for edge in stats.edges {
            if let load = edge.load { out.sample("meridian_edge_load_feed_up", [("edge", edge.name)], load.feed == "fresh" ? UInt64(1) : 0) }
        }
        out.family("meridian_edge_load_feed_failures_total", .counter, "Failed reads of the edge's metrics page.")
        for edge in stats.edges { if let load = edge.load { out.sample("meridian_edge_load_feed_failures_total", [("edge", edge.name)], load.failures) } }
        out.family("meridian_answers_shed_total", .counter, "Dynamic answers that went to another edge because this one shed the client's network.")
        for edge in stats.edges { out.sample("meridian_answers_shed_total", [("edge", edge.name)], edge.shedAnswers) }

        out.family("meridian_probe_duration_seconds", .histogram, "How long the edge's health probes took.")
        for edge in stats.edges {
            if let durations = edge.probeDurations { out.histogram("meridian_probe_duration_seconds", [("edge", edge.name)], durations) }
        }

        out.family("meridian_response_seconds", .histogram, "Time from receiving a DNS query to sending its response.")
        out.histogram("meridian_response_seconds", [], stats.responseTime)

        out.family("meridian_reloads_total", .counter, "Reloads (dnsctl reload or SIGHUP), by result.")
        out.sample("meridian_reloads_total", [("result", "ok")], stats.reloads.ok)
        out.sample("meridian_reloads_total", [("result", "failed")], stats.reloads.failed)
        out.family("meridian_config_last_reload_successful", .gauge,
                   "1 when the last reload was served (or none was asked for since start), 0 when it was rejected.")
        out.sample("meridian_config_last_reload_successful", [], stats.reloads.lastSucceeded ? UInt64(1) : 0)
        out.family("meridian_config_last_reload_success_timestamp_seconds", .gauge,
                   "When the data served was loaded (start or last successful reload), seconds since 1970.")
        out.sample("meridian_config_last_reload_success_timestamp_seconds", [], stats.reloads.lastSuccessAt)
        out.family("meridian_zone_serial", .gauge, "The SOA serial of each zone served.")
        for zone in stats.zones { out.sample("meridian_zone_serial", [("zone", zone.zone)], UInt64(zone.serial)) }
        out.family("meridian_pool_edges", .gauge, "The edges a pool may answer with.")
        for pool in stats.pools { out.sample("meridian_pool_edges", [("pool", pool.pool)], UInt64(pool.edges)) }
        out.family("meridian_pool_edges_available", .gauge, "The edges of a pool answers can use now: healthy and not drained.")
        for pool in stats.pools { out.sample("meridian_pool_edges_available", [("pool", pool.pool)], UInt64(pool.available)) }

        out.family("meridian_rrl_responses_total", .counter,
                   "UDP responses over their rate limit, by what was sent instead: an empty TC=1 answer (slipped) or nothing (dropped).")
        out.sample("meridian_rrl_responses_total", [("action", "slipped")], stats.rateLimit.slipped)
        out.sample("meridian_rrl_responses_total", [("action", "dropped")], stats.rateLimit.dropped)
        out.family("meridian_tcp_connections", .gauge, "DNS over TCP connections open.")
        out.sample("meridian_tcp_connections", [], stats.tcpConnections.open)
        out.family("meridian_tcp_connections_total", .counter,
                   "DNS over TCP connections by outcome: accepted, refused (per-client cap or table full of busy connections), evicted (idle, closed to make room).")
        out.sample("meridian_tcp_connections_total", [("outcome", "accepted")], stats.tcpConnections.accepted)
        out.sample("meridian_tcp_connections_total", [("outcome", "refused")], stats.tcpConnections.refused)
        out.sample("meridian_tcp_connections_total", [("outcome", "evicted")], stats.tcpConnections.evicted)
        out.family("meridian_rrl_limited_total", .counter, "UDP responses over their rate limit, by response class.")
        for (responseClass, count) in sorted(stats.rateLimit.limitedByClass) {
            out.sample("meridian_rrl_limited_total", [("class", responseClass)], count)
        }
        // Written without samples outside a fleet, so every server exposes the same families.
        out.family("meridian_fleet_connected", .gauge, "1 while this fleet node reaches etcd, 0 while it serves fail-static.")
        out.family("meridian_fleet_disconnected_since_seconds", .gauge,
                   "When this fleet node lost etcd, in seconds since 1970; 0 while connected.")
        if let fleet = stats.fleet {
            out.sample("meridian_fleet_connected", [], fleet.connected ? UInt64(1) : 0)
            out.sample("meridian_fleet_disconnected_since_seconds", [], fleet.disconnectedSince ?? 0)
        }
        out.family("meridian_dnssec_signed_answers_total", .counter, "Answers with DNSSEC records (DO set, signed zone).")
        out.family("meridian_dnssec_signatures_made_total", .counter,
                   "Signatures made when asked: geo answers, names a wildcard made and denials not in the threads' caches.")
        out.family("meridian_dnssec_signatures_expire_seconds", .gauge,
                   "When the first signature of a signed zone expires, seconds since 1970 (they are made again well before).")
        if let dnssec = stats.dnssec {
            out.sample("meridian_dnssec_signed_answers_total", [], dnssec.signedAnswers)
            out.sample("meridian_dnssec_signatures_made_total", [], dnssec.signaturesMade)
            for zone in dnssec.zones {
                out.sample("meridian_dnssec_signatures_expire_seconds", [("zone", zone.zone)], zone.signaturesExpire)
            }
        }

        out.family("meridian_dnstap_messages_total", .counter, "dnstap query log messages written.")
        out.family("meridian_dnstap_dropped_total", .counter,
                   "dnstap query log messages dropped, by reason: full (the writer or its reader fell behind), unwritten (no reader, or the file failed).")
        out.family("meridian_dnstap_connected", .gauge, "1 while the query log's file is open or its socket reader accepted the stream.")
        if let queryLog = stats.queryLog {
            out.sample("meridian_dnstap_messages_total", [], queryLog.written)
            out.sample("meridian_dnstap_dropped_total", [("reason", "full")], queryLog.droppedFull)
            out.sample("meridian_dnstap_dropped_total", [("reason", "unwritten")], queryLog.droppedUnwritten)
            out.sample("meridian_dnstap_connected", [], queryLog.connected ? UInt64(1) : 0)
        }

        // The names every Prometheus client library uses, so standard dashboards work.
        let process = stats.process
        out.family("process_cpu_seconds_total", .counter, "Total user and system CPU time spent in seconds.")
        if let process { out.sample("process_cpu_seconds_total", [], process.cpuSeconds) }
        out.family("process_resident_memory_bytes", .gauge, "Resident memory size in bytes.")
        if let process { out.sample("process_resident_memory_bytes", [], process.residentBytes) }
        out.family("process_virtual_memory_bytes", .gauge, "Virtual memory size in bytes.")
        if let process { out.sample("process_virtual_memory_bytes", [], process.virtualBytes) }
        out.family("process_open_fds", .gauge, "Number of open file descriptors.")
        if let process { out.sample("process_open_fds", [], process.openFileDescriptors) }
        out.family("process_max_fds", .gauge, "Maximum number of open file descriptors.")
        if let process { out.sample("process_max_fds", [], process.maxFileDescriptors) }
        out.family("process_start_time_seconds", .gauge, "Start time of the process since unix epoch in seconds.")
        out.sample("process_start_time_seconds", [], stats.startedAt)
        return out.text
    }

    /// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN` as Prometheus spells them.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A label value with `\`, `"` and newlines escaped.
    public static func escapeLabelValue(_ value: String) -> String { value.escaping(labelValueEscapes) }

    static let labelValueEscapes: [Unicode.Scalar: String] = ["\\": "\\\\", "\"": "\\\"", "\n": "\\n"]

    /// HELP text escapes backslashes and newlines only: quotes stand as they are.
    static func escapeHelp(_ text: String) -> String { text.escaping(helpEscapes) }

    static let helpEscapes: [Unicode.Scalar: String] = ["\\": "\\\\", "\n": "\\n"]

    private static func sorted(_ counts: [String: UInt64]) -> [(String, UInt64)] {
        counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    private enum Kind: String {
        case counter, gauge, histogram
    }

    private struct Writer {
        var text = ""

        mutating func family(_ name: String, _ kind: Kind, _ help: String) {
            text += "# HELP \(name) \(PrometheusText.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        }

        mutating func sample(_ name: String, _ labels: [(String, String)], _ value: UInt64) {
            line(name, labels, String(value))
        }

        mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
            line(name, labels, PrometheusText.format(value))
        }

        /// A histogram's cumulative `_bucket` series ending in `+Inf`, then `_sum` and `_count`.
        mutating func histogram(_ name: String, _ labels: [(String, String)], _ histogram: StatsReply.Histogram) {
            let cumulative = histogram.cumulative
            for (index, bound) in histogram.bucketsSeconds.enumerated() {
                sample(name + "_bucket", labels + [("le", PrometheusText.format(bound))], cumulative[index])
            }
            let total = cumulative.last ?? 0
            sample(name + "_bucket", labels + [("le", "+Inf")], total)
            sample(name + "_sum", labels, histogram.sum)
            sample(name + "_count", labels, total)
        }

        private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
            text += name
            if !labels.isEmpty {
                text += "{"
                text += labels.map { "\($0.0)=\"\(PrometheusText.escapeLabelValue($0.1))\"" }.joined(separator: ",")
                text += "}"
            }
            text += " \(value)\n"
        }
    }
}
