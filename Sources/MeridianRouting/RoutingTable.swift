#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MeridianWire

/// An edge as routing sees it: where it is and what to answer with.
public struct EdgeSpec: Sendable, Equatable {
    public var name: String
    public var latitude: Double
    public var longitude: Double
    /// IPv4 addresses, 4 octets each, and IPv6, 16 octets each.
    public var ipv4: [[UInt8]]
    public var ipv6: [[UInt8]]
    /// DYNC target in uncompressed wire form, if any.
    public var cname: DNSName?

    public init(name: String, latitude: Double, longitude: Double, ipv4: [[UInt8]], ipv6: [[UInt8]], cname: DNSName?) {
        self.name = name
        self.latitude = latitude
        self.longitude = longitude
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.cname = cname
    }
}

public struct PoolSpec: Sendable, Equatable {
    public enum Policy: Sendable, Equatable {
        case nearest
        /// Keys: `US-CA`, `US`, `NA`, `default`; values: edge indices in order.
        case map([(key: String, edges: [Int])])

        public static func == (a: Policy, b: Policy) -> Bool {
            switch (a, b) {
            case (.nearest, .nearest): true
            case (.map(let x), .map(let y)): x.map(\.key) == y.map(\.key) && x.map(\.edges) == y.map(\.edges)
            default: false
            }
        }
    }

    public enum Fallback: Sendable, Equatable {
        /// The pool's own edge order.
        case listed
        case edges([Int])
        case location(latitude: Double, longitude: Double)
    }

    public var name: String
    /// Edge indices into the routing table's edges.
    public var edges: [Int]
    public var policy: Policy
    public var answers: Int
    public var fallback: Fallback
    public var servfailWhenAllDown: Bool

    public init(name: String, edges: [Int], policy: Policy, answers: Int, fallback: Fallback, servfailWhenAllDown: Bool) {
        self.name = name
        self.edges = edges
        self.policy = policy
        self.answers = answers
        self.fallback = fallback
        self.servfailWhenAllDown = servfailWhenAllDown
    }
}

