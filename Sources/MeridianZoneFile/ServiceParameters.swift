import MeridianWire

/// SVCB and HTTPS SvcParams (RFC 9460 section 2.2): `key=value` pairs kept in strictly
/// increasing key order on the wire.
enum ServiceParameters {
    static let mandatory: UInt16 = 0
    static let alpn: UInt16 = 1
    static let noDefaultALPN: UInt16 = 2
    static let port: UInt16 = 3
    static let ipv4Hint: UInt16 = 4
    static let ech: UInt16 = 5
    static let ipv6Hint: UInt16 = 6
    static let dohPath: UInt16 = 7
    static let ohttp: UInt16 = 8
    /// Reserved as the "invalid key" (RFC 9460 section 14.3.2).
    static let invalidKey: UInt16 = 65_535

    static let names: [(String, UInt16)] = [
        ("mandatory", mandatory), ("alpn", alpn), ("no-default-alpn", noDefaultALPN), ("port", port),
        ("ipv4hint", ipv4Hint), ("ech", ech), ("ipv6hint", ipv6Hint), ("dohpath", dohPath), ("ohttp", ohttp),
    ]

    /// A key by name or as `keyNNNNN`.
    static func key(_ text: some Collection<UInt8>) -> UInt16? {
        let name = String(decoding: text, as: UTF8.self)
        if let known = names.first(where: { $0.0 == name }) { return known.1 }
        guard name.hasPrefix("key"), name.count > 3, name.utf8.dropFirst(3).allSatisfy(TextFields.isDigitByte),
              !(name.count > 4 && name.dropFirst(3).hasPrefix("0")), let value = UInt16(name.dropFirst(3))
        else { return nil }
        return value
    }

    static func keyName(_ key: UInt16) -> String {
        names.first { $0.1 == key }?.0 ?? "key\(key)"
    }

    /// Why the parameters, each a key and its value, break RFC 9460 (sections 2.2, 7 and 8),
    /// or nil. `parameters` must be sorted by key.
    static func problem(_ parameters: [(key: UInt16, value: ArraySlice<UInt8>)]) -> String? {
        for (position, parameter) in parameters.enumerated() {
            if position > 0, parameters[position - 1].key >= parameter.key {
                return "SvcParamKey \(keyName(parameter.key)) appears more than once"
            }
            if parameter.key == invalidKey { return "key65535 is reserved" }
            if let problem = valueProblem(key: parameter.key, parameter.value) { return problem }
        }
        let keys = Set(parameters.map(\.key))
        if let listed = parameters.first(where: { $0.key == mandatory }) {
            for mandatoryKey in uint16s(listed.value) where !keys.contains(mandatoryKey) {
                return "mandatory key \(keyName(mandatoryKey)) is not present"
            }
        }
        if keys.contains(noDefaultALPN) && !keys.contains(alpn) {
            return "no-default-alpn without alpn"
        }
        return nil
    }

    private static func valueProblem(key: UInt16, _ value: ArraySlice<UInt8>) -> String? {
        switch key {
        case mandatory:
            guard !value.isEmpty, value.count % 2 == 0 else { return "bad mandatory value" }
            let listed = uint16s(value)
            if listed.contains(mandatory) { return "mandatory lists mandatory" }
            for index in 1..<max(listed.count, 1) where listed[index - 1] >= listed[index] {
                return "mandatory lists \(keyName(listed[index])) more than once"
            }
        case alpn:
            guard !value.isEmpty else { return "alpn needs a value" }
            var offset = value.startIndex
            while offset < value.endIndex {
                let length = Int(value[offset])
                guard length > 0, offset + 1 + length <= value.endIndex else { return "bad alpn value" }
                offset += 1 + length
            }
        case noDefaultALPN, ohttp:
            guard value.isEmpty else { return "\(keyName(key)) takes no value" }
        case port:
            guard value.count == 2 else { return "bad port value" }
        case ipv4Hint:
            guard !value.isEmpty, value.count % 4 == 0 else { return "bad ipv4hint value" }
        case ipv6Hint:
            guard !value.isEmpty, value.count % 16 == 0 else { return "bad ipv6hint value" }
        case dohPath:
            guard !value.isEmpty else { return "\(keyName(key)) needs a value" }
        default:
            break
        }
        return nil
    }

    private static func uint16s(_ value: ArraySlice<UInt8>) -> [UInt16] {
        stride(from: value.startIndex, to: value.endIndex - 1, by: 2).map { UInt16(value[$0]) << 8 | UInt16(value[$0 + 1]) }
    }

