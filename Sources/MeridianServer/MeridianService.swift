#if canImport(Glibc)
import Glibc
#endif
import Logging
import MeridianAuthority
import MeridianConfig
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

    public static func loadZones(_ configuration: MeridianConfiguration) throws(LoadFailure) -> ZoneSetLoader.Result {
        let result = ZoneSetLoader.load(directory: configuration.zones.directory, udpPayloadSize: configuration.dns.udpPayload)
        guard result.snapshot != nil else { throw LoadFailure(lines: result.errors.map(\.description)) }
        return result
    }
}

/// The running server: DNS listeners over the current snapshot, SIGHUP reloads.
public actor MeridianService: Service {
    private let configPath: String
    private var configuration: MeridianConfiguration
    private var zones: ZoneSetLoader.Result
    private let threads: Int
    private let logger: Logger
    private var listeners: DNSListeners?

    public init(configPath: String, configuration: MeridianConfiguration, zones: ZoneSetLoader.Result, threads: Int, logger: Logger) {
        self.configPath = configPath
        self.configuration = configuration
        self.zones = zones
        self.threads = threads
        self.logger = logger
    }

    public func run() async throws {
        guard let snapshot = zones.snapshot else { return }
        let listeners = try await DNSListeners.start(settings: configuration.dns, snapshot: snapshot, threads: threads, logger: logger)
        self.listeners = listeners
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
            let newZones = try ServerData.loadZones(newConfiguration)
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
