import AsyncHTTPClient
import MeridianConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `GET` of an `http://` or `https://` URL. Passes when the status is one of `expectStatus`
/// and, if `expectBody` is set, the body (its first 64 KiB) contains that text. Redirects
/// are not followed: a 301 is the answer. TLS certificates are verified against the system
/// trust store and the URL's host unless `tlsVerify` is false; `host` sets only the Host
/// header (SNI and certificate checks use the URL's host).
///
/// Connections: the client keeps a connection open for at most 2 s after a probe, so an edge
/// probed every second or two is checked over one kept-alive connection (half the CPU of a
/// new connection per probe, which is what lets one core probe a thousand edges a second),
/// while an edge probed less often gets a fresh connection each time. The 2 s stay below
/// the shortest idle timeout common servers use (5 s for Apache and Node), so the edge
/// never closes a connection just as a probe is sent on it.
public struct HTTPProbe: HealthProbe {
    public let url: String
    public let expectStatus: [Int]
    public let expectBody: String?
    public let host: String?
    public let tlsVerify: Bool
    public let timeout: Duration
    let client: HTTPClient
    /// Built once: parsing the URL per probe would cost more than the probe's own work.
    private let request: HTTPClient.Request?

    /// Bodies are read up to this size; `expectBody` must appear within it.
    static let bodyLimit = 64 * 1024

    /// `client` should come from ``HTTPProbe/makeClient(eventLoopGroup:)``: it does not follow
    /// redirects or retry failed connection attempts, so a refused connection fails at once.
    public init(
        url: String, expectStatus: [Int] = [200], expectBody: String? = nil, host: String? = nil,
        tlsVerify: Bool = true, timeout: Duration, userAgent: String = MeridianVersion.probeUserAgent(node: "unnamed"),
        client: HTTPClient
    ) {
        self.url = url
        self.expectStatus = expectStatus
        self.expectBody = expectBody
        self.host = host
        self.tlsVerify = tlsVerify
        self.timeout = timeout
        self.client = client
        var headers = HTTPHeaders()
        if let host { headers.add(name: "Host", value: host) }
        headers.add(name: "User-Agent", value: userAgent)
        request = try? HTTPClient.Request(url: url, method: .GET, headers: headers,
                                          tlsConfiguration: tlsVerify ? nil : Self.unverifiedTLS)
    }

