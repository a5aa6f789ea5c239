import MeridianAuthority
import MeridianWire
import MeridianZoneFile

/// Freezes a validated zone into the flat arrays the responder reads: group the records by
/// owner and type, mark the zone cuts, then lay out nodes, RRsets and RDATA.
enum ZoneBuilder {
    /// `pools` gives the routing index of each pool a DYNA/DYNC record may name; a name it
    /// does not know leaves the record unrouted (callers check with `unknownPools` first).
    /// `extra`: records the configuration adds (the apex's DNSSEC keys).
    static func build(_ zone: consuming ValidatedZone<ZoneColumns>, pools: [String: Int], extra: [ZoneRecord] = []) -> Zone {
        let origin = zone.origin.lowercased
        let cuts = zone.cuts
        var columns = zone.takeRecords()
        for record in extra { columns.add(record) }
        columns.dropPositions()
        let grouped = GroupedRecords(consume columns)
        let flags = nodeFlags(grouped, cuts: cuts, origin: origin)
        return freeze(grouped, flags: flags, origin: origin, pools: pools)
    }

    /// DYNA/DYNC records naming a pool that is not configured: `dnsctl check` and reloads
    /// reject them.
    static func unknownPools(in records: some ZoneRecordList, pools: [String: Int]) -> [ZoneFileError] {
        (0..<records.count).compactMap { index in
            let type = records.type(at: index)
            guard type == .dyna || type == .dync else { return nil }
            let pool = records.withRData(at: index) { String(decoding: $0, as: UTF8.self) }
            guard pools[pool] == nil else { return nil }
            return ZoneFileError("\(type) names pool \"\(pool)\", which meridian.yaml does not define", at: records.position(at: index))
        }
    }

    /// Records by owner (first-seen order, the apex first, empty non-terminals included).
    /// Owners were numbered in the zone's name table as they were read; the records are placed
    /// by owner with a counting sort (no dictionary per name, no copy of a record), or left
    /// where they are when the file already keeps each owner's records together, as large
    /// zones do. Types and repeated RDATA are sorted out per node as the zone is laid out.
    struct GroupedRecords {
        private(set) var records: ZoneColumns
        var names: NameTable.Builder { records.names }
        /// Node `n`'s records are slots `first[n]..<first[n + 1]`, in reading order. Slot `s`
        /// holds record `placed[s]`, or record `s` when `placed` is nil (nothing had to move).
        private(set) var placed: [Int32]?
        private(set) var first: [Int32] = []
        /// Nodes with A or AAAA records: the names whose addresses NS, MX and SRV answers add.
        private(set) var hasAddresses: [Bool] = []

        var nodeCount: Int { names.count }

        init(_ records: consuming ZoneColumns) {
            self.records = records
            placeByNode()
            self.records.dropNodes()
        }

        /// The record in a slot.
        @inline(__always)
        func record(at slot: Int) -> Int {
            if let placed { Int(placed[slot]) } else { slot }
        }

        /// Counting sort by node, stable, so that reading order holds within a node.
        private mutating func placeByNode() {
            let nodes = names.count
            let nodeOfRecord = records.nodes
            let types = records.types
            var start = [Int32](repeating: 0, count: nodes + 1)
            hasAddresses = [Bool](repeating: false, count: nodes)
            var grouped = true
            var previous: Int32 = 0
            for (record, node) in nodeOfRecord.enumerated() {
                start[Int(node) + 1] += 1
                if node < previous { grouped = false }
                previous = node
                if types[record] == .a || types[record] == .aaaa { hasAddresses[Int(node)] = true }
            }
            for node in 0..<nodes { start[node + 1] += start[node] }
            if !grouped {
                var placed = [Int32](repeating: 0, count: nodeOfRecord.count)
                var next = start
                for (record, node) in nodeOfRecord.enumerated() {
                    placed[Int(next[Int(node)])] = Int32(record)
                    next[Int(node)] += 1
                }
                self.placed = placed
            }
            first = start
        }

        /// The node of a name given in wire form (any case), or -1.
        func node(of wire: some Collection<UInt8>, scratch: UnsafeMutableRawBufferPointer) -> Int {
            guard wire.count <= scratch.count else { return -1 }
            let length = ZoneColumns.lowercase(wire, into: scratch)
            return names.find(UnsafeRawBufferPointer(rebasing: scratch[0..<length]))
        }
    }

    /// The apex, the delegation points the validator found, and every name below one of them.
    static func nodeFlags(_ grouped: GroupedRecords, cuts: [DNSName], origin: DNSName) -> [Zone.Node.Flags] {
        var flags = [Zone.Node.Flags](repeating: [], count: grouped.nodeCount)
        flags[0].insert(.apex)
        guard !cuts.isEmpty else { return flags }
        var scratch = [UInt8](repeating: 0, count: 256)
        scratch.withUnsafeMutableBytes { scratch in
            for cut in cuts {
                let node = grouped.node(of: cut.wire[...], scratch: scratch)
                if node >= 0 { flags[node].insert(.delegation) }
            }
        }
        let originLength = origin.wire.count
        for node in 1..<grouped.nodeCount {
            let belowCut = grouped.names.withName(node) { name -> Bool in
                // Each proper ancestor of the name below the apex, nearest first.
                var start = 1 + Int(name[0])
                while name.count - start > originLength {
                    let parent = grouped.names.find(UnsafeRawBufferPointer(rebasing: name[start...]))
                    if parent >= 0 && flags[parent].contains(.delegation) { return true }
                    start += 1 + Int(name[start])
                }
                return false
            }
            if belowCut { flags[node].insert(.belowCut) }
        }
        return flags
    }

