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
    /// The client network a shed decision sticks to (`shed_prefix`).
    public var shedPrefixIPv4: Int
    public var shedPrefixIPv6: Int
    /// TTL of answers moved by load (`load_ttl`); nil: half the record's TTL.
    public var loadTTL: UInt32?

    public init(name: String, edges: [Int], policy: Policy, answers: Int, fallback: Fallback, servfailWhenAllDown: Bool,
                shedPrefixIPv4: Int = 24, shedPrefixIPv6: Int = 56, loadTTL: UInt32? = nil) {
        self.name = name
        self.edges = edges
        self.policy = policy
        self.answers = answers
        self.fallback = fallback
        self.servfailWhenAllDown = servfailWhenAllDown
        self.shedPrefixIPv4 = shedPrefixIPv4
        self.shedPrefixIPv6 = shedPrefixIPv6
        self.loadTTL = loadTTL
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
        address.family == family
            && address.masked(to: prefixLength) == ClientAddress(family: family, octets: octets).masked(to: prefixLength)
    }

    /// For an address outside this network: the shortest prefix length whose network around
    /// the address does not overlap this one (one bit past what they share); 0 for the other
    /// family. An ECS scope at least this long never claims this network's addresses.
    @inline(__always)
    func separatingPrefix(from address: ClientAddress) -> Int {
        guard address.family == family else { return 0 }
        let high = (address.octets.0 ^ octets.0).bigEndian
        let shared = high != 0 ? high.leadingZeroBitCount : 64 + (address.octets.1 ^ octets.1).bigEndian.leadingZeroBitCount
        return min(shared, prefixLength - 1) + 1
    }
}
