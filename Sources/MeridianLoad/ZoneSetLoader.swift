import MeridianAuthority
import MeridianFiles
import MeridianWire
import MeridianZoneFile

/// Reads every `ORIGIN.zone` file of the zones directory (`root.zone` is the root zone).
/// Nothing is returned unless every zone is clean: one broken file rejects the whole set,
/// so a reload never serves half-updated data.
public enum ZoneSetLoader {
    /// The zones in file-name order, and the version of each. `pools` gives the routing index
    /// of every configured pool.
    public static func load(directory: String, pools: [String: Int],
                            apexRecords: [DNSName: [ZoneRecord]] = [:]) throws(ZoneFileErrors) -> (zones: [Zone], versions: [ZoneVersion]) {
        let files: [String]
        switch FileSystem.list(directory: directory) {
        case .success(let names): files = names.filter { $0.hasSuffix(".zone") && !$0.hasPrefix(".") }
        case .failure(let error):
            throw ZoneFileErrors([ZoneFileError("cannot read zones directory: \(error)", at: SourcePosition(file: directory, line: 0, column: 0))])
        }
        var zones: [Zone] = []
        var versions: [ZoneVersion] = []
        var errors: [ZoneFileError] = []
        var seen = Set<DNSName>()
        for file in files {
            let path = FileSystem.join(directory, file)
            let origin: DNSName
            do {
                origin = try Self.origin(ofFile: file)
            } catch {
                errors.append(ZoneFileError("file name does not give a valid zone origin: \(error)", at: SourcePosition(file: path, line: 1, column: 1)))
                continue
            }
            guard seen.insert(origin.lowercased).inserted else {
                errors.append(ZoneFileError("zone \(origin) is defined twice", at: SourcePosition(file: path, line: 1, column: 1)))
                continue
            }
            do {
                let loaded = try ZoneFileLoader.loadVersioned(file: path, origin: origin, includeRoot: directory, pools: pools,
                                                              extra: apexRecords[origin.lowercased] ?? [])
                zones.append(loaded.zone)
                versions.append(loaded.version)
            } catch {
                errors += error.errors
            }
        }
        guard errors.isEmpty else { throw ZoneFileErrors(errors) }
        return (zones, versions)
    }

    /// `example.com.zone` serves `example.com.`; `root.zone` serves the root.
    static func origin(ofFile name: String) throws(NameTextError) -> DNSName {
        let text = String(name.dropLast(".zone".count))
        return try DNSName(parsing: text == "root" ? "." : text + ".")
    }
}
