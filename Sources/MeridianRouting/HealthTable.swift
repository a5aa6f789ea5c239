/// Health and load of every edge, by edge index, frozen. The health checker publishes new
/// states on every change and the load feeds new shed fractions; queries read whichever
/// table their snapshot holds.
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
    /// Per edge, the shed fraction as a threshold on the 32-bit shed hash: a client network
    /// whose hash for the edge is below it is sent elsewhere. 0 sheds nobody, 2^32 everybody.
    public let shedThresholds: [UInt64]

    /// The threshold of a fraction from 0 to 1.
    public static func threshold(shedding fraction: Double) -> UInt64 {
        guard fraction > 0 else { return 0 }
        return fraction >= 1 ? 1 << 32 : UInt64(fraction * 4_294_967_296)
    }

    public static let shedsEverybody: UInt64 = 1 << 32

    public init(states: [State], shedThresholds: [UInt64] = []) {
        self.states = states
        self.shedThresholds = shedThresholds
    }

    /// Every edge up: the state before any probe has answered.
    public static func allUp(edges: Int) -> HealthTable { HealthTable(states: Array(repeating: [], count: edges)) }

    /// The same states with other shed thresholds.
    public func with(shedThresholds: [UInt64]) -> HealthTable { HealthTable(states: states, shedThresholds: shedThresholds) }

    @inline(__always)
    public func isUp(_ edge: Int) -> Bool { edge >= states.count || states[edge].isEmpty }

    @inline(__always)
    public func shedThreshold(_ edge: Int) -> UInt64 { edge < shedThresholds.count ? shedThresholds[edge] : 0 }
}
