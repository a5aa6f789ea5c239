import Foundation
import MeridianFiles
import MeridianFleet

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `health.state_file`: the edges an operator drained, kept across restarts as
/// `{"drained":["fra1","sin1"]}` (names sorted). A fleet node also caches the fleet's drains
/// there (`"fleet_drains":{"fra1":{"by":…,"at":…,"reason":…}}`), so that it starts drained
/// as the fleet is even when etcd cannot be reached. Written atomically: the new content goes
/// to a temporary file in the same directory, is flushed to disk, and is renamed over the
/// old file, so a crash leaves either the old or the new state, never half of one.
public struct AdminStateFile: Sendable, Equatable {
    public let path: String

    public init(path: String) { self.path = path }

    private struct Contents: Codable {
        var drained: [String]
        var fleetDrains: [String: FleetDrain]?

        enum CodingKeys: String, CodingKey {
            case drained
            case fleetDrains = "fleet_drains"
        }
    }

    /// The edge names drained on this node alone.
    public func load() throws(StateFileError) -> Set<String> {
        try loadAll().local
    }

    /// The drains of this node and the fleet's drains it last knew. A missing file means
    /// nothing is drained; an unreadable or malformed file is an error that says where.
    public func loadAll() throws(StateFileError) -> (local: Set<String>, fleet: [String: FleetDrain]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            return ([], [:])
        } catch {
            if !FileManager.default.fileExists(atPath: path) { return ([], [:]) }
            throw StateFileError(file: path, line: 0, message: "cannot read: \(Self.describe(error))")
        }
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: data)
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw StateFileError(file: path, line: Self.syntaxErrorLine(data), message: "not valid JSON")
        } catch {
            throw StateFileError(
                file: path, line: 1,
                message: "expected {\"drained\": [\"EDGE\", ...]}, a list of edge names")
        }
        if let bad = contents.drained.first(where: { $0.isEmpty || $0.contains(where: \.isNewline) }) {
            throw StateFileError(file: path, line: 1, message: "\"\(bad)\" is not an edge name")
        }
        return (Set(contents.drained), contents.fleetDrains ?? [:])
    }

    /// Replaces the file with `drained` (and the fleet's drains, when there are any),
    /// atomically; creates its directory when missing.
    public func save(_ drained: Set<String>, fleet: [String: FleetDrain] = [:]) throws(StateFileError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard var data = try? encoder.encode(Contents(drained: drained.sorted(), fleetDrains: fleet.isEmpty ? nil : fleet)) else {
            throw StateFileError(file: path, line: 0, message: "cannot encode the admin state")
        }
        data.append(0x0A)
        let file = URL(fileURLWithPath: path)
        let directory = file.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StateFileError(file: path, line: 0, message: "cannot create directory \(directory): \(Self.describe(error))")
        }
        let temporary = "\(directory)/\(temporaryPrefix)\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary)") }
        let written = data.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let count = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
        let synced = written && fsync(descriptor) == 0
        let error = failure("cannot write \(temporary)")
        close(descriptor)
        guard synced else {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot rename \(temporary) to \(path)")
            unlink(temporary)
            throw error
        }
        // Make the rename itself durable; failure here loses nothing already on disk.
        let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Temporary files are `.NAME.PID.tmp` beside the state file.
    private var temporaryPrefix: String {
        ".\(FileSystem.lastComponent(of: path))."
    }

    /// Removes temporary files that writers killed before their rename left behind, unless
    /// their process still runs. Returns the paths removed.
    public func removeStaleTemporaryFiles() -> [String] {
        let directory = FileSystem.directory(of: path)
        guard case .success(let names) = FileSystem.list(directory: directory) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(temporaryPrefix) && name.hasSuffix(".tmp") {
            let pid = name.dropFirst(temporaryPrefix.count).dropLast(".tmp".count)
            guard let writer = Int32(pid), writer > 0, kill(writer, 0) != 0, errno == ESRCH else { continue }
            let stale = FileSystem.join(directory, name)
            if unlink(stale) == 0 { removed.append(stale) }
        }
        return removed
    }

    private func failure(_ what: String) -> StateFileError {
        StateFileError(file: path, line: 0, message: "\(what): \(String(cString: strerror(errno)))")
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? CocoaError, let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return error.localizedDescription
    }

    /// The line of a JSON syntax error. The decoder does not say where; the serialization
    /// parser says "around character N", which is turned into a line here. 1 when unknown.
    private static func syntaxErrorLine(_ data: Data) -> Int {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let text = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? ""
            guard let range = text.range(of: "character ") else { return 1 }
            guard let offset = Int(text[range.upperBound...].prefix(while: \.isNumber)) else { return 1 }
            return 1 + data.prefix(offset).count(where: { $0 == 0x0A })
        }
        return 1
    }
}

/// A problem with the admin state file; line 0 when the problem is not in the content
/// (permissions, disk).
public typealias StateFileError = FileLineError
