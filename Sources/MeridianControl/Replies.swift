// The replies of the control socket. Their JSON (member names as the Swift properties,
// times as seconds since the Unix epoch, absent optionals left out) is also what
// `dnsctl --json` prints and what the stats port serves under `/api/v1/`, so renaming a
// property changes an interface operators' scripts rely on.

/// Health as the probes see it.
public enum EdgeState: String, Codable, Sendable, Hashable, CaseIterable {
    /// Passing its checks, or an edge without checks (always up).
    case up
    /// Failing its checks (`fall` consecutive failures).
    case down
    /// Checked, but no verdict yet (the first `rise` probes have not all answered). Routing
    /// treats it as up.
    case unknown
}

/// What an operator decided, independent of health.
public enum AdminState: String, Codable, Sendable, Hashable, CaseIterable {
    case active
    /// Treated as down whatever its checks say (`dnsctl drain`), persisted across restarts.
    case drained
}

/// Why a control request could not be carried out: an unknown edge, a name that is not
/// dynamic, a client address that does not parse. `dnsctl` prints `message` and exits with
/// `exitCode`.
public struct ControlFailure: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var message: String
    /// The `dnsctl` exit status: 1 (rejected or unknown) unless the server says otherwise.
    public var exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}

// MARK: - reload

/// The result of `reload`. The server answers only when the new data is being served
/// (`ok`) or has been rejected with the old data still serving (`!ok`).
public struct ReloadReply: Codable, Sendable, Hashable {
    /// The new configuration, zones and database are live.
    public var ok: Bool
    /// What changed, one line each, e.g. `zone inference.example. serial 2026112501 → 2026112502`,
    /// `zone new.example. added (serial 1)`, `edge lhr1 added`, `pool inference changed: edges`.
    /// Empty when nothing changed.
    public var changes: [String]
    /// Things worth knowing that did not stop the reload, e.g. `dns.listen changed: restart
    /// meridian to apply`.
    public var notes: [String]
    /// Zones served although their serial did not increase with their records, or went
    /// backwards, each as `FILE:LINE: message`.
    public var warnings: [String]
    /// Every problem found, each as `FILE:LINE: message` (or `FILE:LINE:COL: message`).
    /// Non-empty exactly when `ok` is false.
    public var errors: [String]

    public init(ok: Bool, changes: [String] = [], notes: [String] = [], warnings: [String] = [], errors: [String] = []) {
        self.ok = ok
        self.changes = changes
        self.notes = notes
        self.warnings = warnings
        self.errors = errors
    }
}

// MARK: - status

/// The result of `status`, and the body of `GET /api/v1/status`.
public struct StatusReply: Codable, Sendable, Hashable {
    public struct Zone: Codable, Sendable, Hashable {
        /// Absolute origin, with the trailing dot.
        public var name: String
        public var serial: UInt32
        /// For a signed zone: its keys (`TAG/ALGORITHM`), the signatures made at load and
        /// when the first of them expires (seconds since 1970).
        public var keys: [String]?
        public var signatures: Int?
        public var signaturesExpire: Double?
        /// Records in the zone, as loaded.
        public var records: Int

        public init(name: String, serial: UInt32, records: Int) {
            self.name = name
            self.serial = serial
            self.records = records
        }
    }

    /// The outcome of the most recent reload (`dnsctl reload` or SIGHUP).
    public struct LastReload: Codable, Sendable, Hashable {
        /// When it finished, in seconds since the Unix epoch.
        public var at: Double
        public var ok: Bool
        /// One line: what changed, or the first error and how many there were.
        public var summary: String

        public init(at: Double, ok: Bool, summary: String) {
            self.at = at
            self.ok = ok
            self.summary = summary
        }
    }

    /// The GeoIP database being served, as compiled at load.
    public struct GeoIP: Codable, Sendable, Hashable {
        public var path: String
        /// The database's `database_type` metadata, e.g. `GeoLite2-City`.
        public var type: String
        /// Nodes of the compiled prefix tree.
        public var nodes: Int
        /// Distinct locations (leaves).
        public var locations: Int
        /// The database's `build_epoch` metadata (seconds since the Unix epoch).
        public var buildEpoch: UInt64

