import Foundation

/// Where a fleet keeps things in etcd, under its prefix `P`:
///
/// | key | value | lease |
/// | --- | --- | --- |
/// | `P/drains/EDGE` | ``FleetDrain`` | none: an operator's drain outlives every node |
/// | `P/health/NODE/EDGE` | ``FleetVerdict``, the node's own | the node's |
/// | `P/nodes/NODE` | ``FleetNodeRecord`` | the node's |
/// | `P/data/manifest`, `P/data/config`, `P/data/zones/FILE` | a publication | none |
public struct FleetKeys: Sendable, Equatable {
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix.hasSuffix("/") ? prefix : prefix + "/" }

    public var drains: String { prefix + "drains/" }
    public var health: String { prefix + "health/" }
    public var nodes: String { prefix + "nodes/" }
    public var data: String { prefix + "data/" }
    public var manifest: String { data + "manifest" }
    public var config: String { data + "config" }
    public var zones: String { data + "zones/" }

    public func drain(_ edge: String) -> String { drains + edge }
    public func verdict(node: String, edge: String) -> String { health + node + "/" + edge }
    public func node(_ name: String) -> String { nodes + name }
    public func zone(_ file: String) -> String { zones + file }

    /// What a key under the prefix is.
    public enum Kind: Equatable, Sendable {
        case drain(edge: String)
        case verdict(node: String, edge: String)
        case node(String)
        case data
        case other
    }

    public func kind(of key: String) -> Kind {
        guard key.hasPrefix(prefix) else { return .other }
        if key.hasPrefix(drains) { return .drain(edge: String(key.dropFirst(drains.count))) }
        if key.hasPrefix(nodes) { return .node(String(key.dropFirst(nodes.count))) }
        if key.hasPrefix(data) { return .data }
        if key.hasPrefix(health) {
            let parts = key.dropFirst(health.count).split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { return .other }
            return .verdict(node: String(parts[0]), edge: String(parts[1]))
        }
        return .other
    }
}

/// A fleet-wide drain: who, when (seconds since 1970), why.
public struct FleetDrain: Codable, Sendable, Equatable {
    public var by: String
    public var at: Double
    public var reason: String?

    public init(by: String, at: Double, reason: String?) {
        self.by = by
        self.at = at
        self.reason = reason
    }
}

/// One node's own verdict on one edge.
public struct FleetVerdict: Codable, Sendable, Equatable {
    public var down: Bool
    public var reason: String?
    public var at: Double

    public init(down: Bool, reason: String?, at: Double) {
        self.down = down
        self.reason = reason
        self.at = at
    }
}

/// A node as the others see it; refreshed at every keep-alive, gone with its lease.
public struct FleetNodeRecord: Codable, Sendable, Equatable {
    public var node: String
    public var version: String
    public var lastSeen: Double
    /// `local` or `published`.
    public var data: String
    /// The publication the node serves; `nil` when it serves its own data or none arrived.
    public var revision: Int64?
    /// Why the node did not apply the newest publication, if it did not.
    public var rejected: String?
    public var rejectedRevision: Int64?
    public var edgesDown: [String]

    public init(node: String, version: String, lastSeen: Double, data: String, revision: Int64?, rejected: String?,
                rejectedRevision: Int64?, edgesDown: [String]) {
        self.node = node
        self.version = version
        self.lastSeen = lastSeen
        self.data = data
        self.revision = revision
        self.rejected = rejected
        self.rejectedRevision = rejectedRevision
        self.edgesDown = edgesDown
    }

    enum CodingKeys: String, CodingKey {
        case node, version, data, revision, rejected
        case lastSeen = "last_seen"
        case rejectedRevision = "rejected_revision"
        case edgesDown = "edges_down"
    }
}

/// What a publication holds besides its files.
public struct PublicationManifest: Codable, Sendable, Equatable {
    public var by: String
    public var at: Double
    /// The config file's name as published (for messages).
    public var configFile: String
    /// The zone files, by name; each is `P/data/zones/NAME`.
    public var zoneFiles: [String]

    public init(by: String, at: Double, configFile: String, zoneFiles: [String]) {
        self.by = by
        self.at = at
        self.configFile = configFile
        self.zoneFiles = zoneFiles
    }

    enum CodingKeys: String, CodingKey {
        case by, at
        case configFile = "config_file"
        case zoneFiles = "zone_files"
    }
}

/// JSON in and out of etcd values.
public enum FleetJSON {
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(value))) ?? []
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, _ bytes: [UInt8]) -> Value? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }
}
