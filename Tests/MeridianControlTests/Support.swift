import Foundation
import Logging
import MeridianControl
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs blocking socket code on its own thread, so it never ties up the threads the server's
/// tasks run on.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.start()
    }
}

/// A fresh directory under the system temporary directory, short enough for socket paths.
func temporaryDirectory() -> String {
    var template = Array("/tmp/mctl-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { buffer in String(cString: mkdtemp(buffer.baseAddress!)) }
    return path
}

func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

let testLogger = Logger(label: "meridian.control.tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A backend with canned replies. `drain`/`undrain` know the edges `fra1` and `iad1`;
/// `explain` knows `api.inference.example.`. When `rendezvous` is set, `status()` waits
/// until that many status requests are in progress at once (or five seconds pass) and
/// reports whether they met.
actor FakeBackend: ControlBackend {
    var drained: Set<String> = []
    var requests: [String] = []
    let rendezvous: Int
    private var waiting = 0
    private(set) var met = false

    init(rendezvous: Int = 0) { self.rendezvous = rendezvous }

    static let edgeNames = ["fra1", "iad1"]

    func reload() async -> ReloadReply {
        requests.append("reload")
        return ReloadReply(ok: false, errors: ["zones/inference.example.zone:7: unknown record type \"AAA\""])
    }

    func status() async -> StatusReply {
        requests.append("status")
        if rendezvous > 0 {
            waiting += 1
            let deadline = ContinuousClock.now + .seconds(5)
            while waiting < rendezvous && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            if waiting >= rendezvous { met = true }
        }
        return StatusReply(version: "1.0.0-test", uptimeSeconds: 12.5, startedAt: 1_764_000_000,
                           zones: [.init(name: "inference.example.", serial: 2026112501, records: 12)],
                           queriesPerSecond: 3.5, queriesTotal: 42)
    }

    func edges() async -> EdgesReply {
        requests.append("edges")
        return EdgesReply(edges: Self.edgeNames.map(row))
    }

    private func row(_ name: String) -> EdgesReply.Row {
        EdgesReply.Row(name: name, pools: ["inference"], location: [50.11, 8.68], addresses: ["192.0.2.10"],
                       state: .up, admin: drained.contains(name) ? .drained : .active, checked: true,
                       lastCheck: 1_764_000_100, latencyMs: 1.25, result: "HTTP 200", since: 1_764_000_000, answers: 7)
    }

    func setDrained(edge: String, drained: Bool) async -> Result<EdgesReply.Row, ControlFailure> {
        requests.append(drained ? "drain \(edge)" : "undrain \(edge)")
        guard Self.edgeNames.contains(edge) else { return .failure(ControlFailure("unknown edge \"\(edge)\"")) }
        if drained { self.drained.insert(edge) } else { self.drained.remove(edge) }
        return .success(row(edge))
    }

    func explain(name: String, client: String, prefix: Int?, type: String?) async -> Result<ExplainReply, ControlFailure> {
        requests.append("explain \(name) \(client)/\(prefix.map(String.init) ?? "-") \(type ?? "-")")
        guard name == "api.inference.example." else {
            return .failure(ControlFailure("\(name) is not a dynamic name (no DYNA or DYNC record)"))
        }
        return .success(ExplainReply(
            name: name, type: type ?? "A", client: client, prefix: prefix ?? 32, clientSource: prefix == nil ? .source : .ecs,
            network: "81.2.69.0/22", source: .database,
            location: .init(latitude: 51.5, longitude: -0.12, country: "GB", continent: "EU", subdivision: "ENG"),
            pool: "inference", policy: "nearest", poolAnswers: 1,
            candidates: [.init(edge: "fra1", km: 637.2, state: .up, chosen: true),
                         .init(edge: "iad1", km: 5890.4, state: .up, chosen: false)],
            answer: ["api.inference.example. 30 IN A 192.0.2.10"], rcode: "NOERROR", ttl: 30, scope: 22))
    }

    func stats() async -> StatsReply {
        requests.append("stats")
        return StatsReply(version: "1.0.0-test", uptimeSeconds: 12.5, startedAt: 1_764_000_000)
    }
}

/// Calls `body` with `path` as a Unix socket address and its length.
func withSocketAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
}

/// Leaves a socket file at `path` that nobody listens on, as a killed server does.
func makeStaleSocketFile(at path: String) -> Bool {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return withSocketAddress(path) { bind(fd, $0, $1) } == 0
}

/// A raw client: one connection, lines in and out, for the cases `ControlClient` does not
/// produce (several requests per connection, malformed and oversized requests).
final class RawConnection: @unchecked Sendable {
    let fd: Int32
    private var pending: [UInt8] = []

    init?(path: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        guard withSocketAddress(path, { connect(fd, $0, $1) }) == 0 else {
            close(fd)
            return nil
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }
            offset += count
        }
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// The next line, or `nil` at end of stream (or after ten seconds).
    func readLine() -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            pending += chunk[..<count]
        }
    }

    /// Reads until the server closes; true if it did within the timeout.
    func readsEndOfStream() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }
}

/// The JSON object of a reply line.
func object(_ line: String?) -> [String: Any] {
    guard let line, let data = line.data(using: .utf8),
          let value = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
    return value
}

/// The mode bits of a file.
func fileMode(_ path: String) -> mode_t? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    return info.st_mode
}

func fileExists(_ path: String) -> Bool { fileMode(path) != nil }

let sharedGroup = MultiThreadedEventLoopGroup.singleton

/// Runs a client call on its own thread and returns the error it threw, if any.
func clientError(_ body: @escaping @Sendable () throws(ControlClientError) -> Void) async -> ControlClientError? {
    await onThread { () -> ControlClientError? in
        do throws(ControlClientError) {
            try body()
            return nil
        } catch {
            return error
        }
    }
}
