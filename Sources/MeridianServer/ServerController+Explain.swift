import MeridianAuthority
import MeridianConfig
import MeridianControl
import MeridianFleet
import MeridianHealth
import MeridianRouting
import MeridianWire
import MeridianZoneFile

extension ServerController {
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
        let edns = EDNS(options: prefix == nil ? [] : [EDNS.Option(code: .clientSubnet, data: subnet.optionData)])
        guard let response = Self.ask(Message.query(id: 1, name: qname, type: qtype, edns: edns), from: routedClient, of: snapshot) else {
            return .failure(ControlFailure("the responder gave no readable answer"))
        }
        let answer = response.answers.map {
            "\($0.name) \($0.ttl) IN \($0.type) \(RDataText.format(type: $0.type, rdata: $0.rdata))"
        }
        let scope = (try? response.edns?.clientSubnet())??.scopePrefix ?? 0
        let reports = Dictionary(await health.snapshot().map { ($0.edge, $0) }, uniquingKeysWith: { first, _ in first })
        let network = IPNetwork(containing: address, prefixLength: min(explanation.networkPrefix, maxPrefix))
        var notes = Self.notes(explanation.selection)
        if let signed = snapshot.zone(answering: qname)?.signatures {
            notes.append("DNSSEC: \(signed.signer.keyDescriptions.count == 1 ? "key" : "keys") "
                + signed.signer.keyDescriptions.joined(separator: ", ")
                + " (tag/algorithm); with DO this answer is signed on its first use by each answering thread and then "
                + "served from that thread's signature cache (\(ReadableText.grouped(ResponderScratch.signatureCacheSlots)) RRsets each)")
        }
        for candidate in explanation.candidates {
            guard let fleet = reports[candidate.edge]?.fleet, fleet.overruled else { continue }
            notes.append("\(candidate.edge): this node's probes see it down, but only \(fleet.down) of \(fleet.observers) fleet nodes do "
                + "(health_quorum \(configuration.fleet?.healthQuorum.description ?? "majority")): the fleet's verdict, up, is used")
        }
        if prefix != nil, Int(scope) > usedPrefix {
            let source = IPNetwork(containing: address, prefixLength: usedPrefix)
            let held = IPNetwork(containing: source.address, prefixLength: Int(scope))
            notes.append("the data splits \(source): this answer holds for \(held) only, so the ECS scope is longer than the source (RFC 7871 7.2.1)")
        }
        return .success(ExplainReply(
            name: qname.description, type: "\(qtype)", client: client, prefix: usedPrefix,
            clientSource: prefix == nil ? .source : .ecs, network: network.description, source: ExplainReply.LocationSource(explanation.source),
            location: explanation.location.map(ExplainReply.Location.init), pool: explanation.pool, policy: explanation.policy,
            poolAnswers: snapshot.routing.pools[dynamic.pool].answers,
            candidates: Self.candidates(explanation, kind: kind, reports: reports), answer: answer, rcode: "\(response.rcode)",
            ttl: response.answers.first?.ttl ?? 0, scope: Int(scope), notes: notes))
    }

    /// The responder's answer to `query`, decoded.
    private static func ask(_ query: Message, from client: ClientAddress, of snapshot: AuthoritySnapshot) -> Message? {
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        let outcome = query.encode().withUnsafeBytes {
            Responder.respond(to: $0, from: client, over: .tcp, using: snapshot, scratch: ResponderScratch(), into: output)
        }
        return try? Message.decode(Array(output[0..<outcome.length]))
    }

    /// Every edge the pool considered, nearest first, with why each one before the answer
    /// was passed over.
    private static func candidates(_ explanation: Explanation, kind: AnswerKind,
                                   reports: [String: EdgeHealthReport]) -> [ExplainReply.Candidate] {
        var candidates: [ExplainReply.Candidate] = []
        var answerComplete = false
        for candidate in explanation.candidates {
            let report = reports[candidate.edge]
            var reason: String?
            if !answerComplete && !candidate.chosen {
                if candidate.state.contains(.drained) {
                    reason = report?.fleetDrain.map { "drained fleet-wide by \($0.by)" + ($0.reason.map { ": \($0)" } ?? "") } ?? "drained"
                } else if candidate.state.contains(.down) {
                    reason = report?.fleet.map { "down (\($0.down) of \($0.observers) fleet nodes see it down)" } ?? "down"
                }
                else if !candidate.hasAddress { reason = kind == .cname ? "no cname" : "no \(kind == .ipv6 ? "AAAA" : "A") address" }
                else if candidate.shedPosition < candidate.shedFraction { reason = "shedding load" }
            }
            if candidate.chosen && candidates.filter(\.chosen).count + 1 >= explanation.selection.count { answerComplete = true }
            var row = ExplainReply.Candidate(
                edge: candidate.edge, km: candidate.kilometres, state: EdgeState(report?.state),
                admin: candidate.state.contains(.drained) ? .drained : .active, reason: reason,
                result: report?.lastResult, since: report?.lastTransitionTime, chosen: candidate.chosen,
                shedFraction: candidate.shedFraction > 0 ? candidate.shedFraction : nil,
                shedPosition: candidate.shedFraction > 0 ? candidate.shedPosition : nil)
            row.fleet = report?.fleet.map {
                EdgesReply.FleetVerdict(observers: $0.observers, down: $0.down, verdict: EdgeState($0.verdict), own: EdgeState($0.own),
                                        overruled: $0.overruled, downAt: $0.downAt)
            }
            candidates.append(row)
        }
        return candidates
    }

    private static func notes(_ selection: Selection) -> [String] {
        var notes: [String] = []
        if selection.skippedNearer { notes.append("TTL halved: a nearer edge is down or drained") }
        if selection.shedNearer { notes.append("moved for load: a nearer edge sheds this client's network (TTL: the pool's load_ttl)") }
        if selection.loadDependent { notes.append("the answer depends on the shed hash: ECS scope no wider than the pool's shed_prefix") }
        if selection.allDown {
            notes.append(selection.servfail ? "all edges down: when_all_down is servfail" : "all edges down: answering with every edge (when_all_down: all)")
        }
        return notes
    }
}

extension ExplainReply.Location {
    init(_ place: GeoLocation) {
        self.init(latitude: place.hasCoordinates ? place.latitude : nil, longitude: place.hasCoordinates ? place.longitude : nil,
                  country: place.countryCode, continent: place.continentCode, subdivision: place.subdivisionCode)
    }
}

extension ExplainReply.LocationSource {
    init(_ source: RoutingTable.Source) {
        switch source {
        case .database: self = .database
        case .override: self = .override
        case .fallback: self = .fallback
        }
    }
}