        public init(path: String, type: String, nodes: Int, locations: Int, buildEpoch: UInt64) {
            self.path = path
            self.type = type
            self.nodes = nodes
            self.locations = locations
            self.buildEpoch = buildEpoch
        }
    }

    /// The server's version (`meridian --version`).
    public var version: String
    public var uptimeSeconds: Double
    /// Process start, in seconds since the Unix epoch.
    public var startedAt: Double
    /// Every zone served, in name order.
    public var zones: [Zone]
    /// Queries received per second over the last few seconds.
    public var queriesPerSecond: Double
    /// Queries received since start, over every transport (answered or dropped).
    public var queriesTotal: UInt64
    /// `nil` until the first reload.
    public var lastReload: LastReload?
    /// `nil` when no database is configured.
    public var geoip: GeoIP?
    /// `nil` when the server is not part of a fleet.
    public var fleet: FleetConnection?
    /// The DNS addresses served (`dns.listen`), as `HOST:PORT` with IPv6 in brackets.
    public var listen: [String]
    /// The stats port's address, when there is one.
    public var stats: String?
    /// The dnstap query log; `nil` when none is configured.
    public var queryLog: StatsReply.QueryLog? = nil

    public init(
        version: String, uptimeSeconds: Double, startedAt: Double, zones: [Zone] = [],
        queriesPerSecond: Double = 0, queriesTotal: UInt64 = 0, lastReload: LastReload? = nil, geoip: GeoIP? = nil,
        fleet: FleetConnection? = nil, listen: [String] = [], stats: String? = nil
    ) {
        self.fleet = fleet
        self.listen = listen
        self.stats = stats
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.startedAt = startedAt
        self.zones = zones
        self.queriesPerSecond = queriesPerSecond
        self.queriesTotal = queriesTotal
        self.lastReload = lastReload
        self.geoip = geoip
    }
}

// MARK: - edges

/// The result of `edges`, and the body of `GET /api/v1/edges`.
public struct EdgesReply: Codable, Sendable, Hashable {
    /// One edge: where it is, what it answers with, and what the health checker and the
    /// operator say about it.
    public struct Row: Codable, Sendable, Hashable {
        public var name: String
        /// Pools the edge belongs to, in configuration order.
        public var pools: [String]
        /// `[latitude, longitude]` in degrees.
        public var location: [Double]
        /// A and AAAA answer addresses, in configuration order.
        public var addresses: [String]
        /// Health as the probes see it (`up` for an edge without checks).
        public var state: EdgeState
        public var admin: AdminState
        /// The edge has a health check; `false` for an edge that is always up, whose
        /// `lastCheck`, `latencyMs` and `result` stay absent.
        public var checked: Bool
        /// When the last probe finished, in seconds since the Unix epoch.
        public var lastCheck: Double?
        /// How long the last probe took.
        public var latencyMs: Double?
        /// The last probe's outcome in a few words: `HTTP 200`, `HTTP 503`,
        /// `connection refused`, `timeout after 2s`.
        public var result: String?
        /// When `state` last changed, in seconds since the Unix epoch.
        public var since: Double?
        /// Dynamic answers that included this edge since start.
        public var answers: UInt64
        /// Health state changes since start.
        public var transitions: UInt64

        public init(
            name: String, pools: [String] = [], location: [Double], addresses: [String] = [],
            state: EdgeState, admin: AdminState = .active, checked: Bool, lastCheck: Double? = nil,
            latencyMs: Double? = nil, result: String? = nil, since: Double? = nil, answers: UInt64 = 0, transitions: UInt64 = 0
        ) {
            self.name = name
            self.pools = pools
            self.location = location
            self.addresses = addresses
            self.state = state
            self.admin = admin
            self.checked = checked
            self.lastCheck = lastCheck
            self.latencyMs = latencyMs
            self.result = result
            self.since = since
            self.answers = answers
            self.transitions = transitions
        }

