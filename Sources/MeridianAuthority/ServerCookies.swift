import MeridianWire

/// The secrets server cookies are made and checked with. New cookies use `current`; a
/// cookie made with `previous` still verifies, so a fleet can change its secret without
/// turning every client's cookie bad at once (RFC 9018 section 5).
public struct CookieSecrets: Hashable, Sendable {
    public var current: SipHashKey
    public var previous: SipHashKey?

    public init(current: SipHashKey, previous: SipHashKey? = nil) {
        self.current = current
        self.previous = previous
    }
}

/// What a query's COOKIE option turned out to be, for counters and the rate limiter.
public enum CookieResult: UInt8, Sendable {
    /// No COOKIE option (or cookies are off).
    case absent
    /// A client cookie alone: the client has not learned our server cookie yet.
    case clientOnly
    /// A server cookie we made for this client, with a secret we hold, less than an hour old.
    case valid
    /// A server cookie that does not verify: forged, made for another address, expired, or
    /// made by a server that does not follow RFC 9018.
    case invalid
    /// A COOKIE option of a length no cookie has; the query was answered FORMERR.
    case malformed
}

/// Server cookies as RFC 9018 section 4 builds them, so that every server of an anycast set
/// that shares the secret (Meridian, BIND, Knot, NSD, PowerDNS) accepts the others' cookies:
///
///     Version (1) | Reserved (3) | Timestamp (4) | Hash (8)
///     Hash = SipHash-2-4(Client Cookie | Version | Reserved | Timestamp | Client IP, Secret)
///
/// The client IP is the packet's source address, 4 octets for IPv4 and 16 for IPv6.
public enum ServerCookie {
    /// Octets of the cookies this server makes.
    public static let length = 16
    static let version: UInt64 = 1
    /// RFC 9018 section 4.3: accept cookies up to an hour old and up to five minutes from
    /// the future (another server's clock may run ahead), and give out a new one when the
    /// presented one is older than half an hour, long before it expires.
    static let lifetime: Int32 = 3600
    static let allowedClockSkew: Int32 = 300
    static let reissueAge: Int32 = 1800

    /// Checks the server cookie the client presented and turns `option` into the one to
    /// send back: the client's cookie with either the presented server cookie (valid, made
    /// with the current secret, less than half an hour old) or a fresh one. Anything that
    /// does not verify is treated as if the client had sent no server cookie (RFC 7873
    /// section 5.2.4): it gets a fresh cookie and a normal answer.
    public static func answer(_ option: inout CookieOption, from client: ClientAddress, at now: UInt32,
                              secrets: CookieSecrets) -> CookieResult {
        guard option.serverCookieLength > 0 else {
            issue(&option, for: client, at: now, key: secrets.current)
            return .clientOnly
        }
        switch verify(option, from: client, at: now, secrets: secrets) {
        case .reusable:
            return .valid
        case .renew:
            issue(&option, for: client, at: now, key: secrets.current)
            return .valid
        case .invalid:
            issue(&option, for: client, at: now, key: secrets.current)
            return .invalid
        }
    }

    enum Verification {
        /// Valid, and fresh enough to send back as it is.
        case reusable
        /// Valid, but old or made with the previous secret: send a new one.
        case renew
        case invalid
    }

    static func verify(_ option: CookieOption, from client: ClientAddress, at now: UInt32, secrets: CookieSecrets) -> Verification {
        // Only RFC 9018's own layout can be checked: 16 octets, version 1. The reserved
        // octets are not checked; they are part of the hash as the client sent them.
        let header = UInt64(bigEndian: option.serverCookie.0)
        guard option.serverCookieLength == length, header >> 56 == version else { return .invalid }
        // Serial number arithmetic (RFC 1982), as the timestamp wraps in 2106.
        let age = Int32(bitPattern: now &- UInt32(truncatingIfNeeded: header))
        guard age >= -allowedClockSkew, age <= lifetime else { return .invalid }
        let presented = option.serverCookie.1
        if hash(option.clientCookie, option.serverCookie.0, client, key: secrets.current).littleEndian == presented {
            return age >= 0 && age < reissueAge ? .reusable : .renew
        }
        if let previous = secrets.previous, hash(option.clientCookie, option.serverCookie.0, client, key: previous).littleEndian == presented {
            return .renew
        }
        return .invalid
    }

    /// Puts a new server cookie for `client` at time `now` into `option`.
    static func issue(_ option: inout CookieOption, for client: ClientAddress, at now: UInt32, key: SipHashKey) {
        let header = (version << 56 | UInt64(now)).bigEndian
        option.serverCookie = (header, hash(option.clientCookie, header, client, key: key).littleEndian, 0, 0)
        option.serverCookieLength = length
    }

    /// SipHash-2-4 over client cookie, version, reserved, timestamp and client address;
    /// `clientCookie` and `header` hold their octets in wire order.
    static func hash(_ clientCookie: UInt64, _ header: UInt64, _ client: ClientAddress, key: SipHashKey) -> UInt64 {
        var input = (clientCookie, header, client.octets.0, client.octets.1)
        let count = 16 + (client.family == .ipv4 ? 4 : 16)
        return withUnsafeBytes(of: &input) { SipHash24.hash(UnsafeRawBufferPointer(rebasing: $0[0..<count]), key: key) }
    }
}
