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

// MARK: - Presentation format

public enum NameTextError: Error, Hashable, Sendable {
    case empty
    case emptyLabel
    case labelTooLong
    case nameTooLong
    case badEscape
}

extension NameTextError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .empty: "empty domain name"
        case .emptyLabel: "empty label in domain name"
        case .labelTooLong: "label longer than 63 octets"
        case .nameTooLong: "domain name longer than 255 octets"
        case .badEscape: "bad escape sequence in domain name"
        }
    }
}

extension DNSName {
    /// Parses presentation format (RFC 1035 section 5.1: `\X` and `\DDD` escapes).
    /// A name without a trailing dot is relative and gets `origin` appended; with no origin
    /// it is taken as absolute.
    public init(parsing text: some StringProtocol, origin: DNSName? = nil) throws(NameTextError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .empty }
        if bytes == [UInt8(ascii: ".")] {
            self = .root
            return
        }
        var wire: [UInt8] = []
        var label: [UInt8] = []
        var index = 0
        var absolute = false
        func finishLabel() throws(NameTextError) {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= Self.maxLabelLength else { throw .labelTooLong }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
            label.removeAll(keepingCapacity: true)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < bytes.count else { throw .badEscape }
                if isDigit(bytes[index]) {
                    guard index + 2 < bytes.count, isDigit(bytes[index + 1]), isDigit(bytes[index + 2]) else { throw .badEscape }
                    let value = Int(bytes[index] - 48) * 100 + Int(bytes[index + 1] - 48) * 10 + Int(bytes[index + 2] - 48)
                    guard value <= 255 else { throw .badEscape }
                    label.append(UInt8(value))
                    index += 3
                } else {
                    label.append(bytes[index])
                    index += 1
                }
            } else if byte == UInt8(ascii: ".") {
                try finishLabel()
                index += 1
                if index == bytes.count { absolute = true }
            } else {
                label.append(byte)
                index += 1
            }
        }
        if !label.isEmpty { try finishLabel() }
        wire.append(0)
        if !absolute, let origin {
            wire.removeLast()
            wire.append(contentsOf: origin.wire)
        }
        guard wire.count <= Self.maxWireLength else { throw .nameTooLong }
        self.wire = wire
    }
}

@inline(__always) func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

extension DNSName: CustomStringConvertible {
    /// Absolute presentation form with a trailing dot; special and non-printable octets escaped.
    public var description: String {
        if isRoot { return "." }
        var text = ""
        var offset = 0
        while wire[offset] != 0 {
            let length = Int(wire[offset])
            for byte in wire[(offset + 1)...(offset + length)] {
                appendEscaped(byte, to: &text)
            }
            text.append(".")
            offset += 1 + length
        }
        return text
    }
}

/// Appends one octet of a name or string in presentation form.
public func appendEscaped(_ byte: UInt8, to text: inout String, quoteSafe: Bool = false) {
    let special = byte == UInt8(ascii: ".") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "(")
        || byte == UInt8(ascii: ")") || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "$") || byte == UInt8(ascii: " ")
    if special && !quoteSafe {
        text.append("\\")
        text.append(Character(Unicode.Scalar(byte)))
        return
    }
    switch byte {
    case UInt8(ascii: "\\"), UInt8(ascii: "\""):
        text.append("\\")
        text.append(Character(Unicode.Scalar(byte)))
    case 0x21...0x7E, 0x20:
        text.append(Character(Unicode.Scalar(byte)))
    default:
        let digits = String(byte)
        text.append("\\" + String(repeating: "0", count: 3 - digits.count) + digits)
    }
}
