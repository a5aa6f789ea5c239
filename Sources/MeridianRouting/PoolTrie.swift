import MeridianWire

/// One pool's routing compiled into its own binary trie whose leaves are edge lists (what
/// gdnsd does): subtrees that give the same list collapse into one leaf. The trie is far
/// smaller than the GeoIP tree, so a query's walk touches few cache lines, and the depth of
/// the leaf is the widest network over which the answer is the same — the ECS scope.
final class PoolTrie: Sendable {
    /// `records[2n]`, `records[2n+1]`: children of node n. Values below `nodeCount` are
    /// nodes; `nodeCount + list` is a leaf.
    let records: [UInt32]
    let nodeCount: UInt32
    /// Where IPv4 lookups start, and at which depth: a node, or a leaf that covers all of
    /// IPv4 when the tree collapsed above ::/96.
    let ipv4Start: UInt32
    let ipv4StartDepth: Int
    let hasIPv6: Bool
    /// For each IPv4 /16: the node (or leaf) its sixteen bits lead to, and how many bits
    /// that took (fewer when a leaf came first). One read replaces the first sixteen steps
    /// of the walk, the ones that miss the cache when clients come from many networks.
    let ipv4Jump: [UInt32]
    let ipv4JumpDepth: [UInt8]

    /// `listFor(location)` gives the pool's list for a location of `geo`, `fallback` the
    /// list for networks without data. `memo` is scratch space, passed in so that the pools
    /// of one table share one allocation.
    init(geo: GeoTrie, fallback: Int32, memo: inout [Int32], listFor: (Int) -> Int32) {
        let collapsed = Self.collapse(geo, fallback: fallback, memo: &memo, listFor: listFor)
        let (records, nodeCount) = Self.rootFirst(collapsed.nodes, root: collapsed.root)
        self.records = records
        self.nodeCount = nodeCount
        self.hasIPv6 = geo.hasIPv6
        if geo.hasIPv6 {
            (ipv4Start, ipv4StartDepth) = followZeroBits(records, nodeCount: nodeCount, bits: 96)
        } else {
            ipv4Start = 0
            ipv4StartDepth = 0
        }
        (ipv4Jump, ipv4JumpDepth) = Self.ipv4JumpTable(records, nodeCount: nodeCount, start: ipv4Start)
    }

    /// Walks `geo` depth first and keeps a node only where its two halves differ. Nodes are
    /// numbered in post-order (children first), so the root is the last; a child is stored
    /// as its node index or, for a leaf, `-2 - list`, both as signed values. `root` is the
    /// root's index, or a leaf when everything collapsed into one.
    private static func collapse(_ geo: GeoTrie, fallback: Int32, memo: inout [Int32],
                                 listFor: (Int) -> Int32) -> (nodes: [UInt32], root: Int64) {
        let geoNodes = geo.nodeCount
        var built: [UInt32] = []
        // Each GeoIP node's result: a leaf list (encoded as -2 - list) or a new node index;
        // memoised, because MaxMind trees share the IPv4 subtree between several aliases.
        let unvisited = Int32.min
        if memo.count == Int(geoNodes) {
            memo.withUnsafeMutableBufferPointer { $0.update(repeating: unvisited) }
        } else {
            memo = [Int32](repeating: unvisited, count: Int(geoNodes))
        }

        let root: Int64 = geo.records.withUnsafeBufferPointer { records in
            memo.withUnsafeMutableBufferPointer { memo in
                func leaf(_ value: UInt32) -> Int64 {
                    if value == GeoTrie.noData { return -2 - Int64(fallback) }
                    return -2 - Int64(listFor(Int(value - geoNodes)))
                }

                func visit(_ node: UInt32, depth: Int) -> Int64 {
                    if memo[Int(node)] != unvisited { return Int64(memo[Int(node)]) }
                    let left = records[Int(node) * 2]
                    let right = records[Int(node) * 2 + 1]
                    let l = left < geoNodes && depth < 127 ? visit(left, depth: depth + 1) : (left < geoNodes ? -2 - Int64(fallback) : leaf(left))
                    let r = right < geoNodes && depth < 127 ? visit(right, depth: depth + 1) : (right < geoNodes ? -2 - Int64(fallback) : leaf(right))
                    let result: Int64
                    if l == r && l < 0 {
                        result = l
                    } else {
                        result = Int64(built.count / 2)
                        built.append(UInt32(truncatingIfNeeded: l))
                        built.append(UInt32(truncatingIfNeeded: r))
                    }
                    memo[Int(node)] = Int32(result)
                    return result
                }
                return visit(0, depth: 0)
            }
        }
        return (built, root)
    }

