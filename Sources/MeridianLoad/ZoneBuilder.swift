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

    /// Records by owner (first-seen order, the apex first, empty non-terminals included) and
    /// type, without duplicate RDATA (RFC 2181 section 5). Owners were numbered in the zone's
    /// name table as they were read; the records are placed by owner with a counting sort (no
    /// dictionary per name, no copy of a record), or left where they are when the file already
    /// keeps each owner's records together, as large zones do.
    struct GroupedRecords {
        private(set) var records: ZoneColumns
        var names: NameTable.Builder { records.names }
        /// Node `n`'s records are slots `first[n]..<first[n + 1]`, by type and then reading
        /// order, each RDATA once per RRset. Slot `s` holds record `order[s]`, or record `s`
        /// when `order` is nil: the file already kept each owner's records together, by type,
        /// without repeats, as large zones do, and nothing needs to move.
        private(set) var order: [Int32]?
        private(set) var first: [Int32] = []
        private(set) var hasAddresses: [Bool] = []

        var nodeCount: Int { names.count }
        private(set) var recordCount = 0

        init(_ records: consuming ZoneColumns) {
            self.records = records
            placeByNode()
            self.records.dropNodes()
        }

        /// The record in a slot.
        @inline(__always)
        func record(at slot: Int) -> Int {
            if let order { Int(order[slot]) } else { slot }
        }

        /// Lower-cases a wire-form name into `scratch` (length octets are below "A"); returns its length.
        private static func lowercase(_ wire: some Collection<UInt8>, into scratch: UnsafeMutableRawBufferPointer) -> Int {
            for (index, byte) in wire.enumerated() { scratch[index] = asciiLowercase(byte) }
            return wire.count
        }

        /// Counting sort by node (stable, so reading order holds within a node), then each
        /// node's few records by type, dropping RDATA an RRset already has.
        private mutating func placeByNode() {
            let nodes = names.count
            let nodeOfRecord = records.nodes
            var start = [Int32](repeating: 0, count: nodes + 1)
            var grouped = true
            var previous: Int32 = 0
            for node in nodeOfRecord {
                start[Int(node) + 1] += 1
                if node < previous { grouped = false }
                previous = node
            }
            for node in 0..<nodes { start[node + 1] += start[node] }
            hasAddresses = [Bool](repeating: false, count: nodes)
            let types = records.types
            let alreadyPlaced = grouped && records.rdataBytes.withUnsafeBytes { rdataBytes in
                for record in nodeOfRecord.indices {
                    let type = types[record]
                    if type == .a || type == .aaaa { hasAddresses[Int(nodeOfRecord[record])] = true }
                    var earlier = record - 1
                    let rdata = UnsafeRawBufferPointer(rebasing: rdataBytes[records.rdataRange(record)])
                    while earlier >= 0 && nodeOfRecord[earlier] == nodeOfRecord[record] && types[earlier].rawValue >= type.rawValue {
                        if types[earlier] != type { return false }
                        if bytesEqual(UnsafeRawBufferPointer(rebasing: rdataBytes[records.rdataRange(earlier)]), rdata) { return false }
                        earlier -= 1
                    }
                }
                return true
            }
            if alreadyPlaced {
                first = start
                recordCount = nodeOfRecord.count
                return
            }
            // Where each node's records are, in reading order: the records themselves when no
            // owner comes back after another's, else a counting sort.
            var placed: [Int32] = []
            if !grouped {
                placed = [Int32](repeating: 0, count: nodeOfRecord.count)
                var next = start
                for (position, node) in nodeOfRecord.enumerated() {
                    placed[Int(next[Int(node)])] = Int32(position)
                    next[Int(node)] += 1
                }
            }
            var order: [Int32] = []
            order.reserveCapacity(nodeOfRecord.count)
            first.reserveCapacity(nodes + 1)
            hasAddresses = [Bool](repeating: false, count: nodes)
            records.rdataBytes.withUnsafeBytes { rdataBytes in
                for node in 0..<nodes {
                    first.append(Int32(order.count))
                    let nodeStart = order.count
                    for slot in Int(start[node])..<Int(start[node + 1]) {
                        let position = grouped ? Int32(slot) : placed[slot]
                        let type = types[Int(position)]
                        // Insertion by type, after the records of the same type already placed:
                        // a name has a handful of records, rarely more.
                        var at = order.count
                        while at > nodeStart && types[Int(order[at - 1])].rawValue > type.rawValue { at -= 1 }
                        var scan = at
                        var duplicate = false
                        let rdata = UnsafeRawBufferPointer(rebasing: rdataBytes[records.rdataRange(Int(position))])
                        while scan > nodeStart && types[Int(order[scan - 1])] == type {
                            let other = UnsafeRawBufferPointer(rebasing: rdataBytes[records.rdataRange(Int(order[scan - 1]))])
                            if bytesEqual(other, rdata) {
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
            }
            first.append(Int32(order.count))
            recordCount = order.count
            self.order = order
        }

        /// The node of a name given in wire form (any case), or -1.
        func node(of wire: some Collection<UInt8>, scratch: UnsafeMutableRawBufferPointer) -> Int {
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
        nodes.reserveCapacity(grouped.nodeCount)
        rrsets.reserveCapacity(grouped.recordCount)
        rdatas.reserveCapacity(grouped.recordCount)
        // Records already in place keep their RDATA where it was read: the zone's bytes are the
        // parser's, not a copy.
        let inPlace = grouped.order == nil
        var bytes: [UInt8] = inPlace ? records.rdataBytes : []
        if !inPlace { bytes.reserveCapacity((0..<grouped.recordCount).reduce(0) { $0 + records.rdataRange(grouped.record(at: $1)).count }) }
        var soaRRset = -1
        var serial: UInt32 = 0
        var negativeTTL: UInt32 = 0
        var scratch = [UInt8](repeating: 0, count: 256)
        scratch.withUnsafeMutableBytes { scratch in
            records.rdataBytes.withUnsafeBytes { rdataBytes in
                for node in 0..<grouped.nodeCount {
                    let firstRRset = rrsets.count
                    var slot = Int(grouped.first[node])
                    let end = Int(grouped.first[node + 1])
                    while slot < end {
                        let head = grouped.record(at: slot)
                        let type = records.types[head]
                        var setEnd = slot
                        // An RRset has one TTL (RFC 2181 5.2); the lowest wins so no copy lives too long.
                        var ttl = UInt32.max
                        while setEnd < end && records.types[grouped.record(at: setEnd)] == type {
                            ttl = min(ttl, records.ttls[grouped.record(at: setEnd)])
                            setEnd += 1
                        }
                        let headRData = UnsafeRawBufferPointer(rebasing: rdataBytes[records.rdataRange(head)])
                        if node == 0 && type == .soa {
                            soaRRset = rrsets.count
                            serial = readUInt32(headRData, at: headRData.count - 20)
                            negativeTTL = min(ttl, readUInt32(headRData, at: headRData.count - 4))
                        }
                        var pool: Int32 = -1
                        if type == .dyna || type == .dync {
                            pool = Int32(pools[String(decoding: headRData, as: UTF8.self)] ?? -1)
                        }
                        rrsets.append(Zone.RRSet(type: type, ttl: ttl, firstRData: Int32(rdatas.count), rdataCount: Int32(setEnd - slot),
                                                 pool: pool))
                        for member in slot..<setEnd {
                            let range = records.rdataRange(grouped.record(at: member))
                            let rdata = UnsafeRawBufferPointer(rebasing: rdataBytes[range])
                            var additional: Int32 = -1
                            if let target = additionalTargetStart(type: type), rdata.count > target {
                                let targetNode = grouped.node(of: rdata[target...], scratch: scratch)
                                if targetNode >= 0 && grouped.hasAddresses[targetNode] { additional = Int32(targetNode) }
                            }
                            if inPlace {
                                rdatas.append(Zone.RData(offset: Int32(range.lowerBound), length: Int32(rdata.count), additionalNode: additional))
                            } else {
                                rdatas.append(Zone.RData(offset: Int32(bytes.count), length: Int32(rdata.count), additionalNode: additional))
                                bytes.append(contentsOf: rdata)
                            }
                        }
                        slot = setEnd
                    }
                    nodes.append(Zone.Node(firstRRset: Int32(firstRRset), rrsetCount: Int32(rrsets.count - firstRRset), flags: flags[node]))
                }
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

    static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
