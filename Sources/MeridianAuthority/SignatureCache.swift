import MeridianWire

/// One answering thread's RRSIGs over RRsets that only a query decides, keyed by the
/// RRset's content and the zone. Bounded: an RRset may live in any of the eight slots of its
/// two buckets (the halves of its hash, four ways each), and a new one takes an empty slot
/// there or the least recently used. Eight places per RRset keep a working set of up to
/// about half the cache from evicting itself, which a plain two-slot choice does not: a
/// resolver cycling through a thousand names missed 2% of the time, and every miss is a
/// signature. A flood of names that do not exist costs one signature each and never grows
/// memory (4,096 entries of a few hundred bytes per thread). Owned by one thread (through
/// its `ResponderScratch`), so it needs no lock; a hit allocates nothing.
///
/// Use: ``begin(zone:owner:type:ttl:)``, ``append(rdata:)`` for each record, then
/// ``lookup()``; on a miss, ``rdatas`` gives the records back for signing and ``store(_:)``
/// keeps the signatures. Either way ``withSignatures(_:)`` then reads them.
///
/// A hit costs two memory reads that may miss the CPU's caches, and they dominate its cost:
/// the entries of its buckets (32 bytes each, a bucket in two cache lines, the hash inside)
/// and the one array that holds the entry's key (the identity of the zone's signatures
/// first) and signatures.
final class SignatureCache {
    static let slots = 4096
    static let ways = 4
    private static let zoneLength = MemoryLayout<UInt64>.size
    private static let buckets = slots / ways

    private struct Entry {
        var hash: UInt64 = 0
        /// The key, then each signature's RDATA after its 16-bit length.
        var bytes: [UInt8] = []
        /// 0 for an empty slot.
        var keyLength: Int32 = 0
        var lastUse = 0
    }

    private var entries = [Entry](repeating: Entry(), count: SignatureCache.slots)
    /// The RRset being looked up: the identity of the zone's signatures, owner, type, TTL,
    /// then each RDATA with its length.
    private var key: [UInt8] = []
    private var keyHash: UInt64 = 0
    /// The slot of the last hit or store.
    private var found = 0
    private var ownerLength = 0
    private var uses = 0

    init() { key.reserveCapacity(4096) }

    func begin(zone: Zone, owner: UnsafeRawBufferPointer, type: RRType, ttl: UInt32) {
        key.removeAll(keepingCapacity: true)
        withUnsafeBytes(of: zone.signatures?.cacheIdentity ?? 0) { key.append(contentsOf: $0) }
        key.append(contentsOf: owner)
        ownerLength = owner.count
        key.append(UInt8(type.rawValue >> 8))
        key.append(UInt8(type.rawValue & 0xFF))
        key.append(UInt8(ttl >> 24))
        key.append(UInt8((ttl >> 16) & 0xFF))
        key.append(UInt8((ttl >> 8) & 0xFF))
        key.append(UInt8(ttl & 0xFF))
    }

    func append(rdata: UnsafeRawBufferPointer) {
        key.append(UInt8(rdata.count >> 8))
        key.append(UInt8(rdata.count & 0xFF))
        key.append(contentsOf: rdata)
    }

    /// One RDATA given in pieces.
    func append(rdataPieces first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ third: UnsafeRawBufferPointer) {
        let count = first.count + second.count + third.count
        key.append(UInt8(count >> 8))
        key.append(UInt8(count & 0xFF))
        key.append(contentsOf: first)
        key.append(contentsOf: second)
        key.append(contentsOf: third)
    }

    /// Whether this thread made the signatures of the RRset built since
    /// ``begin(zone:owner:type:ttl:)``.
    func lookup() -> Bool {
        keyHash = key.withUnsafeBytes { UInt64(UInt(bitPattern: NameTable.hash($0))) }
        uses &+= 1
        let (first, second) = buckets
        for half in 0..<2 {
            let bucket = half == 0 ? first : second
            for slot in bucket..<(bucket + Self.ways) where entries[slot].hash == keyHash && holds(slot) {
                entries[slot].lastUse = uses
                found = slot
                return true
            }
        }
        return false
    }

    /// The signatures found or stored last: each RDATA after its 16-bit length.
    @inline(__always)
    func withSignatures<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        entries[found].bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[Int(entries[found].keyLength)...])) }
    }

    /// Keeps `signatures` for the RRset built since ``begin(zone:owner:type:ttl:)`` (and
    /// looked up with ``lookup()``): in an empty slot of its buckets; else in one an entry there
    /// can vacate by moving to an empty slot of its own other bucket; else in place of the
    /// least recently used.
    func store(_ signatures: [[UInt8]]) {
        let (first, second) = buckets
        var chosen = -1
        for half in 0..<2 {
            let bucket = half == 0 ? first : second
            for slot in bucket..<(bucket + Self.ways) where chosen < 0 || entries[slot].lastUse < entries[chosen].lastUse {
                chosen = slot
            }
        }
        if entries[chosen].keyLength != 0 { chosen = vacate(first) ?? vacate(second) ?? chosen }
        uses &+= 1
        var bytes = key
        for signature in signatures {
            bytes.append(UInt8(signature.count >> 8))
            bytes.append(UInt8(signature.count & 0xFF))
            bytes.append(contentsOf: signature)
        }
        entries[chosen] = Entry(hash: keyHash, bytes: bytes, keyLength: Int32(key.count), lastUse: uses)
        found = chosen
    }

    private func holds(_ slot: Int) -> Bool {
        guard Int(entries[slot].keyLength) == key.count else { return false }
        return entries[slot].bytes.withUnsafeBytes { stored in
            key.withUnsafeBytes { memcmpEqual(stored.baseAddress!, $0.baseAddress!, $0.count) }
        }
    }

    /// Moves an entry of `bucket` to an empty slot of its other bucket; the slot it left.
    private func vacate(_ bucket: Int) -> Int? {
        for slot in bucket..<(bucket + Self.ways) {
            let (first, second) = Self.buckets(of: entries[slot].hash)
            let other = first == bucket ? second : first
            guard other != bucket,
                  let empty = (other..<(other + Self.ways)).first(where: { entries[$0].keyLength == 0 }) else { continue }
            entries.swapAt(slot, empty)
            return slot
        }
        return nil
    }

    /// The owner and RDATAs of the RRset built, for signing it.
    var owner: [UInt8] { Array(key[Self.zoneLength..<(Self.zoneLength + ownerLength)]) }

    var rdatas: [[UInt8]] {
        var result: [[UInt8]] = []
        var offset = Self.zoneLength + ownerLength + 6
        while offset + 2 <= key.count {
            let length = Int(key[offset]) << 8 | Int(key[offset + 1])
            result.append(Array(key[(offset + 2)..<(offset + 2 + length)]))
            offset += 2 + length
        }
        return result
    }

    /// The first slots of the key's two buckets (an empty slot has `lastUse` 0, so it is
    /// the least recently used).
    private var buckets: (Int, Int) { Self.buckets(of: keyHash) }

    private static func buckets(of hash: UInt64) -> (Int, Int) {
        (Int((hash & 0xFFFF_FFFF) % UInt64(buckets)) * ways, Int((hash >> 32) % UInt64(buckets)) * ways)
    }
}
