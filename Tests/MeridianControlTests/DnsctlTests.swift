import Foundation
import MeridianControl
import Testing

enum DnsctlBinary {
    /// `DNSCTL_BIN`, else `dnsctl` in the build directory the tests run from.
    static let binary: String? = {
        if let path = ProcessInfo.processInfo.environment["DNSCTL_BIN"] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("dnsctl").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }()
}

/// The online `dnsctl` commands as built, against a control server with the fake backend:
/// output in both modes and the exit codes of INTERFACE.md. (The end-to-end suite runs them
/// against the real server.)
@Suite(.enabled(if: DnsctlBinary.binary != nil, "the dnsctl executable is not built next to the tests (set DNSCTL_BIN)"))
struct DnsctlTests {
    struct Run: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func dnsctl(_ arguments: [String], in directory: String? = nil) async -> Run {
        await onThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DnsctlBinary.binary!)
            process.arguments = arguments
            if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "MERIDIAN_CONFIG")
            process.environment = environment
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            do { try process.run() } catch { return Run(status: -1, stdout: "", stderr: "\(error)") }
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
        }
    }

    func withServer(_ body: (String, String) async throws -> Void) async throws {
        let directory = temporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/run/meridian.sock"
        let server = try await ControlServer.start(path: path, backend: FakeBackend(), group: sharedGroup, logger: testLogger)
        do {
            try await body(directory, path)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try ControlJSON.decoder().decode(type, from: Data(text.utf8))
    }

    @Test func statusEdgesAndStatsInBothModes() async throws {
        try await withServer { _, socket in
            let status = await dnsctl(["--socket", socket, "status"])
            #expect(status.status == 0)
            #expect(status.stdout.hasPrefix("meridian 1.0.0-test, up 12s"))
            #expect(status.stdout.contains("inference.example.  2026112501       12"))
            let statusJSON = await dnsctl(["--json", "--socket", socket, "status"])
            let statusReply = try decode(StatusReply.self, statusJSON.stdout)
            #expect(statusReply.queriesTotal == 42)

            let edges = await dnsctl(["edges", "--socket", socket])
            #expect(edges.status == 0)
            #expect(edges.stdout.split(separator: "\n").first?.hasPrefix("EDGE  STATE  ADMIN") == true)
            #expect(edges.stdout.contains("HTTP 200"))
            let edgesJSON = await dnsctl(["--socket", socket, "--json", "edges"])
            let edgesReply = try decode(EdgesReply.self, edgesJSON.stdout)
            #expect(edgesReply.edges.map(\.name) == ["fra1", "iad1"])

            let stats = await dnsctl(["--socket", socket, "stats"])
            #expect(stats.status == 0)
            #expect(stats.stdout.contains("reloads    0 ok, 0 failed"))
            #expect(stats.stdout.contains("rrl        0 limited (-); slipped 0, dropped 0"))
            let statsJSON = await dnsctl(["--socket", socket, "stats", "--json"])
            let statsReply = try decode(StatsReply.self, statsJSON.stdout)
            #expect(statsReply.version == "1.0.0-test")
        }
    }

    @Test func drainAndUndrain() async throws {
        try await withServer { _, socket in
            let drained = await dnsctl(["--socket", socket, "drain", "fra1"])
            #expect(drained.status == 0)
            #expect(drained.stdout.hasPrefix("fra1 drained"))
            let undrained = await dnsctl(["--socket", socket, "--json", "undrain", "fra1"])
            #expect(undrained.status == 0)
            let row = try decode(EdgesReply.Row.self, undrained.stdout)
            #expect(row.admin == .active)

            let unknown = await dnsctl(["--socket", socket, "drain", "xyz9"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr == "unknown edge \"xyz9\"\n")
            let unknownJSON = await dnsctl(["--socket", socket, "--json", "drain", "xyz9"])
            #expect(unknownJSON.status == 1)
            #expect(unknownJSON.stdout == "{\"error\":\"unknown edge \\\"xyz9\\\"\",\"exitCode\":1,\"ok\":false}\n")
        }
    }

    @Test func explainReport() async throws {
        try await withServer { _, socket in
            let report = await dnsctl(["--socket", socket, "explain", "api.inference.example", "81.2.69.142/24"])
            #expect(report.status == 0)
            let lines = report.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "api.inference.example. A for 81.2.69.142 (ECS 81.2.69.0/24 → database network 81.2.69.0/22)")
            #expect(lines.contains("location  51.50, -0.12  GB-ENG EU   source database"))
            #expect(lines.contains("pool      inference (nearest, answers 1)"))
            #expect(lines.contains { $0.hasPrefix("  1.  fra1") && $0.contains("637 km") && $0.hasSuffix("chosen") })
            #expect(lines.contains { $0.hasPrefix("  2.  iad1") && $0.contains("5,890 km") })
            #expect(lines.contains("answer    api.inference.example. 30 IN A 192.0.2.10   (TTL 30, ECS scope /22)"))

            let json = await dnsctl(["--socket", socket, "--json", "explain", "api.inference.example.", "81.2.69.142", "aaaa"])
            let reply = try decode(ExplainReply.self, json.stdout)
            #expect(reply.type == "AAAA" && reply.clientSource == .source && reply.prefix == 32)

            let notDynamic = await dnsctl(["--socket", socket, "explain", "www.example", "192.0.2.1"])
            #expect(notDynamic.status == 1)
            #expect(notDynamic.stderr.contains("www.example. is not a dynamic name"))

            let badPrefix = await dnsctl(["--socket", socket, "explain", "api.inference.example", "192.0.2.1/33"])
            // A malformed argument is a usage error: exit 2 with the reason and the usage line.
            #expect(badPrefix.status == 2)
            #expect(badPrefix.stderr.contains("prefix length"))
            #expect(badPrefix.stderr.contains("Usage: dnsctl explain"))
        }
    }

    @Test func rejectedReloadPrintsEveryErrorAndExits1() async throws {
        try await withServer { _, socket in
            let reload = await dnsctl(["--socket", socket, "reload"])
            #expect(reload.status == 1)
            #expect(reload.stdout.isEmpty)
            #expect(reload.stderr.hasPrefix("zones/inference.example.zone:7: unknown record type \"AAA\"\n"))
            let json = await dnsctl(["--socket", socket, "--json", "reload"])
            #expect(json.status == 1)
            let reply = try decode(ReloadReply.self, json.stdout)
            #expect(reply.errors.count == 1)
        }
    }

    @Test func theSocketComesFromTheConfiguration() async throws {
        try await withServer { directory, socket in
            // A configuration with an error elsewhere still names the socket, so that
            // `dnsctl reload` can reach the server and have it report the error.
            let config = directory + "/broken.yaml"
            try "dns:\n  listen: [nonsense]\ncontrol:\n  socket: \"\(socket)\"   # the server's\n".write(toFile: config, atomically: true, encoding: .utf8)
            let status = await dnsctl(["--config", config, "status"])
            #expect(status.status == 0, "\(status.stderr)")

            // The default socket, relative to the working directory.
            let relative = await dnsctl(["--config", directory + "/missing.yaml", "status"], in: directory)
            #expect(relative.status == 0)
            #expect(relative.stderr.contains("cannot read"))
        }
    }

    @Test func noServerIsExit2() async throws {
        let directory = temporaryDirectory()
        defer { removeTree(directory) }
        let config = directory + "/meridian.yaml"
        try "control:\n  socket: \(directory)/none.sock\n".write(toFile: config, atomically: true, encoding: .utf8)
        for command in [["status"], ["edges"], ["stats"], ["reload"], ["drain", "fra1"], ["undrain", "fra1"],
                        ["explain", "api.inference.example", "192.0.2.1"]] {
            let run = await dnsctl(["--config", config] + command)
            #expect(run.status == 2, "\(command)")
            #expect(run.stderr == "no Meridian server is listening on \(directory)/none.sock (is meridian running? see control.socket in \(config))\n")
        }
    }
}
