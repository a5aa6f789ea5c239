import MeridianAuthority
import MeridianConfig
import MeridianDNSSEC
import MeridianFiles
import MeridianGeoIP
import MeridianRouting
import MeridianWire

/// Everything the server answers from, read from the operator's files and validated
/// together: the configuration, the zones, the GeoIP database and the routing built from
/// them, frozen into one snapshot. Health is not part of it; the server lays the health
/// checker's table over the snapshot.
public struct LoadedServer: Sendable {
    public var configuration: MeridianConfiguration
    public var snapshot: AuthoritySnapshot
    public var geo: LoadedGeo?
    /// The cookie secret made at start when no `cookies.secret_file` is given. Reloads keep
    /// it, so clients' cookies stay valid for the life of the process.
    public var randomCookieKey: SipHashKey?
    /// What an operator should hear about but that does not stop loading (a secret file
    /// others can read), for the log and `dnsctl check`.
    public var warnings: [String] = []
    /// The served zones' serials and record digests, for the next reload to compare.
    public var zoneVersions: [ZoneVersion] = []
    /// Zones this load serves with a serial that did not increase although their records
    /// changed, or that went backwards (`FILE:LINE: message`); with `zones.serial_check: error`
    /// the load fails instead.
    public var serialProblems: [String] = []

    public var zones: [Zone] { snapshot.zones }
    public var routing: RoutingTable { snapshot.routing }
}

/// The only way from files to a `LoadedServer`, for the server's start and reloads, for
/// `dnsctl check` and for the tests. It opens no socket and starts no thread.
public enum ServerLoader {
    /// Reads and validates the configuration file alone.
    public static func configuration(path: String, pathsRelativeTo base: String? = nil) throws(LoadFailure) -> MeridianConfiguration {
        do {
            return try MeridianConfiguration.load(path: path, pathsRelativeTo: base)
        } catch {
            throw LoadFailure(lines: error.errors.map(\.description))
        }
    }

    /// What `dnsctl check` reports: every problem of the configuration at `path` and, when it
    /// has some, those of the zones and the GeoIP database it names as far as it could be
    /// read, so that one run lists everything to fix.
    public static func check(configPath: String) throws(LoadFailure) -> LoadedServer {
        let (read, problems) = MeridianConfiguration.readReportingProblems(path: configPath)
        var lines = problems.map(\.description)
        func add(_ more: [String]) {
            for line in more where !lines.contains(line) { lines.append(line) }
        }
        guard var configuration = read else { throw LoadFailure(lines: lines) }
        // A database the file does not name is one problem, already reported.
        if configuration.geoip?.database.isEmpty == true { configuration.geoip = nil }
        do throws(LoadFailure) {
            let loaded = try load(configuration)
            if lines.isEmpty { return loaded }
        } catch {
            add(error.lines)
            // A database that does not load stops a load before the zones: check them without it.
            if configuration.geoip != nil {
                configuration.geoip = nil
                do throws(LoadFailure) {
                    _ = try load(configuration)
                } catch {
                    add(error.lines)
                }
            }
        }
        throw LoadFailure(lines: lines)
    }

    /// The configuration at `path` and everything it names.
    public static func load(configPath: String, reusing previous: LoadedServer? = nil) throws(LoadFailure) -> LoadedServer {
        try load(configuration(path: configPath), reusing: previous)
    }

    /// The node's configuration at `configPath` serving the fleet publication in `published`
    /// (`meridian.yaml` and `zones/`), or its own data when `published` is `nil`.
    public static func load(configPath: String, published: String?, reusing previous: LoadedServer? = nil) throws(LoadFailure) -> LoadedServer {
        guard let published else { return try load(configPath: configPath, reusing: previous) }
        let node = try configuration(path: configPath)
        // The node's own copies of what the publication names (the GeoIP database) are where
        // the node's configuration keeps its files.
        let data = try configuration(path: FileSystem.join(published, "meridian.yaml"),
                                     pathsRelativeTo: FileSystem.directory(of: configPath))
        return try load(node.serving(published: data, zonesDirectory: FileSystem.join(published, "zones")), reusing: previous)
    }

