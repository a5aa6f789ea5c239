import ArgumentParser
import MeridianFiles
import MeridianGeoIP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dnsctl geoip …`: GeoIP database tools.
struct GeoIP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geoip",
        abstract: "GeoIP database tools.",
        subcommands: [GeoIPBuild.self]
    )
}

/// `dnsctl geoip build CSV OUT.mmdb`: writes a MaxMind DB file (GeoIP2 City shaped records)
/// from the operator's CSV, for networks the public databases place wrongly or not at all.
struct GeoIPBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Write a MaxMind DB file from a CSV of networks and locations.",
        discussion: """
        CSV rows: network,latitude,longitude,country,continent,subdivision
        (e.g. 81.2.69.0/24,51.5,-0.12,GB,EU,ENG). The header line is optional; lines starting
        with # and blank lines are skipped; latitude and longitude may both be empty, and so may
        country, continent and subdivision. More specific networks override the ones they lie in.
        The output replaces OUT atomically. SOURCE_DATE_EPOCH, when set, becomes the build time.
        Errors are printed as FILE:LINE: message (exit 1).
        """
    )

    @OptionGroup var global: FileOptions

    @Argument(help: "The CSV file.")
    var csv: String

    @Argument(help: "The MaxMind DB file to write.")
    var out: String

    func run() throws {
        let parsed = GeoCSV.read(file: csv)
        guard parsed.errors.isEmpty else {
            fail(parsed.errors.map(\.description), summary: "\(csv): \(parsed.errors.count) error(s)")
        }
        let epoch = ProcessEnvironment.value("SOURCE_DATE_EPOCH").flatMap { UInt64($0) }
        let base = csv.split(separator: "/").last.map(String.init) ?? csv
        let writer = GeoCSV.writer(for: parsed.rows, description: "Meridian GeoIP database built from \(base)", buildEpoch: epoch)
        let file: SerializedMMDB
        do {
            file = try writer.serialize()
        } catch {
            fail(["\(csv):1: \(error)"], summary: nil)
        }
        if let reason = writeAtomically(file.bytes, to: out) {
            fail(["\(out):1: cannot write: \(reason)"], summary: nil)
        }
        let networks = parsed.rows.count
        if global.json {
            print("{\"ok\":true,\"csv\":\(jsonString(csv)),\"output\":\(jsonString(out)),\"networks\":\(networks),"
                + "\"records\":\(file.recordCount),\"nodes\":\(file.nodeCount),\"record_size\":\(file.recordSize.rawValue),"
                + "\"bytes\":\(file.bytes.count)}")
        } else {
            print("\(out): \(networks) networks, \(file.recordCount) records, \(file.bytes.count) bytes "
                + "(\(file.nodeCount) nodes, \(file.recordSize.rawValue)-bit records)")
        }
    }

    /// Prints the errors (as JSON with `--json`) and exits 1.
    private func fail(_ lines: [String], summary: String?) -> Never {
        if global.json {
            print("{\"ok\":false,\"csv\":\(jsonString(csv)),\"output\":\(jsonString(out)),\"errors\":[\(lines.map(jsonString).joined(separator: ","))]}")
        } else {
            for line in lines { printError(line) }
            if let summary { printError(summary) }
        }
        Self.exit(withError: ExitCode(1))
    }

    /// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it
    /// over `path`, so a reader sees the old file or the new one, never a part. Returns the
    /// reason when that fails (and leaves `path` as it was).
    private func writeAtomically(_ bytes: [UInt8], to path: String) -> String? {
        let temporary = "\(path).tmp.\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        func abandon() -> String {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            unlink(temporary)
            return reason
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return abandon()
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else { return abandon() }
        guard close(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return reason
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return reason
        }
        return nil
    }
}
