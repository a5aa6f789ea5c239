import AsyncHTTPClient
import MeridianConfig
import MeridianHealth
import NIOCore
import NIOPosix
import Testing

/// Probes against real servers on 127.0.0.1: what passes, what fails, and the reason given.
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
               host: String? = nil, tlsVerify: Bool = true) -> HTTPProbe {
        HTTPProbe(url: url, expectStatus: expectStatus, expectBody: expectBody, host: host, tlsVerify: tlsVerify,
                  timeout: Self.timeout, client: client)
    }

    @Test func httpStatusAndBody() async throws {
        let server = try await HTTPTestServer.start()
        try await withClient { client in
            var result = await probe(server.url, client: client, expectBody: "ok").check()
            #expect(result.passed)
            #expect(result.reason == "HTTP 200")
            #expect(result.latency < Self.timeout)

            server.set(.respond(status: 503, body: "ok"))
            result = await probe(server.url, client: client).check()
            #expect(!result.passed)
            #expect(result.reason == "HTTP 503")

            server.set(.respond(status: 200, body: "maintenance"))
            result = await probe(server.url, client: client, expectBody: "ok").check()
            #expect(!result.passed)
            #expect(result.reason == "body did not contain \"ok\"")
            // Without expect_body the body does not matter.
            result = await probe(server.url, client: client).check()
            #expect(result.passed)

            server.set(.respond(status: 204, body: ""))
            result = await probe(server.url, client: client, expectStatus: [200, 204]).check()
            #expect(result.passed)
            #expect(result.reason == "HTTP 204")
            result = await probe(server.url, client: client).check()
            #expect(result.reason == "HTTP 204")
            #expect(!result.passed)

            // A redirect is the answer, not followed.
            server.set(.respond(status: 301, body: ""))
            result = await probe(server.url, client: client).check()
            #expect(result.reason == "HTTP 301")
        }
        await server.stop()
    }

    @Test func hostHeader() async throws {
        let server = try await HTTPTestServer.start()
        try await withClient { client in
            _ = await probe(server.url, client: client).check()
            _ = await probe(server.url, client: client, host: "api.example.net").check()
        }
        #expect(server.hosts == ["127.0.0.1:\(server.port)", "api.example.net"])
        await server.stop()
    }

    @Test func hangingServerCostsOnlyTheTimeout() async throws {
        let server = try await HTTPTestServer.start(mode: .hang)
        try await withClient { client in
            let clock = ContinuousClock()
            let start = clock.now
            let result = await probe(server.url, client: client).check()
            let elapsed = clock.now - start
            #expect(!result.passed)
            #expect(result.reason == "timeout after 400ms")
            #expect(elapsed >= Self.timeout)
            #expect(elapsed < Self.timeout + .milliseconds(500))
        }
        await server.stop()
    }

    @Test func closedConnectionAndRefusedPort() async throws {
        let server = try await HTTPTestServer.start(mode: .close)
        let port = try await unusedPort()
        try await withClient { client in
            let closed = await probe(server.url, client: client).check()
            #expect(!closed.passed)
            #expect(closed.reason == "connection closed before a response" || closed.reason == "connection reset",
                    "\(closed.reason)")
            #expect(closed.latency < Self.timeout)

            let refused = await probe("http://127.0.0.1:\(port)/healthz", client: client).check()
            #expect(!refused.passed)
            #expect(refused.reason == "connection refused")
            #expect(refused.latency < Self.timeout, "a refused connection fails at once, not at the deadline")
        }
        await server.stop()
    }

    @Test func selfSignedCertificateRejectedUnlessVerificationIsOff() async throws {
        let tls = try TestCertificates.serverContext(TestCertificates.selfSigned())
        let server = try await HTTPTestServer.start(tls: tls)
        try await withClient { client in
            let verified = await probe(server.httpsURL, client: client).check()
            #expect(!verified.passed)
            #expect(verified.reason == "TLS: certificate not trusted")

            let unverified = await probe(server.httpsURL, client: client, expectBody: "ok", tlsVerify: false).check()
            #expect(unverified.passed, "\(unverified.reason)")
            #expect(unverified.reason == "HTTP 200")

            // Plain HTTP to a TLS port is not a pass either.
            let plain = await probe(server.url, client: client).check()
            #expect(!plain.passed)
        }
        await server.stop()
    }

    @Test func expiredCertificate() async throws {
        let tls = try TestCertificates.serverContext(TestCertificates.expired())
        let server = try await HTTPTestServer.start(tls: tls)
        try await withClient { client in
            let verified = await probe(server.httpsURL, client: client).check()
            #expect(!verified.passed)
            #expect(verified.reason == "TLS: certificate expired")

            let unverified = await probe(server.httpsURL, client: client, tlsVerify: false).check()
            #expect(unverified.passed, "\(unverified.reason)")
        }
        await server.stop()
    }

    @Test func tcpConnect() async throws {
        let listener = try await TCPTestListener.start()
        let group = MultiThreadedEventLoopGroup.singleton
        let probe = TCPProbe(host: "127.0.0.1", port: listener.port, timeout: Self.timeout, eventLoopGroup: group)
        let up = await probe.check()
        #expect(up.passed)
        #expect(up.reason == "connected")

        await listener.stop()
        let down = await probe.check()
        #expect(!down.passed)
        #expect(down.reason == "connection refused")

        let named = await TCPProbe(host: "localhost", port: listener.port, timeout: Self.timeout, eventLoopGroup: group).check()
        #expect(!named.passed)
        #expect(named.reason == "connection refused")
    }
}
