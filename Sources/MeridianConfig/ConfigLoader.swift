import MeridianFiles
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension MeridianConfiguration {
    /// Reads and validates a configuration file. Throws every problem found, each with the
    /// file, line, column and key path. Relative paths in it are taken from `pathsRelativeTo`,
    /// by default the file's own directory.
    public static func load(path: String, pathsRelativeTo base: String? = nil) throws(ConfigErrors) -> MeridianConfiguration {
        let text: String
        do throws(ValueError) {
            text = try readUTF8File(path)
        } catch {
            throw ConfigErrors([ConfigError(file: path, line: 0, column: 0, keyPath: "", message: error.message)])
        }
        return try parse(yaml: text, file: path, pathsRelativeTo: base)
    }

    /// The configuration at `path` as far as it could be read, with every problem found; for
    /// `dnsctl check`, which goes on to check the zones and database of a file with mistakes.
    /// The configuration is `nil` when the file cannot be read or is not YAML.
    public static func readReportingProblems(path: String) -> (configuration: MeridianConfiguration?, problems: [ConfigError]) {
        let text: String
        do throws(ValueError) {
            text = try readUTF8File(path)
        } catch {
            return (nil, [ConfigError(file: path, line: 0, column: 0, keyPath: "", message: error.message)])
        }
        var reader = ConfigReader(file: path)
        let configuration = reader.read(text)
        return (configuration, reader.errorsInFileOrder)
    }

    /// Validates configuration text; `file` names it in errors and becomes ``sourceFile``,
    /// and relative paths are taken from its directory unless `pathsRelativeTo` says otherwise.
    public static func parse(yaml: String, file: String, pathsRelativeTo base: String? = nil) throws(ConfigErrors) -> MeridianConfiguration {
        var reader = ConfigReader(file: file, baseDirectory: base)
        let configuration = reader.read(yaml)
        guard let configuration, reader.errors.isEmpty else { throw ConfigErrors(reader.errorsInFileOrder) }
        return configuration
    }

    /// `control.socket` as the file at `path` sets it, whether or not the rest of the file
    /// is valid: `dnsctl reload` must reach the server to have it report the file's mistakes.
    /// Relative to the file's directory, as ``load(path:)`` reads it; the default socket when
    /// the file is not YAML or does not set it. Throws only when the file cannot be read.
    public static func controlSocket(inFile path: String) throws(FileSystemError) -> String {
        let reader = ConfigReader(file: path)
        return reader.resolved(controlSocket(inYAML: try FileSystem.readText(path).get()) ?? ControlSettings.defaultSocket)
    }

    /// `control.socket` as `yaml` sets it; see ``controlSocket(inFile:)``.
    public static func controlSocket(inYAML yaml: String) -> String? {
        var reader = ConfigReader(file: "")
        return reader.readWrittenSocketPath(yaml)
    }
}

