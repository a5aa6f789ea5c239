import MeridianAuthority
import MeridianWire
import MeridianZoneFile

/// The one way from zone-file text to a servable `Zone`: parse, validate, then freeze. The
/// builder takes only a `ValidatedZone`, which only the validator makes, so no caller (the
/// server, `dnsctl`, tests, benchmarks) can serve records that were not checked.
public enum ZoneFileLoader {
    /// A zone file read and validated; `warnings` are problems that do not stop loading.
    public struct Read: Sendable {
        public var zone: ValidatedZone
        public var warnings: [ZoneFileError]
    }

    /// Parses and validates the file at `path`. `$INCLUDE` is confined to `includeRoot`
    /// (default: the file's directory).
    public static func read(file path: String, origin: DNSName, includeRoot: String? = nil) throws(ZoneFileErrors) -> Read {
        try check(ZoneParser.parse(file: path, origin: origin, includeRoot: includeRoot), origin: origin, file: path, pools: nil)
    }

    /// Parses and validates zone text that did not come from a file (tests, benchmarks).
    public static func read(text: String, fileName: String, origin: DNSName) throws(ZoneFileErrors) -> Read {
        try check(ZoneParser.parse(text: text, fileName: fileName, origin: origin), origin: origin, file: fileName, pools: nil)
    }

    /// Reads, validates and freezes the file at `path`. `pools` gives the routing index of each
    /// pool a DYNA or DYNC record may name; naming any other pool is an error.
    public static func load(file path: String, origin: DNSName, includeRoot: String? = nil,
                            pools: [String: Int] = [:]) throws(ZoneFileErrors) -> Zone {
        try loadVersioned(file: path, origin: origin, includeRoot: includeRoot, pools: pools).zone
    }

    /// `load(file:)`, with what a reload compares against the zone served before.
    /// `extra`: records the configuration adds (the apex's DNSSEC keys).
    static func loadVersioned(file path: String, origin: DNSName, includeRoot: String?,
                              pools: [String: Int], extra: [ZoneRecord] = []) throws(ZoneFileErrors) -> (zone: Zone, version: ZoneVersion) {
        let read = try check(ZoneParser.parse(file: path, origin: origin, includeRoot: includeRoot), origin: origin, file: path, pools: pools)
        return (ZoneBuilder.build(read.zone, pools: pools, extra: extra), ZoneVersion(read.zone))
    }

    /// `load(file:)` for zone text.
    public static func load(text: String, fileName: String, origin: DNSName, pools: [String: Int] = [:]) throws(ZoneFileErrors) -> Zone {
        let read = try check(ZoneParser.parse(text: text, fileName: fileName, origin: origin), origin: origin, file: fileName, pools: pools)
        return ZoneBuilder.build(read.zone, pools: pools)
    }

    /// Every problem at once: syntax errors, whole-zone errors, then pools the configuration
    /// does not define (when `pools` is given).
    private static func check(_ parsed: ZoneParseResult, origin: DNSName, file: String, pools: [String: Int]?) throws(ZoneFileErrors) -> Read {
        var errors = parsed.errors
        var validated: ValidatedZone?
        do {
            validated = try ZoneValidator.validate(parsed.records, origin: origin, file: file)
        } catch {
            errors += error.errors
        }
        if let pools { errors += ZoneBuilder.unknownPools(in: parsed.records, pools: pools) }
        guard errors.isEmpty, let validated else { throw ZoneFileErrors(errors) }
        return Read(zone: validated, warnings: parsed.warnings)
    }
}
