import ArgumentParser
import MeridianConfig
import MeridianControl

/// `dnsctl drain EDGE`: take an edge out of answers for maintenance.
struct Drain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Treat an edge as down whatever its health checks say, until undrained.",
        discussion: """
        Answers move to the next edges at once. The drain is saved in health.state_file and \
        survives restarts and reloads. On a fleet node (fleet: in the configuration) the drain \
        is written to etcd and every node applies it; --local drains this node alone.
        Exit codes: 0 success, 1 unknown edge or etcd unreachable, 2 no server answering.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The edge's name in the configuration.")
    var edge: String

    @Option(help: "Why, for the record (shown by dnsctl fleet and edges).")
    var reason: String?

    @Flag(help: "Drain on this node only, even in a fleet.")
    var local = false

    func run() throws {
        try setAdminState(edge: edge, drained: true, options: DrainOptions(reason: reason, local: local, by: operatorName()),
                          global: global)
    }
}

/// `dnsctl undrain EDGE`: let an edge answer again.
struct Undrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lift a drain: the edge answers again when its health checks pass.",
        discussion: """
        On a fleet node the fleet-wide drain is lifted in etcd (and this node's own, if any); \
        --local lifts this node's own drain only.
        Exit codes: 0 success, 1 unknown edge or etcd unreachable, 2 no server answering.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The edge's name in the configuration.")
    var edge: String

    @Flag(help: "Lift this node's own drain only, even in a fleet.")
    var local = false

    func run() throws {
        try setAdminState(edge: edge, drained: false, options: DrainOptions(local: local, by: operatorName()), global: global)
    }
}

/// `USER@HOST` of whoever runs dnsctl, recorded with fleet-wide drains.
func operatorName() -> String {
    let user = ProcessEnvironment.value("SUDO_USER") ?? ProcessEnvironment.value("USER") ?? ProcessEnvironment.value("LOGNAME") ?? "unknown"
    return "\(user)@\(hostName())"
}

private func setAdminState(edge: String, drained: Bool, options: DrainOptions, global: GlobalOptions) throws {
    let request: ControlRequest = drained ? .drain(edge: edge, options: options) : .undrain(edge: edge, options: options)
    try ControlConnection(global).request(request, expecting: EdgesReply.Row.self) { row in
        let health = row.state.rawValue + (row.result.map { ", \($0)" } ?? "")
        if drained {
            print("\(row.name) drained: it gets no answers until undrained (health: \(health))")
        } else if row.state == .down {
            print("\(row.name) undrained, but its health checks fail: it answers again once they pass (health: \(health))")
        } else {
            print("\(row.name) undrained: it answers again (health: \(health))")
        }
    }
}
