/// Why a piece of text is not an address, network or listen address.
public struct AddressSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// An IPv4 or IPv6 address, held as integers in host order.
///
/// Text is parsed strictly (dotted quads without leading zeros, RFC 4291 IPv6 text with `::`
/// and an optional trailing dotted quad, no zone index) and printed in the canonical form
/// of RFC 5952: lower case, leading zeros dropped, the longest run of two or more zero groups
/// written `::`, and IPv4-mapped addresses as `::ffff:192.0.2.1`.
public enum IPAddress: Hashable, Sendable {
    case v4(UInt32)
    case v6(high: UInt64, low: UInt64)

    /// Parses IPv4 or IPv6 text; `nil` when it is neither.
    public init?(_ text: some StringProtocol) {
        guard let address = try? IPAddress(parsing: String(text)) else { return nil }
        self = address
    }

    /// Parses IPv4 or IPv6 text, explaining what is wrong when it is neither.
    public init(parsing text: String) throws(AddressSyntaxError) {
        if text.isEmpty { throw AddressSyntaxError("empty address") }
        if text.contains(":") {
            self = try Self.parseIPv6(text)
        } else {
            self = .v4(try Self.parseIPv4(Substring(text), whole: text))
        }
    }

    /// Wraps 4 or 16 bytes in network order.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let high = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes.dropFirst(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(high: high, low: low)
        default:
            return nil
        }
    }

    public var isIPv4: Bool { if case .v4 = self { true } else { false } }
    public var isIPv6: Bool { !isIPv4 }

    /// 32 for IPv4, 128 for IPv6.
    public var bitWidth: Int { isIPv4 ? 32 : 128 }

    /// The address in network order: 4 bytes for IPv4 (A RDATA), 16 for IPv6 (AAAA RDATA).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    // MARK: Parsing

    private static func parseIPv4(_ text: Substring, whole: String) throws(AddressSyntaxError) -> UInt32 {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else {
            throw AddressSyntaxError("\"\(whole)\" is not an IPv4 address: expected four numbers separated by dots")
        }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let octet = UInt32(part), octet <= 255 else {
                throw AddressSyntaxError("\"\(whole)\" is not an IPv4 address: \"\(part)\" is not a number 0...255")
            }
            if part.count > 1, part.first == "0" {
                throw AddressSyntaxError("\"\(whole)\" is not an IPv4 address: \"\(part)\" has a leading zero")
            }
            value = value << 8 | octet
        }
        return value
    }

    private static func parseIPv6(_ text: String) throws(AddressSyntaxError) -> IPAddress {
        func invalid(_ why: String) -> AddressSyntaxError {
            AddressSyntaxError("\"\(text)\" is not an IPv6 address: \(why)")
        }
        if text.contains("%") { throw invalid("zone indexes are not supported") }
        if text.hasPrefix("[") || text.hasSuffix("]") { throw invalid("remove the brackets") }

        let head: Substring
        let tail: Substring?
        if let gap = text.firstRange(of: "::") {
            head = text[..<gap.lowerBound]
            let rest = text[gap.upperBound...]
            if rest.contains("::") { throw invalid("\"::\" may appear only once") }
            tail = rest
        } else {
            head = Substring(text)
            tail = nil
        }

        // Splits one side of "::" into 16-bit groups; a dotted quad may end the address.
        func groups(_ side: Substring, endsAddress: Bool) throws(AddressSyntaxError) -> [UInt16] {
            if side.isEmpty { return [] }
            let parts = side.split(separator: ":", omittingEmptySubsequences: false)
            var result: [UInt16] = []
            for (index, part) in parts.enumerated() {
                if endsAddress, index == parts.count - 1, part.contains(".") {
                    let v4 = try parseIPv4(part, whole: String(part))
                    result.append(UInt16(truncatingIfNeeded: v4 >> 16))
                    result.append(UInt16(truncatingIfNeeded: v4))
                    continue
                }
                if part.isEmpty { throw invalid("empty group") }
                guard part.count <= 4, part.allSatisfy(\.isHexDigit), let group = UInt16(part, radix: 16) else {
                    throw invalid("\"\(part)\" is not a group of 1 to 4 hex digits")
                }
                result.append(group)
            }
            return result
        }

        let left = try groups(head, endsAddress: tail == nil)
        var all: [UInt16]
        if let tail {
            let right = try groups(tail, endsAddress: true)
            guard left.count + right.count <= 7 else { throw invalid("too many groups") }
            all = left + Array(repeating: 0, count: 8 - left.count - right.count) + right
        } else {
            guard left.count == 8 else { throw invalid("expected 8 groups or \"::\"") }
            all = left
        }
        let high = all[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = all[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return .v6(high: high, low: low)
    }
}

extension IPAddress: Comparable {
    /// IPv4 before IPv6, then numeric order.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        case (.v6(let ah, let al), .v6(let bh, let bl)): (ah, al) < (bh, bl)
        }
    }
}

extension IPAddress: CustomStringConvertible {
    public var description: String {
        switch self {
        case .v4(let value):
            return Self.dottedQuad(value)
        case .v6(let high, let low):
            if high == 0, low >> 32 == 0xFFFF {
                return "::ffff:" + Self.dottedQuad(UInt32(truncatingIfNeeded: low))
            }
            let groups = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
            // RFC 5952 4.2: compress the longest run of zero groups (the first one on a tie),
            // and never a single group.
            var best = (start: -1, length: 1)
            var index = 0
            while index < 8 {
                if groups[index] == 0 {
                    var end = index
                    while end < 8, groups[end] == 0 { end += 1 }
                    if end - index > best.length { best = (index, end - index) }
                    index = end
                } else {
                    index += 1
                }
            }
            func hex(_ range: Range<Int>) -> String {
                groups[range].map { String($0, radix: 16) }.joined(separator: ":")
            }
            if best.start < 0 { return hex(0..<8) }
            return hex(0..<best.start) + "::" + hex((best.start + best.length)..<8)
        }
    }

    private static func dottedQuad(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}
