/// The whole of `meridian.yaml`, validated. Build one with ``load(path:)`` or
/// ``parse(yaml:file:)``; every value here has already been checked, so the rest of the
/// server can use it without second-guessing (pools name known edges, durations are positive,
/// and so on).
///
/// Relative paths (`zones.directory`, `control.socket`, `geoip.database`,
/// `health.state_file`, `cookies.secret_file`) are kept as written and resolve against the working directory the
/// server was started from, as with gdnsd and Knot started from a project root.
public struct MeridianConfiguration: Sendable, Equatable {
    public var dns: DNSSettings
    /// `nil` when the stats port is disabled (no `stats` section, or no `stats.listen`).
    public var stats: StatsSettings?
    public var control: ControlSettings
    public var zones: ZonesSettings
    /// `nil` when there is no `geoip` section: every client is then "location unknown".
    public var geoip: GeoIPSettings?
    public var health: HealthSettings
    public var cookies: CookieSettings
    public var edges: [String: Edge]
    /// Edge names in the order the file lists them.
    public var edgeOrder: [String]
    public var pools: [String: Pool]
    /// Pool names in the order the file lists them.
    public var poolOrder: [String]
    public var rrl: RRLSettings
    /// `nil` when the node is not part of a fleet.
    public var fleet: FleetSettings?
    /// `nil` when no zone is signed.
    public var dnssec: DNSSECSettings?
    public var log: LogSettings
    /// The path the configuration was loaded from, as given.
    public var sourceFile: String

