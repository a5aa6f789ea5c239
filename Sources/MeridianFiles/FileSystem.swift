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
        FileReader.open(path).flatMap { reader in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(reader.size + 1)
            while true {
                switch reader.append(upTo: max(reader.size + 1 - bytes.count, 65_536), to: &bytes) {
                case .failure(let error): return .failure(error)
                case .success(0): return .success(bytes)
                case .success: continue
                }
            }
        }
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

/// A file read a piece at a time, so that a large one (a zone of millions of records) need
/// not sit in memory whole. The descriptor closes when the reader is released.
public final class FileReader {
    private let descriptor: Int32
    /// The size when opened; the file may change while it is read.
    public let size: Int

    private init(descriptor: Int32, size: Int) {
        self.descriptor = descriptor
        self.size = size
    }

    deinit { close(descriptor) }

    /// Opens a regular file (or anything readable but a directory) for reading.
    public static func open(_ path: String) -> Result<FileReader, FileSystemError> {
        let fd = systemOpen(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileSystemError(code: errno)) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            return .failure(FileSystemError(code: code))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            return .failure(FileSystemError(code: EISDIR))
        }
        return .success(FileReader(descriptor: fd, size: max(Int(info.st_size), 0)))
    }

    /// Appends up to `count` bytes to `bytes`; 0 at the end of the file.
    public func append(upTo count: Int, to bytes: inout [UInt8]) -> Result<Int, FileSystemError> {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count))
        while true {
            let got = bytes.withUnsafeMutableBytes { raw in systemRead(descriptor, raw.baseAddress! + start, count) }
            let code = errno
            if got < 0 && code == EINTR { continue }
            bytes.removeSubrange((start + max(got, 0))...)
            return got < 0 ? .failure(FileSystemError(code: code)) : .success(got)
        }
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

/// `open(2)` under a name that does not clash with `FileReader.open`.
@inline(__always)
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 {
    open(path, flags)
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
