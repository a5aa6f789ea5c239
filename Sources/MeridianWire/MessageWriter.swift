/// Writes a DNS message into memory the caller owns, compressing names (RFC 1035 section
/// 4.1.4). It never allocates: the compression table is a fixed array of offsets in the
/// output, and every write reports whether it fit so the caller can drop whole RRsets and
/// set TC instead of sending a cut record.
public struct MessageWriter {
    public let buffer: UnsafeMutableRawBufferPointer
    /// Bytes the message may use; never more than `buffer.count`.
    public var limit: Int {
        get { storedLimit }
        set { storedLimit = min(newValue, buffer.count) }
    }
    @usableFromInline var storedLimit: Int
    /// Bytes written so far.
    @inlinable public var position: Int { cursor }
    @usableFromInline var cursor: Int
    private let table: UnsafeMutablePointer<UInt16>
    private let tableCapacity: Int
    private var tableCount: Int
    /// The first `questionEntries` table entries are the question's labels, longest suffix first.
    private var questionEntries = 0
    /// The caller's copy of the question name: a name at that address is the question.
    private var questionName: UnsafeRawPointer?
    private var questionNameLength = 0

    /// `compressionTable` must hold `compressionCapacity` offsets and outlive the writer.
    public init(buffer: UnsafeMutableRawBufferPointer, limit: Int,
                compressionTable: UnsafeMutablePointer<UInt16>, compressionCapacity: Int) {
        self.buffer = buffer
        self.storedLimit = min(limit, buffer.count)
        self.cursor = 0
        self.table = compressionTable
        self.tableCapacity = compressionCapacity
        self.tableCount = 0
    }

    /// A point to roll back to when an RRset does not fit.
    public struct Mark: Sendable {
        let position: Int
        let tableCount: Int
    }

    public var mark: Mark { Mark(position: cursor, tableCount: tableCount) }

    public mutating func rollBack(to mark: Mark) {
        cursor = mark.position
        tableCount = mark.tableCount
    }

    @inlinable public var remaining: Int { storedLimit - cursor }

    @inlinable
    public mutating func writeUInt8(_ value: UInt8) -> Bool {
        guard cursor + 1 <= storedLimit else { return false }
        buffer[cursor] = value
        cursor += 1
        return true
    }

    @inlinable
    public mutating func writeUInt16(_ value: UInt16) -> Bool {
        guard cursor + 2 <= storedLimit else { return false }
        buffer[cursor] = UInt8(value >> 8)
        buffer[cursor + 1] = UInt8(value & 0xFF)
        cursor += 2
        return true
    }

    @inlinable
    public mutating func writeUInt32(_ value: UInt32) -> Bool {
        guard cursor + 4 <= storedLimit else { return false }
        buffer[cursor] = UInt8(value >> 24)
        buffer[cursor + 1] = UInt8((value >> 16) & 0xFF)
        buffer[cursor + 2] = UInt8((value >> 8) & 0xFF)
        buffer[cursor + 3] = UInt8(value & 0xFF)
        cursor += 4
        return true
    }

