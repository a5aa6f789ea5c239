/// `fleet:`: this node's place in a fleet that shares drains, health verdicts and published
/// data through etcd v3. Absent, the node is alone and behaves as if no fleet existed.
public struct FleetSettings: Sendable, Equatable {
    /// This node's name, unique in the fleet; it names the node in etcd and in probes.
    public var node: String
    /// etcd client URLs (`http://` or `https://`), tried in turn.
    public var endpoints: [String]
    /// Every key Meridian writes starts with it; always ends with `/`.
    public var prefix: String
    public var healthQuorum: HealthQuorum
    /// Time to live of the node's lease: how long a stopped node's verdicts still count.
    public var leaseTTL: Duration
    /// Whether the node serves its own zones and data or the fleet's publication.
    public var data: DataSource
    public var tls: TLS?
    /// Where a node with `data: published` keeps the publication it serves, so that a restart
    /// serves it before etcd is reached.
    public var publishedDirectory: String

    public enum DataSource: String, Sendable, Equatable, CaseIterable {
        /// The node's own config file and zones directory.
        case local
        /// The last publication (`dnsctl publish`); node-local sections stay the node's own.
        case published
    }

    /// Client certificates for etcd over TLS; paths as written.
    public struct TLS: Sendable, Equatable {
        public var ca: String?
        public var cert: String?
        public var key: String?

        public init(ca: String? = nil, cert: String? = nil, key: String? = nil) {
            self.ca = ca
            self.cert = cert
            self.key = key
        }
    }

    public static let defaultPrefix = "/meridian/"
    public static let defaultLeaseTTL = Duration.seconds(10)
    public static let defaultPublishedDirectory = "published"

    public init(node: String, endpoints: [String], prefix: String = defaultPrefix, healthQuorum: HealthQuorum = .majority,
                leaseTTL: Duration = defaultLeaseTTL, data: DataSource = .local, tls: TLS? = nil,
                publishedDirectory: String = defaultPublishedDirectory) {
        self.node = node
        self.endpoints = endpoints
        self.prefix = prefix
        self.healthQuorum = healthQuorum
        self.leaseTTL = leaseTTL
        self.data = data
        self.tls = tls
        self.publishedDirectory = publishedDirectory
    }
}

/// How many of the live observers of an edge must see it down for the fleet to call it down.
public enum HealthQuorum: Sendable, Equatable, CustomStringConvertible {
    /// More than half.
    case majority
    /// One is enough.
    case any
    /// Every one.
    case all
    /// At least this share (0 < fraction ≤ 1).
    case fraction(Double)

    public init?(_ text: String) {
        switch text {
        case "majority": self = .majority
        case "any": self = .any
        case "all": self = .all
        default:
            guard let value = Double(text), value > 0, value <= 1 else { return nil }
            self = .fraction(value)
        }
    }

    /// Whether `down` of `observers` make the verdict down. No observer, no verdict: up.
    public func isDown(down: Int, observers: Int) -> Bool {
        guard observers > 0, down > 0 else { return false }
        switch self {
        case .majority: return 2 * down > observers
        case .any: return true
        case .all: return down >= observers
        // Compared as down ≥ fraction × observers, with a little slack so 0.34 of 3 needs 2,
        // and 1/3 written as 0.3333 still takes 1 of 3.
        case .fraction(let share): return Double(down) + 1e-3 >= share * Double(observers)
        }
    }

    public var description: String {
        switch self {
        case .majority: "majority"
        case .any: "any"
        case .all: "all"
        case .fraction(let share): "\(share)"
        }
    }
}

extension MeridianConfiguration {
    /// This node's configuration serving a fleet publication: the publication's zones, GeoIP
    /// database, edges, pools and rate limits (`published`, whose zone files were written to
    /// `zonesDirectory`); this node's own listeners, stats port, control socket, health state
    /// file, cookies and fleet section.
    public func serving(published: MeridianConfiguration, zonesDirectory: String) -> MeridianConfiguration {
        var merged = self
        merged.zones = published.zones
        merged.zones.directory = zonesDirectory
        merged.geoip = published.geoip
        merged.edges = published.edges
        merged.edgeOrder = published.edgeOrder
        merged.pools = published.pools
        merged.poolOrder = published.poolOrder
        merged.rrl = published.rrl
        return merged
    }
}
