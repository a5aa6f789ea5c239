import AsyncHTTPClient
import Foundation
import Logging
import MeridianConfig
import MeridianRouting
import NIOCore
import NIOPosix

/// Probes every edge that has a `check`, applies `rise`/`fall`, keeps the operator's drains,
/// and publishes a new frozen ``HealthTable`` whenever what routing sees changes.
///
/// Scheduling: each checked edge has its own task. Its first probe starts as soon as the
/// checker starts; after that, probes start `interval` apart, each interval shortened by a
/// random 0–10 % so a thousand edges drift apart instead of firing in the same millisecond,
/// and never longer than configured, so failure detection stays within
/// `fall × interval + timeout`. A probe that hangs costs its own edge at most `timeout`
/// (the next probe then starts at once); edges never wait for each other.
///
/// Publishing: the `onChange` callback receives a complete table (one entry per edge, in the
/// order of the edges given) right after the result or admin action that changed it, from
/// inside the checker's isolation, so calls never overlap and arrive in order. Keep it
/// short: store the table or hand it on.
///
/// Admin state: ``drain(edge:)`` makes an edge down whatever its probes say (they keep
/// running, so `snapshot()` still shows its real health); drains are saved in the state file
/// and restored by the next checker that opens it.
///
/// Once started, call ``shutdown()`` (or cancel ``run()``) before dropping the checker: it
/// owns an HTTP client and, unless given one, an event loop thread.
public actor HealthChecker {
    public typealias Publisher = @Sendable (HealthTable) -> Void

    private struct Slot {
        var name: String
        var check: HealthCheck?
        var health: EdgeHealth
        var last: ProbeResult?
        var lastTime: Double?
        var lastTransitionTime: Double?
        var transitions = 0
        var probes = 0
        /// Results count only from the task with this id; 0 when no task runs.
        var monitor: UInt64 = 0
        var task: Task<Void, Never>?

        init(edge: Edge) {
            name = edge.name
            check = edge.check
            health = EdgeHealth(state: edge.check == nil ? .up : .unknown)
        }
    }

    private var slots: [Slot]
    private var indexByName: [String: Int]
    private var drained: Set<String>
    private let stateFile: AdminStateFile?
    private let logger: Logger
    private let publisher: Publisher
    private let providedGroup: (any EventLoopGroup)?
    /// Made by ``start()``, so a checker that never starts needs no shutdown.
    private var group: (any EventLoopGroup)?
    private var client: HTTPClient?
    private var running = false
    private var stopped = false
    private var monitorCounter: UInt64 = 0
    private var published: [HealthTable.State]?
    private var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]

    /// The table routing should use now.
    public private(set) var currentTable: HealthTable

    /// What was wrong with the state file when the checker opened it, if anything. The
    /// file was then ignored (nothing drained) and a warning logged; the next drain or
    /// undrain overwrites it.
    public nonisolated let stateFileProblem: StateFileError?

    /// - Parameters:
    ///   - edges: in the order routing indexes them (`MeridianConfiguration.orderedEdges`).
    ///   - stateFile: `health.state_file`; `nil` keeps drains in memory only.
    ///   - eventLoopGroup: where probes run; by default the checker makes its own
    ///     one-thread group, so probing never competes with the DNS event loops.
    ///   - onChange: receives every new table; see the type's documentation.
    public init(
        edges: [Edge], stateFile: String?, logger: Logger, eventLoopGroup: (any EventLoopGroup)? = nil,
        onChange: @escaping Publisher
    ) {
        self.logger = logger
        self.publisher = onChange
        providedGroup = eventLoopGroup
        slots = []
        indexByName = [:]
        for edge in edges where indexByName[edge.name] == nil {
            indexByName[edge.name] = slots.count
            slots.append(Slot(edge: edge))
        }
        var problem: StateFileError?
        var restored: Set<String> = []
        if let stateFile {
            let file = AdminStateFile(path: stateFile)
            self.stateFile = file
            do {
                restored = try file.load()
            } catch {
                problem = error
                logger.warning("Ignoring the admin state file; no edge is drained", metadata: [
                    "error": "\(error)",
                ])
            }
        } else {
            self.stateFile = nil
        }
        drained = restored
        stateFileProblem = problem
        let states = slots.map { Self.tableState($0, drained: restored) }
        currentTable = HealthTable(states: states)
        let known = Set(slots.map(\.name))
        for name in restored.sorted() where !known.contains(name) {
            // Kept rather than dropped: an edge taken out of the file by mistake and put
            // back must come back drained, not receive traffic.
            logger.notice("The admin state file drains an edge the configuration does not have; kept", metadata: [
                "edge": "\(name)",
            ])
        }
        for name in restored.sorted() where known.contains(name) {
            logger.info("Edge drained (restored from the admin state file)", metadata: [
                "edge": "\(name)", "old": "active", "new": "drained", "reason": "restored from \(stateFile ?? "")",
            ])
        }
    }

    // MARK: Life cycle

    /// Starts probing (every checked edge at once) and publishes the initial table, in which
    /// restored drains are already applied and unprobed edges count as up.
    public func start() {
        guard !running, !stopped else { return }
        running = true
        let group = providedGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        client = HTTPProbe.makeClient(eventLoopGroup: group)
        for index in slots.indices where slots[index].check != nil { startMonitor(index) }
        publish(force: true)
    }

    /// Stops probing, cancels probes in flight and releases the HTTP client (and the event
    /// loop group the checker made). No table is published after it returns.
    public func shutdown() async {
        guard !stopped else { return }
        stopped = true
        running = false
        var tasks: [Task<Void, Never>] = []
        for index in slots.indices {
            if let task = slots[index].task { tasks.append(task) }
            slots[index].task?.cancel()
            slots[index].task = nil
            slots[index].monitor = 0
        }
        for (_, waiter) in waiters { waiter.resume(returning: false) }
        waiters.removeAll()
        try? await client?.shutdown()
        if providedGroup == nil { try? await group?.shutdownGracefully() }
        for task in tasks { await task.value }
    }

    /// For a service group: starts, runs until the task is cancelled, then shuts down.
    public func run() async {
        start()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
        await shutdown()
    }

    /// Waits until every checked edge has its first result, or `timeout` passes. Returns
    /// whether all results are in. Probes bound themselves by their `timeout`, so with
    /// `timeout` at least the longest check timeout this returns soon after start.
    public func waitForFirstResults(timeout: Duration) async -> Bool {
        if allChecked { return true }
        guard running else { return false }
        monitorCounter += 1
        let id = monitorCounter
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.resumeWaiter(id, with: false)
        }
        let done = await withCheckedContinuation { continuation in
            waiters[id] = continuation
        }
        timer.cancel()
        return done
    }

    private var allChecked: Bool {
        slots.allSatisfy { $0.check == nil || $0.health.state != .unknown }
    }

    private func resumeWaiter(_ id: UInt64, with value: Bool) {
        waiters.removeValue(forKey: id)?.resume(returning: value)
    }

    // MARK: Probing

    private func startMonitor(_ index: Int) {
        guard let check = slots[index].check, let client, let group else { return }
        monitorCounter += 1
        let id = monitorCounter
        let probe = check.makeProbe(client: client, eventLoopGroup: group)
        slots[index].monitor = id
        slots[index].task = Task { [name = slots[index].name, interval = check.interval] in
            await Self.probeLoop(checker: self, edge: name, monitor: id, probe: probe, interval: interval)
        }
    }

    private static func probeLoop(
        checker: HealthChecker, edge: String, monitor: UInt64, probe: any HealthProbe, interval: Duration
    ) async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let started = clock.now
            let result = await probe.check()
            if Task.isCancelled { return }
            await checker.record(result, edge: edge, monitor: monitor)
            let next = started + interval * Double.random(in: 0.9...1.0)
            try? await Task.sleep(until: next, clock: clock)
        }
    }

    private func record(_ result: ProbeResult, edge name: String, monitor: UInt64) {
        guard running, let index = indexByName[name], slots[index].monitor == monitor,
              let check = slots[index].check else { return }
        let now = Date().timeIntervalSince1970
        var slot = slots[index]
        slot.probes += 1
        slot.last = result
        slot.lastTime = now
        let old = slot.health.state
        let changed = slot.health.record(passed: result.passed, rise: check.rise, fall: check.fall)
        if let new = changed {
            if !(old == .unknown && new == .up) { slot.transitions += 1 }
            slot.lastTransitionTime = now
            let reason: String
            switch (old, new) {
            case (.unknown, _): reason = "first check: \(result.reason)"
            case (_, .down): reason = "\(result.reason) (\(slot.health.consecutiveFailures) consecutive failures, fall \(check.fall))"
            default: reason = "\(result.reason) (\(slot.health.consecutivePasses) consecutive passes, rise \(check.rise))"
            }
            logger.info("Edge health changed", metadata: [
                "edge": "\(name)", "old": "\(old.rawValue)", "new": "\(new.rawValue)", "reason": "\(reason)",
            ])
        }
        slots[index] = slot
        if changed != nil {
            publish(force: false)
            if !waiters.isEmpty, allChecked {
                let all = waiters
                waiters.removeAll()
                for (_, waiter) in all { waiter.resume(returning: true) }
            }
        }
    }

    // MARK: Admin state

    /// Drains `edge`: from now on routing treats it as down, whatever its probes say.
    /// Returns false when it was drained already. The drain is saved in the state file;
    /// when saving fails the drain still holds until restart and `.notSaved` says why.
    @discardableResult
    public func drain(edge name: String) throws(AdminStateError) -> Bool {
        guard indexByName[name] != nil else { throw .unknownEdge(name) }
        guard drained.insert(name).inserted else { return false }
        adminChanged(name, old: .active, new: .drained)
        try save()
        return true
    }

    /// Ends a drain. Returns false when `edge` was not drained. An edge no longer in the
    /// configuration may still be undrained, to clear it from the state file.
    @discardableResult
    public func undrain(edge name: String) throws(AdminStateError) -> Bool {
        guard indexByName[name] != nil || drained.contains(name) else { throw .unknownEdge(name) }
        guard drained.remove(name) != nil else { return false }
        adminChanged(name, old: .drained, new: .active)
        try save()
        return true
    }

    /// Drained edge names, including any the configuration no longer has.
    public var drainedEdges: Set<String> { drained }

    private func adminChanged(_ name: String, old: EdgeHealthReport.AdminState, new: EdgeHealthReport.AdminState) {
        if let index = indexByName[name] { slots[index].lastTransitionTime = Date().timeIntervalSince1970 }
        logger.info("Edge admin state changed", metadata: [
            "edge": "\(name)", "old": "\(old.rawValue)", "new": "\(new.rawValue)",
            "reason": new == .drained ? "drained by the operator" : "undrained by the operator",
        ])
        publish(force: false)
    }

    private func save() throws(AdminStateError) {
        guard let stateFile else { return }
        do {
            try stateFile.save(drained)
        } catch {
            logger.warning("Cannot save the admin state; the change lasts until restart", metadata: ["error": "\(error)"])
            throw .notSaved(error)
        }
    }

    // MARK: Reload

    /// Switches to a new edge list (a configuration reload). Edges with the same name and
    /// the same check keep their state, counters and schedule; an edge whose check changed
    /// keeps its state, forgets its runs of passes and failures, and is probed at once with
    /// the new check; new edges start unknown and are probed at once; removed edges stop.
    /// Drains are kept by name. Publishes (and returns) the table for the new order before
    /// returning, so routing built for `edges` can take it together with its snapshot.
    @discardableResult
    public func update(edges: [Edge]) -> HealthTable {
        var newSlots: [Slot] = []
        var newIndex: [String: Int] = [:]
        var toStart: [Int] = []
        for edge in edges where newIndex[edge.name] == nil {
            newIndex[edge.name] = newSlots.count
            guard let oldIndex = indexByName[edge.name] else {
                if edge.check != nil { toStart.append(newSlots.count) }
                newSlots.append(Slot(edge: edge))
                continue
            }
            var slot = slots[oldIndex]
            if slot.check == edge.check {
                newSlots.append(slot)
                continue
            }
            slot.task?.cancel()
            slot.task = nil
            slot.monitor = 0
            let hadCheck = slot.check != nil
            slot.check = edge.check
            if edge.check == nil {
                if slot.health.state == .down {
                    slot.transitions += 1
                    slot.lastTransitionTime = Date().timeIntervalSince1970
                    logger.info("Edge health changed", metadata: [
                        "edge": "\(edge.name)", "old": "down", "new": "up", "reason": "check removed from the configuration",
                    ])
                }
                slot.health = EdgeHealth(state: .up)
            } else if !hadCheck {
                slot.health = EdgeHealth(state: .unknown)
                toStart.append(newSlots.count)
            } else {
                slot.health.resetCounts()
                toStart.append(newSlots.count)
            }
            newSlots.append(slot)
        }
        for slot in slots where newIndex[slot.name] == nil {
            slot.task?.cancel()
            logger.debug("Edge removed; its probes stop", metadata: ["edge": "\(slot.name)"])
        }
        slots = newSlots
        indexByName = newIndex
        if running { for index in toStart { startMonitor(index) } }
        publish(force: true)
        return currentTable
    }

    // MARK: Publishing and reports

    private static func tableState(_ slot: Slot, drained: Set<String>) -> HealthTable.State {
        var state: HealthTable.State = []
        if slot.health.state == .down { state.insert(.down) }
        if drained.contains(slot.name) { state.insert(.drained) }
        return state
    }

    private func publish(force: Bool) {
        guard !stopped else { return }
        let states = slots.map { Self.tableState($0, drained: drained) }
        guard force || states != published else { return }
        published = states
        currentTable = HealthTable(states: states)
        if running { publisher(currentTable) }
    }

    /// Every edge, in order, as the stats port and `dnsctl edges` show it.
    public func snapshot() -> [EdgeHealthReport] {
        slots.map { slot in
            let isDrained = drained.contains(slot.name)
            return EdgeHealthReport(
                edge: slot.name, check: slot.check?.target, state: slot.health.state,
                adminState: isDrained ? .drained : .active, routable: slot.health.state != .down && !isDrained,
                lastCheckTime: slot.lastTime, lastLatencyMs: slot.last?.latency.milliseconds,
                lastResult: slot.last?.reason, lastPassed: slot.last?.passed,
                consecutivePasses: slot.health.consecutivePasses, consecutiveFailures: slot.health.consecutiveFailures,
                transitions: slot.transitions, lastTransitionTime: slot.lastTransitionTime, probes: slot.probes)
        }
    }
}

/// Why an admin action failed.
public enum AdminStateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No edge of that name is configured (or drained).
    case unknownEdge(String)
    /// The change is in effect but could not be written to the state file, so it lasts
    /// only until restart.
    case notSaved(StateFileError)

    public var description: String {
        switch self {
        case .unknownEdge(let name): "unknown edge \"\(name)\""
        case .notSaved(let error): "\(error) (the change is in effect until restart, but not saved)"
        }
    }
}
