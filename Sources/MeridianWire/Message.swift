public struct Question: Hashable, Sendable {
    public var name: DNSName
    public var type: RRType
    public var `class`: RRClass

    public init(name: DNSName, type: RRType, class: RRClass = .in) {
        self.name = name
        self.type = type
        self.class = `class`
    }
}

/// A resource record with RDATA in uncompressed wire form.
public struct ResourceRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: RRType
    public var `class`: RRClass
    public var ttl: UInt32
    public var rdata: [UInt8]

    public init(name: DNSName, type: RRType, class: RRClass = .in, ttl: UInt32, rdata: [UInt8]) {
        self.name = name
        self.type = type
        self.class = `class`
        self.ttl = ttl
        self.rdata = rdata
    }
}

/// A whole message as values: the general-purpose codec used by tools and tests. The
/// server's query path does not build these; it reads and writes bytes in place.
public struct Message: Hashable, Sendable {
    public var header: Header
    public var questions: [Question]
    public var answers: [ResourceRecord]
    public var authority: [ResourceRecord]
    /// Additional records other than OPT.
    public var additional: [ResourceRecord]
    public var edns: EDNS?

    public init(header: Header, questions: [Question] = [], answers: [ResourceRecord] = [],
                authority: [ResourceRecord] = [], additional: [ResourceRecord] = [], edns: EDNS? = nil) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
        self.edns = edns
    }

    /// The full response code, combining the header bits with the OPT extension.
    public var rcode: RCode {
        RCode(rawValue: UInt16(edns?.extendedRCode ?? 0) << 4 | UInt16(header.rcodeLow))
    }

    public static func decode(_ bytes: [UInt8]) throws(WireError) -> Message {
        try withBytes(bytes) { (raw) throws(WireError) in try decode(raw) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> Message {
        var reader = WireReader(bytes)
        let header = try reader.readHeader()
        var message = Message(header: header)
        for _ in 0..<header.qdCount {
            let name = try reader.readName()
            message.questions.append(Question(name: name, type: RRType(try reader.readUInt16()), class: RRClass(try reader.readUInt16())))
        }
        for _ in 0..<header.anCount { message.answers.append(try readRecord(&reader)) }
        for _ in 0..<header.nsCount { message.authority.append(try readRecord(&reader)) }
        for _ in 0..<header.arCount {
            let start = reader.offset
            let record = try readRecord(&reader)
            if record.type == .opt {
                guard message.edns == nil else { throw .duplicateOPT }
                guard record.name.isRoot else { throw .badOPT(at: start) }
                message.edns = try decodeOPT(record, at: start)
            } else {
                message.additional.append(record)
            }
        }
        guard reader.remaining == 0 else { throw .trailingData(at: reader.offset) }
        return message
    }

    static func readRecord(_ reader: inout WireReader) throws(WireError) -> ResourceRecord {
        let name = try reader.readName()
        let type = RRType(try reader.readUInt16())
        let rrClass = RRClass(try reader.readUInt16())
        let ttl = try reader.readUInt32()
        let length = Int(try reader.readUInt16())
        let start = reader.offset
        guard reader.remaining >= length else { throw .truncated(at: start) }
        let rdata = try expandRData(type: type, reader: &reader, length: length)
        return ResourceRecord(name: name, type: type, class: rrClass, ttl: ttl, rdata: rdata)
    }

    /// Copies RDATA, expanding compressed names of types with a known layout and checking
    /// that the fields fit in RDLENGTH.
    static func expandRData(type: RRType, reader: inout WireReader, length: Int) throws(WireError) -> [UInt8] {
        let start = reader.offset
        let end = start + length
        guard let layout = RDataLayout.of(type), type != .opt else {
            try reader.skip(length)
            return Array(UnsafeRawBufferPointer(rebasing: reader.bytes[start..<end]))
        }
        var out: [UInt8] = []
        for field in layout.fields {
            switch field {
            case .name:
                let fieldStart = reader.offset
                out.append(contentsOf: try reader.readName().wire)
                guard reader.offset <= end else { throw .badRData(type: type, at: fieldStart) }
            case .characterStrings:
                guard reader.offset < end else { throw .badRData(type: type, at: reader.offset) }
                while reader.offset < end {
                    let count = Int(reader.bytes[reader.offset])
                    guard reader.offset + 1 + count <= end else { throw .badRData(type: type, at: reader.offset) }
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: reader.bytes[reader.offset..<(reader.offset + 1 + count)]))
                    reader.offset += 1 + count
                }
            case .textRemainder, .hexRemainder, .base64Remainder, .typeBitmap, .addressPrefixes, .serviceParameters:
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: reader.bytes[reader.offset..<end]))
                reader.offset = end
            case .ipsecGateway:
                let rest = UnsafeRawBufferPointer(rebasing: reader.bytes[reader.offset..<end])
                guard let gatewayLength = MessageWriter.ipsecGatewayLength(rest, at: 0), 2 + gatewayLength <= rest.count else {
                    throw .badRData(type: type, at: reader.offset)
                }
                out.append(contentsOf: rest[..<(2 + gatewayLength)])
                reader.offset += 2 + gatewayLength
            default:
                guard reader.offset < end else { throw .badRData(type: type, at: reader.offset) }
                let fieldLength = reader.bytes.withMemoryRebound(to: UInt8.self) { _ in
                    MessageWriter.fixedLength(field, UnsafeRawBufferPointer(rebasing: reader.bytes[reader.offset..<end]), at: 0)
                }
                guard reader.offset + fieldLength <= end else { throw .badRData(type: type, at: reader.offset) }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: reader.bytes[reader.offset..<(reader.offset + fieldLength)]))
                reader.offset += fieldLength
            }
        }
        guard reader.offset == end else { throw .badRData(type: type, at: reader.offset) }
        return out
    }

    static func decodeOPT(_ record: ResourceRecord, at start: Int) throws(WireError) -> EDNS {
        let options = try withBytes(record.rdata) { (rdata) throws(WireError) -> [EDNS.Option] in
            var reader = EDNSOptionReader(rdata, rdata: 0..<rdata.count)
            var options: [EDNS.Option] = []
            do {
                while let option = try reader.next() {
                    options.append(EDNS.Option(code: option.code, data: Array(option.data)))
                }
            } catch {
                // Whole messages place a malformed OPT at the record, not at the option.
                throw .badOPT(at: start)
            }
            return options
        }
        return EDNS(OPTFields(class: record.class.rawValue, ttl: record.ttl), options: options)
    }

    /// Encodes the message with name compression. `limit` caps the size; records that do
    /// not fit are left out and TC is set.
    public func encode(limit: Int = 65_535) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 65_535)
        let table = UnsafeMutablePointer<UInt16>.allocate(capacity: 512)
        defer { table.deallocate() }
        let length = output.withUnsafeMutableBytes { buffer -> Int in
            var writer = MessageWriter(buffer: buffer, limit: limit, compressionTable: table, compressionCapacity: 512)
            var header = self.header
            header.qdCount = UInt16(questions.count)
            header.anCount = 0
            header.nsCount = 0
            header.arCount = 0
            _ = writer.writeUInt16(header.id)
            _ = writer.writeUInt16(header.flagsWord)
            for _ in 0..<4 { _ = writer.writeUInt16(0) }
            writer.patchUInt16(header.qdCount, at: 4)
            for question in questions {
                _ = question.name.wire.withUnsafeBytes { writer.writeName($0) }
                _ = writer.writeUInt16(question.type.rawValue)
                _ = writer.writeUInt16(question.class.rawValue)
            }
            var truncated = false
            var counts = [0, 0, 0]
            for (section, records) in [answers, authority, additional].enumerated() {
                for record in records where !truncated {
                    let mark = writer.mark
                    if Self.write(record, into: &writer) {
                        counts[section] += 1
                    } else {
                        writer.rollBack(to: mark)
                        truncated = true
                    }
                }
            }
            if let edns {
                let mark = writer.mark
                if Self.write(opt: edns, into: &writer) { counts[2] += 1 } else { writer.rollBack(to: mark) }
            }
            writer.patchUInt16(UInt16(counts[0]), at: 6)
            writer.patchUInt16(UInt16(counts[1]), at: 8)
            writer.patchUInt16(UInt16(counts[2]), at: 10)
            if truncated {
                writer.patchUInt16(header.flagsWord | Header.Flags.tc.rawValue, at: 2)
            }
            return writer.position
        }
        return Array(output[..<length])
    }

    static func write(_ record: ResourceRecord, into writer: inout MessageWriter) -> Bool {
        record.name.wire.withUnsafeBytes { writer.writeName($0) }
            && writer.writeUInt16(record.type.rawValue)
            && writer.writeUInt16(record.class.rawValue)
            && writer.writeUInt32(record.ttl)
            && record.rdata.withUnsafeBytes { writer.writeRData($0, type: record.type, layout: RDataLayout.of(record.type)) }
    }

    static func write(opt edns: EDNS, into writer: inout MessageWriter) -> Bool {
        let optionsLength = edns.options.reduce(0) { $0 + 4 + $1.data.count }
        guard writer.writeOPT(edns.fields, optionsLength: optionsLength) else { return false }
        for option in edns.options {
            guard writer.writeOptionHeader(option.code, length: option.data.count),
                  option.data.withUnsafeBytes({ writer.writeBytes($0) })
            else { return false }
        }
        return true
    }

    /// A query for `name`/`type`, with EDNS unless `edns` is nil.
    public static func query(id: UInt16 = 0, name: DNSName, type: RRType, edns: EDNS? = EDNS(), recursionDesired: Bool = false) -> Message {
        Message(header: Header(id: id, flags: recursionDesired ? [.rd] : [], qdCount: 1),
                questions: [Question(name: name, type: type)], edns: edns)
    }
}
