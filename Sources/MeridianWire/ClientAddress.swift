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

extension ClientAddress {
    /// The address with every bit past the first `prefixLength` cleared: the network it
    /// lies in. Lengths past the family's width keep the whole address.
    @inline(__always)
    public func masked(to prefixLength: Int) -> ClientAddress {
        // Byte-swapped so that the first octet is the most significant: masks then run
        // from the top bit down whatever the machine's byte order.
        let high = octets.0.bigEndian
        let low = octets.1.bigEndian
        let highMask: UInt64 = prefixLength >= 64 ? .max : (prefixLength <= 0 ? 0 : ~(UInt64.max >> UInt64(prefixLength)))
        let lowBits = prefixLength - 64
        let lowMask: UInt64 = lowBits >= 64 ? .max : (lowBits <= 0 ? 0 : ~(UInt64.max >> UInt64(lowBits)))
        return ClientAddress(family: family, octets: ((high & highMask).bigEndian, (low & lowMask).bigEndian))
    }
}

/// A network of client addresses (`192.0.2.0/24`), without heap storage.
public struct ClientNetwork: Hashable, Sendable {
    /// The network's address: bits past the prefix are zero.
    public let address: ClientAddress
    public let prefixLength: Int

    /// The network of `prefixLength` bits that holds `address`.
    public init(containing address: ClientAddress, prefixLength: Int) {
        self.address = address.masked(to: prefixLength)
        self.prefixLength = prefixLength
    }

    /// Whether `other` lies inside the network (never across address families).
    @inline(__always)
    public func contains(_ other: ClientAddress) -> Bool {
        other.family == address.family && other.masked(to: prefixLength) == address
    }
}
