import MeridianWire

/// LOC RDATA (RFC 1876): version 0, size and precisions as mantissa and power of ten of
/// centimetres, latitude and longitude in thousandths of an arc second offset by 2^31,
/// altitude in centimetres above 100 km below the WGS 84 spheroid.
enum LocationText {
    static let equator: Int64 = 1 << 31
    static let altitudeBase: Int64 = 10_000_000
    static let millisecondsPerDegree: Int64 = 3_600_000

    static func isValidSize(_ byte: UInt8) -> Bool {
        byte >> 4 <= 9 && byte & 0x0F <= 9
    }

    static func isValid(_ rdata: ArraySlice<UInt8>) -> Bool {
        guard rdata.count == 16 else { return false }
        let base = rdata.startIndex
        guard rdata[base] == 0, (1...3).allSatisfy({ isValidSize(rdata[base + $0]) }) else { return false }
        let latitude = Int64(RDataText.readUInt32(rdata[(base + 4)...])) - equator
        let longitude = Int64(RDataText.readUInt32(rdata[(base + 8)...])) - equator
        return abs(latitude) <= 90 * millisecondsPerDegree && abs(longitude) <= 180 * millisecondsPerDegree
    }

    /// Centimetres as the one-octet mantissa and exponent, truncating as BIND does (1500 m is
    /// stored as 1e5 cm).
    static func encodeSize(centimetres: Int64) -> UInt8 {
        var exponent: UInt8 = 0
        var mantissa = centimetres
        while mantissa >= 10 {
            mantissa /= 10
            exponent += 1
        }
        return UInt8(mantissa) << 4 | exponent
    }

    static func append(_ rdata: ArraySlice<UInt8>, to writer: inout PresentationWriter) {
        let base = rdata.startIndex
        appendAngle(Int64(RDataText.readUInt32(rdata[(base + 4)...])) - equator, hemispheres: ("N", "S"), to: &writer)
        writer.byte(UInt8(ascii: " "))
        appendAngle(Int64(RDataText.readUInt32(rdata[(base + 8)...])) - equator, hemispheres: ("E", "W"), to: &writer)
        writer.byte(UInt8(ascii: " "))
        let altitude = Int64(RDataText.readUInt32(rdata[(base + 12)...])) - altitudeBase
        if altitude < 0 { writer.byte(UInt8(ascii: "-")) }
        appendCentimetres(abs(altitude), wholeMetres: false, to: &writer)
        for offset in 1...3 {
            writer.byte(UInt8(ascii: " "))
            let size = rdata[base + offset]
            var centimetres = Int64(size >> 4)
            for _ in 0..<Int(size & 0x0F) { centimetres *= 10 }
            // BIND drops the decimals once the value is a whole number of metres by construction.
            appendCentimetres(centimetres, wholeMetres: size & 0x0F >= 2, to: &writer)
        }
    }

    private static func appendAngle(_ value: Int64, hemispheres: (String, String), to writer: inout PresentationWriter) {
        let magnitude = UInt64(abs(value))
        writer.decimal(magnitude / UInt64(millisecondsPerDegree))
        writer.byte(UInt8(ascii: " "))
        writer.decimal(magnitude / 60_000 % 60)
        writer.byte(UInt8(ascii: " "))
        writer.decimal(magnitude / 1000 % 60)
        writer.byte(UInt8(ascii: "."))
        appendPadded(magnitude % 1000, width: 3, to: &writer)
        writer.byte(UInt8(ascii: " "))
        writer.text(value < 0 ? hemispheres.1 : hemispheres.0)
    }

    private static func appendCentimetres(_ value: Int64, wholeMetres: Bool, to writer: inout PresentationWriter) {
        writer.decimal(UInt64(value / 100))
        if !wholeMetres {
            writer.byte(UInt8(ascii: "."))
            appendPadded(UInt64(value % 100), width: 2, to: &writer)
        }
        writer.byte(UInt8(ascii: "m"))
    }

    private static func appendPadded(_ value: UInt64, width: Int, to writer: inout PresentationWriter) {
        var divisor: UInt64 = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            writer.byte(UInt8(value / divisor % 10) + 0x30)
            divisor /= 10
        }
    }

    /// `[-]DIGITS[.FRACTION][m]` scaled by 10^`scale`; nil when malformed or with more decimals.
    static func scaledDecimal(_ text: UnsafeBufferPointer<UInt8>, scale: Int, signed: Bool, metres: Bool) -> Int64? {
        var digits = text[...]
        var negative = false
        if signed, digits.first == UInt8(ascii: "-") {
            negative = true
            digits = digits.dropFirst()
        }
        // Lower case only, as BIND and NSD read it.
        if metres, digits.last == UInt8(ascii: "m") { digits = digits.dropLast() }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var seenPoint = false
        var wholeDigits = 0
        for byte in digits {
            if byte == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
                continue
            }
            guard TextFields.isDigitByte(byte) else { return nil }
            if seenPoint {
                fractionDigits += 1
                guard fractionDigits <= scale else { return nil }
                fraction = fraction * 10 + Int64(byte - 0x30)
            } else {
                wholeDigits += 1
                guard wholeDigits <= 12 else { return nil }
                whole = whole * 10 + Int64(byte - 0x30)
            }
        }
        guard wholeDigits > 0 || fractionDigits > 0, !(seenPoint && fractionDigits == 0) else { return nil }
        for _ in fractionDigits..<scale { fraction *= 10 }
        var scaled = whole
        for _ in 0..<scale { scaled *= 10 }
        scaled += fraction
        return negative ? -scaled : scaled
    }
}

