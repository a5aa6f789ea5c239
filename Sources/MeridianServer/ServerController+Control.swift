import Logging
import MeridianAuthority
import MeridianConfig
import MeridianControl
import MeridianFleet
import MeridianGeoIP
import MeridianHealth
import MeridianLoad
import MeridianRouting
import MeridianWire
import MeridianZoneFile

/// What `dnsctl`, the control socket and the stats port ask of the running server.
extension ServerController: ControlBackend {
    public func reload() async -> ReloadReply {
        switch await reloadData() {
        case .success(let report): ReloadReply(ok: true, changes: report.changes, notes: report.notes, warnings: report.warnings)
        case .failure(let failure): ReloadReply(ok: false, errors: failure.lines)
        }
    }

    public func status() async -> StatusReply {
        let now = wallClockSeconds()
        let counters = publisher.totals().counters
        let total = counters.queries
        let rate = history.latestQueriesPerSecond
        var reply = StatusReply(
            version: MeridianVersion.current, uptimeSeconds: now - startedAt, startedAt: startedAt,
            zones: loaded.zones.map { zone in
                var row = StatusReply.Zone(name: zone.origin.description, serial: zone.serial, records: zone.recordCount)
                if let signatures = zone.signatures {
                    row.keys = signatures.signer.keyDescriptions
                    row.signatures = signatures.signatureCount
                    row.signaturesExpire = Double(signatures.expiration)
                }
                return row
            },
            queriesPerSecond: rate, queriesTotal: UInt64(total),
            lastReload: lastReload.map { StatusReply.LastReload(at: $0.at, ok: $0.ok, summary: $0.summary) },
            geoip: loaded.geo.map { StatusReply.GeoIP(path: $0.path, type: $0.summary.databaseType, nodes: $0.summary.nodes,
                                               locations: $0.summary.locations, buildEpoch: $0.summary.buildEpoch) },
            fleet: await fleet?.connection, listen: configuration.dns.listen.map(\.description),
            stats: configuration.stats.map { "\($0.listen)" })
        reply.queryLog = publisher.queryLog.report(droppedFull: counters.queryLogDropped)
        return reply
    }

    public func fleet() async -> Result<FleetReply, ControlFailure> {
        guard let fleet else {
            return .failure(ControlFailure("this server is not part of a fleet (no fleet: section in \(configPath))"))
        }
        return .success(await fleet.report())
    }

    public func edges() async -> EdgesReply {
        let reports = Dictionary(await health.snapshot().map { ($0.edge, $0) }, uniquingKeysWith: { first, _ in first })
        let loads = Dictionary(await load.snapshot().map { ($0.edge, $0) }, uniquingKeysWith: { first, _ in first })
        let answers = publisher.totals().edges
        let rows = configuration.orderedEdges.map { edge in
            row(for: edge, report: reports[edge.name], load: loads[edge.name], answers: answers[edge.name] ?? 0)
        }
        return EdgesReply(edges: rows)
    }

    func row(for edge: Edge, report: EdgeHealthReport?, load: LoadReport?, answers: Int) -> EdgesReply.Row {
        let pools = configuration.orderedPools.filter { $0.edges.contains(edge.name) }.map(\.name)
        var row = EdgesReply.Row(
            name: edge.name, pools: pools, location: [edge.location.latitude, edge.location.longitude],
            addresses: edge.addresses.map(\.description), state: EdgeState(report?.state),
            admin: report?.adminState == .drained ? .drained : .active, checked: edge.check != nil,
            lastCheck: report?.lastCheckTime, latencyMs: report?.lastLatencyMs, result: report?.lastResult,
            since: report?.lastTransitionTime, answers: UInt64(answers), transitions: UInt64(report?.transitions ?? 0))
        row.load = load.map(Self.loadReply)
        if let fleet = report?.fleet {
            row.fleet = EdgesReply.FleetVerdict(observers: fleet.observers, down: fleet.down, verdict: EdgeState(fleet.verdict),
                                                own: EdgeState(fleet.own), overruled: fleet.overruled, downAt: fleet.downAt)
        }
        row.fleetDrain = report?.fleetDrain.map { FleetReply.Drain(edge: edge.name, by: $0.by, at: $0.at, reason: $0.reason) }
        if self.fleet != nil { row.drainedLocally = report?.drainedLocally }
        return row
    }

