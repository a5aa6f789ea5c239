/// The COOKIE option (RFC 7873 section 4): an 8-octet client cookie, alone or followed by
/// a server cookie of 8 to 32 octets. Kept in fixed words, like `ClientSubnet`, so the query
/// path can parse, check and echo it without touching the heap.
///
/// Every word holds octets in wire order: the memory of `clientCookie` is the client
/// cookie's 8 octets, the memory of `serverCookie` the server cookie's, left-aligned.
public struct CookieOption: Hashable, Sendable {
    public var clientCookie: UInt64
    public var serverCookie: (UInt64, UInt64, UInt64, UInt64)
    /// Octets of `serverCookie` in use: 0 when the client sent only its own cookie.
    public var serverCookieLength: Int

    @inlinable public static var clientCookieLength: Int { 8 }
    /// RFC 7873 section 4: a server cookie is 8 to 32 octets.
    @inlinable public static var serverCookieLengths: ClosedRange<Int> { 8...32 }

    public init(clientCookie: UInt64, serverCookie: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0), serverCookieLength: Int = 0) {
        self.clientCookie = clientCookie
        self.serverCookie = serverCookie
        self.serverCookieLength = serverCookieLength
    }

    /// The option from its data as written on the wire (for tests and tools).
    public init(bytes: [UInt8]) throws(WireError) {
        self = try withBytes(bytes) { (raw) throws(WireError) in try CookieOption.parse(raw) }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.clientCookie == b.clientCookie && a.serverCookieLength == b.serverCookieLength && a.serverCookie == b.serverCookie
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(clientCookie)
        hasher.combine(serverCookieLength)
        hasher.combine(serverCookie.0)
        hasher.combine(serverCookie.1)
        hasher.combine(serverCookie.2)
        hasher.combine(serverCookie.3)
    }

    /// Parses the option data. A length other than 8 (client cookie only) or 16 to 40
    /// (client and server cookie) is malformed, which RFC 7873 section 5.2.2 answers with
    /// FORMERR.
    @inlinable
    public static func parse(_ data: UnsafeRawBufferPointer) throws(WireError) -> CookieOption {
        let serverLength = data.count - clientCookieLength
        guard serverLength == 0 || serverCookieLengths.contains(serverLength) else { throw .badCookie(length: data.count) }
        var option = CookieOption(clientCookie: data.loadUnaligned(as: UInt64.self), serverCookieLength: serverLength)
        withUnsafeMutableBytes(of: &option.serverCookie) { out in
            out.copyMemory(from: UnsafeRawBufferPointer(rebasing: data[clientCookieLength...]))
        }
        return option
    }

    /// Octets the option takes in OPT RDATA, its code and length included.
    @inlinable public var optionLength: Int { 4 + Self.clientCookieLength + serverCookieLength }

    /// Writes the whole option: code, length, client cookie, server cookie.
    @inlinable
    public func write(into writer: inout MessageWriter) -> Bool {
        guard writer.writeOptionHeader(.cookie, length: Self.clientCookieLength + serverCookieLength) else { return false }
        var words = (clientCookie, serverCookie.0, serverCookie.1, serverCookie.2, serverCookie.3)
        return withUnsafeBytes(of: &words) { writer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<(Self.clientCookieLength + serverCookieLength)])) }
    }

    /// The option data as written on the wire.
    public var optionData: [UInt8] {
        var words = (clientCookie, serverCookie.0, serverCookie.1, serverCookie.2, serverCookie.3)
        return withUnsafeBytes(of: &words) { Array($0[0..<(Self.clientCookieLength + serverCookieLength)]) }
    }
}

extension EDNS {
    /// The COOKIE option, parsed, if present.
    public func cookie() throws(WireError) -> CookieOption? {
        guard let option = options.first(where: { $0.code == .cookie }) else { return nil }
        return try CookieOption(bytes: option.data)
    }
}