/// A network the operator placed by hand; checked before the database, most specific first.
public struct OverrideSpec: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case location(latitude: Double, longitude: Double)
        case edges([Int])
    }

    public var family: ClientAddress.Family
    /// Network octets, left-aligned, bits past the prefix zero.
    public var octets: (UInt64, UInt64)
    public var prefixLength: Int
    public var target: Target

    public init(family: ClientAddress.Family, octets: (UInt64, UInt64), prefixLength: Int, target: Target) {
        self.family = family
        self.octets = octets
        self.prefixLength = prefixLength
        self.target = target
    }

    public static func == (a: OverrideSpec, b: OverrideSpec) -> Bool {
        a.family == b.family && a.octets == b.octets && a.prefixLength == b.prefixLength && a.target == b.target
    }

    func contains(_ address: ClientAddress) -> Bool {
        guard address.family == family else { return false }
        let high = address.octets.0.bigEndian
        let low = address.octets.1.bigEndian
        let netHigh = octets.0.bigEndian
        let netLow = octets.1.bigEndian
        let highMask: UInt64 = prefixLength >= 64 ? .max : (prefixLength == 0 ? 0 : ~(UInt64.max >> UInt64(prefixLength)))
        let lowBits = max(0, prefixLength - 64)
        let lowMask: UInt64 = lowBits >= 64 ? .max : (lowBits == 0 ? 0 : ~(UInt64.max >> UInt64(lowBits)))
        return high & highMask == netHigh & highMask && low & lowMask == netLow & lowMask
    }
}

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

        var interned: [[UInt16]: Int32] = [:]
        var listEdges: [UInt16] = []
        var listStart: [Int32] = []
        var listLength: [UInt16] = []
        func intern(_ list: [Int]) -> Int32 {
            intern(list.map { UInt16($0) })
        }
        func intern(_ key: [UInt16]) -> Int32 {
            if let index = interned[key] { return index }
            let index = Int32(listStart.count)
            interned[key] = index
            listStart.append(Int32(listEdges.count))
            listLength.append(UInt16(key.count))
            listEdges += key
            return index
        }
        var perLocation: [[Int32]] = []
        var fallback: [Int32] = []
        var perOverride: [[Int32]] = []
        // Many locations share coordinates (or codes): each distinct one is ordered once.
        let places = geo.map { geo in
            LocationGroups(locations: geo.locations,
                           coordinates: pools.contains { $0.policy == .nearest },
                           codes: pools.contains { $0.policy != .nearest })
        }
        var scratch = [UInt16]()
        for pool in pools {
            let order = PoolOrdering(pool: pool, edges: edges)
            fallback.append(intern(order.fallback()))
            var lists: [Int32] = []
            if let places {
                // -1: the location does not decide (no coordinates for `nearest`, no
                // matching key for `map`) and the fallback applies.
                let perGroup: [Int32]
                let groupOf: [Int32]
                switch pool.policy {
                case .nearest:
                    groupOf = places.coordinateGroup
                    perGroup = places.coordinates.map { place in
                        order.nearest(latitude: place.latitude, longitude: place.longitude, into: &scratch)
                        return intern(scratch)
                    }
                case .map:
                    groupOf = places.codeGroup
                    perGroup = places.codes.map { order.list(for: $0).map(intern) ?? -1 }
                }
                lists = groupOf.map { $0 >= 0 ? perGroup[Int($0)] : -1 }
            }
            perLocation.append(lists)
            perOverride.append(self.overrides.map { override in
                switch override.target {
                case .edges(let chosen):
                    let inPool = chosen.filter { pool.edges.contains($0) }
                    return inPool.isEmpty ? fallback.last! : intern(inPool)
                case .location(let latitude, let longitude):
                    let location = GeoLocation(latitude: latitude, longitude: longitude, hasCoordinates: true)
                    return order.list(for: location).map(intern) ?? fallback.last!
                }
            })
        }
        self.listEdges = listEdges
        self.listStart = listStart
        self.listLength = listLength
        self.fallbackList = fallback
        self.listForOverride = perOverride
        self.answerData = AnswerData(edges: edges, pools: pools)
        var memo: [Int32] = []
        self.poolTries = pools.indices.map { pool in
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
    /// of the pool's own trie; the scope is the widest network with the same answer.
    /// Allocation-free.
    @inline(__always)
    public func route(pool: Int, client: ClientAddress) -> (list: Int32, scope: Int) {
        for (index, override) in overrides.enumerated() where override.contains(client) {
            return (listForOverride[pool][index], override.prefixLength)
        }
        guard let trie = poolTries[pool] else { return (fallbackList[pool], 0) }
        let found = trie.lookup(client)
        return found.list >= 0 ? found : (fallbackList[pool], found.scope)
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

/// How one pool orders its edges for a location.
struct PoolOrdering {
    let pool: PoolSpec
    let edges: [EdgeSpec]

    func fallback() -> [Int] {
        switch pool.fallback {
        case .listed: pool.edges
        case .edges(let list): list + pool.edges.filter { !list.contains($0) }
        case .location(let latitude, let longitude): byDistance(latitude: latitude, longitude: longitude)
        }
    }

    /// nil when the location does not decide (no coordinates for `nearest`).
    func list(for location: GeoLocation) -> [Int]? {
        switch pool.policy {
        case .nearest:
            guard location.hasCoordinates else { return nil }
            return byDistance(latitude: location.latitude, longitude: location.longitude)
        case .map(let entries):
            var keys: [String] = []
            if let country = location.countryCode {
                if let subdivision = location.subdivisionCode { keys.append("\(country)-\(subdivision)") }
                keys.append(country)
            }
            if let continent = location.continentCode { keys.append(continent) }
            keys.append("default")
            for key in keys {
                if let entry = entries.first(where: { $0.key == key }) { return entry.edges }
            }
            return nil
        }
    }

    /// `byDistance` for the load's hundreds of thousands of places: the same order from the
    /// same arithmetic, written into `order` without allocating.
    func nearest(latitude: Double, longitude: Double, into order: inout [UInt16]) {
        order.removeAll(keepingCapacity: true)
        let count = pool.edges.count
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, count)) { distances in
            let radians = Double.pi / 180
            let cosine = cos(latitude * radians)
            for position in 0..<count {
                let edge = edges[pool.edges[position]]
                distances[position] = greatCircleKilometres(latitude, longitude, cosine, edge.latitude, edge.longitude)
                // Insertion sort by (distance, position): a pool has a handful of edges.
                var at = order.count
                order.append(UInt16(position))
                while at > 0 && distances[Int(order[at - 1])] > distances[position] {
                    order[at] = order[at - 1]
                    at -= 1
                }
                order[at] = UInt16(position)
            }
        }
        for index in order.indices { order[index] = UInt16(pool.edges[Int(order[index])]) }
    }

    func byDistance(latitude: Double, longitude: Double) -> [Int] {
        pool.edges.enumerated().map { (position, edge) in
            (edge, greatCircleKilometres(latitude, longitude, edges[edge].latitude, edges[edge].longitude), position)
        }
        .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2 }
        .map(\.0)
    }
}

/// Haversine distance on a sphere of the Earth's mean radius (6371.0088 km).
public func greatCircleKilometres(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    greatCircleKilometres(lat1, lon1, cos(lat1 * (Double.pi / 180)), lat2, lon2)
}