    public init(
        dns: DNSSettings = .init(), stats: StatsSettings? = nil, control: ControlSettings = .init(),
        zones: ZonesSettings = .init(), geoip: GeoIPSettings? = nil, health: HealthSettings = .init(),
        cookies: CookieSettings = .init(), edges: [Edge] = [], pools: [Pool] = [], rrl: RRLSettings = .init(),
        fleet: FleetSettings? = nil, dnssec: DNSSECSettings? = nil, log: LogSettings = .init(), sourceFile: String = ""
    ) {
        self.dnssec = dnssec
        self.log = log
        self.dns = dns
        self.stats = stats
        self.control = control
        self.zones = zones
        self.geoip = geoip
        self.health = health
        self.cookies = cookies
        self.edges = Dictionary(edges.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.edgeOrder = edges.map(\.name)
        self.pools = Dictionary(pools.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.poolOrder = pools.map(\.name)
        self.rrl = rrl
        self.fleet = fleet
        self.sourceFile = sourceFile
    }

    /// The edges in file order.
    public var orderedEdges: [Edge] { edgeOrder.compactMap { edges[$0] } }
    /// The pools in file order.
    public var orderedPools: [Pool] { poolOrder.compactMap { pools[$0] } }
}

/// `log:`: which events the server logs, and how.
public struct LogSettings: Sendable, Equatable {
    /// The least severe events written, in swift-log's (and syslog's) order.
    public enum Level: String, Sendable, Equatable, CaseIterable, Comparable {
        case trace, debug, info, notice, warning, error, critical

        public static func < (a: Level, b: Level) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public enum Format: String, Sendable, Equatable, CaseIterable {
        /// One line per event: time (or, to the journal, a syslog priority), level, message, metadata.
        case text
        /// One JSON object per line.
        case json
    }

    public var level: Level
    public var format: Format
    /// The query log, when one is configured.
    public var dnstap: DnstapSettings?

    public init(level: Level = .info, format: Format = .text, dnstap: DnstapSettings? = nil) {
        self.level = level
        self.format = format
        self.dnstap = dnstap
    }
}

/// `log.dnstap:`: queries and answers written in dnstap, to a file or a Frame Streams socket.
public struct DnstapSettings: Sendable, Equatable {
    public enum Destination: Sendable, Equatable, CustomStringConvertible {
        /// A file, truncated when opened, as fstrm writers do; opened again when it was moved away.
        case file(String)
        /// A reader listening on a Unix stream socket (`fstrm_capture`, dnstap collectors).
        case socket(String)

        public var description: String {
            switch self {
            case .file(let path): "file \(path)"
            case .socket(let path): "socket \(path)"
            }
        }
    }

    public var destination: Destination
    /// Log AUTH_QUERY messages (the query as received).
    public var queries: Bool
    /// Log AUTH_RESPONSE messages (the answer as sent).
    public var responses: Bool
    /// The share of queries logged, above 0 up to 1; a query's answer is logged with it.
    public var sample: Double
    /// The `identity` of every message; nil for the fleet node's name or the host name.
    public var identity: String?
    /// Where `log.dnstap` is in the configuration file, for errors found when opening the destination.
    public var sourceLine: Int

    public init(destination: Destination, queries: Bool = true, responses: Bool = true, sample: Double = 1, identity: String? = nil,
                sourceLine: Int = 0) {
        self.destination = destination
        self.queries = queries
        self.responses = responses
        self.sample = sample
        self.identity = identity
        self.sourceLine = sourceLine
    }
}

/// `dnssec:`: where the zones' keys are and how long signatures hold.
public struct DNSSECSettings: Sendable, Equatable {
    /// BIND-format key files `Kzone.+alg+tag.key` / `.private`; a zone with a key here is signed.
    public var keysDirectory: String
    /// How long a signature holds from when it was made (RRSIG expiration − inception).
    public var signatureValidity: Duration
    /// How long after they were made signatures are made again.
    public var signatureRefresh: Duration

    public static let defaultValidity = Duration.seconds(14 * 86400)
    public static let defaultRefresh = Duration.seconds(7 * 86400)

    public init(keysDirectory: String, signatureValidity: Duration = defaultValidity, signatureRefresh: Duration = defaultRefresh) {
        self.keysDirectory = keysDirectory
        self.signatureValidity = signatureValidity
        self.signatureRefresh = signatureRefresh
    }
}

public struct DNSSettings: Sendable, Equatable {
    /// Each address serves both UDP and TCP.
    public var listen: [ListenAddress]
    /// Largest UDP response sent to EDNS clients (512...4096).
    public var udpPayload: Int
    public var tcpIdleTimeout: Duration
    /// Open TCP connections in all; when full, a new connection closes the least recently
    /// active idle one (see README "Fair TCP").
    public var tcpMaxConnections: Int
    /// Open TCP connections from one client address; more are refused.
    public var tcpMaxConnectionsPerClient: Int

    public static let defaultListen = [ListenAddress(host: .v4(0x7F00_0001), port: 5300)]
    public static let udpPayloadRange = 512...4096

    public init(
        listen: [ListenAddress] = defaultListen, udpPayload: Int = 1232,
        tcpIdleTimeout: Duration = .seconds(10), tcpMaxConnections: Int = 1024, tcpMaxConnectionsPerClient: Int = 16
    ) {
        self.listen = listen
        self.udpPayload = udpPayload
        self.tcpIdleTimeout = tcpIdleTimeout
        self.tcpMaxConnections = tcpMaxConnections
        self.tcpMaxConnectionsPerClient = tcpMaxConnectionsPerClient
    }
}

/// `rrl`: response rate limiting of UDP answers (BIND's `rate-limit`, NSD's `rrl-*`, Knot's
/// mod-rrl). On by default: an authoritative server on the Internet is a reflector otherwise.
public struct RRLSettings: Sendable, Equatable {
    /// Responses per second per client network, response class and name; 0 = off.
    public var rate: Int
    /// Every `slip`-th limited response is sent as an empty TC=1 answer; 0 = never, 1 = always.
    public var slip: Int
    public var ipv4Prefix: Int
    public var ipv6Prefix: Int
    /// Networks never limited.
    public var exempt: [IPNetwork]

    /// 20 a second: four times the 5 BIND's documentation suggests, a tenth of NSD's 200,
    /// far above what a caching resolver asks for one name; see README "Response rate limiting".
    public static let defaultRate = 20
    /// BIND's, NSD's and Knot's default: half the limited answers still reach a real client.
    public static let defaultSlip = 2
    public static let rateRange = 0...1_000_000
    public static let slipRange = 0...10

    public init(rate: Int = defaultRate, slip: Int = defaultSlip, ipv4Prefix: Int = 24, ipv6Prefix: Int = 56, exempt: [IPNetwork] = []) {
        self.rate = rate
        self.slip = slip
        self.ipv4Prefix = ipv4Prefix
        self.ipv6Prefix = ipv6Prefix
        self.exempt = exempt
    }
}

public struct StatsSettings: Sendable, Equatable {
    /// Where the HTTP stats server listens.
    public var listen: ListenAddress

    public init(listen: ListenAddress) { self.listen = listen }
}

public struct ControlSettings: Sendable, Equatable {
    /// Path of the Unix socket `dnsctl` talks to.
    public var socket: String

    public static let defaultSocket = "run/meridian.sock"

    public init(socket: String = defaultSocket) { self.socket = socket }
}

public struct ZonesSettings: Sendable, Equatable {
    /// What a reload does with a zone whose records changed while its serial did not, or
    /// whose serial went backwards (RFC 1982): secondaries and caches keep the old data.
    public enum SerialCheck: String, Sendable, Equatable, CaseIterable {
        /// Serve the new data and say so (`dnsctl reload`, its `--json`, the log).
        case warn
        /// Reject the reload and keep serving the old data.
        case error
    }

    /// Directory of master files, one per zone, named `ORIGIN.zone`.
    public var directory: String
    public var serialCheck: SerialCheck

    public static let defaultDirectory = "zones"

    public init(directory: String = defaultDirectory, serialCheck: SerialCheck = .warn) {
        self.directory = directory
        self.serialCheck = serialCheck
    }
}

public struct HealthSettings: Sendable, Equatable {
    /// Where drains (admin state) persist across restarts.
    public var stateFile: String

    public static let defaultStateFile = "run/admin-state.json"

    public init(stateFile: String = defaultStateFile) { self.stateFile = stateFile }
}

/// A point on the globe in degrees.
public struct Location: Sendable, Hashable {
    public var latitude: Double
    public var longitude: Double

    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

public struct GeoIPSettings: Sendable, Equatable {
    /// A MaxMind DB file (City and/or Country data).
    public var database: String
    /// Use EDNS Client Subnet (RFC 7871) when a query carries one.
    public var clientSubnet: Bool
    /// Networks placed by hand, in file order; consulted before the database.
    public var overrides: [Override]

    public init(database: String, clientSubnet: Bool = true, overrides: [Override] = []) {
        self.database = database
        self.clientSubnet = clientSubnet
        self.overrides = overrides
    }

    public struct Override: Sendable, Equatable {
        public enum Target: Sendable, Equatable {
            /// Treat clients in the network as if they were at this point.
            case location(Location)
            /// Send clients in the network to these edges, in this order.
            case edges([String])
        }

        public var network: IPNetwork
        public var target: Target

        public init(network: IPNetwork, target: Target) {
            self.network = network
            self.target = target
        }
    }
}

/// A site that can answer for a pool: where it is, what to answer with, how to tell it is up.
public struct Edge: Sendable, Equatable {
    public var name: String
    public var location: Location
    /// A and AAAA answers, in file order.
    public var addresses: [IPAddress]
    /// Absolute target (with the trailing dot) for DYNC answers.
    public var cname: String?
    /// `nil` for an edge that is always up.
    public var check: HealthCheck?
    /// `nil` for an edge that never sheds load.
    public var load: LoadFeed?

    public init(name: String, location: Location, addresses: [IPAddress], cname: String? = nil, check: HealthCheck? = nil,
                load: LoadFeed? = nil) {
        self.name = name
        self.location = location
        self.addresses = addresses
        self.cname = cname
        self.check = check
        self.load = load
    }

    public var ipv4: [IPAddress] { addresses.filter(\.isIPv4) }
    public var ipv6: [IPAddress] { addresses.filter(\.isIPv6) }
}

/// `edges.NAME.load`: the edge's own metrics page (vLLM, TGI, Triton, SGLang), read every
/// `interval` for how much of its clients the edge should shed.
public struct LoadFeed: Sendable, Equatable {
    /// One gauge mapped to a shed fraction: `clamp((value - low) / (high - low), 0, 1)`.
    public struct Signal: Sendable, Equatable {
        public var metric: String
        public var low: Double
        public var high: Double
        /// Only series with all of these labels count; their values are summed.
        public var labels: [String: String]

        public init(metric: String, low: Double, high: Double, labels: [String: String] = [:]) {
            self.metric = metric
            self.low = low
            self.high = high
            self.labels = labels
        }
    }

    /// `http://` or `https://` URL of the Prometheus text exposition.
    public var metrics: String
    public var interval: Duration
    public var timeout: Duration
    /// Failed or missing reads in a row before the load counts as unknown (no shedding).
    public var staleAfter: Int
    /// Largest change of the shed fraction per interval.
    public var maxStep: Double
    public var signals: [Signal]

    public init(metrics: String, interval: Duration = .seconds(2), timeout: Duration = .seconds(1), staleAfter: Int = 3,
                maxStep: Double = 0.2, signals: [Signal] = []) {
        self.metrics = metrics
        self.interval = interval
        self.timeout = timeout
        self.staleAfter = staleAfter
        self.maxStep = maxStep
        self.signals = signals
    }
}

public struct HealthCheck: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case http(url: String)
        case https(url: String)
        /// `host` is a name or an address (IPv6 without brackets).
        case tcp(host: String, port: Int)
    }

    public var kind: Kind
    /// HTTP status codes that count as a pass.
    public var expectStatus: [Int]
    /// When set, the response body must contain this text.
    public var expectBody: String?
    /// Host header to send instead of the URL's host.
    public var host: String?
    /// Verify the certificate of an `https` check.
    public var tlsVerify: Bool
    public var interval: Duration
    public var timeout: Duration
    /// Consecutive passes for a down edge to come up.
    public var rise: Int
    /// Consecutive failures for an up edge to go down.
    public var fall: Int

    public static let thresholdRange = 1...100

    public init(
        kind: Kind, expectStatus: [Int] = [200], expectBody: String? = nil, host: String? = nil,
        tlsVerify: Bool = true, interval: Duration = .seconds(5), timeout: Duration = .seconds(2),
        rise: Int = 2, fall: Int = 3
    ) {
        self.kind = kind
        self.expectStatus = expectStatus
        self.expectBody = expectBody
        self.host = host
        self.tlsVerify = tlsVerify
        self.interval = interval
        self.timeout = timeout
        self.rise = rise
        self.fall = fall
    }
}

/// A set of edges a dynamic record (DYNA/DYNC) answers from, and how to choose among them.
public struct Pool: Sendable, Equatable {
    public enum Policy: String, Sendable, Equatable, CaseIterable {
        /// By great-circle distance from the client's location.
        case nearest
        /// By the client's subdivision, country or continent, else `default`.
        case map
    }

    /// Where clients go when their location is unknown.
    public enum Fallback: Sendable, Equatable {
        /// These edges, in this order.
        case edges([String])
        /// Edges ordered by distance from this point.
        case location(Location)
    }

    public enum WhenAllDown: String, Sendable, Equatable, CaseIterable {
        /// Answer with every edge (fail open).
        case all
        /// Answer SERVFAIL.
        case servfail
    }

    public var name: String
    /// Member edges, in file order.
    public var edges: [String]
    public var policy: Policy
    /// How many healthy edges go into one answer.
    public var answers: Int
    /// `nil`: the `edges` order.
    public var fallback: Fallback?
    public var whenAllDown: WhenAllDown
    /// For `.map`: region key (`EU`, `DE`, `US-CA`, `default`) to edges in preference order.
    public var map: [String: [String]]
    /// The map's keys in file order.
    public var mapOrder: [String]
    /// `shed_prefix`: the client networks a shed decision sticks to.
    public var shedPrefixIPv4: Int
    public var shedPrefixIPv6: Int
    /// `load_ttl`: TTL of answers moved by load; nil for half the record's TTL.
    public var loadTTL: UInt32?

    public init(
        name: String, edges: [String], policy: Policy, answers: Int = 1, fallback: Fallback? = nil,
        whenAllDown: WhenAllDown = .all, map: [(key: String, edges: [String])] = [],
        shedPrefixIPv4: Int = 24, shedPrefixIPv6: Int = 56, loadTTL: UInt32? = nil
    ) {
        self.shedPrefixIPv4 = shedPrefixIPv4
        self.shedPrefixIPv6 = shedPrefixIPv6
        self.loadTTL = loadTTL
        self.name = name
        self.edges = edges
        self.policy = policy
        self.answers = answers
        self.fallback = fallback
        self.whenAllDown = whenAllDown
        self.map = Dictionary(map.map { ($0.key, $0.edges) }, uniquingKeysWith: { _, last in last })
        self.mapOrder = map.map(\.key)
    }

    /// The continent codes a map key may use (as in MaxMind's `continent.code`).
    public static let continentCodes: Set<String> = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"]
}
