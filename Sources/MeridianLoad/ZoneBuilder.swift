import MeridianAuthority
import MeridianWire
import MeridianZoneFile

/// Freezes a validated zone into the flat arrays the responder reads: group the records by
/// owner and type, mark the zone cuts, then lay out nodes, RRsets and RDATA.
enum ZoneBuilder {
    /// `pools` gives the routing index of each pool a DYNA/DYNC record may name; a name it
    /// does not know leaves the record unrouted (callers check with `unknownPools` first).
    static func build(_ zone: ValidatedZone, pools: [String: Int], extra: [ZoneRecord] = []) -> Zone {
        let origin = zone.origin.lowercased
        let grouped = GroupedRecords(zone.records + extra, origin: origin)
        let flags = nodeFlags(grouped, cuts: zone.cuts, origin: origin)
        return freeze(grouped, flags: flags, origin: origin, pools: pools)
    }

    /// DYNA/DYNC records naming a pool that is not configured: `dnsctl check` and reloads
    /// reject them.
    static func unknownPools(in records: [ZoneRecord], pools: [String: Int]) -> [ZoneFileError] {
        records.compactMap { record in
            guard let pool = record.poolName, pools[pool] == nil else { return nil }
            return ZoneFileError("\(record.type) names pool \"\(pool)\", which meridian.yaml does not define", at: record.position)
        }
    }

    /// Records by owner (first-seen order, the apex first, empty non-terminals included) and
    /// type, without duplicate RDATA (RFC 2181 section 5).
    struct GroupedRecords {
        var index: [DNSName: Int] = [:]
        var names: [DNSName] = []
        var sets: [[RRType: (ttl: UInt32, rdatas: [[UInt8]])]] = []
        var recordCount = 0

        init(_ records: [ZoneRecord], origin: DNSName) {
            _ = node(for: origin)
            for record in records {
                let owner = record.owner.lowercased
                let slot = self.node(for: owner)
                if var set = sets[slot][record.type] {
                    if !set.rdatas.contains(record.rdata) {
                        set.rdatas.append(record.rdata)
                        recordCount += 1
                    }
                    // An RRset has one TTL (RFC 2181 5.2); the lowest wins so no copy lives too long.
                    set.ttl = min(set.ttl, record.ttl)
                    sets[slot][record.type] = set
                } else {
                    sets[slot][record.type] = (record.ttl, [record.rdata])
                    recordCount += 1
                }
                // Empty non-terminals: every name between the owner and the origin exists.
                var ancestor = owner
                while ancestor.labelCount > origin.labelCount + 1 {
                    ancestor = ancestor.dropping(labels: 1)
                    if index[ancestor] != nil { break }
                    _ = self.node(for: ancestor)
                }
            }
        }

        private mutating func node(for name: DNSName) -> Int {
            if let existing = index[name] { return existing }
            index[name] = names.count
            names.append(name)
            sets.append([:])
            return names.count - 1
        }

        func hasAddresses(_ node: Int) -> Bool {
            sets[node][.a] != nil || sets[node][.aaaa] != nil
        }
    }

    /// The apex, the delegation points the validator found, and every name below one of them.
    static func nodeFlags(_ grouped: GroupedRecords, cuts: [DNSName], origin: DNSName) -> [Zone.Node.Flags] {
        var flags = [Zone.Node.Flags](repeating: [], count: grouped.names.count)
        flags[0].insert(.apex)
        guard !cuts.isEmpty else { return flags }
        for cut in cuts {
            if let node = grouped.index[cut] { flags[node].insert(.delegation) }
        }
        for (node, name) in grouped.names.enumerated() where node != 0 {
            var ancestor = name
            while ancestor.labelCount > origin.labelCount + 1 {
                ancestor = ancestor.dropping(labels: 1)
                if let parent = grouped.index[ancestor], flags[parent].contains(.delegation) {
                    flags[node].insert(.belowCut)
                    break
                }
            }
        }
        return flags
    }

    static func freeze(_ grouped: GroupedRecords, flags: [Zone.Node.Flags], origin: DNSName, pools: [String: Int]) -> Zone {
        var nodes: [Zone.Node] = []
        var rrsets: [Zone.RRSet] = []
        var rdatas: [Zone.RData] = []
        var bytes: [UInt8] = []
        var soaRRset = -1
        var serial: UInt32 = 0
        var negativeTTL: UInt32 = 0
        for (node, sets) in grouped.sets.enumerated() {
            nodes.append(Zone.Node(firstRRset: Int32(rrsets.count), rrsetCount: Int32(sets.count), flags: flags[node]))
            for type in sets.keys.sorted() {
                let set = sets[type]!
                if node == 0 && type == .soa {
                    soaRRset = rrsets.count
                    let soa = set.rdatas[0]
                    serial = readUInt32(soa, at: soa.count - 20)
                    negativeTTL = min(set.ttl, readUInt32(soa, at: soa.count - 4))
                }
                var pool: Int32 = -1
                if type == .dyna || type == .dync {
                    pool = Int32(pools[String(decoding: set.rdatas[0], as: UTF8.self)] ?? -1)
                }
                rrsets.append(Zone.RRSet(type: type, ttl: set.ttl, firstRData: Int32(rdatas.count),
                                         rdataCount: Int32(set.rdatas.count), pool: pool))
                for rdata in set.rdatas {
                    var additional: Int32 = -1
                    if let target = additionalTarget(type: type, rdata: rdata),
                       let targetNode = grouped.index[target.lowercased], grouped.hasAddresses(targetNode) {
                        additional = Int32(targetNode)
                    }
                    rdatas.append(Zone.RData(offset: Int32(bytes.count), length: Int32(rdata.count), additionalNode: additional))
                    bytes.append(contentsOf: rdata)
                }
            }
        }
        return Zone(origin: origin, serial: serial, recordCount: grouped.recordCount, names: NameTable(names: grouped.names.map(\.wire)),
                    nodes: nodes, rrsets: rrsets, rdatas: rdatas, rdataBytes: bytes, apexNode: 0, soaRRset: soaRRset,
                    negativeTTL: negativeTTL)
    }

    /// The host name whose addresses RFC 1035 section 3.3 asks to add to the additional
    /// section (NS, MX) and RFC 2782 suggests for SRV.
    static func additionalTarget(type: RRType, rdata: [UInt8]) -> DNSName? {
        let start: Int
        switch type {
        case .ns: start = 0
        case .mx: start = 2
        case .srv: start = 6
        default: return nil
        }
        guard rdata.count > start else { return nil }
        return DNSName(wire: Array(rdata[start...]))
    }

    static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
