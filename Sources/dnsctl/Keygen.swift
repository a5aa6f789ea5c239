import ArgumentParser
import MeridianDNSSEC
import MeridianFiles
import MeridianWire

/// `dnsctl keygen ZONE`: makes a zone's signing key in BIND's file format (like
/// `dnssec-keygen -f KSK`) and prints what goes to the parent: the DS record.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a zone's DNSSEC signing key (BIND key files) and print its DS record.",
        discussion: """
        Writes KZONE.+ALG+TAG.private (mode 0600) and KZONE.+ALG+TAG.key (mode 0644) into the \
        directory; existing files are never overwritten. The key is a combined signing key \
        (DNSKEY flags 257). Prints the two file names, the DS record (SHA-256) for the parent \
        zone and the DNSKEY record. Algorithms: 13 (ECDSAP256SHA256, the default) or 15 (ED25519). \
        Errors are printed as FILE:LINE: message (exit 1).
        """
    )

    @OptionGroup var global: FileOptions

    @Argument(help: "The zone, e.g. example.com.")
    var zone: String

    @Option(help: ArgumentHelp("13 (ECDSAP256SHA256) or 15 (ED25519).", valueName: "algorithm"),
            transform: Keygen.parseAlgorithm)
    var algorithm: DNSSECAlgorithm = .ecdsaP256SHA256

    @Option(help: "Directory for the key files.")
    var directory: String = "."

    func run() throws {
        let zoneName: DNSName
        do {
            zoneName = try DNSName(parsing: zone.hasSuffix(".") ? zone : zone + ".")
        } catch {
            fail(["bad zone name \"\(zone)\": \(error)"])
        }
        let key: ZoneKey
        do {
            key = try KeyFiles.generate(zone: zoneName, algorithm: algorithm, directory: directory)
        } catch {
            fail(error.errors.map(\.description))
        }
        let ds = [key.dsRecordText(digestType: 2)]
        let dnskey = key.dnskeyRecordText()
        let publicFile = key.publicKeyFile ?? ""
        let privateFile = key.privateKeyFile ?? ""
        if global.json {
            print("{\"zone\":\(jsonString(zoneName.lowercased.description)),\"algorithm\":\(algorithm.rawValue),\"keyTag\":\(key.keyTag),"
                + "\"keyFile\":\(jsonString(publicFile)),\"privateKeyFile\":\(jsonString(privateFile)),"
                + "\"ds\":[\(ds.map(jsonString).joined(separator: ","))],\"dnskey\":\(jsonString(dnskey))}")
        } else {
            print(publicFile)
            print(privateFile)
            for line in ds { print(line) }
            print(dnskey)
        }
    }

    /// Numbers or BIND's mnemonics. Anything else is a usage error naming the algorithm, so
    /// a mistyped `--algorithm 8` exits 2 without touching the directory.
    static func parseAlgorithm(_ text: String) throws -> DNSSECAlgorithm {
        for candidate in DNSSECAlgorithm.allCases
        where text == String(candidate.rawValue) || text.uppercased() == candidate.description {
            return candidate
        }
        throw ValidationError("algorithm \(text) is not supported; use 13 (ECDSAP256SHA256) or 15 (ED25519)")
    }

    /// Prints the errors (as JSON with `--json`) and exits 1.
    private func fail(_ lines: [String]) -> Never {
        if global.json {
            print("{\"ok\":false,\"zone\":\(jsonString(zone)),\"errors\":[\(lines.map(jsonString).joined(separator: ","))]}")
        } else {
            for line in lines { printError(line) }
        }
        Self.exit(withError: ExitCode(1))
    }
}