    static func loadReply(_ load: LoadReport) -> EdgesReply.Load {
        EdgesReply.Load(feed: load.state.rawValue, shedFraction: load.shedFraction,
                        signals: load.readings.map { EdgesReply.Load.Signal(metric: $0.metric, value: $0.value, fraction: $0.fraction) },
                        failures: load.failures, lastError: load.lastError)
    }

    public func setDrained(edge name: String, drained: Bool) async -> Result<EdgesReply.Row, ControlFailure> {
        await setDrained(edge: name, drained: drained, options: DrainOptions())
    }

    /// In a fleet, a drain goes to etcd (every node applies it) unless `options.local`; an
    /// undrain lifts the fleet's drain and this node's own. Outside a fleet, or with
    /// `local`, only this node changes, saved in its state file.
    public func setDrained(edge name: String, drained: Bool, options: DrainOptions) async -> Result<EdgesReply.Row, ControlFailure> {
        guard let edge = configuration.edges[name] else {
            return .failure(ControlFailure("unknown edge \"\(name)\" (edges: \(configuration.edgeOrder.joined(separator: ", ")))"))
        }
        if let fleet, !options.local {
            if case .failure(let failure) = await fleet.setDrain(edge: name, drained: drained, options: options) {
                return .failure(failure)
            }
        }
        if options.local || fleet == nil || !drained {
            let reason = "dnsctl \(drained ? "drain" : "undrain")" + (options.by.map { " by \($0)" } ?? "")
                + (options.reason.map { ": \($0)" } ?? "")
            do {
                _ = drained ? try await health.drain(edge: name, reason: reason) : try await health.undrain(edge: name, reason: reason)
            } catch {
                // Not saved: the change is in effect, and the reply says why it will not survive a restart.
                logger.warning("\(error)")
            }
        }
        let report = await health.snapshot().first { $0.edge == name }
        let answers = publisher.totals().edges[name] ?? 0
        let scope = fleet == nil ? "" : options.local ? " on this node" : " fleet-wide"
        logger.notice(drained ? "edge drained\(scope)" : "edge undrained\(scope)", metadata: [
            "edge": "\(name)", "by": "\(options.by ?? "dnsctl")", "reason": "\(options.reason ?? "")",
        ])
        let loadReport = await load.snapshot().first { $0.edge == name }
        return .success(row(for: edge, report: report, load: loadReport, answers: answers))
    }

