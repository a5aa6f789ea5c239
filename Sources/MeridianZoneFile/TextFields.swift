import MeridianWire

/// Presentation-format field readers and writers shared by the parser and `RDataText`.
/// They work on raw bytes; nothing here allocates a String unless it reports an error.
enum TextFields {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    // MARK: Numbers and time values

    /// A plain decimal number, or nil when the text is not one. Values that overflow 64 bits
    /// saturate, so callers can still say "out of range".
    static func decimal(_ text: Bytes) -> UInt64? {
        guard !text.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in text {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = saturatingAdd(saturatingMultiply(value, 10), UInt64(byte - 0x30))
        }
        return value
    }

    /// A TTL or other time value: plain seconds, or numbers with the units `w`, `d`, `h`, `m`,
    /// `s` in any case (`1h30m`, `2w`). A trailing number without a unit counts as seconds,
    /// as in BIND. Saturates instead of overflowing.
    static func duration(_ text: Bytes) -> UInt64? {
        guard !text.isEmpty else { return nil }
        var total: UInt64 = 0
        var index = 0
        while index < text.count {
            var number: UInt64 = 0
            var digits = 0
            while index < text.count, text[index] >= 0x30 && text[index] <= 0x39 {
                number = saturatingAdd(saturatingMultiply(number, 10), UInt64(text[index] - 0x30))
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            guard index < text.count else {
                total = saturatingAdd(total, number)
                break
            }
            let multiplier: UInt64
            switch text[index] | 0x20 {
            case UInt8(ascii: "s"): multiplier = 1
            case UInt8(ascii: "m"): multiplier = 60
            case UInt8(ascii: "h"): multiplier = 3600
            case UInt8(ascii: "d"): multiplier = 86_400
            case UInt8(ascii: "w"): multiplier = 604_800
            default: return nil
            }
            index += 1
            total = saturatingAdd(total, saturatingMultiply(number, multiplier))
        }
        return total
    }

    @inline(__always) static func saturatingAdd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    @inline(__always) static func saturatingMultiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    // MARK: Addresses

    /// Dotted-quad IPv4 (four decimal octets, no leading zeros, as `inet_pton`).
    static func ipv4(_ text: Bytes, into out: inout [UInt8]) -> Bool {
        var octets: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        guard parseIPv4(text, &octets) else { return false }
        out.append(octets.0)
        out.append(octets.1)
        out.append(octets.2)
        out.append(octets.3)
        return true
    }

    private static func parseIPv4(_ text: Bytes, _ octets: inout (UInt8, UInt8, UInt8, UInt8)) -> Bool {
        var accumulated: UInt32 = 0
        var parts = 0
        var value: UInt32 = 0
        var digits = 0
        var startsWithZero = false
        for byte in text {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return false }
                accumulated = accumulated << 8 | value
                parts += 1
                value = 0
                digits = 0
                continue
            }
            guard isDigitByte(byte), !(digits == 1 && startsWithZero) else { return false }
            if digits == 0 { startsWithZero = byte == 0x30 }
            value = value * 10 + UInt32(byte - 0x30)
            digits += 1
            guard value <= 255 else { return false }
        }
        guard digits > 0, parts == 3 else { return false }
        accumulated = accumulated << 8 | value
        octets = (UInt8(accumulated >> 24), UInt8((accumulated >> 16) & 0xFF), UInt8((accumulated >> 8) & 0xFF), UInt8(accumulated & 0xFF))
        return true
    }

    /// IPv6 text (RFC 4291 section 2.2): up to eight groups, one `::`, and an optional
    /// embedded IPv4 address in the last 32 bits.
    static func ipv6(_ text: Bytes, into out: inout [UInt8]) -> Bool {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var gap: Int?
        var index = 0
        let count = text.count
        guard count >= 2 else { return false }
        if text[0] == UInt8(ascii: ":") {
            guard text[1] == UInt8(ascii: ":") else { return false }
            gap = 0
            index = 2
        }
        while index < count {
            let groupStart = index
            var value = 0
            var digits = 0
            while index < count, let nibble = hexValue(text[index]) {
                value = value << 4 | Int(nibble)
                digits += 1
                index += 1
                guard digits <= 4 else { return false }
            }
            if index < count && text[index] == UInt8(ascii: ".") {
                // The rest is a dotted quad taking the last two groups.
                guard groups.count <= 6 else { return false }
                var octets: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
                guard parseIPv4(Bytes(rebasing: text[groupStart..<count]), &octets) else { return false }
                groups.append(UInt16(octets.0) << 8 | UInt16(octets.1))
                groups.append(UInt16(octets.2) << 8 | UInt16(octets.3))
                index = count
                break
            }
            guard digits > 0 else { return false }
            groups.append(UInt16(value))
            guard groups.count <= 8 else { return false }
            if index == count { break }
            guard text[index] == UInt8(ascii: ":") else { return false }
            index += 1
            if index < count && text[index] == UInt8(ascii: ":") {
                guard gap == nil else { return false }
                gap = groups.count
                index += 1
            } else if index == count {
                return false
            }
        }
        if let gap {
            guard groups.count <= 7 else { return false }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gap)
        } else {
            guard groups.count == 8 else { return false }
        }
        for group in groups {
            out.append(UInt8(group >> 8))
            out.append(UInt8(group & 0xFF))
        }
        return true
    }

    // MARK: Names

    /// A domain name in presentation format. `@` is the origin; a name without a trailing dot
    /// is relative to the origin.
    static func name(_ text: Bytes, origin: DNSName) throws(NameTextError) -> DNSName {
        if text.count == 1 && text[0] == UInt8(ascii: "@") { return origin }
        return try DNSName(presentation: text, origin: origin)
    }

    /// Length of a well-formed uncompressed name at `offset`, or nil.
    static func wireNameLength(_ bytes: ArraySlice<UInt8>, at offset: Int) -> Int? {
        var position = offset
        while position < bytes.endIndex {
            let length = Int(bytes[position])
            if length == 0 {
                let total = position + 1 - offset
                return total <= DNSName.maxWireLength ? total : nil
            }
            guard length <= DNSName.maxLabelLength else { return nil }
            position += 1 + length
            guard position - offset < DNSName.maxWireLength else { return nil }
        }
        return nil
    }

    // MARK: Strings and hex

    enum StringError: Error {
        case badEscape
    }

    /// Appends the octets of a character-string as written (quotes already removed),
    /// interpreting `\DDD` and `\X`.
    static func unescape(_ text: Bytes, into out: inout [UInt8]) throws(StringError) {
        var index = 0
        while index < text.count {
            guard let next = PresentationText.readOctet(in: text, at: index) else { throw .badEscape }
            out.append(next.octet)
            index = next.end
        }
    }

    @inline(__always) static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    @inline(__always) static func isDigitByte(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// Characters allowed in a pool name: `[A-Za-z0-9_-]`.
    @inline(__always) static func isPoolNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }

    @inline(__always) static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: false
        }
    }
}
