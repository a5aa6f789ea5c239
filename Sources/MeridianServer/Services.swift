import Logging
import MeridianAuthority
import MeridianConfig
import MeridianControl
import MeridianFiles
import MeridianFleet
import MeridianHealth
import MeridianLoad
import MeridianStats
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// The running server as a tree of services. They start in the order of `ordered` and stop
/// in the reverse: reloads and the query-rate sampler end first, then the stats port, then
/// the DNS listeners (stop accepting, finish in-flight TCP answers, stop the UDP workers),
/// then health checks, and the control socket is removed last.
public struct ServiceTree: Sendable {
    public let services: [any Service]
    /// The control socket and the stats port share one small event loop group.
    private let controlGroup: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let publisher: SnapshotPublisher
    private let configPath: String
    private let configuration: MeridianConfiguration

    /// The server of `loaded`, answering on `sockets` (bound before anything else, one UDP
    /// socket per answering thread), with at most `descriptorLimit` open files. Fails when the admin state file cannot be read and
    /// `damagedStateFile` is `.refuse`.
    public init(configPath: String, loaded: LoadedServer, publishedDirectory: String? = nil, sockets: DNSSockets, threads: Int,
                descriptorLimit: Int, damagedStateFile: HealthChecker.DamagedStateFile, logger: Logger) throws(ServiceTreeError) {
        let configuration = loaded.configuration
        var dns = configuration.dns
        dns.tcpMaxConnections = DescriptorBudget.tcpConnections(
            configured: dns.tcpMaxConnections, limit: descriptorLimit,
            reserved: DescriptorBudget.reserved(dnsSockets: sockets.count, edges: configuration.edges.count))
        if dns.tcpMaxConnections < configuration.dns.tcpMaxConnections {
            logger.warning("dns.tcp_max_connections lowered from \(configuration.dns.tcpMaxConnections) to \(dns.tcpMaxConnections): the file descriptor limit is \(descriptorLimit) (raise it, e.g. LimitNOFILE= in the systemd unit)")
        }
        let publisher = SnapshotPublisher(base: loaded.snapshot)
        let history = HistoryRecorder()
        let health: HealthChecker
        do {
            health = try HealthChecker(edges: configuration.orderedEdges, stateFile: configuration.health.stateFile,
                                       damagedStateFile: damagedStateFile, logger: logger,
                                       probeUserAgent: MeridianVersion.probeUserAgent(node: configuration.fleet?.node ?? hostName()),
                                       fleetQuorum: configuration.fleet?.healthQuorum,
                                       onTransition: { transition in history.record(transition) },
                                       onChange: { table in publisher.health(table) })
        } catch {
            throw .stateFile(error)
        }
        let controlGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var fleet: FleetAgent?
        if let settings = configuration.fleet {
            do throws(EtcdError) {
                fleet = try FleetAgent(settings: settings, health: health,
                                       servedRevision: publishedDirectory.flatMap { Int64(FileSystem.lastComponent(of: $0)) },
                                       eventLoopGroup: controlGroup, logger: logger)
            } catch {
                try? controlGroup.syncShutdownGracefully()
                throw .fleet(error)
            }
        }
        let load = LoadMonitor(edges: configuration.orderedEdges, eventLoopGroup: controlGroup, logger: logger,
                               onChange: { thresholds in publisher.load(thresholds) })
        let controlReady = StartupSignal()
        let healthReady = StartupSignal()
        let dnsReady = StartupSignal()
        let controller = ServerController(configPath: configPath, loaded: loaded, publishedDirectory: publishedDirectory,
                                          publisher: publisher, health: health, load: load, fleet: fleet, history: history,
                                          serving: dnsReady, threads: threads, logger: logger)
        services = Self.ordered(
            control: ControlService(configPath: configPath, path: configuration.control.socket, backend: controller,
                                    group: controlGroup, ready: controlReady, logger: logger),
            health: HealthService(checker: health, load: load, edges: configuration.orderedEdges, publisher: publisher,
                                  ready: healthReady),
            dns: DNSService(sockets: sockets, settings: dns, publisher: publisher, threads: threads,
                            after: [controlReady, healthReady, controller.hangupTrapped], ready: dnsReady, logger: logger),
            fleet: fleet.map { FleetService(agent: $0, controller: controller) },
            stats: StatsService(settings: configuration.stats, backend: controller, group: controlGroup, logger: logger),
            controller: controller)
        self.controlGroup = controlGroup
        self.logger = logger
        self.publisher = publisher
        self.configPath = configPath
        self.configuration = configuration
    }

    /// Opens the query log's destination, when one is configured, before any query is
    /// answered; a file that cannot be written stops the start.
    public func startQueryLog() async throws(FileLineError) {
        try await publisher.queryLog.configure(configuration.log.dnstap, identity: configuration.queryLogIdentity,
                                               configFile: configPath, logger: logger)
    }

