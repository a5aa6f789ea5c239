import Foundation
import MeridianControl
import MeridianStats
import NIOCore
import NIOPosix
import Testing

/// The stats port over real HTTP on 127.0.0.1 with an ephemeral port.
@Suite struct StatsServerTests {
    @Test func jsonEndpointsDecodeAsTheReplies() async throws {
        let backend = FakeBackend()
        try await withStatsServer(backend: backend) { port in
            let status = try #require(await get("/api/v1/status", port: port))
            #expect(status.status == 200)
            #expect(status.header("content-type") == "application/json; charset=utf-8")
            #expect(try ControlJSON.decoder().decode(StatusReply.self, from: Data(status.body.utf8)) == (await backend.status()))

            let edges = try #require(await get("/api/v1/edges", port: port))
            #expect(try ControlJSON.decoder().decode(EdgesReply.self, from: Data(edges.body.utf8)) == (await backend.edges()))

            let stats = try #require(await get("/api/v1/stats?fresh=1", port: port))
            #expect(try ControlJSON.decoder().decode(StatsReply.self, from: Data(stats.body.utf8)) == (await backend.stats()))
        }
    }

    @Test func dashboardIsSelfContainedAndShowsEveryEdge() async throws {
        try await withStatsServer { port in
            let reply = try #require(await get("/", port: port))
            #expect(reply.status == 200)
            #expect(reply.header("content-type") == "text/html; charset=utf-8")
            #expect(reply.header("content-security-policy")?.contains("default-src 'none'") == true)
            let html = reply.body
            #expect(html.hasPrefix("<!doctype html>"))
            // Nothing fetched from elsewhere: no URL at all, no external script, style or font.
            #expect(!html.contains("http://") && !html.contains("https://"))
            #expect(!html.contains("<script src") && !html.contains("<link rel=\"stylesheet\"") && !html.contains("@import")
                && !html.contains("url("))
            // Every edge as a table row and a map dot, with its state.
            for (name, state, admin, health) in [("fra1", "up", "active", "up"), ("iad1", "down", "active", "down"),
                                                 ("sin1", "up", "drained", "drained"), ("gru1", "unknown", "active", "unknown")] {
                let attributes = "data-edge=\"\(name)\" data-state=\"\(state)\" data-admin=\"\(admin)\" data-health=\"\(health)\""
                #expect(html.contains("<tr \(attributes)>"), "row of \(name)")
                #expect(html.contains("<g class=\"edge\" \(attributes)"), "dot of \(name)")
            }
            for id in ["map", "land", "edge-dots", "edge-rows", "qps", "queries-total", "last-reload", "rcode-rows", "qtype-rows", "zone-rows", "conn"] {
                #expect(html.contains("id=\"\(id)\""), "element #\(id)")
            }
            #expect(html.contains("<tr data-rcode=\"NXDOMAIN\"><td>NXDOMAIN</td><td class=\"num\">150</td></tr>"))
            #expect(html.contains("id=\"last-reload\" data-ok=\"false\""))
            #expect(html.contains("unknown record type &quot;AAA&quot;"))
            #expect(html.contains("id=\"queries-total\" data-value=\"1500\">1,500<"))
            // The map is inline SVG with a land outline, and the script polls the JSON API.
            #expect(html.contains("<svg id=\"map\" viewBox=\"0 0 360 150\""))
            #expect(html.contains("<path id=\"land\" d=\"M"))
            for path in ["/api/v1/status", "/api/v1/edges", "/api/v1/stats"] { #expect(html.contains("fetchJSON(\"\(path)\")")) }
            #expect(html.utf8.count < 48 * 1024)
        }
    }

    @Test func dashboardEscapesWhatItShows() async throws {
        try await withStatsServer(backend: FakeBackend(edgeNames: ["<b>x</b>", "a\"b"])) { port in
            let html = try #require(await get("/", port: port)).body
            #expect(!html.contains("<b>x</b>"))
            #expect(html.contains("data-edge=\"&lt;b&gt;x&lt;/b&gt;\""))
            #expect(html.contains("data-edge=\"a&quot;b\""))
            // The embedded JSON cannot end its script element.
            #expect(html.contains("\\u003cb\\u003ex\\u003c/b\\u003e"))
        }
    }

    @Test func unknownPathsAre404() async throws {
        try await withStatsServer { port in
            for path in ["/nope", "/api/v1", "/api/v1/drain", "/metrics/x", "/%2e%2e/etc/passwd"] {
                #expect(await get(path, port: port)?.status == 404, "\(path)")
            }
        }
    }

