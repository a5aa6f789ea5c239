import Foundation
import MeridianConfig
import MeridianFleet
import MeridianHealth
import MeridianRouting
import NIOConcurrencyHelpers
import Testing

/// The fleet folded into the checker's table: verdicts by quorum, drains from etcd cached in
/// the state file, this node's own verdicts reported.
@Suite struct FleetHealthTests {
    static let down = HealthTable.State.down.rawValue
    static let drained = HealthTable.State.drained.rawValue

    func edge(_ name: String, url: String) -> Edge {
        Edge(name: name, location: Location(latitude: 0, longitude: 0), addresses: [IPAddress("192.0.2.1")!],
             check: HealthCheck(kind: .http(url: url), interval: .milliseconds(100), timeout: .milliseconds(300), rise: 1, fall: 1))
    }

    func verdict(_ down: Bool) -> FleetVerdict { FleetVerdict(down: down, reason: nil, at: 0) }

    @Test func ownFailureIsOverruledByTheMajority() async throws {
        let server = try await HTTPTestServer.start()
        server.set(.respond(status: 503, body: "no"))
        let recorder = TableRecorder()
        let own = NIOLockedValueBox<[String: FleetVerdict]>([:])
        let checker = try HealthChecker(edges: [edge("a", url: server.url)], stateFile: nil, logger: LogCapture().logger(),
                                        fleetQuorum: .majority) { table in recorder.record(table.states.map(\.rawValue)) }
        await checker.observeOwnVerdicts { verdicts in own.withLockedValue { $0 = verdicts } }
        await checker.start()
        defer { Task { await checker.shutdown() } }

        // Alone (not yet connected): its own probes decide.
        #expect(await eventually { recorder.last == [Self.down] })
        #expect(own.withLockedValue { $0["a"]?.down } == true, "the node's own verdict is reported")

        // Two peers see it up: 1 of 3 is no majority.
        await checker.setPeerVerdicts(["a": ["n2": verdict(false), "n3": verdict(false)]])
        #expect(recorder.last == [0])
        let view = try #require(await checker.snapshot().first?.fleet)
        #expect((view.observers, view.down, view.verdict, view.own, view.overruled) == (3, 1, .up, .down, true))
        #expect(await checker.snapshot().first?.routable == true)

        // One of them agrees: 2 of 3.
        await checker.setPeerVerdicts(["a": ["n2": verdict(true), "n3": verdict(false)]])
        #expect(recorder.last == [Self.down])
        #expect(try #require(await checker.snapshot().first?.fleet).downAt == ["n2"])

        // Both peers gone (their leases expired): alone again.
        await checker.setPeerVerdicts([:])
        #expect(try #require(await checker.snapshot().first?.fleet).observers == 1)
        #expect(recorder.last == [Self.down])
    }

    @Test func fleetDrainsAreCachedInTheStateFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let stateFile = directory + "/admin-state.json"
        let edges = [Edge(name: "a", location: Location(latitude: 0, longitude: 0), addresses: [IPAddress("192.0.2.1")!])]
        let recorder = TableRecorder()
        let checker = try HealthChecker(edges: edges, stateFile: stateFile, logger: LogCapture().logger(), fleetQuorum: .majority) {
            recorder.record($0.states.map(\.rawValue))
        }
        await checker.start()
        let drain = FleetDrain(by: "alice@laptop", at: 1_800_000_000, reason: "maintenance")
        await checker.setFleetDrains(["a": drain])
        #expect(recorder.last == [Self.drained])
        let report = try #require(await checker.snapshot().first)
        #expect(report.adminState == .drained && report.fleetDrain == drain && !report.drainedLocally)
        await checker.shutdown()

        #expect(try AdminStateFile(path: stateFile).loadAll().fleet == ["a": drain])
        #expect(try AdminStateFile(path: stateFile).load() == [], "a fleet drain is not a local one")

        // The next start, etcd or not, begins drained as the fleet was.
        let restarted = try HealthChecker(edges: edges, stateFile: stateFile, logger: LogCapture().logger(), fleetQuorum: .majority) { _ in }
        #expect(await restarted.currentTable.states == [.drained])
        await restarted.setFleetDrains([:])
        #expect(await restarted.currentTable.states == [[]])
        #expect(try AdminStateFile(path: stateFile).loadAll().fleet == [:])

        // Outside a fleet the cache means nothing.
        try AdminStateFile(path: stateFile).save([], fleet: ["a": drain])
        let alone = try HealthChecker(edges: edges, stateFile: stateFile, logger: LogCapture().logger()) { _ in }
        #expect(await alone.currentTable.states == [[]])
    }
}
