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
    /// The SOA record of negative answers, ready to copy (see `NegativeSOA`).
    let negativeSOA: NegativeSOA?
    /// DNSSEC signatures and NSEC records, for a signed zone (``signed(by:dynamicTypes:)``).
    public let signatures: ZoneSignatures?

    /// Everything of the negative answers' SOA record after its owner, with its two names
    /// cut before the origin and ending in a pointer to be aimed at the origin's labels in
    /// the question. NXDOMAIN and NODATA then cost a copy and three pointers instead of
    /// compressing three names. Absent when a name does not end in the origin.
    struct NegativeSOA: Sendable {
        let bytes: [UInt8]
        /// Offsets in `bytes` of the pointers to the origin.
        let pointers: (Int, Int)
        /// The lowercase label just above the origin in each name (with its length byte;
        /// empty for the origin itself). A question with the same label there shares more
        /// than the origin with that name, and plain compression does better than the copy.
        let labelsAboveOrigin: ([UInt8], [UInt8])
    }

    package struct Node: Sendable {
        package var firstRRset: Int32
        package var rrsetCount: Int32
        package var flags: Flags

        package init(firstRRset: Int32, rrsetCount: Int32, flags: Flags) {
            self.firstRRset = firstRRset
            self.rrsetCount = rrsetCount
            self.flags = flags
        }

        package struct Flags: OptionSet, Sendable {
            package var rawValue: UInt8
            package init(rawValue: UInt8) { self.rawValue = rawValue }
            /// A zone cut: NS here, not the apex.
            package static let delegation = Flags(rawValue: 1)
            package static let apex = Flags(rawValue: 2)
            /// At or below a zone cut: glue and other non-authoritative data.
            package static let belowCut = Flags(rawValue: 4)
        }
    }

    package struct RRSet: Sendable {
        package var type: RRType
        package var ttl: UInt32
        package var firstRData: Int32
        package var rdataCount: Int32
        /// For DYNA/DYNC: the pool's index in the routing table.
        package var pool: Int32 = -1

        package init(type: RRType, ttl: UInt32, firstRData: Int32, rdataCount: Int32, pool: Int32) {
            self.type = type
            self.ttl = ttl
            self.firstRData = firstRData
            self.rdataCount = rdataCount
            self.pool = pool
        }
    }

    package struct RData: Sendable {
        package var offset: Int32
        package var length: Int32
        /// Node whose A/AAAA go in the additional section (MX, SRV, NS targets), or -1.
        package var additionalNode: Int32

        package init(offset: Int32, length: Int32, additionalNode: Int32) {
            self.offset = offset
            self.length = length
            self.additionalNode = additionalNode
        }
    }

    /// For the zone builder, which freezes validated zone-file records into these arrays.
    package init(origin: DNSName, serial: UInt32, recordCount: Int, names: NameTable, nodes: [Node], rrsets: [RRSet],
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
        self.negativeSOA = soaRRset < 0 ? nil : Self.negativeSOA(rdata: rdatas[Int(rrsets[soaRRset].firstRData)], bytes: rdataBytes,
                                                                origin: origin.wire, ttl: negativeTTL)
        self.signatures = nil
    }

    /// `other` with DNSSEC material.
    init(copying other: Zone, signatures: ZoneSignatures) {
        origin = other.origin
        originLabelCount = other.originLabelCount
        serial = other.serial
        recordCount = other.recordCount
        names = other.names
        nodes = other.nodes
        rrsets = other.rrsets
        rdatas = other.rdatas
        rdataBytes = other.rdataBytes
        apexNode = other.apexNode
        soaRRset = other.soaRRset
        negativeTTL = other.negativeTTL
        hasDelegations = other.hasDelegations
        hasWildcards = other.hasWildcards
        negativeSOA = other.negativeSOA
        self.signatures = signatures
    }

    private static func negativeSOA(rdata: RData, bytes: [UInt8], origin: [UInt8], ttl: UInt32) -> NegativeSOA? {
        let soa = Array(bytes[Int(rdata.offset)..<Int(rdata.offset + rdata.length)])
        var rdataOut: [UInt8] = []
        var pointers: [Int] = []
        var above: [[UInt8]] = []
        var offset = 0
        for _ in 0..<2 {
            var end = offset
            var labelStarts: [Int] = []
            while end < soa.count && soa[end] != 0 {
                labelStarts.append(end)
                end += 1 + Int(soa[end])
            }
            guard end < soa.count else { return nil }
            let name = soa[offset...end]
            let cut = end + 1 - origin.count
            guard cut >= offset, cut == end || labelStarts.contains(cut),
                  zip(soa[cut...end], origin).allSatisfy({ asciiLowercase($0) == $1 }) else { return nil }
            rdataOut += name.prefix(cut - offset)
            let last = labelStarts.last { $0 < cut }
            above.append(last.map { soa[$0..<cut].map(asciiLowercase) } ?? [])
            pointers.append(10 + rdataOut.count)
            rdataOut += [0xC0, 0]
            offset = end + 1
        }
        // Names sharing a label above the origin compress better against each other.
        guard soa.count - offset == 20, above[0].isEmpty || above[0] != above[1] else { return nil }
        rdataOut += soa[offset...]
        var record: [UInt8] = [0, UInt8(RRType.soa.rawValue), 0, 1]
        record += [UInt8(ttl >> 24), UInt8((ttl >> 16) & 0xFF), UInt8((ttl >> 8) & 0xFF), UInt8(ttl & 0xFF)]
        record += [UInt8(rdataOut.count >> 8), UInt8(rdataOut.count & 0xFF)]
        return NegativeSOA(bytes: record + rdataOut, pointers: (pointers[0], pointers[1]), labelsAboveOrigin: (above[0], above[1]))
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
    /// The longest origin in wire form: longer suffixes of a query name need no lookup.
    let longestOrigin: Int
    /// Largest UDP payload advertised to EDNS clients (`dns.udp_payload`).
    public let udpPayloadSize: Int
    public let routing: RoutingTable
    public let health: HealthTable
    /// `geoip.client_subnet`: locate clients by their ECS option when they send one.
    public let useClientSubnet: Bool
    /// `rrl`: response rate limiting of UDP answers.
    public let rateLimit: RateLimitPolicy
    /// What server cookies are made and checked with; `nil` when cookies are off and the
    /// COOKIE option is ignored like any unknown option.
    public let cookieSecrets: CookieSecrets?

    public init(zones: [Zone], udpPayloadSize: Int = 1232, routing: RoutingTable = .empty,
                health: HealthTable? = nil, useClientSubnet: Bool = true, rateLimit: RateLimitPolicy = .off,
                cookieSecrets: CookieSecrets? = nil) {
        self.zones = zones
        self.apexes = NameTable(names: zones.map(\.origin.wire))
        self.longestOrigin = zones.map(\.origin.wire.count).max() ?? 0
        self.udpPayloadSize = udpPayloadSize
        self.routing = routing
        self.health = health ?? .allUp(edges: routing.edges.count)
        self.useClientSubnet = useClientSubnet
        self.rateLimit = rateLimit
        self.cookieSecrets = cookieSecrets
    }

    private init(copying other: AuthoritySnapshot, health: HealthTable) {
        self.zones = other.zones
        self.apexes = other.apexes
        self.longestOrigin = other.longestOrigin
        self.udpPayloadSize = other.udpPayloadSize
        self.routing = other.routing
        self.health = health
        self.useClientSubnet = other.useClientSubnet
        self.rateLimit = other.rateLimit
        self.cookieSecrets = other.cookieSecrets
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
