import Atomics
import MeridianAuthority
import MeridianRouting
import NIOConcurrencyHelpers

/// The one way new data reaches the answering contexts. It combines the three things that
/// change a snapshot, a reload (zones, routing), a health change and a load change (shed
/// thresholds), numbers each result
/// (its generation) and lets the contexts know; each takes the newest snapshot at its next
/// checkpoint and acknowledges the generation it took. A reload waits for every context's
/// acknowledgement; health and load changes, many and small, do not wait.
public final class SnapshotPublisher: Sendable {
    private struct State {
        var base: AuthoritySnapshot
        var health: HealthTable
        /// Shed thresholds by edge index, from the load feeds.
        var shed: [UInt64] = []
        var current: AuthoritySnapshot
        var generation = 0
        var contexts: [AnsweringContext] = []
        /// The generation each context acknowledged, by its index; `Int.max` once it stopped.
        var acknowledged: [Int] = []
        var waiters: [Waiter] = []
        var nextWaiter = 0

        var everyContextServes: Int { acknowledged.min() ?? .max }

        mutating func takeSatisfiedWaiters() -> [Waiter] {
            let served = everyContextServes
            let satisfied = waiters.filter { $0.generation <= served }
            waiters.removeAll { $0.generation <= served }
            return satisfied
        }
    }

    private struct Waiter {
        var id: Int
        var generation: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let state: NIOLockedValueBox<State>
    /// Response rate limiting's buckets: one table for every context, made once.
    private let rateLimits = RateLimitTable()
    /// The dnstap query log every context copies its sampled exchanges to.
    let queryLog = QueryLog()
    /// `State.generation`, readable without the lock: contexts compare it at every checkpoint.
    private let published = ManagedAtomic(0)

    public init(base: AuthoritySnapshot) {
        state = NIOLockedValueBox(State(base: base, health: base.health, current: base))
    }

    /// The generation most recently published.
    @inline(__always)
    var generation: Int { published.load(ordering: .acquiring) }

    /// The snapshot most recently published, with its generation.
    func newest() -> (generation: Int, snapshot: AuthoritySnapshot) {
        state.withLockedValue { ($0.generation, $0.current) }
    }

    /// The snapshot most recently published.
    public var current: AuthoritySnapshot { newest().snapshot }

    /// Every context made so far, stopped ones included (their counts still add up).
    var contexts: [AnsweringContext] { state.withLockedValue { $0.contexts } }


    /// A context that starts with the newest snapshot and takes every later one.
    package func makeContext(name: String) -> AnsweringContext {
        state.withLockedValue { state in
            let context = AnsweringContext(name: name, index: state.contexts.count, publisher: self,
                                           generation: state.generation, snapshot: state.current, rateLimits: rateLimits,
                                           queryLog: queryLog)
            state.contexts.append(context)
            state.acknowledged.append(state.generation)
            return context
        }
    }

    func acknowledge(_ context: AnsweringContext, generation: Int) {
        let satisfied = state.withLockedValue { state in
            state.acknowledged[context.index] = max(state.acknowledged[context.index], generation)
            return state.takeSatisfiedWaiters()
        }
        for waiter in satisfied { waiter.continuation.resume() }
    }

    /// A context that answers no more: nobody waits for it.
    package func retire(_ context: AnsweringContext) {
        acknowledge(context, generation: .max)
    }

    // MARK: Publishing

    /// A new health table, served without waiting. One whose size does not match the routing
    /// table belongs to a reload in progress and is applied with it.
    public func health(_ table: HealthTable) {
        publish { state in
            state.health = table
            return table.states.count == state.base.routing.edges.count
        }
    }

    /// New shed thresholds from the load feeds, served without waiting; like health, ones
    /// that do not fit the routing belong to a reload in progress.
    public func load(_ thresholds: [UInt64]) {
        publish { state in
            state.shed = thresholds
            return thresholds.count == state.base.routing.edges.count
        }
    }

    /// New zones and routing (with `table` when the current health table does not fit the new
    /// routing, and the load feeds' thresholds in the new edge order); returns once every
    /// context serves them.
    public func reload(_ base: AuthoritySnapshot, health table: HealthTable, shed: [UInt64] = [],
                       timeout: Duration = .seconds(5)) async throws(PublishFailure) {
        try await waitUntilServed(publishReload(base, health: table, shed: shed), timeout: timeout)
    }

