import MeridianRouting
import MeridianWire

/// One zone, frozen: flat arrays of nodes, RRsets and RDATA built once at load time.
/// Queries only read it, from any thread, without locks.
public final class Zone: Sendable {
    /// Lowercase origin.
    public let origin: DNSName
    public let originLabelCount: Int
    public let serial: UInt32
    /// How many records the zone file held (after removing duplicates).
    public let recordCount: Int
    /// Names of every node, including empty non-terminals; entry i is node i.
    let names: NameTable
    let nodes: [Node]
    let rrsets: [RRSet]
    let rdatas: [RData]
    let rdataBytes: [UInt8]
    let apexNode: Int
    let soaRRset: Int
    /// RFC 2308 section 3: min(SOA TTL, SOA MINIMUM).
    let negativeTTL: UInt32
    let hasDelegations: Bool
    let hasWildcards: Bool

    struct Node: Sendable {
        var firstRRset: Int32
        var rrsetCount: Int32
        var flags: Flags

        struct Flags: OptionSet, Sendable {
            var rawValue: UInt8
            /// A zone cut: NS here, not the apex.
            static let delegation = Flags(rawValue: 1)
            static let apex = Flags(rawValue: 2)
            /// At or below a zone cut: glue and other non-authoritative data.
            static let belowCut = Flags(rawValue: 4)
        }
    }

    struct RRSet: Sendable {
        var type: RRType
        var ttl: UInt32
        var firstRData: Int32
        var rdataCount: Int32
        /// For DYNA/DYNC: the pool's index in the routing table.
        var pool: Int32 = -1
    }

    struct RData: Sendable {
        var offset: Int32
        var length: Int32
        /// Node whose A/AAAA go in the additional section (MX, SRV, NS targets), or -1.
        var additionalNode: Int32
    }

    init(origin: DNSName, serial: UInt32, recordCount: Int, names: NameTable, nodes: [Node], rrsets: [RRSet],
         rdatas: [RData], rdataBytes: [UInt8], apexNode: Int, soaRRset: Int, negativeTTL: UInt32) {
        self.origin = origin
        self.originLabelCount = origin.labelCount
        self.serial = serial
        self.recordCount = recordCount
        self.names = names
        self.nodes = nodes
        self.rrsets = rrsets
        self.rdatas = rdatas
        self.rdataBytes = rdataBytes
        self.apexNode = apexNode
        self.soaRRset = soaRRset
        self.negativeTTL = negativeTTL
        self.hasDelegations = nodes.contains { $0.flags.contains(.delegation) }
        self.hasWildcards = (0..<names.count).contains { index in names.withName(index) { $0.count > 2 && $0[0] == 1 && $0[1] == UInt8(ascii: "*") } }
    }

    /// Index of the node's RRset of `type`, or -1.
    @inline(__always)
    func rrset(of node: Int, type: RRType) -> Int {
        let entry = nodes[node]
        var index = Int(entry.firstRRset)
        let end = index + Int(entry.rrsetCount)
        while index < end {
            if rrsets[index].type == type { return index }
            index += 1
        }
        return -1
    }
}

/// Everything a query reads, frozen together: zones, routing and the edges' health. A
/// reload builds a new one and swaps it in; a health change makes a copy with a new
/// health table that shares the rest.
public final class AuthoritySnapshot: Sendable {
    public let zones: [Zone]
    let apexes: NameTable
    /// Largest UDP payload advertised to EDNS clients (`dns.udp_payload`).
    public let udpPayloadSize: Int
    public let routing: RoutingTable
    public let health: HealthTable
    /// `geoip.client_subnet`: locate clients by their ECS option when they send one.
    public let useClientSubnet: Bool

    public init(zones: [Zone], udpPayloadSize: Int = 1232, routing: RoutingTable = .empty,
                health: HealthTable? = nil, useClientSubnet: Bool = true) {
        self.zones = zones
        self.apexes = NameTable(names: zones.map(\.origin.wire))
        self.udpPayloadSize = udpPayloadSize
        self.routing = routing
        self.health = health ?? .allUp(edges: routing.edges.count)
        self.useClientSubnet = useClientSubnet
    }

    private init(copying other: AuthoritySnapshot, health: HealthTable) {
        self.zones = other.zones
        self.apexes = other.apexes
        self.udpPayloadSize = other.udpPayloadSize
        self.routing = other.routing
        self.health = health
        self.useClientSubnet = other.useClientSubnet
    }

    /// The same data with another health table.
    public func with(health: HealthTable) -> AuthoritySnapshot {
        AuthoritySnapshot(copying: self, health: health)
    }

    public static let empty = AuthoritySnapshot(zones: [])

    /// The zone for a lowercase origin, if served.
    public func zone(named origin: DNSName) -> Zone? {
        let index = origin.lowercased.wire.withUnsafeBytes { apexes.find($0) }
        return index >= 0 ? zones[index] : nil
    }
}
