import Logging
import MeridianAuthority
import MeridianConfig
import MeridianControl
import MeridianGeoIP
import MeridianHealth
import MeridianRouting
import MeridianWire
import MeridianZoneFile

/// What `dnsctl`, the control socket and the stats port ask of the running server.
extension MeridianService: ControlBackend {
    public func reload() async -> ReloadReply {
        switch await reloadData() {
        case .success(let report): ReloadReply(ok: true, changes: report.zoneChanges, notes: report.notes)
        case .failure(let failure): ReloadReply(ok: false, errors: failure.lines)
        }
    }

    public func status() async -> StatusReply {
        let now = wallClockSeconds()
        let total = (try? await listeners?.counters().queries) ?? 0
        var rate = 0.0
        if rateSamples.count == 2, rateSamples[1].time > rateSamples[0].time {
            rate = Double(rateSamples[1].total - rateSamples[0].total) / (rateSamples[1].time - rateSamples[0].time)
        }
        return StatusReply(
            version: MeridianVersion.current, uptimeSeconds: now - startedAt, startedAt: startedAt,
            zones: zones.zones.map { StatusReply.Zone(name: $0.origin.description, serial: $0.serial, records: $0.records) },
            queriesPerSecond: rate, queriesTotal: UInt64(total),
            lastReload: lastReload.map { StatusReply.LastReload(at: $0.at, ok: $0.ok, summary: $0.summary) },
            geoip: geo.map { StatusReply.GeoIP(path: $0.path, type: $0.summary.databaseType, nodes: $0.summary.nodes,
                                               locations: $0.summary.locations, buildEpoch: $0.summary.buildEpoch) })
    }

    public func edges() async -> EdgesReply {
        let reports = Dictionary(await health.snapshot().map { ($0.edge, $0) }, uniquingKeysWith: { first, _ in first })
        let answers = (try? await listeners?.answersByName().edges) ?? [:]
        let rows = configuration.orderedEdges.map { edge in
            row(for: edge, report: reports[edge.name], answers: answers[edge.name] ?? 0)
        }
        return EdgesReply(edges: rows)
    }

    func row(for edge: Edge, report: EdgeHealthReport?, answers: Int) -> EdgesReply.Row {
        let pools = configuration.orderedPools.filter { $0.edges.contains(edge.name) }.map(\.name)
        return EdgesReply.Row(
            name: edge.name, pools: pools, location: [edge.location.latitude, edge.location.longitude],
            addresses: edge.addresses.map(\.description), state: EdgeState(report?.state),
            admin: report?.adminState == .drained ? .drained : .active, checked: edge.check != nil,
            lastCheck: report?.lastCheckTime, latencyMs: report?.lastLatencyMs, result: report?.lastResult,
            since: report?.lastTransitionTime, answers: UInt64(answers), transitions: UInt64(report?.transitions ?? 0))
    }

    public func setDrained(edge name: String, drained: Bool) async -> Result<EdgesReply.Row, ControlFailure> {
        guard let edge = configuration.edges[name] else {
            return .failure(ControlFailure("unknown edge \"\(name)\" (edges: \(configuration.edgeOrder.joined(separator: ", ")))"))
        }
        do {
            _ = drained ? try await health.drain(edge: name) : try await health.undrain(edge: name)
        } catch {
            // Not saved: the change is in effect, and the reply says why it will not survive a restart.
            logger.warning("\(error)")
        }
        let report = await health.snapshot().first { $0.edge == name }
        let answers = (try? await listeners?.answersByName().edges[name]) ?? 0
        logger.info(drained ? "edge drained" : "edge undrained", metadata: ["edge": "\(name)"])
        return .success(row(for: edge, report: report, answers: answers))
    }

