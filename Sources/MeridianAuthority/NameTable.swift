import MeridianWire

/// An immutable open-addressing hash table from lowercase wire-form names to node indices.
/// Names are stored back to back in one byte array, so a lookup hashes the query's bytes
/// and compares memory: no key objects, no allocation, no locks.
public struct NameTable: Sendable {
    /// All names, lowercase, uncompressed wire form, back to back.
    public let nameBytes: [UInt8]
    /// For entry i: start of its name in `nameBytes`, and its length.
    public let nameOffsets: [Int32]
    public let nameLengths: [UInt16]
    /// Per slot, 0 when empty, else the entry index + 1 in the low `indexBits` bits and
    /// more bits of the name's hash above them, so that a probe reads a stored name only
    /// when those match (each read of a name is a cache miss in a large zone). Capacity is a
    /// power of two, `1 << indexBits`, at least twice the entries.
    private let slots: [UInt32]
    private let mask: Int
    private let indexBits: Int

    public var count: Int { nameOffsets.count }

    /// Builds a table; `names[i]` (lowercase wire form) gets entry index `i`. Duplicates are
    /// the caller's error.
    public init(names: [[UInt8]]) {
        var builder = Builder(expectedCount: names.count)
        for name in names { _ = name.withUnsafeBytes { builder.insert($0) } }
        self = builder.table()
    }

    fileprivate init(nameBytes: [UInt8], nameOffsets: [Int32], nameLengths: [UInt16], slots: [UInt32]) {
        self.nameBytes = nameBytes
        self.nameOffsets = nameOffsets
        self.nameLengths = nameLengths
        self.slots = slots
        self.mask = slots.count - 1
        self.indexBits = slots.count.trailingZeroBitCount
    }

