/// The distinct ordered edge lists of a table being built, back to back, each stored once
/// and named by its index: pools and locations that order the same edges the same way
/// share one list. Load-time only.
struct EdgeListBuilder {
    private var index: [[UInt16]: Int32] = [:]
    private(set) var edges: [UInt16] = []
    private(set) var starts: [Int32] = []
    private(set) var lengths: [UInt16] = []

    mutating func intern(_ list: [Int]) -> Int32 {
        intern(list.map { UInt16($0) })
    }

    mutating func intern(_ list: [UInt16]) -> Int32 {
        if let known = index[list] { return known }
        let added = Int32(starts.count)
        index[list] = added
        starts.append(Int32(edges.count))
        lengths.append(UInt16(list.count))
        edges += list
        return added
    }
}
