import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A real HTTP server on 127.0.0.1 (an ephemeral port) whose behaviour the test switches
/// while it runs, optionally behind TLS.
final class HTTPTestServer: Sendable {
    enum Mode: Sendable, Equatable {
        /// Answer with this status and body, then close the connection.
        case respond(status: Int, body: String)
        /// Answer 200 "ok" and keep the connection open for more requests.
        case keepAlive
        /// Read the request and never answer.
        case hang
        /// Close every connection as soon as it is accepted.
        case close
    }

    private struct State {
        var mode: Mode
        /// Answer the next `count` requests with this status before going back to `mode`.
        var script: [Int] = []
        var requests = 0
        var connections = 0
        var hosts: [String] = []
    }

    private let state: NIOLockedValueBox<State>
    private let channel: any Channel
    let port: Int

    static let ok = Mode.respond(status: 200, body: "ok")

    static func start(mode: Mode = ok, tls: NIOSSLContext? = nil) async throws -> HTTPTestServer {
        let state = NIOLockedValueBox(State(mode: mode))
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return HTTPTestServer(state: state, channel: channel)
    }

    private init(state: NIOLockedValueBox<State>, channel: any Channel) {
        self.state = state
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    var url: String { "http://127.0.0.1:\(port)/healthz" }
    var httpsURL: String { "https://127.0.0.1:\(port)/healthz" }

    func set(_ mode: Mode) { state.withLockedValue { $0.mode = mode; $0.script = [] } }
    /// The next requests get these statuses, one each, then the mode applies again.
    func script(_ statuses: [Int]) { state.withLockedValue { $0.script = statuses } }
    var requests: Int { state.withLockedValue { $0.requests } }
    /// Connections accepted so far.
    var connections: Int { state.withLockedValue { $0.connections } }
    var hosts: [String] { state.withLockedValue { $0.hosts } }

    func stop() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: NIOLockedValueBox<State>

        init(state: NIOLockedValueBox<State>) { self.state = state }

        func channelActive(context: ChannelHandlerContext) {
            let mode = state.withLockedValue { state in
                state.connections += 1
                return state.mode
            }
            if mode == .close {
                context.close(promise: nil)
                return
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                state.withLockedValue {
                    $0.requests += 1
                    $0.hosts.append(head.headers.first(name: "host") ?? "")
                }
            case .body:
                break
            case .end:
                let action: Mode = state.withLockedValue { state in
                    if !state.script.isEmpty {
                        return .respond(status: state.script.removeFirst(), body: "scripted")
                    }
                    return state.mode
                }
                switch action {
                case .hang:
                    break
                case .close:
                    context.close(promise: nil)
                case .respond(let status, let body):
                    respond(context: context, status: status, body: body, keepAlive: false)
                case .keepAlive:
                    respond(context: context, status: 200, body: "ok", keepAlive: true)
                }
            }
        }

        private func respond(context: ChannelHandlerContext, status: Int, body: String, keepAlive: Bool) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            let channel = context.channel
            if !keepAlive { written.whenComplete { _ in channel.close(promise: nil) } }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

/// A TCP listener that accepts and closes connections; `stop()` closes it, after which
/// connecting is refused.
final class TCPTestListener: Sendable {
    private let channel: any Channel
    let port: Int

    static func start() async throws -> TCPTestListener {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in channel.close() }
            .bind(host: "127.0.0.1", port: 0).get()
        return TCPTestListener(channel: channel)
    }

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    func stop() async { try? await channel.close() }
}

/// A port on 127.0.0.1 where nothing listens: bound, then released.
/// A loopback port where connections are refused for as long as this lives: a socket
/// bound to it that never listens. A port merely closed could be taken by another test
/// running in parallel.
final class RefusingPort: Sendable {
    let port: Int
    private let descriptor: Int32

    /// `port` 0 takes any free port.
    init(port wanted: Int = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(wanted).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw POSIXError(.EADDRNOTAVAIL) }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

/// Self-signed certificates made with `openssl` at test time, in a temporary directory.
enum TestCertificates {
    struct Pair {
        var certificate: String
        var key: String
    }

    /// `openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost`, valid now.
    static func selfSigned() throws -> Pair {
        let directory = try temporaryDirectory()
        let pair = Pair(certificate: directory + "/cert.pem", key: directory + "/key.pem")
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                     "-keyout", pair.key, "-out", pair.certificate], in: directory)
        return pair
    }

    /// Self-signed with `openssl ca -selfsign`, valid only on 1 January 2020.
    static func expired() throws -> Pair {
        let directory = try temporaryDirectory()
        let pair = Pair(certificate: directory + "/cert.pem", key: directory + "/key.pem")
        try openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                     "-keyout", pair.key, "-out", directory + "/req.csr"], in: directory)
        try "".write(toFile: directory + "/index.txt", atomically: true, encoding: .utf8)
        try "01\n".write(toFile: directory + "/serial", atomically: true, encoding: .utf8)
        try """
        [ca]
        default_ca = self
        [self]
        database = index.txt
        new_certs_dir = .
        serial = serial
        default_md = sha256
        policy = any
        [any]
        commonName = supplied

        """.write(toFile: directory + "/ca.cnf", atomically: true, encoding: .utf8)
        try openssl(["ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", pair.key, "-in", "req.csr",
                     "-out", pair.certificate, "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext"],
                    in: directory)
        return pair
    }

    static func serverContext(_ pair: Pair) throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pair.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pair.key, format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }

    struct OpenSSLFailed: Error, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var description: String { "openssl \(arguments.joined(separator: " ")) exited with \(status)" }
    }

    private static func openssl(_ arguments: [String], in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw OpenSSLFailed(arguments: arguments, status: process.terminationStatus) }
    }
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-health-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
func eventually(within timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// Every table the checker published, as state arrays.
final class TableRecorder: Sendable {
    private let tables = NIOLockedValueBox<[[UInt8]]>([])

    func record(_ states: [UInt8]) { tables.withLockedValue { $0.append(states) } }
    var all: [[UInt8]] { tables.withLockedValue { $0 } }
    var last: [UInt8]? { all.last }
}

/// Captures log records so tests can count transitions logged.
final class LogCapture: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = NIOLockedValueBox<[Record]>([])

    var all: [Record] { records.withLockedValue { $0 } }

    func logger() -> Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    fileprivate func append(_ record: Record) { records.withLockedValue { $0.append(record) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var values: [String: String] = [:]
            for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { values[key] = "\(value)" }
            capture.append(Record(level: event.level, message: "\(event.message)", metadata: values))
        }
    }
}
