/// An immutable open-addressing hash table from lowercase wire-form names to node indices.
/// Names are stored back to back in one byte array, so a lookup hashes the query's bytes
/// and compares memory: no key objects, no allocation, no locks.
public struct NameTable: Sendable {
    /// All names, lowercase, uncompressed wire form, back to back.
    public let nameBytes: [UInt8]
    /// For entry i: start of its name in `nameBytes`, and its length.
    public let nameOffsets: [Int32]
    public let nameLengths: [UInt16]
    /// Entry index + 1 per slot; 0 is empty. Capacity is a power of two.
    private let slots: [Int32]
    private let mask: Int

    public var count: Int { nameOffsets.count }

    /// Builds a table; `names[i]` (lowercase wire form) gets entry index `i`. Duplicates are
    /// the caller's error.
    public init(names: [[UInt8]]) {
        var bytes: [UInt8] = []
        var offsets: [Int32] = []
        var lengths: [UInt16] = []
        bytes.reserveCapacity(names.reduce(0) { $0 + $1.count })
        for name in names {
            offsets.append(Int32(bytes.count))
            lengths.append(UInt16(name.count))
            bytes.append(contentsOf: name)
        }
        var capacity = 16
        while capacity < names.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: 0, count: capacity)
        let mask = capacity - 1
        for (index, name) in names.enumerated() {
            var slot = name.withUnsafeBytes { Self.hash($0) } & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
        self.nameBytes = bytes
        self.nameOffsets = offsets
        self.nameLengths = lengths
        self.slots = slots
        self.mask = mask
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

    /// The entry whose name equals `name` (lowercase wire form), or -1.
    @inline(__always)
    public func find(_ name: UnsafeRawBufferPointer) -> Int {
        var slot = Self.hash(name) & mask
        return slots.withUnsafeBufferPointer { slots in
            nameBytes.withUnsafeBytes { stored in
                while true {
                    let entry = Int(slots[slot])
                    if entry == 0 { return -1 }
                    let index = entry - 1
                    if Int(nameLengths[index]) == name.count {
                        let start = Int(nameOffsets[index])
                        if memcmpEqual(stored.baseAddress! + start, name.baseAddress!, name.count) { return index }
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
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    var index = 0
    while index + 8 <= count {
        if a.loadUnaligned(fromByteOffset: index, as: UInt64.self) != b.loadUnaligned(fromByteOffset: index, as: UInt64.self) { return false }
        index += 8
    }
    while index < count {
        if a.load(fromByteOffset: index, as: UInt8.self) != b.load(fromByteOffset: index, as: UInt8.self) { return false }
        index += 1
    }
    return true
}