        /// The load feed, for an edge with `load:`.
        public var load: Load?
        /// How the fleet sees the edge, on a fleet node.
        public var fleet: FleetVerdict?
        /// The fleet-wide drain, when the edge has one.
        public var fleetDrain: FleetReply.Drain?
        /// Drained on this node alone.
        public var drainedLocally: Bool?

        /// Routing's view: up and not drained.
        public var isServing: Bool { state != .down && admin == .active }
    }

    /// An edge's load feed: what its signals read and how much of its clients it sheds.
    public struct Load: Codable, Sendable, Hashable {
        public struct Signal: Codable, Sendable, Hashable {
            public var metric: String
            /// The sum over the matching series at the last read.
            public var value: Double?
            /// What this signal alone asks to shed, 0 to 1.
            public var fraction: Double?

            public init(metric: String, value: Double? = nil, fraction: Double? = nil) {
                self.metric = metric
                self.value = value
                self.fraction = fraction
            }
        }

        /// `starting`, `fresh`, `failing` (the last fraction holds) or `stale` (load unknown:
        /// nothing is shed).
        public var feed: String
        /// The share of client networks sent elsewhere, 0 to 1.
        public var shedFraction: Double
        public var signals: [Signal]
        public var failures: UInt64
        public var lastError: String?

        public init(feed: String, shedFraction: Double, signals: [Signal], failures: UInt64 = 0, lastError: String? = nil) {
            self.feed = feed
            self.shedFraction = shedFraction
            self.signals = signals
            self.failures = failures
            self.lastError = lastError
        }
    }

    /// In configuration order.
    public var edges: [Row]

    public init(edges: [Row]) { self.edges = edges }

    /// The fleet's verdict on an edge and what went into it.
    public struct FleetVerdict: Codable, Sendable, Hashable {
        /// Live nodes with a verdict on the edge, this one included.
        public var observers: Int
        /// How many of them see it down.
        public var down: Int
        /// What routing uses.
        public var verdict: EdgeState
        /// This node's own probes.
        public var own: EdgeState
        /// This node sees the edge down, the fleet does not: it keeps serving it.
        public var overruled: Bool
        /// The other nodes that see it down.
        public var downAt: [String]

        public init(observers: Int, down: Int, verdict: EdgeState, own: EdgeState, overruled: Bool, downAt: [String]) {
            self.observers = observers
            self.down = down
            self.verdict = verdict
            self.own = own
            self.overruled = overruled
            self.downAt = downAt
        }
    }
}

// MARK: - fleet

/// Whether a fleet node reaches etcd.
public struct FleetConnection: Codable, Sendable, Hashable {
    public var node: String
    public var connected: Bool
    /// Since when it has not reached etcd (seconds since 1970); `nil` while connected.
    public var disconnectedSince: Double?
    /// The last error talking to etcd, while disconnected.
    public var lastError: String?

    enum CodingKeys: String, CodingKey { case node, connected, disconnectedSince, lastError }

    public init(node: String, connected: Bool, disconnectedSince: Double?, lastError: String? = nil) {
        self.node = node
        self.connected = connected
        self.disconnectedSince = disconnectedSince
        self.lastError = lastError
    }
}

/// The result of `fleet`: the nodes, drains and publication as this node last saw them in etcd.
public struct FleetReply: Codable, Sendable, Hashable {
    public struct Node: Codable, Sendable, Hashable {
        public var node: String
        public var version: String
        /// When the node last renewed its record (seconds since 1970).
        public var lastSeen: Double
        /// `local` or `published`.
        public var data: String
        /// The publication it serves; `nil` for own data or before any.
        public var revision: Int64?
        /// Why it did not apply the newest publication.
        public var rejected: String?
        /// Serves published data older than the newest publication without having rejected it.
        public var lagging: Bool
        /// Edges its own probes see down.
        public var edgesDown: [String]

        enum CodingKeys: String, CodingKey { case node, version, lastSeen, data, revision, rejected, lagging, edgesDown }

