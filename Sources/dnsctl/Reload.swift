import ArgumentParser
import MeridianControl
import MeridianFiles

/// `dnsctl reload`: like SIGHUP, but it waits for the outcome and reports it.
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-read configuration, zones and the GeoIP database and swap them in.",
        discussion: """
        Everything is validated first; the new data replaces the old in one step and the \
        command returns once every listener serves it. It prints what changed: zones with \
        old → new serial, zones added or removed, edges and pools added, removed or changed.

        A zone whose records changed while its serial did not, or whose serial went \
        backwards, is served and reported on stderr as FILE:LINE: warning (with \
        zones.serial_check: error the reload is rejected instead).

        When anything is wrong nothing changes: the old data keeps serving, every error is \
        printed to stderr as FILE:LINE: message and the exit status is 1.
        Exit codes: 0 reloaded, 1 rejected, 2 no server answering.
        """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let reply = try ControlConnection(global).request(.reload, expecting: ReloadReply.self, printText: Self.report)
        if !reply.ok { throw ExitCode(1) }
    }

    /// What changed on stdout, or on stderr every reason the server refused.
    static func report(_ reply: ReloadReply) {
        guard reply.ok else {
            for error in reply.errors { printError(error) }
            for note in reply.notes { printError("note: \(note)") }
            let count = reply.errors.count
            printError("reload rejected (\(count) error\(count == 1 ? "" : "s")); the previous configuration and zones keep serving")
            return
        }
        if reply.changes.isEmpty {
            print("reloaded: nothing changed")
        } else {
            print("reloaded:")
            for change in reply.changes { print("  \(change)") }
        }
        for note in reply.notes { print("note: \(note)") }
        for warning in reply.warnings { printError("warning: \(warning)") }
    }
}
