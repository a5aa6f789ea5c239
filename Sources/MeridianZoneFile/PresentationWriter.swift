import MeridianWire

/// Builds presentation-format text as UTF-8 bytes, so printing a million records does not
/// append characters to a String one at a time. Names and strings are escaped by the wire
/// module's `PresentationText`, as `DNSName.description` is.
struct PresentationWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    @inline(__always) mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func text(_ value: String) {
        bytes.append(contentsOf: value.utf8)
    }

    mutating func decimal(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(value / divisor % 10) + 0x30)
            divisor /= 10
        }
    }

    /// An uncompressed wire name, absolute with a trailing dot.
    mutating func name(_ wire: ArraySlice<UInt8>) {
        PresentationText.appendName(wire, to: &bytes)
    }

    /// `"…"` with escapes.
    mutating func quoted(_ value: ArraySlice<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        for octet in value { PresentationText.appendEscaped(octet, quoted: true, to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func hex(_ value: ArraySlice<UInt8>) {
        for octet in value {
            bytes.append(Self.hexDigit(octet >> 4))
            bytes.append(Self.hexDigit(octet & 0x0F))
        }
    }

    mutating func lowerHex(_ octet: UInt8) {
        bytes.append(Self.lowerHexDigit(octet >> 4))
        bytes.append(Self.lowerHexDigit(octet & 0x0F))
    }

    @inline(__always) static func lowerHexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble + 0x30 : nibble - 10 + 0x61
    }

    @inline(__always) static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble + 0x30 : nibble - 10 + 0x41
    }

    mutating func ipv4(_ value: ArraySlice<UInt8>) {
        var first = true
        for octet in value {
            if !first { bytes.append(UInt8(ascii: ".")) }
            decimal(UInt64(octet))
            first = false
        }
    }

    /// RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero
    /// groups (the first of equal runs) shortened to `::`; IPv4-mapped addresses end in a
    /// dotted quad.
    mutating func ipv6(_ value: ArraySlice<UInt8>) {
        let base = value.startIndex
        func group(_ index: Int) -> UInt16 {
            UInt16(value[base + 2 * index]) << 8 | UInt16(value[base + 2 * index + 1])
        }
        if (0..<5).allSatisfy({ group($0) == 0 }) && group(5) == 0xFFFF {
            text("::ffff:")
            ipv4(value[(base + 12)...])
            return
        }
        var bestStart = -1
        var bestLength = 1
        var runStart = -1
        for index in 0...8 {
            if index < 8 && group(index) == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength {
                    bestStart = runStart
                    bestLength = index - runStart
                }
                runStart = -1
            }
        }
        var index = 0
        while index < 8 {
            if index == bestStart {
                bytes.append(UInt8(ascii: ":"))
                if index == 0 { bytes.append(UInt8(ascii: ":")) }
                index += bestLength
                continue
            }
            let value = group(index)
            var started = false
            for shift in stride(from: 12, through: 0, by: -4) {
                let nibble = UInt8((value >> UInt16(shift)) & 0xF)
                if nibble != 0 || started || shift == 0 {
                    bytes.append(Self.lowerHexDigit(nibble))
                    started = true
                }
            }
            if index < 7 { bytes.append(UInt8(ascii: ":")) }
            index += 1
        }
    }
}

