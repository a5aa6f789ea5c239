#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Haversine distance on a sphere of the Earth's mean radius (6371.0088 km).
public func greatCircleKilometres(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    greatCircleKilometres(lat1, lon1, cos(lat1 * (Double.pi / 180)), lat2, lon2)
}

/// The same with the first point's cosine of latitude computed once by the caller.
@inline(__always)
func greatCircleKilometres(_ lat1: Double, _ lon1: Double, _ cosine1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    let radians = Double.pi / 180
    let dLat = (lat2 - lat1) * radians
    let dLon = (lon2 - lon1) * radians
    let a = sinHalfSquared(dLat) + cosine1 * cos(lat2 * radians) * sinHalfSquared(dLon)
    return 2 * 6371.0088 * asin(min(1, a.squareRoot()))
}

@inline(__always) func sinHalfSquared(_ x: Double) -> Double {
    let s = sin(x / 2)
    return s * s
}
