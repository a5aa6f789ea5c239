import MeridianWire
import MeridianZoneFile

/// What a reload compares zone by zone: the SOA serial and a digest of the records, so a
/// zone edited without a serial increase, or whose serial went backwards, is noticed as
/// Knot and BIND notice it.
public struct ZoneVersion: Sendable, Equatable {
    public let origin: DNSName
    public let serial: UInt32
    /// Of every record (owner lower-cased, type, class, TTL, RDATA), combined without regard
    /// to order: comments, layout and record order leave it alone.
    public let digest: UInt64
    /// The SOA record's position, for messages.
    public let soa: SourcePosition

    package init(_ zone: ValidatedZone<some ZoneRecordList>) {
        origin = zone.origin
        var digest: UInt64 = 0
        var soaIndex: Int?
        let records = zone.records
        for index in 0..<records.count {
            if soaIndex == nil && records.type(at: index) == .soa { soaIndex = index }
            digest &+= Self.hash(records, index)
        }
        self.digest = digest
        // The validator guarantees exactly one SOA at the apex, serial in octets 20...17 from the end.
        serial = soaIndex.map { index in
            records.withRData(at: index) { rdata in
                rdata.count >= 20 ? rdata[(rdata.count - 20)..<(rdata.count - 16)].reduce(0) { $0 << 8 | UInt32($1) } : 0
            }
        } ?? 0
        soa = soaIndex.map { records.position(at: $0) } ?? SourcePosition(file: zone.file, line: 1, column: 1)
    }

    /// One record's canonical fields, eight bytes at a time through a multiply-xorshift
    /// mix; records are summed, so order does not count.
    private static func hash(_ records: some ZoneRecordList, _ index: Int) -> UInt64 {
        var hasher = WordHasher()
        records.withLowercasedOwner(at: index) { owner in
            for byte in owner { hasher.add(byte) }
        }
        hasher.add(UInt64(records.type(at: index).rawValue) << 48 | UInt64(records.rrClass(at: index).rawValue) << 32
            | UInt64(records.ttl(at: index)))
        records.withRData(at: index) { rdata in
            for byte in rdata { hasher.add(byte) }
        }
        // Spread the result so that summing several hashes keeps their bits apart.
        return murmurFinalize(hasher.finish())
    }

    /// Collects bytes into words and mixes a word at a time (a multiply per byte, as FNV
    /// does, was most of the digest's cost in a million-record zone).
    private struct WordHasher {
        private var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        private var word: UInt64 = 0
        private var filled: UInt64 = 0

        mutating func add(_ byte: UInt8) {
            word = word << 8 | UInt64(byte)
            filled += 1
            if filled == 8 { flush() }
        }

        /// Adds a word whole, after whatever bytes came before it.
        mutating func add(_ value: UInt64) {
            flush()
            mix(value)
        }

        private mutating func flush() {
            guard filled > 0 else { return }
            mix(word ^ filled << 56)
            word = 0
            filled = 0
        }

        private mutating func mix(_ value: UInt64) {
            hash = (hash ^ value) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
        }

        mutating func finish() -> UInt64 {
            flush()
            return hash
        }
    }

    /// Why serving `self` after `previous` is a problem for secondaries and caches, if it is.
    package func problem(after previous: ZoneVersion) -> String? {
        if serial == previous.serial {
            guard digest != previous.digest else { return nil }
            return "\(soa): zone \(origin): records changed but the serial stayed \(serial); secondaries and resolvers keep the old data until it increases"
        }
        // RFC 1982: s1 < s2 when they differ and s2 - s1 (mod 2^32) is below 2^31.
        let forward = serial &- previous.serial
        guard forward >= 1 << 31 else { return nil }
        return "\(soa): zone \(origin): serial went backwards from \(previous.serial) to \(serial) (RFC 1982 serial arithmetic); secondaries ignore the new data"
    }

    /// The problems of `current` against `previous`, zone by zone.
    static func problems(_ current: [ZoneVersion], after previous: [ZoneVersion]) -> [String] {
        let before = Dictionary(previous.map { ($0.origin.lowercased, $0) }, uniquingKeysWith: { first, _ in first })
        return current.compactMap { version in before[version.origin.lowercased].flatMap { version.problem(after: $0) } }
    }
}
