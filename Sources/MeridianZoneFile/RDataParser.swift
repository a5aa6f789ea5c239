import MeridianWire

/// A problem in one field. `token` is the index of the offending token, or nil when a field
/// is missing (reported just after the last token of the record).
struct FieldError: Error {
    var message: String
    var token: Int?
}

/// RDATA text → uncompressed wire form, driven by `RDataLayout` so each type is described
/// once. Also reads the RFC 3597 generic form (`\# LENGTH HEX`) for any type.
struct RDataParser {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    let bytes: Bytes
    let tokens: [Token]
    let origin: DNSName
    var index: Int

    init(bytes: Bytes, tokens: [Token], first: Int, origin: DNSName) {
        self.bytes = bytes
        self.tokens = tokens
        self.origin = origin
        self.index = first
    }

    static func isPoolName(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(TextFields.isPoolNameByte)
    }

    mutating func parse(type: RRType) throws(FieldError) -> [UInt8] {
        if index < tokens.count, isGenericMarker(tokens[index]) {
            return try parseGeneric(type: type)
        }
        if type == .dyna || type == .dync {
            return try parsePool(type: type)
        }
        guard let layout = RDataLayout.of(type) else {
            throw FieldError(message: "type \(type) can only be written in the generic form (\\# LENGTH HEX)",
                             token: index < tokens.count ? index : nil)
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var digestToken: Int?
        for field in layout.fields {
            if field == .hexRemainder { digestToken = index }
            try parse(field, of: type, into: &out)
        }
        try expectEnd(of: type)
        if let problem = DigestLength.problem(type: type, rdata: out) {
            throw FieldError(message: problem, token: digestToken)
        }
        return out
    }

    // MARK: Fields

    mutating func parse(_ field: RDataField, of type: RRType, into out: inout [UInt8]) throws(FieldError) {
        switch field {
        case .name:
            let token = try next(field, of: type, quotedAllowed: false)
            do {
                out.append(contentsOf: try TextFields.name(content(token), origin: origin).wire)
            } catch {
                throw FieldError(message: "bad domain name \(quote(token)): \(error)", token: index - 1)
            }
        case .uint8:
            out.append(UInt8(try number(field, of: type, max: UInt64(UInt8.max))))
        case .uint16:
            appendUInt16(UInt16(try number(field, of: type, max: UInt64(UInt16.max))), to: &out)
        case .uint32:
            appendUInt32(UInt32(try number(field, of: type, max: UInt64(UInt32.max))), to: &out)
        case .period:
            let token = try next(field, of: type, quotedAllowed: false)
            guard let value = TextFields.duration(content(token)) else {
                throw FieldError(message: "bad time value \(quote(token))", token: index - 1)
            }
            guard value <= UInt64(UInt32.max) else {
                throw FieldError(message: "time value \(describe(value, token)) out of range (0..4294967295)", token: index - 1)
            }
            appendUInt32(UInt32(value), to: &out)
        case .ipv4:
            let token = try next(field, of: type, quotedAllowed: false)
            guard TextFields.ipv4(content(token), into: &out) else {
                throw FieldError(message: "bad IPv4 address \(quote(token))", token: index - 1)
            }
        case .ipv6:
            let token = try next(field, of: type, quotedAllowed: false)
            guard TextFields.ipv6(content(token), into: &out) else {
                throw FieldError(message: "bad IPv6 address \(quote(token))", token: index - 1)
            }
        case .characterString:
            try characterString(try next(field, of: type, quotedAllowed: true), into: &out)
        case .characterStrings:
            try characterString(try next(field, of: type, quotedAllowed: true), into: &out)
            while index < tokens.count {
                try characterString(tokens[index], into: &out)
                index += 1
            }
        case .caaTag:
            let token = try next(field, of: type, quotedAllowed: false)
            let text = content(token)
            guard text.count <= 255, text.allSatisfy(TextFields.isAlphanumeric) else {
                throw FieldError(message: "bad CAA tag \(quote(token)) (letters and digits only)", token: index - 1)
            }
            out.append(UInt8(text.count))
            out.append(contentsOf: text)
        case .textRemainder:
            let token = try next(field, of: type, quotedAllowed: true)
            do {
                try TextFields.unescape(content(token), into: &out)
            } catch {
                throw FieldError(message: "bad escape sequence in \(quote(token))", token: index - 1)
            }
        case .hexRemainder:
            _ = try next(field, of: type, quotedAllowed: false)
            index -= 1
            try hex(into: &out)
        case .base64Remainder:
            try base64(field, of: type, into: &out)
        case .algorithm:
            let token = try next(field, of: type, quotedAllowed: false)
            if let value = RDataMnemonics.lookup(content(token), in: RDataMnemonics.algorithms) {
                out.append(value)
            } else {
                index -= 1
                out.append(UInt8(try number(field, of: type, max: UInt64(UInt8.max))))
            }
        case .certificateType:
            let token = try next(field, of: type, quotedAllowed: false)
            if let value = RDataMnemonics.lookup(content(token), in: RDataMnemonics.certificateTypes) {
                appendUInt16(value, to: &out)
            } else {
                index -= 1
                appendUInt16(UInt16(try number(field, of: type, max: UInt64(UInt16.max))), to: &out)
            }
        case .rrType:
            let token = try next(field, of: type, quotedAllowed: false)
            guard let covered = ZoneParser.typeOf(content(token)) else {
                throw FieldError(message: "unknown record type \(quote(token))", token: index - 1)
            }
            appendUInt16(covered.rawValue, to: &out)
        case .timestamp:
            let token = try next(field, of: type, quotedAllowed: false)
            let text = content(token)
            if let value = RDataMnemonics.timestamp(text) {
                appendUInt32(value, to: &out)
            } else if text.count != 14, let value = TextFields.decimal(text), value <= UInt64(UInt32.max) {
                appendUInt32(UInt32(value), to: &out)
            } else {
                throw FieldError(message: "bad time \(quote(token)) (YYYYMMDDHHmmSS or seconds since 1970)", token: index - 1)
            }
        case .typeBitmap:
            try typeBitmap(of: type, into: &out)
        case .salt:
            let token = try next(field, of: type, quotedAllowed: false)
            let text = content(token)
            let lengthAt = out.count
            out.append(0)
            if !(text.count == 1 && text[0] == UInt8(ascii: "-")) {
                guard text.count % 2 == 0, let salt = Self.hexOctets(text) else {
                    throw FieldError(message: "bad salt \(quote(token)) (hex digits, or - for none)", token: index - 1)
                }
                guard salt.count <= 255 else {
                    throw FieldError(message: "salt longer than 255 octets", token: index - 1)
                }
                out.append(contentsOf: salt)
            }
            out[lengthAt] = UInt8(out.count - lengthAt - 1)
        case .base32Hex:
            let token = try next(field, of: type, quotedAllowed: false)
            guard let hash = BinaryText.decodeBase32Hex(content(token)), !hash.isEmpty else {
                throw FieldError(message: "bad base32hex hash \(quote(token))", token: index - 1)
            }
            guard hash.count <= 255 else {
                throw FieldError(message: "hash longer than 255 octets", token: index - 1)
            }
            out.append(UInt8(hash.count))
            out.append(contentsOf: hash)
        case .eui48, .eui64:
            let token = try next(field, of: type, quotedAllowed: false)
            guard let octets = Self.separatedHex(content(token), groups: field == .eui48 ? 6 : 8, digits: 2,
                                                 separator: UInt8(ascii: "-"), exact: true) else {
                throw FieldError(message: "bad \(type) address \(quote(token)) (xx-xx-...)", token: index - 1)
            }
            out.append(contentsOf: octets)
        case .ilnp64:
            let token = try next(field, of: type, quotedAllowed: false)
            guard let octets = Self.separatedHex(content(token), groups: 4, digits: 4, separator: UInt8(ascii: ":"), exact: false) else {
                throw FieldError(message: "bad 64-bit \(type) value \(quote(token)) (xxxx:xxxx:xxxx:xxxx)", token: index - 1)
            }
            out.append(contentsOf: octets)
        case .location:
            try location(of: type, into: &out)
        case .ipsecGateway:
            try ipsecGateway(of: type, into: &out)
        case .addressPrefixes:
            try addressPrefixes(of: type, into: &out)
        case .serviceParameters:
            try serviceParameters(of: type, into: &out)
        }
    }

    /// Base64 up to the end of the record, possibly split by blanks. Never empty: BIND requires
    /// the key even where RFC 4025 lets IPSECKEY omit it.
    private mutating func base64(_ field: RDataField, of type: RRType, into out: inout [UInt8]) throws(FieldError) {
        let first = index
        _ = try next(field, of: type, quotedAllowed: false)
        var pieces: [Bytes] = [content(tokens[first])]
        while index < tokens.count {
            guard !tokens[index].quoted else {
                throw FieldError(message: "expected base64 data, not a quoted string", token: index)
            }
            pieces.append(content(tokens[index]))
            index += 1
        }
        guard let decoded = BinaryText.decodeBase64(pieces) else {
            throw FieldError(message: "bad base64 data", token: first)
        }
        out.append(contentsOf: decoded)
    }

    /// Type mnemonics up to the end of the record, in any order, as the windowed bitmap of
    /// RFC 4034 section 4.1.2. NSEC names at least its own RRSIG and NSEC, so it cannot be empty
    /// (BIND); NSEC3 and CSYNC may be.
    private mutating func typeBitmap(of type: RRType, into out: inout [UInt8]) throws(FieldError) {
        guard index < tokens.count || type != .nsec else {
            throw FieldError(message: "missing type list in \(type) RDATA", token: nil)
        }
        var present = Set<UInt16>()
        while index < tokens.count {
            let token = tokens[index]
            guard !token.quoted, let listed = ZoneParser.typeOf(content(token)) else {
                throw FieldError(message: "unknown record type \(quote(token)) in the type list", token: index)
            }
            present.insert(listed.rawValue)
            index += 1
        }
        TypeBitmap.append(present.sorted(), to: &out)
    }

    static func hexOctets(_ text: Bytes) -> [UInt8]? {
        var octets: [UInt8] = []
        var high: UInt8?
        for byte in text {
            guard let nibble = TextFields.hexValue(byte) else { return nil }
            if let pending = high {
                octets.append(pending << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? octets : nil
    }

    /// `groups` hex groups joined by `separator`, each of `digits` digits (up to `digits` when
    /// not `exact`), as big-endian octets.
    static func separatedHex(_ text: Bytes, groups: Int, digits: Int, separator: UInt8, exact: Bool) -> [UInt8]? {
        var octets: [UInt8] = []
        var value: UInt32 = 0
        var count = 0
        var groupsSeen = 0
        func close() -> Bool {
            guard count > 0, !exact || count == digits else { return false }
            for shift in stride(from: (digits / 2 - 1) * 8, through: 0, by: -8) { octets.append(UInt8(value >> UInt32(shift) & 0xFF)) }
            groupsSeen += 1
            value = 0
            count = 0
            return true
        }
        for byte in text {
            if byte == separator {
                guard close() else { return nil }
                continue
            }
            guard let nibble = TextFields.hexValue(byte), count < digits else { return nil }
            value = value << 4 | UInt32(nibble)
            count += 1
        }
        guard close(), groupsSeen == groups else { return nil }
        return octets
    }

    mutating func number(_ field: RDataField, of type: RRType, max: UInt64) throws(FieldError) -> UInt64 {
        let token = try next(field, of: type, quotedAllowed: false)
        guard let value = TextFields.decimal(content(token)) else {
            throw FieldError(message: "bad number \(quote(token))", token: index - 1)
        }
        guard value <= max else {
            throw FieldError(message: "number \(describe(value, token)) out of range (0..\(max))", token: index - 1)
        }
        return value
    }

    private func characterString(_ token: Token, into out: inout [UInt8]) throws(FieldError) {
        let lengthAt = out.count
        out.append(0)
        do {
            try TextFields.unescape(content(token), into: &out)
        } catch {
            throw FieldError(message: "bad escape sequence in \(quote(token))", token: tokenIndex(token))
        }
        let length = out.count - lengthAt - 1
        guard length <= 255 else {
            throw FieldError(message: "character string longer than 255 octets", token: tokenIndex(token))
        }
        out[lengthAt] = UInt8(length)
    }

    /// Hex digits up to the end of the record, possibly split by blanks.
    mutating func hex(into out: inout [UInt8]) throws(FieldError) {
        var high: UInt8?
        while index < tokens.count {
            let token = tokens[index]
            guard !token.quoted else {
                throw FieldError(message: "bad hex data \(quote(token))", token: index)
            }
            for byte in content(token) {
                guard let nibble = TextFields.hexValue(byte) else {
                    throw FieldError(message: "bad hex data \(quote(token))", token: index)
                }
                if let pending = high {
                    out.append(pending << 4 | nibble)
                    high = nil
                } else {
                    high = nibble
                }
            }
            index += 1
        }
        if high != nil {
            throw FieldError(message: "odd number of hex digits", token: index - 1)
        }
    }

    // MARK: Dynamic kinds and the generic form

    private mutating func parsePool(type: RRType) throws(FieldError) -> [UInt8] {
        guard index < tokens.count else {
            throw FieldError(message: "missing pool name in \(type) record", token: nil)
        }
        let token = tokens[index]
        let text = content(token)
        guard !token.quoted, Self.isPoolName(text) else {
            throw FieldError(message: "bad pool name \(quote(token)) (letters, digits, _ and - only)", token: index)
        }
        index += 1
        try expectEnd(of: type)
        return Array(text)
    }

    private mutating func parseGeneric(type: RRType) throws(FieldError) -> [UInt8] {
        let marker = index
        index += 1
        guard index < tokens.count else {
            throw FieldError(message: "missing RDATA length after \\#", token: nil)
        }
        let lengthToken = tokens[index]
        guard !lengthToken.quoted, let length = TextFields.decimal(content(lengthToken)), length <= 65_535 else {
            throw FieldError(message: "bad generic RDATA length \(quote(lengthToken))", token: index)
        }
        let lengthIndex = index
        index += 1
        var out: [UInt8] = []
        out.reserveCapacity(Int(length))
        try hex(into: &out)
        guard out.count == Int(length) else {
            throw FieldError(message: "generic RDATA length \(length) does not match the \(out.count) octets given",
                             token: lengthIndex)
        }
        if type == .dyna || type == .dync {
            guard Self.isPoolName(out) else {
                throw FieldError(message: "generic RDATA is not a valid \(type) pool name", token: marker)
            }
        } else if let layout = RDataLayout.of(type), RDataWire.fields(out, layout: layout, type: type) == nil {
            throw FieldError(message: "generic RDATA is not valid \(type) data", token: marker)
        }
        return out
    }

    private func isGenericMarker(_ token: Token) -> Bool {
        !token.quoted && token.contentEnd - token.contentStart == 2
            && bytes[token.contentStart] == UInt8(ascii: "\\") && bytes[token.contentStart + 1] == UInt8(ascii: "#")
    }

    // MARK: Tokens

    mutating func next(_ field: RDataField, of type: RRType, quotedAllowed: Bool) throws(FieldError) -> Token {
        guard index < tokens.count else {
            throw FieldError(message: "missing \(Self.describe(field)) in \(type) RDATA", token: nil)
        }
        let token = tokens[index]
        guard quotedAllowed || !token.quoted else {
            throw FieldError(message: "expected \(Self.describe(field)), not a quoted string", token: index)
        }
        index += 1
        return token
    }

    func expectEnd(of type: RRType) throws(FieldError) {
        guard index < tokens.count else { return }
        throw FieldError(message: "unexpected \(quote(tokens[index])) after the \(type) RDATA", token: index)
    }

    func content(_ token: Token) -> Bytes {
        Bytes(rebasing: bytes[token.contentStart..<token.contentEnd])
    }

    func tokenIndex(_ token: Token) -> Int? {
        tokens.firstIndex { $0.start == token.start }
    }

    func quote(_ token: Token) -> String {
        Self.quote(content(token))
    }

    /// `"text"` for messages, shortened when long.
    static func quote(_ text: some Collection<UInt8>) -> String {
        let shown = text.count > 64 ? String(decoding: text.prefix(61), as: UTF8.self) + "..." : String(decoding: text, as: UTF8.self)
        return "\"" + shown + "\""
    }

    /// The value, or the text as written when it did not even fit in 64 bits.
    private func describe(_ value: UInt64, _ token: Token) -> String {
        value == .max ? String(decoding: content(token), as: UTF8.self) : String(value)
    }

    static func describe(_ field: RDataField) -> String {
        switch field {
        case .name: "domain name"
        case .uint8, .uint16, .uint32: "number"
        case .period: "time value"
        case .ipv4: "IPv4 address"
        case .ipv6: "IPv6 address"
        case .characterString, .characterStrings: "character string"
        case .caaTag: "CAA tag"
        case .textRemainder: "value"
        case .hexRemainder: "hex data"
        case .base64Remainder: "base64 data"
        case .algorithm: "algorithm"
        case .certificateType: "certificate type"
        case .rrType: "type covered"
        case .timestamp: "time"
        case .typeBitmap: "type list"
        case .salt: "salt"
        case .base32Hex: "next hashed owner name"
        case .eui48, .eui64: "address"
        case .ilnp64: "64-bit value"
        case .location: "location"
        case .ipsecGateway: "gateway type"
        case .addressPrefixes: "address prefix"
        case .serviceParameters: "service parameter"
        }
    }
}

@inline(__always) func appendUInt16(_ value: UInt16, to out: inout [UInt8]) {
    out.append(UInt8(value >> 8))
    out.append(UInt8(value & 0xFF))
}

@inline(__always) func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
    out.append(UInt8(value >> 24))
    out.append(UInt8((value >> 16) & 0xFF))
    out.append(UInt8((value >> 8) & 0xFF))
    out.append(UInt8(value & 0xFF))
}

/// Checks stored RDATA against a layout and finds where each field lies.
enum RDataWire {
    /// The byte range of each field of `layout` in `rdata`, or nil when RDATA does not match
    /// (truncated, trailing bytes, bad or compressed names, empty TXT, malformed type bitmaps,
    /// LOC, APL or SvcParams), as BIND's checks of wire data.
    static func fields(_ rdata: [UInt8], layout: RDataLayout, type: RRType) -> [Range<Int>]? {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(layout.fields.count)
        var offset = 0
        let count = rdata.count
        for field in layout.fields {
            let start = offset
            switch field {
            case .name:
                guard let length = TextFields.wireNameLength(rdata[...], at: offset) else { return nil }
                offset += length
            case .uint8, .algorithm: offset += 1
            case .uint16, .rrType, .certificateType: offset += 2
            case .uint32, .period, .ipv4, .timestamp: offset += 4
            case .ipv6: offset += 16
            case .eui48: offset += 6
            case .eui64, .ilnp64: offset += 8
            case .location:
                guard LocationText.isValid(rdata[offset...]) else { return nil }
                offset += 16
            case .characterString, .salt:
                guard offset < count else { return nil }
                offset += 1 + Int(rdata[offset])
            case .caaTag, .base32Hex:
                guard offset < count, rdata[offset] > 0 else { return nil }
                offset += 1 + Int(rdata[offset])
            case .characterStrings:
                guard offset < count else { return nil }
                while offset < count { offset += 1 + Int(rdata[offset]) }
            case .textRemainder, .hexRemainder:
                offset = count
            case .base64Remainder:
                guard offset < count else { return nil }
                offset = count
            case .typeBitmap:
                guard TypeBitmap.isValid(rdata[offset...], allowEmpty: type != .nsec) else { return nil }
                offset = count
            case .ipsecGateway:
                guard let length = IPSecGateway.wireLength(rdata, at: offset) else { return nil }
                offset += length
            case .addressPrefixes:
                guard AddressPrefixes.isValid(rdata[offset...]) else { return nil }
                offset = count
            case .serviceParameters:
                guard ServiceParameters.isValid(rdata[offset...]) else { return nil }
                offset = count
            }
            guard offset <= count else { return nil }
            ranges.append(start..<offset)
        }
        guard offset == count, DigestLength.problem(type: type, rdata: rdata) == nil else { return nil }
        return ranges
    }
}

/// Digests whose length their digest type fixes, checked as BIND does: DS and CDS (RFC 4034,
/// 4509, 5933, 6605), and ZONEMD, whose digest is at least 12 octets (RFC 8976 section 2.2.4).
enum DigestLength {
    static func problem(type: RRType, rdata: [UInt8]) -> String? {
        switch type {
        case .ds, .cds:
            guard rdata.count >= 4 else { return nil }
            let expected: Int? = switch rdata[3] {
            case 1: 20
            case 2, 3: 32
            case 4: 48
            default: nil
            }
            if let expected, rdata.count - 4 != expected {
                return "digest type \(rdata[3]) needs \(expected) octets, not \(rdata.count - 4)"
            }
        case .zonemd:
            guard rdata.count >= 6 else { return nil }
            let length = rdata.count - 6
            let expected: Int? = switch rdata[5] {
            case 1: 48
            case 2: 64
            default: nil
            }
            if let expected, length != expected {
                return "digest type \(rdata[5]) needs \(expected) octets, not \(length)"
            }
            if length < 12 { return "ZONEMD digest shorter than 12 octets" }
        default:
            break
        }
        return nil
    }
}
