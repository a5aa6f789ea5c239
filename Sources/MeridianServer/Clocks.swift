#if canImport(Glibc)
import Glibc
#endif

/// The monotonic clock in nanoseconds, for response times and idle timeouts.
@inline(__always)
func monotonicNanoseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int(now.tv_sec) * 1_000_000_000 + Int(now.tv_nsec)
}

/// Whole seconds since the Unix epoch, 32 bits as server cookies carry them (RFC 9018).
@inline(__always)
func unixSeconds() -> UInt32 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt32(truncatingIfNeeded: now.tv_sec)
}

/// Nanoseconds since the Unix epoch, for the query log's times.
@inline(__always)
func realtimeNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// Seconds since the Unix epoch, for what operators read (start time, last reload).
func wallClockSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