    public func stats() async -> StatsReply {
        let counters = (try? await listeners?.counters()) ?? QueryCounters()
        let answers = (try? await listeners?.answersByName()) ?? (edges: [:], pools: [:])
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
            byType: byType, byRcode: byRcode, dropped: UInt64(counters.dropped), truncated: UInt64(counters.truncated))
        let reports = await health.snapshot()
        let edges = configuration.orderedEdges.map { edge -> StatsReply.Edge in
            let report = reports.first { $0.edge == edge.name }
            return StatsReply.Edge(name: edge.name, state: EdgeState(report?.state), drained: report?.adminState == .drained,
                                   probeLatencySeconds: report?.lastLatencyMs.map { $0 / 1000 },
                                   transitions: UInt64(report?.transitions ?? 0))
        }
        let histogram = StatsReply.Histogram(bucketsSeconds: QueryCounters.responseBuckets, counts: counters.responseTimes.map { UInt64($0) },
                                             sum: Double(counters.responseNanoseconds) / 1e9)
        let now = wallClockSeconds()
        return StatsReply(version: MeridianVersion.current, uptimeSeconds: now - startedAt, startedAt: startedAt, queries: queries,
                          answersByPool: answers.pools.mapValues { UInt64($0) }, answersByEdge: answers.edges.mapValues { UInt64($0) },
                          edges: edges, responseTime: histogram,
                          reloads: StatsReply.Reloads(ok: UInt64(reloadCounts.ok), failed: UInt64(reloadCounts.failed)))
    }

    /// Asks the real responder, with the current snapshot, the question a resolver would
    /// ask for this client, and explains the routing decision behind the answer.
    public func explain(name: String, client: String, prefix: Int?, type: String?) async -> Result<ExplainReply, ControlFailure> {
        guard let qname = try? DNSName(parsing: name.hasSuffix(".") ? name : name + ".") else {
            return .failure(ControlFailure("\"\(name)\" is not a valid domain name"))
        }
        guard let address = IPAddress(client) else { return .failure(ControlFailure("\"\(client)\" is not an IP address")) }
        let bytes = address.bytes
        let family: ClientSubnet.Family = bytes.count == 4 ? .ipv4 : .ipv6
        let maxPrefix = bytes.count * 8
        // Without /PREFIX the question is "a query from this address" (no ECS): the whole
        // address decides, as it does for a resolver's own queries.
        let usedPrefix = min(prefix ?? maxPrefix, maxPrefix)
        guard usedPrefix >= 0 else { return .failure(ControlFailure("prefix \(usedPrefix) out of range")) }
        let qtype = type.flatMap { RRType(mnemonic: $0) } ?? (family == .ipv4 ? .a : .aaaa)
        let snapshot = publisher.current
        guard let dynamic = snapshot.dynamicRecord(for: qname) else {
            return .failure(ControlFailure("\(qname) is not a dynamic name (no DYNA or DYNC record)"))
        }
        let subnet = ClientSubnet(family: family, sourcePrefix: UInt8(usedPrefix), octets: bytes)
        let routedClient = ClientAddress(family: family == .ipv4 ? .ipv4 : .ipv6, octets: subnet.address)
        let kind: AnswerKind = dynamic.type == .dync ? .cname : (qtype == .aaaa ? .ipv6 : .ipv4)
        let explanation = snapshot.routing.explain(pool: dynamic.pool, client: routedClient, kind: kind, health: snapshot.health)

        // The answer itself comes from the responder, so explain cannot disagree with it.
        let options = prefix == nil ? [] : [EDNS.Option(code: .clientSubnet, data: subnet.optionData)]
        let query = Message.query(id: 1, name: qname, type: qtype, edns: EDNS(options: options))
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        let encoded = query.encode()
        let outcome = encoded.withUnsafeBytes {
            Responder.respond(to: $0, from: routedClient, over: .tcp, using: snapshot, scratch: ResponderScratch(), into: output)
        }
        guard let response = try? Message.decode(Array(output[0..<outcome.length])) else {
            return .failure(ControlFailure("the responder gave no readable answer"))
        }
        let answer = response.answers.map {
            "\($0.name) \($0.ttl) IN \($0.type) \(RDataText.format(type: $0.type, rdata: $0.rdata))"
        }
        let scope = (try? response.edns?.clientSubnet())??.scopePrefix ?? 0
        let reports = Dictionary(await health.snapshot().map { ($0.edge, $0) }, uniquingKeysWith: { first, _ in first })

        var notes: [String] = []
        var candidates: [ExplainReply.Candidate] = []
        var answerComplete = false
        for candidate in explanation.candidates {
            let report = reports[candidate.edge]
            var reason: String?
            if !answerComplete && !candidate.chosen {
                if candidate.state.contains(.drained) { reason = "drained" }
                else if candidate.state.contains(.down) { reason = "down" }
                else if !candidate.hasAddress { reason = kind == .cname ? "no cname" : "no \(kind == .ipv6 ? "AAAA" : "A") address" }
            }
            if candidate.chosen && candidates.filter(\.chosen).count + 1 >= explanation.selection.count { answerComplete = true }
            candidates.append(ExplainReply.Candidate(
                edge: candidate.edge, km: candidate.kilometres, state: EdgeState(report?.state),
                admin: candidate.state.contains(.drained) ? .drained : .active, reason: reason,
                result: report?.lastResult, since: report?.lastTransitionTime, chosen: candidate.chosen))
        }
        if explanation.selection.skippedNearer { notes.append("TTL halved: a nearer edge is down or drained") }
        if explanation.selection.allDown {
            notes.append(explanation.selection.servfail ? "all edges down: when_all_down is servfail" : "all edges down: answering with every edge (when_all_down: all)")
        }
        let location = explanation.location.map { place in
            ExplainReply.Location(latitude: place.hasCoordinates ? place.latitude : nil, longitude: place.hasCoordinates ? place.longitude : nil,
                                  country: place.countryCode, continent: place.continentCode, subdivision: place.subdivisionCode)
        }
        let source: ExplainReply.LocationSource
        switch explanation.source {
        case .database: source = .database
        case .override: source = .override
        case .fallback: source = .fallback
        }
        let network = IPNetwork(containing: address, prefixLength: min(explanation.networkPrefix, maxPrefix))
        return .success(ExplainReply(
            name: qname.description, type: "\(qtype)", client: client, prefix: usedPrefix,
            clientSource: prefix == nil ? .source : .ecs, network: network.description, source: source, location: location,
            pool: explanation.pool, policy: explanation.policy, poolAnswers: snapshot.routing.pools[dynamic.pool].answers,
            candidates: candidates, answer: answer, rcode: "\(response.rcode)", ttl: response.answers.first?.ttl ?? 0,
            scope: Int(scope), notes: notes))
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
