#if canImport(Glibc)
import Glibc
#endif
import MeridianAuthority
import MeridianRouting
import MeridianWire
import NIOConcurrencyHelpers

/// Everything one answering thread needs, the same for a UDP and a TCP worker: the snapshot
/// it serves, the responder's scratch memory, and its own counters. Only its own thread
/// touches those, so a query takes no lock and shares no cache line; others reach it through
/// the publisher (new snapshots) and through a copy of the counters it shares a few times a
/// second.
public final class AnsweringContext: @unchecked Sendable {
    let name: String
    /// Position in the publisher's list, for acknowledgements.
    let index: Int
    private let publisher: SnapshotPublisher

    // Owned by the answering thread.
    package private(set) var snapshot: AuthoritySnapshot {
        didSet { serving = snapshot }
    }
    /// `snapshot` again, for the query path: `snapshot` keeps it alive, and reading it
    /// through this costs no retain and release per query.
    private unowned(unsafe) var serving: AuthoritySnapshot
    private var generation: Int
    let scratch = ResponderScratch()
    private var counters: QueryCounters
    private var lastShared = 0
    /// Response rate limiting's buckets, shared by every context of the process.
    private let rateLimits: RateLimitTable
    /// Responses this context limited so far, for slipping every `slip`-th one.
    private var limitedCount = 0
    /// The query log, and this context's ring in it.
    private let queryLog: QueryLog
    private let queryLogRing: QueryLogRing
    /// xorshift64 state for sampling the query log; never zero.
    private var sampleState: UInt64

    /// Read by anyone, under its lock.
    private let shared: NIOLockedValueBox<SharedCounts>

    /// How often an answering thread copies its counters for readers.
    package static let shareInterval = 100_000_000

    init(name: String, index: Int, publisher: SnapshotPublisher, generation: Int, snapshot: AuthoritySnapshot,
         rateLimits: RateLimitTable, queryLog: QueryLog) {
        self.name = name
        self.queryLog = queryLog
        self.queryLogRing = queryLog.makeRing()
        self.sampleState = UInt64.random(in: 1...UInt64.max)
        self.rateLimits = rateLimits
        self.index = index
        self.publisher = publisher
        self.generation = generation
        self.snapshot = snapshot
        self.serving = snapshot
        let counters = QueryCounters(edges: snapshot.routing.edges.count, pools: snapshot.routing.pools.count)
        self.counters = counters
        self.shared = NIOLockedValueBox(SharedCounts(counters: counters, routing: snapshot.routing))
    }

    // MARK: On the answering thread

    /// Answers one query into `output` and counts it; the outcome's length 0 means drop.
    /// UDP answers pass response rate limiting, which reads the clock as `now` (monotonic
    /// nanoseconds; a UDP worker's batch shares one reading).
    @inline(__always)
    package func answer(_ query: UnsafeRawBufferPointer, from client: ClientAddress, over transport: Transport,
                        into output: UnsafeMutableRawBufferPointer, now: Int = 0) -> Outcome {
        var outcome = Responder.respond(to: query, from: client, over: transport, using: serving, scratch: scratch, into: output)
        // After the responder: the limit depends on the class and size of the answer. TCP is
        // never limited (its source cannot be spoofed), nor is a client that proved its
        // address with a server cookie.
        if transport == .udp && outcome.length > 0 && serving.rateLimit.isEnabled && !outcome.hasValidServerCookie {
            outcome = rateLimit(outcome, client: client, response: output, now: now)
        }
        counters.count(outcome, transport: transport, chosen: scratch.chosenEdges)
        return outcome
    }

    /// The response as it may go out: unchanged while its bucket has room, else dropped, or
    /// every `slip`-th time cut down to a TC=1 answer that sends a real client to TCP.
    @inline(__always)
    private func rateLimit(_ outcome: Outcome, client: ClientAddress, response: UnsafeMutableRawBufferPointer, now: Int) -> Outcome {
        let policy = snapshot.rateLimit
        if policy.exempts(client) { return outcome }
        let responseClass = outcome.responseClass
        // The packet's source, never the ECS address: the source is whom a reflected flood hits.
        let key = RateLimitKey.of(outcome, class: responseClass, network: policy.network(of: client), response: response,
                                  seed: rateLimits.seed)
        let interval = UInt64(1_000_000 / policy.rate)
        // The burst is one second's worth, as in BIND: a bucket holds `rate` responses.
        let tolerance = UInt64(policy.rate - 1) * interval
        if rateLimits.admit(key: key, now: UInt64(now / 1_000), interval: interval, tolerance: tolerance) { return outcome }
        counters.rateLimited[Int(responseClass.rawValue)] += 1
        limitedCount += 1
        guard policy.slip > 0 && limitedCount % policy.slip == 0 else {
            counters.rateLimitDropped += 1
            return .dropped
        }
        counters.rateLimitSlipped += 1
        return RateLimitSlip.truncate(outcome, response: response)
    }

    /// What the query log takes now: read once per UDP batch or TCP read.
    @inline(__always)
    var queryLogMode: QueryLog.Mode { queryLog.mode }

