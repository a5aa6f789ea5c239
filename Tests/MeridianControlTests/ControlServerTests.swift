import Foundation
import MeridianControl
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The control socket over a real Unix socket in a temporary directory, with a fake backend.
@Suite struct ControlServerTests {
    /// Starts a server in a fresh directory, runs `body`, shuts the server down.
    func withServer(
        backend: FakeBackend = FakeBackend(), socketName: String = "run/meridian.sock",
        _ body: (String, ControlServer, FakeBackend) async throws -> Void
    ) async throws {
        let directory = temporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/" + socketName
        let server = try await ControlServer.start(path: path, backend: backend, group: sharedGroup, logger: testLogger)
        do {
            try await body(path, server, backend)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    @Test func socketIsCreatedMode0600InANewDirectory() async throws {
        try await withServer(socketName: "a/b/meridian.sock") { path, _, _ in
            let mode = try #require(fileMode(path))
            #expect(mode & S_IFMT == S_IFSOCK)
            #expect(mode & 0o777 == 0o600)
        }
    }

    @Test func typedRequestsThroughTheClient() async throws {
        try await withServer { path, _, backend in
            let status = await onThread { try? ControlClient.send(.status, socketPath: path, expecting: StatusReply.self) }
            #expect(status?.version == "1.0.0-test")
            #expect(status?.zones.first?.serial == 2026112501)

            let drained = try await onThread {
                Result { () throws(ControlClientError) in
                    try ControlClient.send(.drain(edge: "fra1"), socketPath: path, expecting: EdgesReply.Row.self)
                }
            }.get()
            #expect(drained.admin == .drained)

            let explained = await onThread {
                try? ControlClient.send(.explain(name: "api.inference.example.", client: "81.2.69.142", prefix: 24, type: "AAAA"),
                                        socketPath: path, expecting: ExplainReply.self)
            }
            #expect(explained?.clientSource == .ecs)
            #expect(explained?.candidates.map(\.edge) == ["fra1", "iad1"])
            #expect(await backend.requests == ["status", "drain fra1", "explain api.inference.example. 81.2.69.142/24 AAAA"])
        }
    }

    @Test func refusalsCarryTheMessageAndExitCode1() async throws {
        try await withServer { path, _, _ in
            let error = await clientError { () throws(ControlClientError) in
                _ = try ControlClient.send(.undrain(edge: "nope1"), socketPath: path, expecting: EdgesReply.Row.self)
            }
            let failure = try #require(error)
            #expect(failure.exitCode == 1)
            #expect(failure.message(config: "meridian.yaml") == "unknown edge \"nope1\"")

            let notDynamic = await clientError { () throws(ControlClientError) in
                _ = try ControlClient.send(.explain(name: "www.example.", client: "192.0.2.1"), socketPath: path,
                                           expecting: ExplainReply.self)
            }
            #expect(notDynamic?.exitCode == 1)
            #expect(notDynamic?.description.contains("not a dynamic name") == true)
        }
    }

    @Test func severalRequestsOnOneConnectionAreAnsweredInOrder() async throws {
        try await withServer { path, _, _ in
            let lines = await onThread { () -> [String?] in
                guard let connection = RawConnection(path: path) else { return [] }
                // All three at once, then read: replies must come back in request order.
                connection.send("{\"command\":\"edges\"}\n{\"command\":\"drain\",\"edge\":\"iad1\"}\r\n\n{\"command\":\"status\"}\n")
                var lines = [connection.readLine(), connection.readLine(), connection.readLine()]
                connection.send("{\"command\":\"stats\"}\n")
                lines.append(connection.readLine())
                return lines
            }
            try #require(lines.count == 4)
            let replies = lines.map(object)
            #expect(replies.allSatisfy { $0["ok"] as? Bool == true })
            #expect(((replies[0]["result"] as? [String: Any])?["edges"] as? [Any])?.count == 2)
            #expect((replies[1]["result"] as? [String: Any])?["admin"] as? String == "drained")
            #expect((replies[2]["result"] as? [String: Any])?["queriesTotal"] as? Int == 42)
            #expect((replies[3]["result"] as? [String: Any])?["version"] as? String == "1.0.0-test")
        }
    }

    @Test func clientsAreServedConcurrently() async throws {
        let clients = 6
        try await withServer(backend: FakeBackend(rendezvous: clients)) { path, _, backend in
            let versions = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        await onThread { try? ControlClient.send(.status, socketPath: path, expecting: StatusReply.self).version }
                    }
                }
                var versions: [String?] = []
                for await version in group { versions.append(version) }
                return versions
            }
            #expect(versions == Array(repeating: "1.0.0-test", count: clients))
            // Every request was in progress at the same moment: none waited for another.
            #expect(await backend.met)
        }
    }

    @Test func malformedRequestsGetAnErrorAndTheConnectionStaysUsable() async throws {
        try await withServer { path, _, _ in
            let lines = await onThread { () -> [String?] in
                guard let connection = RawConnection(path: path) else { return [] }
                var lines: [String?] = []
                for request in ["{not json", "[1,2]", "{\"command\":\"explode\"}", "{\"command\":\"drain\"}",
                                "{\"command\":\"explain\",\"name\":\"x.\",\"client\":\"1.2.3.4\",\"prefix\":\"24\"}",
                                "\u{FF}\u{FE}", "{\"command\":\"status\"}"] {
                    connection.send(request + "\n")
                    lines.append(connection.readLine())
                }
                return lines
            }
            try #require(lines.count == 7)
            let replies = lines.map(object)
            for reply in replies.dropLast() {
                #expect(reply["ok"] as? Bool == false)
                #expect((reply["error"] as? String)?.hasPrefix("malformed request") == true)
            }
            #expect((replies[2]["error"] as? String)?.contains("unknown command \"explode\"") == true)
            #expect((replies[3]["error"] as? String)?.contains("\"edge\"") == true)
            #expect(replies.last?["ok"] as? Bool == true)
        }
    }

    @Test func oversizedRequestsAreRefusedAndTheConnectionClosed() async throws {
        try await withServer { path, _, _ in
            let (reply, closed) = await onThread { () -> (String?, Bool) in
                guard let connection = RawConnection(path: path) else { return (nil, false) }
                let filler = String(repeating: "x", count: ControlServer.maximumRequestBytes + 100)
                connection.send("{\"command\":\"status\",\"pad\":\"\(filler)\"}\n")
                return (connection.readLine(), connection.readsEndOfStream())
            }
            let refusal = object(reply)
            #expect(refusal["ok"] as? Bool == false)
            #expect((refusal["error"] as? String)?.contains("longer than 65536 bytes") == true)
            #expect(closed)

            // A request just under the limit is fine, and the server still serves others.
            let fine = await onThread { () -> String? in
                guard let connection = RawConnection(path: path) else { return nil }
                let filler = String(repeating: "x", count: ControlServer.maximumRequestBytes - 40)
                connection.send("{\"command\":\"status\",\"pad\":\"\(filler)\"}\n")
                return connection.readLine()
            }
            #expect(object(fine)["ok"] as? Bool == true)
        }
    }

    @Test func aLastRequestWithoutNewlineBeforeHalfCloseIsAnswered() async throws {
        try await withServer { path, _, _ in
            let reply = await onThread { () -> String? in
                guard let connection = RawConnection(path: path) else { return nil }
                connection.send("{\"command\":\"status\"}")
                connection.shutdownWrite()
                return connection.readLine()
            }
            #expect(object(reply)["ok"] as? Bool == true)
        }
    }

    @Test func aStaleSocketFileIsReplaced() async throws {
        let directory = temporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/meridian.sock"
        try #require(makeStaleSocketFile(at: path))
        try #require(fileExists(path))

        let server = try await ControlServer.start(path: path, backend: FakeBackend(), group: sharedGroup, logger: testLogger)
        let status = await onThread { try? ControlClient.send(.status, socketPath: path, expecting: StatusReply.self) }
        #expect(status != nil)
        #expect(try #require(fileMode(path)) & 0o777 == 0o600)
        await server.shutdown()
    }

    @Test func aLiveSocketIsNotTakenOver() async throws {
        try await withServer { path, _, _ in
            await #expect {
                _ = try await ControlServer.start(path: path, backend: FakeBackend(), group: sharedGroup, logger: testLogger)
            } throws: { error in
                guard case ControlServerError.alreadyRunning(let reported) = error else { return false }
                return reported == path && "\(error)".contains("another Meridian server is already running")
            }
            // The first server still owns the socket.
            let status = await onThread { try? ControlClient.send(.status, socketPath: path, expecting: StatusReply.self) }
            #expect(status != nil)
        }
    }

    @Test func aFileThatIsNotASocketIsLeftAlone() async throws {
        let directory = temporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/meridian.sock"
        try "keep me".write(toFile: path, atomically: false, encoding: .utf8)
        await #expect(throws: ControlServerError.self) {
            _ = try await ControlServer.start(path: path, backend: FakeBackend(), group: sharedGroup, logger: testLogger)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
    }

    @Test func theSocketFileIsRemovedOnShutdown() async throws {
        let directory = temporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/meridian.sock"
        let server = try await ControlServer.start(path: path, backend: FakeBackend(), group: sharedGroup, logger: testLogger)
        #expect(fileExists(path))
        // An idle connection does not hold shutdown up.
        let connection = await onThread { RawConnection(path: path) }
        #expect(connection != nil)
        await server.shutdown()
        #expect(!fileExists(path))
        let closed = await onThread { connection?.readsEndOfStream() ?? false }
        #expect(closed)

        // And the same path can be used again right away.
        let again = try await ControlServer.start(path: path, backend: FakeBackend(), group: sharedGroup, logger: testLogger)
        await again.shutdown()
        #expect(!fileExists(path))
    }

    @Test func connectionsOpenedJustBeforeShutdownAreClosedToo() async throws {
        // Connections still being set up when the listener closes are the ones nothing else
        // would ever close; many at once make that window likely.
        for _ in 0..<5 {
            let directory = temporaryDirectory()
            defer { removeTree(directory) }
            let path = directory + "/meridian.sock"
            let server = try await ControlServer.start(path: path, backend: FakeBackend(), group: sharedGroup, logger: testLogger)
            let connections = await onThread { (0..<20).compactMap { _ in RawConnection(path: path) } }
            await server.shutdown()
            let closed = await onThread { connections.allSatisfy { $0.readsEndOfStream() } }
            #expect(connections.count == 20)
            #expect(closed)
        }
    }

    @Test func tooLongPathsAreReported() async throws {
        let path = "/tmp/" + String(repeating: "d", count: 120) + "/meridian.sock"
        await #expect {
            _ = try await ControlServer.start(path: path, backend: FakeBackend(), group: sharedGroup, logger: testLogger)
        } throws: { error in
            guard case ControlServerError.pathTooLong = error else { return false }
            return true
        }
    }
}

