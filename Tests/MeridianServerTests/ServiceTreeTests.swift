import Logging
import MeridianServer
import ServiceLifecycle
import Testing

/// Records the order in which services stop.
actor StopRecorder {
    private(set) var stopped: [String] = []
    func record(_ name: String) { stopped.append(name) }
}

struct RecordingService: Service {
    let name: String
    let recorder: StopRecorder
    var failsAtStart = false

    struct Failure: Error {}

    func run() async throws {
        if failsAtStart { throw Failure() }
        try? await gracefulShutdown()
        await recorder.record(name)
    }
}

@Suite struct ServiceTreeTests {
    func tree(_ recorder: StopRecorder, failing: String? = nil) -> [any Service] {
        func service(_ name: String) -> RecordingService {
            RecordingService(name: name, recorder: recorder, failsAtStart: name == failing)
        }
        return ServiceTree.ordered(control: service("control"), health: service("health"), dns: service("dns"),
                                   stats: service("stats"), controller: service("controller"))
    }

    @Test func servicesStopInTheReverseOfTheStartOrder() async throws {
        let recorder = StopRecorder()
        let group = ServiceTree.group(tree(recorder), logger: Logger(label: "test"), signals: [])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // DNS stops accepting and finishes its answers before health checks end, and the
        // control socket goes last.
        #expect(await recorder.stopped == ["controller", "stats", "dns", "health", "control"])
    }

    @Test func aServiceThatFailsStopsTheOthersInOrderAndItsErrorIsReported() async throws {
        let recorder = StopRecorder()
        let group = ServiceTree.group(tree(recorder, failing: "dns"), logger: Logger(label: "test"), signals: [])
        await #expect(throws: RecordingService.Failure.self) { try await group.run() }
        #expect(await recorder.stopped == ["controller", "stats", "health", "control"])
    }
}

@Suite struct StartupSignalTests {
    @Test func waitersResumeWhenFiredAndLateWaitersDoNotWait() async throws {
        let signal = StartupSignal()
        let early = Task { try await signal.wait() }
        signal.fire()
        try await early.value
        try await signal.wait()
    }

    @Test func aCancelledWaiterThrows() async {
        let signal = StartupSignal()
        let waiter = Task { try await signal.wait() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }
}