    /// A multiply-xorshift hash over the name eight bytes at a time: a query hashes its name
    /// and each suffix on the way to its zone, and byte-at-a-time FNV was a quarter of the
    /// responder's time. Only operators' names are stored, so lookups cannot be flooded.
    @inline(__always)
    static func hash(_ name: UnsafeRawBufferPointer) -> Int {
        guard let base = name.baseAddress else { return 0 }
        var hash = UInt64(name.count) &* 0x9E37_79B9_7F4A_7C15
        var index = 0
        while index + 8 <= name.count {
            hash = (hash ^ base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < name.count {
            tail |= UInt64(base.load(fromByteOffset: index, as: UInt8.self)) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    /// The hash bits a slot keeps above the index in a table of `1 << indexBits` slots: the
    /// hash's upper half, which does not pick the slot.
    @inline(__always)
    static func tag(_ hash: Int, indexBits: Int) -> UInt32 {
        guard indexBits < 32 else { return 0 }
        let upper = UInt32(truncatingIfNeeded: UInt64(UInt(bitPattern: hash)) >> 32)
        return (upper >> UInt32(indexBits)) << UInt32(indexBits)
    }

    /// The entry whose name equals `name` (lowercase wire form), or -1.
    @inline(__always)
    public func find(_ name: UnsafeRawBufferPointer) -> Int {
        let hash = Self.hash(name)
        let tag = Self.tag(hash, indexBits: indexBits)
        let indexMask = UInt32(truncatingIfNeeded: mask)
        var slot = hash & mask
        return slots.withUnsafeBufferPointer { slots in
            nameBytes.withUnsafeBytes { stored in
                while true {
                    let entry = slots[slot]
                    if entry == 0 { return -1 }
                    if entry & ~indexMask == tag {
                        let index = Int(entry & indexMask) - 1
                        if Int(nameLengths[index]) == name.count {
                            let start = Int(nameOffsets[index])
                            if memcmpEqual(stored.baseAddress! + start, name.baseAddress!, name.count) { return index }
                        }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// The stored name of an entry.
    @inline(__always)
    public func withName<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        nameBytes.withUnsafeBytes { stored in
            let start = Int(nameOffsets[index])
            return body(UnsafeRawBufferPointer(rebasing: stored[start..<(start + Int(nameLengths[index]))]))
        }
    }

    /// A table filled one name at a time, each looked up as it is added: a zone's names are
    /// numbered while its records are read, each hashed once, and the table is then taken as
    /// is (a million-name zone spent a third of its load in a dictionary of names and a
    /// rebuild).
    public struct Builder: Sendable {
        private var bytes: [UInt8] = []
        private var offsets: [Int32] = []
        private var lengths: [UInt16] = []
        private var slots: [UInt32]

        public init(expectedCount: Int = 0) {
            var capacity = 16
            while capacity < expectedCount * 2 { capacity <<= 1 }
            slots = [UInt32](repeating: 0, count: capacity)
            offsets.reserveCapacity(expectedCount)
            lengths.reserveCapacity(expectedCount)
        }

        public var count: Int { offsets.count }

        /// The entry of `name` (lowercase wire form), added with the next index when new.
        public mutating func insert(_ name: UnsafeRawBufferPointer) -> (index: Int, inserted: Bool) {
            if count * 2 >= slots.count { grow() }
            let hash = NameTable.hash(name)
            let (found, slot) = probe(name, hash: hash)
            if found >= 0 { return (found, false) }
            let index = count
            slots[slot] = NameTable.tag(hash, indexBits: slots.count.trailingZeroBitCount) | UInt32(index + 1)
            offsets.append(Int32(bytes.count))
            lengths.append(UInt16(name.count))
            bytes.append(contentsOf: name)
            return (index, true)
        }

        /// The entry of `name`, or -1.
        public func find(_ name: UnsafeRawBufferPointer) -> Int {
            probe(name, hash: NameTable.hash(name)).index
        }

        /// Calls `body` with the stored name of an entry.
        public func withName<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
            bytes.withUnsafeBytes { stored in
                let start = Int(offsets[index])
                return body(UnsafeRawBufferPointer(rebasing: stored[start..<(start + Int(lengths[index]))]))
            }
        }

        /// The finished table; its entries keep the indices they were given.
        public func table() -> NameTable {
            NameTable(nameBytes: bytes, nameOffsets: offsets, nameLengths: lengths, slots: slots)
        }

        /// The entry of `name` and its slot, or -1 and the empty slot where it would go.
        private func probe(_ name: UnsafeRawBufferPointer, hash: Int) -> (index: Int, slot: Int) {
            let mask = slots.count - 1
            let indexMask = UInt32(truncatingIfNeeded: mask)
            let tag = NameTable.tag(hash, indexBits: slots.count.trailingZeroBitCount)
            var slot = hash & mask
            while slots[slot] != 0 {
                let entry = slots[slot]
                if entry & ~indexMask == tag {
                    let index = Int(entry & indexMask) - 1
                    if matches(index, name) { return (index, slot) }
                }
                slot = (slot + 1) & mask
            }
            return (-1, slot)
        }

        private func matches(_ index: Int, _ name: UnsafeRawBufferPointer) -> Bool {
            guard Int(lengths[index]) == name.count else { return false }
            return bytes.withUnsafeBytes { memcmpEqual($0.baseAddress! + Int(offsets[index]), name.baseAddress!, name.count) }
        }

        private mutating func grow() {
            var grown = [UInt32](repeating: 0, count: slots.count * 2)
            let mask = grown.count - 1
            let indexBits = grown.count.trailingZeroBitCount
            bytes.withUnsafeBytes { stored in
                for index in 0..<count {
                    let start = Int(offsets[index])
                    let hash = NameTable.hash(UnsafeRawBufferPointer(rebasing: stored[start..<(start + Int(lengths[index]))]))
                    var slot = hash & mask
                    while grown[slot] != 0 { slot = (slot + 1) & mask }
                    grown[slot] = NameTable.tag(hash, indexBits: indexBits) | UInt32(index + 1)
                }
            }
            slots = grown
        }
    }
}