    /// The same zones and routing signed again: health and load stay as they are. Returns
    /// once every context serves them.
    public func resigned(_ base: AuthoritySnapshot, timeout: Duration = .seconds(5)) async throws(PublishFailure) {
        let generation = publish { state in
            state.base = base
            return true
        }
        try await waitUntilServed(generation, timeout: timeout)
    }

    /// Hands out new zones and routing without waiting; returns the generation to wait for.
    @discardableResult
    package func publishReload(_ base: AuthoritySnapshot, health table: HealthTable, shed: [UInt64] = []) -> Int {
        publish { state in
            state.base = base
            if state.health.states.count != base.routing.edges.count { state.health = table }
            state.shed = shed
            return true
        }
    }

    /// Applies `change` and, when it says so, publishes base and health combined as a new
    /// generation. Returns the generation that includes the change.
    @discardableResult
    private func publish(_ change: (inout State) -> Bool) -> Int {
        state.withLockedValue { state in
            guard change(&state) else { return state.generation }
            state.current = state.base.with(health: state.shed.isEmpty ? state.health : state.health.with(shedThresholds: state.shed))
            state.generation += 1
            published.store(state.generation, ordering: .releasing)
            return state.generation
        }
    }

    /// Returns once every context acknowledged `generation` or a later one; fails after
    /// `timeout` naming the contexts that did not.
    package func waitUntilServed(_ generation: Int, timeout: Duration) async throws(PublishFailure) {
        let id = state.withLockedValue { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let deadline = Task {
            try await Task.sleep(for: timeout)
            self.expire(waiter: id)
        }
        defer { deadline.cancel() }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let served = state.withLockedValue { state in
                    if state.everyContextServes >= generation { return true }
                    state.waiters.append(Waiter(id: id, generation: generation, continuation: continuation))
                    return false
                }
                if served { continuation.resume() }
            }
        } catch let failure as PublishFailure {
            throw failure
        } catch {
            throw PublishFailure(lagging: [])
        }
    }

    private func expire(waiter id: Int) {
        let expired = state.withLockedValue { state -> (Waiter, [String])? in
            guard let position = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = state.waiters.remove(at: position)
            let lagging = state.contexts.filter { state.acknowledged[$0.index] < waiter.generation }.map(\.name)
            return (waiter, lagging)
        }
        guard let (waiter, lagging) = expired else { return }
        waiter.continuation.resume(throwing: PublishFailure(lagging: lagging))
    }

    // MARK: Counters

    /// Counters summed over every context, and dynamic answers by edge and pool name since start.
    package func totals() -> AnswerTotals {
        var totals = AnswerTotals()
        for context in contexts {
            var shared = context.sharedCounts
            for (edge, count) in shared.counters.edgeAnswers.enumerated() where count > 0 && edge < shared.routing.edges.count {
                totals.edges[shared.routing.edges[edge].name, default: 0] += count
            }
            for (edge, count) in shared.counters.edgeShed.enumerated() where count > 0 && edge < shared.routing.edges.count {
                totals.shed[shared.routing.edges[edge].name, default: 0] += count
            }
            for (pool, count) in shared.counters.poolAnswers.enumerated() where count > 0 && pool < shared.routing.pools.count {
                totals.pools[shared.routing.pools[pool].name, default: 0] += count
            }
            totals.edges.merge(shared.retiredEdges, uniquingKeysWith: +)
            totals.shed.merge(shared.retiredShed, uniquingKeysWith: +)
            totals.pools.merge(shared.retiredPools, uniquingKeysWith: +)
            shared.counters.edgeAnswers = []
            shared.counters.edgeShed = []
            shared.counters.poolAnswers = []
            totals.counters.add(shared.counters)
        }
        return totals
    }
}

/// Counters of every answering context together.
public struct AnswerTotals: Sendable {
    /// Everything but the per-edge and per-pool slots, which are in `edges` and `pools`.
    public var counters = QueryCounters()
    /// Dynamic answers per edge and per pool name since start, across reloads.
    public var edges: [String: Int] = [:]
    public var pools: [String: Int] = [:]
    /// Dynamic answers moved away from each edge (by name) because it shed the client.
    public var shed: [String: Int] = [:]
}

/// New data was handed out, but not every answering thread took it in time.
public struct PublishFailure: Error, CustomStringConvertible, Sendable {
    /// The contexts that had not taken it.
    public var lagging: [String]

    public var description: String {
        "the new data was not taken by every answering thread in time (still on the old data: \(lagging.joined(separator: ", ")))"
    }
}
