/// A domain name in uncompressed wire form (length-prefixed labels ending with the root's
/// zero octet), keeping the case it was written with. Comparison and hashing ignore ASCII
/// case (RFC 4343), so names work as dictionary keys while answers still echo the client's case.
public struct DNSName: Sendable {
    /// Uncompressed wire form, at most 255 octets, always ending in 0.
    public let wire: [UInt8]

    public static let maxWireLength = 255
    public static let maxLabelLength = 63
    public static let root = DNSName(uncheckedWire: [0])

    /// Wraps bytes already known to be a valid uncompressed name.
    public init(uncheckedWire: [UInt8]) { self.wire = uncheckedWire }

    /// Validates and wraps uncompressed wire bytes.
    public init?(wire: [UInt8]) {
        var offset = 0
        while offset < wire.count {
            let length = Int(wire[offset])
            if length == 0 { break }
            if length > Self.maxLabelLength { return nil }
            offset += 1 + length
        }
        guard offset == wire.count - 1, wire.count <= Self.maxWireLength else { return nil }
        self.wire = wire
    }

    public var isRoot: Bool { wire.count == 1 }

    public var labelCount: Int {
        var count = 0
        var offset = 0
        while wire[offset] != 0 {
            count += 1
            offset += 1 + Int(wire[offset])
        }
        return count
    }

    /// The labels from left to right, without the root.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var offset = 0
        while wire[offset] != 0 {
            let length = Int(wire[offset])
            result.append(wire[(offset + 1)..<(offset + 1 + length)])
            offset += 1 + length
        }
        return result
    }

    /// The name with its first `count` labels removed.
    public func dropping(labels count: Int) -> DNSName {
        var offset = 0
        for _ in 0..<count where wire[offset] != 0 {
            offset += 1 + Int(wire[offset])
        }
        return DNSName(uncheckedWire: Array(wire[offset...]))
    }

    /// `label.self`, or nil when the result would exceed 255 octets.
    public func prepending(label: some Collection<UInt8>) -> DNSName? {
        guard label.count <= Self.maxLabelLength, wire.count + label.count + 1 <= Self.maxWireLength else { return nil }
        return DNSName(uncheckedWire: [UInt8(label.count)] + label + wire)
    }

    /// `self` followed by `suffix` (self must be relative, i.e. given without its root octet).
    public func appending(_ suffix: DNSName) -> DNSName? {
        let combined = Array(wire.dropLast()) + suffix.wire
        guard combined.count <= Self.maxWireLength else { return nil }
        return DNSName(uncheckedWire: combined)
    }

    /// True when `self` equals `ancestor` or lies below it.
    public func isSubdomain(of ancestor: DNSName) -> Bool {
        let extra = labelCount - ancestor.labelCount
        guard extra >= 0 else { return false }
        return dropping(labels: extra) == ancestor
    }

    /// Lowercased copy: the canonical form used as a lookup key.
    public var lowercased: DNSName {
        DNSName(uncheckedWire: wire.map(asciiLowercase))
    }
}

@inline(__always)
public func asciiLowercase(_ byte: UInt8) -> UInt8 {
    byte &+ ((byte &- 0x41) < 26 ? 0x20 : 0)
}

extension DNSName: Hashable {
    public static func == (a: DNSName, b: DNSName) -> Bool {
        guard a.wire.count == b.wire.count else { return false }
        for index in a.wire.indices where asciiLowercase(a.wire[index]) != asciiLowercase(b.wire[index]) {
            return false
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for byte in wire { hasher.combine(asciiLowercase(byte)) }
    }
}

extension DNSName: Comparable {
    /// Canonical DNS name order (RFC 4034 section 6.1): by labels from the right,
    /// each compared as lowercase octet strings.
    public static func < (a: DNSName, b: DNSName) -> Bool {
        let left = a.labels.reversed().map { $0.map(asciiLowercase) }
        let right = b.labels.reversed().map { $0.map(asciiLowercase) }
        for (l, r) in zip(left, right) where l != r {
            return l.lexicographicallyPrecedes(r)
        }
        return left.count < right.count
    }
}
