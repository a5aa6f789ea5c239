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
/// trust store and the URL's host unless `tlsVerify` is false.
///
/// Each probe opens a new connection and closes it after the answer (`Connection: close`),
/// as HAProxy and gdnsd do, so a check also proves the edge still accepts connections and a
/// connection the edge closed while idle can never fail a probe.
public struct HTTPProbe: HealthProbe {
    public let url: String
    public let expectStatus: [Int]
    public let expectBody: String?
    public let host: String?
    public let tlsVerify: Bool
    public let timeout: Duration
    let client: HTTPClient

    /// Bodies are read up to this size; `expectBody` must appear within it.
    static let bodyLimit = 64 * 1024

    /// `client` should come from ``HTTPProbe/makeClient(eventLoopGroup:)``: it does not follow
    /// redirects or retry failed connection attempts, so a refused connection fails at once.
    public init(
        url: String, expectStatus: [Int] = [200], expectBody: String? = nil, host: String? = nil,
        tlsVerify: Bool = true, timeout: Duration, client: HTTPClient
    ) {
        self.url = url
        self.expectStatus = expectStatus
        self.expectBody = expectBody
        self.host = host
        self.tlsVerify = tlsVerify
        self.timeout = timeout
        self.client = client
    }

    /// An HTTP client set up for probing. Shut it down (`shutdown()`) when done.
    public static func makeClient(eventLoopGroup: any EventLoopGroup) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: .makeClientConfiguration(),
            redirectConfiguration: .disallow,
            decompression: .disabled
        )
        // A refused or reset connection is the probe's answer, not something to retry until
        // the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.idleTimeout = .seconds(1)
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
    }

    static let unverifiedTLS: TLSConfiguration = {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }()

    public func check() async -> ProbeResult {
        let clock = ContinuousClock()
        let start = clock.now
        // The client's deadline covers the response head; racing a timer also bounds a body
        // that trickles in or never ends.
        let reason: (passed: Bool, text: String) = await withTaskGroup(of: (passed: Bool, text: String)?.self) { group in
            group.addTask { await self.get() }
            group.addTask {
                try? await Task.sleep(for: self.timeout)
                return Task.isCancelled ? nil : (false, "timeout after \(self.timeout.operatorText)")
            }
            var verdict: (passed: Bool, text: String)?
            while verdict == nil, let next = await group.next() { verdict = next }
            group.cancelAll()
            return verdict ?? (false, "timeout after \(self.timeout.operatorText)")
        }
        return ProbeResult(passed: reason.passed, latency: clock.now - start, reason: reason.text)
    }

    private func get() async -> (passed: Bool, text: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        if let host { request.headers.replaceOrAdd(name: "Host", value: host) }
        request.headers.add(name: "User-Agent", value: "meridian-health-check")
        request.headers.add(name: "Connection", value: "close")
        if !tlsVerify { request.tlsConfiguration = Self.unverifiedTLS }
        do {
            let response = try await client.execute(request, deadline: .now() + TimeAmount(timeout))
            let status = Int(response.status.code)
            guard expectStatus.contains(status) else { return (false, "HTTP \(status)") }
            // Without `expectBody` the body is not read: dropping it closes the connection,
            // which `Connection: close` asked for anyway.
            if let expectBody {
                var body = ByteBuffer()
                for try await chunk in response.body {
                    body.writeImmutableBuffer(chunk)
                    if body.readableBytes >= Self.bodyLimit { break }
                }
                guard String(buffer: body).contains(expectBody) else {
                    return (false, "body did not contain \"\(expectBody)\"")
                }
            }
            return (true, "HTTP \(status)")
        } catch {
            switch ProbeFailure.classify(error, timeout: timeout) {
            case .reason(let text):
                return (false, text)
            case .certificateVerificationFailed:
                guard let target = HTTPCheckTarget(url: url) else { return (false, "TLS: certificate not trusted") }
                let text = await TLSDiagnosis.explainVerificationFailure(
                    host: target.host, port: target.port, group: client.eventLoopGroup, timeout: timeout)
                return (false, text)
            }
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Why a certificate chain failed verification. BoringSSL reports only
/// `CERTIFICATE_VERIFY_FAILED`; a second handshake that keeps the peer's chain tells an
/// expired certificate from one nobody trusts. It runs only after a verification failure.
enum TLSDiagnosis {
    private static let context: NIOSSLContext? = try? NIOSSLContext(configuration: .makeClientConfiguration())

    static func explainVerificationFailure(host: String, port: Int, group: any EventLoopGroup, timeout: Duration) async -> String {
        let untrusted = "TLS: certificate not trusted"
        guard let context else { return untrusted }
        let loop = group.next()
        let chain = loop.makePromise(of: [NIOSSLCertificate].self)
        let serverName: String? = IPAddress(host) == nil ? host : nil
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(timeout))
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
        let timer = loop.scheduleTask(in: TimeAmount(timeout)) { chain.fail(ChannelError.connectTimeout(TimeAmount(timeout))) }
        let connected = bootstrap.connect(host: host, port: port)
        connected.whenComplete { result in
            switch result {
            case .success(let channel): channel.closeFuture.whenComplete { _ in chain.fail(ChannelError.alreadyClosed) }
            case .failure(let error): chain.fail(error)
            }
        }
        defer {
            timer.cancel()
            connected.whenSuccess { (channel: any Channel) in channel.close(mode: .all, promise: nil) }
        }
        guard let certificates = try? await chain.futureResult.get() else { return untrusted }
        return describe(certificates, now: time(nil))
    }

    static func describe(_ certificates: [NIOSSLCertificate], now: time_t) -> String {
        if certificates.contains(where: { $0.notValidAfter < now }) { return "TLS: certificate expired" }
        if certificates.contains(where: { $0.notValidBefore > now }) { return "TLS: certificate not yet valid" }
        return "TLS: certificate not trusted"
    }
}
