/// One change of an edge's state, for the health timeline on the stats port: a probe verdict
/// (`health`: `unknown`, `up`, `down`) or an operator's drain (`admin`: `active`, `drained`).
/// A drain counts only when it changes what routing sees: a local drain of an edge the fleet
/// already drained is no transition.
public struct HealthTransition: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case health
        case admin
    }

    /// Seconds since the Unix epoch.
    public var time: Double
    public var edge: String
    public var kind: Kind
    public var from: String
    public var to: String
    /// The probe result and thresholds that decided it, or who drained and why.
    public var reason: String

    public init(time: Double, edge: String, kind: Kind, from: String, to: String, reason: String) {
        self.time = time
        self.edge = edge
        self.kind = kind
        self.from = from
        self.to = to
        self.reason = reason
    }
}
