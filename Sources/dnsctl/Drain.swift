import ArgumentParser
import MeridianControl

/// `dnsctl drain EDGE`: take an edge out of answers for maintenance.
struct Drain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Treat an edge as down whatever its health checks say, until undrained.",
        discussion: """
        Answers move to the next edges at once. The drain is saved in health.state_file and \
        survives restarts and reloads.
        Exit codes: 0 success, 1 unknown edge, 2 no server answering.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The edge's name in the configuration.")
    var edge: String

    func run() throws {
        try setAdminState(edge: edge, drained: true, global: global)
    }
}

/// `dnsctl undrain EDGE`: let an edge answer again.
struct Undrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lift a drain: the edge answers again when its health checks pass.",
        discussion: "Exit codes: 0 success, 1 unknown edge, 2 no server answering."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The edge's name in the configuration.")
    var edge: String

    func run() throws {
        try setAdminState(edge: edge, drained: false, global: global)
    }
}

private func setAdminState(edge: String, drained: Bool, global: GlobalOptions) throws {
    let request: ControlRequest = drained ? .drain(edge: edge) : .undrain(edge: edge)
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
