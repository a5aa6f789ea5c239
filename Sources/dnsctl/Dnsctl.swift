import ArgumentParser
import MeridianConfig

/// `dnsctl`: Meridian's operator tool. Offline commands work on files; the others talk to a
/// running server through its control socket.

struct Dnsctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnsctl",
        abstract: "Check, inspect and control the Meridian DNS server.",
        discussion: """
        Offline: check, dump-zone, geoip build. publish talks to etcd, not to the server.
        Exit codes: 0 success, 1 rejected input or unknown name, 2 no server answering or a usage error.
        """,
        version: "dnsctl \(MeridianVersion.current)",
        subcommands: [Check.self, DumpZone.self, GeoIP.self, Reload.self, Status.self, Edges.self, Drain.self, Undrain.self, Explain.self, Stats.self,
                      Fleet.self, Publish.self, Keygen.self]
    )
}

/// Options every command accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: $MERIDIAN_CONFIG or ./meridian.yaml).")
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Control socket of the running server (default: control.socket of the configuration).",
                                            valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false

    var configPath: String {
        config ?? ProcessEnvironment.value("MERIDIAN_CONFIG") ?? "meridian.yaml"
    }
}