        public init(node: String, version: String, lastSeen: Double, data: String, revision: Int64?, rejected: String?,
                    lagging: Bool, edgesDown: [String]) {
            self.node = node
            self.version = version
            self.lastSeen = lastSeen
            self.data = data
            self.revision = revision
            self.rejected = rejected
            self.lagging = lagging
            self.edgesDown = edgesDown
        }
    }

    public struct Drain: Codable, Sendable, Hashable {
        public var edge: String
        public var by: String
        public var at: Double
        public var reason: String?

        public init(edge: String, by: String, at: Double, reason: String?) {
            self.edge = edge
            self.by = by
            self.at = at
            self.reason = reason
        }
    }

    public var node: String
    public var connected: Bool
    public var disconnectedSince: Double?
    public var lastError: String?
    public var etcd: [String]
    public var prefix: String
    public var healthQuorum: String
    /// `local` or `published`: what this node serves.
    public var data: String
    /// The newest publication in etcd; `nil` before the first.
    public var publishedRevision: Int64?
    /// The live nodes, by name.
    public var nodes: [Node]
    /// Fleet-wide drains, by edge name.
    public var drains: [Drain]

    enum CodingKeys: String, CodingKey {
        case node, connected, disconnectedSince, lastError, etcd, prefix, healthQuorum, data, publishedRevision, nodes, drains
    }

    public init(node: String, connected: Bool, disconnectedSince: Double?, lastError: String?, etcd: [String], prefix: String,
                healthQuorum: String, data: String, publishedRevision: Int64?, nodes: [Node], drains: [Drain]) {
        self.node = node
        self.connected = connected
        self.disconnectedSince = disconnectedSince
        self.lastError = lastError
        self.etcd = etcd
        self.prefix = prefix
        self.healthQuorum = healthQuorum
        self.data = data
        self.publishedRevision = publishedRevision
        self.nodes = nodes
        self.drains = drains
    }
}

// MARK: - explain

/// The result of `explain`: the routing decision for one client, made by the same code that
/// answers queries, and the answer that would be sent.
public struct ExplainReply: Codable, Sendable, Hashable {
    /// Where the client's location came from.
    public enum ClientSource: String, Codable, Sendable, Hashable {
        /// The EDNS Client Subnet option (`CLIENT/PREFIX` on the command line).
        case ecs
        /// The query's source address.
        case source
    }

    /// What placed the client.
    public enum LocationSource: String, Codable, Sendable, Hashable {
        /// A record of the GeoIP database.
        case database
        /// A `geoip.overrides` entry.
        case override
        /// Nothing: the pool's fallback order.
        case fallback
    }

    public struct Location: Codable, Sendable, Hashable {
        /// Absent for a record without coordinates (a Country database).
        public var latitude: Double?
        public var longitude: Double?
        /// ISO 3166-1 alpha-2, e.g. `GB`.
        public var country: String?
        /// Continent code, e.g. `EU`.
        public var continent: String?
        /// ISO 3166-2 subdivision code without the country, e.g. `ENG`.
        public var subdivision: String?

        public init(latitude: Double? = nil, longitude: Double? = nil, country: String? = nil,
                    continent: String? = nil, subdivision: String? = nil) {
            self.latitude = latitude
            self.longitude = longitude
            self.country = country
            self.continent = continent
            self.subdivision = subdivision
        }
    }

    /// An edge in the order the policy ranked them for this client.
    public struct Candidate: Codable, Sendable, Hashable {
        public var edge: String
        /// Great-circle distance from the client's location; absent when either has no coordinates.
        public var km: Double?
        public var state: EdgeState
        public var admin: AdminState
        /// Why the edge was passed over before the answer was complete, e.g. `down`,
        /// `drained`, `no AAAA address`. Absent for chosen edges and for edges after the
        /// answer was complete.
        public var reason: String?
        /// The edge's last probe outcome (`HTTP 503`), when it has one.
        public var result: String?
        /// When the edge's health state last changed, in seconds since the Unix epoch.
        public var since: Double?
        /// The edge is in the answer.
        public var chosen: Bool
        /// For an edge shedding load: the share of client networks it sheds, and where the
        /// client's network falls (shed while below the share), both 0 to 1.
        public var shedFraction: Double?
        public var shedPosition: Double?
        /// On a fleet node: how the fleet sees the edge (`state` is this node's own probes).
        public var fleet: EdgesReply.FleetVerdict?