    /// An HTTP client set up for probing. Shut it down (`shutdown()`) when done.
    public static func makeClient(eventLoopGroup: any EventLoopGroup) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: .makeClientConfiguration(),
            redirectConfiguration: .disallow,
            decompression: .disabled
        )
        // A refused or reset connection is the probe's answer, not something to retry until
        // the deadline; and probes of edges behind one address must never queue for a
        // connection (the default allows 8 per host).
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1_000_000
        configuration.connectionPool.idleTimeout = .seconds(2)
        configuration.httpVersion = .http1Only
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
    }

    static let unverifiedTLS: TLSConfiguration = {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }()

    /// `eventLoop` must belong to the client's event loop group.
    public func check(on eventLoop: any EventLoop) -> EventLoopFuture<ProbeResult> {
        let start = NIODeadline.now()
        // The deadline covers the whole exchange: connect, TLS, head and body.
        let deadline = start + TimeAmount(timeout)
        let finish = { @Sendable (passed: Bool, reason: String) in
            ProbeResult(passed: passed, latency: Duration(NIODeadline.now() - start), reason: reason)
        }
        guard let request else { return eventLoop.makeSucceededFuture(finish(false, "invalid check URL")) }
        let delegate = ResponseDelegate(keepBody: expectBody != nil, eventLoop: eventLoop)
        // `.delegate(on:)` rather than `.delegateAndChannel(on:)`: connections pinned to a loop
        // are closed after each request. The checker's client has a single loop anyway.
        let task = client.execute(request: request, delegate: delegate, eventLoop: .delegate(on: eventLoop),
                                  deadline: deadline)
        return task.futureResult.hop(to: eventLoop).map { response in
            guard expectStatus.contains(response.status) else { return finish(false, "HTTP \(response.status)") }
            if let expectBody, !String(buffer: response.body).contains(expectBody) {
                return finish(false, "body did not contain \"\(expectBody)\"")
            }
            return finish(true, "HTTP \(response.status)")
        }.flatMapError { error in
            switch ProbeFailure.classify(error, timeout: timeout) {
            case .reason(let text):
                return eventLoop.makeSucceededFuture(finish(false, text))
            case .certificateVerificationFailed:
                guard let target = HTTPCheckTarget(url: url) else {
                    return eventLoop.makeSucceededFuture(finish(false, "TLS: certificate not trusted"))
                }
                return TLSDiagnosis.explainVerificationFailure(
                    host: target.host, port: target.port, on: eventLoop, deadline: deadline
                ).map { finish(false, $0) }
            }
        }
    }

    struct Response: Sendable {
        var status = 0
        var body = ByteBuffer()
    }

    /// Keeps the status and, when the body matters, its first 64 KiB. Called on the probe's
    /// event loop only (the request runs with `.delegate(on:)`).
    final class ResponseDelegate: HTTPClientResponseDelegate {
        private let response: NIOLoopBoundBox<Response>
        private let keepBody: Bool

        init(keepBody: Bool, eventLoop: any EventLoop) {
            self.keepBody = keepBody
            response = .makeBoxSendingValue(Response(), eventLoop: eventLoop)
        }

        func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            response.value.status = Int(head.status.code)
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            if keepBody, response.value.body.readableBytes < HTTPProbe.bodyLimit {
                var buffer = buffer
                response.value.body.writeBuffer(&buffer)
            }
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
            response.value
        }
    }
}

/// Why a certificate chain failed verification. BoringSSL reports only
/// `CERTIFICATE_VERIFY_FAILED`; a second handshake that keeps the peer's chain tells an
/// expired certificate from one nobody trusts. It runs only after a verification failure,
/// within what is left of the probe's deadline.
enum TLSDiagnosis {
    private static let context: NIOSSLContext? = try? NIOSSLContext(configuration: .makeClientConfiguration())

    static func explainVerificationFailure(host: String, port: Int, on loop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<String> {
        // When the second look fails (time ran out, the edge went away) say no more than is known.
        let unexplained = "TLS: certificate verification failed"
        guard let context else { return loop.makeSucceededFuture(unexplained) }
        let chain = loop.makePromise(of: [NIOSSLCertificate].self)
        let serverName: String? = IPAddress(host) == nil ? host : nil
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(max(deadline - .now(), .milliseconds(1)))
            .channelInitializer { channel in
                do {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: serverName) {
                        (certificates: [NIOSSLCertificate], verdict: EventLoopPromise<NIOSSLVerificationResult>) in
                        chain.succeed(certificates)
                        verdict.succeed(.failed)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        // Completing a promise twice is ignored, so whichever of these comes first wins.
        let timer = loop.scheduleTask(deadline: deadline) { chain.fail(ChannelError.connectTimeout(.zero)) }
        let connected = bootstrap.connect(host: host, port: port)
        connected.whenComplete { result in
            switch result {
            case .success(let channel): channel.closeFuture.whenComplete { _ in chain.fail(ChannelError.alreadyClosed) }
            case .failure(let error): chain.fail(error)
            }
        }
        return chain.futureResult.map { certificates in
            describe(certificates, now: time(nil))
        }.recover { _ in
            unexplained
        }.always { _ in
            timer.cancel()
            connected.whenSuccess { (channel: any Channel) in channel.close(mode: .all, promise: nil) }
        }
    }

    static func describe(_ certificates: [NIOSSLCertificate], now: time_t) -> String {
        if certificates.contains(where: { $0.notValidAfter < now }) { return "TLS: certificate expired" }
        if certificates.contains(where: { $0.notValidBefore > now }) { return "TLS: certificate not yet valid" }
        return "TLS: certificate not trusted"
    }
}
