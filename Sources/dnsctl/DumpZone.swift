import MeridianFiles
import ArgumentParser
import MeridianServer
import MeridianWire
import MeridianZoneFile

/// `dnsctl dump-zone FILE`: shows a zone file as Meridian reads it, one record per line
/// with absolute names (like `named-compilezone -o -`).
struct DumpZone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-zone",
        abstract: "Print every record of a zone file as Meridian reads it.",
        discussion: "The origin defaults to the file name without its .zone suffix. Errors are printed as FILE:LINE:COL: message (exit 1)."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The zone file.")
    var file: String

    @Option(help: "Zone origin (default: the file name without .zone).")
    var origin: String?

    func run() throws {
        let originText = origin ?? defaultOrigin(for: file)
        let originName: DNSName
        do {
            originName = try DNSName(parsing: originText.hasSuffix(".") ? originText : originText + ".")
        } catch {
            printError("\(file):1:1: bad origin \"\(originText)\": \(error)")
            throw ExitCode(1)
        }
        let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        let parsed = ZoneParser.parse(file: file, origin: originName, includeRoot: directory)
        let errors = parsed.errors.isEmpty ? ZoneValidator.check(records: parsed.records, origin: originName, file: file) : parsed.errors
        for warning in parsed.warnings { printError("\(warning) (warning)") }
        guard errors.isEmpty else {
            for error in errors { printError(error.description) }
            throw ExitCode(1)
        }
        if global.json {
            let rows = parsed.records.map { record in
                "{\"name\":\(jsonString(record.owner.description)),\"ttl\":\(record.ttl),\"class\":\"\(record.class)\",\"type\":\"\(record.type)\",\"rdata\":\(jsonString(RDataText.format(type: record.type, rdata: record.rdata)))}"
            }
            print("[\(rows.joined(separator: ","))]")
        } else {
            let dump = ZoneDump.dump(parsed.records)
            print(dump, terminator: dump.hasSuffix("\n") ? "" : "\n")
        }
    }

    private func defaultOrigin(for path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return base.hasSuffix(".zone") ? String(base.dropLast(5)) : base
    }
}
