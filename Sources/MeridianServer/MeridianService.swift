#if canImport(Glibc)
import Glibc
#endif
import Logging
import MeridianAuthority
import MeridianConfig
import MeridianGeoIP
import MeridianRouting
import MeridianWire
import MeridianZoneFile
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Version reported by `meridian --version` and the stats port.
public enum MeridianVersion {
    public static let current = "0.1.0"
}

/// Why the server could not start or a reload was refused; each line is `FILE:LINE[:COL]: message`.
public struct LoadFailure: Error, CustomStringConvertible {
    public var lines: [String]
    public init(lines: [String]) { self.lines = lines }
    public var description: String { lines.joined(separator: "\n") }
}

/// What a successful reload changed, for logs and `dnsctl reload`.
public struct ReloadReport: Sendable {
    public var zoneChanges: [String]
    public var notes: [String]
}

/// Loads configuration and zones, as the server and `dnsctl check` both need.
public enum ServerData {
    public static func loadConfiguration(path: String) throws(LoadFailure) -> MeridianConfiguration {
        do {
            return try MeridianConfiguration.load(path: path)
        } catch {
            throw LoadFailure(lines: error.errors.map(\.description))
        }
    }

    /// Zones, GeoIP database and routing, validated together. `geo` is reused when the
    /// database file has not changed since it was read.
    public static func loadZones(_ configuration: MeridianConfiguration, geo cached: LoadedGeo? = nil) throws(LoadFailure) -> ZoneSetLoader.Result {
        try loadAll(configuration, geo: cached).zones
    }

    public struct Loaded: Sendable {
        public var zones: ZoneSetLoader.Result
        public var geo: LoadedGeo?
        public var routing: RoutingTable
    }

    public static func loadAll(_ configuration: MeridianConfiguration, geo cached: LoadedGeo? = nil) throws(LoadFailure) -> Loaded {
        var geo: LoadedGeo?
        if let settings = configuration.geoip {
            geo = try LoadedGeo.load(path: settings.database, reusing: cached)
            if let geo { try geo.checkFields(for: configuration) }
        }
        let routing = RoutingBuilder.build(configuration, geo: geo?.trie)
        let result = ZoneSetLoader.load(directory: configuration.zones.directory, udpPayloadSize: configuration.dns.udpPayload,
                                        routing: routing, useClientSubnet: configuration.geoip?.clientSubnet ?? true)
        guard result.snapshot != nil else { throw LoadFailure(lines: result.errors.map(\.description)) }
        return Loaded(zones: result, geo: geo, routing: routing)
    }
}

/// A compiled GeoIP database and the file state it was read from.
public struct LoadedGeo: Sendable {
    public var path: String
    public var trie: GeoTrie
    public var summary: GeoDatabaseSummary
    public var seconds: Double
    var fileSize: Int
    var modified: Int

    static func load(path: String, reusing cached: LoadedGeo?) throws(LoadFailure) -> LoadedGeo {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw LoadFailure(lines: ["\(path):0: cannot read GeoIP database: \(String(cString: strerror(errno)))"])
        }
        let size = Int(info.st_size)
        let modified = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        if let cached, cached.path == path, cached.fileSize == size, cached.modified == modified { return cached }
        let start = ContinuousClock.now
        do {
            let (trie, summary) = try GeoDatabaseLoader.load(path: path)
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return LoadedGeo(path: path, trie: trie, summary: summary, seconds: seconds, fileSize: size, modified: modified)
        } catch {
            throw LoadFailure(lines: [error.description])
        }
    }

    /// The database must carry what the pools route by.
    func checkFields(for configuration: MeridianConfiguration) throws(LoadFailure) {
        let pools = configuration.orderedPools
        if pools.contains(where: { $0.policy == .nearest }) && summary.withCoordinates == 0 {
            throw LoadFailure(lines: ["\(path):0: no record has location.latitude/longitude (a Country database?); pools with policy nearest need a City database"])
        }
        if pools.contains(where: { $0.policy == .map }) && summary.withCountry == 0 {
            throw LoadFailure(lines: ["\(path):0: no record has country.iso_code or continent.code; pools with policy map need them"])
        }
    }
}

