import MeridianFleet

/// One edge as the stats port and `dnsctl edges` show it. Times are wall-clock seconds
/// since 1970; JSON keys are snake_case. Answers served are counted by the server, not here.
public struct EdgeHealthReport: Codable, Sendable, Equatable {
    public enum AdminState: String, Codable, Sendable {
        case active
        case drained
    }

    public var edge: String
    /// The checked URL or `tcp://HOST:PORT`; `nil` for an edge without a check (always up).
    public var check: String?
    /// What the probes say: `unknown` until the first result (routed to as if up).
    public var state: EdgeHealth.State
    public var adminState: AdminState
    /// Whether answers may use the edge: not down and not drained.
    public var routable: Bool
    public var lastCheckTime: Double?
    public var lastLatencyMs: Double?
    /// `HTTP 200`, `connection refused`, `timeout after 2s`, …
    public var lastResult: String?
    public var lastPassed: Bool?
    public var consecutivePasses: Int
    public var consecutiveFailures: Int
    /// Changes between up and down (the first result counts only when it is a failure).
    public var transitions: Int
    /// When the state last changed (health or admin), if it has since start.
    public var lastTransitionTime: Double?
    public var probes: Int
    /// How long its probes took, for an edge with a check.
    public var probeDurations: ProbeDurations?
    /// How the fleet sees the edge; `nil` outside a fleet.
    public var fleet: FleetView?
    /// The fleet's drain of the edge, if drained fleet-wide.
    public var fleetDrain: FleetDrain?
    /// Drained on this node alone (`dnsctl drain --local`, or outside a fleet).
    public var drainedLocally = false

    /// The fleet's verdict on an edge and what went into it.
    public struct FleetView: Codable, Sendable, Equatable {
        /// Live nodes with a verdict on the edge, this one included once its first result is in.
        public var observers: Int
        /// How many of them see it down.
        public var down: Int
        /// What routing uses: `down` when the quorum of observers sees it down.
        public var verdict: EdgeHealth.State
        /// This node's own probes' verdict.
        public var own: EdgeHealth.State
        /// This node sees the edge down and the fleet does not: it keeps serving the edge.
        public var overruled: Bool
        /// The other nodes that see it down.
        public var downAt: [String]

        public init(observers: Int, down: Int, verdict: EdgeHealth.State, own: EdgeHealth.State, overruled: Bool, downAt: [String]) {
            self.observers = observers
            self.down = down
            self.verdict = verdict
            self.own = own
            self.overruled = overruled
            self.downAt = downAt
        }
    }

    public init(
        edge: String, check: String?, state: EdgeHealth.State, adminState: AdminState, routable: Bool,
        lastCheckTime: Double?, lastLatencyMs: Double?, lastResult: String?, lastPassed: Bool?,
        consecutivePasses: Int, consecutiveFailures: Int, transitions: Int, lastTransitionTime: Double?, probes: Int
    ) {
        self.edge = edge
        self.check = check
        self.state = state
        self.adminState = adminState
        self.routable = routable
        self.lastCheckTime = lastCheckTime
        self.lastLatencyMs = lastLatencyMs
        self.lastResult = lastResult
        self.lastPassed = lastPassed
        self.consecutivePasses = consecutivePasses
        self.consecutiveFailures = consecutiveFailures
        self.transitions = transitions
        self.lastTransitionTime = lastTransitionTime
        self.probes = probes
    }

    enum CodingKeys: String, CodingKey {
        case edge, check, state
        case adminState = "admin_state"
        case routable
        case lastCheckTime = "last_check_time"
        case lastLatencyMs = "last_latency_ms"
        case lastResult = "last_result"
        case lastPassed = "last_passed"
        case consecutivePasses = "consecutive_passes"
        case consecutiveFailures = "consecutive_failures"
        case transitions
        case lastTransitionTime = "last_transition_time"
        case probes
        case probeDurations = "probe_durations"
        case fleet
        case fleetDrain = "fleet_drain"
        case drainedLocally = "drained_locally"
    }
}

/// Probe durations counted into fixed buckets (per-bucket counts, the last one above every
/// bound), for the `meridian_probe_duration_seconds` histogram.
public struct ProbeDurations: Codable, Sendable, Equatable {
    /// Upper bounds in seconds: a loopback probe takes under a millisecond, a distant one
    /// tens of milliseconds, a hanging one its timeout.
    public static let boundsSeconds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public private(set) var counts = [UInt64](repeating: 0, count: ProbeDurations.boundsSeconds.count + 1)
    public private(set) var sumSeconds = 0.0

    public init() {}

    mutating func record(_ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let bucket = Self.boundsSeconds.firstIndex { seconds <= $0 } ?? Self.boundsSeconds.count
        counts[bucket] += 1
        sumSeconds += seconds
    }
}