extension RDataParser {
    /// `d1 [m1 [s1]] {N|S} d2 [m2 [s2]] {E|W} alt[m] [size[m] [hp[m] [vp[m]]]]` (RFC 1876 section 3),
    /// with the defaults 1m, 10000m and 10m.
    mutating func location(of type: RRType, into out: inout [UInt8]) throws(FieldError) {
        let latitude = try angle(limitDegrees: 90, hemispheres: (UInt8(ascii: "N"), UInt8(ascii: "S")), what: "latitude", of: type)
        let longitude = try angle(limitDegrees: 180, hemispheres: (UInt8(ascii: "E"), UInt8(ascii: "W")), what: "longitude", of: type)
        let altitudeToken = try next(.location, of: type, quotedAllowed: false)
        guard let altitude = LocationText.scaledDecimal(content(altitudeToken), scale: 2, signed: true, metres: true),
              altitude >= -LocationText.altitudeBase, altitude <= 4_284_967_295
        else {
            throw FieldError(message: "bad LOC altitude \(quote(altitudeToken)) (-100000.00m to 42849672.95m)", token: index - 1)
        }
        var sizes: [UInt8] = [0x12, 0x16, 0x13]
        for (position, what) in ["size", "horizontal precision", "vertical precision"].enumerated() where index < tokens.count {
            let token = tokens[index]
            guard !token.quoted, let centimetres = LocationText.scaledDecimal(content(token), scale: 2, signed: false, metres: true),
                  centimetres <= 9_000_000_000
            else {
                throw FieldError(message: "bad LOC \(what) \(quote(token)) (0m to 90000000.00m)", token: index)
            }
            sizes[position] = LocationText.encodeSize(centimetres: centimetres)
            index += 1
        }
        out.append(0)
        out.append(contentsOf: sizes)
        appendUInt32(UInt32(LocationText.equator + latitude), to: &out)
        appendUInt32(UInt32(LocationText.equator + longitude), to: &out)
        appendUInt32(UInt32(LocationText.altitudeBase + altitude), to: &out)
    }

    /// Degrees, optional minutes and seconds, and a hemisphere letter, in thousandths of a second.
    private mutating func angle(limitDegrees: Int64, hemispheres: (UInt8, UInt8), what: String,
                                of type: RRType) throws(FieldError) -> Int64 {
        let limits: [Int64] = [limitDegrees, 59, 59_999]
        var parts: [Int64] = []
        while true {
            let token = try next(.location, of: type, quotedAllowed: false)
            let text = content(token)
            // Upper case only: BIND rejects `n`.
            if parts.count > 0, text.count == 1, text[0] == hemispheres.0 || text[0] == hemispheres.1 {
                let magnitude = parts[0] * LocationText.millisecondsPerDegree
                    + (parts.count > 1 ? parts[1] * 60_000 : 0) + (parts.count > 2 ? parts[2] : 0)
                guard magnitude <= limitDegrees * LocationText.millisecondsPerDegree else {
                    throw FieldError(message: "LOC \(what) beyond \(limitDegrees) degrees", token: index - 1)
                }
                return text[0] == hemispheres.0 ? magnitude : -magnitude
            }
            let value = parts.count == 2
                ? LocationText.scaledDecimal(text, scale: 3, signed: false, metres: false)
                : TextFields.decimal(text).map { Int64(clamping: $0) }
            guard parts.count < 3, let value, value <= limits[parts.count] else {
                throw FieldError(message: "bad LOC \(what) \(quote(token))", token: index - 1)
            }
            parts.append(value)
        }
    }

    /// Gateway type, algorithm and gateway (RFC 4025 section 3.1): `.` for none, an IPv4 or
    /// IPv6 address, or a domain name.
    mutating func ipsecGateway(of type: RRType, into out: inout [UInt8]) throws(FieldError) {
        let gatewayTypeIndex = index
        let gatewayType = try number(.ipsecGateway, of: type, max: 255)
        out.append(UInt8(gatewayType))
        out.append(UInt8(try number(.uint8, of: type, max: 255)))
        switch gatewayType {
        case 0:
            let token = try next(.ipsecGateway, of: type, quotedAllowed: false)
            guard content(token).count == 1, content(token)[0] == UInt8(ascii: ".") else {
                throw FieldError(message: "gateway type 0 needs \".\" as the gateway, not \(quote(token))", token: index - 1)
            }
        case 1: try parse(.ipv4, of: type, into: &out)
        case 2: try parse(.ipv6, of: type, into: &out)
        case 3: try parse(.name(compressible: false), of: type, into: &out)
        default:
            throw FieldError(message: "bad IPSECKEY gateway type \(gatewayType) (0 to 3)", token: gatewayTypeIndex)
        }
    }