/// The running server: DNS listeners over the current snapshot, SIGHUP reloads.
public actor MeridianService: Service {
    private let configPath: String
    private var configuration: MeridianConfiguration
    private var zones: ZoneSetLoader.Result
    private var geo: LoadedGeo?
    private let threads: Int
    private let logger: Logger
    private var listeners: DNSListeners?

    public init(configPath: String, configuration: MeridianConfiguration, loaded: ServerData.Loaded, threads: Int, logger: Logger) {
        self.configPath = configPath
        self.configuration = configuration
        self.zones = loaded.zones
        self.geo = loaded.geo
        self.threads = threads
        self.logger = logger
    }

    public func run() async throws {
        guard let snapshot = zones.snapshot else { return }
        let listeners = try await DNSListeners.start(settings: configuration.dns, snapshot: snapshot, threads: threads, logger: logger)
        self.listeners = listeners
        if let geo {
            logger.info("GeoIP database loaded", metadata: [
                "path": "\(geo.path)", "type": "\(geo.summary.databaseType)", "nodes": "\(geo.summary.nodes)",
                "locations": "\(geo.summary.locations)", "seconds": "\(Int(geo.seconds * 1000) / 1000).\(Int(geo.seconds * 1000) % 1000)",
            ])
        }
        for zone in zones.zones {
            logger.info("serving zone", metadata: ["zone": "\(zone.origin)", "serial": "\(zone.serial)", "records": "\(zone.records)"])
        }
        logger.info("meridian ready", metadata: ["version": "\(MeridianVersion.current)", "threads": "\(threads)"])
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading")
            _ = await reload()
        }
        logger.info("shutting down")
        await listeners.shutdown()
        logger.info("stopped")
    }

    /// Re-reads the configuration and every zone; swaps only if all of it is valid.
    public func reload() async -> Result<ReloadReport, LoadFailure> {
        do throws(LoadFailure) {
            let newConfiguration = try ServerData.loadConfiguration(path: configPath)
            let loaded = try ServerData.loadAll(newConfiguration, geo: geo)
            let newZones = loaded.zones
            guard let snapshot = newZones.snapshot, let listeners else { throw LoadFailure(lines: ["server not running"]) }
            try? await listeners.publish(snapshot)
            var notes: [String] = []
            if newConfiguration.dns.listen != configuration.dns.listen || newConfiguration.dns.tcpMaxConnections != configuration.dns.tcpMaxConnections
                || newConfiguration.dns.tcpIdleTimeout != configuration.dns.tcpIdleTimeout {
                notes.append("dns.listen and TCP settings changed: restart meridian to apply them")
            }
            let report = ReloadReport(zoneChanges: Self.describeChanges(from: zones, to: newZones), notes: notes)
            configuration = newConfiguration
            zones = newZones
            geo = loaded.geo
            for change in report.zoneChanges { logger.info("reload: \(change)") }
            for note in notes { logger.warning("reload: \(note)") }
            logger.info("reload done", metadata: ["zones": "\(newZones.zones.count)"])
            return .success(report)
        } catch {
            for line in error.lines { logger.error("\(line)") }
            logger.error("reload rejected; still serving the previous data", metadata: ["errors": "\(error.lines.count)"])
            return .failure(error)
        }
    }

    static func describeChanges(from old: ZoneSetLoader.Result, to new: ZoneSetLoader.Result) -> [String] {
        var changes: [String] = []
        let before = Dictionary(old.zones.map { ($0.origin, $0.serial) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.zones.map { ($0.origin, $0.serial) }, uniquingKeysWith: { a, _ in a })
        for zone in new.zones {
            if let serial = before[zone.origin] {
                if serial != zone.serial { changes.append("zone \(zone.origin) serial \(serial) -> \(zone.serial)") }
            } else {
                changes.append("zone \(zone.origin) added (serial \(zone.serial))")
            }
        }
        for zone in old.zones where after[zone.origin] == nil {
            changes.append("zone \(zone.origin) removed")
        }
        return changes
    }
}

/// Writes a line to standard error (safe from any thread, unlike `stderr`).
public func printError(_ line: String) {
    var text = line
    text.append("\n")
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
