import MeridianWire

/// Whole-zone checks after parsing, in the spirit of NSD and named-checkzone: what a zone
/// must contain, which records may share a name, and what may live at or below a
/// delegation. Every problem is reported, each at the record that causes it.
public enum ZoneValidator {
    public static func check(records: [ZoneRecord], origin: DNSName, file: String) -> [ZoneFileError] {
        // Errors keyed by the index of the record they concern (-1: the zone as a whole),
        // so they come out in reading order.
        var found: [(index: Int, error: ZoneFileError)] = []
        func report(_ message: String, _ index: Int) {
            found.append((index, ZoneFileError(message, at: records[index].position)))
        }
        let zoneWide = SourcePosition(file: file, line: 1, column: 1)
        let apex = origin
        let apexKey = NameKey(apex)

        var names: [NameKey: NameSummary] = [:]
        names.reserveCapacity(records.count)
        var cuts: Set<NameKey> = []
        var soaCount = 0
        var apexNS = false
        // Lower-cased owner and its depth below the apex, per record (nil: outside the zone).
        var owners: [(key: NameKey, depth: Int)?] = []
        owners.reserveCapacity(records.count)

        for (index, record) in records.enumerated() {
            if record.class != .in {
                report("only class IN is supported", index)
            }
            if record.ttl > ZoneParser.maxTTL {
                report("TTL \(record.ttl) out of range (0..\(ZoneParser.maxTTL))", index)
            }
            let key = NameKey(record.owner)
            guard let depth = key.depth(below: apexKey) else {
                report("\(record.owner) is outside the zone \(apex)", index)
                owners.append(nil)
                continue
            }
            owners.append((key, depth))
            switch record.type {
            case .soa:
                if depth > 0 {
                    report("SOA record not at the zone apex \(apex)", index)
                } else {
                    soaCount += 1
                    if soaCount > 1 { report("more than one SOA record", index) }
                }
            case .ns:
                if depth == 0 { apexNS = true } else { cuts.insert(key) }
            default:
                break
            }
            names[key, default: NameSummary(owner: index)].add(record.type, at: index)
        }
        if soaCount == 0 {
            found.append((-1, ZoneFileError("no SOA record at the zone apex \(apex)", at: zoneWide)))
        }
        if !apexNS {
            found.append((-1, ZoneFileError("no NS records at the zone apex \(apex)", at: zoneWide)))
        }

        // Records that may not share a name (RFC 2181 section 10.1; DYNC is a CNAME made at
        // query time, and a DYNA name answers A and AAAA itself).
        for summary in names.values {
            let name = records[summary.owner].owner
            for (kind, slot, other) in [("CNAME", summary.cname, summary.otherThanCNAME), ("DYNC", summary.dync, summary.otherThanDYNC)]
            where slot.first >= 0 {
                if slot.second >= 0 { report("more than one \(kind) record at \(name)", slot.second) }
                if other >= 0 {
                    report("\(kind) and other data at \(name)", max(slot.first, other))
                    break
                }
            }
            if summary.dyna.first >= 0 {
                if summary.dyna.second >= 0 { report("more than one DYNA record at \(name)", summary.dyna.second) }
                if summary.firstAddress >= 0 {
                    report("DYNA and A/AAAA records at \(name) (a DYNA name answers A and AAAA itself)",
                           max(summary.dyna.first, summary.firstAddress))
                }
            }
        }

        // Delegations: at a cut only NS, DS and glue; below it only glue (like NSD).
        if !cuts.isEmpty {
            for (index, owner) in owners.enumerated() {
                guard let (key, depth) = owner, depth > 0 else { continue }
                // The delegation closest to the apex is the one that counts.
                var offsets: [Int] = []
                var offset = 0
                while key.wire[offset] != 0 && offsets.count < depth {
                    offsets.append(offset)
                    offset += 1 + Int(key.wire[offset])
                }
                var cutOffset: Int?
                for start in offsets.reversed() where cuts.contains(NameKey(lowercasedWire: Array(key.wire[start...]))) {
                    cutOffset = start
                    break
                }
                guard let cutOffset else { continue }
                let record = records[index]
                let cut = record.owner.dropping(labels: offsets.firstIndex(of: cutOffset) ?? 0)
                let type = record.type
                if cutOffset == 0 {
                    if ![.ns, .ds, .a, .aaaa, .rrsig, .nsec].contains(type) {
                        report("\(type) record at delegation point \(cut) (only NS, DS and glue allowed)", index)
                    }
                } else if type != .a && type != .aaaa {
                    report("\(type) record below delegation point \(cut) (only A/AAAA glue allowed)", index)
                }
            }
        }

        return found.enumerated()
            .sorted { ($0.element.index, $0.offset) < ($1.element.index, $1.offset) }
            .map(\.element.error)
    }
}

/// What one owner name holds, as far as the coexistence rules care: the first and second
/// record of each exclusive kind and the first record each kind may not share the name with.
private struct NameSummary {
    /// The first record at the name, whose spelling the messages use.
    let owner: Int

    init(owner: Int) {
        self.owner = owner
    }

    struct Slot {
        var first = -1
        var second = -1

        mutating func add(_ index: Int) {
            if first < 0 { first = index } else if second < 0 { second = index }
        }
    }

    var cname = Slot()
    var dync = Slot()
    var dyna = Slot()
    /// First record other than CNAME (or DYNC) and DNSSEC data (RRSIG, NSEC).
    var otherThanCNAME = -1
    var otherThanDYNC = -1
    var firstAddress = -1

    mutating func add(_ type: RRType, at index: Int) {
        switch type {
        case .cname: cname.add(index)
        case .dync: dync.add(index)
        case .dyna: dyna.add(index)
        case .a, .aaaa: if firstAddress < 0 { firstAddress = index }
        default: break
        }
        guard type != .rrsig && type != .nsec else { return }
        if type != .cname && otherThanCNAME < 0 { otherThanCNAME = index }
        if type != .dync && otherThanDYNC < 0 { otherThanDYNC = index }
    }
}

/// A name lower-cased for lookups, hashed as one block of bytes (faster than hashing a
/// `DNSName` octet by octet when a zone has a million names).
struct NameKey: Hashable {
    let wire: [UInt8]

    init(_ name: DNSName) {
        // Length octets are at most 63, below "A", so lower-casing the whole wire is safe.
        wire = name.wire.contains { $0 &- 0x41 < 26 } ? name.wire.map(asciiLowercase) : name.wire
    }

    init(lowercasedWire: [UInt8]) {
        wire = lowercasedWire
    }

    func hash(into hasher: inout Hasher) {
        wire.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (a: NameKey, b: NameKey) -> Bool {
        a.wire == b.wire
    }

    /// How many labels the name has below `apex` (0 at the apex), or nil when it is not
    /// at or below it.
    func depth(below apex: NameKey) -> Int? {
        let start = wire.count - apex.wire.count
        guard start >= 0 else { return nil }
        var offset = 0
        var labels = 0
        while offset < start {
            offset += 1 + Int(wire[offset])
            labels += 1
        }
        guard offset == start, wire[start...].elementsEqual(apex.wire) else { return nil }
        return labels
    }
}
