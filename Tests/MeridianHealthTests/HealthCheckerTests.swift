import Foundation
import Logging
import MeridianConfig
import MeridianFiles
import MeridianHealth
import MeridianRouting
import NIOConcurrencyHelpers
import Testing

/// The checker end to end against real local servers: thresholds, transitions published and
/// logged, timeouts, drains persisted, reloads.
@Suite struct HealthCheckerTests {
    static let down = HealthTable.State.down.rawValue
    static let drained = HealthTable.State.drained.rawValue

    func edge(_ name: String, _ check: HealthCheck?) -> Edge {
        Edge(name: name, location: Location(latitude: 0, longitude: 0), addresses: [IPAddress("192.0.2.1")!], check: check)
    }

    func http(_ url: String, rise: Int = 2, fall: Int = 2, interval: Duration = .milliseconds(100),
              timeout: Duration = .milliseconds(300), expectStatus: [Int] = [200]) -> HealthCheck {
        HealthCheck(kind: .http(url: url), expectStatus: expectStatus, interval: interval, timeout: timeout, rise: rise, fall: fall)
    }

    func makeChecker(_ edges: [Edge], stateFile: String? = nil, damagedStateFile: HealthChecker.DamagedStateFile = .refuse,
                     logs: LogCapture = LogCapture(), recorder: TableRecorder = TableRecorder()) throws -> HealthChecker {
        try HealthChecker(edges: edges, stateFile: stateFile, damagedStateFile: damagedStateFile, logger: logs.logger()) { table in
            recorder.record(table.states.map(\.rawValue))
        }
    }

    func report(_ checker: HealthChecker, _ name: String) async -> EdgeHealthReport? {
        await checker.snapshot().first { $0.edge == name }
    }

