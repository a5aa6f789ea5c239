import MeridianWire

/// Zone contents as text, one record per line (`OWNER TTL CLASS TYPE RDATA`, absolute owner
/// names), in DNS canonical name order and then by type with the SOA first, like
/// `named-compilezone -o -`. Records of one RRset keep their order in the file.
public enum ZoneDump {
    public static func dump(_ records: [ZoneRecord]) -> String {
        let keys = records.map { canonicalKey($0.owner) }
        let order = records.indices.sorted { a, b in
            let byName = compare(keys[a], keys[b])
            if byName != 0 { return byName < 0 }
            let (left, right) = (rank(records[a].type), rank(records[b].type))
            if left != right { return left < right }
            return a < b
        }
        var writer = PresentationWriter(capacity: records.count * 48)
        for index in order {
            writer.record(records[index])
            writer.byte(0x0A)
        }
        return writer.string
    }

    /// One record in presentation format, without a newline.
    public static func line(_ record: ZoneRecord) -> String {
        var writer = PresentationWriter()
        writer.record(record)
        return writer.string
    }

    /// The SOA first, then by type number.
    private static func rank(_ type: RRType) -> Int {
        type == .soa ? -1 : Int(type.rawValue)
    }

    /// A key whose lexicographic order is canonical name order (RFC 4034 section 6.1):
    /// labels from the root, each as lower-cased octets shifted up by one and closed by 0,
    /// so a label sorts before any longer label it is a prefix of.
    private static func canonicalKey(_ name: DNSName) -> [UInt16] {
        var starts: [Int] = []
        var offset = 0
        while name.wire[offset] != 0 {
            starts.append(offset)
            offset += 1 + Int(name.wire[offset])
        }
        var key: [UInt16] = []
        key.reserveCapacity(name.wire.count)
        for start in starts.reversed() {
            let length = Int(name.wire[start])
            for byte in name.wire[(start + 1)...(start + length)] {
                key.append(UInt16(asciiLowercase(byte)) + 1)
            }
            key.append(0)
        }
        return key
    }

    private static func compare(_ a: [UInt16], _ b: [UInt16]) -> Int {
        for (x, y) in zip(a, b) where x != y {
            return x < y ? -1 : 1
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

extension ZoneValidator {
    /// The zone as text, one record per line; see `ZoneDump.dump(_:)`.
    public static func dump(_ records: [ZoneRecord]) -> String {
        ZoneDump.dump(records)
    }
}
