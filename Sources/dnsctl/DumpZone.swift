import ArgumentParser
import MeridianFiles
import MeridianLoad
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

    @OptionGroup var global: FileOptions

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
        let read: ZoneFileLoader.Read<[ZoneRecord]>
        do {
            read = try ZoneFileLoader.read(file: file, origin: originName)
        } catch {
            for error in error.errors { printError(error.description) }
            throw ExitCode(1)
        }
        for warning in read.warnings { printError("\(warning) (warning)") }
        let records = read.zone.records
        if global.json {
            let rows = records.map { record in
                "{\"name\":\(jsonString(record.owner.description)),\"ttl\":\(record.ttl),\"class\":\"\(record.class)\",\"type\":\"\(record.type)\",\"rdata\":\(jsonString(RDataText.format(type: record.type, rdata: record.rdata)))}"
            }
            print("[\(rows.joined(separator: ","))]")
        } else {
            let dump = ZoneDump.dump(records)
            print(dump, terminator: dump.hasSuffix("\n") ? "" : "\n")
        }
    }

    private func defaultOrigin(for path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return base.hasSuffix(".zone") ? String(base.dropLast(5)) : base
    }
}