/// The same with the first point's cosine of latitude computed once by the caller.
@inline(__always)
func greatCircleKilometres(_ lat1: Double, _ lon1: Double, _ cosine1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    let radians = Double.pi / 180
    let dLat = (lat2 - lat1) * radians
    let dLon = (lon2 - lon1) * radians
    let a = sinHalfSquared(dLat) + cosine1 * cos(lat2 * radians) * sinHalfSquared(dLon)
    return 2 * 6371.0088 * asin(min(1, a.squareRoot()))
}

/// Locations grouped by what routing reads from them: coordinates for `nearest` pools and
/// codes for `map` pools. A City database has far fewer distinct ones than records.
struct LocationGroups {
    /// One location per group, and each location's group (-1 without coordinates).
    var coordinates: [GeoLocation] = []
    var coordinateGroup: [Int32] = []
    var codes: [GeoLocation] = []
    var codeGroup: [Int32] = []

    init(locations: [GeoLocation], coordinates wantCoordinates: Bool, codes wantCodes: Bool) {
        if wantCoordinates {
            var seen = DistinctIndex(capacity: locations.count / 2)
            coordinateGroup = locations.map { location in
                guard location.hasCoordinates else { return -1 }
                let hash = location.latitude.bitPattern &* 0xBF58_476D_1CE4_E5B9 ^ location.longitude.bitPattern
                let group = coordinates.withUnsafeBufferPointer { known in
                    seen.index(hash: hash, next: UInt32(known.count)) {
                        known[Int($0)].latitude.bitPattern == location.latitude.bitPattern
                            && known[Int($0)].longitude.bitPattern == location.longitude.bitPattern
                    }
                }
                if group == coordinates.count { coordinates.append(location) }
                return Int32(group)
            }
        }
        if wantCodes {
            var seen = DistinctIndex(capacity: 1 << 12)
            codeGroup = locations.map { location in
                let key = UInt64(location.country) << 48 | UInt64(location.continent) << 32 | UInt64(location.subdivision)
                let group = codes.withUnsafeBufferPointer { known in
                    seen.index(hash: key, next: UInt32(known.count)) {
                        let other = known[Int($0)]
                        return other.country == location.country && other.continent == location.continent && other.subdivision == location.subdivision
                    }
                }
                if group == codes.count { codes.append(location) }
                return Int32(group)
            }
        }
    }
}

@inline(__always) func sinHalfSquared(_ x: Double) -> Double {
    let s = sin(x / 2)
    return s * s
}

/// What a dynamic answer reads from its edges and pool, in flat arrays of plain values:
/// the query path copies no `EdgeSpec` (whose strings and nested arrays would each be
/// retained and released per query). A class, so that holding it is one reference.
public final class AnswerData: Sendable {
    /// IPv4 addresses, IPv6 addresses and CNAME targets (wire form), back to back.
    public let bytes: [UInt8]
    /// Per edge and kind (`AnswerKind` order: IPv4, IPv6, CNAME): where its data starts in
    /// `bytes` and how many records it makes.
    let starts: [Int32]
    let counts: [Int32]
    /// For CNAME targets: the name's length.
    let cnameLengths: [Int32]
    /// Per pool: `answers`, and whether all-down means SERVFAIL.
    let poolAnswers: [Int]
    let poolServfail: [Bool]

    init(edges: [EdgeSpec], pools: [PoolSpec]) {
        var bytes: [UInt8] = []
        var starts: [Int32] = []
        var counts: [Int32] = []
        var cnameLengths: [Int32] = []
        for edge in edges {
            starts.append(Int32(bytes.count))
            counts.append(Int32(edge.ipv4.count))
            for address in edge.ipv4 { bytes += address }
            starts.append(Int32(bytes.count))
            counts.append(Int32(edge.ipv6.count))
            for address in edge.ipv6 { bytes += address }
            starts.append(Int32(bytes.count))
            counts.append(edge.cname == nil ? 0 : 1)
            cnameLengths.append(Int32(edge.cname?.wire.count ?? 0))
            bytes += edge.cname?.wire ?? []
        }
        self.bytes = bytes
        self.starts = starts
        self.counts = counts
        self.cnameLengths = cnameLengths
        self.poolAnswers = pools.map(\.answers)
        self.poolServfail = pools.map(\.servfailWhenAllDown)
    }

    @inline(__always)
    static func slot(_ edge: Int, _ kind: AnswerKind) -> Int {
        switch kind {
        case .ipv4: edge * 3
        case .ipv6: edge * 3 + 1
        case .cname: edge * 3 + 2
        }
    }

    /// How many records `edge` gives for `kind`, and where their data starts in `bytes`.
    @inline(__always)
    public func records(of edge: Int, _ kind: AnswerKind) -> (start: Int, count: Int) {
        let slot = Self.slot(edge, kind)
        return (Int(starts[slot]), Int(counts[slot]))
    }

    /// The length of `edge`'s CNAME target in `bytes`.
    @inline(__always)
    public func cnameLength(of edge: Int) -> Int { Int(cnameLengths[edge]) }
}