    /// Zones, GeoIP database and routing for `configuration`. The database and the routing
    /// table of `previous` are reused when the file and the routing settings have not
    /// changed: a reload that only edits a zone does not compile the database again. A
    /// random cookie secret of `previous` is kept, so reloads do not void clients' cookies.
    public static func load(_ configuration: MeridianConfiguration, reusing previous: LoadedServer? = nil) throws(LoadFailure) -> LoadedServer {
        var geo: LoadedGeo?
        var trie: GeoTrie?
        if let settings = configuration.geoip {
            if let cached = previous?.geo, try cached.isCurrent(path: settings.database) {
                geo = cached
            } else {
                (geo, trie) = try LoadedGeo.load(path: settings.database)
            }
            try geo?.checkFields(for: configuration)
        }
        let inputs = RoutingBuilder.inputs(configuration)
        let routing: RoutingTable
        if let previous, trie == nil, previous.routing.locator as AnyObject? === geo?.database as AnyObject?,
           RoutingBuilder.inputs(of: previous.routing) == inputs {
            routing = previous.routing
        } else {
            if let geo, trie == nil { trie = try geo.compile() }
            routing = RoutingBuilder.build(inputs, geo: trie, locator: geo?.database)
            trie = nil  // freed before the zones load: it is the largest thing a load builds
        }
        let pools = Dictionary(routing.pools.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var zones: [Zone]
        let versions: [ZoneVersion]
        let keys = try configuration.dnssec.map { settings throws(LoadFailure) in try ZoneSigning.keys(settings) } ?? [:]
        let apexRecords = Dictionary(uniqueKeysWithValues: keys.map { ($0.key, ZoneSigning.apexRecords(origin: $0.key, keys: $0.value)) })
        do {
            (zones, versions) = try ZoneSetLoader.load(directory: configuration.zones.directory, pools: pools, apexRecords: apexRecords)
        } catch {
            throw LoadFailure(error)
        }
        if let settings = configuration.dnssec {
            let served = Set(zones.map(\.origin))
            if let unserved = keys.keys.first(where: { !served.contains($0) }), let key = keys[unserved]?.first {
                throw LoadFailure(lines: ["\(key.privateKeyFile ?? settings.keysDirectory):0: a key for \(unserved), which no zone file serves"])
            }
            let now = UInt64(max(0, unixTimeNow()))
            zones = zones.map { zone in
                guard let zoneKeys = keys[zone.origin] else { return zone }
                return ZoneSigning.sign(zone, keys: zoneKeys, settings: settings, routing: routing, now: now)
            }
        }
        let serialProblems = previous.map { ZoneVersion.problems(versions, after: $0.zoneVersions) } ?? []
        if configuration.zones.serialCheck == .error && !serialProblems.isEmpty {
            throw LoadFailure(lines: serialProblems.map { $0 + " (zones.serial_check: error)" })
        }
        var randomCookieKey = previous?.randomCookieKey
        let snapshot = AuthoritySnapshot(zones: zones, udpPayloadSize: configuration.dns.udpPayload, routing: routing,
                                         useClientSubnet: configuration.geoip?.clientSubnet ?? true,
                                         rateLimit: rateLimitPolicy(configuration.rrl),
                                         cookieSecrets: cookieSecrets(configuration.cookies, randomKey: &randomCookieKey))
        return LoadedServer(configuration: configuration, snapshot: snapshot, geo: geo, randomCookieKey: randomCookieKey,
                            warnings: secretFileWarnings(configuration.cookies), zoneVersions: versions,
                            serialProblems: serialProblems)
    }

    /// The secrets server cookies are made and checked with; `nil` when cookies are off.
    /// Without a secret file the key is random, made on first need and kept in `randomKey`.
    static func cookieSecrets(_ cookies: CookieSettings, randomKey: inout SipHashKey?) -> CookieSecrets? {
        guard cookies.enabled else { return nil }
        let current: SipHashKey
        if let secret = cookies.secret {
            current = SipHashKey(bytes: secret.bytes)
        } else {
            // UInt64.random draws from SystemRandomNumberGenerator: getrandom(2) on Linux.
            let key = randomKey ?? SipHashKey(k0: .random(in: .min ... .max), k1: .random(in: .min ... .max))
            randomKey = key
            current = key
        }
        return CookieSecrets(current: current, previous: cookies.previousSecret.map { SipHashKey(bytes: $0.bytes) })
    }

    /// A secret anyone on the machine can read lets them forge server cookies for any address.
    static func secretFileWarnings(_ cookies: CookieSettings) -> [String] {
        guard cookies.enabled else { return [] }
        return [cookies.secretFile, cookies.previousSecretFile].compactMap { path in
            guard let path, case .success(let mode) = FileSystem.permissions(path), mode & 0o004 != 0 else { return nil }
            return "\(path): cookie secret readable by other users (mode 0\(String(mode, radix: 8))); "
                + "anyone who reads it can forge server cookies: chmod o-r \(path)"
        }
    }

    /// The `rrl` section as the answering threads apply it.
    static func rateLimitPolicy(_ settings: RRLSettings) -> RateLimitPolicy {
        RateLimitPolicy(rate: settings.rate, slip: settings.slip, ipv4Prefix: settings.ipv4Prefix, ipv6Prefix: settings.ipv6Prefix,
                        exempt: settings.exempt.map(\.clientNetwork))
    }
}
