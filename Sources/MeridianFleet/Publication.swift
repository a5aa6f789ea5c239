import MeridianConfig
import MeridianFiles

/// A publication: a config file and the files of its zones directory, as `dnsctl publish`
/// writes them to etcd and as a node keeps the one it serves, in
/// `fleet.published_directory/REVISION/` (`meridian.yaml` and `zones/`), with `current`
/// naming the revision served.
public struct Publication: Sendable, Equatable {
    public var manifest: PublicationManifest
    public var config: [UInt8]
    /// Zone directory files by name.
    public var zoneFiles: [String: [UInt8]]

    public init(manifest: PublicationManifest, config: [UInt8], zoneFiles: [String: [UInt8]]) {
        self.manifest = manifest
        self.config = config
        self.zoneFiles = zoneFiles
    }

    /// The config at `configPath` and every file of the zones directory it names (files
    /// `$INCLUDE`d from inside it come along; subdirectories do not).
    public static func gather(configPath: String, configuration: MeridianConfiguration, by: String, at: Double) throws(FileSystemError) -> Publication {
        let config = try FileSystem.read(configPath).get()
        let directory = configuration.zones.directory
        var files: [String: [UInt8]] = [:]
        for name in try FileSystem.list(directory: directory).get() where !name.hasPrefix(".") {
            let path = FileSystem.join(directory, name)
            guard !FileSystem.isDirectory(path) else { continue }
            files[name] = try FileSystem.read(path).get()
        }
        return Publication(manifest: PublicationManifest(by: by, at: at, configFile: configPath, zoneFiles: files.keys.sorted()),
                           config: config, zoneFiles: files)
    }

    /// The writes of one transaction that replaces whatever publication `existingKeys` (every
    /// key under `keys.data`) held with this one.
    public func transaction(keys: FleetKeys, existingKeys: [String]) -> EtcdTransaction {
        var transaction = EtcdTransaction()
        transaction.puts.append((keys.config, config))
        for name in manifest.zoneFiles { transaction.puts.append((keys.zone(name), zoneFiles[name] ?? [])) }
        transaction.puts.append((keys.manifest, FleetJSON.encode(manifest)))
        let written = Set(transaction.puts.map(\.key))
        transaction.deletes = existingKeys.filter { !written.contains($0) }.sorted()
        return transaction
    }

    /// The publication in `pairs` (every key under `keys.data` at one revision); `nil`
    /// without a manifest, or when a file it lists is missing.
    public init?(pairs: [KeyValue], keys: FleetKeys) {
        let byKey = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let manifestBytes = byKey[keys.manifest], let manifest = FleetJSON.decode(PublicationManifest.self, manifestBytes),
              let config = byKey[keys.config] else { return nil }
        var files: [String: [UInt8]] = [:]
        for name in manifest.zoneFiles {
            guard let bytes = byKey[keys.zone(name)] else { return nil }
            files[name] = bytes
        }
        self.init(manifest: manifest, config: config, zoneFiles: files)
    }
}
