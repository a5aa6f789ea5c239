#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How one pool orders its edges for a location.
struct PoolOrdering {
    let pool: PoolSpec
    let edges: [EdgeSpec]

    func fallback() -> [Int] {
        switch pool.fallback {
        case .listed: pool.edges
        case .edges(let list): list + pool.edges.filter { !list.contains($0) }
        case .location(let latitude, let longitude): byDistance(latitude: latitude, longitude: longitude)
        }
    }

    /// nil when the location does not decide (no coordinates for `nearest`).
    func list(for location: GeoLocation) -> [Int]? {
        switch pool.policy {
        case .nearest:
            guard location.hasCoordinates else { return nil }
            return byDistance(latitude: location.latitude, longitude: location.longitude)
        case .map(let entries):
            var keys: [String] = []
            if let country = location.countryCode {
                if let subdivision = location.subdivisionCode { keys.append("\(country)-\(subdivision)") }
                keys.append(country)
            }
            if let continent = location.continentCode { keys.append(continent) }
            keys.append("default")
            for key in keys {
                if let entry = entries.first(where: { $0.key == key }) { return entry.edges }
            }
            return nil
        }
    }

    /// The pool's list for every location of the database, interned into `lists`; -1 where
    /// the location does not decide (no coordinates for `nearest`, no matching key for `map`)
    /// and the fallback applies.
    func listPerLocation(_ places: LocationGroups, lists: inout EdgeListBuilder) -> [Int32] {
        let perGroup: [Int32]
        let groupOf: [Int32]
        switch pool.policy {
        case .nearest:
            groupOf = places.coordinateGroup
            var scratch = [UInt16]()
            perGroup = places.coordinates.map { place in
                nearest(latitude: place.latitude, longitude: place.longitude, into: &scratch)
                return lists.intern(scratch)
            }
        case .map:
            groupOf = places.codeGroup
            perGroup = places.codes.map { location in list(for: location).map { lists.intern($0) } ?? -1 }
        }
        return groupOf.map { $0 >= 0 ? perGroup[Int($0)] : -1 }
    }

    /// The pool's list for each override, interned into `lists`: the override's edges that
    /// are in the pool, or the order for its location; `fallback` when that leaves nothing.
    func listPerOverride(_ overrides: [OverrideSpec], fallback: Int32, lists: inout EdgeListBuilder) -> [Int32] {
        overrides.map { override in
            switch override.target {
            case .edges(let chosen):
                let inPool = chosen.filter { pool.edges.contains($0) }
                return inPool.isEmpty ? fallback : lists.intern(inPool)
            case .location(let latitude, let longitude):
                let location = GeoLocation(latitude: latitude, longitude: longitude, hasCoordinates: true)
                return list(for: location).map { lists.intern($0) } ?? fallback
            }
        }
    }

    /// `byDistance` for the load's hundreds of thousands of places: the same order from the
    /// same arithmetic, written into `order` without allocating.
    func nearest(latitude: Double, longitude: Double, into order: inout [UInt16]) {
        order.removeAll(keepingCapacity: true)
        let count = pool.edges.count
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, count)) { distances in
            let radians = Double.pi / 180
            let cosine = cos(latitude * radians)
            for position in 0..<count {
                let edge = edges[pool.edges[position]]
                distances[position] = greatCircleKilometres(latitude, longitude, cosine, edge.latitude, edge.longitude)
                // Insertion sort by (distance, position): a pool has a handful of edges.
                var at = order.count
                order.append(UInt16(position))
                while at > 0 && distances[Int(order[at - 1])] > distances[position] {
                    order[at] = order[at - 1]
                    at -= 1
                }
                order[at] = UInt16(position)
            }
        }
        for index in order.indices { order[index] = UInt16(pool.edges[Int(order[index])]) }
    }

    func byDistance(latitude: Double, longitude: Double) -> [Int] {
        pool.edges.enumerated().map { (position, edge) in
            (edge, greatCircleKilometres(latitude, longitude, edges[edge].latitude, edges[edge].longitude), position)
        }
        .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2 }
        .map(\.0)
    }
}