    @Test func risesAndFallsOnlyAtTheThresholds() async throws {
        let server = try await HTTPTestServer.start()
        let logs = LogCapture()
        let recorder = TableRecorder()
        let checker = try makeChecker([edge("a", http(server.url, rise: 2, fall: 3))], logs: logs, recorder: recorder)
        await checker.start()
        #expect(recorder.all.first == [0], "the initial table is published at start, every edge up")

        #expect(await eventually { await report(checker, "a")?.state == .up })
        #expect(await report(checker, "a")?.lastResult == "HTTP 200")

        // Two failures in a row are fewer than fall = 3: never down.
        server.script([503, 503])
        #expect(await eventually {
            guard let a = await report(checker, "a") else { return false }
            return a.lastPassed == true && server.requests >= 5 && a.consecutivePasses >= 1 && a.probes >= 4
        })
        #expect(await eventually { server.requests >= 5 })
        #expect(!recorder.all.contains { $0[0] & Self.down != 0 })
        #expect(await report(checker, "a")?.transitions == 0)

        let failedAt = ContinuousClock.now
        server.set(.respond(status: 503, body: "no"))
        #expect(await eventually { recorder.last == [Self.down] })
        // fall × interval + timeout, with room for a slow machine.
        #expect(ContinuousClock.now - failedAt < .milliseconds(300 + 300 + 2000))
        let down = try #require(await report(checker, "a"))
        #expect(down.state == .down)
        #expect(down.routable == false)
        #expect(down.consecutiveFailures >= 3)
        #expect(down.lastResult == "HTTP 503")
        #expect(down.transitions == 1)

        server.set(HTTPTestServer.ok)
        #expect(await eventually { recorder.last == [0] })
        let up = try #require(await report(checker, "a"))
        #expect(up.state == .up)
        #expect(up.consecutivePasses >= 2)
        #expect(up.transitions == 2)
        #expect(up.lastLatencyMs.map { $0 > 0 && $0 < 300 } == true)
        #expect(up.lastCheckTime.map { abs($0 - Date().timeIntervalSince1970) < 5 } == true)

        await checker.shutdown()
        // Every change logged exactly once: first result, down, up; down as a warning, the
        // recovery as a notice, the first result (routine at start) as info.
        let changes = logs.all.filter { $0.message == "edge up" || $0.message == "edge down" }
        #expect(changes.map { "\($0.metadata["old"] ?? "")>\($0.metadata["new"] ?? "")" } == ["unknown>up", "up>down", "down>up"])
        #expect(changes.map(\.level) == [.info, .warning, .notice])
        #expect(changes.allSatisfy { $0.metadata["edge"] == "a" })
        #expect(changes[1].metadata["reason"]?.hasPrefix("HTTP 503 (3 consecutive failures") == true)
        // Exactly one table per routing change: start, down, up.
        #expect(recorder.all == [[0], [Self.down], [0]])

        // After shutdown nothing probes or publishes: a second checker serves as the clock.
        let requests = server.requests
        let published = recorder.all.count
        let other = try await HTTPTestServer.start()
        let clock = try makeChecker([edge("clock", http(other.url))])
        await clock.start()
        #expect(await eventually { (await report(clock, "clock")?.probes ?? 0) >= 4 })
        await clock.shutdown()
        #expect(server.requests == requests, "no probes after shutdown")
        #expect(recorder.all.count == published)
        await server.stop()
        await other.stop()
    }

    @Test func hangingProbeCostsOnlyItsTimeoutAndDelaysNoOtherEdge() async throws {
        let slow = try await HTTPTestServer.start(mode: .hang)
        let fast = try await HTTPTestServer.start()
        let checker = try makeChecker([
            edge("slow", http(slow.url, fall: 1, interval: .milliseconds(100), timeout: .seconds(1))),
            edge("fast", http(fast.url)),
        ])
        let clock = ContinuousClock()
        let start = clock.now
        await checker.start()
        #expect(await checker.waitForFirstResults(timeout: .seconds(10)))
        // The slow server never answers: the timeout ended it (with room for a busy 2-core machine).
        #expect(clock.now - start < .milliseconds(6000), "first probes run at once and are bounded by the timeout")
        let slowReport = try #require(await report(checker, "slow"))
        #expect(slowReport.state == .down)
        #expect(slowReport.lastResult == "timeout after 1s")
        #expect(slowReport.lastLatencyMs.map { $0 >= 1000 && $0 < 6000 } == true)
        // While the slow edge's probe hung for a second, the fast edge was probed every 100 ms.
        #expect(try #require(await report(checker, "fast")).probes >= 5)
        await checker.shutdown()
        await slow.stop()
        await fast.stop()
    }

    @Test func frequentProbesReuseOneConnection() async throws {
        let server = try await HTTPTestServer.start(mode: .keepAlive)
        let checker = try makeChecker([edge("a", http(server.url))])
        await checker.start()
        #expect(await eventually { (await report(checker, "a")?.probes ?? 0) >= 5 })
        #expect(await report(checker, "a")?.lastResult == "HTTP 200")
        #expect(server.connections == 1, "probes 100 ms apart share one kept-alive connection")
        // An edge that stops keeping connections alive is probed over fresh ones.
        server.set(HTTPTestServer.ok)
        let requests = server.requests
        #expect(await eventually { server.requests >= requests + 3 })
        #expect(server.connections >= 3)
        #expect(await report(checker, "a")?.consecutiveFailures == 0)
        await checker.shutdown()
        await server.stop()
    }

    @Test func firstResultDecidesAndEdgesWithoutChecksStayUp() async throws {
        let listener = try await TCPTestListener.start()
        let refusing = try RefusingPort()
        let refused = refusing.port
        let tcp = { (port: Int) in
            HealthCheck(kind: .tcp(host: "127.0.0.1", port: port), interval: .milliseconds(100),
                        timeout: .milliseconds(300), rise: 2, fall: 3)
        }
        let recorder = TableRecorder()
        let checker = try makeChecker([edge("dead", tcp(refused)), edge("plain", nil), edge("tcp", tcp(listener.port))],
                                  recorder: recorder)
        #expect(await checker.currentTable.states == [[], [], []], "until a first result every edge counts as up")
        await checker.start()
        #expect(await checker.waitForFirstResults(timeout: .seconds(2)))
        // Published before the wait ends: the DNS listeners open right after it.
        #expect(recorder.last == [Self.down, 0, 0])
        let dead = try #require(await report(checker, "dead"))
        #expect(dead.state == .down)
        #expect(dead.lastResult == "connection refused")
        #expect(dead.transitions == 1)
        let plain = try #require(await report(checker, "plain"))
        #expect(plain.state == .up && plain.check == nil && plain.probes == 0 && plain.lastResult == nil)
        #expect(await report(checker, "tcp")?.lastResult == "connected")
        #expect(await report(checker, "tcp")?.check == "tcp://127.0.0.1:\(listener.port)")

        await listener.stop()
        // Held at once, so that no test running beside this one takes the port.
        let stopped = try? RefusingPort(port: listener.port)
        #expect(await eventually { recorder.last == [Self.down, 0, Self.down] })
        #expect(await report(checker, "tcp")?.lastResult == "connection refused")
        await checker.shutdown()
        withExtendedLifetime((refusing, stopped)) {}
    }

    @Test func drainsPersistAcrossCheckers() async throws {
        let server = try await HTTPTestServer.start()
        let directory = try temporaryDirectory()
        let stateFile = directory + "/run/admin-state.json"
        let edges = [edge("a", http(server.url)), edge("b", nil)]

        let recorder = TableRecorder()
        let logs = LogCapture()
        let first = try makeChecker(edges, stateFile: stateFile, logs: logs, recorder: recorder)
        #expect(first.stateFileProblem == nil, "a missing state file is fine")
        await first.start()
        #expect(await eventually { await report(first, "a")?.state == .up })
        #expect(try await first.drain(edge: "a"))
        #expect(recorder.last == [Self.drained, 0])
        #expect(try await first.drain(edge: "a") == false)
        #expect(try String(contentsOfFile: stateFile, encoding: .utf8) == "{\"drained\":[\"a\"]}\n")
        await #expect(throws: AdminStateError.unknownEdge("zz")) { try await first.drain(edge: "zz") }
        await #expect(throws: AdminStateError.unknownEdge("zz")) { try await first.undrain(edge: "zz") }
        // Logged once, by the control request that asked (with who and why); here only at debug.
        let drainLog = logs.all.filter { $0.message == "edge admin state changed" }
        #expect(drainLog.count == 1)
        #expect(drainLog.first?.level == .debug)
        #expect(drainLog.first?.metadata == ["edge": "a", "old": "active", "new": "drained"])

        // Probes keep running on a drained edge, so its real health stays visible.
        let probes = try #require(await report(first, "a")).probes
        #expect(await eventually { (await report(first, "a")?.probes ?? 0) >= probes + 2 })
        let drainedReport = try #require(await report(first, "a"))
        #expect(drainedReport.adminState == .drained && drainedReport.state == .up && !drainedReport.routable)
        server.set(.respond(status: 500, body: ""))
        #expect(await eventually { recorder.last == [Self.drained | Self.down, 0] })
        server.set(HTTPTestServer.ok)
        await first.shutdown()

        let secondRecorder = TableRecorder()
        let second = try makeChecker(edges, stateFile: stateFile, recorder: secondRecorder)
        #expect(second.stateFileProblem == nil)
        #expect(await second.currentTable.states == [.drained, []], "restored before any probe")
        await second.start()
        #expect(secondRecorder.all.first == [Self.drained, 0])
        #expect(try await second.undrain(edge: "a"))
        #expect(try await second.undrain(edge: "a") == false)
        #expect(secondRecorder.last == [0, 0])
        #expect(try String(contentsOfFile: stateFile, encoding: .utf8) == "{\"drained\":[]}\n")
        await second.shutdown()

        let third = try makeChecker(edges, stateFile: stateFile)
        #expect(await third.drainedEdges.isEmpty)
        await third.shutdown()
        await server.stop()
    }

    @Test func corruptStateFileStopsTheStartWithItsLine() throws {
        let directory = try temporaryDirectory()
        let stateFile = directory + "/admin-state.json"
        try "{\"drained\": [\"a\",\n\"b\" x]}".write(toFile: stateFile, atomically: true, encoding: .utf8)
        #expect(throws: StateFileError(file: stateFile, line: 2, message: "not valid JSON")) {
            try makeChecker([edge("a", nil)], stateFile: stateFile)
        }
    }

    @Test func staleTemporaryFilesOfStoppedWritersAreRemovedAtStart() throws {
        let directory = try temporaryDirectory()
        let stateFile = directory + "/admin-state.json"
        // No process has PID 2^22 + 1 (above Linux's pid_max limit), unlike this one.
        let stale = directory + "/.admin-state.json.4194305.tmp"
        let live = directory + "/.admin-state.json.\(getpid()).tmp"
        let unrelated = directory + "/.other.json.4194305.tmp"
        for path in [stale, live, unrelated] { try "{}".write(toFile: path, atomically: false, encoding: .utf8) }
        let logs = LogCapture()
        _ = try makeChecker([edge("a", nil)], stateFile: stateFile, logs: logs)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: unrelated))
        #expect(logs.all.contains { $0.level == .notice && $0.metadata["file"] == stale })
    }

    @Test func corruptStateFileIsReportedAndIgnoredWhenAskedTo() async throws {
        let directory = try temporaryDirectory()
        let stateFile = directory + "/admin-state.json"
        try "{\"drained\": [\"a\",\n".write(toFile: stateFile, atomically: true, encoding: .utf8)
        let logs = LogCapture()
        let checker = try makeChecker([edge("a", nil)], stateFile: stateFile, damagedStateFile: .ignore, logs: logs)
        let problem = try #require(checker.stateFileProblem)
        #expect(problem.file == stateFile)
        #expect(problem.description.hasPrefix("\(stateFile):"))
        #expect(problem.message == "not valid JSON")
        #expect(await checker.currentTable.states == [[]])
        #expect(logs.all.contains { $0.level == .warning && $0.metadata["error"] == problem.description })
        // The next admin action writes a good file over it.
        try await checker.drain(edge: "a")
        #expect(try AdminStateFile(path: stateFile).load() == ["a"])
        await checker.shutdown()

        try "{\"drained\": \"a\"}".write(toFile: stateFile, atomically: true, encoding: .utf8)
        #expect(throws: StateFileError(file: stateFile, line: 1, message: "expected {\"drained\": [\"EDGE\", ...]}, a list of edge names")) {
            try AdminStateFile(path: stateFile).load()
        }
    }

    @Test func transitionsAreReportedWithTheirReasons() async throws {
        let server = try await HTTPTestServer.start()
        let transitions = NIOLockedValueBox<[HealthTransition]>([])
        let checker = try HealthChecker(edges: [edge("a", http(server.url, rise: 1, fall: 1)), edge("b", nil)], stateFile: nil,
                                        logger: LogCapture().logger(),
                                        onTransition: { transition in transitions.withLockedValue { $0.append(transition) } },
                                        onChange: { _ in })
        await checker.start()
        #expect(await eventually { transitions.withLockedValue { $0.count } == 1 })
        server.set(.respond(status: 503, body: "no"))
        #expect(await eventually { transitions.withLockedValue { $0.count } == 2 })
        try await checker.drain(edge: "b", reason: "maintenance")
        try await checker.drain(edge: "b", reason: "again")
        try await checker.undrain(edge: "b")
        await checker.shutdown()
        let seen = transitions.withLockedValue { $0 }.map { [$0.edge, $0.kind.rawValue, $0.from, $0.to, $0.reason] }
        #expect(seen == [
            ["a", "health", "unknown", "up", "first check: HTTP 200"],
            ["a", "health", "up", "down", "HTTP 503 (1 consecutive failures, fall 1)"],
            ["b", "admin", "active", "drained", "maintenance"],
            ["b", "admin", "drained", "active", "undrained"],
        ])
        #expect(transitions.withLockedValue { $0 }.map(\.time) == transitions.withLockedValue { $0 }.map(\.time).sorted())
    }

    @Test func drainsOfEdgesNotConfiguredAreKept() async throws {
        let directory = try temporaryDirectory()
        let stateFile = directory + "/admin-state.json"
        try AdminStateFile(path: stateFile).save(["gone", "a"])
        let checker = try makeChecker([edge("a", nil), edge("b", nil)], stateFile: stateFile)
        #expect(await checker.currentTable.states == [.drained, []])
        #expect(await checker.drainedEdges == ["gone", "a"])
        try await checker.drain(edge: "b")
        #expect(try AdminStateFile(path: stateFile).load() == ["gone", "a", "b"])
        #expect(try await checker.undrain(edge: "gone"))
        await #expect(throws: AdminStateError.unknownEdge("gone")) { try await checker.undrain(edge: "gone") }
        #expect(try AdminStateFile(path: stateFile).load() == ["a", "b"])
        await checker.shutdown()
    }

    @Test func unsavableDrainStillApplies() async throws {
        let directory = try temporaryDirectory()
        // The state file's directory is a regular file, so saving must fail.
        try "".write(toFile: directory + "/run", atomically: true, encoding: .utf8)
        let recorder = TableRecorder()
        let checker = try makeChecker([edge("a", nil)], stateFile: directory + "/run/admin-state.json", recorder: recorder)
        await checker.start()
        do {
            try await checker.drain(edge: "a")
            Issue.record("saving into a file as directory succeeded")
        } catch {
            guard case .notSaved(let problem) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(problem.description.hasPrefix(directory + "/run/admin-state.json:0: "))
        }
        #expect(recorder.last == [Self.drained])
        await checker.shutdown()
    }

    @Test func reloadKeepsUnchangedEdges() async throws {
        let failing = try await HTTPTestServer.start(mode: .respond(status: 503, body: ""))
        let healthy = try await HTTPTestServer.start()
        let logs = LogCapture()
        let recorder = TableRecorder()
        let a = edge("a", http(failing.url))
        let b = edge("b", http(healthy.url, rise: 3))
        let checker = try makeChecker([a, b], logs: logs, recorder: recorder)
        await checker.start()
        #expect(await eventually { recorder.last == [Self.down, 0] })
        #expect(await eventually { (await report(checker, "b")?.consecutivePasses ?? 0) >= 2 })
        let before = try #require(await report(checker, "a"))

        // New order, a new edge without a check, a new checked edge; a and b unchanged.
        let newcomer = try await HTTPTestServer.start()
        let table = await checker.update(edges: [edge("c", nil), b, a, edge("d", http(newcomer.url))])
        #expect(table.states == [[], [], .down, []])
        #expect(recorder.last == [0, 0, Self.down, 0], "the reordered table is published at once")
        let after = try #require(await report(checker, "a"))
        #expect(after.state == .down)
        #expect(after.transitions == before.transitions)
        #expect(after.probes >= before.probes)
        #expect(await eventually { await report(checker, "d")?.state == .up })

        // b's check changes: its state stays, its runs start over.
        let passes = try #require(await report(checker, "b")).consecutivePasses
        #expect(passes >= 2)
        await checker.update(edges: [edge("c", nil), edge("b", http(healthy.url, rise: 3, expectStatus: [200, 204])), a])
        let changed = try #require(await report(checker, "b"))
        #expect(changed.state == .up)
        #expect(changed.consecutivePasses < passes)
        #expect(recorder.last == [0, 0, Self.down])

        // d was removed: its server hears no more probes (at most one already in flight).
        let heard = newcomer.requests
        let aProbes = try #require(await report(checker, "a")).probes
        #expect(await eventually { (await report(checker, "a")?.probes ?? 0) >= aProbes + 4 })
        #expect(newcomer.requests <= heard + 1)

        // a unchanged through both reloads: no transitions logged for it beyond its first.
        #expect(logs.all.filter { ($0.message == "edge up" || $0.message == "edge down") && $0.metadata["edge"] == "a" }.count == 1)
        #expect(!recorder.all.contains { $0.count == 3 && $0[2] & Self.down == 0 })
        await checker.shutdown()
        await failing.stop()
        await healthy.stop()
        await newcomer.stop()
    }

    @Test func snapshotEncodesWithSnakeCaseKeys() async throws {
        let checker = try makeChecker([edge("a", nil)])
        let data = try JSONEncoder().encode(await checker.snapshot())
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(object.first?["edge"] as? String == "a")
        #expect(object.first?["admin_state"] as? String == "active")
        #expect(object.first?["state"] as? String == "up")
        #expect(object.first?["consecutive_failures"] as? Int == 0)
        await checker.shutdown()
    }
}

extension HealthCheckerTests {
    @Test func aCheckerNeverStartedNeedsNoShutdown() async throws {
        let server = try await HTTPTestServer.start()
        do {
            let checker = try makeChecker([edge("a", http(server.url))])
            #expect(await checker.snapshot().map(\.state) == [.unknown])
        }
        #expect(server.requests == 0)
        await server.stop()
    }
}
