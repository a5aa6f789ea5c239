import MeridianWire

/// Response rate limiting as a snapshot carries it (the `rrl:` section): how many responses
/// of one class a client network gets per second over UDP, and what happens to the rest.
/// The limiter itself lives with the answering threads; a reload hands it new values here.
public struct RateLimitPolicy: Sendable, Equatable {
    /// Responses per second per bucket; 0 turns limiting off.
    public var rate: Int
    /// Every `slip`-th limited response goes out as an empty TC=1 answer; 0 never, 1 always.
    public var slip: Int
    /// The client network one bucket covers.
    public var ipv4Prefix: Int
    public var ipv6Prefix: Int
    /// Networks never limited.
    public var exempt: [ClientNetwork]

    public init(rate: Int, slip: Int, ipv4Prefix: Int, ipv6Prefix: Int, exempt: [ClientNetwork] = []) {
        self.rate = rate
        self.slip = slip
        self.ipv4Prefix = ipv4Prefix
        self.ipv6Prefix = ipv6Prefix
        self.exempt = exempt
    }

    /// No limiting: what a snapshot built without a configuration serves with.
    public static let off = RateLimitPolicy(rate: 0, slip: 0, ipv4Prefix: 24, ipv6Prefix: 56)

    public var isEnabled: Bool { rate > 0 }

    /// Whether `client` lies in an exempt network.
    @inline(__always)
    public func exempts(_ client: ClientAddress) -> Bool {
        for network in exempt where network.contains(client) { return true }
        return false
    }

    /// The network whose bucket `client` draws from.
    @inline(__always)
    public func network(of client: ClientAddress) -> ClientAddress {
        client.masked(to: client.family == .ipv4 ? ipv4Prefix : ipv6Prefix)
    }
}