        public init(edge: String, km: Double? = nil, state: EdgeState, admin: AdminState = .active, reason: String? = nil,
                    result: String? = nil, since: Double? = nil, chosen: Bool, shedFraction: Double? = nil, shedPosition: Double? = nil) {
            self.shedFraction = shedFraction
            self.shedPosition = shedPosition
            self.edge = edge
            self.km = km
            self.state = state
            self.admin = admin
            self.reason = reason
            self.result = result
            self.since = since
            self.chosen = chosen
        }
    }

    /// The query name, absolute.
    public var name: String
    /// The query type mnemonic (`A`, `AAAA`, …).
    public var type: String
    /// The client address as given.
    public var client: String
    /// The client prefix length: the ECS source prefix, or 32/128 for a source address.
    public var prefix: Int
    public var clientSource: ClientSource
    /// The deciding network in CIDR form (`81.2.69.0/22`): the database record's or the
    /// override's network; for `fallback`, the largest network the database knows nothing about.
    public var network: String
    public var source: LocationSource
    /// The location used; `nil` when nothing placed the client.
    public var location: Location?
    /// The pool the dynamic record names.
    public var pool: String
    /// The pool's policy: `nearest` or `map`.
    public var policy: String
    /// How many edges go into one answer (the pool's `answers`).
    public var poolAnswers: Int
    /// The pool's edges in preference order for this client.
    public var candidates: [Candidate]
    /// The answer section in presentation format, one record per line.
    public var answer: [String]
    /// `NOERROR`, `SERVFAIL`, …
    public var rcode: String
    /// The answer's TTL (halved when a nearer edge was skipped).
    public var ttl: UInt32
    /// The ECS scope prefix length the response would carry.
    public var scope: Int
    /// Anything else that shaped the answer: `TTL halved: a nearer edge is down`,
    /// `every edge is down: answering with all of them (when_all_down: all)`.
    public var notes: [String]

    public init(
        name: String, type: String, client: String, prefix: Int, clientSource: ClientSource, network: String,
        source: LocationSource, location: Location?, pool: String, policy: String, poolAnswers: Int,
        candidates: [Candidate], answer: [String], rcode: String, ttl: UInt32, scope: Int, notes: [String] = []
    ) {
        self.name = name
        self.type = type
        self.client = client
        self.prefix = prefix
        self.clientSource = clientSource
        self.network = network
        self.source = source
        self.location = location
        self.pool = pool
        self.policy = policy
        self.poolAnswers = poolAnswers
        self.candidates = candidates
        self.answer = answer
        self.rcode = rcode
        self.ttl = ttl
        self.scope = scope
        self.notes = notes
    }
}

// MARK: - stats

/// The result of `stats`, the body of `GET /api/v1/stats`, and everything `/metrics`
/// exports. Counters count from process start; reloads do not reset them.
public struct StatsReply: Codable, Sendable, Hashable {
    public struct Queries: Codable, Sendable, Hashable {
        /// Queries received, answered or not: `udp`, `tcp`.
        public var byTransport: [String: UInt64]
        /// Answered queries by query type mnemonic (`A`, `AAAA`, …). The server counts a
        /// fixed set of types and puts the rest under `OTHER`, so a client cannot grow
        /// this (and the metric's label set) without bound.
        public var byType: [String: UInt64]
        /// Responses by RCODE mnemonic (`NOERROR`, `NXDOMAIN`, `REFUSED`, `BADVERS`, …).
        public var byRcode: [String: UInt64]
        /// Queries received but not answered (unparseable, or responses themselves).
        public var dropped: UInt64
        /// Responses sent with TC set.
        public var truncated: UInt64
        /// Answered queries by their DNS Cookie: `valid` (a server cookie that verified),
        /// `client_only`, `invalid` (a server cookie that did not), `malformed` (FORMERR).
        public var byCookie: [String: UInt64]

