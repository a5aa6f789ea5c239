/// Health of every edge, by edge index, frozen. The health checker publishes a new table on
/// every change; queries read whichever table their snapshot holds.
public final class HealthTable: Sendable {
    public struct State: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Probes say down.
        public static let down = State(rawValue: 1)
        /// An operator drained it.
        public static let drained = State(rawValue: 2)
    }

    public let states: [State]

    public init(states: [State]) { self.states = states }

    /// Every edge up: the state before any probe has answered.
    public static func allUp(edges: Int) -> HealthTable { HealthTable(states: Array(repeating: [], count: edges)) }

    @inline(__always)
    public func isUp(_ edge: Int) -> Bool { edge >= states.count || states[edge].isEmpty }
}
