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
        let apexLabels = apex.labelCount

        var names: [DNSName: NameSummary] = [:]
        var cuts: Set<DNSName> = []
        var soaCount = 0
        var apexNS = false

        for (index, record) in records.enumerated() {
            if record.class != .in {
                report("only class IN is supported", index)
            }
            if record.ttl > ZoneParser.maxTTL {
                report("TTL \(record.ttl) out of range (0..\(ZoneParser.maxTTL))", index)
            }
            guard record.owner.isSubdomain(of: apex) else {
                report("\(record.owner) is outside the zone \(apex)", index)
                continue
            }
            let atApex = record.owner.labelCount == apexLabels
            switch record.type {
            case .soa:
                if !atApex {
                    report("SOA record not at the zone apex \(apex)", index)
                } else {
                    soaCount += 1
                    if soaCount > 1 { report("more than one SOA record", index) }
                }
            case .ns:
                if atApex { apexNS = true } else { cuts.insert(record.owner) }
            default:
                break
            }
            names[record.owner, default: NameSummary()].add(record.type, at: index)
        }
        if soaCount == 0 {
            found.append((-1, ZoneFileError("no SOA record at the zone apex \(apex)", at: zoneWide)))
        }
        if !apexNS {
            found.append((-1, ZoneFileError("no NS records at the zone apex \(apex)", at: zoneWide)))
        }

        // Records that may not share a name (RFC 2181 section 10.1; DYNC is a CNAME made at
        // query time, and a DYNA name answers A and AAAA itself).
        for (name, summary) in names {
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
            for (index, record) in records.enumerated() {
                let extra = record.owner.labelCount - apexLabels
                guard extra > 0, record.owner.isSubdomain(of: apex) else { continue }
                // The delegation closest to the apex is the one that counts.
                var cut: DNSName?
                for drop in stride(from: extra - 1, through: 0, by: -1) {
                    let ancestor = drop == 0 ? record.owner : record.owner.dropping(labels: drop)
                    if cuts.contains(ancestor) {
                        cut = ancestor
                        break
                    }
                }
                guard let cut else { continue }
                let type = record.type
                if cut.labelCount == record.owner.labelCount {
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
