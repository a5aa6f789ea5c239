import MeridianAuthority
import MeridianRouting
import NIOConcurrencyHelpers

/// Combines the two things that change a snapshot — a reload (zones, routing) and a health
/// change — and hands the result to the listeners, in order. Health changes arrive on the
/// checker's loop and are published without an actor hop, well inside the 100 ms budget.
final class SnapshotPublisher: Sendable {
    private struct State {
        var base: AuthoritySnapshot
        var health: HealthTable
        var listeners: DNSListeners?
    }

    private let state: NIOLockedValueBox<State>

    init(base: AuthoritySnapshot) {
        state = NIOLockedValueBox(State(base: base, health: base.health, listeners: nil))
    }

    var current: AuthoritySnapshot {
        state.withLockedValue { $0.base.with(health: $0.health) }
    }

    func attach(_ listeners: DNSListeners) {
        state.withLockedValue { $0.listeners = listeners }
    }

    /// A new health table. One whose size does not match the routing table belongs to a
    /// reload in progress and is applied with it.
    func health(_ table: HealthTable) {
        state.withLockedValue { state in
            state.health = table
            guard table.states.count == state.base.routing.edges.count, let listeners = state.listeners else { return }
            listeners.publishWithoutWaiting(state.base.with(health: table))
        }
    }

    /// New zones and routing; returns once every listener serves them.
    func reload(_ base: AuthoritySnapshot, health table: HealthTable) async throws {
        let (snapshot, listeners) = state.withLockedValue { state -> (AuthoritySnapshot, DNSListeners?) in
            state.base = base
            if state.health.states.count != base.routing.edges.count { state.health = table }
            return (base.with(health: state.health), state.listeners)
        }
        try await listeners?.publish(snapshot)
        // A health change may have been published while this waited; the newest wins.
        let latest = state.withLockedValue { $0.health }
        if latest !== snapshot.health { health(latest) }
    }
}
