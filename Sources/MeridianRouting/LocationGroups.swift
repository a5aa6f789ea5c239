/// Locations grouped by what routing reads from them: coordinates for `nearest` pools and
/// codes for `map` pools. A City database has far fewer distinct ones than records.
struct LocationGroups {
    /// One location per group, and each location's group (-1 without coordinates).
    var coordinates: [GeoLocation] = []
    var coordinateGroup: [Int32] = []
    var codes: [GeoLocation] = []
    var codeGroup: [Int32] = []

    init(locations: [GeoLocation], coordinates wantCoordinates: Bool, codes wantCodes: Bool) {
        if wantCoordinates {
            var seen = DistinctIndex(capacity: locations.count / 2)
            coordinateGroup = locations.map { location in
                guard location.hasCoordinates else { return -1 }
                let hash = location.latitude.bitPattern &* 0xBF58_476D_1CE4_E5B9 ^ location.longitude.bitPattern
                let group = coordinates.withUnsafeBufferPointer { known in
                    seen.index(hash: hash, next: UInt32(known.count)) {
                        known[Int($0)].latitude.bitPattern == location.latitude.bitPattern
                            && known[Int($0)].longitude.bitPattern == location.longitude.bitPattern
                    }
                }
                if group == coordinates.count { coordinates.append(location) }
                return Int32(group)
            }
        }
        if wantCodes {
            var seen = DistinctIndex(capacity: 1 << 12)
            codeGroup = locations.map { location in
                let key = UInt64(location.country) << 48 | UInt64(location.continent) << 32 | UInt64(location.subdivision)
                let group = codes.withUnsafeBufferPointer { known in
                    seen.index(hash: key, next: UInt32(known.count)) {
                        let other = known[Int($0)]
                        return other.country == location.country && other.continent == location.continent && other.subdivision == location.subdivision
                    }
                }
                if group == codes.count { codes.append(location) }
                return Int32(group)
            }
        }
    }
}
