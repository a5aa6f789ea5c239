/// MurmurHash3's 64-bit finalizer: every output bit depends on every input bit. For the
/// server's own hashes that need spreading, not secrecy (rate-limit buckets, shed positions).
@inline(__always)
public func murmurFinalize(_ value: UInt64) -> UInt64 {
    var value = value
    value ^= value >> 33
    value &*= 0xFF51_AFD7_ED55_8CCD
    value ^= value >> 33
    value &*= 0xC4CE_B9FE_1A85_EC53
    value ^= value >> 33
    return value
}
