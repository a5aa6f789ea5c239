import ArgumentParser
import MeridianConfig

/// `dnsctl`: Meridian's operator tool. Offline commands work on files; the others talk to a
/// running server through its control socket.

struct Dnsctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnsctl",
        abstract: "Check, inspect and control the Meridian DNS server.",
        discussion: """
        Offline: check, dump-zone, geoip build, keygen. publish talks to etcd, not to the server.
        Exit codes: 0 success, 1 rejected input or unknown name, 2 no server answering or a usage error.

        Options of every command:
          --config <config>       Configuration file (default: $MERIDIAN_CONFIG or ./meridian.yaml);
                                  relative paths in it are taken from its directory.
          --json                  Print machine-readable JSON instead of text.
        and of the commands that talk to the server:
          --socket <path>         Control socket of the running server (default: control.socket
                                  of the configuration).
        """,
        version: "dnsctl \(MeridianVersion.current)",
        subcommands: [Check.self, DumpZone.self, GeoIP.self, Reload.self, Status.self, Edges.self, Drain.self, Undrain.self, Explain.self, Stats.self,
                      Fleet.self, Publish.self, Keygen.self]
    )
}

/// The configuration file, as every command takes it.
protocol ConfigFileOptions {
    var config: String? { get }
}

extension ConfigFileOptions {
    var configPath: String {
        config ?? ProcessEnvironment.value("MERIDIAN_CONFIG") ?? "meridian.yaml"
    }
}

/// Options of the offline commands. `--socket` is accepted, as INTERFACE.md lets every
/// command take it, but not shown: these commands work on files and never use it.
struct FileOptions: ParsableArguments, ConfigFileOptions {
    @Option(name: .long, help: "Configuration file (default: $MERIDIAN_CONFIG or ./meridian.yaml).")
    var config: String?

    @Option(name: .long, help: .hidden)
    var socket: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false
}

/// Options of the commands that talk to a running server.
struct GlobalOptions: ParsableArguments, ConfigFileOptions {
    @Option(name: .long, help: "Configuration file (default: $MERIDIAN_CONFIG or ./meridian.yaml).")
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Control socket of the running server (default: control.socket of the configuration).",
                                            valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false
}