@Suite struct ControlClientTests {
    @Test func nothingListeningIsExit2WithAClearMessage() async throws {
        let directory = temporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/meridian.sock"
        let error = await clientError { () throws(ControlClientError) in
            _ = try ControlClient.send(.status, socketPath: path, expecting: StatusReply.self)
        }
        let failure = try #require(error)
        #expect(failure.exitCode == 2)
        #expect(failure.message(config: "meridian.yaml")
            == "no Meridian server is listening on \(path) (is meridian running? see control.socket in meridian.yaml)")
    }

    @Test func aStaleSocketFileIsAlsoNothingListening() async throws {
        let directory = temporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/meridian.sock"
        try #require(makeStaleSocketFile(at: path))
        let error = await clientError { () throws(ControlClientError) in
            _ = try ControlClient.exchange(.status, socketPath: path)
        }
        guard case .notListening(let reported) = error else {
            Issue.record("expected notListening, got \(String(describing: error))")
            return
        }
        #expect(reported == path)
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        let directory = temporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/meridian.sock"
        // A listener that accepts (the kernel does, from the backlog) but never replies.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        _ = withSocketAddress(path) { bind(fd, $0, $1) }
        listen(fd, 4)
        let error = await clientError { () throws(ControlClientError) in
            _ = try ControlClient.exchange(.status, socketPath: path, timeout: .milliseconds(300))
        }
        guard case .timedOut = error else {
            Issue.record("expected a time-out, got \(String(describing: error))")
            return
        }
        #expect(error?.exitCode == 2)
    }

    @Test func reloadGetsTheLongTimeout() {
        #expect(ControlClient.timeout(for: .reload) == .seconds(120))
        #expect(ControlClient.timeout(for: .status) == .seconds(10))
    }
}