    /// Copies one exchange to the query log when it is sampled: the query as received and
    /// `response` as sent (empty when none was). A full ring drops it and counts the drop;
    /// the answer never waits for the log.
    @inline(__always)
    func logExchange(_ mode: QueryLog.Mode, query: UnsafeRawBufferPointer, response: UnsafeRawBufferPointer, client: ClientAddress,
                     port: UInt16, over transport: Transport, queryTime: Int64, responseTime: Int64) {
        if mode.sampleThreshold != 0 {
            sampleState ^= sampleState << 13
            sampleState ^= sampleState >> 7
            sampleState ^= sampleState << 17
            guard sampleState >> 32 < mode.sampleThreshold else { return }
        }
        let logsQuery = mode.queries
        let logsResponse = mode.responses && !response.isEmpty
        guard logsQuery || logsResponse else { return }
        var flags: QueryLogRecord.Flags = transport == .tcp ? .tcp : []
        if logsQuery { flags.insert(.query) }
        if logsResponse { flags.insert(.response) }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        if !queryLogRing.append(flags: flags, client: client, port: port, queryTime: queryTime, responseTime: responseTime,
                                query: logsQuery ? query : empty, response: logsResponse ? response : empty) {
            counters.queryLogDropped += (logsQuery ? 1 : 0) + (logsResponse ? 1 : 0)
        }
    }

    /// Counts what happened to a TCP connection of this context's worker.
    func countTCP(_ event: TCPConnectionEvent) {
        switch event {
        case .accepted: counters.tcpAccepted += 1
        case .closed: counters.tcpClosed += 1
        case .refused: counters.tcpRefused += 1
        case .evicted: counters.tcpEvicted += 1
        }
    }

    /// Gives the responder the time for server cookies and signature expiry: once per UDP
    /// batch or TCP query, the one place the answering path reads the wall clock.
    @inline(__always)
    package func readWallClock() {
        scratch.unixTime = unixSeconds()
    }

    /// Records `answers` answers that each took `nanoseconds` from arrival to reply.
    @inline(__always)
    package func recordResponseTime(nanoseconds: Int, answers: Int) {
        counters.countResponseTime(nanoseconds: nanoseconds, queries: answers)
    }

    /// Takes the newest snapshot if one was published since the last checkpoint: an atomic
    /// load when nothing changed.
    @inline(__always)
    package func checkpoint() {
        if publisher.generation != generation { takeNewest() }
    }

    @inline(never)
    private func takeNewest() {
        let (newest, next) = publisher.newest()
        install(next)
        generation = newest
        publisher.acknowledge(self, generation: newest)
    }

    /// Serves `next` from now on. Answers counted per edge and pool index of a routing table
    /// that goes away are kept by name, so a reload loses none of them.
    func install(_ next: AuthoritySnapshot) {
        let old = snapshot.routing
        snapshot = next
        guard next.routing !== old else { return }
        let edgeCounts = counters.edgeAnswers
        let shedCounts = counters.edgeShed
        let poolCounts = counters.poolAnswers
        counters.edgeAnswers = [Int](repeating: 0, count: next.routing.edges.count)
        counters.edgeShed = [Int](repeating: 0, count: next.routing.edges.count)
        counters.poolAnswers = [Int](repeating: 0, count: next.routing.pools.count)
        let copy = counters
        shared.withLockedValue { shared in
            for (edge, count) in edgeCounts.enumerated() where count > 0 { shared.retiredEdges[old.edges[edge].name, default: 0] += count }
            for (edge, count) in shedCounts.enumerated() where count > 0 { shared.retiredShed[old.edges[edge].name, default: 0] += count }
            for (pool, count) in poolCounts.enumerated() where count > 0 { shared.retiredPools[old.pools[pool].name, default: 0] += count }
            shared.counters = copy
            shared.routing = next.routing
        }
    }

    /// Copies the counters for readers when the last copy is older than `shareInterval`.
    @inline(__always)
    package func shareCountersIfDue(now: Int) {
        if now - lastShared >= Self.shareInterval { shareCounters(now: now) }
    }

    package func shareCounters(now: Int = monotonicNanoseconds()) {
        lastShared = now
        let copy = counters
        let routing = snapshot.routing
        shared.withLockedValue {
            $0.counters = copy
            $0.routing = routing
        }
    }

    // MARK: From any thread

    /// The counters as last shared, and the routing table their edge and pool slots refer to.
    var sharedCounts: SharedCounts { shared.withLockedValue { $0 } }
}

/// What an answering context shows readers.
struct SharedCounts: Sendable {
    var counters: QueryCounters
    /// The routing table whose edge and pool indices `counters` counts by.
    var routing: RoutingTable
    /// Answers per edge and pool name from routing tables no longer served.
    var retiredEdges: [String: Int] = [:]
    var retiredShed: [String: Int] = [:]
    var retiredPools: [String: Int] = [:]
}

extension ClientAddress {
    /// The source of a datagram or connection, read from the kernel's `sockaddr_in` or
    /// `sockaddr_in6` (family first, then port; the IPv6 address after the flow label).
    @inline(__always)
    package init(socketAddress raw: UnsafeRawPointer) {
        var octets: (UInt64, UInt64) = (0, 0)
        if Int32(raw.load(as: sa_family_t.self)) == AF_INET6 {
            withUnsafeMutableBytes(of: &octets) { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw + 8, count: 16)) }
            self.init(family: .ipv6, octets: octets)
        } else {
            withUnsafeMutableBytes(of: &octets) { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw + 4, count: 4)) }
            self.init(family: .ipv4, octets: octets)
        }
    }
}
