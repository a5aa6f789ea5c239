/// One request on the control socket: a JSON object on one line whose `command` member
/// names the operation, with that operation's arguments beside it:
///
/// ```json
/// {"command":"status"}
/// {"command":"drain","edge":"fra1"}
/// {"command":"explain","name":"api.inference.example.","client":"81.2.69.142","prefix":24,"type":"AAAA"}
/// ```
public enum ControlRequest: Sendable, Hashable {
    /// Re-read configuration, zones and the GeoIP database; swap them in if all are valid.
    case reload
    /// Version, uptime, zones, query rate, last reload.
    case status
    /// One row per edge: health, admin state, last check, answers.
    case edges
    /// Treat the edge as down whatever its checks say, until undrained (persisted). In a
    /// fleet, fleet-wide unless `options.local`.
    case drain(edge: String, options: DrainOptions = .init())
    /// Lift a drain.
    case undrain(edge: String, options: DrainOptions = .init())
    /// The routing decision for a client. `prefix` makes the client an ECS subnet
    /// (`CLIENT/PREFIX`); `type` is a query type mnemonic (`A`, `AAAA`, …), `nil` for the
    /// server's default.
    case explain(name: String, client: String, prefix: Int? = nil, type: String? = nil)
    /// Every counter the stats port exports.
    case stats
    /// The fleet as this node sees it.
    case fleet

    /// The `command` member of the JSON form.
    public var command: String {
        switch self {
        case .reload: "reload"
        case .status: "status"
        case .edges: "edges"
        case .drain: "drain"
        case .undrain: "undrain"
        case .explain: "explain"
        case .stats: "stats"
        case .fleet: "fleet"
        }
    }

    /// Every command name, for error messages.
    public static let commands = ["reload", "status", "edges", "drain", "undrain", "explain", "stats", "fleet"]
}

extension ControlRequest: Codable {
    private enum CodingKeys: String, CodingKey {
        case command, edge, name, client, prefix, type, reason, local, by
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let command = try container.decode(String.self, forKey: .command)
        func required(_ key: CodingKeys) throws -> String {
            guard let value = try container.decodeIfPresent(String.self, forKey: key), !value.isEmpty else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: [key], debugDescription: "\"\(command)\" needs a non-empty \"\(key.rawValue)\" string"))
            }
            return value
        }
        switch command {
        case "reload": self = .reload
        case "status": self = .status
        case "edges": self = .edges
        case "stats": self = .stats
        case "fleet": self = .fleet
        case "drain", "undrain":
            let options = DrainOptions(reason: try container.decodeIfPresent(String.self, forKey: .reason),
                                       local: try container.decodeIfPresent(Bool.self, forKey: .local) ?? false,
                                       by: try container.decodeIfPresent(String.self, forKey: .by))
            self = command == "drain" ? .drain(edge: try required(.edge), options: options)
                : .undrain(edge: try required(.edge), options: options)
        case "explain":
            self = .explain(name: try required(.name), client: try required(.client),
                            prefix: try container.decodeIfPresent(Int.self, forKey: .prefix),
                            type: try container.decodeIfPresent(String.self, forKey: .type))
        default:
            throw DecodingError.dataCorrupted(.init(
                codingPath: [CodingKeys.command],
                debugDescription: "unknown command \"\(command)\" (known: \(Self.commands.joined(separator: ", ")))"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        switch self {
        case .reload, .status, .edges, .stats, .fleet: break
        case .drain(let edge, let options), .undrain(let edge, let options):
            try container.encode(edge, forKey: .edge)
            try container.encodeIfPresent(options.reason, forKey: .reason)
            if options.local { try container.encode(true, forKey: .local) }
            try container.encodeIfPresent(options.by, forKey: .by)
        case .explain(let name, let client, let prefix, let type):
            try container.encode(name, forKey: .name)
            try container.encode(client, forKey: .client)
            try container.encodeIfPresent(prefix, forKey: .prefix)
            try container.encodeIfPresent(type, forKey: .type)
        }
    }
}

/// How a drain or undrain is made.
public struct DrainOptions: Sendable, Hashable {
    /// Why, for the record (`dnsctl drain --reason`).
    public var reason: String?
    /// This node alone, even in a fleet (`--local`).
    public var local: Bool
    /// Who asks (`USER@HOST` of dnsctl); the server's own name when absent.
    public var by: String?

    public init(reason: String? = nil, local: Bool = false, by: String? = nil) {
        self.reason = reason
        self.local = local
        self.by = by
    }
}