    /// The parameters of wire data, or nil when a length runs past the end.
    static func split(_ rdata: ArraySlice<UInt8>) -> [(key: UInt16, value: ArraySlice<UInt8>)]? {
        var parameters: [(key: UInt16, value: ArraySlice<UInt8>)] = []
        var offset = rdata.startIndex
        while offset < rdata.endIndex {
            guard offset + 4 <= rdata.endIndex else { return nil }
            let key = UInt16(rdata[offset]) << 8 | UInt16(rdata[offset + 1])
            let length = Int(rdata[offset + 2]) << 8 | Int(rdata[offset + 3])
            guard offset + 4 + length <= rdata.endIndex else { return nil }
            parameters.append((key, rdata[(offset + 4)..<(offset + 4 + length)]))
            offset += 4 + length
        }
        return parameters
    }

    static func isValid(_ rdata: ArraySlice<UInt8>) -> Bool {
        guard let parameters = split(rdata) else { return false }
        return problem(parameters) == nil
    }

    /// BIND's form: lists unquoted, alpn and opaque values quoted.
    static func append(_ rdata: ArraySlice<UInt8>, to writer: inout PresentationWriter) {
        guard let parameters = split(rdata) else { return }
        for (position, parameter) in parameters.enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: " ")) }
            writer.text(keyName(parameter.key))
            let value = parameter.value
            switch parameter.key {
            case noDefaultALPN, ohttp:
                continue
            case mandatory:
                writer.byte(UInt8(ascii: "="))
                writer.text(uint16s(value).map(keyName).joined(separator: ","))
            case alpn:
                var list: [UInt8] = []
                var offset = value.startIndex
                while offset < value.endIndex {
                    if offset > value.startIndex { list.append(UInt8(ascii: ",")) }
                    let length = Int(value[offset])
                    for octet in value[(offset + 1)..<(offset + 1 + length)] {
                        // A comma or backslash inside an id is escaped for the value list
                        // (RFC 9460 appendix A.1), then again as a character-string.
                        if octet == UInt8(ascii: ",") || octet == UInt8(ascii: "\\") { list.append(UInt8(ascii: "\\")) }
                        list.append(octet)
                    }
                    offset += 1 + length
                }
                writer.byte(UInt8(ascii: "="))
                writer.quoted(list[...])
            case port:
                writer.byte(UInt8(ascii: "="))
                writer.decimal(UInt64(value[value.startIndex]) << 8 | UInt64(value[value.startIndex + 1]))
            case ipv4Hint, ipv6Hint:
                writer.byte(UInt8(ascii: "="))
                let size = parameter.key == ipv4Hint ? 4 : 16
                for start in stride(from: value.startIndex, to: value.endIndex, by: size) {
                    if start > value.startIndex { writer.byte(UInt8(ascii: ",")) }
                    if size == 4 { writer.ipv4(value[start..<(start + 4)]) } else { writer.ipv6(value[start..<(start + 16)]) }
                }
            case ech:
                if !value.isEmpty {
                    writer.byte(UInt8(ascii: "="))
                    BinaryText.appendBase64(value, to: &writer.bytes)
                }
            default:
                if !value.isEmpty {
                    writer.byte(UInt8(ascii: "="))
                    writer.quoted(value)
                }
            }
        }
    }
}

extension RDataParser {
    /// `key[=value]` items in any order; `key="value"` arrives as `key=` and an adjacent quoted token.
    mutating func serviceParameters(of type: RRType, into out: inout [UInt8]) throws(FieldError) {
        var parameters: [(key: UInt16, value: [UInt8], token: Int)] = []
        let first = index
        while index < tokens.count {
            let keyIndex = index
            let token = tokens[index]
            guard !token.quoted else {
                throw FieldError(message: "expected a SvcParam key, not a quoted string", token: index)
            }
            let text = content(token)
            let equals = text.firstIndex(of: UInt8(ascii: "="))
            guard let key = ServiceParameters.key(text[..<(equals ?? text.endIndex)]) else {
                throw FieldError(message: "unknown SvcParam key in \(quote(token))", token: index)
            }
            index += 1
            var valueText: Bytes?
            if let equals {
                if equals + 1 == text.endIndex, index < tokens.count, tokens[index].quoted, tokens[index].start == token.end {
                    valueText = content(tokens[index])
                    index += 1
                } else {
                    valueText = Bytes(rebasing: text[(equals + 1)...])
                }
            }
            var unescaped: [UInt8]?
            if let valueText {
                var octets: [UInt8] = []
                do {
                    try TextFields.unescape(valueText, into: &octets)
                } catch {
                    throw FieldError(message: "bad escape sequence in \(quote(token))", token: keyIndex)
                }
                unescaped = octets
            }
            let value: [UInt8]
            do throws(ServiceValueError) {
                let generic = text.starts(with: "key".utf8)
                value = try Self.serviceValue(key: key, unescaped, generic: generic)
            } catch {
                throw FieldError(message: "bad \(ServiceParameters.keyName(key)) value: \(error.reason)", token: keyIndex)
            }
            parameters.append((key, value, keyIndex))
        }
        parameters.sort { $0.key < $1.key }
        let slices = parameters.map { (key: $0.key, value: $0.value[...]) }
        if let problem = ServiceParameters.problem(slices) {
            throw FieldError(message: problem, token: index > first ? first : nil)
        }
        for parameter in parameters {
            appendUInt16(parameter.key, to: &out)
            appendUInt16(UInt16(parameter.value.count), to: &out)
            out.append(contentsOf: parameter.value)
        }
    }

