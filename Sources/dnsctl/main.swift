import ArgumentParser

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

Dnsctl.main(reorderedArguments(Array(CommandLine.arguments.dropFirst())))
