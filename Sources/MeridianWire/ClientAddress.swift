/// The address a query is answered for, without heap storage: the packet's source or the
/// EDNS Client Subnet network. IPv4 addresses occupy the first 4 octets.
public struct ClientAddress: Hashable, Sendable {
    public enum Family: UInt8, Sendable { case ipv4 = 4, ipv6 = 6 }
    public var family: Family
    /// Network-order octets, left-aligned.
    public var octets: (UInt64, UInt64)

    public init(family: Family, octets: (UInt64, UInt64)) {
        self.family = family
        self.octets = octets
    }

    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        var storage: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &storage) { $0[0] = a; $0[1] = b; $0[2] = c; $0[3] = d }
        self.init(family: .ipv4, octets: storage)
    }

    public static let unspecifiedIPv4 = ClientAddress(ipv4: 0, 0, 0, 0)

    public static func == (a: Self, b: Self) -> Bool { a.family == b.family && a.octets == b.octets }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(octets.0)
        hasher.combine(octets.1)
    }
}
