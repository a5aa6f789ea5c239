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
    private var storedLimit: Int
    public private(set) var position: Int
    private let table: UnsafeMutablePointer<UInt16>
    private let tableCapacity: Int
    private var tableCount: Int

    /// `compressionTable` must hold `compressionCapacity` offsets and outlive the writer.
    public init(buffer: UnsafeMutableRawBufferPointer, limit: Int,
                compressionTable: UnsafeMutablePointer<UInt16>, compressionCapacity: Int) {
        self.buffer = buffer
        self.storedLimit = min(limit, buffer.count)
        self.position = 0
        self.table = compressionTable
        self.tableCapacity = compressionCapacity
        self.tableCount = 0
    }

    /// A point to roll back to when an RRset does not fit.
    public struct Mark: Sendable {
        let position: Int
        let tableCount: Int
    }

    public var mark: Mark { Mark(position: position, tableCount: tableCount) }

    public mutating func rollBack(to mark: Mark) {
        position = mark.position
        tableCount = mark.tableCount
    }

    @inlinable public var remaining: Int { limit - position }

    public mutating func writeUInt8(_ value: UInt8) -> Bool {
        guard position + 1 <= limit else { return false }
        buffer[position] = value
        position += 1
        return true
    }

    public mutating func writeUInt16(_ value: UInt16) -> Bool {
        guard position + 2 <= limit else { return false }
        buffer[position] = UInt8(value >> 8)
        buffer[position + 1] = UInt8(value & 0xFF)
        position += 2
        return true
    }

    public mutating func writeUInt32(_ value: UInt32) -> Bool {
        guard position + 4 <= limit else { return false }
        buffer[position] = UInt8(value >> 24)
        buffer[position + 1] = UInt8((value >> 16) & 0xFF)
        buffer[position + 2] = UInt8((value >> 8) & 0xFF)
        buffer[position + 3] = UInt8(value & 0xFF)
        position += 4
        return true
    }

    public mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard position + bytes.count <= limit else { return false }
        if bytes.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[position..<(position + bytes.count)]).copyMemory(from: bytes)
        }
        position += bytes.count
        return true
    }

    /// Overwrites a 16-bit value written earlier (counts, RDLENGTH).
    public func patchUInt16(_ value: UInt16, at offset: Int) {
        buffer[offset] = UInt8(value >> 8)
        buffer[offset + 1] = UInt8(value & 0xFF)
    }

    /// Writes an uncompressed name as it is, remembering where its labels start so later
    /// names can point at them. Used for the question, which must keep the client's case.
    public mutating func writeNameUncompressed(_ name: UnsafeRawBufferPointer) -> Bool {
        let start = position
        guard writeBytes(name) else { return false }
        remember(nameAt: start, length: name.count)
        return true
    }

    /// Writes `name` (uncompressed wire form), replacing its longest suffix already in the
    /// message by a pointer.
    public mutating func writeName(_ name: UnsafeRawBufferPointer, compress: Bool = true) -> Bool {
        guard compress else { return writeNameUncompressed(name) }
        var suffix = 0
        while name[suffix] != 0 {
            if let target = findSuffix(of: name, from: suffix) {
                let start = position
                guard position + suffix + 2 <= limit else { return false }
                if suffix > 0 {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[position..<(position + suffix)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: name[0..<suffix]))
                }
                position += suffix
                buffer[position] = UInt8(0xC0 | (target >> 8))
                buffer[position + 1] = UInt8(target & 0xFF)
                position += 2
                remember(nameAt: start, length: suffix)
                return true
            }
            suffix += 1 + Int(name[suffix])
        }
        return writeNameUncompressed(name)
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

    /// Finds an offset in the output where the name `name[from...]` is written.
    private func findSuffix(of name: UnsafeRawBufferPointer, from: Int) -> Int? {
        for entry in 0..<tableCount {
            let candidate = Int(table[entry])
            if matches(name, from: from, at: candidate) { return candidate }
        }
        return nil
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
        let lengthOffset = position
        guard writeUInt16(0) else { return false }
        let start = position
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
        patchUInt16(UInt16(position - start), at: lengthOffset)
        return true
    }

    static func nameLength(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Int {
        var offset = start
        while bytes[offset] != 0 { offset += 1 + Int(bytes[offset]) }
        return offset + 1 - start
    }

    /// Length of a non-name field inside well-formed stored RDATA.
    static func fixedLength(_ field: RDataField, _ rdata: UnsafeRawBufferPointer, at offset: Int) -> Int {
        switch field {
        case .uint8: 1
        case .uint16: 2
        case .uint32, .period, .ipv4: 4
        case .ipv6: 16
        case .characterString, .caaTag: 1 + Int(rdata[offset])
        case .characterStrings, .textRemainder, .hexRemainder: rdata.count - offset
        case .name: nameLength(rdata, at: offset)
        }
    }
}
