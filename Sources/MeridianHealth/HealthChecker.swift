import AsyncHTTPClient
import Foundation
import Logging
import MeridianConfig
import MeridianFleet
import MeridianRouting
import NIOCore
import NIOPosix

/// Probes every edge that has a `check`, applies `rise`/`fall`, keeps the operator's drains,
/// and publishes a new frozen ``HealthTable`` whenever what routing sees changes.
///
/// Isolation: the actor runs on one event loop (its own thread unless one is given), and so
/// do its timer and every probe's I/O. A round of a thousand probes therefore involves no
/// thread switch and no Swift task: the timer fires on the loop, the probe's connection lives
/// on the loop, its result is recorded on the loop.
///
/// Scheduling: each checked edge's first probe starts as soon as the checker starts. After
/// that, an edge's probes start at most `interval` apart (start to start), each interval
/// shortened by a random 0–10 % so a thousand edges drift apart instead of firing in the
/// same millisecond; never longer, so failure detection stays within
/// `fall × interval + timeout`. One timer on a 10 ms grid starts every probe that is due.
/// An edge never has two probes at once: one that hangs costs its edge `timeout`, after
/// which the next starts when due (at once if `timeout` exceeds `interval`). Edges never
/// wait for each other.
///
/// Publishing: the `onChange` callback receives a complete table (one entry per edge, in the
/// order of the edges given) on the checker's loop, so calls never overlap and arrive in
/// order. Admin actions and ``update(edges:)`` publish before they return; probe results
/// publish as soon as the loop has handled the results that arrived with them (microseconds
/// later), so a burst of changes becomes one table. Keep the callback short: store the
/// table or hand it on.
///
/// Admin state: ``drain(edge:)`` makes an edge down whatever its probes say (they keep
/// running, so `snapshot()` still shows its real health); drains are saved in the state file
/// and restored by the next checker that opens it.
///
/// Fleet: with a quorum (the node is part of a fleet), an edge is down when the quorum of
/// its live observers sees it down: this node's own verdict plus the peers' verdicts given
/// to ``setPeerVerdicts(_:)``; the fleet's drains (``setFleetDrains(_:)``) count as drains.
/// Both arrive from the fleet agent and are folded into the same table, so routing reads
/// nothing else. Without peers (not yet connected) the node's own verdict decides.
///
/// Once started, call ``shutdown()`` (or cancel ``run()``) before dropping the checker: it
/// owns an HTTP client and, unless given a group, an event loop thread.
public actor HealthChecker {
    public typealias Publisher = @Sendable (HealthTable) -> Void
    /// Called on the checker's loop with every ``HealthTransition``, in order.
    public typealias TransitionObserver = @Sendable (HealthTransition) -> Void

    private struct Slot {
        var name: String
        var check: HealthCheck?
        var health: EdgeHealth
        var last: ProbeResult?
        var lastTime: Double?
        var lastTransitionTime: Double?
        var transitions = 0
        var probes = 0
        var durations = ProbeDurations()
        /// Results count only from the probe schedule with this id; 0 when none runs.
        var monitor: UInt64 = 0
        var probe: (any HealthProbe)?
        /// When the next probe starts; `nil` while one runs or when the edge has no check.
        var due: NIODeadline?

        init(edge: Edge) {
            name = edge.name
            check = edge.check
            health = EdgeHealth(state: edge.check == nil ? .up : .unknown)
        }
    }

    private var slots: [Slot]
    private var indexByName: [String: Int]
    private var drained: Set<String>
    /// Drains set through the fleet, by edge; cached in the state file.
    private var fleetDrains: [String: FleetDrain]
    /// `nil` when the node is not in a fleet.
    private let fleetQuorum: HealthQuorum?
    /// The other live nodes' verdicts: edge → node → verdict.
    private var peerVerdicts: [String: [String: FleetVerdict]] = [:]
    private var verdictObserver: (@Sendable ([String: FleetVerdict]) -> Void)?
    private let stateFile: AdminStateFile?
    private let logger: Logger
    private let publisher: Publisher
    private let transitionObserver: TransitionObserver?
    /// Sent by HTTP probes; names the node, so edges' logs tell which server probed them.
    private let probeUserAgent: String
    private let loop: any EventLoop
    /// The group the checker made for itself, if it was not given one.
    private let ownGroup: MultiThreadedEventLoopGroup?
    /// Made by ``start()``.
    private var client: HTTPClient?
    private var running = false
    private var stopped = false
    private var monitorCounter: UInt64 = 0
    private var published: [HealthTable.State]?
    private var publishScheduled = false
    private var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]

    /// The table routing should use now.
    public private(set) var currentTable: HealthTable

    /// What was wrong with the state file when the checker opened it with
    /// `damagedStateFile: .ignore`, if anything. The file was then ignored (nothing drained)
    /// and a warning logged; the next drain or undrain overwrites it.
    public nonisolated let stateFileProblem: StateFileError?

    /// What to do when the admin state file cannot be read or parsed at start.
    public enum DamagedStateFile: Sendable {
        /// Refuse to start: the file holds an operator's drains, and starting without them would
        /// send traffic to edges taken out for maintenance.
        case refuse
        /// Start with nothing drained and say so (`meridian --ignore-admin-state`); the next drain
        /// or undrain overwrites the file.
        case ignore
    }

    /// - Parameters:
    ///   - edges: in the order routing indexes them (`MeridianConfiguration.orderedEdges`).
    ///   - stateFile: `health.state_file`; `nil` keeps drains in memory only.
    ///   - damagedStateFile: whether a state file that cannot be read is an error (thrown) or
    ///     ignored with a warning.
    ///   - eventLoopGroup: a NIOPosix group; the checker and its probes run on one of its
    ///     loops. By default the checker makes its own one-thread group, so probing never
    ///     competes with the DNS event loops.
    ///   - probeUserAgent: the `User-Agent` of HTTP probes (``MeridianVersion/probeUserAgent(node:)``).
    ///   - onTransition: receives every change of an edge's health or admin state; keep it as
    ///     short as `onChange`.
    ///   - onChange: receives every new table; see the type's documentation.
    public init(
        edges: [Edge], stateFile: String?, damagedStateFile: DamagedStateFile = .refuse, logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil, probeUserAgent: String = MeridianVersion.probeUserAgent(node: "unnamed"),
        fleetQuorum: HealthQuorum? = nil, onTransition: TransitionObserver? = nil, onChange: @escaping Publisher
    ) throws(StateFileError) {
        var problem: StateFileError?
        var restored: Set<String> = []
        var restoredFleet: [String: FleetDrain] = [:]
        if let stateFile {
            let file = AdminStateFile(path: stateFile)
            for removed in file.removeStaleTemporaryFiles() {
                logger.notice("Removed a temporary admin state file left by a stopped writer", metadata: ["file": "\(removed)"])
            }
            do {
                (restored, restoredFleet) = try file.loadAll()
            } catch {
                guard damagedStateFile == .ignore else { throw error }
                problem = error
                logger.warning("Ignoring the admin state file; no edge is drained", metadata: [
                    "error": "\(error)",
                ])
            }
            self.stateFile = file
        } else {
            self.stateFile = nil
        }
        self.logger = logger
        self.publisher = onChange
        self.transitionObserver = onTransition
        self.probeUserAgent = probeUserAgent
        if let eventLoopGroup {
            ownGroup = nil
            loop = eventLoopGroup.next()
        } else {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            ownGroup = group
            loop = group.next()
        }
        slots = []
        indexByName = [:]
        for edge in edges where indexByName[edge.name] == nil {
            indexByName[edge.name] = slots.count
            slots.append(Slot(edge: edge))
        }
        drained = restored
        fleetDrains = fleetQuorum == nil ? [:] : restoredFleet
        self.fleetQuorum = fleetQuorum
        stateFileProblem = problem
        currentTable = HealthTable(states: slots.map { slot in
            Self.tableState(slot, drained: restored, fleetDrains: fleetQuorum == nil ? [:] : restoredFleet, quorum: fleetQuorum, peers: [:])
        })
        let known = Set(slots.map(\.name))
        for name in restored.sorted() where !known.contains(name) {
            // Kept rather than dropped: an edge taken out of the configuration by mistake and put
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
        for (name, drain) in fleetDrains.sorted(by: { $0.key < $1.key }) {
            logger.info("Edge drained fleet-wide (restored from the admin state file until etcd is reached)", metadata: [
                "edge": "\(name)", "by": "\(drain.by)", "reason": "\(drain.reason ?? "")",
            ])
        }
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        loop.executor.asUnownedSerialExecutor()
    }

    deinit {
        // A checker that never started holds only its thread; let it go.
        if client == nil, let ownGroup { ownGroup.shutdownGracefully { _ in } }
    }

    // MARK: Life cycle

    /// Starts probing (every checked edge at once) and publishes the initial table, in which
    /// restored drains are already applied and unprobed edges count as up.
    public func start() {
        guard !running, !stopped else { return }
        running = true
        client = HTTPProbe.makeClient(eventLoopGroup: loop)
        publish(force: true)
        for index in slots.indices where slots[index].check != nil { startMonitor(index) }
    }

    /// Stops probing, cancels probes in flight and releases the HTTP client (and the event
    /// loop thread the checker made). No table is published after it returns.
    public nonisolated func shutdown() async {
        guard await stop() else { return }
        // Off the loop by now (this function is not isolated): the loop the actor runs on
        // can be stopped without anything having to resume on it.
        try? await ownGroup?.shutdownGracefully()
    }

    /// Stops probing and closes the client; false when already stopped.
    private func stop() async -> Bool {
        guard !stopped else { return false }
        stopped = true
        running = false
        for index in slots.indices { stopMonitor(index) }
        tick?.cancel()
        tick = nil
        for (_, waiter) in waiters { waiter.resume(returning: false) }
        waiters.removeAll()
        // Probes in flight fail as the client closes their connections; their results are
        // ignored now that the checker is stopped.
        try? await client?.shutdown()
        return true
    }

    /// For a service group: starts, runs until the task is cancelled, then shuts down.
    public nonisolated func run() async {
        await start()
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
        let timer = loop.scheduleTask(in: TimeAmount(timeout)) {
            self.assumeIsolated { $0.resumeWaiter(id, with: false) }
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

    /// Starts (or restarts) the edge's probe schedule with its first probe now.
    private func startMonitor(_ index: Int) {
        stopMonitor(index)
        guard running, let check = slots[index].check, let client else { return }
        monitorCounter += 1
        slots[index].monitor = monitorCounter
        slots[index].probe = check.makeProbe(client: client, userAgent: probeUserAgent)
        probe(index)
    }

    private func stopMonitor(_ index: Int) {
        slots[index].due = nil
        slots[index].probe = nil
        slots[index].monitor = 0
    }

    private func probe(_ index: Int) {
        guard running, let probe = slots[index].probe else { return }
        slots[index].due = nil
        let name = slots[index].name
        let monitor = slots[index].monitor
        let started = NIODeadline.now()
        probe.check(on: loop).hop(to: loop).whenSuccess { result in
            self.assumeIsolated { $0.record(result, edge: name, monitor: monitor, started: started) }
        }
    }

    private func scheduleNext(_ index: Int, after started: NIODeadline) {
        guard let check = slots[index].check else { return }
        // Up to 10 % early, and one grid step earlier still, so that rounding up to the tick
        // grid never makes the interval longer than configured.
        let early = TimeAmount(check.interval * Double.random(in: 0.9...1.0)) - .nanoseconds(Int64(Self.tickGrid))
        let due = started + max(early, .zero)
        slots[index].due = due
        armTick(for: due)
    }

    // One timer serves every edge: it fires on a 10 ms grid and starts every probe that is
    // due, so a thousand edges cost at most a hundred wake-ups a second rather than a
    // thousand, and NIO's timer heap holds one entry instead of one per edge.
    private static let tickGrid: UInt64 = 10_000_000
    private var tick: Scheduled<Void>?
    private var tickDeadline: NIODeadline?

    private func armTick(for due: NIODeadline) {
        let nanoseconds = due.uptimeNanoseconds
        let deadline = NIODeadline.uptimeNanoseconds((nanoseconds + Self.tickGrid - 1) / Self.tickGrid * Self.tickGrid)
        if let tickDeadline, tickDeadline <= deadline { return }
        tick?.cancel()
        tickDeadline = deadline
        tick = loop.scheduleTask(deadline: deadline) {
            self.assumeIsolated { $0.tickFired() }
        }
    }

    private func tickFired() {
        tick = nil
        tickDeadline = nil
        guard running else { return }
        let now = NIODeadline.now()
        var earliest: NIODeadline?
        for index in slots.indices {
            guard let due = slots[index].due else { continue }
            if due <= now {
                probe(index)
            } else if earliest.map({ due < $0 }) ?? true {
                earliest = due
            }
        }
        if let earliest { armTick(for: earliest) }
    }

    private func record(_ result: ProbeResult, edge name: String, monitor: UInt64, started: NIODeadline) {
        guard running, let index = indexByName[name], slots[index].monitor == monitor,
              let check = slots[index].check else { return }
        scheduleNext(index, after: started)
        let now = Date().timeIntervalSince1970
        var slot = slots[index]
        slot.probes += 1
        slot.durations.record(result.latency)
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
            let fields: Logger.Metadata = ["edge": "\(name)", "old": "\(old.rawValue)", "new": "\(new.rawValue)", "reason": "\(reason)"]
            // An edge going down is what an operator must see; one found up at start is routine.
            if new == .down {
                logger.warning("edge down", metadata: fields)
            } else if old == .unknown {
                logger.info("edge up", metadata: fields)
            } else {
                logger.notice("edge up", metadata: fields)
            }
            transitionObserver?(HealthTransition(time: now, edge: name, kind: .health, from: old.rawValue, to: new.rawValue, reason: reason))
        }
        slots[index] = slot
        if changed != nil {
            reportOwnVerdicts()
            publishSoon()
            if !waiters.isEmpty, allChecked {
                // Those waiting for the first results start answering next: the table with
                // them must be published first, not on the loop's next turn.
                publish(force: false)
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
    /// `reason` (who and why) goes into the edge's ``HealthTransition``.
    @discardableResult
    public func drain(edge name: String, reason: String? = nil) throws(AdminStateError) -> Bool {
        guard indexByName[name] != nil else { throw .unknownEdge(name) }
        guard drained.insert(name).inserted else { return false }
        adminChanged(name, old: .active, new: .drained, reason: reason)
        try save()
        return true
    }

    /// Ends a drain. Returns false when `edge` was not drained. An edge no longer in the
    /// configuration may still be undrained, to clear it from the state file.
    @discardableResult
    public func undrain(edge name: String, reason: String? = nil) throws(AdminStateError) -> Bool {
        guard indexByName[name] != nil || drained.contains(name) else { throw .unknownEdge(name) }
        guard drained.remove(name) != nil else { return false }
        adminChanged(name, old: .drained, new: .active, reason: reason)
        try save()
        return true
    }

    /// Drained edge names, including any the configuration no longer has.
    public var drainedEdges: Set<String> { drained }

    // MARK: Fleet

    /// Replaces the fleet's drains with `drains` (edge → drain), as etcd holds them now; saved
    /// in the state file as the cache the next start begins with. Edges this node does not
    /// have are kept, as local drains are.
    public func setFleetDrains(_ drains: [String: FleetDrain]) {
        guard fleetQuorum != nil, drains != fleetDrains else { return }
        let old = fleetDrains
        fleetDrains = drains
        for (name, drain) in drains.sorted(by: { $0.key < $1.key }) where old[name] == nil {
            logger.notice("Edge drained fleet-wide", metadata: [
                "edge": "\(name)", "by": "\(drain.by)", "reason": "\(drain.reason ?? "")",
            ])
            if let index = indexByName[name] { slots[index].lastTransitionTime = Date().timeIntervalSince1970 }
            if indexByName[name] != nil, !drained.contains(name) {
                transitionObserver?(HealthTransition(
                    time: Date().timeIntervalSince1970, edge: name, kind: .admin, from: "active", to: "drained",
                    reason: "drained fleet-wide by \(drain.by)" + (drain.reason.map { ": \($0)" } ?? "")))
            }
        }
        for name in old.keys.sorted() where drains[name] == nil {
            logger.notice("Edge undrained fleet-wide", metadata: ["edge": "\(name)"])
            if let index = indexByName[name] { slots[index].lastTransitionTime = Date().timeIntervalSince1970 }
            if indexByName[name] != nil, !drained.contains(name) {
                transitionObserver?(HealthTransition(time: Date().timeIntervalSince1970, edge: name, kind: .admin, from: "drained",
                                                     to: "active", reason: "undrained fleet-wide"))
            }
        }
        do {
            try save()
        } catch {
            // Logged by save(); the drains hold in memory and etcd keeps them.
        }
        publish(force: false)
    }

    /// The fleet drains in effect.
    public var fleetDrainsInEffect: [String: FleetDrain] { fleetDrains }

    /// Replaces the other live nodes' verdicts (edge → node → verdict). A node whose lease
    /// expired must be gone from `verdicts`: only live observers count.
    public func setPeerVerdicts(_ verdicts: [String: [String: FleetVerdict]]) {
        guard fleetQuorum != nil, verdicts != peerVerdicts else { return }
        peerVerdicts = verdicts
        publish(force: false)
    }

    /// Calls `observer` now and whenever this node's own verdict on an edge changes, with the
    /// verdicts of every checked edge whose first result is in (edge → verdict).
    public func observeOwnVerdicts(_ observer: @escaping @Sendable ([String: FleetVerdict]) -> Void) {
        verdictObserver = observer
        observer(ownVerdicts)
    }

    /// This node's verdicts: checked edges with a result.
    public var ownVerdicts: [String: FleetVerdict] {
        var verdicts: [String: FleetVerdict] = [:]
        for slot in slots where slot.check != nil && slot.health.state != .unknown {
            verdicts[slot.name] = FleetVerdict(down: slot.health.state == .down, reason: slot.last?.reason,
                                               at: slot.lastTransitionTime ?? slot.lastTime ?? Date().timeIntervalSince1970)
        }
        return verdicts
    }

    private func reportOwnVerdicts() {
        guard let verdictObserver else { return }
        verdictObserver(ownVerdicts)
    }

    private func fleetView(_ slot: Slot) -> EdgeHealthReport.FleetView? {
        Self.fleetView(slot, quorum: fleetQuorum, peers: peerVerdicts)
    }

    /// How the fleet sees `slot`'s edge; `nil` outside a fleet.
    private static func fleetView(_ slot: Slot, quorum fleetQuorum: HealthQuorum?, peers peerVerdicts: [String: [String: FleetVerdict]])
        -> EdgeHealthReport.FleetView? {
        guard let fleetQuorum else { return nil }
        let peers = peerVerdicts[slot.name] ?? [:]
        let ownKnown = slot.check != nil && slot.health.state != .unknown
        let ownDown = slot.health.state == .down
        let observers = peers.count + (ownKnown ? 1 : 0)
        let down = peers.values.count(where: \.down) + (ownKnown && ownDown ? 1 : 0)
        let verdictDown = slot.check != nil && fleetQuorum.isDown(down: down, observers: observers)
        return EdgeHealthReport.FleetView(
            observers: observers, down: down, verdict: verdictDown ? .down : .up,
            own: slot.check == nil ? .up : slot.health.state, overruled: ownDown && !verdictDown,
            downAt: peers.filter(\.value.down).keys.sorted())
    }

    private func adminChanged(_ name: String, old: EdgeHealthReport.AdminState, new: EdgeHealthReport.AdminState, reason: String?) {
        let now = Date().timeIntervalSince1970
        if let index = indexByName[name] { slots[index].lastTransitionTime = now }
        // The control request that made the change logs it, with who and why.
        logger.debug("edge admin state changed", metadata: ["edge": "\(name)", "old": "\(old.rawValue)", "new": "\(new.rawValue)"])
        if indexByName[name] != nil, fleetDrains[name] == nil {
            transitionObserver?(HealthTransition(time: now, edge: name, kind: .admin, from: old.rawValue, to: new.rawValue,
                                                 reason: reason ?? (new == .drained ? "drained" : "undrained")))
        }
        publish(force: false)
    }

    private func save() throws(AdminStateError) {
        guard let stateFile else { return }
        do {
            try stateFile.save(drained, fleet: fleetDrains)
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
            slot.due = nil
            slot.probe = nil
            slot.monitor = 0
            let hadCheck = slot.check != nil
            slot.check = edge.check
            if edge.check == nil {
                if slot.health.state == .down {
                    defer { reportOwnVerdicts() }
                    slot.transitions += 1
                    slot.lastTransitionTime = Date().timeIntervalSince1970
                    logger.notice("edge up", metadata: [
                        "edge": "\(edge.name)", "old": "down", "new": "up", "reason": "check removed from the configuration",
                    ])
                    transitionObserver?(HealthTransition(time: slot.lastTransitionTime ?? 0, edge: edge.name, kind: .health, from: "down",
                                                         to: "up", reason: "check removed from the configuration"))
                }
                slot.health = EdgeHealth(state: .up)
            } else if !hadCheck {
                slot.health = EdgeHealth(state: .unknown)
                transitionObserver?(HealthTransition(time: Date().timeIntervalSince1970, edge: edge.name, kind: .health, from: "up",
                                                     to: "unknown", reason: "check added to the configuration"))
                toStart.append(newSlots.count)
            } else {
                slot.health.resetCounts()
                toStart.append(newSlots.count)
            }
            newSlots.append(slot)
        }
        for slot in slots where newIndex[slot.name] == nil {
            logger.debug("Edge removed; its probes stop", metadata: ["edge": "\(slot.name)"])
        }
        slots = newSlots
        indexByName = newIndex
        publish(force: true)
        let table = currentTable
        for index in toStart { startMonitor(index) }
        return table
    }

    // MARK: Publishing and reports

    private func tableState(_ slot: Slot) -> HealthTable.State {
        Self.tableState(slot, drained: drained, fleetDrains: fleetDrains, quorum: fleetQuorum, peers: peerVerdicts)
    }

    private static func tableState(_ slot: Slot, drained: Set<String>, fleetDrains: [String: FleetDrain], quorum: HealthQuorum?,
                                   peers: [String: [String: FleetVerdict]]) -> HealthTable.State {
        var state: HealthTable.State = []
        let down = fleetView(slot, quorum: quorum, peers: peers).map { $0.verdict == .down } ?? (slot.health.state == .down)
        if down { state.insert(.down) }
        if drained.contains(slot.name) || fleetDrains[slot.name] != nil { state.insert(.drained) }
        return state
    }

    /// Publishes once the results already waiting on the loop are in: when a thousand edges
    /// fail together (the network went), routing gets one table, not a thousand.
    private func publishSoon() {
        guard !publishScheduled else { return }
        publishScheduled = true
        loop.execute {
            self.assumeIsolated { checker in
                checker.publishScheduled = false
                checker.publish(force: false)
            }
        }
    }

    private func publish(force: Bool) {
        guard !stopped else { return }
        let states = slots.map(tableState)
        guard force || states != published else { return }
        published = states
        currentTable = HealthTable(states: states)
        if running { publisher(currentTable) }
    }

    /// Every edge, in order, as the stats port and `dnsctl edges` show it.
    public func snapshot() -> [EdgeHealthReport] {
        slots.map { slot in
            let isDrained = drained.contains(slot.name) || fleetDrains[slot.name] != nil
            let fleet = fleetView(slot)
            let down = fleet.map { $0.verdict == .down } ?? (slot.health.state == .down)
            var report = EdgeHealthReport(
                edge: slot.name, check: slot.check?.target, state: slot.health.state,
                adminState: isDrained ? .drained : .active, routable: !down && !isDrained,
                lastCheckTime: slot.lastTime, lastLatencyMs: slot.last?.latency.milliseconds,
                lastResult: slot.last?.reason, lastPassed: slot.last?.passed,
                consecutivePasses: slot.health.consecutivePasses, consecutiveFailures: slot.health.consecutiveFailures,
                transitions: slot.transitions, lastTransitionTime: slot.lastTransitionTime, probes: slot.probes)
            report.fleet = fleet
            report.probeDurations = slot.check == nil ? nil : slot.durations
            report.fleetDrain = fleetDrains[slot.name]
            report.drainedLocally = drained.contains(slot.name)
            return report
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