        public init(byTransport: [String: UInt64] = [:], byType: [String: UInt64] = [:], byRcode: [String: UInt64] = [:],
                    dropped: UInt64 = 0, truncated: UInt64 = 0, byCookie: [String: UInt64] = [:]) {
            self.byTransport = byTransport
            self.byType = byType
            self.byRcode = byRcode
            self.dropped = dropped
            self.truncated = truncated
            self.byCookie = byCookie
        }

        /// Every query received.
        public var total: UInt64 { byTransport.values.reduce(0, +) }
    }

    public struct Edge: Codable, Sendable, Hashable {
        public var name: String
        public var state: EdgeState
        public var drained: Bool
        /// The last probe's duration; absent for an edge without checks or before its first probe.
        public var probeLatencySeconds: Double?
        /// Health state changes since start.
        public var transitions: UInt64
        /// For an edge with a load feed: the feed, its signals and the share it sheds.
        public var load: EdgesReply.Load?
        /// Dynamic answers moved away from the edge because it shed the client's network.
        public var shedAnswers: UInt64
        /// How long its probes took; absent for an edge without checks.
        public var probeDurations: Histogram?

        public init(name: String, state: EdgeState, drained: Bool = false, probeLatencySeconds: Double? = nil,
                    transitions: UInt64 = 0, load: EdgesReply.Load? = nil, shedAnswers: UInt64 = 0, probeDurations: Histogram? = nil) {
            self.probeDurations = probeDurations
            self.load = load
            self.shedAnswers = shedAnswers
            self.name = name
            self.state = state
            self.drained = drained
            self.probeLatencySeconds = probeLatencySeconds
            self.transitions = transitions
        }
    }

    /// A Prometheus-style histogram with per-bucket (not cumulative) counts.
    public struct Histogram: Codable, Sendable, Hashable {
        /// Upper bounds in seconds, ascending.
        public var bucketsSeconds: [Double]
        /// `counts[i]` observations fell in `(bucketsSeconds[i-1], bucketsSeconds[i]]`;
        /// one more element than `bucketsSeconds`, the last for everything above the
        /// largest bound.
        public var counts: [UInt64]
        /// Sum of all observations, in seconds.
        public var sum: Double
        /// Number of observations (the sum of `counts`).
        public var count: UInt64

        public init(bucketsSeconds: [Double], counts: [UInt64], sum: Double) {
            self.bucketsSeconds = bucketsSeconds
            self.counts = counts
            self.sum = sum
            self.count = counts.reduce(0, +)
        }

        /// Cumulative counts for each bound and then `+Inf`, as Prometheus writes them; a
        /// short or long `counts` is padded with zeros or folded into `+Inf`.
        public var cumulative: [UInt64] {
            var result: [UInt64] = []
            result.reserveCapacity(bucketsSeconds.count + 1)
            var running: UInt64 = 0
            for index in 0...bucketsSeconds.count {
                if index < bucketsSeconds.count {
                    running &+= index < counts.count ? counts[index] : 0
                } else {
                    running &+= counts.dropFirst(index).reduce(0, &+)
                }
                result.append(running)
            }
            return result
        }
    }

    /// Response rate limiting of UDP answers: every response over its bucket's rate is
    /// limited, then slipped (sent as an empty TC=1 answer) or dropped.
    public struct RateLimit: Codable, Sendable, Hashable {
        /// Limited responses by response class (`positive`, `nxdomain`, `nodata`, `error`,
        /// `referral`, `wildcard`, `large`, `any`).
        public var limitedByClass: [String: UInt64]
        public var slipped: UInt64
        public var dropped: UInt64