    @inlinable
    public mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard cursor + bytes.count <= storedLimit else { return false }
        if bytes.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[cursor..<(cursor + bytes.count)]).copyMemory(from: bytes)
        }
        cursor += bytes.count
        return true
    }

    /// Overwrites a 16-bit value written earlier (counts, RDLENGTH).
    @inlinable
    public func patchUInt16(_ value: UInt16, at offset: Int) {
        buffer[offset] = UInt8(value >> 8)
        buffer[offset + 1] = UInt8(value & 0xFF)
    }

    /// Writes an uncompressed name as it is, remembering where its labels start so later
    /// names can point at them. Used for the question, which must keep the client's case.
    public mutating func writeNameUncompressed(_ name: UnsafeRawBufferPointer) -> Bool {
        let start = cursor
        guard writeBytes(name) else { return false }
        remember(nameAt: start, length: name.count)
        return true
    }

    /// Declares the names remembered so far to be the question's (one name, written
    /// uncompressed). Most names of an answer end in the question's zone, so `writeName`
    /// first measures the suffix it shares with the question, label by label from the end,
    /// and searches the rest of the table only for longer suffixes.
    public mutating func markQuestion(_ name: UnsafeRawBufferPointer) {
        questionEntries = tableCount
        questionName = name.baseAddress
        questionNameLength = name.count
    }

    /// Writes `name` (uncompressed wire form), replacing its longest suffix already in the
    /// message by a pointer.
    public mutating func writeName(_ name: UnsafeRawBufferPointer, compress: Bool = true) -> Bool {
        guard compress else { return writeNameUncompressed(name) }
        // The owner of most answers: the very buffer the question was written from.
        if questionEntries > 0, name.baseAddress == questionName, name.count == questionNameLength {
            return writeCompressed(name, prefixLength: 0, target: Int(table[0]))
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { starts in
            var count = 0
            var offset = 0
            while name[offset] != 0 {
                starts[count] = UInt8(offset)
                count += 1
                offset += 1 + Int(name[offset])
            }
            var shared = 0
            while shared < count && shared < questionEntries
                    && sameLabel(name, at: Int(starts[count - 1 - shared]), question: Int(table[questionEntries - 1 - shared])) {
                shared += 1
            }
            // Longer suffixes can only be in names written after the question; the first
            // match, longest suffix first, wins as in a plain search of the whole table.
            for label in 0..<(count - shared) {
                let suffix = Int(starts[label])
                for entry in questionEntries..<tableCount where matches(name, from: suffix, at: Int(table[entry])) {
                    return writeCompressed(name, prefixLength: suffix, target: Int(table[entry]))
                }
            }
            if shared > 0 {
                return writeCompressed(name, prefixLength: Int(starts[count - shared]), target: Int(table[questionEntries - shared]))
            }
            return writeNameUncompressed(name)
        }
    }

    /// Writes the labels before `prefixLength`, then a pointer to `target`.
    private mutating func writeCompressed(_ name: UnsafeRawBufferPointer, prefixLength: Int, target: Int) -> Bool {
        let start = cursor
        guard cursor + prefixLength + 2 <= storedLimit else { return false }
        if prefixLength > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[cursor..<(cursor + prefixLength)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: name[0..<prefixLength]))
        }
        cursor += prefixLength
        buffer[cursor] = UInt8(0xC0 | (target >> 8))
        buffer[cursor + 1] = UInt8(target & 0xFF)
        cursor += 2
        remember(nameAt: start, length: prefixLength)
        return true
    }

    /// Whether the label at `name[at]` equals the plain label at `question` in the output,
    /// ignoring ASCII case.
    @inline(__always)
    private func sameLabel(_ name: UnsafeRawBufferPointer, at: Int, question: Int) -> Bool {
        let length = Int(name[at])
        guard Int(buffer[question]) == length else { return false }
        for index in 1...length where asciiLowercase(name[at + index]) != asciiLowercase(buffer[question + index]) {
            return false
        }
        return true
    }

    /// Records label starts of a name just written at `start`, covering `length` bytes of
    /// plain labels (a trailing pointer or root octet is not recorded).
    private mutating func remember(nameAt start: Int, length: Int) {
        var offset = start
        while offset < start + length, buffer[offset] != 0, offset < 0x3FFF, tableCount < tableCapacity {
            table[tableCount] = UInt16(offset)
            tableCount += 1
            offset += 1 + Int(buffer[offset])
        }
    }

    /// Compares `name[from...]` with the (possibly compressed) name at `offset` in the
    /// output, ignoring ASCII case.
    private func matches(_ name: UnsafeRawBufferPointer, from: Int, at offset: Int) -> Bool {
        var left = from
        var right = offset
        var hops = 0
        while true {
            var length = Int(buffer[right])
            while length & 0xC0 == 0xC0 {
                right = (length & 0x3F) << 8 | Int(buffer[right + 1])
                length = Int(buffer[right])
                hops += 1
                if hops > 64 { return false }
            }
            guard Int(name[left]) == length else { return false }
            if length == 0 { return true }
            for index in 1...length where asciiLowercase(name[left + index]) != asciiLowercase(buffer[right + index]) {
                return false
            }
            left += 1 + length
            right += 1 + length
        }
    }

    /// Writes RDATA stored uncompressed (as loaded from a zone file), compressing the names
    /// that its type allows to be compressed. Returns false when it does not fit.
    public mutating func writeRData(_ rdata: UnsafeRawBufferPointer, type: RRType, layout: RDataLayout?) -> Bool {
        guard let layout, layout.hasCompressibleName else {
            return writeUInt16(UInt16(rdata.count)) && writeBytes(rdata)
        }
        let lengthOffset = cursor
        guard writeUInt16(0) else { return false }
        let start = cursor
        var offset = 0
        for field in layout.fields {
            switch field {
            case .name(let compressible):
                let nameLength = Self.nameLength(rdata, at: offset)
                let name = UnsafeRawBufferPointer(rebasing: rdata[offset..<(offset + nameLength)])
                guard writeName(name, compress: compressible) else { return false }
                offset += nameLength
            default:
                let length = Self.fixedLength(field, rdata, at: offset)
                guard writeBytes(UnsafeRawBufferPointer(rebasing: rdata[offset..<(offset + length)])) else { return false }
                offset += length
            }
        }
        patchUInt16(UInt16(cursor - start), at: lengthOffset)
        return true
    }

    /// Length of the IPSECKEY gateway after its type and algorithm octets (RFC 4025 section 2.5),
    /// or nil for an unknown gateway type or a name that runs past the data.
    public static func ipsecGatewayLength(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Int? {
        guard start + 2 <= bytes.count else { return nil }
        switch bytes[start] {
        case 0: return 0
        case 1: return 4
        case 2: return 16
        case 3:
            var offset = start + 2
            while offset < bytes.count, bytes[offset] != 0 {
                guard bytes[offset] <= 63 else { return nil }
                offset += 1 + Int(bytes[offset])
            }
            guard offset < bytes.count, offset + 1 - start - 2 <= 255 else { return nil }
            return offset + 1 - start - 2
        default: return nil
        }
    }

    static func nameLength(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Int {
        var offset = start
        while bytes[offset] != 0 { offset += 1 + Int(bytes[offset]) }
        return offset + 1 - start
    }

    /// Length of a non-name field inside well-formed stored RDATA.
    static func fixedLength(_ field: RDataField, _ rdata: UnsafeRawBufferPointer, at offset: Int) -> Int {
        switch field {
        case .uint8, .algorithm: 1
        case .uint16, .rrType, .certificateType: 2
        case .uint32, .period, .ipv4, .timestamp: 4
        case .ipv6, .location: 16
        case .eui48: 6
        case .eui64, .ilnp64: 8
        case .characterString, .caaTag, .salt, .base32Hex: 1 + Int(rdata[offset])
        case .characterStrings, .textRemainder, .hexRemainder, .base64Remainder, .typeBitmap, .addressPrefixes,
             .serviceParameters:
            rdata.count - offset
        case .ipsecGateway: 2 + (ipsecGatewayLength(rdata, at: offset) ?? 0)
        case .name: nameLength(rdata, at: offset)
        }
    }
}
