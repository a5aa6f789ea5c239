import MeridianWire

/// Why a client gets the edges it gets: the data behind `dnsctl explain`. Built from the
/// same decision and selection the query path uses, so it cannot disagree with it.
public struct Explanation: Sendable {
    public struct Candidate: Sendable {
        public var edge: String
        /// Great-circle distance from the client's location, when both are known.
        public var kilometres: Double?
        public var state: HealthTable.State
        public var hasAddress: Bool
        public var chosen: Bool
        /// The share of client networks the edge sheds now, 0 to 1.
        public var shedFraction: Double
        /// Where the client's network falls for this edge, 0 to 1: shed while below the fraction.
        public var shedPosition: Double
    }

    public var pool: String
    public var policy: String
    public var source: RoutingTable.Source
    /// The database record or override location used, if any.
    public var location: GeoLocation?
    /// The prefix length of the widest network with the same answer (before clamping to the
    /// ECS source prefix).
    public var networkPrefix: Int
    public var candidates: [Candidate]
    public var selection: Selection
}

extension RoutingTable {
    public func explain(pool: Int, client: ClientAddress, kind: AnswerKind, health: HealthTable) -> Explanation {
        let decision = decide(pool: pool, client: client)
        let location = decision.location
        let output = UnsafeMutablePointer<UInt16>.allocate(capacity: max(1, edges.count))
        defer { output.deallocate() }
        let selection = select(pool: pool, list: decision.list, kind: kind, health: health, client: client, into: output)
        let networkHash = ShedHash.network(shedNetwork(pool: pool, client: client))
        let chosen = Set((0..<selection.count).map { Int(output[$0]) })
        let candidates = edgeList(decision.list).map { edge -> Explanation.Candidate in
            let spec = edges[edge]
            var kilometres: Double?
            if let location, location.hasCoordinates {
                kilometres = greatCircleKilometres(location.latitude, location.longitude, spec.latitude, spec.longitude)
            }
            let position = ShedHash.position(network: networkHash, key: answerData.edgeShedKeys[edge])
            return Explanation.Candidate(edge: spec.name, kilometres: kilometres,
                                         state: edge < health.states.count ? health.states[edge] : [],
                                         hasAddress: edgeHas(edge, kind), chosen: chosen.contains(edge),
                                         shedFraction: Double(health.shedThreshold(edge)) / 4_294_967_296,
                                         shedPosition: Double(position) / 4_294_967_296)
        }
        let policy: String
        switch pools[pool].policy {
        case .nearest: policy = "nearest"
        case .map: policy = "map"
        }
        return Explanation(pool: pools[pool].name, policy: policy, source: decision.source, location: location,
                           networkPrefix: decision.scope, candidates: candidates, selection: selection)
    }
}
