import MeridianWire
import MeridianZoneFile

/// Freezes validated zone-file records into a `Zone`.
public enum ZoneBuilder {
    /// `records` must have passed `ZoneValidator` (one SOA at the apex, data in zone).
    /// `pools` gives the routing index of each pool a DYNA/DYNC record may name; a name it
    /// does not know leaves the record unrouted (callers check with `unknownPools` first).
    public static func build(origin: DNSName, records: [ZoneRecord], pools: [String: Int] = [:]) -> Zone {
        let origin = origin.lowercased
        // Group by owner and type, in first-seen order; drop duplicate RDATA (RFC 2181 5).
        var nodeIndex: [DNSName: Int] = [:]
        var nodeNames: [DNSName] = []
        var nodeSets: [[RRType: (ttl: UInt32, rdatas: [[UInt8]])]] = []
        func node(for name: DNSName) -> Int {
            if let index = nodeIndex[name] { return index }
            nodeIndex[name] = nodeNames.count
            nodeNames.append(name)
            nodeSets.append([:])
            return nodeNames.count - 1
        }
        _ = node(for: origin)
        var recordCount = 0
        for record in records {
            let owner = record.owner.lowercased
            let index = node(for: owner)
            if var set = nodeSets[index][record.type] {
                if !set.rdatas.contains(record.rdata) {
                    set.rdatas.append(record.rdata)
                    recordCount += 1
                }
                // An RRset has one TTL (RFC 2181 5.2); the lowest wins so no copy lives too long.
                set.ttl = min(set.ttl, record.ttl)
                nodeSets[index][record.type] = set
            } else {
                nodeSets[index][record.type] = (record.ttl, [record.rdata])
                recordCount += 1
            }
            // Empty non-terminals: every name between the owner and the origin exists.
            var ancestor = owner
            while ancestor.labelCount > origin.labelCount + 1 {
                ancestor = ancestor.dropping(labels: 1)
                if nodeIndex[ancestor] != nil { break }
                _ = node(for: ancestor)
            }
        }
        let names = NameTable(names: nodeNames.map(\.wire))

        // Zone cuts, and what lies below them.
        var flags = [Zone.Node.Flags](repeating: [], count: nodeNames.count)
        flags[0].insert(.apex)
        for (index, sets) in nodeSets.enumerated() where index != 0 && sets[.ns] != nil {
            flags[index].insert(.delegation)
        }
        for (index, name) in nodeNames.enumerated() where index != 0 {
            var ancestor = name
            while ancestor.labelCount > origin.labelCount + 1 {
                ancestor = ancestor.dropping(labels: 1)
                if let parent = nodeIndex[ancestor], flags[parent].contains(.delegation) {
                    flags[index].insert(.belowCut)
                    break
                }
            }
        }

        var nodes: [Zone.Node] = []
        var rrsets: [Zone.RRSet] = []
        var rdatas: [Zone.RData] = []
        var bytes: [UInt8] = []
        var soaRRset = -1
        var serial: UInt32 = 0
        var negativeTTL: UInt32 = 0
        for (index, sets) in nodeSets.enumerated() {
            nodes.append(Zone.Node(firstRRset: Int32(rrsets.count), rrsetCount: Int32(sets.count), flags: flags[index]))
            for type in sets.keys.sorted() {
                let set = sets[type]!
                if index == 0 && type == .soa {
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
                    let target = additionalTarget(type: type, rdata: rdata)
                    var additional: Int32 = -1
                    if let target, let targetNode = nodeIndex[target.lowercased],
                       nodeSets[targetNode][.a] != nil || nodeSets[targetNode][.aaaa] != nil {
                        additional = Int32(targetNode)
                    }
                    rdatas.append(Zone.RData(offset: Int32(bytes.count), length: Int32(rdata.count), additionalNode: additional))
                    bytes.append(contentsOf: rdata)
                }
            }
        }
        return Zone(origin: origin, serial: serial, recordCount: recordCount, names: names, nodes: nodes, rrsets: rrsets,
                    rdatas: rdatas, rdataBytes: bytes, apexNode: 0, soaRRset: soaRRset, negativeTTL: negativeTTL)
    }

    /// DYNA/DYNC records naming a pool that is not configured: `dnsctl check` and reloads
    /// reject them.
    public static func unknownPools(in records: [ZoneRecord], pools: [String: Int]) -> [ZoneFileError] {
        records.compactMap { record in
            guard let pool = record.poolName, pools[pool] == nil else { return nil }
            return ZoneFileError("\(record.type) names pool \"\(pool)\", which meridian.yaml does not define", at: record.position)
        }
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
