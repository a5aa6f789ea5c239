#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the control socket could not be opened.
public enum ControlServerError: Error, CustomStringConvertible, Sendable {
    /// A server already accepts connections on the path.
    case alreadyRunning(path: String)
    /// The path exists and is not a socket; it is left alone.
    case notASocket(path: String)
    case pathTooLong(path: String)
    /// A system call failed.
    case system(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .alreadyRunning(let path):
            "another Meridian server is already running: it accepts connections on the control socket \(path) (stop it, or set a different control.socket)"
        case .notASocket(let path):
            "the control socket path \(path) exists and is not a socket; remove it or set a different control.socket"
        case .pathTooLong(let path):
            "the control socket path \(path) is \(path.utf8.count) bytes long; a Unix socket path may have at most \(UnixSocket.maximumPathLength)"
        case .system(let operation, let path, let code):
            "control socket \(path): \(operation): \(UnixSocket.errorText(code))"
        }
    }
}

/// The control socket: a Unix stream socket, mode 0600, speaking newline-delimited JSON.
/// Each line a client sends is one ``ControlRequest``; each gets exactly one reply line,
/// in order: `{"ok":true,"result":…}` or `{"ok":false,"error":"…","exitCode":1}`. A client
/// may send several requests on one connection, and several clients may be connected at
/// once (each connection is served by its own task; requests on one connection one at a
/// time). A line longer than ``maximumRequestBytes`` is answered with an error and the
/// connection is closed. At most ``maximumConnections`` are open; a request line must be
/// complete within ``requestDeadline`` of its first byte (see ``ConnectionGuard``).
public final class ControlServer: Sendable {
    /// Longest request line accepted, without its newline.
    public static let maximumRequestBytes = 64 * 1024
    /// Connections open at once; when all are taken a new one closes the longest idle one.
    public static let maximumConnections = 16
    /// A request line must be complete this long after its first byte.
    public static let requestDeadline: TimeAmount = .seconds(5)
    /// A connection that sends nothing for this long between requests is closed.
    public static let idleTimeout: TimeAmount = .seconds(30)

    /// The socket's path as given.
    public let path: String
    private let serverChannel: any Channel
    private let acceptor: Task<Void, Never>
    private let identity: (device: UInt64, inode: UInt64)?
    private let logger: Logger

    private init(path: String, serverChannel: any Channel, acceptor: Task<Void, Never>,
                 identity: (device: UInt64, inode: UInt64)?, logger: Logger) {
        self.path = path
        self.serverChannel = serverChannel
        self.acceptor = acceptor
        self.identity = identity
        self.logger = logger
    }

