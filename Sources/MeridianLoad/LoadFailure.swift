import MeridianZoneFile

/// Why the server could not start or a reload was refused; each line is `FILE:LINE[:COL]: message`.
public struct LoadFailure: Error, CustomStringConvertible, Sendable {
    public var lines: [String]

    public init(lines: [String]) {
        self.lines = lines
    }

    public init(_ errors: ZoneFileErrors) {
        lines = errors.errors.map(\.description)
    }

    public var description: String { lines.joined(separator: "\n") }
}
