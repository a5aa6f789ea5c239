import Logging
import MeridianControl
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The stats port: a small read-only HTTP/1.1 server.
///
/// | path | content |
/// | --- | --- |
/// | `/` | the live dashboard (``Dashboard``) |
/// | `/metrics` | Prometheus text format (``PrometheusText``) |
/// | `/api/v1/status` | ``StatusReply`` as JSON |
/// | `/api/v1/edges` | ``EdgesReply`` as JSON |
/// | `/api/v1/stats` | ``StatsReply`` as JSON |
/// | `/api/v1/history` | ``HistoryReply`` as JSON: the last hour, or `?seconds=N` (1 to 3600) |
///
/// Only GET and HEAD are served (405 otherwise): nothing over HTTP changes the server. A
/// request whose head is larger than ``maximumRequestBytes`` gets 431, one whose head and
/// body together are larger gets 413; both close the connection. At most
/// ``maximumConnections`` are open (a new one closes the longest idle one); a request must be
/// complete within ``requestDeadline`` of its first byte, and a connection that sends nothing
/// for ``idleTimeout`` is closed (see ``ConnectionGuard``). It binds exactly the address it is given; the
/// configuration's default is loopback.
public final class StatsServer: Sendable {
    /// Largest request (head and body) accepted.
    public static let maximumRequestBytes = 8 * 1024
    public static let idleTimeout: TimeAmount = .seconds(30)
    public static let requestDeadline: TimeAmount = .seconds(5)
    public static let maximumConnections = 64

    /// The address bound (with the real port when 0 was asked for).
    public let localAddress: SocketAddress?
    private let serverChannel: any Channel
    private let acceptor: Task<Void, Never>
    private let logger: Logger

    /// The port bound.
    public var port: Int? { localAddress?.port }

    private init(localAddress: SocketAddress?, serverChannel: any Channel, acceptor: Task<Void, Never>, logger: Logger) {
        self.localAddress = localAddress
        self.serverChannel = serverChannel
        self.acceptor = acceptor
        self.logger = logger
    }

