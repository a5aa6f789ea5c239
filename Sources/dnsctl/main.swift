import ArgumentParser
import MeridianFiles
#if canImport(Glibc)
import Glibc
#endif

/// INTERFACE.md puts the global options before the command (`dnsctl --json status`);
/// ArgumentParser reads them on the subcommand, so they are moved behind its name.
func reorderedArguments(_ arguments: [String]) -> [String] {
    var globals: [String] = []
    var rest = arguments[...]
    while let first = rest.first, first.hasPrefix("-"), first != "--help", first != "-h", first != "--version" {
        rest = rest.dropFirst()
        globals.append(first)
        if (first == "--config" || first == "--socket"), let value = rest.first {
            globals.append(value)
            rest = rest.dropFirst()
        }
    }
    guard let command = rest.first else { return globals + rest }
    var result = [command]
    rest = rest.dropFirst()
    // `geoip build` style commands have a second word.
    if let next = rest.first, !next.hasPrefix("-"), command == "geoip" {
        result.append(next)
        rest = rest.dropFirst()
    }
    return result + globals + rest
}

/// Parses and runs one command. A usage mistake (unknown command or option, missing or
/// malformed argument) prints the message with the usage line and exits 2, as INTERFACE.md
/// promises; ArgumentParser's own code for it would be 64 (EX_USAGE), which scripts written
/// against the 0/1/2 convention would not expect.
func runDnsctl(_ arguments: [String]) -> Never {
    do {
        var command = try Dnsctl.parseAsRoot(arguments)
        try command.run()
        Dnsctl.exit()
    } catch {
        if Dnsctl.exitCode(for: error) == .validationFailure {
            printError(Dnsctl.fullMessage(for: error))
            exit(2)
        }
        Dnsctl.exit(withError: error)
    }
}

runDnsctl(reorderedArguments(Array(CommandLine.arguments.dropFirst())))