extension PresentationWriter {
    /// RDATA in presentation format; see `RDataText.format(type:rdata:)`.
    mutating func rdata(type: RRType, _ rdata: [UInt8]) {
        if type == .dyna || type == .dync {
            if RDataParser.isPoolName(rdata) { bytes.append(contentsOf: rdata) } else { generic(rdata) }
            return
        }
        guard let layout = RDataLayout.of(type), let ranges = RDataWire.fields(rdata, layout: layout, type: type) else {
            generic(rdata)
            return
        }
        let mark = bytes.count
        for (index, (field, range)) in zip(layout.fields, ranges).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: " ")) }
            let value = rdata[range]
            let start = range.lowerBound
            switch field {
            case .name:
                name(value)
            case .uint8:
                decimal(UInt64(rdata[start]))
            case .uint16:
                decimal(UInt64(rdata[start]) << 8 | UInt64(rdata[start + 1]))
            case .uint32, .period:
                decimal(UInt64(RDataText.readUInt32(value)))
            case .ipv4:
                ipv4(value)
            case .ipv6:
                ipv6(value)
            case .characterString:
                quoted(value.dropFirst())
            case .characterStrings:
                var offset = start
                while offset < range.upperBound {
                    if offset > start { bytes.append(UInt8(ascii: " ")) }
                    let length = Int(rdata[offset])
                    quoted(rdata[(offset + 1)..<(offset + 1 + length)])
                    offset += 1 + length
                }
            case .caaTag:
                let tag = value.dropFirst()
                guard tag.allSatisfy(TextFields.isAlphanumeric) else {
                    bytes.removeSubrange(mark...)
                    generic(rdata)
                    return
                }
                bytes.append(contentsOf: tag)
            case .textRemainder:
                quoted(value)
            case .hexRemainder:
                guard !value.isEmpty else {
                    bytes.removeSubrange(mark...)
                    generic(rdata)
                    return
                }
                hex(value)
            case .algorithm(let printedAsMnemonic):
                if printedAsMnemonic, let mnemonic = RDataMnemonics.algorithmName(rdata[start]) {
                    text(mnemonic)
                } else {
                    decimal(UInt64(rdata[start]))
                }
            case .rrType:
                text(RRType(UInt16(rdata[start]) << 8 | UInt16(rdata[start + 1])).description)
            case .certificateType:
                let value = UInt16(rdata[start]) << 8 | UInt16(rdata[start + 1])
                if let mnemonic = RDataMnemonics.certificateTypeName(value) { text(mnemonic) } else { decimal(UInt64(value)) }
            case .timestamp:
                RDataMnemonics.appendTimestamp(RDataText.readUInt32(value), to: &bytes)
            case .base64Remainder:
                BinaryText.appendBase64(value, to: &bytes)
            case .typeBitmap:
                if value.isEmpty { bytes.removeLast() }
                for (position, listed) in TypeBitmap.types(value).enumerated() {
                    if position > 0 { bytes.append(UInt8(ascii: " ")) }
                    text(listed.description)
                }
            case .salt:
                if value.count == 1 { bytes.append(UInt8(ascii: "-")) } else { hex(value.dropFirst()) }
            case .base32Hex:
                BinaryText.appendBase32Hex(value.dropFirst(), to: &bytes)
            case .eui48, .eui64:
                for (position, octet) in value.enumerated() {
                    if position > 0 { bytes.append(UInt8(ascii: "-")) }
                    lowerHex(octet)
                }
            case .ilnp64:
                for group in 0..<4 {
                    if group > 0 { bytes.append(UInt8(ascii: ":")) }
                    let high = value[start + 2 * group], low = value[start + 2 * group + 1]
                    if high >= 0x10 {
                        lowerHex(high)
                        lowerHex(low)
                    } else {
                        if high > 0 { bytes.append(Self.lowerHexDigit(high)) }
                        if high > 0 || low >= 0x10 { bytes.append(Self.lowerHexDigit(low >> 4)) }
                        bytes.append(Self.lowerHexDigit(low & 0x0F))
                    }
                }
            case .location:
                LocationText.append(value, to: &self)
            case .ipsecGateway:
                IPSecGateway.append(value, to: &self)
            case .addressPrefixes:
                AddressPrefixes.append(value, to: &self)
            case .serviceParameters:
                if value.isEmpty { bytes.removeLast() }
                ServiceParameters.append(value, to: &self)
            }
        }
    }

    /// `\# LENGTH HEX`.
    mutating func generic(_ rdata: [UInt8]) {
        text("\\# ")
        decimal(UInt64(rdata.count))
        if !rdata.isEmpty {
            bytes.append(UInt8(ascii: " "))
            hex(rdata[...])
        }
    }

    /// `OWNER TTL CLASS TYPE RDATA` without a newline.
    mutating func record(_ record: ZoneRecord) {
        name(record.owner.wire[...])
        bytes.append(UInt8(ascii: " "))
        decimal(UInt64(record.ttl))
        bytes.append(UInt8(ascii: " "))
        text(record.class.description)
        bytes.append(UInt8(ascii: " "))
        text(record.type.description)
        bytes.append(UInt8(ascii: " "))
        rdata(type: record.type, record.rdata)
    }
}