        public init(limitedByClass: [String: UInt64] = [:], slipped: UInt64 = 0, dropped: UInt64 = 0) {
            self.limitedByClass = limitedByClass
            self.slipped = slipped
            self.dropped = dropped
        }

        /// Every limited response: slipped plus dropped.
        public var limited: UInt64 { slipped + dropped }
    }

    /// DNS over TCP connections: `open` now; since the start, `accepted` ones, `refused`
    /// ones (the client already held its share, or the table was full of busy connections)
    /// and `evicted` idle ones closed to make room for a new client.
    public struct TCPConnections: Codable, Sendable, Hashable {
        public var open: UInt64
        public var accepted: UInt64
        public var refused: UInt64
        public var evicted: UInt64

        public init(open: UInt64 = 0, accepted: UInt64 = 0, refused: UInt64 = 0, evicted: UInt64 = 0) {
            self.open = open
            self.accepted = accepted
            self.refused = refused
            self.evicted = evicted
        }
    }

    public struct Reloads: Codable, Sendable, Hashable {
        public var ok: UInt64
        public var failed: UInt64
        /// Whether the last reload was served (true before any reload: the start loaded).
        public var lastSucceeded: Bool
        /// When the data served was last loaded (the start, or the last reload that
        /// succeeded), seconds since the Unix epoch.
        public var lastSuccessAt: Double

        public init(ok: UInt64 = 0, failed: UInt64 = 0, lastSucceeded: Bool = true, lastSuccessAt: Double = 0) {
            self.ok = ok
            self.failed = failed
            self.lastSucceeded = lastSucceeded
            self.lastSuccessAt = lastSuccessAt
        }
    }

    /// The process as the kernel sees it, for the `process_*` metrics every Prometheus
    /// client library exports.
    public struct Process: Codable, Sendable, Hashable {
        public var cpuSeconds: Double
        public var residentBytes: UInt64
        public var virtualBytes: UInt64
        public var openFileDescriptors: UInt64
        public var maxFileDescriptors: UInt64

        public init(cpuSeconds: Double, residentBytes: UInt64, virtualBytes: UInt64, openFileDescriptors: UInt64,
                    maxFileDescriptors: UInt64) {
            self.cpuSeconds = cpuSeconds
            self.residentBytes = residentBytes
            self.virtualBytes = virtualBytes
            self.openFileDescriptors = openFileDescriptors
            self.maxFileDescriptors = maxFileDescriptors
        }
    }

    /// A pool's edges, and how many of them answers can use now (healthy, not drained).
    public struct Pool: Codable, Sendable, Hashable {
        public var pool: String
        public var edges: Int
        public var available: Int

        public init(pool: String, edges: Int, available: Int) {
            self.pool = pool
            self.edges = edges
            self.available = available
        }
    }

    /// A zone served and its SOA serial.
    public struct Zone: Codable, Sendable, Hashable {
        public var zone: String
        public var serial: UInt32

        public init(zone: String, serial: UInt32) {
            self.zone = zone
            self.serial = serial
        }
    }

    public var version: String
    public var uptimeSeconds: Double
    /// Process start, in seconds since the Unix epoch.
    public var startedAt: Double
    public var queries: Queries
    /// Dynamic (DYNA/DYNC) answers by pool name.
    public var answersByPool: [String: UInt64]
    /// Dynamic answers that included each edge, by edge name (an answer with two edges
    /// counts for both).
    public var answersByEdge: [String: UInt64]
    /// In configuration order.
    public var edges: [Edge]
    /// Time from receiving a query to having its response ready.
    public var responseTime: Histogram
    public var reloads: Reloads
    public var rateLimit: RateLimit
    public var tcpConnections: TCPConnections
    /// `nil` when the server is not part of a fleet.
    public var fleet: FleetConnection?
    /// DNSSEC: answers signed, signatures made when asked, and each signed zone's expiry.
    public var dnssec: DNSSEC?
    /// The zones served, in the order they were loaded.
    public var zones: [Zone]
    /// In configuration order.
    public var pools: [Pool]
    /// `nil` where the kernel does not say (no /proc).
    public var process: Process?
    /// The dnstap query log; `nil` when none is configured.
    public var queryLog: QueryLog? = nil

