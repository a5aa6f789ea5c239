import MeridianAuthority
import MeridianWire
import MeridianZoneFile

/// The one way from zone-file text to a servable `Zone`: parse, validate, then freeze. The
/// builder takes only a `ValidatedZone`, which only the validator makes, so no caller (the
/// server, `dnsctl`, tests, benchmarks) can serve records that were not checked.
public enum ZoneFileLoader {
    /// A zone file read and validated, its records as `ZoneRecord`s (tools) or in columns
    /// (loading); `warnings` are problems that do not stop loading.
    public struct Read<Records: ZoneRecordList>: Sendable {
        public var zone: ValidatedZone<Records>
        public var warnings: [ZoneFileError]
    }

    /// Parses and validates the file at `path`, keeping every record as written (for tools
    /// that print them). `$INCLUDE` is confined to `includeRoot` (default: the file's directory).
    public static func read(file path: String, origin: DNSName, includeRoot: String? = nil) throws(ZoneFileErrors) -> Read<[ZoneRecord]> {
        var records: [ZoneRecord] = []
        let diagnostics = ZoneParser.parse(file: path, origin: origin, includeRoot: includeRoot, into: &records)
        return try check(records, diagnostics, origin: origin, file: path, pools: nil)
    }

    /// Parses and validates zone text that did not come from a file (tests, benchmarks).
    public static func read(text: String, fileName: String, origin: DNSName) throws(ZoneFileErrors) -> Read<[ZoneRecord]> {
        var records: [ZoneRecord] = []
        let diagnostics = ZoneParser.parse(text: text, fileName: fileName, origin: origin, into: &records)
        return try check(records, diagnostics, origin: origin, file: fileName, pools: nil)
    }

    /// Reads, validates and freezes the file at `path`. `pools` gives the routing index of each
    /// pool a DYNA or DYNC record may name; naming any other pool is an error.
    public static func load(file path: String, origin: DNSName, includeRoot: String? = nil,
                            pools: [String: Int] = [:]) throws(ZoneFileErrors) -> Zone {
        try loadVersioned(file: path, origin: origin, includeRoot: includeRoot, pools: pools).zone
    }

    /// `load(file:)`, with what a reload compares against the zone served before.
    /// `extra`: records the configuration adds (the apex's DNSSEC keys). Records are kept in
    /// columns from the parser to the builder (`ZoneColumns`), never as one `ZoneRecord` each.
    static func loadVersioned(file path: String, origin: DNSName, includeRoot: String?,
                              pools: [String: Int], extra: [ZoneRecord] = []) throws(ZoneFileErrors) -> (zone: Zone, version: ZoneVersion) {
        var columns = ZoneColumns(origin: origin)
        let diagnostics = ZoneParser.parse(file: path, origin: origin, includeRoot: includeRoot, into: &columns)
        // Each hand-over consumes: the builder must hold the only reference to the columns,
        // so it can let go of what it no longer needs while the zone is laid out.
        let checked = try check(consume columns, diagnostics, origin: origin, file: path, pools: pools)
        let version = ZoneVersion(checked.zone)
        return (ZoneBuilder.build((consume checked).zone, pools: pools, extra: extra), version)
    }

    /// `load(file:)` for zone text.
    public static func load(text: String, fileName: String, origin: DNSName, pools: [String: Int] = [:]) throws(ZoneFileErrors) -> Zone {
        var columns = ZoneColumns(origin: origin)
        let diagnostics = ZoneParser.parse(text: text, fileName: fileName, origin: origin, into: &columns)
        return ZoneBuilder.build(try check(columns, diagnostics, origin: origin, file: fileName, pools: pools).zone, pools: pools)
    }

    /// Every problem at once: syntax errors, whole-zone errors, then pools the configuration
    /// does not define (when `pools` is given).
    private static func check<Records: ZoneRecordList>(_ records: Records, _ diagnostics: ZoneParseDiagnostics, origin: DNSName,
                                                       file: String, pools: [String: Int]?) throws(ZoneFileErrors) -> Read<Records> {
        var errors = diagnostics.errors
        var validated: ValidatedZone<Records>?
        do {
            validated = try ZoneValidator.validate(records, origin: origin, file: file)
        } catch {
            errors += error.errors
        }
        if let pools { errors += ZoneBuilder.unknownPools(in: records, pools: pools) }
        guard errors.isEmpty, let validated else { throw ZoneFileErrors(errors) }
        return Read(zone: validated, warnings: diagnostics.warnings)
    }
}
