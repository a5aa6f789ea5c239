import Foundation
import Logging
import MeridianControl
import MeridianStats
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

let testLogger = Logger(label: "meridian.stats.tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs blocking socket code on its own thread.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// Fixed data in the shape a small deployment produces.
struct FakeBackend: ControlBackend {
    var edgeNames = ["fra1", "iad1", "sin1", "gru1"]

    func reload() async -> ReloadReply { ReloadReply(ok: true) }

    func status() async -> StatusReply {
        StatusReply(version: "1.2.3", uptimeSeconds: 3725, startedAt: 1_764_000_000,
                    zones: [.init(name: "inference.example.", serial: 2026112501, records: 12)],
                    queriesPerSecond: 12.5, queriesTotal: 1500,
                    lastReload: .init(at: 1_764_003_000, ok: false, summary: "zones/inference.example.zone:7: unknown record type \"AAA\""))
    }

    func edges() async -> EdgesReply {
        let states: [EdgeState] = [.up, .down, .up, .unknown]
        return EdgesReply(edges: edgeNames.enumerated().map { index, name in
            EdgesReply.Row(name: name, pools: ["inference"], location: [[50.11, 8.68], [38.95, -77.45], [1.35, 103.99], [-23.43, -46.47], [0, 0]][min(index, 4)],
                           addresses: ["192.0.2.\(10 + index)"], state: states[index % 4], admin: index == 2 ? .drained : .active,
                           checked: index != 0, lastCheck: index == 0 ? nil : 1_764_003_700, latencyMs: index == 0 ? nil : 1.5,
                           result: index == 1 ? "HTTP 503" : nil, since: 1_764_003_600, answers: UInt64(100 * (index + 1)), transitions: UInt64(index))
        })
    }

    func setDrained(edge: String, drained: Bool) async -> Result<EdgesReply.Row, ControlFailure> {
        .failure(ControlFailure("not over HTTP"))
    }

    func explain(name: String, client: String, prefix: Int?, type: String?) async -> Result<ExplainReply, ControlFailure> {
        .failure(ControlFailure("not over HTTP"))
    }

    /// Two minutes ending at 1_764_003_720: 10 queries a second, answered by the first edge
    /// and then, once the second went down a minute ago, by the third.
    func history(seconds: Int) async -> HistoryReply {
        let end = 1_764_003_720
        var history = TrafficHistory(bucketsSeconds: [0.000002, 0.00001, 0.0001, 0.001, 0.01])
        var queries = 0
        var answers: [String: Int] = [:]
        for second in (end - 120)...end {
            history.sample(at: Double(second) + 0.25, queries: queries, responseCounts: [0, queries, queries / 10, 0, 0, 0],
                           answersByEdge: answers)
            queries += 10
            answers[edgeNames[second < end - 60 ? 0 : min(2, edgeNames.count - 1)], default: 0] += 10
        }
        history.record(.init(at: Double(end - 60), edge: edgeNames[min(1, edgeNames.count - 1)], kind: "health", from: "up", to: "down",
                             reason: "HTTP 503 (2 consecutive failures, fall 2)"))
        let edges = await self.edges().edges.map { HistoryReply.Edge(name: $0.name, state: $0.state, admin: $0.admin) }
        return history.reply(seconds: seconds, now: Double(end) + 1.5, edges: edges)
    }

    func stats() async -> StatsReply {
        StatsReply(
            version: "1.2.3", uptimeSeconds: 3725.5, startedAt: 1_764_000_000,
            queries: .init(byTransport: ["udp": 1400, "tcp": 100], byType: ["A": 1000, "AAAA": 400, "OTHER": 90],
                           byRcode: ["NOERROR": 1300, "NXDOMAIN": 150, "REFUSED": 40], dropped: 10, truncated: 5),
            answersByPool: ["inference": 900], answersByEdge: Dictionary(uniqueKeysWithValues: edgeNames.enumerated().map { ($1, UInt64(100 * ($0 + 1))) }),
            edges: edgeNames.enumerated().map { index, name in
                StatsReply.Edge(name: name, state: index == 1 ? .down : index == 3 ? .unknown : .up, drained: index == 2,
                                probeLatencySeconds: index == 0 ? nil : 0.0015, transitions: UInt64(index),
                                probeDurations: index == 1 ? .init(bucketsSeconds: [0.001, 0.01], counts: [2, 0, 1], sum: 0.5) : nil)
            },
            responseTime: .init(bucketsSeconds: [0.000002, 0.00001, 0.0001, 0.001, 0.01], counts: [10, 800, 600, 60, 15, 5], sum: 0.123),
            reloads: .init(ok: 3, failed: 1, lastSucceeded: false, lastSuccessAt: 1_764_000_100),
            rateLimit: .init(limitedByClass: ["large": 30, "nxdomain": 4], slipped: 17, dropped: 17),
            zones: [.init(zone: "inference.example.", serial: 2026112501)],
            pools: [.init(pool: "inference", edges: 4, available: 2)],
            process: .init(cpuSeconds: 12.5, residentBytes: 44_000_000, virtualBytes: 900_000_000, openFileDescriptors: 40,
                           maxFileDescriptors: 65536))
    }
}

/// One HTTP response as read off the wire.
struct HTTPReply: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// A blocking TCP connection to the stats server.
final class HTTPConnection: @unchecked Sendable {
    let fd: Int32
    private var pending: [UInt8] = []

    init?(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if result != 0 {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }
            offset += count
        }
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { return false }
        pending += chunk[..<count]
        return true
    }

    /// Reads one response; `head` says the request was HEAD (no body follows).
    func readResponse(head: Bool = false) -> HTTPReply? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var end: Int?
        while end == nil {
            if pending.count >= 4 {
                for index in 0...(pending.count - 4) where Array(pending[index..<index + 4]) == separator {
                    end = index
                    break
                }
            }
            if end == nil && !fill() { return nil }
        }
        let headText = String(decoding: pending[..<end!], as: UTF8.self)
        pending.removeSubrange(..<(end! + 4))
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var reply = HTTPReply(status: status, headers: headers, body: "")
        if head { return reply }
        let length = Int(reply.header("content-length") ?? "0") ?? 0
        while pending.count < length {
            if !fill() { return nil }
        }
        reply.body = String(decoding: pending[..<length], as: UTF8.self)
        pending.removeSubrange(..<length)
        return reply
    }

    /// Whether the server closes the connection (within the receive timeout).
    func closedByServer() -> Bool {
        pending.removeAll()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }
}

/// One request on a new connection.
func get(_ path: String, port: Int, method: String = "GET", extraHeaders: String = "", body: String = "") async -> HTTPReply? {
    await onThread {
        guard let connection = HTTPConnection(port: port) else { return nil }
        connection.send("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\(extraHeaders)\r\n\(body)")
        return connection.readResponse(head: method == "HEAD")
    }
}

/// Starts a server on 127.0.0.1 with an ephemeral port, runs `body`, shuts it down.
func withStatsServer(backend: FakeBackend = FakeBackend(), _ body: (Int) async throws -> Void) async throws {
    let server = try await StatsServer.start(host: "127.0.0.1", port: 0, backend: backend,
                                             group: MultiThreadedEventLoopGroup.singleton, logger: testLogger)
    let port = try #require(server.port)
    do {
        try await body(port)
    } catch {
        await server.shutdown()
        throw error
    }
    await server.shutdown()
}