    public struct QueryLog: Codable, Sendable, Hashable {
        /// `file PATH` or `socket PATH`.
        public var destination: String
        /// The file is open, or the socket's reader accepted the stream.
        public var connected: Bool
        /// Messages written since start.
        public var written: UInt64
        /// Messages dropped because an answering thread's ring was full (the writer or its reader is slow).
        public var droppedFull: UInt64
        /// Messages dropped because there was nowhere to write them (no reader, a failing file).
        public var droppedUnwritten: UInt64

        public init(destination: String, connected: Bool, written: UInt64, droppedFull: UInt64, droppedUnwritten: UInt64) {
            self.destination = destination
            self.connected = connected
            self.written = written
            self.droppedFull = droppedFull
            self.droppedUnwritten = droppedUnwritten
        }
    }

    public struct DNSSEC: Codable, Sendable, Hashable {
        public struct Zone: Codable, Sendable, Hashable {
            public var zone: String
            public var keys: [String]
            public var signaturesExpire: Double

            public init(zone: String, keys: [String], signaturesExpire: Double) {
                self.zone = zone
                self.keys = keys
                self.signaturesExpire = signaturesExpire
            }
        }

        public var signedAnswers: UInt64
        public var signaturesMade: UInt64
        public var zones: [Zone]

        public init(signedAnswers: UInt64, signaturesMade: UInt64, zones: [Zone]) {
            self.signedAnswers = signedAnswers
            self.signaturesMade = signaturesMade
            self.zones = zones
        }
    }

    public init(
        version: String, uptimeSeconds: Double, startedAt: Double, queries: Queries = .init(),
        answersByPool: [String: UInt64] = [:], answersByEdge: [String: UInt64] = [:], edges: [Edge] = [],
        responseTime: Histogram = .init(bucketsSeconds: [], counts: [0], sum: 0), reloads: Reloads = .init(),
        rateLimit: RateLimit = .init(), tcpConnections: TCPConnections = .init(), fleet: FleetConnection? = nil,
        dnssec: DNSSEC? = nil, zones: [Zone] = [], pools: [Pool] = [], process: Process? = nil
    ) {
        self.pools = pools
        self.fleet = fleet
        self.dnssec = dnssec
        self.zones = zones
        self.process = process
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.startedAt = startedAt
        self.queries = queries
        self.answersByPool = answersByPool
        self.answersByEdge = answersByEdge
        self.edges = edges
        self.responseTime = responseTime
        self.reloads = reloads
        self.rateLimit = rateLimit
        self.tcpConnections = tcpConnections
    }
}

// Absent values are written as null, not left out: a reader asking "connected since when?"
// or "which revision?" gets an answer it can test for.
extension FleetConnection {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(node, forKey: .node)
        try container.encode(connected, forKey: .connected)
        try container.encode(disconnectedSince, forKey: .disconnectedSince)
        try container.encode(lastError, forKey: .lastError)
    }
}

extension FleetReply {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(node, forKey: .node)
        try container.encode(connected, forKey: .connected)
        try container.encode(disconnectedSince, forKey: .disconnectedSince)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(etcd, forKey: .etcd)
        try container.encode(prefix, forKey: .prefix)
        try container.encode(healthQuorum, forKey: .healthQuorum)
        try container.encode(data, forKey: .data)
        try container.encode(publishedRevision, forKey: .publishedRevision)
        try container.encode(nodes, forKey: .nodes)
        try container.encode(drains, forKey: .drains)
    }
}

extension FleetReply.Node {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(node, forKey: .node)
        try container.encode(version, forKey: .version)
        try container.encode(lastSeen, forKey: .lastSeen)
        try container.encode(data, forKey: .data)
        try container.encode(revision, forKey: .revision)
        try container.encode(rejected, forKey: .rejected)
        try container.encode(lagging, forKey: .lagging)
        try container.encode(edgesDown, forKey: .edgesDown)
    }
}
