#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MeridianRouting
import MeridianWire
import MeridianZoneFile

/// Reads every `ORIGIN.zone` file of a directory, validates each zone and freezes them into
/// a snapshot. Nothing is published unless every zone is clean: one broken file rejects the
/// whole set, so a reload never serves half-updated data.
public enum ZoneSetLoader {
    public struct Result: Sendable {
        public var snapshot: AuthoritySnapshot?
        public var errors: [ZoneFileError]
        /// Origin and serial of every zone read, in directory order.
        public var zones: [(origin: DNSName, serial: UInt32, records: Int)]
    }

    public static func load(directory: String, udpPayloadSize: Int = 1232, routing: RoutingTable = .empty,
                            useClientSubnet: Bool = true) -> Result {
        let pools = Dictionary(routing.pools.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var errors: [ZoneFileError] = []
        var files: [String] = []
        guard let dir = opendir(directory) else {
            let reason = String(cString: strerror(errno))
            return Result(snapshot: nil, errors: [ZoneFileError("cannot read zones directory: \(reason)",
                                                                at: SourcePosition(file: directory, line: 0, column: 0))], zones: [])
        }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(".zone") && !name.hasPrefix(".") { files.append(name) }
        }
        closedir(dir)
        files.sort()

        var zones: [Zone] = []
        var summaries: [(origin: DNSName, serial: UInt32, records: Int)] = []
        var seen = Set<DNSName>()
        for file in files {
            let path = directory.hasSuffix("/") ? directory + file : directory + "/" + file
            let originText = String(file.dropLast(".zone".count))
            let origin: DNSName
            do {
                origin = try DNSName(parsing: originText == "root" ? "." : originText + ".")
            } catch {
                errors.append(ZoneFileError("file name does not give a valid zone origin: \(error)", at: SourcePosition(file: path, line: 1, column: 1)))
                continue
            }
            guard seen.insert(origin).inserted else {
                errors.append(ZoneFileError("zone \(origin) is defined twice", at: SourcePosition(file: path, line: 1, column: 1)))
                continue
            }
            let parsed = ZoneParser.parse(file: path, origin: origin, includeRoot: directory)
            let problems = parsed.errors + ZoneValidator.check(records: parsed.records, origin: origin, file: path)
                + ZoneBuilder.unknownPools(in: parsed.records, pools: pools)
            if !problems.isEmpty {
                errors += problems
                continue
            }
            let zone = ZoneBuilder.build(origin: origin, records: parsed.records, pools: pools)
            zones.append(zone)
            summaries.append((origin, zone.serial, zone.recordCount))
        }
        guard errors.isEmpty else { return Result(snapshot: nil, errors: errors, zones: summaries) }
        let snapshot = AuthoritySnapshot(zones: zones, udpPayloadSize: udpPayloadSize, routing: routing, useClientSubnet: useClientSubnet)
        return Result(snapshot: snapshot, errors: [], zones: summaries)
    }
}
