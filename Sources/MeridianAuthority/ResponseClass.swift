import MeridianWire

/// What kind of response a query got, as response rate limiting tells them apart (the
/// classes of Knot's mod-rrl and NSD's rrl-*): a flood of one kind runs out its own budget
/// without starving a client's other kinds of answers.
public enum ResponseClass: UInt8, Sendable, CaseIterable {
    /// Records of the asked name and type.
    case positive
    /// The name does not exist.
    case nxDomain
    /// The name exists but has no records of the asked type (the SOA alone).
    case noData
    /// REFUSED, FORMERR, SERVFAIL, NOTIMP, BADVERS: every code but NOERROR and NXDOMAIN.
    case error
    /// A referral to a delegated child zone.
    case referral
    /// An answer synthesised from a wildcard.
    case wildcard
    /// An answer of `largeSize` octets or more, or one that did not fit and went out with
    /// TC=1: the best amplifiers.
    case large
    /// A query of type ANY.
    case any

    /// Knot's threshold for its "large" class (RRL_PSIZE_LARGE).
    public static let largeSize = 1024

    /// The name used in the Prometheus and JSON counters.
    public var name: String {
        switch self {
        case .positive: "positive"
        case .nxDomain: "nxdomain"
        case .noData: "nodata"
        case .error: "error"
        case .referral: "referral"
        case .wildcard: "wildcard"
        case .large: "large"
        case .any: "any"
        }
    }
}

extension Outcome {
    /// The rate-limiting class of this response. Codes first (an NXDOMAIN reached through a
    /// wildcard CNAME is still NXDOMAIN), then the query type, then how the answer was made,
    /// then its size, then whether it has records.
    @inline(__always)
    public var responseClass: ResponseClass {
        if rcode == .nxDomain { return .nxDomain }
        if rcode != .noError { return .error }
        if qtype == .any { return .any }
        if referral { return .referral }
        if wildcard { return .wildcard }
        if truncated || length >= ResponseClass.largeSize { return .large }
        return answerCount == 0 ? .noData : .positive
    }
}
