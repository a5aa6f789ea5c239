import Logging
import MeridianConfig
import MeridianFiles
import MeridianFleet
import MeridianHealth
import MeridianLoad
import MeridianServer

#if canImport(Glibc)
import Glibc
#endif

/// `meridian [--config PATH] [--ignore-admin-state] [--version]`
func parseArguments() -> (configPath: String, damagedStateFile: HealthChecker.DamagedStateFile) {
    var configPath = getenv("MERIDIAN_CONFIG").map { String(cString: $0) } ?? "meridian.yaml"
    var damagedStateFile = HealthChecker.DamagedStateFile.refuse
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--version", "-V":
            print("meridian \(MeridianVersion.current)")
            exit(0)
        case "--config", "-c":
            guard let path = arguments.popFirst() else {
                printError("meridian: --config needs a path")
                exit(64)
            }
            configPath = path
        case let value where value.hasPrefix("--config="):
            configPath = String(value.dropFirst("--config=".count))
        case "--ignore-admin-state":
            damagedStateFile = .ignore
        case "--help", "-h":
            print("""
            usage: meridian [--config PATH] [--ignore-admin-state] [--version]

            Serves the zones and routing of PATH (default ./meridian.yaml or $MERIDIAN_CONFIG).
            SIGHUP reloads configuration and zones; SIGTERM or SIGINT stop gracefully.

              --ignore-admin-state  start even when health.state_file cannot be read, with no
                                    edge drained (by default a damaged file stops the start,
                                    so no drain an operator set is silently undone)
            """)
            exit(0)
        default:
            printError("meridian: unknown argument \(argument) (see --help)")
            exit(64)
        }
    }
    return (configPath, damagedStateFile)
}

let (configPath, damagedStateFile) = parseArguments()
mapLargeAllocations()
LoggingSystem.bootstrap(ServerLogHandler.init)
let logger = Logger(label: "meridian")

/// A fleet node serving published data starts from the publication it served last, so that
/// it answers as the fleet does before etcd is reached; when that copy no longer loads
/// (its GeoIP file is gone, say), from its own files, and the fleet sends it the data again.
func loadAtStart() throws(LoadFailure) -> (LoadedServer, published: String?) {
    let configuration = try ServerLoader.configuration(path: configPath)
    ServerLogHandler.output.apply(configuration.log)
    if let fleet = configuration.fleet, fleet.data == .published {
        let store = PublishedStore(directory: fleet.publishedDirectory)
        if let revision = store.current() {
            do {
                return (try ServerLoader.load(configPath: configPath, published: store.path(of: revision)), store.path(of: revision))
            } catch {
                for line in error.lines { logger.warning("\(line)") }
                logger.warning("the fleet publication kept in \(store.path(of: revision)) does not load; starting from this node's own data")
            }
        }
    }
    return (try ServerLoader.load(configuration), nil)
}

/// The services, built from the data loaded at start. In a function so that this first data
/// is not a global: a global would keep every zone of it in memory after a reload replaced it.
func startingServices() -> ServiceTree {
    let loaded: LoadedServer
    let publishedDirectory: String?
    do {
        (loaded, publishedDirectory) = try loadAtStart()
    } catch {
        for line in error.lines { printError(line) }
        printError("meridian: not started: \(error.lines.count) error(s)")
        exit(1)
    }
    releaseFreeMemory()

    let descriptorLimit = DescriptorBudget.raiseLimit()
    let threads = usableCPUs()
    // Every DNS port before anything else starts: a port that is taken is the whole message.
    let sockets: DNSSockets
    do {
        sockets = try DNSSockets.bind(loaded.configuration.dns.listen, perAddress: threads)
    } catch {
        printError("meridian: not started: \(error)")
        exit(1)
    }

    do {
        return try ServiceTree(configPath: configPath, loaded: loaded, publishedDirectory: publishedDirectory, sockets: sockets,
                               threads: threads, descriptorLimit: descriptorLimit, damagedStateFile: damagedStateFile, logger: logger)
    } catch {
        printError("\(error)")
        if case .stateFile = error {
            printError("meridian: not started: the admin state file holds the operator's drains; fix or remove it, or start with --ignore-admin-state to start with no edge drained")
        } else {
            printError("meridian: not started")
        }
        exit(1)
    }
}

let services = startingServices()
do {
    try await services.startQueryLog()
} catch {
    printError("\(error)")
    printError("meridian: not started")
    exit(1)
}
do {
    try await services.run()
} catch {
    logger.error("meridian failed: \(error)")
    exit(1)
}