    @Test func onlyGETAndHEADAreServed() async throws {
        try await withStatsServer { port in
            for method in ["POST", "PUT", "DELETE", "PATCH"] {
                let reply = await get("/api/v1/edges", port: port, method: method, extraHeaders: "Content-Length: 2\r\n", body: "{}")
                #expect(reply?.status == 405, "\(method)")
                #expect(reply?.header("allow") == "GET, HEAD")
            }
            let head = try #require(await get("/metrics", port: port, method: "HEAD"))
            #expect(head.status == 200)
            #expect(Int(head.header("content-length") ?? "") ?? 0 > 1000)
        }
    }

    @Test func oversizedRequestsAreRefused() async throws {
        try await withStatsServer { port in
            let bigHeader = "X-Padding: " + String(repeating: "a", count: StatsServer.maximumRequestBytes) + "\r\n"
            let tooLargeHead = await get("/metrics", port: port, extraHeaders: bigHeader)
            #expect(tooLargeHead?.status == 431)
            #expect(tooLargeHead?.header("connection") == "close")

            let body = String(repeating: "b", count: StatsServer.maximumRequestBytes + 10)
            let declared = await get("/metrics", port: port, extraHeaders: "Content-Length: \(body.utf8.count)\r\n", body: body)
            #expect(declared?.status == 413)

            let chunked = await onThread { () -> HTTPReply? in
                guard let connection = HTTPConnection(port: port) else { return nil }
                connection.send("GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                for _ in 0..<12 { connection.send("400\r\n" + String(repeating: "c", count: 1024) + "\r\n") }
                return connection.readResponse()
            }
            #expect(chunked?.status == 413)

            // Far beyond any limit: refused, never a crash, and the server goes on serving.
            let huge = await get("/metrics", port: port, extraHeaders: "X-Big: " + String(repeating: "z", count: 200_000) + "\r\n")
            #expect(huge == nil || huge?.status == 431 || huge?.status == 400)
            #expect(await get("/metrics", port: port)?.status == 200)
        }
    }

    @Test func keepAliveServesSeveralRequestsInOrder() async throws {
        try await withStatsServer { port in
            let replies = await onThread { () -> [HTTPReply?] in
                guard let connection = HTTPConnection(port: port) else { return [] }
                // Pipelined: both requests before reading.
                connection.send("GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
                let first = connection.readResponse(), second = connection.readResponse()
                connection.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                return [first, second, connection.readResponse()]
            }
            #expect(replies.map { $0?.status } == [200, 404, 200])
            #expect(replies.first??.body.contains("\"version\":\"1.2.3\"") == true)
        }
    }

    @Test func malformedRequestsGet400AndTheServerCarriesOn() async throws {
        try await withStatsServer { port in
            let reply = await onThread { () -> HTTPReply? in
                guard let connection = HTTPConnection(port: port) else { return nil }
                connection.send("THIS IS NOT HTTP\r\n\r\n")
                return connection.readResponse()
            }
            #expect(reply == nil || reply?.status == 400)
            let binary = await onThread { () -> Bool in
                guard let connection = HTTPConnection(port: port) else { return false }
                connection.send(String(decoding: (0..<255).map { UInt8($0) }, as: UTF8.self))
                return connection.closedByServer()
            }
            #expect(binary)
            #expect(await get("/api/v1/edges", port: port)?.status == 200)
        }
    }

    @Test func connectionsOpenedJustBeforeShutdownAreClosedToo() async throws {
        for _ in 0..<5 {
            let server = try await StatsServer.start(host: "127.0.0.1", port: 0, backend: FakeBackend(),
                                                     group: .singletonMultiThreadedEventLoopGroup, logger: testLogger)
            let port = try #require(server.localAddress?.port)
            let connections = await onThread { (0..<20).compactMap { _ in HTTPConnection(port: port) } }
            await server.shutdown()
            let closed = await onThread { connections.allSatisfy { $0.closedByServer() } }
            #expect(connections.count == 20)
            #expect(closed)
        }
    }

    @Test func bindsOnlyTheAddressGiven() async throws {
        try await withStatsServer { port in
            #expect(port > 0)
        }
        let server = try await StatsServer.start(host: "127.0.0.1", port: 0, backend: FakeBackend(),
                                                 group: .singletonMultiThreadedEventLoopGroup, logger: testLogger)
        #expect(server.localAddress?.ipAddress == "127.0.0.1")
        await server.shutdown()
    }
}
