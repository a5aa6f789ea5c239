/// Bounds-checked reading from a message held in memory. It never allocates: names are
/// copied into a caller-provided buffer of at least 255 bytes.
public struct WireReader {
    public let bytes: UnsafeRawBufferPointer
    public var offset: Int

    @inlinable public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    @inlinable public var remaining: Int { bytes.count - offset }

    @inlinable public mutating func readUInt8() throws(WireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inlinable public mutating func readUInt16() throws(WireError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated(at: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    @inlinable public mutating func readUInt32() throws(WireError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw .truncated(at: offset) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    @inlinable public mutating func skip(_ count: Int) throws(WireError) {
        guard count >= 0, offset + count <= bytes.count else { throw .truncated(at: offset) }
        offset += count
    }

    public mutating func readHeader() throws(WireError) -> Header {
        let id = try readUInt16()
        let flags = try readUInt16()
        return Header(id: id, flagsWord: flags, qdCount: try readUInt16(), anCount: try readUInt16(),
                      nsCount: try readUInt16(), arCount: try readUInt16())
    }

    /// Reads a possibly compressed name at the current offset, expands it into `out`
    /// (uncompressed wire form) and returns its length. Compression pointers must point
    /// strictly backwards, which rules out loops; a pointer to itself is reported as a loop.
    public mutating func readName(into out: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        let (length, next) = try Self.expandName(in: bytes, at: offset, into: out)
        offset = next
        return length
    }

    /// Skips a possibly compressed name, validating it.
    public mutating func skipName() throws(WireError) {
        let bytes = self.bytes
        let start = offset
        offset = try withUnsafeTemporaryAllocation(byteCount: DNSName.maxWireLength, alignment: 1) { (buffer) throws(WireError) in
            try Self.expandName(in: bytes, at: start, into: buffer).next
        }
    }

    /// Expands the name at `start` into `out`; returns the expanded length and the offset
    /// just after the name as it is stored at `start`.
    public static func expandName(in bytes: UnsafeRawBufferPointer, at start: Int,
                                  into out: UnsafeMutableRawBufferPointer) throws(WireError) -> (length: Int, next: Int) {
        precondition(out.count >= DNSName.maxWireLength)
        var position = start
        var written = 0
        var next = -1
        var hops = 0
        while true {
            guard position < bytes.count else { throw .truncated(at: position) }
            let length = Int(bytes[position])
            if length == 0 {
                out[written] = 0
                written += 1
                if next < 0 { next = position + 1 }
                return (written, next)
            }
            switch length & 0xC0 {
            case 0xC0:
                guard position + 2 <= bytes.count else { throw .truncated(at: position) }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                if target == position { throw .pointerLoop(at: position) }
                guard target < position else { throw .badPointer(at: position) }
                hops += 1
                if hops > 127 { throw .pointerLoop(at: position) }
                if next < 0 { next = position + 2 }
                position = target
            case 0x00:
                guard written + 1 + length + 1 <= DNSName.maxWireLength else { throw .nameTooLong(at: position) }
                guard position + 1 + length <= bytes.count else { throw .truncated(at: position) }
                out[written] = UInt8(length)
                UnsafeMutableRawBufferPointer(rebasing: out[(written + 1)...]).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: bytes[(position + 1)..<(position + 1 + length)]))
                written += 1 + length
                position += 1 + length
            default:
                throw .labelTooLong(at: position)
            }
        }
    }
}

extension WireReader {
    /// Reads a name into a new `DNSName` (allocates; for the codec, not the query path).
    public mutating func readName() throws(WireError) -> DNSName {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: DNSName.maxWireLength, alignment: 1)
        defer { storage.deallocate() }
        let length = try readName(into: storage)
        return DNSName(uncheckedWire: Array(storage[..<length]))
    }
}
