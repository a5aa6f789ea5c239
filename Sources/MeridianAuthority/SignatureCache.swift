import MeridianWire

/// One answering thread's RRSIGs over RRsets that only a query decides, keyed by the
/// RRset's content and the zone. Bounded and two-way: an RRset may live in one of two slots
/// (two halves of its hash), and a new one replaces the less recently used of them, so a
/// working set up to about the cache's size stays in, while a flood of names that do not
/// exist costs one signature each and never grows memory (4,096 entries of a few hundred
/// bytes per thread). Owned by one thread (through its `ResponderScratch`), so it needs no lock;
/// a hit allocates nothing.
///
/// Use: ``begin(owner:type:ttl:)``, ``append(rdata:)`` for each record, then ``lookup(zone:)``;
/// on a miss, ``rdatas`` gives the records back for signing and ``store(_:zone:)`` keeps the
/// signatures.
final class SignatureCache {
    static let slots = 4096

    private struct Entry {
        var zone: ObjectIdentifier?
        var key: [UInt8] = []
        var signatures: [[UInt8]] = []
        var lastUse = 0
    }

    private var entries = [Entry](repeating: Entry(), count: SignatureCache.slots)
    /// The RRset being looked up: owner, type, TTL, then each RDATA with its length.
    private var key: [UInt8] = []
    private var ownerLength = 0
    private var uses = 0

    init() { key.reserveCapacity(4096) }

    func begin(owner: UnsafeRawBufferPointer, type: RRType, ttl: UInt32) {
        key.removeAll(keepingCapacity: true)
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

    /// The signatures of the RRset built since ``begin(owner:type:ttl:)``, if this thread
    /// made them for `zone`.
    func lookup(zone: Zone) -> [[UInt8]]? {
        let (first, second) = candidates
        uses &+= 1
        let slot = holds(first, zone) ? first : holds(second, zone) ? second : -1
        guard slot >= 0 else { return nil }
        entries[slot].lastUse = uses
        return entries[slot].signatures
    }

    /// Keeps `signatures` for the RRset built since ``begin(owner:type:ttl:)``.
    func store(_ signatures: [[UInt8]], zone: Zone) {
        let (first, second) = candidates
        let slot = entries[first].lastUse <= entries[second].lastUse ? first : second
        uses &+= 1
        entries[slot] = Entry(zone: ObjectIdentifier(zone), key: key, signatures: signatures, lastUse: uses)
    }

    /// The owner and RDATAs of the RRset built, for signing it.
    var owner: [UInt8] { Array(key[0..<ownerLength]) }

    var rdatas: [[UInt8]] {
        var result: [[UInt8]] = []
        var offset = ownerLength + 6
        while offset + 2 <= key.count {
            let length = Int(key[offset]) << 8 | Int(key[offset + 1])
            result.append(Array(key[(offset + 2)..<(offset + 2 + length)]))
            offset += 2 + length
        }
        return result
    }

    private func holds(_ slot: Int, _ zone: Zone) -> Bool {
        entries[slot].zone == ObjectIdentifier(zone) && entries[slot].key == key
    }

    /// The two slots the key may live in: the halves of its FNV-1a hash.
    private var candidates: (Int, Int) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        let slots = UInt64(Self.slots)
        return (Int((hash & 0xFFFF_FFFF) % slots), Int((hash >> 32) % slots))
    }
}
