import Logging
import MeridianFiles
import MeridianLoad
import MeridianServer

#if canImport(Glibc)
import Glibc
#endif

/// `meridian [--config PATH] [--version]`
func parseArguments() -> String {
    var configPath = getenv("MERIDIAN_CONFIG").map { String(cString: $0) } ?? "meridian.yaml"
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
        case "--help", "-h":
            print("""
            usage: meridian [--config PATH] [--version]

            Serves the zones and routing of PATH (default ./meridian.yaml or $MERIDIAN_CONFIG).
            SIGHUP reloads configuration and zones; SIGTERM or SIGINT stop gracefully.
            """)
            exit(0)
        default:
            printError("meridian: unknown argument \(argument) (see --help)")
            exit(64)
        }
    }
    return configPath
}

let configPath = parseArguments()
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
let logger = Logger(label: "meridian")

let loaded: LoadedServer
do {
    loaded = try ServerLoader.load(configPath: configPath)
} catch {
    for line in error.lines { printError(line) }
    printError("meridian: not started: \(error.lines.count) error(s)")
    exit(1)
}
releaseFreeMemory()

do {
    try await ServiceTree(configPath: configPath, loaded: loaded, threads: usableCPUs(), logger: logger).run()
} catch {
    logger.error("meridian failed: \(error)")
    exit(1)
}
