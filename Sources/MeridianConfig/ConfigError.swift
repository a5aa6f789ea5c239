/// One problem in a configuration file, printed as `FILE:LINE:COL: KEYPATH: message`
/// (for example `meridian.yaml:14:17: edges.fra1.location: latitude 95 outside -90...90`).
/// Line and column count from 1; they are 0 when the problem concerns the whole file
/// (it cannot be read), and the key path is empty for YAML syntax errors.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// Dotted path to the offending value, with list indexes: `geoip.overrides[0].network`.
    public var keyPath: String
    public var message: String

    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var text = file
        if line > 0 { text += ":\(line):\(column)" }
        if !keyPath.isEmpty { text += ": \(keyPath)" }
        return text + ": " + message
    }
}

/// Every problem found in a configuration file, in file order. Loading never stops at the
/// first problem, so an operator can fix them all in one go.
public struct ConfigErrors: Error, Hashable, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) { self.errors = errors }

    /// One error per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