/// The file's text. Reasons are in `strerror`'s words (`cannot open: No such file or
/// directory`), the form `dnsctl check` and the server's log print them in.
private func readUTF8File(_ path: String) throws(ValueError) -> String {
    let bytes: [UInt8]
    switch FileSystem.read(path) {
    case .success(let contents):
        bytes = contents
    case .failure(let error):
        // A directory opens, and then fails to read.
        let step = error.code == EISDIR ? "read" : "open"
        throw ValueError("cannot \(step): \(String(cString: strerror(error.code)))")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else { throw ValueError("the file is not UTF-8 text") }
    return text
}

// MARK: - Reading YAML nodes

/// One `key: value` pair of a mapping, with the key's node for positions.
private struct Entry {
    let name: String
    let key: Node
    let value: Node
}

/// The pairs of one mapping whose keys were all known.
private struct Fields {
    var entries: [Entry] = []

    /// The entry for `name`, or `nil` when it is absent or its value is null (`key:` alone).
    subscript(name: String) -> Entry? {
        entries.first { $0.name == name && !$0.value.isNull }
    }
}

extension Node {
    fileprivate var isNull: Bool {
        guard case .scalar(let scalar) = self, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    fileprivate var kindName: String {
        switch self {
        case .scalar: "text"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// A plain (unquoted) scalar's text: numbers and booleans must be written plain.
    fileprivate var plainText: String? {
        guard case .scalar(let scalar) = self, scalar.style == .plain || scalar.style == .any else { return nil }
        return scalar.string
    }
}

private func child(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }
private func item(_ path: String, _ index: Int) -> String { path + "[\(index)]" }

/// Walks the YAML tree once, building the configuration and collecting every error. A value
/// that fails leaves its default in place; the result is only used when no error was found.
private struct ConfigReader {
    let file: String
    private(set) var errors: [ConfigError] = []
    /// Edge names as written, for references from pools and overrides.
    private var edgeNames: [String] = []

    /// Where relative paths start.
    private let baseDirectory: String

    init(file: String, baseDirectory: String? = nil) {
        self.file = file
        self.baseDirectory = baseDirectory ?? FileSystem.directory(of: file)
    }

    /// A path from the file, relative to the file's directory unless absolute (as nginx,
    /// Knot and Prometheus read theirs), so the server and `dnsctl` find the same files from
    /// any working directory. A file named without a directory leaves paths as written.
    func resolved(_ path: String) -> String {
        path.hasPrefix("/") || path.isEmpty ? path : FileSystem.join(baseDirectory, path)
    }

    var errorsInFileOrder: [ConfigError] {
        errors.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }

    mutating func fail(_ message: String, at node: Node?, _ path: String) {
        fail(message, at: node?.mark, path)
    }

    mutating func fail(_ message: String, at mark: Mark?, _ path: String) {
        fail(message, line: mark?.line ?? 0, column: mark?.column ?? 0, path)
    }

    mutating func fail(_ message: String, line: Int, column: Int, _ path: String) {
        errors.append(ConfigError(file: file, line: line, column: column, keyPath: path, message: message))
    }

    // MARK: Document

    static let topKeys = ["dns", "stats", "control", "zones", "geoip", "health", "cookies", "rrl", "edges", "pools", "fleet", "dnssec", "log"]

    mutating func read(_ yaml: String) -> MeridianConfiguration? {
        guard let top = topLevelFields(yaml) else { return nil }
        // Edges first: pools and overrides refer to them.
        let edges = readEdges(top["edges"])
        let dns = readDNS(top["dns"])
        var configuration = MeridianConfiguration(
            dns: dns,
            stats: readStats(top["stats"], dnsListen: dns.listen),
            control: ControlSettings(socket: readSocketPath(top["control"])),
            zones: readZones(top["zones"]),
            geoip: readGeoIP(top["geoip"]),
            health: HealthSettings(
                stateFile: resolved(readPath(top["health"], section: "health", key: "state_file") ?? HealthSettings.defaultStateFile)),
            cookies: readCookies(top["cookies"]),
            edges: edges,
            pools: readPools(top["pools"]),
            rrl: readRRL(top["rrl"]),
            fleet: readFleet(top["fleet"]),
            dnssec: readDNSSEC(top["dnssec"]),
            log: readLog(top["log"])
        )
        configuration.sourceFile = file
        return configuration
    }

    /// The fields of the document's top-level mapping; `nil` (with the error recorded) when
    /// the text is not YAML or not a mapping.
    mutating func topLevelFields(_ yaml: String) -> Fields? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml, .basic, .default, .utf8)
        } catch {
            report(yamlError: error)
            return nil
        }
        return mapping(root, "", keys: Self.topKeys)
    }

    mutating func report(yamlError error: any Error) {
        guard let error = error as? YamlError else {
            fail("cannot read YAML: \(error)", at: Mark?.none, "")
            return
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context {
                message += " (\(context.text) at \(context.mark.line):\(context.mark.column))"
            }
            fail(message, at: mark, "")
        case .reader(let problem, let offset, _, let yaml):
            var line = 1, column = 1
            for character in yaml.prefix(offset ?? 0) {
                if character.isNewline { line += 1; column = 1 } else { column += 1 }
            }
            fail("cannot read the text: \(problem)", line: offset == nil ? 0 : line, column: offset == nil ? 0 : column, "")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the first occurrence; the one to look at is usually the later one.
            let first = context.mark
            if duplicates.count == 1, let again = Self.repetition(of: duplicates[0], after: first, in: context.text) {
                fail("duplicate key \"\(duplicates[0])\" (first written at \(first.line):\(first.column))",
                     line: again.line, column: again.column, "")
            } else {
                let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
                fail("duplicate key \(keys) in this mapping", at: first, "")
            }
        default:
            fail("cannot read YAML: \(error)", at: Mark?.none, "")
        }
    }

    /// Where a block-mapping key written at `mark` is written again in the same mapping:
    /// the next line indented like it that starts with the same key, before the mapping ends.
    static func repetition(of key: String, after mark: Mark, in yaml: String) -> (line: Int, column: Int)? {
        let indent = mark.column - 1
        for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where index + 1 > mark.line {
            let spaces = line.prefix { $0 == " " }.count
            let rest = line.dropFirst(spaces)
            if rest.isEmpty || rest.first == "#" { continue }
            if spaces < indent { return nil }
            guard spaces == indent, rest.hasPrefix(key) else { continue }
            if rest.dropFirst(key.count).drop(while: { $0 == " " }).first == ":" { return (index + 1, mark.column) }
        }
        return nil
    }

    // MARK: Sections

    mutating func readDNS(_ entry: Entry?) -> DNSSettings {
        var settings = DNSSettings()
        let path = "dns"
        guard let fields = mapping(entry?.value, path, keys: ["listen", "udp_payload", "tcp_idle_timeout", "tcp_max_connections",
                                                              "tcp_max_connections_per_client"])
        else { return settings }
        if let listen = fields["listen"] {
            settings.listen = listenList(listen.value, child(path, "listen"))
        }
        if let payload = fields["udp_payload"] {
            settings.udpPayload = integer(payload.value, child(path, "udp_payload"), in: DNSSettings.udpPayloadRange) ?? 0
        }
        if let timeout = fields["tcp_idle_timeout"] {
            settings.tcpIdleTimeout = duration(timeout.value, child(path, "tcp_idle_timeout")) ?? .zero
        }
        if let connections = fields["tcp_max_connections"] {
            settings.tcpMaxConnections = integer(connections.value, child(path, "tcp_max_connections"), in: 1...Int.max) ?? 0
        }
        if let perClient = fields["tcp_max_connections_per_client"] {
            settings.tcpMaxConnectionsPerClient = integer(perClient.value, child(path, "tcp_max_connections_per_client"),
                                                          in: 1...Int.max) ?? 0
        }
        return settings
    }

    mutating func listenList(_ node: Node, _ path: String) -> [ListenAddress] {
        // A single address may be written on its own rather than as a one-item list.
        let items: [(Node, String)]
        switch node {
        case .sequence(let sequence):
            items = sequence.enumerated().map { ($1, item(path, $0)) }
            if items.isEmpty { fail("needs at least one address", at: node, path) }
        default:
            items = [(node, path)]
        }
        var result: [ListenAddress] = []
        for (itemNode, itemPath) in items {
            guard let address = listenAddress(itemNode, itemPath) else { continue }
            if result.contains(address) {
                fail("\(address) is listed twice", at: itemNode, itemPath)
            }
            result.append(address)
        }
        return result
    }

    mutating func listenAddress(_ node: Node, _ path: String) -> ListenAddress? {
        guard let text = text(node, path) else { return nil }
        do throws(AddressSyntaxError) {
            return try ListenAddress(parsing: text)
        } catch {
            fail(error.message, at: node, path)
            return nil
        }
    }

    mutating func readStats(_ entry: Entry?, dnsListen: [ListenAddress]) -> StatsSettings? {
        guard let fields = mapping(entry?.value, "stats", keys: ["listen"]), let listen = fields["listen"],
              let address = listenAddress(listen.value, "stats.listen") else { return nil }
        // Both serve TCP: one of the two would fail to bind.
        if dnsListen.contains(address) {
            fail("\(address) is also a dns.listen address", at: listen.value, "stats.listen")
        }
        return StatsSettings(listen: address)
    }

    mutating func readSocketPath(_ entry: Entry?) -> String {
        let (written, node) = readPathAndNode(entry, section: "control", key: "socket")
        let socket = resolved(written ?? ControlSettings.defaultSocket)
        checkSocketPathLength(socket, at: node, "control.socket")
        return socket
    }

    /// Fails a socket path longer than every platform's `sockaddr_un.sun_path` holds (108
    /// bytes on Linux and 104 on macOS, with the final NUL).
    mutating func checkSocketPathLength(_ socket: String, at node: Node?, _ path: String) {
        if socket.utf8.count > 103 {
            fail("the path is \(socket.utf8.count) bytes long; a Unix socket path may have at most 103", at: node, path)
        }
    }

    /// `control.socket` read as ``read(_:)`` reads it, ignoring every other section.
    mutating func readWrittenSocketPath(_ yaml: String) -> String? {
        guard let top = topLevelFields(yaml) else { return nil }
        return readPathAndNode(top["control"], section: "control", key: "socket").path
    }

    /// A section holding one path, as written; `nil` when the file does not set it.
    mutating func readPath(_ entry: Entry?, section: String, key: String) -> String? {
        readPathAndNode(entry, section: section, key: key).path
    }

    mutating func readPathAndNode(_ entry: Entry?, section: String, key: String) -> (path: String?, node: Node?) {
        guard let fields = mapping(entry?.value, section, keys: [key]), let value = fields[key] else { return (nil, nil) }
        return (nonEmptyText(value.value, child(section, key)), value.value)
    }

    mutating func readZones(_ entry: Entry?) -> ZonesSettings {
        var settings = ZonesSettings()
        guard let fields = mapping(entry?.value, "zones", keys: ["directory", "serial_check"]) else { return settings }
        if let directory = fields["directory"] {
            settings.directory = nonEmptyText(directory.value, "zones.directory") ?? settings.directory
        }
        settings.directory = resolved(settings.directory)
        if let check = fields["serial_check"] {
            settings.serialCheck = choice(check.value, "zones.serial_check", what: "serial_check value") ?? settings.serialCheck
        }
        return settings
    }

    mutating func readCookies(_ entry: Entry?) -> CookieSettings {
        var settings = CookieSettings()
        let path = "cookies"
        guard let fields = mapping(entry?.value, path, keys: ["enabled", "secret_file", "previous_secret_file"]) else { return settings }
        if let enabled = fields["enabled"] {
            settings.enabled = bool(enabled.value, child(path, "enabled")) ?? true
        }
        if let file = fields["secret_file"] {
            (settings.secretFile, settings.secret) = cookieSecret(file.value, child(path, "secret_file"), read: settings.enabled)
        }
        if let file = fields["previous_secret_file"] {
            if fields["secret_file"] == nil {
                fail("previous_secret_file needs a secret_file: the previous secret only verifies, new cookies take the current one",
                     at: file.key, path)
            }
            (settings.previousSecretFile, settings.previousSecret) = cookieSecret(file.value, child(path, "previous_secret_file"),
                                                                                  read: settings.enabled)
        }
        return settings
    }

    /// The path a secret-file key names and, when `read`, the secret in it. A file that
    /// cannot be read is reported at the key; a mistake inside it at its own line.
    mutating func cookieSecret(_ node: Node, _ keyPath: String, read: Bool) -> (path: String?, secret: CookieSecret?) {
        guard let path = nonEmptyText(node, keyPath).map(resolved) else { return (nil, nil) }
        guard read else { return (path, nil) }
        let text: String
        do throws(ValueError) {
            text = try readUTF8File(path)
        } catch {
            fail("\(path): \(error.message)", at: node, keyPath)
            return (path, nil)
        }
        do throws(CookieSecretText.Failure) {
            return (path, try CookieSecretText.parse(text))
        } catch {
            errors.append(ConfigError(file: path, line: error.line, column: error.column, keyPath: keyPath, message: error.message))
            return (path, nil)
        }
    }

    mutating func readGeoIP(_ entry: Entry?) -> GeoIPSettings? {
        let path = "geoip"
        guard let entry, !entry.value.isNull,
              let fields = mapping(entry.value, path, keys: ["database", "client_subnet", "overrides"]) else { return nil }
        var settings = GeoIPSettings(database: "")
        if let database = fields["database"] {
            settings.database = resolved(nonEmptyText(database.value, child(path, "database")) ?? "")
        } else {
            fail("missing required key \"database\" (the MaxMind DB file)", at: entry.key, path)
        }
        if let subnet = fields["client_subnet"] {
            settings.clientSubnet = bool(subnet.value, child(path, "client_subnet")) ?? true
        }
        if let overrides = fields["overrides"] {
            settings.overrides = readOverrides(overrides.value, child(path, "overrides"))
        }
        return settings
    }

    mutating func readOverrides(_ node: Node, _ path: String) -> [GeoIPSettings.Override] {
        guard let items = list(node, path) else { return [] }
        var result: [GeoIPSettings.Override] = []
        var seen: [IPNetwork: Int] = [:]
        for (index, itemNode) in items.enumerated() {
            let itemPath = item(path, index)
            guard let fields = mapping(itemNode, itemPath, keys: ["network", "location", "edges"]) else { continue }
            var network: IPNetwork?
            if let entry = fields["network"] {
                if let parsed = self.network(entry.value, child(itemPath, "network")) {
                    if let line = seen[parsed] {
                        fail("\(parsed) is already overridden on line \(line)", at: entry.value, child(itemPath, "network"))
                    } else {
                        seen[parsed] = entry.value.mark?.line ?? 0
                    }
                    network = parsed
                }
            } else {
                fail("missing required key \"network\"", at: itemNode, itemPath)
            }
            var target: GeoIPSettings.Override.Target?
            switch (fields["location"], fields["edges"]) {
            case (let location?, nil):
                target = self.location(location.value, child(itemPath, "location")).map { .location($0) }
            case (nil, let edges?):
                target = edgeList(edges.value, child(itemPath, "edges"), within: nil).map { .edges($0) }
            case (_?, let edges?):
                fail("give either location or edges, not both", at: edges.key, itemPath)
            case (nil, nil):
                fail("an override needs a location or edges", at: itemNode, itemPath)
            }
            if let network, let target { result.append(.init(network: network, target: target)) }
        }
        return result
    }

    // MARK: Response rate limiting

    static let rrlKeys = ["rate", "slip", "ipv4_prefix", "ipv6_prefix", "exempt"]

    mutating func readRRL(_ entry: Entry?) -> RRLSettings {
        var settings = RRLSettings()
        let path = "rrl"
        guard let fields = mapping(entry?.value, path, keys: Self.rrlKeys) else { return settings }
        if let rate = fields["rate"] {
            settings.rate = integer(rate.value, child(path, "rate"), in: RRLSettings.rateRange) ?? settings.rate
        }
        if let slip = fields["slip"] {
            settings.slip = integer(slip.value, child(path, "slip"), in: RRLSettings.slipRange) ?? settings.slip
        }
        if let prefix = fields["ipv4_prefix"] {
            settings.ipv4Prefix = integer(prefix.value, child(path, "ipv4_prefix"), in: 0...32) ?? settings.ipv4Prefix
        }
        if let prefix = fields["ipv6_prefix"] {
            settings.ipv6Prefix = integer(prefix.value, child(path, "ipv6_prefix"), in: 0...128) ?? settings.ipv6Prefix
        }
        if let exempt = fields["exempt"], let items = list(exempt.value, child(path, "exempt")) {
            for (index, itemNode) in items.enumerated() {
                let itemPath = item(child(path, "exempt"), index)
                guard let network = network(itemNode, itemPath) else { continue }
                if settings.exempt.contains(network) {
                    fail("\(network) is listed twice", at: itemNode, itemPath)
                }
                settings.exempt.append(network)
            }
        }
        return settings
    }

    mutating func readLog(_ entry: Entry?) -> LogSettings {
        var settings = LogSettings()
        guard let entry, !entry.value.isNull, let fields = mapping(entry.value, "log", keys: ["level", "format", "dnstap"]) else {
            return settings
        }
        if let level = fields["level"] {
            settings.level = choice(level.value, "log.level", what: "log level") ?? settings.level
        }
        if let format = fields["format"] {
            settings.format = choice(format.value, "log.format", what: "log format") ?? settings.format
        }
        if let dnstap = fields["dnstap"], !dnstap.value.isNull {
            settings.dnstap = readDnstap(dnstap)
        }
        return settings
    }

    mutating func readDnstap(_ entry: Entry) -> DnstapSettings? {
        let path = "log.dnstap"
        guard let fields = mapping(entry.value, path, keys: ["file", "socket", "queries", "responses", "sample", "identity"]) else {
            return nil
        }
        let file = fields["file"].flatMap { nonEmptyText($0.value, child(path, "file")) }.map(resolved)
        let socket = fields["socket"].flatMap { nonEmptyText($0.value, child(path, "socket")) }.map(resolved)
        let destination: DnstapSettings.Destination
        switch (file, socket) {
        case (let file?, nil):
            destination = .file(file)
        case (nil, let socket?):
            checkSocketPathLength(socket, at: fields["socket"]?.value, child(path, "socket"))
            destination = .socket(socket)
        case (.some, .some):
            fail("give either file or socket, not both", at: entry.key, path)
            return nil
        case (nil, nil):
            if fields["file"] == nil && fields["socket"] == nil { fail("needs file or socket: where the log goes", at: entry.key, path) }
            return nil
        }
        var settings = DnstapSettings(destination: destination, sourceLine: (entry.key.mark?.line ?? 0))
        if let queries = fields["queries"] { settings.queries = bool(queries.value, child(path, "queries")) ?? settings.queries }
        if let responses = fields["responses"] { settings.responses = bool(responses.value, child(path, "responses")) ?? settings.responses }
        if let sample = fields["sample"] { settings.sample = fraction(sample.value, child(path, "sample"), allowZero: false) ?? settings.sample }
        if let identity = fields["identity"] { settings.identity = text(identity.value, child(path, "identity")) }
        if !settings.queries && !settings.responses {
            fail("queries and responses are both false: nothing would be logged (remove log.dnstap instead)", at: entry.key, path)
        }
        return settings
    }

    mutating func readDNSSEC(_ entry: Entry?) -> DNSSECSettings? {
        let path = "dnssec"
        guard let entry, !entry.value.isNull,
              let fields = mapping(entry.value, path, keys: ["keys_directory", "signature_validity", "signature_refresh"]) else { return nil }
        var settings = DNSSECSettings(keysDirectory: "keys")
        if let directory = fields["keys_directory"] {
            settings.keysDirectory = nonEmptyText(directory.value, child(path, "keys_directory")) ?? settings.keysDirectory
        }
        settings.keysDirectory = resolved(settings.keysDirectory)
        if let validity = fields["signature_validity"], let value = duration(validity.value, child(path, "signature_validity")) {
            if value < .seconds(3 * 3600) {
                fail("must be at least 3h (signatures start an hour early and are made again before they end)", at: validity.value,
                     child(path, "signature_validity"))
            } else {
                settings.signatureValidity = value
            }
        }
        if let refresh = fields["signature_refresh"], let value = duration(refresh.value, child(path, "signature_refresh")) {
            settings.signatureRefresh = value
            if value >= settings.signatureValidity {
                fail("must be shorter than signature_validity (\(settings.signatureValidity.components.seconds)s): signatures "
                     + "are made again before they expire", at: refresh.value, child(path, "signature_refresh"))
            }
        } else if settings.signatureRefresh >= settings.signatureValidity {
            settings.signatureRefresh = settings.signatureValidity / 2
        }
        return settings
    }

    static let fleetKeys = ["node", "etcd", "prefix", "health_quorum", "lease_ttl", "data", "tls", "published_directory"]

    mutating func readFleet(_ entry: Entry?) -> FleetSettings? {
        let path = "fleet"
        guard let entry, !entry.value.isNull, let fields = mapping(entry.value, path, keys: Self.fleetKeys) else { return nil }
        var settings = FleetSettings(node: "", endpoints: [])
        if let node = fields["node"], let name = nonEmptyText(node.value, child(path, "node")) {
            // It becomes part of etcd keys and of the probes' User-Agent.
            if name.contains(where: { !($0.isLetter || $0.isNumber || "-_.".contains($0)) || !$0.isASCII }) {
                fail("\"\(name)\" may hold only ASCII letters, digits, -, _ and .", at: node.value, child(path, "node"))
            }
            settings.node = name
        } else if fields["node"] == nil {
            fail("missing key \"node\" (this node's name, unique in the fleet)", at: entry.value, path)
        }
        if let etcd = fields["etcd"], let items = list(etcd.value, child(path, "etcd")) {
            for (index, itemNode) in items.enumerated() {
                let itemPath = item(child(path, "etcd"), index)
                guard let url = nonEmptyText(itemNode, itemPath) else { continue }
                guard HTTPCheckTarget(url: url) != nil else {
                    fail("\"\(url)\" is not an http:// or https:// URL of an etcd member", at: itemNode, itemPath)
                    continue
                }
                settings.endpoints.append(url.hasSuffix("/") ? String(url.dropLast()) : url)
            }
            if items.isEmpty { fail("must list at least one etcd endpoint", at: etcd.value, child(path, "etcd")) }
        } else if fields["etcd"] == nil {
            fail("missing key \"etcd\" (the client URLs of the etcd cluster)", at: entry.value, path)
        }
        if let prefix = fields["prefix"], var text = nonEmptyText(prefix.value, child(path, "prefix")) {
            if !text.hasSuffix("/") { text += "/" }
            settings.prefix = text
        }
        if let quorum = fields["health_quorum"], let text = text(quorum.value, child(path, "health_quorum")) {
            if let value = HealthQuorum(text) {
                settings.healthQuorum = value
            } else {
                fail("expected majority, any, all or a fraction in (0, 1], not \"\(text)\"", at: quorum.value,
                     child(path, "health_quorum"))
            }
        }
        if let ttl = fields["lease_ttl"], let value = duration(ttl.value, child(path, "lease_ttl")) {
            // etcd grants leases in whole seconds.
            if value < .seconds(1) || value > .seconds(3600) {
                fail("must be between 1s and 1h", at: ttl.value, child(path, "lease_ttl"))
            } else {
                settings.leaseTTL = value
            }
        }
        if let data = fields["data"] {
            settings.data = choice(data.value, child(path, "data"), what: "data source") ?? settings.data
        }
        if let directory = fields["published_directory"] {
            settings.publishedDirectory = nonEmptyText(directory.value, child(path, "published_directory"))
                ?? settings.publishedDirectory
        }
        settings.publishedDirectory = resolved(settings.publishedDirectory)
        if let tls = fields["tls"], let tlsFields = mapping(tls.value, child(path, "tls"), keys: ["ca", "cert", "key"]) {
            var value = FleetSettings.TLS()
            let tlsPath = child(path, "tls")
            if let ca = tlsFields["ca"] { value.ca = nonEmptyText(ca.value, child(tlsPath, "ca")).map(resolved) }
            if let cert = tlsFields["cert"] { value.cert = nonEmptyText(cert.value, child(tlsPath, "cert")).map(resolved) }
            if let key = tlsFields["key"] { value.key = nonEmptyText(key.value, child(tlsPath, "key")).map(resolved) }
            if (value.cert == nil) != (value.key == nil) {
                fail("cert and key go together", at: tls.value, tlsPath)
            }
            settings.tls = value
        }
        return settings
    }

    /// The items of a section of named items (`edges`, `pools`), each name checked and each
    /// value read as a mapping of `keys`; an item whose value is not a mapping is reported
    /// and left out.
    mutating func namedItems(_ section: Fields, section name: String, kind: String, keys: [String])
        -> [(entry: Entry, path: String, fields: Fields)] {
        var items: [(entry: Entry, path: String, fields: Fields)] = []
        for entry in section.entries {
            let path = child(name, entry.name)
            identifier(entry.name, kind: kind, at: entry.key, name)
            guard let fields = mapping(entry.value, path, keys: keys) else { continue }
            items.append((entry, path, fields))
        }
        return items
    }

    // MARK: Edges

    static let edgeKeys = ["location", "addresses", "cname", "check", "load"]

    mutating func readEdges(_ entry: Entry?) -> [Edge] {
        guard let fields = mapping(entry?.value, "edges", keys: nil) else { return [] }
        edgeNames = fields.entries.map(\.name)
        var edges: [Edge] = []
        for (edgeEntry, path, edgeFields) in namedItems(fields, section: "edges", kind: "edge", keys: Self.edgeKeys) {
            let name = edgeEntry.name
            var edge = Edge(name: name, location: Location(latitude: 0, longitude: 0), addresses: [])
            if let location = edgeFields["location"] {
                edge.location = self.location(location.value, child(path, "location")) ?? edge.location
            } else {
                fail("missing required key \"location\" ([latitude, longitude])", at: edgeEntry.key, path)
            }
            if let addresses = edgeFields["addresses"] {
                edge.addresses = addressList(addresses.value, child(path, "addresses"))
            }
            if let cname = edgeFields["cname"], let text = text(cname.value, child(path, "cname")) {
                do throws(ValueError) {
                    try NameText.checkHostName(text, absolute: true)
                    edge.cname = text
                } catch {
                    fail("\"\(text)\" \(error.message)", at: cname.value, child(path, "cname"))
                }
            }
            if edgeFields["addresses"] == nil, edgeFields["cname"] == nil {
                fail("an edge needs addresses (for DYNA), a cname (for DYNC), or both", at: edgeEntry.key, path)
            }
            if let check = edgeFields["check"] {
                edge.check = readCheck(check, child(path, "check"))
            }
            if let load = edgeFields["load"] {
                edge.load = readLoadFeed(load, child(path, "load"))
            }
            edges.append(edge)
        }
        return edges
    }

    mutating func addressList(_ node: Node, _ path: String) -> [IPAddress] {
        guard let items = list(node, path) else { return [] }
        var result: [IPAddress] = []
        for (index, itemNode) in items.enumerated() {
            let itemPath = item(path, index)
            guard let text = text(itemNode, itemPath) else { continue }
            do throws(AddressSyntaxError) {
                let address = try IPAddress(parsing: text)
                if result.contains(address) { fail("\(address) is listed twice", at: itemNode, itemPath) }
                result.append(address)
            } catch {
                fail(error.message, at: itemNode, itemPath)
            }
        }
        return result
    }

    static let checkKeys = ["http", "tcp", "expect_status", "expect_body", "host", "tls_verify", "interval", "timeout", "rise", "fall"]

    static let loadKeys = ["metrics", "interval", "timeout", "stale_after", "max_step", "signals"]
    static let signalKeys = ["metric", "low", "high", "labels"]

    mutating func readLoadFeed(_ entry: Entry, _ path: String) -> LoadFeed? {
        guard let fields = mapping(entry.value, path, keys: Self.loadKeys) else { return nil }
        var feed = LoadFeed(metrics: "")
        if let metrics = fields["metrics"] {
            if let url = text(metrics.value, child(path, "metrics")) {
                do throws(ValueError) {
                    _ = try HTTPCheckTarget(parsing: url)
                    feed.metrics = url
                } catch {
                    fail(error.message, at: metrics.value, child(path, "metrics"))
                }
            }
        } else {
            fail("missing required key \"metrics\" (the URL of the edge's Prometheus metrics)", at: entry.key, path)
        }
        if let interval = fields["interval"] { feed.interval = duration(interval.value, child(path, "interval")) ?? feed.interval }
        if let timeout = fields["timeout"] { feed.timeout = duration(timeout.value, child(path, "timeout")) ?? feed.timeout }
        if feed.timeout >= feed.interval {
            fail("timeout \(DurationText.format(feed.timeout)) must be shorter than interval \(DurationText.format(feed.interval))",
                 at: fields["timeout"]?.value ?? fields["interval"]?.value ?? entry.key, path)
        }
        if let stale = fields["stale_after"] {
            feed.staleAfter = integer(stale.value, child(path, "stale_after"), in: 1...1_000) ?? feed.staleAfter
        }
        if let step = fields["max_step"] {
            feed.maxStep = fraction(step.value, child(path, "max_step"), allowZero: false) ?? feed.maxStep
        }
        if let signals = fields["signals"], let items = list(signals.value, child(path, "signals")) {
            if items.isEmpty { fail("needs at least one signal", at: signals.value, child(path, "signals")) }
            feed.signals = items.enumerated().compactMap { index, node in readSignal(node, item(child(path, "signals"), index)) }
        } else if fields["signals"] == nil {
            fail("missing required key \"signals\" (the gauges that say how loaded the edge is)", at: entry.key, path)
        }
        return feed
    }

    mutating func readSignal(_ node: Node, _ path: String) -> LoadFeed.Signal? {
        guard let fields = mapping(node, path, keys: Self.signalKeys) else { return nil }
        var signal = LoadFeed.Signal(metric: "", low: 0, high: 1)
        var complete = true
        if let metric = fields["metric"], let name = nonEmptyText(metric.value, child(path, "metric")) {
            signal.metric = name
        } else {
            if fields["metric"] == nil { fail("missing required key \"metric\"", at: node, path) }
            complete = false
        }
        for key in ["low", "high"] {
            guard let field = fields[key] else {
                fail("missing required key \"\(key)\"", at: node, path)
                complete = false
                continue
            }
            guard let value = field.value.plainText.flatMap(NumberText.decimal) else {
                fail("expected a number", at: field.value, child(path, key))
                complete = false
                continue
            }
            if key == "low" { signal.low = value } else { signal.high = value }
        }
        if complete && signal.high <= signal.low {
            fail("high \(signal.high) must be above low \(signal.low)", at: fields["high"]?.value ?? node, child(path, "high"))
        }
        if let labels = fields["labels"], let pairs = mapping(labels.value, child(path, "labels"), keys: nil) {
            for pair in pairs.entries {
                guard let value = text(pair.value, child(child(path, "labels"), pair.name)) else { continue }
                signal.labels[pair.name] = value
            }
        }
        return complete ? signal : nil
    }

    /// A number from 0 (or just above, without `allowZero`) to 1.
    mutating func fraction(_ node: Node, _ path: String, allowZero: Bool) -> Double? {
        guard let value = node.plainText.flatMap(NumberText.decimal) else {
            fail("expected a number from 0 to 1", at: node, path)
            return nil
        }
        guard value <= 1, allowZero ? value >= 0 : value > 0 else {
            fail("\(value) is outside \(allowZero ? "0" : "(0")...1\(allowZero ? "" : "]")", at: node, path)
            return nil
        }
        return value
    }

    mutating func readCheck(_ entry: Entry, _ path: String) -> HealthCheck? {
        guard let fields = mapping(entry.value, path, keys: Self.checkKeys) else { return nil }
        var check = HealthCheck(kind: .tcp(host: "", port: 0))
        let target = readCheckTarget(fields, entry, path, into: &check)
        readCheckOptions(fields, path, target, into: &check)
        readCheckTiming(fields, entry, path, into: &check)
        return check
    }

    /// Which of `http` and `tcp` a check was given, for the options that apply to one only.
    struct CheckTarget {
        var isHTTP = false
        var isTCP = false
        /// Whether the http URL is https; `nil` when it does not parse.
        var isTLS: Bool?
    }

    mutating func readCheckTarget(_ fields: Fields, _ entry: Entry, _ path: String, into check: inout HealthCheck) -> CheckTarget {
        var target = CheckTarget()
        switch (fields["http"], fields["tcp"]) {
        case (let http?, nil):
            target.isHTTP = true
            if let url = text(http.value, child(path, "http")) {
                do throws(ValueError) {
                    let parsed = try HTTPCheckTarget(parsing: url)
                    target.isTLS = parsed.isTLS
                    check.kind = parsed.isTLS ? .https(url: url) : .http(url: url)
                } catch {
                    fail(error.message, at: http.value, child(path, "http"))
                }
            }
        case (nil, let tcp?):
            target.isTCP = true
            if let text = text(tcp.value, child(path, "tcp")) {
                do throws(ValueError) {
                    let (host, port) = try HostPort.split(Substring(text), defaultPort: nil, context: text)
                    check.kind = .tcp(host: host, port: port)
                } catch {
                    fail(error.message, at: tcp.value, child(path, "tcp"))
                }
            }
        case (_?, let tcp?):
            fail("a check is either http or tcp, not both", at: tcp.key, path)
        case (nil, nil):
            fail("a check needs http: URL or tcp: \"HOST:PORT\"", at: entry.key, path)
        }
        return target
    }

    mutating func readCheckOptions(_ fields: Fields, _ path: String, _ target: CheckTarget, into check: inout HealthCheck) {
        // Options that mean nothing for this kind of check are errors, not silently ignored.
        for key in ["expect_status", "expect_body", "host"] where target.isTCP {
            if let misplaced = fields[key] { fail("\(key) applies only to http checks", at: misplaced.key, path) }
        }
        if let verify = fields["tls_verify"] {
            if target.isTCP || target.isTLS == false {
                fail("tls_verify applies only to https:// URLs", at: verify.key, path)
            }
            check.tlsVerify = bool(verify.value, child(path, "tls_verify")) ?? true
        }
        guard target.isHTTP else { return }
        if let status = fields["expect_status"] {
            check.expectStatus = statusList(status.value, child(path, "expect_status"))
        }
        if let body = fields["expect_body"] {
            check.expectBody = nonEmptyText(body.value, child(path, "expect_body"))
        }
        if let host = fields["host"], let text = nonEmptyText(host.value, child(path, "host")) {
            if text.utf8.allSatisfy({ (33...126).contains($0) }) {
                check.host = text
            } else {
                fail("\"\(text)\" cannot be a Host header: use visible ASCII characters and no spaces", at: host.value, child(path, "host"))
            }
        }
    }

    mutating func readCheckTiming(_ fields: Fields, _ entry: Entry, _ path: String, into check: inout HealthCheck) {
        // Compare interval and timeout only when both are known (written correctly, or defaults).
        let intervalNode = fields["interval"]?.value, timeoutNode = fields["timeout"]?.value
        var timingIsValid = true
        if let intervalNode {
            if let value = duration(intervalNode, child(path, "interval")) { check.interval = value } else { timingIsValid = false }
        }
        if let timeoutNode {
            if let value = duration(timeoutNode, child(path, "timeout")) { check.timeout = value } else { timingIsValid = false }
        }
        if timingIsValid, check.timeout >= check.interval {
            let (node, key) = timeoutNode.map { ($0, "timeout") } ?? (intervalNode ?? entry.key, "interval")
            fail("timeout \(DurationText.format(check.timeout)) must be shorter than interval \(DurationText.format(check.interval))",
                 at: node, child(path, key))
        }
        if let rise = fields["rise"] {
            check.rise = integer(rise.value, child(path, "rise"), in: HealthCheck.thresholdRange) ?? check.rise
        }
        if let fall = fields["fall"] {
            check.fall = integer(fall.value, child(path, "fall"), in: HealthCheck.thresholdRange) ?? check.fall
        }
    }

    mutating func statusList(_ node: Node, _ path: String) -> [Int] {
        let items: [(Node, String)]
        if case .sequence(let sequence) = node {
            items = sequence.enumerated().map { ($1, item(path, $0)) }
            if items.isEmpty { fail("needs at least one status code", at: node, path) }
        } else {
            items = [(node, path)]
        }
        return items.compactMap { integer($0.0, $0.1, in: 100...599) }
    }

    // MARK: Pools

    static let poolKeys = ["edges", "policy", "answers", "fallback", "when_all_down", "map", "shed_prefix", "load_ttl"]

    mutating func readPools(_ entry: Entry?) -> [Pool] {
        guard let fields = mapping(entry?.value, "pools", keys: nil) else { return [] }
        var pools: [Pool] = []
        for (poolEntry, path, poolFields) in namedItems(fields, section: "pools", kind: "pool", keys: Self.poolKeys) {
            let name = poolEntry.name
            var pool = Pool(name: name, edges: [], policy: .nearest)

            var members: [String]?
            if let edges = poolFields["edges"] {
                members = edgeList(edges.value, child(path, "edges"), within: nil)
                pool.edges = members ?? []
            } else {
                fail("missing required key \"edges\"", at: poolEntry.key, path)
            }
            let memberSet = members.map(Set.init)

            var policy: Pool.Policy?
            if let policyEntry = poolFields["policy"] {
                policy = choice(policyEntry.value, child(path, "policy"), what: "policy")
                pool.policy = policy ?? .nearest
            } else {
                fail("missing required key \"policy\" (nearest or map)", at: poolEntry.key, path)
            }

            if let answers = poolFields["answers"] {
                let answersPath = child(path, "answers")
                if let count = integer(answers.value, answersPath, in: 1...Int.max) {
                    pool.answers = count
                    if let members, count > members.count {
                        fail("answers \(count) is more than the \(members.count) edges of this pool", at: answers.value, answersPath)
                    }
                }
            }

            if let fallback = poolFields["fallback"] {
                pool.fallback = readFallback(fallback.value, child(path, "fallback"), within: memberSet)
            }
            if let whenAllDown = poolFields["when_all_down"] {
                pool.whenAllDown = choice(whenAllDown.value, child(path, "when_all_down"), what: "when_all_down value") ?? .all
            }
            if let shedPrefix = poolFields["shed_prefix"],
               let prefixes = mapping(shedPrefix.value, child(path, "shed_prefix"), keys: ["ipv4", "ipv6"]) {
                if let ipv4 = prefixes["ipv4"] {
                    pool.shedPrefixIPv4 = integer(ipv4.value, child(child(path, "shed_prefix"), "ipv4"), in: 0...32) ?? pool.shedPrefixIPv4
                }
                if let ipv6 = prefixes["ipv6"] {
                    pool.shedPrefixIPv6 = integer(ipv6.value, child(child(path, "shed_prefix"), "ipv6"), in: 0...128) ?? pool.shedPrefixIPv6
                }
            }
            if let loadTTL = poolFields["load_ttl"] {
                pool.loadTTL = integer(loadTTL.value, child(path, "load_ttl"), in: 0...2_147_483_647).map(UInt32.init)
            }

            switch (policy, poolFields["map"]) {
            case (.map, let map?):
                let entries = readMap(map.value, child(path, "map"), within: memberSet)
                pool.map = Dictionary(entries.map { ($0.key, $0.edges) }, uniquingKeysWith: { first, _ in first })
                pool.mapOrder = entries.map(\.key)
            case (.map, nil):
                fail("policy map needs a map (region codes to edges)", at: poolFields["policy"]?.value, child(path, "policy"))
            case (.nearest, let map?):
                fail("map is only used with policy: map", at: map.key, path)
            default:
                break
            }
            pools.append(pool)
        }
        return pools
    }

    mutating func readFallback(_ node: Node, _ path: String, within members: Set<String>?) -> Pool.Fallback? {
        guard let items = list(node, path) else { return nil }
        let numeric = items.filter { $0.plainText.flatMap(NumberText.decimal) != nil }
        if !numeric.isEmpty {
            if items.count == 2, numeric.count == 2 {
                return location(node, path).map { .location($0) }
            }
            fail("expected [latitude, longitude] or a list of edge names", at: node, path)
            return nil
        }
        return edgeList(node, path, within: members).map { .edges($0) }
    }

    mutating func readMap(_ node: Node, _ path: String, within members: Set<String>?) -> [(key: String, edges: [String])] {
        guard let fields = mapping(node, path, keys: nil) else { return [] }
        if fields.entries.isEmpty { fail("needs at least one region", at: node, path) }
        var result: [(key: String, edges: [String])] = []
        for entry in fields.entries {
            do throws(ValueError) {
                try RegionCode.check(entry.name)
            } catch {
                fail(error.message, at: entry.key, path)
            }
            if entry.value.isNull {
                fail("needs a list of edges", at: entry.value, child(path, entry.name))
                continue
            }
            if let edges = edgeList(entry.value, child(path, entry.name), within: members) {
                result.append((entry.name, edges))
            }
        }
        return result
    }

    /// A non-empty list of distinct, defined edge names; with `members`, each must also be one of them.
    mutating func edgeList(_ node: Node, _ path: String, within members: Set<String>?) -> [String]? {
        guard let items = list(node, path) else { return nil }
        if items.isEmpty {
            fail("needs at least one edge", at: node, path)
            return nil
        }
        var result: [String] = []
        var failed = false
        for (index, itemNode) in items.enumerated() {
            let itemPath = item(path, index)
            guard let name = text(itemNode, itemPath) else { failed = true; continue }
            if !edgeNames.contains(name) {
                let known = edgeNames.isEmpty ? " (no edges are defined)" : " (edges: \(edgeNames.joined(separator: ", ")))"
                let hint = Suggestion.closest(to: name, in: edgeNames).map { "; did you mean \"\($0)\"?" } ?? known
                fail("unknown edge \"\(name)\"" + hint, at: itemNode, itemPath)
                failed = true
            } else if let members, !members.contains(name) {
                fail("edge \"\(name)\" is not in this pool's edges", at: itemNode, itemPath)
                failed = true
            } else if result.contains(name) {
                fail("edge \"\(name)\" is listed twice", at: itemNode, itemPath)
                failed = true
            }
            result.append(name)
        }
        return failed ? nil : result
    }

    // MARK: Values

    /// The fields of a mapping, reporting unknown keys (with a suggestion) when `keys` is given.
    /// A missing or null node reads as an empty mapping; `nil` when the node is not a mapping.
    mutating func mapping(_ node: Node?, _ path: String, keys: [String]?) -> Fields? {
        guard let node, !node.isNull else { return Fields() }
        guard case .mapping(let mapping) = node else {
            fail("expected a mapping (key: value lines), not \(node.kindName)", at: node, path)
            return nil
        }
        var fields = Fields()
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode, !keyNode.isNull else {
                fail("keys must be text, not \(keyNode.isNull ? "empty" : keyNode.kindName)", at: keyNode, path)
                continue
            }
            let name = scalar.string
            if let keys, !keys.contains(name) {
                let hint = Suggestion.closest(to: name, in: keys).map { "; did you mean \"\($0)\"?" }
                    ?? " (expected \(keys.joined(separator: ", ")))"
                fail("unknown key \"\(name)\"" + hint, at: keyNode, path)
                continue
            }
            fields.entries.append(Entry(name: name, key: keyNode, value: value))
        }
        return fields
    }

    mutating func list(_ node: Node, _ path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            fail("expected a list, not \(node.kindName)", at: node, path)
            return nil
        }
        return Array(sequence)
    }

    mutating func text(_ node: Node, _ path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            fail("expected text, not \(node.kindName)", at: node, path)
            return nil
        }
        return scalar.string
    }

    mutating func nonEmptyText(_ node: Node, _ path: String) -> String? {
        guard let text = text(node, path) else { return nil }
        if text.isEmpty || text.allSatisfy(\.isWhitespace) {
            fail("must not be empty", at: node, path)
            return nil
        }
        return text
    }

    mutating func integer(_ node: Node, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node else {
            fail("expected a whole number, not \(node.kindName)", at: node, path)
            return nil
        }
        guard let text = node.plainText else {
            fail("expected a whole number, not the quoted text \"\(scalar.string)\"", at: node, path)
            return nil
        }
        guard let value = NumberText.integer(text) else {
            fail("expected a whole number, not \"\(text)\"", at: node, path)
            return nil
        }
        guard range.contains(value) else {
            fail(range.upperBound == Int.max ? "must be at least \(range.lowerBound), not \(value)"
                     : "\(value) is outside \(range.lowerBound)...\(range.upperBound)",
                 at: node, path)
            return nil
        }
        return value
    }

    /// `ADDRESS/LENGTH` with no host bits set.
    mutating func network(_ node: Node, _ path: String) -> IPNetwork? {
        guard let text = text(node, path) else { return nil }
        do throws(AddressSyntaxError) {
            return try IPNetwork(parsing: text)
        } catch {
            fail(error.message, at: node, path)
            return nil
        }
    }

    mutating func bool(_ node: Node, _ path: String) -> Bool? {
        switch node.plainText {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            fail("expected true or false, not \(node.scalar.map { "\"\($0.string)\"" } ?? node.kindName)", at: node, path)
            return nil
        }
    }

    mutating func duration(_ node: Node, _ path: String) -> Duration? {
        guard let text = text(node, path) else { return nil }
        do throws(ValueError) {
            let value = try DurationText.parse(text)
            guard value > .zero else {
                fail("must be longer than 0", at: node, path)
                return nil
            }
            return value
        } catch {
            fail(error.message, at: node, path)
            return nil
        }
    }

    mutating func choice<Value: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, what: String) -> Value?
    where Value.RawValue == String {
        guard let text = text(node, path) else { return nil }
        if let value = Value(rawValue: text) { return value }
        let names = Value.allCases.map(\.rawValue)
        let hint = Suggestion.closest(to: text, in: names).map { "; did you mean \"\($0)\"?" }
            ?? " (expected \(names.joined(separator: " or ")))"
        fail("unknown \(what) \"\(text)\"" + hint, at: node, path)
        return nil
    }

    /// `[latitude, longitude]` in degrees.
    mutating func location(_ node: Node, _ path: String) -> Location? {
        guard case .sequence(let sequence) = node, sequence.count == 2 else {
            fail("expected [latitude, longitude]", at: node, path)
            return nil
        }
        // Both are checked, so that one run reports a mistake in each.
        let latitude = coordinate(sequence[sequence.startIndex], "latitude", within: 90, path)
        let longitude = coordinate(sequence[sequence.startIndex + 1], "longitude", within: 180, path)
        guard let latitude, let longitude else { return nil }
        return Location(latitude: latitude, longitude: longitude)
    }

    /// A latitude or longitude in degrees, from `-limit` to `limit`.
    mutating func coordinate(_ node: Node, _ name: String, within limit: Int, _ path: String) -> Double? {
        guard let text = node.plainText, let value = NumberText.decimal(text) else {
            fail("\(name) must be a number, not \(node.scalar.map { "\"\($0.string)\"" } ?? node.kindName)", at: node, path)
            return nil
        }
        guard (-Double(limit)...Double(limit)).contains(value) else {
            fail("\(name) \(text) outside -\(limit)...\(limit)", at: node, path)
            return nil
        }
        return value
    }

    mutating func identifier(_ name: String, kind: String, at node: Node, _ path: String) {
        do throws(ValueError) {
            try NameText.checkIdentifier(name, kind: kind)
        } catch {
            fail(error.message, at: node, path)
        }
    }
}
