import MeridianWire

/// Edges, pools and the compiled geo table, frozen. For every pool and every location the
/// database knows, the ordered edge list is computed at load time and folded into the
/// pool's own trie; a query does one short trie walk. The GeoIP trie itself is not kept:
/// `locator` (the open database) answers `explain`.
public final class RoutingTable: Sendable {
    public let edges: [EdgeSpec]
    public let pools: [PoolSpec]
    /// Where `explain` looks clients up; the GeoIP trie the table was built from unless
    /// another locator was given.
    public let locator: (any GeoLocator)?
    /// The overrides as configured, to tell whether a reload changes routing.
    public let configuredOverrides: [OverrideSpec]
    let overrides: [OverrideSpec]

    /// All distinct ordered edge lists, back to back.
    let listEdges: [UInt16]
    let listStart: [Int32]
    let listLength: [UInt16]
    /// Per pool: list for clients without a usable location.
    let fallbackList: [Int32]
    /// Per pool: list for each override.
    let listForOverride: [[Int32]]
    /// Per pool: the geo tree collapsed to the pool's lists (nil without a database).
    let poolTries: [PoolTrie?]
    /// What answers read from edges and pools, as plain values (see `AnswerData`).
    public let answerData: AnswerData

    public static let empty = RoutingTable(edges: [], pools: [], geo: nil, overrides: [])

    /// `geo` is needed only while building; `locator` defaults to it.
    public init(edges: [EdgeSpec], pools: [PoolSpec], geo: GeoTrie?, overrides: [OverrideSpec], locator: (any GeoLocator)? = nil) {
        self.edges = edges
        self.pools = pools
        self.locator = locator ?? geo
        self.configuredOverrides = overrides
        // Most specific first, so the first match wins.
        self.overrides = overrides.enumerated().sorted {
            $0.element.prefixLength != $1.element.prefixLength ? $0.element.prefixLength > $1.element.prefixLength : $0.offset < $1.offset
        }.map(\.element)

        var lists = EdgeListBuilder()
        // Many locations share coordinates (or codes): each distinct one is ordered once.
        let places = geo.map { geo in
            LocationGroups(locations: geo.locations,
                           coordinates: pools.contains { $0.policy == .nearest },
                           codes: pools.contains { $0.policy != .nearest })
        }
        var fallback: [Int32] = []
        var perLocation: [[Int32]] = []
        var perOverride: [[Int32]] = []
        for pool in pools {
            let order = PoolOrdering(pool: pool, edges: edges)
            let poolFallback = lists.intern(order.fallback())
            fallback.append(poolFallback)
            perLocation.append(places.map { order.listPerLocation($0, lists: &lists) } ?? [])
            perOverride.append(order.listPerOverride(self.overrides, fallback: poolFallback, lists: &lists))
        }
        self.listEdges = lists.edges
        self.listStart = lists.starts
        self.listLength = lists.lengths
        self.fallbackList = fallback
        self.listForOverride = perOverride
        self.answerData = AnswerData(edges: edges, pools: pools)
        self.poolTries = Self.poolTries(geo: geo, perLocation: perLocation, fallback: fallback)
    }

    /// Per pool: the geo trie collapsed to the pool's lists, where a location that does not
    /// decide (-1 in `perLocation`) takes the pool's fallback.
    private static func poolTries(geo: GeoTrie?, perLocation: [[Int32]], fallback: [Int32]) -> [PoolTrie?] {
        var memo: [Int32] = []
        return fallback.indices.map { pool in
            geo.map { geo in
                PoolTrie(geo: geo, fallback: fallback[pool], memo: &memo) { location in
                    let list = perLocation[pool][location]
                    return list >= 0 ? list : fallback[pool]
                }
            }
        }
    }

    /// Where a client's answer comes from.
    public enum Source: Sendable, Equatable {
        case override(index: Int)
        case database
        /// The database has nothing (or no coordinates) for the client: the pool's fallback.
        case fallback
    }

    /// A routing decision: the ordered edge list and the network it holds for.
    public struct Decision: Sendable {
        public var list: Int32
        /// Prefix length over which the same decision holds (the ECS scope).
        public var scope: Int
        public var source: Source
        /// The database's record for the client, whether or not it decided.
        public var location: GeoLocation?
    }

    /// Orders a pool's edges for a client: the query path. One override scan and one walk
    /// of the pool's own trie; the scope is the widest network around the client over which
    /// every address gets the same list (longer than the client's source prefix when the
    /// data splits it).
    /// Allocation-free.
    @inline(__always)
    public func route(pool: Int, client: ClientAddress) -> (list: Int32, scope: Int) {
        // Overrides are checked before the database, so a scope must not cover an earlier
        // override the client is not in: its addresses may get another answer.
        var separated = 0
        for (index, override) in overrides.enumerated() {
            if override.contains(client) {
                return (listForOverride[pool][index], max(override.prefixLength, separated))
            }
            separated = max(separated, override.separatingPrefix(from: client))
        }
        guard let trie = poolTries[pool] else { return (fallbackList[pool], separated) }
        let found = trie.lookup(client)
        return (found.list >= 0 ? found.list : fallbackList[pool], max(found.scope, separated))
    }

    /// `route` plus where the client's placement came from, for `dnsctl explain` and tests.
    public func decide(pool: Int, client: ClientAddress) -> Decision {
        let routed = route(pool: pool, client: client)
        for (index, override) in overrides.enumerated() where override.contains(client) {
            var location: GeoLocation?
            if case .location(let latitude, let longitude) = override.target {
                location = GeoLocation(latitude: latitude, longitude: longitude, hasCoordinates: true)
            }
            return Decision(list: routed.list, scope: routed.scope, source: .override(index: index), location: location)
        }
        guard poolTries[pool] != nil, let location = locator?.locate(client).location else {
            return Decision(list: routed.list, scope: routed.scope, source: .fallback, location: nil)
        }
        let decides = PoolOrdering(pool: pools[pool], edges: edges).list(for: location) != nil
        return Decision(list: routed.list, scope: routed.scope, source: decides ? .database : .fallback, location: location)
    }

    /// The edges of a list, nearest or preferred first.
    @inline(__always)
    public func withList<R>(_ list: Int32, _ body: (UnsafeBufferPointer<UInt16>) -> R) -> R {
        listEdges.withUnsafeBufferPointer { all in
            let start = Int(listStart[Int(list)])
            return body(UnsafeBufferPointer(rebasing: all[start..<(start + Int(listLength[Int(list)]))]))
        }
    }

    public func edgeList(_ list: Int32) -> [Int] {
        withList(list) { $0.map(Int.init) }
    }

    public func poolIndex(named name: String) -> Int? {
        pools.firstIndex { $0.name == name }
    }
}
