import AsyncHTTPClient
import MeridianConfig
import MeridianHealth
import NIOCore
import NIOPosix
import Testing

/// Probes against real servers on 127.0.0.1: what passes, what fails, and the reason given.
extension HealthProbe {
    /// One check on a loop of the shared group (where the probing client runs too).
    func run() async throws -> ProbeResult {
        try await check(on: MultiThreadedEventLoopGroup.singleton.next()).get()
    }
}

@Suite struct ProbeTests {
    static let timeout = Duration.milliseconds(400)

    /// Runs `body` with a probing client that is shut down afterwards.
    func withClient(_ body: (HTTPClient) async throws -> Void) async throws {
        let client = HTTPProbe.makeClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            try await body(client)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    func probe(_ url: String, client: HTTPClient, expectStatus: [Int] = [200], expectBody: String? = nil,
               host: String? = nil, tlsVerify: Bool = true, timeout: Duration = Self.timeout) -> HTTPProbe {
        HTTPProbe(url: url, expectStatus: expectStatus, expectBody: expectBody, host: host, tlsVerify: tlsVerify,
                  timeout: timeout, client: client)
    }

    /// TLS handshakes of a debug build on a busy machine take a while; these are not timing tests.
    static let tlsTimeout = Duration.seconds(5)

    @Test func httpStatusAndBody() async throws {
        let server = try await HTTPTestServer.start()
        try await withClient { client in
            var result = try await probe(server.url, client: client, expectBody: "ok").run()
            #expect(result.passed)
            #expect(result.reason == "HTTP 200")
            #expect(result.latency < Self.timeout)

            server.set(.respond(status: 503, body: "ok"))
            result = try await probe(server.url, client: client).run()
            #expect(!result.passed)
            #expect(result.reason == "HTTP 503")

            server.set(.respond(status: 200, body: "maintenance"))
            result = try await probe(server.url, client: client, expectBody: "ok").run()
            #expect(!result.passed)
            #expect(result.reason == "body did not contain \"ok\"")
            // Without expect_body the body does not matter.
            result = try await probe(server.url, client: client).run()
            #expect(result.passed)

            server.set(.respond(status: 204, body: ""))
            result = try await probe(server.url, client: client, expectStatus: [200, 204]).run()
            #expect(result.passed)
            #expect(result.reason == "HTTP 204")
            result = try await probe(server.url, client: client).run()
            #expect(result.reason == "HTTP 204")
            #expect(!result.passed)

            // A redirect is the answer, not followed.
            server.set(.respond(status: 301, body: ""))
            result = try await probe(server.url, client: client).run()
            #expect(result.reason == "HTTP 301")
        }
        await server.stop()
    }

    @Test func hostHeader() async throws {
        let server = try await HTTPTestServer.start()
        try await withClient { client in
            _ = try await probe(server.url, client: client).run()
            _ = try await probe(server.url, client: client, host: "api.example.net").run()
        }
        #expect(server.hosts == ["127.0.0.1:\(server.port)", "api.example.net"])
        await server.stop()
    }

    @Test func hangingServerCostsOnlyTheTimeout() async throws {
        let server = try await HTTPTestServer.start(mode: .hang)
        try await withClient { client in
            let clock = ContinuousClock()
            let start = clock.now
            let result = try await probe(server.url, client: client).run()
            let elapsed = clock.now - start
            #expect(!result.passed)
            #expect(result.reason == "timeout after 400ms")
            #expect(elapsed >= Self.timeout)
            // The server never answers, so any bound proves the deadline ended the probe (the
            // reason says so too); the margin absorbs a 2-CPU machine busy with parallel suites.
            #expect(elapsed < Self.timeout + .seconds(10))
        }
        await server.stop()
    }

    @Test func closedConnectionAndRefusedPort() async throws {
        let server = try await HTTPTestServer.start(mode: .close)
        let refusing = try RefusingPort()
        let port = refusing.port
        try await withClient { client in
            let closed = try await probe(server.url, client: client).run()
            #expect(!closed.passed)
            #expect(closed.reason == "connection closed before a response" || closed.reason == "connection reset",
                    "\(closed.reason)")
            #expect(closed.latency < Self.timeout)

            let refused = try await probe("http://127.0.0.1:\(port)/healthz", client: client).run()
            #expect(!refused.passed)
            #expect(refused.reason == "connection refused")
            #expect(refused.latency < Self.timeout, "a refused connection fails at once, not at the deadline")
        }
        withExtendedLifetime(refusing) {}
        await server.stop()
    }

    @Test func selfSignedCertificateRejectedUnlessVerificationIsOff() async throws {
        let tls = try TestCertificates.serverContext(TestCertificates.selfSigned())
        let server = try await HTTPTestServer.start(tls: tls)
        try await withClient { client in
            let verified = try await probe(server.httpsURL, client: client, timeout: Self.tlsTimeout).run()
            #expect(!verified.passed)
            #expect(verified.reason == "TLS: certificate not trusted")

            let unverified = try await probe(server.httpsURL, client: client, expectBody: "ok", tlsVerify: false, timeout: Self.tlsTimeout).run()
            #expect(unverified.passed, "\(unverified.reason)")
            #expect(unverified.reason == "HTTP 200")

            // Plain HTTP to a TLS port is not a pass either.
            let plain = try await probe(server.url, client: client).run()
            #expect(!plain.passed)
        }
        await server.stop()
    }

    @Test func expiredCertificate() async throws {
        let tls = try TestCertificates.serverContext(TestCertificates.expired())
        let server = try await HTTPTestServer.start(tls: tls)
        try await withClient { client in
            let verified = try await probe(server.httpsURL, client: client, timeout: Self.tlsTimeout).run()
            #expect(!verified.passed)
            #expect(verified.reason == "TLS: certificate expired")

            let unverified = try await probe(server.httpsURL, client: client, tlsVerify: false, timeout: Self.tlsTimeout).run()
            #expect(unverified.passed, "\(unverified.reason)")
        }
        await server.stop()
    }

    @Test func tcpConnect() async throws {
        let listener = try await TCPTestListener.start()
        let probe = TCPProbe(host: "127.0.0.1", port: listener.port, timeout: Self.timeout)
        let up = try await probe.run()
        #expect(up.passed)
        #expect(up.reason == "connected")

        await listener.stop()
        // The same probe against a port nothing listens on (held, so no other test takes it).
        let refusing = try RefusingPort()
        let down = try await TCPProbe(host: "127.0.0.1", port: refusing.port, timeout: Self.timeout).run()
        #expect(!down.passed)
        #expect(down.reason == "connection refused")

        let named = try await TCPProbe(host: "localhost", port: refusing.port, timeout: Self.timeout).run()
        #expect(!named.passed)
        #expect(named.reason == "connection refused")
        withExtendedLifetime(refusing) {}
    }
}
