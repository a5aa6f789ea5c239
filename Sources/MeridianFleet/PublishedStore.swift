import Foundation
import MeridianFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A node's copy of publications, in `fleet.published_directory`: `REVISION/meridian.yaml`,
/// `REVISION/zones/FILE`, and `current`, the revision served. The copy is what a restarted
/// node serves before it reaches etcd.
public struct PublishedStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public static let configName = "meridian.yaml"

    /// The directory of `revision`'s files.
    public func path(of revision: Int64) -> String { FileSystem.join(directory, String(revision)) }

    /// The revision served last, when its files are there.
    public func current() -> Int64? {
        guard case .success(let text) = FileSystem.readText(FileSystem.join(directory, "current")),
              let revision = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              FileSystem.isDirectory(path(of: revision)) else { return nil }
        return revision
    }

    /// Writes `publication` as `revision` (replacing a leftover copy); returns its directory.
    public func write(_ publication: Publication, revision: Int64) throws(PublishedStoreError) -> String {
        let manager = FileManager.default
        let final = path(of: revision)
        let temporary = FileSystem.join(directory, ".\(revision).tmp")
        do {
            try? manager.removeItem(atPath: temporary)
            try manager.createDirectory(atPath: FileSystem.join(temporary, "zones"), withIntermediateDirectories: true)
            try Data(publication.config).write(to: URL(fileURLWithPath: FileSystem.join(temporary, Self.configName)))
            for (name, bytes) in publication.zoneFiles {
                guard !name.contains("/"), name != "..", name != "." else {
                    throw PublishedStoreError(message: "\(name): not a file name")
                }
                try Data(bytes).write(to: URL(fileURLWithPath: FileSystem.join(FileSystem.join(temporary, "zones"), name)))
            }
            try? manager.removeItem(atPath: final)
            try manager.moveItem(atPath: temporary, toPath: final)
        } catch let error as PublishedStoreError {
            try? manager.removeItem(atPath: temporary)
            throw error
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw PublishedStoreError(message: "\(directory): cannot write the publication: \(error.localizedDescription)")
        }
        return final
    }

    /// Records `revision` as served and removes every other copy.
    public func markCurrent(_ revision: Int64) throws(PublishedStoreError) {
        let current = FileSystem.join(directory, "current")
        let temporary = FileSystem.join(directory, ".current.tmp")
        do {
            try Data("\(revision)\n".utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw PublishedStoreError(message: "\(temporary): cannot write: \(error.localizedDescription)")
        }
        // rename(2) replaces the old file atomically: a crash leaves one revision or the other.
        guard rename(temporary, current) == 0 else {
            throw PublishedStoreError(message: "\(current): cannot replace: \(String(cString: strerror(errno)))")
        }
        discard(except: revision)
    }

    /// Removes the copies of every revision but `kept`.
    public func discard(except kept: Int64?) {
        guard case .success(let names) = FileSystem.list(directory: directory) else { return }
        for name in names where Int64(name) != nil && Int64(name) != kept {
            try? FileManager.default.removeItem(atPath: FileSystem.join(directory, name))
        }
    }
}

public struct PublishedStoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
