#if canImport(Glibc)
import Glibc
#endif
import Logging
import CMeridianIO
import MeridianAuthority
import MeridianConfig
import MeridianControl
import MeridianGeoIP
import MeridianHealth
import MeridianStats
import NIOPosix
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

    /// Zones, GeoIP database and routing, validated together. The database and the routing
    /// table of `previous` are reused when the file and the routing settings have not changed.
    public static func loadZones(_ configuration: MeridianConfiguration, previous: Loaded? = nil) throws(LoadFailure) -> ZoneSetLoader.Result {
        try loadAll(configuration, previous: previous).zones
    }

    public struct Loaded: Sendable {
        public var zones: ZoneSetLoader.Result
        public var geo: LoadedGeo?
        public var routing: RoutingTable
    }

    public static func loadAll(_ configuration: MeridianConfiguration, previous: Loaded? = nil) throws(LoadFailure) -> Loaded {
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
        let result = ZoneSetLoader.load(directory: configuration.zones.directory, udpPayloadSize: configuration.dns.udpPayload,
                                        routing: routing, useClientSubnet: configuration.geoip?.clientSubnet ?? true)
        // The load's temporary tables (the GeoIP trie, walk memos, zone text) are freed by now.
        meridian_release_free_memory()
        guard result.snapshot != nil else { throw LoadFailure(lines: result.errors.map(\.description)) }
        return Loaded(zones: result, geo: geo, routing: routing)
    }
}

/// An open GeoIP database and the file state it was read from. The compiled trie is not
/// kept: routing folds it into the pools' tries, and a reload that changes routing compiles
/// it again from the open file.
public struct LoadedGeo: Sendable {
    public var path: String
    public var database: GeoDatabase
    public var summary: GeoDatabaseSummary
    public var seconds: Double
    var fileSize: Int
    var modified: Int

    /// Opens and compiles the file.
    static func load(path: String) throws(LoadFailure) -> (LoadedGeo, GeoTrie) {
        let (size, modified) = try fileState(path)
        let start = ContinuousClock.now
        do {
            let database = try GeoDatabase(path: path)
            let (trie, summary) = try database.compile()
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return (LoadedGeo(path: path, database: database, summary: summary, seconds: seconds, fileSize: size, modified: modified), trie)
        } catch {
            throw LoadFailure(lines: [error.description])
        }
    }

    /// Whether `path` is still the file this was read from.
    func isCurrent(path: String) throws(LoadFailure) -> Bool {
        let (size, modified) = try Self.fileState(path)
        return path == self.path && size == fileSize && modified == self.modified
    }

    func compile() throws(LoadFailure) -> GeoTrie {
        do {
            return try database.compile().trie
        } catch {
            throw LoadFailure(lines: [error.description])
        }
    }

