import ArgumentParser
import MeridianFiles
import MeridianAuthority
import MeridianLoad
import MeridianWire

/// `dnsctl check`: validates configuration and every zone offline, like named-checkconf
/// plus named-checkzone, through the same loader the server starts and reloads with.
/// Every problem is printed, not just the first.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and all zones without a running server.",
        discussion: "Prints every error as FILE:LINE:COL: message and exits 1 when there is any."
    )

    @OptionGroup var global: FileOptions

    func run() throws {
        let path = global.configPath
        var errors: [String] = []
        var summary: [String] = []
        var zonesJSON: [String] = []
        var warnings: [String] = []
        do {
            let loaded = try ServerLoader.check(configPath: path)
            warnings = loaded.warnings
            for zone in loaded.zones {
                let signing = zone.signatures.map { ", signed with key \($0.signer.keyDescriptions.joined(separator: ", "))" } ?? ""
                summary.append("zone \(zone.origin) serial \(zone.serial), \(zone.recordCount) records\(signing)")
                zonesJSON.append("{\"zone\":\(jsonString(zone.origin.description)),\"serial\":\(zone.serial),\"records\":\(zone.recordCount)}")
            }
        } catch {
            errors = error.lines
        }
        if global.json {
            print("{\"ok\":\(errors.isEmpty),\"config\":\(jsonString(path)),\"errors\":[\(errors.map(jsonString).joined(separator: ","))],"
                + "\"warnings\":[\(warnings.map(jsonString).joined(separator: ","))],\"zones\":[\(zonesJSON.joined(separator: ","))]}")
        } else {
            for line in errors { printError(line) }
            for line in warnings { printError("warning: \(line)") }
            if errors.isEmpty {
                for line in summary { print(line) }
                print("\(path): OK")
            } else {
                printError("\(path): \(errors.count) error(s)")
            }
        }
        if !errors.isEmpty { throw ExitCode(1) }
    }
}
