#if canImport(Glibc)
import Glibc
#endif
import Atomics
import Foundation
import Logging
import MeridianConfig
import MeridianControl
import MeridianDnstap

/// Where the query log goes: a file (opened at once, so a path that cannot be written is
/// refused before anything changes) or a Unix socket a Frame Streams reader listens on
/// (connected to by the writer, again and again while the reader is away).
final class DnstapOutput: @unchecked Sendable {
    let destination: DnstapSettings.Destination
    /// The open file, or the connected socket; -1 while a socket's reader is away.
    fileprivate(set) var fd: Int32
    /// The file's device and inode as opened, to notice it was moved away (rotated).
    private let opened: (device: UInt64, inode: UInt64)?

    private init(destination: DnstapSettings.Destination, fd: Int32, opened: (device: UInt64, inode: UInt64)?) {
        self.destination = destination
        self.fd = fd
        self.opened = opened
    }

    static func open(_ destination: DnstapSettings.Destination) throws(DnstapOutputError) -> DnstapOutput {
        switch destination {
        case .file(let path):
            // Truncated, as every fstrm file writer does: a Frame Streams file holds one stream.
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw DnstapOutputError(message: "cannot open \(path): \(UnixSocket.errorText(errno))") }
            var info = stat()
            fstat(fd, &info)
            return DnstapOutput(destination: destination, fd: fd, opened: (UInt64(info.st_dev), UInt64(info.st_ino)))
        case .socket:
            return DnstapOutput(destination: destination, fd: -1, opened: nil)
        }
    }

    /// The file at the path is no longer the one written (moved away or deleted). The path
    /// is followed through symbolic links, so a link to the log is not taken for a new file.
    var moved: Bool {
        guard case .file(let path) = destination, let opened else { return false }
        var info = stat()
        guard stat(path, &info) == 0 else { return true }
        return (UInt64(info.st_dev), UInt64(info.st_ino)) != opened
    }
}

struct DnstapOutputError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The query log's writer thread: it takes the answering threads' records from their rings,
/// encodes them as dnstap messages in Frame Streams data frames and writes them in large
/// writes. It polls the rings (answering threads never wake it, which would cost them a
/// system call), every millisecond while there is traffic and backing off to 16 ms when
/// there is none. While a socket's reader is away, or the destination fails, messages are
/// thrown away and counted.
final class DnstapWriter: @unchecked Sendable {
    let identity: String
    let connected = ManagedAtomic<Bool>(false)
    private let output: DnstapOutput
    private weak var log: QueryLog?
    private let logger: Logger
    private let running = ManagedAtomic<Bool>(true)
    private let finished: AsyncStream<Void>
    private let finish: AsyncStream<Void>.Continuation

    // The writer thread's.
    private let identityBytes: [UInt8]
    private let versionBytes: [UInt8]
    private static let bufferSize = 256 * 1024
    private let buffer: UnsafeMutableRawPointer
    private var used = 0
    /// Messages in `buffer`, counted as written or thrown away when it is.
    private var buffered = 0
    private var nextConnectAttempt = 0
    private var warnedAway = false

    init(identity: String, output: DnstapOutput, log: QueryLog, logger: Logger) {
        self.identity = identity
        self.output = output
        self.log = log
        self.logger = logger
        identityBytes = Array(identity.utf8)
        versionBytes = Array("Meridian \(MeridianVersion.current)".utf8)
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        (finished, finish) = AsyncStream.makeStream()
    }

    deinit { buffer.deallocate() }

    /// The file was moved away since it was opened.
    var destinationMoved: Bool { output.moved }

    func start() {
        if output.fd >= 0 {
            // A file: its stream starts now.
            writeAll(FrameStreams.controlFrame(.start, contentType: FrameStreams.dnstapContentType))
            connected.store(true, ordering: .relaxed)
        }
        startThread(named: "meridian-dnstap") { [self] in run() }
    }

    /// Writes what the rings hold, ends the stream and closes the destination; returns when the thread has.
    func stop() async {
        running.store(false, ordering: .releasing)
        for await _ in finished {}
    }

    private func run() {
        var idleRounds = 0
        while running.load(ordering: .acquiring) {
            if output.fd < 0, case .socket(let path) = output.destination { connectIfDue(path) }
            if drainRings() {
                idleRounds = 0
                usleep(1000)
            } else {
                idleRounds = min(idleRounds + 1, 4)
                usleep(UInt32(1000 << idleRounds))
            }
        }
        _ = drainRings()
        closeOutput()
        finish.finish()
    }

    /// Encodes every record the rings hold and writes them; false when there were none.
    private func drainRings() -> Bool {
        guard let log else { return false }
        var any = false
        for ring in log.everyRing {
            any = ring.drain { record in append(record) } || any
        }
        flush()
        return any
    }

    private func append(_ record: QueryLogRecord) {
        let flags = record.flags
        let transport: DnstapMessage.SocketProtocol = flags.contains(.tcp) ? .tcp : .udp
        if flags.contains(.query) {
            append(DnstapMessage(kind: .authQuery, transport: transport, clientAddress: record.address, clientPort: record.port,
                                 queryTime: record.queryTime, responseTime: 0, wireMessage: record.query))
        }
        if flags.contains(.response) {
            append(DnstapMessage(kind: .authResponse, transport: transport, clientAddress: record.address, clientPort: record.port,
                                 queryTime: record.queryTime, responseTime: record.responseTime, wireMessage: record.response))
        }
    }

