// MARK: - history

/// The body of `GET /api/v1/history`: the last hour at most, one value a second, kept in
/// memory by the server (nothing survives a restart), and the changes of every edge's health
/// and admin state in that time. The JSON conventions are those of the other replies.
///
/// Every series has `seconds` elements; element `i` covers the second that starts at
/// `start + i` (seconds since the Unix epoch), the last one being the last second sampled.
/// A second in which the server did not sample (before it started) is `null` in
/// `queriesPerSecond` and 0 in `answersByEdge`.
public struct HistoryReply: Codable, Sendable, Hashable {
    /// An edge as it is now; with `transitions`, enough to tell its state at any time of the
    /// window (walk back from now, each transition's `from` holding before it).
    public struct Edge: Codable, Sendable, Hashable {
        public var name: String
        public var state: EdgeState
        public var admin: AdminState

        public init(name: String, state: EdgeState, admin: AdminState) {
            self.name = name
            self.state = state
            self.admin = admin
        }
    }

    /// One change of an edge's state: `kind` `health` changes `state` (`unknown`, `up`,
    /// `down`), `admin` changes `admin` (`active`, `drained`).
    public struct Transition: Codable, Sendable, Hashable {
        /// Seconds since the Unix epoch.
        public var at: Double
        public var edge: String
        public var kind: String
        public var from: String
        public var to: String
        /// `HTTP 503 (3 consecutive failures, fall 3)`, `dnsctl drain by ops@host: maintenance`, …
        public var reason: String

        public init(at: Double, edge: String, kind: String, from: String, to: String, reason: String) {
            self.at = at
            self.edge = edge
            self.kind = kind
            self.from = from
            self.to = to
            self.reason = reason
        }
    }

    /// When the reply was made, seconds since the Unix epoch.
    public var now: Double
    /// The second of the first element of every series.
    public var start: Int
    /// Elements in every series.
    public var seconds: Int
    /// Queries received each second; `null` where not sampled.
    public var queriesPerSecond: [Double?]
    /// The median and the 99th percentile of the time from receiving a query to having its
    /// response ready, estimated from that second's response-time histogram as Prometheus'
    /// `histogram_quantile` does (linear within a bucket; the largest bound when the rank
    /// falls above it). `null` for a second without queries.
    public var responseP50Seconds: [Double?]
    public var responseP99Seconds: [Double?]
    /// The histogram bounds the estimates come from: no estimate exceeds the last.
    public var responseBucketsSeconds: [Double]
    /// Dynamic answers that included each edge, each second, by edge name.
    public var answersByEdge: [String: [UInt64]]
    /// Every configured edge, in configuration order, as it is now.
    public var edges: [Edge]
    /// Oldest first, within the window.
    public var transitions: [Transition]
    /// From when `transitions` is complete: the start of the window, or later when the
    /// server has not kept older ones (it keeps the last 1,000).
    public var transitionsSince: Double

    public init(now: Double, start: Int, seconds: Int, queriesPerSecond: [Double?], responseP50Seconds: [Double?],
                responseP99Seconds: [Double?], responseBucketsSeconds: [Double], answersByEdge: [String: [UInt64]], edges: [Edge],
                transitions: [Transition], transitionsSince: Double) {
        self.now = now
        self.start = start
        self.seconds = seconds
        self.queriesPerSecond = queriesPerSecond
        self.responseP50Seconds = responseP50Seconds
        self.responseP99Seconds = responseP99Seconds
        self.responseBucketsSeconds = responseBucketsSeconds
        self.answersByEdge = answersByEdge
        self.edges = edges
        self.transitions = transitions
        self.transitionsSince = transitionsSince
    }

    /// Nothing sampled yet.
    public static func empty(now: Double) -> HistoryReply {
        HistoryReply(now: now, start: Int(now.rounded(.down)), seconds: 0, queriesPerSecond: [], responseP50Seconds: [],
                     responseP99Seconds: [], responseBucketsSeconds: [], answersByEdge: [:], edges: [], transitions: [],
                     transitionsSince: now)
    }

    /// The longest window served.
    public static let maximumSeconds = 3600
}