    /// The collapsed nodes renumbered so that the root is node 0, with leaves encoded as
    /// `nodeCount + list`.
    private static func rootFirst(_ built: [UInt32], root: Int64) -> (records: [UInt32], nodeCount: UInt32) {
        if root < 0 {
            // Everything collapsed: one node whose two halves are the same leaf.
            let leaf = 1 + UInt32(-2 - root)
            return ([leaf, leaf], 1)
        }
        let nodeCount = UInt32(built.count / 2)
        let rootIndex = Int(root)
        func renumber(_ index: Int) -> Int { index == rootIndex ? 0 : (index < rootIndex ? index + 1 : index) }
        var records = [UInt32](repeating: 0, count: built.count)
        for index in 0..<Int(nodeCount) {
            for side in 0..<2 {
                let raw = Int64(Int32(bitPattern: built[index * 2 + side]))
                records[renumber(index) * 2 + side] = raw < 0 ? nodeCount + UInt32(-2 - raw) : UInt32(renumber(Int(raw)))
            }
        }
        return (records, nodeCount)
    }

    /// For each IPv4 /16 under `start`: the node or leaf its sixteen bits lead to and the
    /// bits that took. Empty when all of IPv4 is one leaf.
    private static func ipv4JumpTable(_ records: [UInt32], nodeCount: UInt32, start: UInt32) -> (jump: [UInt32], depth: [UInt8]) {
        guard start < nodeCount else { return ([], []) }
        var jump = [UInt32](repeating: 0, count: 1 << 16)
        var jumpDepth = [UInt8](repeating: 0, count: 1 << 16)
        for prefix in 0..<(1 << 16) {
            var value = start
            var depth = 0
            while value < nodeCount && depth < 16 {
                value = records[Int(value) * 2 + ((prefix >> (15 - depth)) & 1)]
                depth += 1
            }
            jump[prefix] = value
            jumpDepth[prefix] = UInt8(depth)
        }
        return (jump, jumpDepth)
    }

    /// The list for `address` and the prefix length over which it holds. Allocation-free.
    @inline(__always)
    func lookup(_ address: ClientAddress) -> (list: Int32, scope: Int) {
        var value: UInt32
        var depth: Int
        let bits: Int
        if address.family == .ipv4 {
            if ipv4Start >= nodeCount { return (Int32(ipv4Start - nodeCount), 0) }
            let prefix = Int(address.octets.0.bigEndian >> 48)
            value = ipv4Jump[prefix]
            depth = Int(ipv4JumpDepth[prefix])
            bits = 32
        } else {
            guard hasIPv6 else { return (-1, 0) }
            value = 0
            depth = 0
            bits = 128
        }
        let high = address.octets.0.bigEndian
        let low = address.octets.1.bigEndian
        return records.withUnsafeBufferPointer { records in
            while value < nodeCount && depth < bits {
                let word = depth < 64 ? high : low
                let bit = Int((word >> (63 - UInt64(depth & 63))) & 1)
                value = records[Int(value) * 2 + bit]
                depth += 1
            }
            return value >= nodeCount ? (Int32(value - nodeCount), depth) : (-1, depth)
        }
    }
}
