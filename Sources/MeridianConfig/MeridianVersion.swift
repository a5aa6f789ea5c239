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