    /// Opens the socket at `path` and starts serving `backend`. Creates missing parent
    /// directories; replaces a stale socket file that nobody accepts connections on; refuses
    /// to start when another server is listening there.
    public static func start(
        path: String, backend: some ControlBackend, group: any EventLoopGroup, logger: Logger
    ) async throws -> ControlServer {
        let fd = try bindSocketFile(path, logger: logger)
        let identity = UnixSocket.identity(of: path)

        let serverChannel: NIOAsyncChannel<NIOAsyncChannel<ControlFrame, ByteBuffer>, Never>
        let slots = ConnectionSlots(capacity: maximumConnections)
        let accepted = AcceptedConnections<ControlFrame, ByteBuffer>()
        do {
            serverChannel = try await ServerBootstrap(group: group)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .bind(fd) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        let connectionGuard = ConnectionGuard(slots: slots, requestDeadline: requestDeadline, idleTimeout: idleTimeout)
                        try pipeline.addHandler(connectionGuard)
                        try pipeline.addHandler(ByteToMessageHandler(ControlLineDecoder(limit: maximumRequestBytes)))
                        try pipeline.addHandler(RequestCompletionSignal<ControlFrame>(connectionGuard) { _ in true })
                        return try accepted.wrap(channel)
                    }
                }
        } catch {
            unlink(path)
            throw error
        }

        let acceptor = Task {
            await withDiscardingTaskGroup { connections in
                do {
                    try await serverChannel.executeThenClose { inbound in
                        for try await connection in inbound {
                            accepted.take(connection)
                            connections.addTask {
                                await serve(connection, backend: backend, logger: logger)
                            }
                        }
                    }
                } catch {
                    logger.debug("control socket closed", metadata: ["error": "\(error)"])
                }
                // The listener is closed: end the connections still open.
                await accepted.closeTheRest()
                connections.cancelAll()
            }
        }
        logger.info("control socket listening", metadata: ["path": "\(path)"])
        return ControlServer(path: path, serverChannel: serverChannel.channel, acceptor: acceptor,
                             identity: identity, logger: logger)
    }

    /// A socket bound at `path` with mode 0600, not yet listening; see ``start(path:backend:group:logger:)``.
    private static func bindSocketFile(_ path: String, logger: Logger) throws(ControlServerError) -> Int32 {
        guard path.utf8.count <= UnixSocket.maximumPathLength, !path.isEmpty else {
            throw .pathTooLong(path: path)
        }
        let directoryResult = UnixSocket.makeParentDirectories(of: path)
        guard directoryResult == 0 else {
            throw .system(operation: "creating its directory", path: path, errno: directoryResult)
        }
        switch UnixSocket.kind(of: path) {
        case .missing: break
        case .other: throw .notASocket(path: path)
        case .socket:
            if UnixSocket.someoneListens(on: path) { throw .alreadyRunning(path: path) }
            logger.info("replacing a stale control socket", metadata: ["path": "\(path)"])
            if unlink(path) != 0 && errno != ENOENT {
                throw .system(operation: "removing the stale socket", path: path, errno: errno)
            }
        }

        let fd = UnixSocket.makeStreamSocket()
        guard fd >= 0 else { throw .system(operation: "socket", path: path, errno: errno) }
        // Bind, restrict, then listen: until listen() nobody can connect, so there is no
        // moment when the socket accepts connections with a wider mode.
        let bound = UnixSocket.withAddress(path) { address, length in bind(fd, address, length) == 0 ? 0 : errno } ?? ENAMETOOLONG
        if bound != 0 {
            close(fd)
            if bound == EADDRINUSE { throw .alreadyRunning(path: path) }
            throw .system(operation: "bind", path: path, errno: bound)
        }
        if chmod(path, 0o600) != 0 {
            let code = errno
            close(fd)
            unlink(path)
            throw .system(operation: "chmod 0600", path: path, errno: code)
        }
        return fd
    }

    /// Stops accepting, closes every connection and removes the socket file (unless another
    /// process has replaced it meanwhile).
    public func shutdown() async {
        try? await serverChannel.close()
        acceptor.cancel()
        await acceptor.value
        if let identity, let current = UnixSocket.identity(of: path),
           current.device == identity.device, current.inode == identity.inode {
            unlink(path)
        }
        logger.info("control socket closed", metadata: ["path": "\(path)"])
    }

    /// Answers the requests of one connection in order until the client closes it.
    private static func serve(
        _ connection: NIOAsyncChannel<ControlFrame, ByteBuffer>, backend: some ControlBackend, logger: Logger
    ) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await frame in inbound {
                    switch frame {
                    case .line(let line):
                        let reply = await respond(to: line, backend: backend, logger: logger)
                        try await outbound.write(ByteBuffer(string: reply + "\n"))
                    case .oversized:
                        let failure = ControlFailure("request refused: longer than \(maximumRequestBytes) bytes")
                        logger.info("control request refused: too long")
                        try await outbound.write(ByteBuffer(string: ControlJSON.failureLine(failure) + "\n"))
                        return
                    }
                }
            }
        } catch {
            logger.debug("control connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// The reply line (without newline) for one request line.
    static func respond(to line: ByteBuffer, backend: some ControlBackend, logger: Logger) async -> String {
        let request: ControlRequest
        do {
            request = try ControlJSON.decoder().decode(ControlRequest.self, from: Data(line.readableBytesView))
        } catch {
            logger.debug("malformed control request", metadata: ["error": "\(error)"])
            return ControlJSON.failureLine(ControlFailure("malformed request: \(ControlJSON.describe(error))"))
        }
        logger.debug("control request", metadata: ["command": "\(request.command)"])
        switch await backend.handle(request) {
        case .success(let reply): return ControlJSON.successLine(reply)
        case .failure(let failure): return ControlJSON.failureLine(failure)
        }
    }
}

/// What the line decoder hands on.
enum ControlFrame: Sendable {
    /// One request line, without its newline (or carriage return).
    case line(ByteBuffer)
    /// The client sent more than the limit without a newline; nothing more is read.
    case oversized
}

/// Splits the byte stream at newlines; empty lines are skipped. After a line over the
/// limit, everything else is discarded.
struct ControlLineDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = ControlFrame

    let limit: Int
    var refused = false

    init(limit: Int) { self.limit = limit }

    mutating func decode(buffer: inout ByteBuffer) throws -> ControlFrame? {
        while true {
            if refused {
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            }
            guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                if buffer.readableBytes > limit {
                    refused = true
                    return .oversized
                }
                return nil
            }
            let length = newline - buffer.readerIndex
            if length > limit {
                refused = true
                return .oversized
            }
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
            if line.readableBytesView.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            return .line(line)
        }
    }

    /// At end of input a last line without a newline still counts (`printf '…' | nc -U`).
    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ControlFrame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        guard !refused, buffer.readableBytes > 0 else { return nil }
        let line = buffer.readSlice(length: buffer.readableBytes)!
        if line.readableBytesView.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
            return nil
        }
        return .line(line)
    }
}