    public func stats() async -> StatsReply {
        let totals = publisher.totals()
        let counters = totals.counters
        var byType: [String: UInt64] = [:]
        for (index, count) in counters.byQType.enumerated() where count > 0 {
            byType[index < QueryCounters.countedTypes.count ? "\(QueryCounters.countedTypes[index])" : "OTHER"] = UInt64(count)
        }
        var byRcode: [String: UInt64] = [:]
        for (index, count) in counters.byRCode.enumerated() where count > 0 {
            byRcode["\(RCode(rawValue: UInt16(index)))"] = UInt64(count)
        }
        let queries = StatsReply.Queries(
            byTransport: ["udp": UInt64(counters.udpQueries), "tcp": UInt64(counters.tcpQueries)],
            byType: byType, byRcode: byRcode, dropped: UInt64(counters.dropped), truncated: UInt64(counters.truncated),
            byCookie: ["valid": UInt64(counters.cookiesValid), "client_only": UInt64(counters.cookiesClientOnly),
                       "invalid": UInt64(counters.cookiesInvalid), "malformed": UInt64(counters.cookiesMalformed)])
        let reports = await health.snapshot()
        let loads = Dictionary(await load.snapshot().map { ($0.edge, $0) }, uniquingKeysWith: { first, _ in first })
        let edges = configuration.orderedEdges.map { edge -> StatsReply.Edge in
            let report = reports.first { $0.edge == edge.name }
            return StatsReply.Edge(name: edge.name, state: EdgeState(report?.state), drained: report?.adminState == .drained,
                                   probeLatencySeconds: report?.lastLatencyMs.map { $0 / 1000 },
                                   transitions: UInt64(report?.transitions ?? 0), load: loads[edge.name].map(Self.loadReply),
                                   shedAnswers: UInt64(totals.shed[edge.name] ?? 0),
                                   probeDurations: report?.probeDurations.map {
                                       StatsReply.Histogram(bucketsSeconds: ProbeDurations.boundsSeconds, counts: $0.counts, sum: $0.sumSeconds)
                                   })
        }
        let histogram = StatsReply.Histogram(bucketsSeconds: QueryCounters.responseBuckets, counts: counters.responseTimes.map { UInt64($0) },
                                             sum: Double(counters.responseNanoseconds) / 1e9)
        var limitedByClass: [String: UInt64] = [:]
        for responseClass in ResponseClass.allCases where counters.rateLimited[Int(responseClass.rawValue)] > 0 {
            limitedByClass[responseClass.name] = UInt64(counters.rateLimited[Int(responseClass.rawValue)])
        }
        let rateLimit = StatsReply.RateLimit(limitedByClass: limitedByClass, slipped: UInt64(counters.rateLimitSlipped),
                                             dropped: UInt64(counters.rateLimitDropped))
        let now = wallClockSeconds()
        var reply = StatsReply(version: MeridianVersion.current, uptimeSeconds: now - startedAt, startedAt: startedAt, queries: queries,
                          answersByPool: totals.pools.mapValues { UInt64($0) }, answersByEdge: totals.edges.mapValues { UInt64($0) },
                          edges: edges, responseTime: histogram,
                          reloads: StatsReply.Reloads(ok: UInt64(reloadCounts.ok), failed: UInt64(reloadCounts.failed),
                                                      lastSucceeded: lastReload?.ok ?? true, lastSuccessAt: lastLoadedAt),
                          rateLimit: rateLimit,
                          tcpConnections: StatsReply.TCPConnections(
                              open: UInt64(max(0, counters.tcpAccepted - counters.tcpClosed)), accepted: UInt64(counters.tcpAccepted),
                              refused: UInt64(counters.tcpRefused), evicted: UInt64(counters.tcpEvicted)),
                          fleet: await fleet?.connection, dnssec: dnssecStats(counters),
                          zones: loaded.zones.map { StatsReply.Zone(zone: $0.origin.description, serial: $0.serial) },
                          pools: configuration.orderedPools.map { pool in
                              StatsReply.Pool(pool: pool.name, edges: pool.edges.count,
                                              available: pool.edges.filter { name in reports.contains { $0.edge == name && $0.routable } }.count)
                          },
                          process: sampleProcess())
        reply.queryLog = publisher.queryLog.report(droppedFull: counters.queryLogDropped)
        return reply
    }

    public func history(seconds: Int) async -> HistoryReply {
        let reports = Dictionary(await health.snapshot().map { ($0.edge, $0) }, uniquingKeysWith: { first, _ in first })
        let edges = configuration.orderedEdges.map { edge in
            HistoryReply.Edge(name: edge.name, state: EdgeState(reports[edge.name]?.state),
                              admin: reports[edge.name]?.adminState == .drained ? .drained : .active)
        }
        return history.reply(seconds: seconds, now: wallClockSeconds(), edges: edges)
    }

    private func dnssecStats(_ counters: QueryCounters) -> StatsReply.DNSSEC? {
        let zones = loaded.zones.compactMap { zone in
            zone.signatures.map { StatsReply.DNSSEC.Zone(zone: zone.origin.description, keys: $0.signer.keyDescriptions,
                                                         signaturesExpire: Double($0.expiration)) }
        }
        guard !zones.isEmpty else { return nil }
        return StatsReply.DNSSEC(signedAnswers: UInt64(counters.signedAnswers), signaturesMade: UInt64(counters.signaturesMade),
                                 zones: zones)
    }
}

extension EdgeState {
    init(_ state: EdgeHealth.State?) {
        switch state {
        case .up: self = .up
        case .down: self = .down
        default: self = .unknown
        }
    }
}
