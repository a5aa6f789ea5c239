import MeridianWire

/// One answering thread's RRSIGs over RRsets that only a query decides, keyed by the
/// RRset's content and the zone. Direct-mapped and bounded: a new entry replaces the one in
/// its slot, so a flood of names that do not exist costs one signature each and never
/// grows memory. Owned by one thread (through its `ResponderScratch`), so it needs no lock;
/// a hit allocates nothing.
///
/// Use: ``begin(owner:type:ttl:)``, ``append(rdata:)`` for each record, then ``lookup(zone:)``;
/// on a miss, ``rdatas`` gives the records back for signing and ``store(_:zone:)`` keeps the
/// signatures.
final class SignatureCache {
    static let slots = 1024

    private struct Entry {
        var zone: ObjectIdentifier?
        var key: [UInt8] = []
        var signatures: [[UInt8]] = []
    }

    private var entries = [Entry](repeating: Entry(), count: SignatureCache.slots)
    /// The RRset being looked up: owner, type, TTL, then each RDATA with its length.
    private var key: [UInt8] = []
    private var ownerLength = 0

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

    func append(rdata: [UInt8]) {
        rdata.withUnsafeBytes { append(rdata: $0) }
    }

    /// The signatures of the RRset built since ``begin(owner:type:ttl:)``, if this thread
    /// made them for `zone`.
    func lookup(zone: Zone) -> [[UInt8]]? {
        let entry = entries[slot]
        guard entry.zone == ObjectIdentifier(zone), entry.key == key else { return nil }
        return entry.signatures
    }

    /// Keeps `signatures` for the RRset built since ``begin(owner:type:ttl:)``.
    func store(_ signatures: [[UInt8]], zone: Zone) {
        entries[slot] = Entry(zone: ObjectIdentifier(zone), key: key, signatures: signatures)
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

    /// FNV-1a of the key.
    private var slot: Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int(hash % UInt64(Self.slots))
    }
}
