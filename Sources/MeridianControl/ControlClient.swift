#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a control request got no answer, or a refusal. `exitCode` is what `dnsctl` exits with.
public enum ControlClientError: Error, Sendable, CustomStringConvertible {
    /// No socket file, or nobody accepts connections on it.
    case notListening(socketPath: String)
    /// The socket's mode (0600) keeps this user out.
    case permissionDenied(socketPath: String)
    /// The server took longer than the timeout to answer.
    case timedOut(socketPath: String, seconds: Int)
    /// The connection failed in another way, or closed before the reply was complete.
    case connectionFailed(socketPath: String, message: String)
    /// The server answered with a refusal (unknown edge, not a dynamic name, …) or with a
    /// reply dnsctl cannot read.
    case failed(ControlFailure)

    /// INTERFACE.md: 2 when no server answers, otherwise what the server said (1).
    public var exitCode: Int32 {
        switch self {
        case .notListening, .permissionDenied, .timedOut, .connectionFailed: 2
        case .failed(let failure): failure.exitCode
        }
    }

    /// The message for the operator; `config` names the configuration file the socket path
    /// came from, if any.
    public func message(config: String?) -> String {
        let whereConfigured = config.map { "see control.socket in \($0)" } ?? "see control.socket in the configuration"
        switch self {
        case .notListening(let path):
            return "no Meridian server is listening on \(path) (is meridian running? \(whereConfigured))"
        case .permissionDenied(let path):
            return "permission denied on \(path): the control socket is mode 0600, run dnsctl as the user that runs meridian"
        case .timedOut(let path, let seconds):
            return "no answer from the Meridian server on \(path) within \(seconds) s"
        case .connectionFailed(let path, let message):
            return "control socket \(path): \(message)"
        case .failed(let failure):
            return failure.message
        }
    }

    public var description: String { message(config: nil) }
}

/// A blocking client for the control socket, for `dnsctl` and tests: one connection per
/// request, one request line out, one reply line in.
public enum ControlClient {
    /// How long a request may take, except `reload`.
    public static let defaultTimeout: Duration = .seconds(10)
    /// A reload re-reads every zone and the GeoIP database and waits until every loop
    /// serves them.
    public static let reloadTimeout: Duration = .seconds(120)
    /// Replies longer than this are refused (a broken server, not a big deployment).
    public static let maximumReplyBytes = 64 << 20

    /// The timeout `request` gets when none is given.
    public static func timeout(for request: ControlRequest) -> Duration {
        if case .reload = request { return reloadTimeout }
        return defaultTimeout
    }

    /// Sends `request` and returns its reply, decoded. A refusal from the server throws
    /// ``ControlClientError/failed(_:)``.
    public static func send<Reply: Decodable>(
        _ request: ControlRequest, socketPath: String, expecting type: Reply.Type, timeout: Duration? = nil
    ) throws(ControlClientError) -> Reply {
        let line = try exchange(request, socketPath: socketPath, timeout: timeout)
        switch ControlJSON.decodeReply(line, as: type) {
        case .success(let reply): return reply
        case .failure(let failure): throw .failed(failure)
        }
    }

    /// Sends `request` and returns the reply line, without its newline, undecoded.
    public static func exchange(
        _ request: ControlRequest, socketPath: String, timeout: Duration? = nil
    ) throws(ControlClientError) -> [UInt8] {
        let data: Data
        do {
            data = try ControlJSON.encoder().encode(request)
        } catch {
            throw .failed(ControlFailure("cannot encode the request: \(error)"))
        }
        return try exchange(line: Array(data), socketPath: socketPath, timeout: timeout ?? self.timeout(for: request))
    }

    /// Sends one raw line (a newline is added) and returns the reply line.
    public static func exchange(line: [UInt8], socketPath: String, timeout: Duration) throws(ControlClientError) -> [UInt8] {
        let seconds = Int(timeout.components.seconds)
        let deadline = monotonicMilliseconds() + Int64(seconds) * 1000 + Int64(timeout.components.attoseconds / 1_000_000_000_000_000)
        let fd = UnixSocket.makeStreamSocket()
        guard fd >= 0 else { throw .connectionFailed(socketPath: socketPath, message: "socket: \(UnixSocket.errorText(errno))") }
        defer { close(fd) }
        #if canImport(Darwin)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif

        let connected = UnixSocket.connect(fd, to: socketPath)
        switch connected {
        case 0: break
        case ENOENT, ECONNREFUSED, ENOTDIR: throw .notListening(socketPath: socketPath)
        case EACCES, EPERM: throw .permissionDenied(socketPath: socketPath)
        case ENAMETOOLONG:
            throw .connectionFailed(socketPath: socketPath,
                                    message: "the path is longer than a Unix socket path may be (\(UnixSocket.maximumPathLength) bytes)")
        default: throw .connectionFailed(socketPath: socketPath, message: "connect: \(UnixSocket.errorText(connected))")
        }

        var request = line
        request.append(UInt8(ascii: "\n"))
        var sent = 0
        while sent < request.count {
            try wait(fd, for: Int16(POLLOUT), until: deadline, socketPath: socketPath, seconds: seconds)
            let count = request[sent...].withUnsafeBytes { bytes -> Int in
                #if os(Linux)
                Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
                #else
                send(fd, bytes.baseAddress, bytes.count, 0)
                #endif
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .connectionFailed(socketPath: socketPath, message: "send: \(UnixSocket.errorText(errno))")
            }
            sent += count
        }

        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            try wait(fd, for: Int16(POLLIN), until: deadline, socketPath: socketPath, seconds: seconds)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .connectionFailed(socketPath: socketPath, message: "receive: \(UnixSocket.errorText(errno))")
            }
            if count == 0 {
                throw .connectionFailed(socketPath: socketPath, message: "the server closed the connection without answering")
            }
            let start = reply.count
            reply += chunk[..<count]
            if let newline = reply[start...].firstIndex(of: UInt8(ascii: "\n")) {
                return Array(reply[..<newline])
            }
            if reply.count > maximumReplyBytes {
                throw .connectionFailed(socketPath: socketPath, message: "the reply is longer than \(maximumReplyBytes) bytes")
            }
        }
    }

    private static func wait(_ fd: Int32, for events: Int16, until deadline: Int64, socketPath: String, seconds: Int) throws(ControlClientError) {
        while true {
            let remaining = deadline - monotonicMilliseconds()
            if remaining <= 0 { throw .timedOut(socketPath: socketPath, seconds: seconds) }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, Int64(Int32.max))))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw .connectionFailed(socketPath: socketPath, message: "poll: \(UnixSocket.errorText(errno))")
            }
        }
    }

    private static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