    /// The one place the start order, and so the stop order, is written.
    package static func ordered(control: any Service, health: any Service, dns: any Service, fleet: (any Service)? = nil,
                                stats: any Service, controller: any Service) -> [any Service] {
        [control, health, dns] + (fleet.map { [$0] } ?? []) + [stats, controller]
    }

    /// A group that stops every service gracefully on SIGTERM or SIGINT, or when one of them fails.
    package static func group(_ services: [any Service], logger: Logger, signals: [UnixSignal] = [.sigterm, .sigint]) -> ServiceGroup {
        let configurations = services.map {
            ServiceGroupConfiguration.ServiceConfiguration(service: $0, failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        return ServiceGroup(configuration: .init(services: configurations, gracefulShutdownSignals: signals, logger: logger))
    }

    /// Runs until SIGTERM or SIGINT; throws what stopped a service that failed.
    public func run() async throws {
        let outcome: Result<Void, any Error>
        do {
            try await Self.group(services, logger: logger).run()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try? await controlGroup.shutdownGracefully()
        logger.info("stopped")
        try outcome.get()
    }
}

/// The control socket for `dnsctl`: opened first, removed last.
struct ControlService: Service {
    let configPath: String
    let path: String
    let backend: ServerController
    let group: MultiThreadedEventLoopGroup
    let ready: StartupSignal
    let logger: Logger

    func run() async throws {
        let server: ControlServer
        do {
            server = try await ControlServer.start(path: path, backend: backend, group: group, logger: logger)
        } catch {
            throw LoadFailure(lines: ["\(configPath): control.socket: \(error)"])
        }
        ready.fire()
        try? await gracefulShutdown()
        await server.shutdown()
    }
}

/// Health checks and load feeds. Ready once every edge's first probe has answered or the
/// longest check timeout has passed, so the first DNS answers do not send clients to an edge
/// that is down; load feeds start shedding as their first reads come in.
struct HealthService: Service {
    let checker: HealthChecker
    let load: LoadMonitor
    let edges: [Edge]
    let publisher: SnapshotPublisher
    let ready: StartupSignal

    func run() async throws {
        await load.start()
        await checker.start()
        let longest = edges.compactMap { $0.check?.timeout }.max() ?? .zero
        if longest > .zero { _ = await checker.waitForFirstResults(timeout: longest) }
        publisher.health(await checker.currentTable)
        ready.fire()
        try? await gracefulShutdown()
        await checker.shutdown()
        await load.shutdown()
    }
}

/// This node's member of the fleet; it stops (giving up its lease) before health checks do.
struct FleetService: Service {
    let agent: FleetAgent
    let controller: ServerController

    func run() async throws {
        await agent.setPublicationHandler { [controller] directory, _ in
            switch await controller.reloadData(published: directory) {
            case .success: nil
            case .failure(let failure): failure.lines
            }
        }
        await cancelWhenGracefulShutdown { await agent.run() }
    }
}

/// Why the service tree could not be made.
public enum ServiceTreeError: Error, CustomStringConvertible {
    case stateFile(StateFileError)
    case fleet(EtcdError)

    public var description: String {
        switch self {
        case .stateFile(let error): "\(error)"
        case .fleet(let error): "\(error)"
        }
    }
}

/// The DNS ports, bound before the tree was made, served once everything in `after` is
/// ready (queries wait in the sockets' queues meanwhile).
struct DNSService: Service {
    let sockets: DNSSockets
    let settings: DNSSettings
    let publisher: SnapshotPublisher
    let threads: Int
    let after: [StartupSignal]
    let ready: StartupSignal
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [after] in
                for signal in after { try await signal.wait() }
            }
        } catch {
            return  // stopped before it started
        }
        let listeners = try DNSListeners.start(sockets: sockets, settings: settings, publisher: publisher, threads: threads,
                                                     logger: logger)
        ready.fire()
        try? await gracefulShutdown()
        logger.info("shutting down")
        await listeners.shutdown()
        // Every answer has been logged: the log ends with them.
        await publisher.queryLog.stop()
    }
}

extension MeridianConfiguration {
    /// The query log's default `identity`: the fleet node's name, else the host name.
    var queryLogIdentity: String { fleet?.node ?? hostName() }
}

/// The stats port, when configured. A port it cannot bind is logged, not fatal: DNS matters more.
struct StatsService: Service {
    let settings: StatsSettings?
    let backend: ServerController
    let group: MultiThreadedEventLoopGroup
    let logger: Logger

    func run() async throws {
        var server: StatsServer?
        if let settings {
            do {
                server = try await StatsServer.start(host: settings.listen.host.description, port: Int(settings.listen.port),
                                                     backend: backend, group: group, logger: logger)
            } catch {
                logger.error("stats port \(settings.listen) not started: \(error)")
            }
        }
        try? await gracefulShutdown()
        await server?.shutdown()
    }
}