    private static func fileState(_ path: String) throws(LoadFailure) -> (size: Int, modified: Int) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw LoadFailure(lines: ["\(path):0: cannot read GeoIP database: \(String(cString: strerror(errno)))"])
        }
        return (Int(info.st_size), Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
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

/// The running server: the control socket, health checks, DNS listeners over the current
/// snapshot, the stats port, and reloads from SIGHUP or `dnsctl reload`.
public actor MeridianService: Service {
    private let configPath: String
    var configuration: MeridianConfiguration
    var zones: ZoneSetLoader.Result
    var geo: LoadedGeo?
    private let threads: Int
    let logger: Logger
    var listeners: DNSListeners?
    let publisher: SnapshotPublisher
    let health: HealthChecker
    let startedAt = wallClockSeconds()
    var lastReload: (at: Double, ok: Bool, summary: String)?
    var reloadCounts = (ok: 0, failed: 0)
    /// Two samples of the query total, for queries per second.
    var rateSamples: [(time: Double, total: Int)] = []
    private var reloading = false

    public init(configPath: String, configuration: MeridianConfiguration, loaded: ServerData.Loaded, threads: Int, logger: Logger) {
        self.configPath = configPath
        self.configuration = configuration
        self.zones = loaded.zones
        self.geo = loaded.geo
        self.threads = threads
        self.logger = logger
        let publisher = SnapshotPublisher(base: loaded.zones.snapshot!)
        self.publisher = publisher
        self.health = HealthChecker(edges: configuration.orderedEdges, stateFile: configuration.health.stateFile,
                                    logger: logger, onChange: { table in publisher.health(table) })
    }

    public func run() async throws {
        guard zones.snapshot != nil else { return }
        // The control socket first: a second server on the same socket stops here, before
        // it touches the DNS ports.
        let controlGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let control: ControlServer
        do {
            control = try await ControlServer.start(path: configuration.control.socket, backend: self, group: controlGroup, logger: logger)
        } catch {
            try? await controlGroup.shutdownGracefully()
            throw LoadFailure(lines: ["\(configPath): control.socket: \(error)"])
        }
        if let problem = health.stateFileProblem { logger.warning("\(problem)") }
        // Every edge's first probe runs now; answers wait at most the longest timeout for them.
        await health.start()
        let longest = configuration.orderedEdges.compactMap { $0.check?.timeout }.max() ?? .zero
        if longest > .zero { _ = await health.waitForFirstResults(timeout: longest) }
        publisher.health(await health.currentTable)

        let listeners: DNSListeners
        do {
            listeners = try await DNSListeners.start(settings: configuration.dns, snapshot: publisher.current, threads: threads, logger: logger)
        } catch {
            await control.shutdown()
            await health.shutdown()
            try? await controlGroup.shutdownGracefully()
            throw error
        }
        self.listeners = listeners
        publisher.attach(listeners)
        publisher.health(await health.currentTable)

        var stats: StatsServer?
        if let settings = configuration.stats {
            do {
                stats = try await StatsServer.start(host: settings.listen.host.description, port: Int(settings.listen.port),
                                                    backend: self, group: controlGroup, logger: logger)
                logger.info("stats port", metadata: ["address": "\(settings.listen)"])
            } catch {
                logger.error("stats port \(settings.listen) not started: \(error)")
            }
        }
        if let geo {
            logger.info("GeoIP database loaded", metadata: [
                "path": "\(geo.path)", "type": "\(geo.summary.databaseType)", "nodes": "\(geo.summary.nodes)",
                "locations": "\(geo.summary.locations)", "seconds": "\(Int(geo.seconds * 1000) / 1000).\(Int(geo.seconds * 1000) % 1000)",
            ])
        }
        for zone in zones.zones {
            logger.info("serving zone", metadata: ["zone": "\(zone.origin)", "serial": "\(zone.serial)", "records": "\(zone.records)"])
        }
        logger.info("meridian ready", metadata: ["version": "\(MeridianVersion.current)", "threads": "\(threads)",
                                                 "control": "\(configuration.control.socket)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sampleQueryRate() }
            group.addTask {
                let hangups = await UnixSignalsSequence(trapping: .sighup)
                for await _ in hangups.cancelOnGracefulShutdown() {
                    self.logger.info("SIGHUP: reloading")
                    _ = await self.reloadData()
                }
            }
            await group.next()
            group.cancelAll()
        }
        logger.info("shutting down")
        await stats?.shutdown()
        await control.shutdown()
        await listeners.shutdown()
        await health.shutdown()
        try? await controlGroup.shutdownGracefully()
        logger.info("stopped")
    }

    /// Samples the query total once a second until shutdown.
    private func sampleQueryRate() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if let total = try? await listeners?.counters().queries {
                rateSamples.append((wallClockSeconds(), total))
                if rateSamples.count > 2 { rateSamples.removeFirst() }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Re-reads the configuration, the GeoIP database and every zone; swaps only if all of it
    /// is valid, and returns once every listener serves the new data.
    public func reloadData() async -> Result<ReloadReport, LoadFailure> {
        // One reload at a time; a second request waits for the first to finish.
        while reloading { try? await Task.sleep(for: .milliseconds(20)) }
        reloading = true
        defer { reloading = false }
        let result = await performReload()
        switch result {
        case .success(let report):
            reloadCounts.ok += 1
            lastReload = (wallClockSeconds(), true, report.zoneChanges.isEmpty ? "no changes" : report.zoneChanges.joined(separator: "; "))
        case .failure(let failure):
            reloadCounts.failed += 1
            lastReload = (wallClockSeconds(), false, "\(failure.lines.count) error(s): \(failure.lines.first ?? "")")
        }
        return result
    }

    private func performReload() async -> Result<ReloadReport, LoadFailure> {
        do throws(LoadFailure) {
            let newConfiguration = try ServerData.loadConfiguration(path: configPath)
            let previous = zones.snapshot.map { ServerData.Loaded(zones: zones, geo: geo, routing: $0.routing) }
            let loaded = try ServerData.loadAll(newConfiguration, previous: previous)
            let newZones = loaded.zones
            guard let snapshot = newZones.snapshot, listeners != nil else { throw LoadFailure(lines: ["server not running"]) }
            let table = await health.update(edges: newConfiguration.orderedEdges)
            try? await publisher.reload(snapshot, health: table)
            var notes: [String] = []
            if newConfiguration.dns != configuration.dns {
                notes.append("dns settings changed (listen, udp_payload or TCP limits): restart meridian to apply them")
            }
            if newConfiguration.stats != configuration.stats || newConfiguration.control != configuration.control {
                notes.append("stats.listen or control.socket changed: restart meridian to apply them")
            }
            let changes = Self.describeChanges(from: zones, to: newZones)
                + Self.describeChanges(from: configuration, to: newConfiguration)
            let report = ReloadReport(zoneChanges: changes, notes: notes)
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

    /// Edges and pools added, removed or changed.
    static func describeChanges(from old: MeridianConfiguration, to new: MeridianConfiguration) -> [String] {
        var changes: [String] = []
        for name in new.edgeOrder {
            if old.edges[name] == nil { changes.append("edge \(name) added") } else if old.edges[name] != new.edges[name] { changes.append("edge \(name) changed") }
        }
        for name in old.edgeOrder where new.edges[name] == nil { changes.append("edge \(name) removed") }
        for name in new.poolOrder {
            if old.pools[name] == nil { changes.append("pool \(name) added") } else if old.pools[name] != new.pools[name] { changes.append("pool \(name) changed") }
        }
        for name in old.poolOrder where new.pools[name] == nil { changes.append("pool \(name) removed") }
        if old.geoip != new.geoip { changes.append("geoip settings changed") }
        return changes
    }

    static func describeChanges(from old: ZoneSetLoader.Result, to new: ZoneSetLoader.Result) -> [String] {
        var changes: [String] = []
        let before = Dictionary(old.zones.map { ($0.origin, $0.serial) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.zones.map { ($0.origin, $0.serial) }, uniquingKeysWith: { a, _ in a })
        for zone in new.zones {
            if let serial = before[zone.origin] {
                if serial != zone.serial { changes.append("zone \(zone.origin) serial \(serial) → \(zone.serial)") }
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

/// Seconds since the Unix epoch.
func wallClockSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