    /// Binds `host:port` (an address, e.g. `127.0.0.1` or `::1`; port 0 picks a free one)
    /// and starts serving `backend`'s data.
    public static func start(
        host: String, port: Int, backend: some ControlBackend, group: any EventLoopGroup, logger: Logger
    ) async throws -> StatsServer {
        let slots = ConnectionSlots(capacity: maximumConnections)
        let accepted = AcceptedConnections<HTTPServerRequestPart, HTTPServerResponsePart>()
        let serverChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    let connectionGuard = ConnectionGuard(slots: slots, requestDeadline: requestDeadline, idleTimeout: idleTimeout)
                    try pipeline.addHandler(connectionGuard)
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try pipeline.addHandler(RequestCompletionSignal<HTTPServerRequestPart>(connectionGuard) { part in
                        if case .end = part { return true }
                        return false
                    })
                    return try accepted.wrap(channel)
                }
            }
        let acceptor = Task {
            await withDiscardingTaskGroup { connections in
                do {
                    try await serverChannel.executeThenClose { inbound in
                        for try await connection in inbound {
                            accepted.take(connection)
                            connections.addTask { await serve(connection, backend: backend, logger: logger) }
                        }
                    }
                } catch {
                    logger.debug("stats listener closed", metadata: ["error": "\(error)"])
                }
                await accepted.closeTheRest()
                connections.cancelAll()
            }
        }
        let address = serverChannel.channel.localAddress
        let shown = host.contains(":") ? "[\(host)]" : host
        logger.info("stats port listening", metadata: ["address": "\(shown):\(address?.port ?? port)"])
        return StatsServer(localAddress: address, serverChannel: serverChannel.channel, acceptor: acceptor, logger: logger)
    }

    /// Stops accepting and closes every connection.
    public func shutdown() async {
        try? await serverChannel.close()
        acceptor.cancel()
        await acceptor.value
        logger.info("stats port closed")
    }

    // MARK: - Connections

    private typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    private static func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, backend: some ControlBackend, logger: Logger
    ) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var size = 0
                for try await part in inbound {
                    switch part {
                    case .head(let request):
                        head = request
                        size = headSize(request)
                        if size > maximumRequestBytes {
                            try await refuse(.requestHeaderFieldsTooLarge, "request head larger than \(maximumRequestBytes) bytes", outbound)
                            return
                        }
                        if let length = request.headers.first(name: "content-length").flatMap({ Int($0) }), length > maximumRequestBytes - size {
                            try await refuse(.payloadTooLarge, "request larger than \(maximumRequestBytes) bytes", outbound)
                            return
                        }
                    case .body(let chunk):
                        size += chunk.readableBytes
                        if size > maximumRequestBytes {
                            try await refuse(.payloadTooLarge, "request larger than \(maximumRequestBytes) bytes", outbound)
                            return
                        }
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        try await respond(to: request, backend: backend, outbound)
                        if !request.isKeepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("stats connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Bytes of the request head as sent, near enough: request line and header lines.
    private static func headSize(_ head: HTTPRequestHead) -> Int {
        head.headers.reduce(head.method.rawValue.utf8.count + head.uri.utf8.count + 12) { total, header in
            total + header.name.utf8.count + header.value.utf8.count + 4
        }
    }

    private static func refuse(_ status: HTTPResponseStatus, _ message: String, _ outbound: Outbound) async throws {
        try await write(status: status, contentType: "text/plain; charset=utf-8", body: message + "\n",
                        version: .http1_1, keepAlive: false, includeBody: true, outbound)
    }

    private static func respond(to request: HTTPRequestHead, backend: some ControlBackend, _ outbound: Outbound) async throws {
        let keepAlive = request.isKeepAlive
        let includeBody = request.method != .HEAD
        func send(_ status: HTTPResponseStatus, _ contentType: String, _ body: String, extra: [(String, String)] = []) async throws {
            try await write(status: status, contentType: contentType, body: body, version: request.version,
                            keepAlive: keepAlive, includeBody: includeBody, extra: extra, outbound)
        }
        guard request.method == .GET || request.method == .HEAD else {
            try await send(.methodNotAllowed, "text/plain; charset=utf-8", "only GET and HEAD are served here\n",
                           extra: [("Allow", "GET, HEAD")])
            return
        }
        let json = "application/json; charset=utf-8"
        switch route(request.uri) {
        case "/":
            async let status = backend.status()
            async let edges = backend.edges()
            async let stats = backend.stats()
            async let history = backend.history(seconds: HistoryReply.maximumSeconds)
            let page = Dashboard.render(status: await status, edges: await edges, stats: await stats, history: await history,
                                        now: wallClockSeconds())
            try await send(.ok, Dashboard.contentType, page, extra: [("Content-Security-Policy", contentSecurityPolicy)])
        case "/metrics":
            try await send(.ok, PrometheusText.contentType, PrometheusText.render(await backend.stats()))
        case "/api/v1/status":
            try await send(.ok, json, ControlJSON.encode(await backend.status()) + "\n")
        case "/api/v1/edges":
            try await send(.ok, json, ControlJSON.encode(await backend.edges()) + "\n")
        case "/api/v1/stats":
            try await send(.ok, json, ControlJSON.encode(await backend.stats()) + "\n")
        case "/api/v1/history":
            guard let seconds = historySeconds(request.uri) else {
                try await send(.badRequest, "text/plain; charset=utf-8",
                               "seconds must be a whole number from 1 to \(HistoryReply.maximumSeconds)\n")
                return
            }
            try await send(.ok, json, ControlJSON.encode(await backend.history(seconds: seconds)) + "\n")
        default:
            try await send(.notFound, "text/plain; charset=utf-8",
                           "not found; try /, /metrics, /api/v1/status, /api/v1/edges, /api/v1/stats or /api/v1/history\n")
        }
    }

    /// The `seconds` of a history request: the whole hour when absent, `nil` when it is not
    /// a number from 1 to the hour.
    static func historySeconds(_ uri: String) -> Int? {
        guard let query = uri.firstIndex(of: "?").map({ uri[uri.index(after: $0)...].prefix { $0 != "#" } }) else {
            return HistoryReply.maximumSeconds
        }
        var seconds = HistoryReply.maximumSeconds
        for pair in query.split(separator: "&") where pair.hasPrefix("seconds=") {
            guard let value = Int(pair.dropFirst("seconds=".count)), (1...HistoryReply.maximumSeconds).contains(value) else {
                return nil
            }
            seconds = value
        }
        return seconds
    }

    /// The path of a request target, without query or fragment.
    static func route(_ uri: String) -> Substring {
        uri.prefix { $0 != "?" && $0 != "#" }
    }

    /// The dashboard may run its inline script and style and fetch from this server, nothing else.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    private static func write(
        status: HTTPResponseStatus, contentType: String, body: String, version: HTTPVersion, keepAlive: Bool,
        includeBody: Bool, extra: [(String, String)] = [], _ outbound: Outbound
    ) async throws {
        let buffer = ByteBuffer(string: body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        for (name, value) in extra { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: status, headers: headers)
        if includeBody {
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(buffer)), .end(nil)])
        } else {
            try await outbound.write(contentsOf: [.head(head), .end(nil)])
        }
    }

    private static func wallClockSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