    struct ServiceValueError: Error {
        var reason: String
    }

    /// The wire value of one key from its unescaped text (nil when written without `=`).
    /// `keyNNNNN` takes its value as raw octets, even for a key that has a name (as BIND).
    private static func serviceValue(key: UInt16, _ text: [UInt8]?, generic: Bool) throws(ServiceValueError) -> [UInt8] {
        guard !generic else { return text ?? [] }
        if key == ServiceParameters.noDefaultALPN || key == ServiceParameters.ohttp {
            guard text == nil else { throw ServiceValueError(reason: "none allowed") }
            return []
        }
        // BIND takes an ECH parameter without a value as an empty ECHConfigList.
        if key == ServiceParameters.ech && (text ?? []).isEmpty { return [] }
        guard let text, !text.isEmpty else { throw ServiceValueError(reason: "missing") }
        var out: [UInt8] = []
        switch key {
        case ServiceParameters.mandatory:
            for item in try valueList(text) {
                guard let listed = ServiceParameters.key(item) else {
                    throw ServiceValueError(reason: "unknown key \(quote(item))")
                }
                appendUInt16(listed, to: &out)
            }
            // Sorted as the wire needs; duplicates are left for `problem` to report.
            let keys = stride(from: 0, to: out.count, by: 2).map { UInt16(out[$0]) << 8 | UInt16(out[$0 + 1]) }.sorted()
            out.removeAll()
            for listed in keys { appendUInt16(listed, to: &out) }
        case ServiceParameters.alpn:
            for item in try valueList(text) {
                guard !item.isEmpty, item.count <= 255 else { throw ServiceValueError(reason: "empty or overlong protocol id") }
                out.append(UInt8(item.count))
                out.append(contentsOf: item)
            }
        case ServiceParameters.port:
            guard let port = text.withUnsafeBufferPointer({ TextFields.decimal($0) }), port <= 65_535 else {
                throw ServiceValueError(reason: "not a port number")
            }
            appendUInt16(UInt16(port), to: &out)
        case ServiceParameters.ipv4Hint, ServiceParameters.ipv6Hint:
            for item in try valueList(text) {
                let parsed = item.withUnsafeBufferPointer { buffer in
                    key == ServiceParameters.ipv4Hint ? TextFields.ipv4(buffer, into: &out) : TextFields.ipv6(buffer, into: &out)
                }
                guard parsed else { throw ServiceValueError(reason: "bad address \(quote(item))") }
            }
        case ServiceParameters.ech:
            guard let decoded = text.withUnsafeBufferPointer({ BinaryText.decodeBase64([$0]) }) else {
                throw ServiceValueError(reason: "not base64")
            }
            out = decoded
        default:
            out = text
        }
        return out
    }

    /// A comma-separated value list where `\,` and `\\` stand for a literal comma and
    /// backslash (RFC 9460 appendix A.1). Items may not be empty.
    private static func valueList(_ text: [UInt8]) throws(ServiceValueError) -> [[UInt8]] {
        var items: [[UInt8]] = [[]]
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\\"), index + 1 < text.count {
                items[items.count - 1].append(text[index + 1])
                index += 2
                continue
            }
            if byte == UInt8(ascii: ",") {
                items.append([])
            } else {
                items[items.count - 1].append(byte)
            }
            index += 1
        }
        guard !items.contains(where: \.isEmpty) else { throw ServiceValueError(reason: "empty item in the list") }
        return items
    }
}
