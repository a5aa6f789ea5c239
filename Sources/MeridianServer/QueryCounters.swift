import MeridianAuthority
import MeridianWire

/// One answering context's counters, summed when someone asks (single writer, no atomics;
/// gdnsd's `stats.h` idea). Arrays are sized once, so counting never allocates.
public struct QueryCounters: Sendable {
    public var udpQueries = 0
    public var tcpQueries = 0
    public var dropped = 0
    public var truncated = 0
    /// By response code value (0...15 header codes, 16 BADVERS).
    public var byRCode = [Int](repeating: 0, count: 17)
    /// By query type, for `QueryCounters.countedTypes`; the last slot is every other type.
    public var byQType = [Int](repeating: 0, count: QueryCounters.countedTypes.count + 1)
    /// Response time histogram: counts per `responseBuckets` upper bound, the last slot +Inf.
    public var responseTimes = [Int](repeating: 0, count: QueryCounters.responseBuckets.count + 1)
    public var responseNanoseconds = 0
    /// Dynamic answers per edge index of the loop's current routing table.
    public var edgeAnswers: [Int] = []
    /// Dynamic answers moved away from each edge (by index) because it sheds load.
    public var edgeShed: [Int] = []
    /// Dynamic answers per pool index.
    public var poolAnswers: [Int] = []
    /// UDP responses over their rate limit, by `ResponseClass` raw value; each was then
    /// either slipped (sent as an empty TC=1 answer) or dropped.
    public var rateLimited = [Int](repeating: 0, count: ResponseClass.allCases.count)
    public var rateLimitSlipped = 0
    public var rateLimitDropped = 0
    /// Answered queries by what their COOKIE option was (RFC 7873).
    public var cookiesValid = 0
    public var cookiesClientOnly = 0
    public var cookiesInvalid = 0
    public var cookiesMalformed = 0
    /// DNS over TCP connections: admitted, closed, refused at accept, closed to make room.
    public var tcpAccepted = 0
    public var tcpClosed = 0
    public var tcpRefused = 0
    public var tcpEvicted = 0
    /// Answers with DNSSEC records, and signatures made for them when asked (cache misses).
    public var signedAnswers = 0
    public var signaturesMade = 0
    /// Query log messages dropped because this thread's ring was full (the log's reader is slow).
    public var queryLogDropped = 0

    public static let countedTypes: [RRType] = [.a, .aaaa, .ns, .cname, .soa, .ptr, .mx, .txt, .srv, .naptr, .caa, .ds,
                                                .dnskey, RRType(64), RRType(65), .any]
    /// `countedTypes` index by type value, for values below 512 (CAA is 257); copied into
    /// each counter so the query path reads no global.
    private static let slotTable: [UInt8] = {
        var table = [UInt8](repeating: UInt8(countedTypes.count), count: 512)
        for (index, type) in countedTypes.enumerated() { table[Int(type.rawValue)] = UInt8(index) }
        return table
    }()
    private let typeSlots = QueryCounters.slotTable
    /// Upper bounds in seconds, from 2 µs to 10 ms.
    public static let responseBuckets: [Double] = [0.000002, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                                   0.0005, 0.001, 0.0025, 0.01]
    static let bucketNanoseconds: [Int] = responseBuckets.map { Int($0 * 1e9) }

    init(edges: Int = 0, pools: Int = 0) {
        edgeAnswers = [Int](repeating: 0, count: edges)
        edgeShed = [Int](repeating: 0, count: edges)
        poolAnswers = [Int](repeating: 0, count: pools)
    }

    @inline(__always)
    mutating func count(_ outcome: Outcome, transport: Transport, chosen: UnsafeMutablePointer<UInt16>) {
        if transport == .udp { udpQueries += 1 } else { tcpQueries += 1 }
        guard outcome.length > 0 else {
            dropped += 1
            return
        }
        if outcome.truncated { truncated += 1 }
        if outcome.signed {
            signedAnswers += 1
            signaturesMade += Int(outcome.signaturesMade)
        }
        switch outcome.cookie {
        case .absent: break
        case .valid: cookiesValid += 1
        case .clientOnly: cookiesClientOnly += 1
        case .invalid: cookiesInvalid += 1
        case .malformed: cookiesMalformed += 1
        }
        byRCode[min(Int(outcome.rcode.rawValue), 16)] += 1
        let type = Int(outcome.qtype.rawValue)
        byQType[type < typeSlots.count ? Int(typeSlots[type]) : byQType.count - 1] += 1
        if outcome.pool >= 0 {
            if Int(outcome.pool) < poolAnswers.count { poolAnswers[Int(outcome.pool)] += 1 }
            for position in 0..<Int(outcome.edgesChosen) {
                let edge = Int(chosen[position])
                if edge < edgeAnswers.count { edgeAnswers[edge] += 1 }
            }
            if outcome.shedEdge >= 0 && Int(outcome.shedEdge) < edgeShed.count { edgeShed[Int(outcome.shedEdge)] += 1 }
        }
    }

    /// Records `queries` answers that took `nanoseconds` each from arrival to reply. A UDP
    /// batch's answers leave together, so one clock reading serves the whole batch.
    @inline(__always)
    mutating func countResponseTime(nanoseconds: Int, queries: Int) {
        var bucket = Self.bucketNanoseconds.count
        for (index, bound) in Self.bucketNanoseconds.enumerated() where nanoseconds <= bound {
            bucket = index
            break
        }
        responseTimes[bucket] += queries
        responseNanoseconds += nanoseconds * queries
    }

    /// Adds another loop's counters; per-edge and per-pool slots only when both loops
    /// serve the same routing table.
    public mutating func add(_ other: QueryCounters) {
        udpQueries += other.udpQueries
        signedAnswers += other.signedAnswers
        signaturesMade += other.signaturesMade
        tcpQueries += other.tcpQueries
        dropped += other.dropped
        truncated += other.truncated
        cookiesValid += other.cookiesValid
        cookiesClientOnly += other.cookiesClientOnly
        cookiesInvalid += other.cookiesInvalid
        cookiesMalformed += other.cookiesMalformed
        tcpAccepted += other.tcpAccepted
        tcpClosed += other.tcpClosed
        tcpRefused += other.tcpRefused
        tcpEvicted += other.tcpEvicted
        for index in byRCode.indices { byRCode[index] += other.byRCode[index] }
        for index in byQType.indices { byQType[index] += other.byQType[index] }
        for index in responseTimes.indices { responseTimes[index] += other.responseTimes[index] }
        responseNanoseconds += other.responseNanoseconds
        for index in rateLimited.indices { rateLimited[index] += other.rateLimited[index] }
        rateLimitSlipped += other.rateLimitSlipped
        rateLimitDropped += other.rateLimitDropped
        queryLogDropped += other.queryLogDropped
        if edgeAnswers.count == other.edgeAnswers.count {
            for index in edgeAnswers.indices { edgeAnswers[index] += other.edgeAnswers[index] }
        }
        if edgeShed.count == other.edgeShed.count {
            for index in edgeShed.indices { edgeShed[index] += other.edgeShed[index] }
        }
        if poolAnswers.count == other.poolAnswers.count {
            for index in poolAnswers.indices { poolAnswers[index] += other.poolAnswers[index] }
        }
    }

    public var queries: Int { udpQueries + tcpQueries }
}
