import MeridianWire

/// Which record kind an answer needs from an edge.
public enum AnswerKind: Sendable {
    case ipv4
    case ipv6
    case cname
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
    /// Per pool: the prefix lengths a shed decision sticks to, IPv4 then IPv6.
    let poolShedPrefixes: [Int]
    /// Per pool: the TTL of answers moved by load, or -1 for half the record's TTL.
    public let poolLoadTTL: [Int64]
    /// Per edge: the key of the shed hash, from the edge's name alone, so every node and
    /// every restart sheds the same client networks.
    let edgeShedKeys: [UInt64]

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
        self.poolShedPrefixes = pools.flatMap { [$0.shedPrefixIPv4, $0.shedPrefixIPv6] }
        self.poolLoadTTL = pools.map { $0.loadTTL.map(Int64.init) ?? -1 }
        self.edgeShedKeys = edges.map { ShedHash.key(edgeName: $0.name) }
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
