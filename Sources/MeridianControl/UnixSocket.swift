#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few Unix-socket system calls the control server and client share, and the server's
/// notifications to systemd.
package enum UnixSocket {
    /// The longest path `sockaddr_un` holds (without its terminating zero).
    static let maximumPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    package static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// A new stream socket, close-on-exec.
    package static func makeStreamSocket() -> Int32 {
        #if os(Linux)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        #endif
        return fd
    }

    /// Calls `body` with `path` as a socket address; `nil` when the path is too long.
    static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T? {
        let bytes = Array(path.utf8)
        guard bytes.count <= maximumPathLength, !bytes.isEmpty else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Sends `message` as one datagram to the socket at `path`, which may be in the abstract
    /// namespace (`@name`, as systemd's `NOTIFY_SOCKET` can be); 0 or an errno value.
    package static func sendDatagram(_ message: [UInt8], to path: String) -> Int32 {
        var bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumPathLength else { return ENAMETOOLONG }
        let abstract = bytes[0] == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        #if os(Linux)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
        // An abstract name is exactly its bytes; a path ends at its terminating zero.
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), address, socklen_t(length)) }
            }
        }
        return sent < 0 ? errno : 0
    }

    /// Connects `fd` to `path`; 0 or an errno value.
    package static func connect(_ fd: Int32, to path: String) -> Int32 {
        let result = withAddress(path) { address, length -> Int32 in
            #if canImport(Darwin)
            Darwin.connect(fd, address, length) == 0 ? 0 : errno
            #elseif canImport(Musl)
            Musl.connect(fd, address, length) == 0 ? 0 : errno
            #else
            Glibc.connect(fd, address, length) == 0 ? 0 : errno
            #endif
        }
        return result ?? ENAMETOOLONG
    }

    /// Whether a server accepts connections on `path` right now. A socket file nobody
    /// listens on refuses (ECONNREFUSED); a full backlog (EAGAIN) still means someone is there.
    static func someoneListens(on path: String) -> Bool {
        let fd = makeStreamSocket()
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let result = connect(fd, to: path)
        return result == 0 || result == EAGAIN || result == EWOULDBLOCK
    }

    /// Device and inode of the file at `path`, to recognise it later.
    static func identity(of path: String) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// What is at `path`: nothing, a socket, or something else.
    enum FileKind { case missing, socket, other }

    static func kind(of path: String) -> FileKind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        return (info.st_mode & S_IFMT) == S_IFSOCK ? .socket : .other
    }

    /// `mkdir -p` for the directory part of `path`; 0 or an errno value.
    static func makeParentDirectories(of path: String) -> Int32 {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast()
        var current = path.hasPrefix("/") ? "" : "."
        for component in components where !component.isEmpty {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { return errno }
        }
        return 0
    }
}
