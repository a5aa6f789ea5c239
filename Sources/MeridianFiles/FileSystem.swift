#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every file access Meridian makes outside the sockets: whole-file reads, directory
/// listings, file state and path resolution. Plain libc, so the modules that read
/// operators' files (zones, configuration, CSV) stay free of Foundation.
public enum FileSystem {
    /// Reads a whole file, or returns a short reason (`no such file or directory`).
    public static func read(_ path: String) -> Result<[UInt8], FileSystemError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileSystemError(code: errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(FileSystemError(code: errno)) }
        if (info.st_mode & S_IFMT) == S_IFDIR { return .failure(FileSystemError(code: EISDIR)) }
        var bytes: [UInt8] = []
        var capacity = max(Int(info.st_size), 0) + 1
        var count = 0
        while true {
            if count == bytes.count {
                bytes.append(contentsOf: repeatElement(0, count: max(capacity - bytes.count, 65_536)))
                capacity = bytes.count
            }
            let got = bytes.withUnsafeMutableBytes { raw in
                systemRead(fd, raw.baseAddress! + count, raw.count - count)
            }
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(FileSystemError(code: errno))
            }
            if got == 0 { break }
            count += got
        }
        bytes.removeSubrange(count...)
        return .success(bytes)
    }

    /// Reads a whole file as text (UTF-8; invalid bytes are replaced).
    public static func readText(_ path: String) -> Result<String, FileSystemError> {
        read(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The names in a directory (without `.` and `..`), sorted bytewise.
    public static func list(directory path: String) -> Result<[String], FileSystemError> {
        guard let directory = opendir(path) else { return .failure(FileSystemError(code: errno)) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return .success(names)
    }

    /// Size and modification time in nanoseconds: enough to tell whether a file was replaced
    /// or rewritten since it was last read.
    public static func state(_ path: String) -> Result<FileState, FileSystemError> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(FileSystemError(code: errno)) }
        return .success(FileState(size: Int(info.st_size),
                                  modified: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)))
    }

    /// A file's permission bits (`0o640`), following symbolic links.
    public static func permissions(_ path: String) -> Result<UInt32, FileSystemError> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(FileSystemError(code: errno)) }
        return .success(UInt32(info.st_mode) & 0o7777)
    }

    /// The canonical absolute path with symbolic links resolved, or nil when it does not exist.
    public static func realPath(_ path: String) -> String? {
        try? resolve(path).get()
    }

    /// `realpath(3)`, with the reason when it fails.
    public static func resolve(_ path: String) -> Result<String, FileSystemError> {
        guard let resolved = realpath(path, nil) else { return .failure(FileSystemError(code: errno)) }
        defer { free(resolved) }
        return .success(String(cString: resolved))
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// `a/b/c.zone` → `a/b`; `c.zone` → `.`; `/c.zone` → `/`.
    public static func directory(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == 0 { return "/" }
        return String(decoding: bytes[..<slash], as: UTF8.self)
    }

    /// `a/b/c.json` → `c.json`.
    public static func lastComponent(of path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }

    /// Joins a directory and a relative path for display and opening.
    public static func join(_ directory: String, _ path: String) -> String {
        if directory == "." { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// Normalizes `.` and `..` components without touching the file system. Returns nil when
    /// a `..` would climb above the start of a relative path.
    public static func lexicallyNormalized(_ path: String) -> String? {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if parts.isEmpty {
                    if absolute { continue }
                    return nil
                }
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        return (absolute ? "/" : "") + parts.joined(separator: "/")
    }

    /// True when `path` is `directory` itself or lies below it (both absolute and normalized).
    public static func isInside(_ path: String, directory: String) -> Bool {
        if directory == "/" { return path.hasPrefix("/") }
        return path == directory || path.hasPrefix(directory + "/")
    }
}

/// Why a file could not be read, as an errno value with a short lower-case reason.
public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    public var code: Int32

    public init(code: Int32) { self.code = code }

    public var description: String {
        switch code {
        case ENOENT: "no such file or directory"
        case EACCES: "permission denied"
        case EISDIR: "is a directory"
        case ENOTDIR: "not a directory"
        case ELOOP: "too many levels of symbolic links"
        case ENAMETOOLONG: "file name too long"
        default: String(cString: strerror(code))
        }
    }
}

/// `read(2)` under a name that does not clash with `FileSystem.read`.
@inline(__always)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// What `FileSystem.state` reports of a file.
public struct FileState: Equatable, Sendable {
    public var size: Int
    public var modified: Int
}

/// Writes a line to standard error with one `write(2)`, safe from any thread (unlike `stderr`).
public func printError(_ line: String) {
    var text = line
    text.append("\n")
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
