#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The version `meridian --version`, `dnsctl --version`, the stats port and the health
/// probes' User-Agent report. Kept here because both executables link this module.
public enum MeridianVersion {
    public static let current = "0.1.0"

    /// What health probes send as `User-Agent`, so an edge's access log tells which node of a
    /// fleet probed it: `Meridian/0.1.0 (node ns1-fra)`.
    public static func probeUserAgent(node: String) -> String {
        "Meridian/\(current) (node \(node))"
    }
}

/// The machine's host name, which names this node in health probes' `User-Agent` unless
/// `fleet.node` names it; "unnamed" when the system will not say.
public func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unnamed" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "unnamed" : name
}