    /// `[!]afi:address/prefix` items (RFC 3123 section 5), address octets past the last
    /// non-zero one left out (section 4.1).
    mutating func addressPrefixes(of type: RRType, into out: inout [UInt8]) throws(FieldError) {
        while index < tokens.count {
            let token = tokens[index]
            var text = content(token)[...]
            let negated = text.first == UInt8(ascii: "!")
            if negated { text = text.dropFirst() }
            guard !token.quoted, let colon = text.firstIndex(of: UInt8(ascii: ":")),
                  let slash = text.lastIndex(of: UInt8(ascii: "/")), colon < slash,
                  let family = TextFields.decimal(Bytes(rebasing: text[..<colon])), family == 1 || family == 2,
                  let prefix = TextFields.decimal(Bytes(rebasing: text[(slash + 1)...])), prefix <= (family == 1 ? 32 : 128)
            else {
                throw FieldError(message: "bad APL item \(quote(token)) ([!]1:IPv4/prefix or [!]2:IPv6/prefix)", token: index)
            }
            var address: [UInt8] = []
            let addressText = Bytes(rebasing: text[(colon + 1)..<slash])
            guard family == 1 ? TextFields.ipv4(addressText, into: &address) : TextFields.ipv6(addressText, into: &address) else {
                throw FieldError(message: "bad APL address in \(quote(token))", token: index)
            }
            while address.last == 0 { address.removeLast() }
            appendUInt16(UInt16(family), to: &out)
            out.append(UInt8(prefix))
            out.append((negated ? 0x80 : 0) | UInt8(address.count))
            out.append(contentsOf: address)
            index += 1
        }
    }
}

enum IPSecGateway {
    /// Length of gateway type, algorithm and gateway at `offset`, or nil when malformed.
    static func wireLength(_ rdata: [UInt8], at offset: Int) -> Int? {
        let length = rdata.withUnsafeBytes { MessageWriter.ipsecGatewayLength($0, at: offset) }
        guard let length else { return nil }
        if rdata[offset] == 3, TextFields.wireNameLength(rdata[...], at: offset + 2) != length { return nil }
        return 2 + length
    }

    static func append(_ value: ArraySlice<UInt8>, to writer: inout PresentationWriter) {
        let base = value.startIndex
        writer.decimal(UInt64(value[base]))
        writer.byte(UInt8(ascii: " "))
        writer.decimal(UInt64(value[base + 1]))
        writer.byte(UInt8(ascii: " "))
        let gateway = value[(base + 2)...]
        switch value[base] {
        case 1: writer.ipv4(gateway)
        case 2: writer.ipv6(gateway)
        case 3: writer.name(gateway)
        default: writer.byte(UInt8(ascii: "."))
        }
    }
}

/// APL items on the wire: family, prefix length, negation bit and address length, address.
enum AddressPrefixes {
    static func isValid(_ rdata: ArraySlice<UInt8>) -> Bool {
        var offset = rdata.startIndex
        while offset < rdata.endIndex {
            guard offset + 4 <= rdata.endIndex else { return false }
            let family = UInt16(rdata[offset]) << 8 | UInt16(rdata[offset + 1])
            let prefix = Int(rdata[offset + 2])
            let length = Int(rdata[offset + 3] & 0x7F)
            let maximum = family == 1 ? 4 : family == 2 ? 16 : 0
            guard maximum > 0, prefix <= maximum * 8, length <= maximum, offset + 4 + length <= rdata.endIndex,
                  length == 0 || rdata[offset + 3 + length] != 0
            else { return false }
            offset += 4 + length
        }
        return true
    }

    static func append(_ rdata: ArraySlice<UInt8>, to writer: inout PresentationWriter) {
        var offset = rdata.startIndex
        while offset < rdata.endIndex {
            if offset > rdata.startIndex { writer.byte(UInt8(ascii: " ")) }
            let family = rdata[offset + 1]
            let length = Int(rdata[offset + 3] & 0x7F)
            if rdata[offset + 3] & 0x80 != 0 { writer.byte(UInt8(ascii: "!")) }
            writer.decimal(UInt64(family))
            writer.byte(UInt8(ascii: ":"))
            var address = Array(rdata[(offset + 4)..<(offset + 4 + length)])
            address.append(contentsOf: repeatElement(0, count: (family == 1 ? 4 : 16) - length))
            if family == 1 { writer.ipv4(address[...]) } else { writer.ipv6(address[...]) }
            writer.byte(UInt8(ascii: "/"))
            writer.decimal(UInt64(rdata[offset + 2]))
            offset += 4 + length
        }
    }
}