    /// Lays out nodes, RRsets and RDATA. A node's records are ordered by type (stable, so an
    /// RRset keeps reading order) in a scratch list, dropping RDATA its RRset already has (RFC
    /// 2181 section 5). The RDATA stays in the parser's bytes, which become the zone's: each
    /// record points at its own, so nothing is copied.
    static func freeze(_ grouped: GroupedRecords, flags: [Zone.Node.Flags], origin: DNSName, pools: [String: Int]) -> Zone {
        let records = grouped.records
        let types = records.types
        var nodes: [Zone.Node] = []
        var rrsets: [Zone.RRSet] = []
        var rdatas: [Zone.RData] = []
        nodes.reserveCapacity(grouped.nodeCount)
        rrsets.reserveCapacity(records.count)
        rdatas.reserveCapacity(records.count)
        var soaRRset = -1
        var serial: UInt32 = 0
        var negativeTTL: UInt32 = 0
        var ofNode: [Int] = []
        ofNode.reserveCapacity(16)
        var scratch = [UInt8](repeating: 0, count: 256)
        scratch.withUnsafeMutableBytes { scratch in
            records.rdataBytes.withUnsafeBytes { rdataBytes in
                func rdata(_ record: Int) -> UnsafeRawBufferPointer {
                    UnsafeRawBufferPointer(rebasing: rdataBytes[records.rdataRange(record)])
                }
                for node in 0..<grouped.nodeCount {
                    ofNode.removeAll(keepingCapacity: true)
                    for slot in Int(grouped.first[node])..<Int(grouped.first[node + 1]) {
                        let record = grouped.record(at: slot)
                        let type = types[record]
                        // Insertion by type, after the records of that type already placed: a
                        // name has a handful of records, rarely more.
                        var at = ofNode.count
                        while at > 0 && types[ofNode[at - 1]].rawValue > type.rawValue { at -= 1 }
                        var scan = at
                        var duplicate = false
                        while scan > 0 && types[ofNode[scan - 1]] == type && !duplicate {
                            duplicate = bytesEqual(rdata(ofNode[scan - 1]), rdata(record))
                            scan -= 1
                        }
                        if !duplicate { ofNode.insert(record, at: at) }
                    }
                    let firstRRset = rrsets.count
                    var member = 0
                    while member < ofNode.count {
                        let head = ofNode[member]
                        let type = types[head]
                        var setEnd = member
                        // An RRset has one TTL (RFC 2181 5.2); the lowest wins so no copy lives too long.
                        var ttl = UInt32.max
                        while setEnd < ofNode.count && types[ofNode[setEnd]] == type {
                            ttl = min(ttl, records.ttls[ofNode[setEnd]])
                            setEnd += 1
                        }
                        let headRData = rdata(head)
                        if node == 0 && type == .soa {
                            soaRRset = rrsets.count
                            serial = readUInt32(headRData, at: headRData.count - 20)
                            negativeTTL = min(ttl, readUInt32(headRData, at: headRData.count - 4))
                        }
                        var pool: Int32 = -1
                        if type == .dyna || type == .dync {
                            pool = Int32(pools[String(decoding: headRData, as: UTF8.self)] ?? -1)
                        }
                        rrsets.append(Zone.RRSet(type: type, ttl: ttl, firstRData: Int32(rdatas.count), rdataCount: Int32(setEnd - member),
                                                 pool: pool))
                        for record in ofNode[member..<setEnd] {
                            let range = records.rdataRange(record)
                            var additional: Int32 = -1
                            if let target = additionalTargetStart(type: type), range.count > target {
                                let targetNode = grouped.node(of: rdata(record)[target...], scratch: scratch)
                                if targetNode >= 0 && grouped.hasAddresses[targetNode] { additional = Int32(targetNode) }
                            }
                            rdatas.append(Zone.RData(offset: Int32(range.lowerBound), length: Int32(range.count), additionalNode: additional))
                        }
                        member = setEnd
                    }
                    nodes.append(Zone.Node(firstRRset: Int32(firstRRset), rrsetCount: Int32(rrsets.count - firstRRset), flags: flags[node]))
                }
            }
        }
        return Zone(origin: origin, serial: serial, recordCount: rdatas.count, names: grouped.names.table(),
                    nodes: nodes, rrsets: rrsets, rdatas: rdatas, rdataBytes: records.rdataBytes, apexNode: 0, soaRRset: soaRRset,
                    negativeTTL: negativeTTL)
    }

    /// Where the host name starts in the RDATA of a type whose target's addresses RFC 1035
    /// section 3.3 asks to add to the additional section (NS, MX) and RFC 2782 suggests for SRV.
    static func additionalTargetStart(type: RRType) -> Int? {
        switch type {
        case .ns: 0
        case .mx: 2
        case .srv: 6
        default: nil
        }
    }

    static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
