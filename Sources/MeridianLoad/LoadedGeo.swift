import MeridianConfig
import MeridianFiles
import MeridianGeoIP
import MeridianRouting

/// An open GeoIP database and the file state it was read from. The compiled trie is not
/// kept: routing folds it into the pools' tries, and a reload that changes routing compiles
/// it again from the open file.
public struct LoadedGeo: Sendable {
    public var path: String
    public var database: GeoDatabase
    public var summary: GeoDatabaseSummary
    public var seconds: Double
    var file: FileState

    /// Opens and compiles the file.
    static func load(path: String) throws(LoadFailure) -> (LoadedGeo, GeoTrie) {
        let file = try state(of: path)
        let start = ContinuousClock.now
        do {
            let database = try GeoDatabase(path: path)
            let (trie, summary) = try database.compile()
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return (LoadedGeo(path: path, database: database, summary: summary, seconds: seconds, file: file), trie)
        } catch {
            throw LoadFailure(lines: [error.description])
        }
    }

    /// Whether `path` is still the file this was read from.
    func isCurrent(path: String) throws(LoadFailure) -> Bool {
        let current = try Self.state(of: path)
        return path == self.path && current == file
    }

    func compile() throws(LoadFailure) -> GeoTrie {
        do {
            return try database.compile().trie
        } catch {
            throw LoadFailure(lines: [error.description])
        }
    }

    private static func state(of path: String) throws(LoadFailure) -> FileState {
        switch FileSystem.state(path) {
        case .success(let state): return state
        case .failure(let error): throw LoadFailure(lines: ["\(path):0: cannot read GeoIP database: \(error)"])
        }
    }

    /// The database must carry what the pools route by.
    func checkFields(for configuration: MeridianConfiguration) throws(LoadFailure) {
        let pools = configuration.orderedPools
        if pools.contains(where: { $0.policy == .nearest }) && summary.withCoordinates == 0 {
            throw LoadFailure(lines: ["\(path):0: no record has location.latitude/longitude (a Country database?); pools with policy nearest need a City database"])
        }
        if pools.contains(where: { $0.policy == .map }) && summary.withCountry == 0 {
            throw LoadFailure(lines: ["\(path):0: no record has country.iso_code or continent.code; pools with policy map need them"])
        }
    }
}