    private func append(_ message: DnstapMessage) {
        identityBytes.withUnsafeBytes { identity in
            versionBytes.withUnsafeBytes { version in
                let size = message.encodedSize(identity: identity, version: version)
                guard 4 + size <= Self.bufferSize else {
                    log?.unwritten.wrappingIncrement(ordering: .relaxed)
                    return
                }
                if used + 4 + size > Self.bufferSize { flush() }
                buffer.storeBytes(of: UInt32(size).bigEndian, toByteOffset: used, as: UInt32.self)
                let written = message.encode(identity: identity, version: version, into: buffer + used + 4)
                assert(written == size)
                used += 4 + size
                buffered += 1
            }
        }
    }

    /// Writes the buffer out; when it cannot be, its messages are counted as thrown away.
    private func flush() {
        guard used > 0 else { return }
        let ok = output.fd >= 0 && writeAll(UnsafeRawBufferPointer(start: buffer, count: used))
        if ok {
            log?.written.wrappingIncrement(by: buffered, ordering: .relaxed)
        } else {
            log?.unwritten.wrappingIncrement(by: buffered, ordering: .relaxed)
        }
        used = 0
        buffered = 0
    }

    @discardableResult
    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeAll($0) }
    }

    /// Writes all of `bytes`. A socket is written without blocking, waiting for room in
    /// short polls so that a stop is noticed; a reader that went away is disconnected.
    private func writeAll(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let fd = output.fd
            guard fd >= 0 else { return false }
            let result: Int
            switch output.destination {
            case .file: result = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            case .socket: result = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if result > 0 {
                offset += result
                continue
            }
            let error = errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&poller, 1, 100)
                if !running.load(ordering: .relaxed) && poller.revents == 0 { return false }
                continue
            }
            failed(error)
            return false
        }
        return true
    }

    private func failed(_ error: Int32) {
        switch output.destination {
        case .file(let path):
            // A full disk or a failing device: messages are counted as thrown away until it recovers.
            if !warnedAway {
                logger.warning("query log: cannot write", metadata: ["file": "\(path)", "error": "\(UnixSocket.errorText(error))"])
                warnedAway = true
            }
        case .socket(let path):
            logger.warning("query log: the reader went away; reconnecting", metadata: [
                "socket": "\(path)", "error": "\(UnixSocket.errorText(error))",
            ])
            close(output.fd)
            output.fd = -1
            connected.store(false, ordering: .relaxed)
            nextConnectAttempt = monotonicNanoseconds() + 1_000_000_000
        }
    }

    /// Connects to the reader and agrees on dnstap (READY, ACCEPT, START), at most once a second.
    private func connectIfDue(_ path: String) {
        let now = monotonicNanoseconds()
        guard now >= nextConnectAttempt else { return }
        nextConnectAttempt = now + 1_000_000_000
        let fd = UnixSocket.makeStreamSocket()
        guard fd >= 0 else { return }
        let result = UnixSocket.connect(fd, to: path)
        guard result == 0 else {
            close(fd)
            if !warnedAway {
                logger.warning("query log: no reader on the socket; retrying every second, messages are dropped meanwhile",
                               metadata: ["socket": "\(path)", "error": "\(UnixSocket.errorText(result))"])
                warnedAway = true
            }
            return
        }
        output.fd = fd
        let ready = FrameStreams.controlFrame(.ready, contentType: FrameStreams.dnstapContentType)
        guard writeAll(ready), let reply = readControlFrame(fd, timeoutMilliseconds: 2000), reply.type == .accept,
              reply.contentTypes.isEmpty || reply.contentTypes.contains(FrameStreams.dnstapContentType) else {
            logger.warning("query log: the reader on the socket did not accept dnstap", metadata: ["socket": "\(path)"])
            if output.fd >= 0 { close(output.fd) }
            output.fd = -1
            return
        }
        guard writeAll(FrameStreams.controlFrame(.start, contentType: FrameStreams.dnstapContentType)) else { return }
        connected.store(true, ordering: .relaxed)
        warnedAway = false
        logger.notice("query log: connected to the reader", metadata: ["socket": "\(path)"])
    }

    /// One control frame from the reader, or nil when none came in time or it is not one.
    private func readControlFrame(_ fd: Int32, timeoutMilliseconds: Int32) -> (type: FrameStreams.ControlType, contentTypes: [String])? {
        guard let header = read(fd, count: 8, timeoutMilliseconds: timeoutMilliseconds),
              FrameStreams.bigEndian(header, at: 0) == 0 else { return nil }
        let length = Int(FrameStreams.bigEndian(header, at: 4))
        guard length <= FrameStreams.maximumControlLength,
              let body = read(fd, count: length, timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        return FrameStreams.parseControl(body)
    }

    private func read(_ fd: Int32, count: Int, timeoutMilliseconds: Int32) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, timeoutMilliseconds) > 0 else { return nil }
            let result = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + offset, count - offset, Int32(MSG_DONTWAIT)) }
            if result > 0 {
                offset += result
            } else if result < 0 && (errno == EINTR || errno == EAGAIN) {
                continue
            } else {
                return nil
            }
        }
        return bytes
    }

    /// Ends the stream: STOP, and for a socket the reader's FINISH (briefly awaited).
    private func closeOutput() {
        let fd = output.fd
        guard fd >= 0 else { return }
        writeAll(FrameStreams.controlFrame(.stop))
        if case .socket = output.destination { _ = readControlFrame(fd, timeoutMilliseconds: 1000) }
        close(fd)
        output.fd = -1
        connected.store(false, ordering: .relaxed)
    }
}
