import ArgumentParser
import MeridianConfig
import MeridianControl
import MeridianFiles

/// The way to a running server for the online commands: the socket from `--socket`, else
/// `control.socket` of the configuration file.
struct ControlConnection {
    private let socketPath: String
    /// The configuration file the path came from, for messages; `nil` with `--socket`.
    private let configPath: String?
    private let json: Bool

    init(_ global: GlobalOptions) {
        json = global.json
        if let socket = global.socket {
            socketPath = socket
            configPath = nil
            return
        }
        let path = global.configPath
        configPath = path
        do {
            // Read without validating: `reload` must reach the server even when the file
            // has mistakes, so that the server can report them.
            socketPath = try MeridianConfiguration.controlSocket(inFile: path)
        } catch {
            printError("note: cannot read \(path); trying the default control socket \(ControlSettings.defaultSocket)")
            socketPath = ControlSettings.defaultSocket
        }
    }

    /// Sends `request` and prints the reply: as JSON with `--json`, otherwise as `printText`
    /// writes it. Returns the reply for commands whose exit status depends on it. Failures
    /// are reported (on stderr, and as JSON on stdout with `--json`) and end the command with
    /// the exit code INTERFACE.md gives.
    @discardableResult
    func request<Reply: Codable>(
        _ request: ControlRequest, expecting type: Reply.Type, printText: (Reply) -> Void
    ) throws -> Reply {
        let reply: Reply
        do {
            reply = try ControlClient.send(request, socketPath: socketPath, expecting: type)
        } catch {
            let message = error.message(config: configPath)
            if json {
                print(ControlJSON.failureLine(ControlFailure(message, exitCode: error.exitCode)))
            }
            printError(message)
            throw ExitCode(error.exitCode)
        }
        if json {
            print(ControlJSON.encode(reply))
        } else {
            printText(reply)
        }
        return reply
    }
}
