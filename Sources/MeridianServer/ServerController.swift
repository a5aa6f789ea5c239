import Logging
import MeridianAuthority
import MeridianConfig
import MeridianGeoIP
import MeridianHealth
import MeridianLoad
import ServiceLifecycle
import UnixSignals

/// What the server serves and how it got there: the loaded data, reloads (from SIGHUP or
/// `dnsctl reload`) and the answers to the control socket and the stats port. As a service
/// it handles SIGHUP and samples the query rate once the DNS ports are open.
public actor ServerController: Service {
    let configPath: String
    var loaded: LoadedServer
    let publisher: SnapshotPublisher
    let health: HealthChecker
    let load: LoadMonitor
    /// `nil` when the server is not part of a fleet.
    let fleet: FleetAgent?
    /// The fleet publication served (its directory), when the node serves published data.
    var publishedDirectory: String?
    let logger: Logger
    /// Fired once the DNS ports are open.
    private let serving: StartupSignal
    /// Fired once SIGHUP is caught; the DNS ports open only after it, so a reload asked for as
    /// soon as the server answers is not lost (or, with SIGHUP's default action, fatal).
    let hangupTrapped = StartupSignal()
    private let threads: Int
    let startedAt = wallClockSeconds()
    var lastReload: (at: Double, ok: Bool, summary: String)?
    /// When the data served was loaded: the start, then every reload that succeeded.
    var lastLoadedAt = wallClockSeconds()
    var reloadCounts = (ok: 0, failed: 0)
    /// The last hour, second by second (the queries per second `status` shows), and the edges' transitions.
    let history: HistoryRecorder
    /// The reload running now, which the next one waits for.
    private var runningReload: Task<Result<ReloadReport, LoadFailure>, Never>?
    private let systemd = SystemdNotifier()
    /// READY=1 was sent: a reload before that (a fleet publication at start) tells systemd nothing.
    private var announcedReady = false

    init(configPath: String, loaded: LoadedServer, publishedDirectory: String?, publisher: SnapshotPublisher, health: HealthChecker,
         load: LoadMonitor, fleet: FleetAgent?, history: HistoryRecorder, serving: StartupSignal, threads: Int, logger: Logger) {
        self.configPath = configPath
        self.history = history
        self.publishedDirectory = publishedDirectory
        self.fleet = fleet
        self.loaded = loaded
        self.publisher = publisher
        self.health = health
        self.load = load
        self.serving = serving
        self.threads = threads
        self.logger = logger
    }

    var configuration: MeridianConfiguration { loaded.configuration }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        hangupTrapped.fire()
        do {
            try await cancelWhenGracefulShutdown { [serving] in try await serving.wait() }
        } catch {
            return
        }
        logReady()
        systemd.ready(status: servingSummary)
        announcedReady = true
        await withDiscardingTaskGroup { group in
            group.addTask { await self.sampleQueryRate() }
            group.addTask { await self.resignWhenDue() }
            group.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() {
                    self.logger.info("SIGHUP: reloading")
                    _ = await self.reloadData()
                }
            }
            try? await gracefulShutdown()
            systemd.stopping()
            group.cancelAll()
        }
    }

    /// What `systemctl status` shows while the server runs.
    private var servingSummary: String {
        let zones = loaded.zones.count
        return "serving \(zones) zone\(zones == 1 ? "" : "s"), \(configuration.edgeOrder.count) edges"
            + (lastReload.map { $0.ok ? "" : "; last reload rejected" } ?? "")
    }

    private func logReady() {
        if let geo = loaded.geo {
            logger.info("GeoIP database loaded", metadata: [
                "path": "\(geo.path)", "type": "\(geo.summary.databaseType)", "nodes": "\(geo.summary.nodes)",
                "locations": "\(geo.summary.locations)", "seconds": "\(Int(geo.seconds * 1000) / 1000).\(Int(geo.seconds * 1000) % 1000)",
            ])
        }
        for warning in loaded.warnings { logger.warning("\(warning)") }
        for zone in loaded.zones {
            logger.info("serving zone", metadata: ["zone": "\(zone.origin)", "serial": "\(zone.serial)", "records": "\(zone.recordCount)"])
        }
        logger.info("meridian ready", metadata: ["version": "\(MeridianVersion.current)", "threads": "\(threads)",
                                                 "control": "\(configuration.control.socket)"])
    }

    /// Samples the totals once a second until cancelled, just after each whole second of the
    /// wall clock, so that each sample fills the history's second that just ended.
    private func sampleQueryRate() async {
        while !Task.isCancelled {
            let totals = publisher.totals()
            let now = wallClockSeconds()
            history.sample(totals, at: now)
            // Next at 50 ms past a second, at least 100 ms on (a sleep that ends early must not
            // sample twice). UDP workers share their counts every 100 ms, so a second may
            // hold up to a tenth of a second of its neighbour's queries.
            var wait = (now - 0.05).rounded(.down) + 1.05 - now
            if wait < 0.1 { wait += 1 }
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
        }
    }

    /// Signs the signed zones again once their signatures reach `signature_refresh`, until
    /// cancelled. Checked every second against the wall clock, so that a clock that jumps
    /// (a host resumed from suspend, a corrected clock) is followed at once.
    private func resignWhenDue() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            guard let due = ServerLoader.resignDue(loaded), UInt64(wallClockSeconds()) >= due else { continue }
            let previous = runningReload
            let task = Task { () -> Result<ReloadReport, LoadFailure> in
                _ = await previous?.value
                return await self.resign()
            }
            runningReload = task
            _ = await task.value
        }
    }

    private func resign() async -> Result<ReloadReport, LoadFailure> {
        let next = ServerLoader.resigned(loaded, now: UInt64(wallClockSeconds()))
        do {
            try await publisher.resigned(next.snapshot)
        } catch {
            logger.error("signatures made again, but not every answering thread took them: \(error)")
        }
        loaded = next
        logger.notice("zones signed again", metadata: ["zones": "\(next.zones.filter { $0.signatures != nil }.count)"])
        return .success(ReloadReport(from: next, to: next))
    }

    /// Re-reads the configuration, the GeoIP database and every zone; swaps only if all of it
    /// is valid, and returns once every answering thread serves the new data. A request that
    /// arrives during a reload runs after it. With `published`, the data comes from that fleet
    /// publication (and keeps coming from it in later reloads) once it loads.
    public func reloadData(published: String? = nil) async -> Result<ReloadReport, LoadFailure> {
        let previous = runningReload
        let reload = Task {
            _ = await previous?.value
            return await self.reloadAndRecord(published: published ?? self.publishedDirectory)
        }
        runningReload = reload
        return await reload.value
    }

    private func reloadAndRecord(published: String?) async -> Result<ReloadReport, LoadFailure> {
        let announce = announcedReady
        if announce { systemd.reloading() }
        let result = await loadAndPublish(published: published)
        defer { if announce { systemd.ready(status: servingSummary) } }
        switch result {
        case .success(let report):
            publishedDirectory = published
            reloadCounts.ok += 1
            lastLoadedAt = wallClockSeconds()
            lastReload = (wallClockSeconds(), true, report.changes.isEmpty ? "no changes" : report.changes.joined(separator: "; "))
        case .failure(let failure):
            reloadCounts.failed += 1
            lastReload = (wallClockSeconds(), false, "\(failure.lines.count) error(s): \(failure.lines.first ?? "")")
        }
        return result
    }

    private func loadAndPublish(published: String?) async -> Result<ReloadReport, LoadFailure> {
        do throws(LoadFailure) {
            let (configPath, previous) = (self.configPath, loaded)
            let next = try await atLowPriority { () -> Result<LoadedServer, LoadFailure> in
                Result { () throws(LoadFailure) in try ServerLoader.load(configPath: configPath, published: published, reusing: previous) }
            }.get()
            releaseFreeMemory()
            do {
                try await publisher.queryLog.configure(next.configuration.log.dnstap, identity: next.configuration.queryLogIdentity,
                                                       configFile: configPath, logger: logger)
            } catch {
                throw LoadFailure(lines: ["\(error)"])
            }
            let table = await health.update(edges: next.configuration.orderedEdges)
            let shed = await load.update(edges: next.configuration.orderedEdges)
            var notServed: PublishFailure?
            do {
                try await publisher.reload(next.snapshot, health: table, shed: shed)
            } catch {
                notServed = error
            }
            // Handed out even when some thread is late to take it: what is recorded is what is served.
            let report = ReloadReport(from: loaded, to: next)
            loaded = next
            // The previous data is gone once every thread took the new snapshot: hand its memory back.
            releaseFreeMemory()
            ServerLogHandler.output.apply(next.configuration.log)
            if let notServed { throw LoadFailure(lines: ["\(configPath): \(notServed)"]) }
            for note in report.notes { logger.warning("reload: \(note)") }
            for warning in report.warnings { logger.warning("reload: \(warning)") }
            for warning in next.warnings { logger.warning("\(warning)") }
            // One line per reload, whatever it changed.
            logger.notice("reload done", metadata: [
                "zones": "\(next.zones.count)",
                "changes": "\(report.changes.isEmpty ? "none" : report.changes.joined(separator: "; "))",
            ])
            return .success(report)
        } catch {
            logger.error("reload rejected; still serving the previous data", metadata: [
                "errors": "\(error.lines.count)", "problems": "\(error.lines.joined(separator: "; "))",
            ])
            return .failure(error)
        }
    }
}
