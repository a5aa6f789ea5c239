import MeridianFiles
import ArgumentParser
import MeridianAuthority
import MeridianServer
import MeridianWire

/// `dnsctl check`: validates configuration and every zone offline, like named-checkconf
/// plus named-checkzone. Every problem is printed, not just the first.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and all zones without a running server.",
        discussion: "Prints every error as FILE:LINE:COL: message and exits 1 when there is any."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let path = global.configPath
        var errors: [String] = []
        var summary: [String] = []
        var zonesJSON: [String] = []
        do {
            let configuration = try ServerData.loadConfiguration(path: path)
            do {
                let zones = try ServerData.loadZones(configuration)
                for zone in zones.zones {
                    summary.append("zone \(zone.origin) serial \(zone.serial), \(zone.records) records")
                    zonesJSON.append("{\"zone\":\(jsonString(zone.origin.description)),\"serial\":\(zone.serial),\"records\":\(zone.records)}")
                }
            } catch {
                errors += error.lines
            }
        } catch {
            errors += error.lines
        }
        if global.json {
            print("{\"ok\":\(errors.isEmpty),\"config\":\(jsonString(path)),\"errors\":[\(errors.map(jsonString).joined(separator: ","))],\"zones\":[\(zonesJSON.joined(separator: ","))]}")
        } else {
            for line in errors { printError(line) }
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
