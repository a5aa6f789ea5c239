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
        let grouped = GroupedRecords(extra.isEmpty ? zone.records : zone.records + extra, origin: origin)
        let flags = nodeFlags(grouped, cuts: zone.cuts, origin: origin)
        return freeze(grouped, flags: flags, origin: origin, pools: pools)
    }

    /// DYNA/DYNC records naming a pool that is not configured: `dnsctl check` and reloads
    /// reject them.
    static func unknownPools(in records: [ZoneRecord], pools: [String: Int]) -> [ZoneFileError] {
        records.indices.compactMap { index in
            guard let pool = records[index].poolName, pools[pool] == nil else { return nil }
            return ZoneFileError("\(records[index].type) names pool \"\(pool)\", which meridian.yaml does not define",
                                 at: records[index].position)
        }
    }

    /// Records by owner (first-seen order, the apex first, empty non-terminals included) and
    /// type, without duplicate RDATA (RFC 2181 section 5). Owners are numbered in the zone's
    /// own name table as they are read (one hash per record, no key objects), and the records
    /// are then placed by owner with a counting sort: no dictionary per name, no copy of a
    /// record.
    struct GroupedRecords {
        let records: [ZoneRecord]
        private(set) var names: NameTable.Builder
        /// Node `n`'s records are `order[first[n]..<first[n + 1]]` (indices into `records`), by
        /// type and then reading order, each RDATA once per RRset.
        private(set) var order: [Int32] = []
        private(set) var first: [Int32] = []
        private(set) var hasAddresses: [Bool] = []

        var nodeCount: Int { names.count }
        var recordCount: Int { order.count }

        init(_ records: [ZoneRecord], origin: DNSName) {
            self.records = records
            names = NameTable.Builder(expectedCount: records.count + 1)
            _ = origin.wire.withUnsafeBytes { names.insert($0) }
            let originLabels = origin.labelCount
            var nodeOfRecord = [Int32](repeating: 0, count: records.count)
            var lowercased = [UInt8](repeating: 0, count: 256)
            lowercased.withUnsafeMutableBytes { scratch in
                for position in records.indices {
                    let length = Self.lowercase(records[position].owner.wire, into: scratch)
                    let owner = names.insert(UnsafeRawBufferPointer(rebasing: scratch[0..<length]))
                    nodeOfRecord[position] = Int32(owner.index)
                    guard owner.inserted else { continue }
                    // Empty non-terminals: every name between the owner and the origin exists.
                    var labels = records[position].owner.labelCount
                    var start = 0
                    while labels > originLabels + 1 {
                        start += 1 + Int(scratch[start])
                        labels -= 1
                        if !names.insert(UnsafeRawBufferPointer(rebasing: scratch[start..<length])).inserted { break }
                    }
                }
            }
            placeByNode(nodeOfRecord)
        }

        /// Lower-cases a wire-form name into `scratch` (length octets are below "A"); returns its length.
        private static func lowercase(_ wire: some Collection<UInt8>, into scratch: UnsafeMutableRawBufferPointer) -> Int {
            for (index, byte) in wire.enumerated() { scratch[index] = asciiLowercase(byte) }
            return wire.count
        }

        /// Counting sort by node (stable, so reading order holds within a node), then each
        /// node's few records by type, dropping RDATA an RRset already has.
        private mutating func placeByNode(_ nodeOfRecord: [Int32]) {
            let nodes = names.count
            var start = [Int32](repeating: 0, count: nodes + 1)
            for node in nodeOfRecord { start[Int(node) + 1] += 1 }
            for node in 0..<nodes { start[node + 1] += start[node] }
            var placed = [Int32](repeating: 0, count: records.count)
            var next = start
            for (position, node) in nodeOfRecord.enumerated() {
                placed[Int(next[Int(node)])] = Int32(position)
                next[Int(node)] += 1
            }
            order.reserveCapacity(records.count)
            first.reserveCapacity(nodes + 1)
            hasAddresses = [Bool](repeating: false, count: nodes)
            for node in 0..<nodes {
                first.append(Int32(order.count))
                let nodeStart = order.count
                for slot in Int(start[node])..<Int(start[node + 1]) {
                    let position = placed[slot]
                    let type = records[Int(position)].type
                    // Insertion by type, after the records of the same type already placed:
                    // a name has a handful of records, rarely more.
                    var at = order.count
                    while at > nodeStart && records[Int(order[at - 1])].type.rawValue > type.rawValue { at -= 1 }
                    var scan = at
                    var duplicate = false
                    while scan > nodeStart && records[Int(order[scan - 1])].type == type {
                        if records[Int(order[scan - 1])].rdata == records[Int(position)].rdata {
                            duplicate = true
                            break
                        }
                        scan -= 1
                    }
                    guard !duplicate else { continue }
                    order.insert(position, at: at)
                    if type == .a || type == .aaaa { hasAddresses[node] = true }
                }
            }
            first.append(Int32(order.count))
        }

        /// The node of a name given in wire form (any case), or -1.
        func node(of wire: ArraySlice<UInt8>, scratch: UnsafeMutableRawBufferPointer) -> Int {
            guard wire.count <= scratch.count else { return -1 }
            let length = Self.lowercase(wire, into: scratch)
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

    static func freeze(_ grouped: GroupedRecords, flags: [Zone.Node.Flags], origin: DNSName, pools: [String: Int]) -> Zone {
        let records = grouped.records
        var nodes: [Zone.Node] = []
        var rrsets: [Zone.RRSet] = []
        var rdatas: [Zone.RData] = []
        var bytes: [UInt8] = []
        nodes.reserveCapacity(grouped.nodeCount)
        rrsets.reserveCapacity(grouped.recordCount)
        rdatas.reserveCapacity(grouped.recordCount)
        bytes.reserveCapacity(grouped.order.reduce(0) { $0 + records[Int($1)].rdata.count })
        var soaRRset = -1
        var serial: UInt32 = 0
        var negativeTTL: UInt32 = 0
        var scratch = [UInt8](repeating: 0, count: 256)
        scratch.withUnsafeMutableBytes { scratch in
            for node in 0..<grouped.nodeCount {
                let firstRRset = rrsets.count
                var slot = Int(grouped.first[node])
                let end = Int(grouped.first[node + 1])
                while slot < end {
                    let head = records[Int(grouped.order[slot])]
                    let type = head.type
                    var setEnd = slot
                    // An RRset has one TTL (RFC 2181 5.2); the lowest wins so no copy lives too long.
                    var ttl = UInt32.max
                    while setEnd < end && records[Int(grouped.order[setEnd])].type == type {
                        ttl = min(ttl, records[Int(grouped.order[setEnd])].ttl)
                        setEnd += 1
                    }
                    if node == 0 && type == .soa {
                        soaRRset = rrsets.count
                        serial = readUInt32(head.rdata, at: head.rdata.count - 20)
                        negativeTTL = min(ttl, readUInt32(head.rdata, at: head.rdata.count - 4))
                    }
                    var pool: Int32 = -1
                    if type == .dyna || type == .dync {
                        pool = Int32(pools[String(decoding: head.rdata, as: UTF8.self)] ?? -1)
                    }
                    rrsets.append(Zone.RRSet(type: type, ttl: ttl, firstRData: Int32(rdatas.count), rdataCount: Int32(setEnd - slot),
                                             pool: pool))
                    for member in slot..<setEnd {
                        let rdata = records[Int(grouped.order[member])].rdata
                        var additional: Int32 = -1
                        if let target = additionalTargetStart(type: type), rdata.count > target {
                            let targetNode = grouped.node(of: rdata[target...], scratch: scratch)
                            if targetNode >= 0 && grouped.hasAddresses[targetNode] { additional = Int32(targetNode) }
                        }
                        rdatas.append(Zone.RData(offset: Int32(bytes.count), length: Int32(rdata.count), additionalNode: additional))
                        bytes.append(contentsOf: rdata)
                    }
                    slot = setEnd
                }
                nodes.append(Zone.Node(firstRRset: Int32(firstRRset), rrsetCount: Int32(rrsets.count - firstRRset), flags: flags[node]))
            }
        }
        return Zone(origin: origin, serial: serial, recordCount: grouped.recordCount, names: grouped.names.table(),
                    nodes: nodes, rrsets: rrsets, rdatas: rdatas, rdataBytes: bytes, apexNode: 0, soaRRset: soaRRset,
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

    static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
