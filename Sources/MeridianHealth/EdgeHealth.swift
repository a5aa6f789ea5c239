/// The probe-driven health of one edge: thresholds applied to a stream of pass/fail results.
/// Pure and synchronous, so the rules are tested without a clock or a socket.
///
/// - Before its first result an edge is `unknown` and counts as up: a starting server
///   routes to every edge rather than to none.
/// - The first result decides at once (up on a pass, down on a failure), as gdnsd's initial
///   round does, so a dead edge is skipped within one timeout of start-up.
/// - After that, `rise` consecutive passes bring a down edge up and `fall` consecutive
///   failures take an up edge down; anything less leaves the state as it is.
public struct EdgeHealth: Sendable, Equatable {
    public enum State: String, Sendable, Codable, Equatable {
        /// No result yet; routed to as if up.
        case unknown
        case up
        case down
    }

    public private(set) var state: State
    public private(set) var consecutivePasses = 0
    public private(set) var consecutiveFailures = 0

    public init(state: State = .unknown) { self.state = state }

    /// Records one result and returns the new state when it changed.
    public mutating func record(passed: Bool, rise: Int, fall: Int) -> State? {
        let old = state
        if passed {
            consecutivePasses += 1
            consecutiveFailures = 0
            if state == .unknown || (state == .down && consecutivePasses >= rise) { state = .up }
        } else {
            consecutiveFailures += 1
            consecutivePasses = 0
            if state == .unknown || (state == .up && consecutiveFailures >= fall) { state = .down }
        }
        return state == old ? nil : state
    }

    /// Forgets the runs of passes and failures but keeps the state: used when an edge's check
    /// changes on reload, so the new check must reach its own thresholds to change anything.
    public mutating func resetCounts() {
        consecutivePasses = 0
        consecutiveFailures = 0
    }
}
