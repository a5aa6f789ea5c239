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

    package init(_ zone: ValidatedZone) {
        origin = zone.origin
        var digest: UInt64 = 0
        var soaRecord: ZoneRecord?
        for record in zone.records {
            if record.type == .soa && soaRecord == nil { soaRecord = record }
            digest &+= Self.hash(record)
        }
        self.digest = digest
        // The validator guarantees exactly one SOA at the apex, serial in octets 20...17 from the end.
        let rdata = soaRecord?.rdata ?? []
        serial = rdata.count >= 20 ? rdata[(rdata.count - 20)..<(rdata.count - 16)].reduce(0) { $0 << 8 | UInt32($1) } : 0
        soa = soaRecord?.position ?? SourcePosition(file: zone.file, line: 1, column: 1)
    }

    /// FNV-1a over one record's canonical fields; records are summed, so order does not count.
    private static func hash(_ record: ZoneRecord) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ byte: UInt8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        for byte in record.owner.lowercased.wire { mix(byte) }
        for value in [UInt32(record.type.rawValue), UInt32(record.class.rawValue), record.ttl] {
            for shift in stride(from: 24, through: 0, by: -8) { mix(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        }
        for byte in record.rdata { mix(byte) }
        // Spread the FNV result so that summing several hashes keeps their bits apart.
        return murmurFinalize(hash)
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
