/// Hash tables for the load's millions of lookups, where `Dictionary` with its per-process
/// seeded SipHash was a fifth of the time: open addressing with linear probing on a
/// multiply-shift hash, one 64-bit word per slot so that a probe touches one cache line.
/// Load-time only; the query path never hashes.

/// A 32-bit key → 32-bit value map (keys below `UInt32.max`).
package struct UInt32Table {
    private var slots: [UInt64]
    private var count = 0
    private var shift: UInt64
    private static let empty = UInt64.max

    package init(capacity: Int = 1 << 12) {
        var size = 1 << 4
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: Self.empty, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    @inline(__always)
    private func home(_ key: UInt32) -> Int { Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    package subscript(key: UInt32) -> UInt32? {
        get {
            slots.withUnsafeBufferPointer { slots in
                let mask = slots.count - 1
                var index = home(key)
                while true {
                    let slot = slots[index]
                    if slot == Self.empty { return nil }
                    if UInt32(truncatingIfNeeded: slot >> 32) == key { return UInt32(truncatingIfNeeded: slot) }
                    index = (index + 1) & mask
                }
            }
        }
        set {
            guard let newValue else { return }
            if (count + 1) * 2 > slots.count { grow() }
            let mask = slots.count - 1
            var index = home(key)
            while slots[index] != Self.empty && UInt32(truncatingIfNeeded: slots[index] >> 32) != key { index = (index + 1) & mask }
            if slots[index] == Self.empty { count += 1 }
            slots[index] = UInt64(key) << 32 | UInt64(newValue)
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: Self.empty, count: old.count * 2)
        shift -= 1
        count = 0
        for slot in old where slot != Self.empty {
            self[UInt32(truncatingIfNeeded: slot >> 32)] = UInt32(truncatingIfNeeded: slot)
        }
    }
}

/// Distinct values of an array that the caller keeps: the table stores indices into it and
/// a 32-bit hash tag per slot, and asks the caller whether a candidate equals the value.
package struct DistinctIndex {
    private var slots: [UInt64]
    private var count = 0
    private var shift: UInt64

    package init(capacity: Int = 1 << 12) {
        var size = 1 << 4
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    /// The index of a stored value equal to the new one (`equals(index)`), or `next`, which
    /// is then stored for it.
    @inline(__always)
    package mutating func index(hash: UInt64, next: UInt32, equals: (UInt32) -> Bool) -> UInt32 {
        if (count + 1) * 2 > slots.count { grow() }
        let mixed = hash &* 0x9E37_79B9_7F4A_7C15
        let tag = mixed >> 32
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: mixed >> shift)
        while true {
            let slot = slots[index]
            if slot == 0 {
                slots[index] = tag << 32 | UInt64(next + 1)
                count += 1
                return next
            }
            if slot >> 32 == tag, equals(UInt32(truncatingIfNeeded: slot) - 1) { return UInt32(truncatingIfNeeded: slot) - 1 }
            index = (index + 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        shift -= 1
        let mask = slots.count - 1
        // The home slot is recomputed from the tag, which holds the hash's high bits;
        // `shift` never drops below 32, so the tag is enough.
        for slot in old where slot != 0 {
            var index = Int(truncatingIfNeeded: (slot >> 32) >> (shift - 32))
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}

extension GeoLocation {
    /// A hash of every field, for `DistinctIndex`.
    @inline(__always)
    package var loadHash: UInt64 {
        var hash = latitude.bitPattern &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ (hash >> 29) ^ longitude.bitPattern) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ (hash >> 31) ^ UInt64(country) << 48 ^ UInt64(continent) << 32 ^ UInt64(subdivision)) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 29) ^ (hasCoordinates ? 1 : 0)
    }
}
