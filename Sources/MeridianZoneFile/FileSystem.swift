#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The little file access the zone reader needs: whole-file reads and path resolution.
/// Plain libc, so the module stays free of Foundation.
enum FileSystem {
    /// Reads a whole file, or returns a short reason (`no such file or directory`).
    static func read(_ path: String) -> Result<[UInt8], FileSystemError> {
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

    /// The canonical absolute path with symbolic links resolved, or nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        try? resolve(path).get()
    }

    /// `realpath(3)`, with the reason when it fails.
    static func resolve(_ path: String) -> Result<String, FileSystemError> {
        guard let resolved = realpath(path, nil) else { return .failure(FileSystemError(code: errno)) }
        defer { free(resolved) }
        return .success(String(cString: resolved))
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// `a/b/c.zone` → `a/b`; `c.zone` → `.`; `/c.zone` → `/`.
    static func directory(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == 0 { return "/" }
        return String(decoding: bytes[..<slash], as: UTF8.self)
    }

    /// Joins a directory and a relative path for display and opening.
    static func join(_ directory: String, _ path: String) -> String {
        if directory == "." { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// Normalizes `.` and `..` components without touching the file system. Returns nil when
    /// a `..` would climb above the start of a relative path.
    static func lexicallyNormalized(_ path: String) -> String? {
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
    static func isInside(_ path: String, directory: String) -> Bool {
        if directory == "/" { return path.hasPrefix("/") }
        return path == directory || path.hasPrefix(directory + "/")
    }
}

/// Why a file could not be read, as an errno value with a short lower-case reason.
struct FileSystemError: Error, CustomStringConvertible {
    var code: Int32

    var description: String {
        switch code {
        case ENOENT: "no such file or directory"
        case EACCES: "permission denied"
        case EISDIR: "is a directory"
        case ENOTDIR: "not a directory"
        case ELOOP: "too many levels of symbolic links"
        case ENAMETOOLONG: "file name too long"
        default: "error \(code)"
        }
    }
}

/// `read(2)` under a name that does not clash with `FileSystem.read`.
@inline(__always)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
