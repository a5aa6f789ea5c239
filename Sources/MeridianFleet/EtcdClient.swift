import AsyncHTTPClient
import Foundation
import MeridianConfig
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A client of etcd v3 through its JSON gateway (`/v3/kv/*`, `/v3/lease/*`, `/v3/watch`),
/// which every etcd since 3.4 serves on its client port.
///
/// Why the gateway and not gRPC: a fleet node makes a handful of requests a second at most
/// (a keep-alive, a verdict that changed, a drain), so the gateway's JSON costs nothing that
/// matters, and it runs over async-http-client, which the server already links for its
/// health probes. There is no generated code to carry or regenerate, and the same requests
/// can be replayed with curl when something goes wrong. The wire format is etcd's own:
/// keys and values base64, 64-bit integers as strings, default values left out.
///
/// Endpoints are tried in turn: a request that cannot reach one member goes to the next,
/// and the member that answered last is asked first next time.
public final class EtcdClient: Sendable {
    public let endpoints: [String]
    private let client: HTTPClient
    private let preferred = PreferredEndpoint()
    /// Longest wait for one unary request on one member. A member without a quorum blocks a
    /// write for seconds before failing; the next member is a better bet.
    public static let requestTimeout = TimeAmount.seconds(2)

    public init(settings: FleetSettings, eventLoopGroup: any EventLoopGroup) throws(EtcdError) {
        endpoints = settings.endpoints
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .milliseconds(500), read: nil)
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        if let tls = settings.tls {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            do {
                if let ca = tls.ca { tlsConfiguration.trustRoots = .file(ca) }
                if let cert = tls.cert, let key = tls.key {
                    tlsConfiguration.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                    tlsConfiguration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
            } catch {
                throw EtcdError(message: "fleet.tls: \(error)")
            }
            configuration.tlsConfiguration = tlsConfiguration
        }
        client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    // MARK: Key-value

    /// Every key under `prefix` (at `revision`, when given), and the store's revision.
    public func range(prefix: String, revision: Int64? = nil, keysOnly: Bool = false) async throws(EtcdError) -> (revision: Int64, pairs: [KeyValue]) {
        var body: [String: Any] = ["key": Self.base64(prefix), "range_end": Self.base64(Self.prefixEnd(prefix))]
        if let revision { body["revision"] = String(revision) }
        if keysOnly { body["keys_only"] = true }
        let reply = try await call("/v3/kv/range", body)
        let pairs = (reply["kvs"] as? [[String: Any]] ?? []).compactMap(KeyValue.init(json:))
        return (Self.revision(of: reply), pairs)
    }

    /// Writes `value` at `key`, under `lease` when given; returns the new revision.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64? = nil) async throws(EtcdError) -> Int64 {
        var body: [String: Any] = ["key": Self.base64(key), "value": Data(value).base64EncodedString()]
        if let lease { body["lease"] = String(lease) }
        return Self.revision(of: try await call("/v3/kv/put", body))
    }

    /// Deletes `key`; returns how many keys went.
    @discardableResult
    public func delete(_ key: String) async throws(EtcdError) -> Int {
        Int(Self.string(try await call("/v3/kv/deleterange", ["key": Self.base64(key)])["deleted"]) ?? "0") ?? 0
    }

    /// One transaction: when every comparison holds, the puts and deletes happen together.
    /// Returns whether they did, and the revision after.
    public func transaction(_ transaction: EtcdTransaction) async throws(EtcdError) -> (succeeded: Bool, revision: Int64) {
        var compare: [[String: Any]] = []
        for condition in transaction.unchangedSince {
            compare.append(["key": Self.base64(condition.key), "target": "MOD", "result": "EQUAL",
                            "mod_revision": String(condition.modRevision)])
        }
        var success: [[String: Any]] = []
        for (key, value) in transaction.puts {
            success.append(["request_put": ["key": Self.base64(key), "value": Data(value).base64EncodedString()]])
        }
        for key in transaction.deletes {
            success.append(["request_delete_range": ["key": Self.base64(key)]])
        }
        let reply = try await call("/v3/kv/txn", ["compare": compare, "success": success])
        return ((reply["succeeded"] as? Bool) ?? false, Self.revision(of: reply))
    }

    // MARK: Leases

    /// A new lease of `ttl` seconds; its ID.
    public func grantLease(ttl: Int) async throws(EtcdError) -> Int64 {
        let reply = try await call("/v3/lease/grant", ["TTL": String(ttl)])
        guard let id = Self.string(reply["ID"]).flatMap({ Int64($0) }) else {
            throw EtcdError(message: "etcd granted no lease: \(Self.string(reply["error"]) ?? "no ID in the reply")")
        }
        return id
    }

    /// Renews the lease; returns the seconds it has left, 0 when it expired already.
    public func keepAlive(lease: Int64) async throws(EtcdError) -> Int {
        let reply = try await call("/v3/lease/keepalive", ["ID": String(lease)])
        let result = reply["result"] as? [String: Any] ?? reply
        return Int(Self.string(result["TTL"]) ?? "0") ?? 0
    }

    public func revoke(lease: Int64, timeout: TimeAmount = .seconds(1)) async throws(EtcdError) {
        _ = try await call("/v3/lease/revoke", ["ID": String(lease)], timeout: timeout)
    }

    // MARK: Watch

    /// Watches every key under `prefix` from `revision` on, calling `handle` with each batch
    /// of events in order, until the stream ends (thrown as an error: the caller resyncs) or
    /// the task is cancelled. `started` is called once etcd confirms the watch.
    public func watch(prefix: String, from revision: Int64, started: @Sendable () async -> Void,
                      handle: @Sendable ([WatchEvent], Int64) async -> Void) async throws(EtcdError) {
        let body: [String: Any] = ["create_request": [
            "key": Self.base64(prefix), "range_end": Self.base64(Self.prefixEnd(prefix)), "start_revision": String(revision),
        ] as [String: Any]]
        let index = preferred.value % endpoints.count
        let endpoint = endpoints[index]
        do {
            let request = try Self.request(endpoint + "/v3/watch", body)
            let response = try await client.execute(request, timeout: .hours(24 * 365))
            guard response.status == .ok else { throw EtcdError(message: "\(endpoint): watch: HTTP \(response.status.code)") }
            var pending = ByteBuffer()
            for try await chunk in response.body {
                var chunk = chunk
                pending.writeBuffer(&chunk)
                while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    let length = newline - pending.readerIndex
                    let line = pending.readData(length: length) ?? Data()
                    pending.moveReaderIndex(forwardBy: 1)
                    guard !line.isEmpty, let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else { continue }
                    if let error = object["error"] as? [String: Any] {
                        throw EtcdError(message: "\(endpoint): watch: \(Self.string(error["message"]) ?? "error")")
                    }
                    guard let result = object["result"] as? [String: Any] else { continue }
                    if (result["canceled"] as? Bool) == true {
                        let compacted = Self.string(result["compact_revision"]).map { " (compacted at \($0))" } ?? ""
                        throw EtcdError(message: "\(endpoint): watch cancelled\(compacted)", compacted: !compacted.isEmpty)
                    }
                    if (result["created"] as? Bool) == true { await started() }
                    let events = (result["events"] as? [[String: Any]] ?? []).compactMap(WatchEvent.init(json:))
                    if !events.isEmpty { await handle(events, Self.revision(of: result)) }
                }
            }
            throw EtcdError(message: "\(endpoint): the watch stream ended")
        } catch let error as EtcdError {
            preferred.failed(index, of: endpoints.count)
            throw error
        } catch {
            preferred.failed(index, of: endpoints.count)
            throw EtcdError(message: "\(endpoint): watch: \(Self.describe(error))")
        }
    }

    // MARK: Requests

    /// POSTs `body` to `path` of each endpoint in turn, starting with the one that answered
    /// last, until one answers. etcd's own errors (`{"error": ...}`) are not retried elsewhere.
    private func call(_ path: String, _ body: [String: Any], timeout: TimeAmount = requestTimeout) async throws(EtcdError) -> [String: Any] {
        let start = preferred.value
        var failures: [String] = []
        for step in 0..<endpoints.count {
            let index = (start + step) % endpoints.count
            let endpoint = endpoints[index]
            do {
                let request = try Self.request(endpoint + path, body)
                let response = try await client.execute(request, timeout: timeout)
                let data = Data(buffer: try await response.body.collect(upTo: 64 * 1024 * 1024))
                let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
                if response.status != .ok {
                    let message = Self.string(object["message"]) ?? Self.string(object["error"]) ?? "HTTP \(response.status.code)"
                    // "no leader", "timed out": this member cannot serve; another may.
                    if response.status.code >= 500 || message.contains("leader") || message.contains("timed out") {
                        failures.append("\(endpoint): \(message)")
                        preferred.failed(index, of: endpoints.count)
                        continue
                    }
                    throw EtcdError(message: "\(endpoint): \(message)")
                }
                if let error = (object["error"] as? [String: Any]) {
                    failures.append("\(endpoint): \(Self.string(error["message"]) ?? "error")")
                    preferred.failed(index, of: endpoints.count)
                    continue
                }
                preferred.answered(index)
                return object
            } catch let error as EtcdError {
                throw error
            } catch {
                failures.append("\(endpoint): \(Self.describe(error))")
                preferred.failed(index, of: endpoints.count)
            }
        }
        throw EtcdError(message: "cannot reach etcd (\(failures.joined(separator: "; ")))", unreachable: true)
    }

    private static func request(_ url: String, _ body: [String: Any]) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        return request
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout: return "timed out"
            case .connectTimeout: return "connection timed out"
            case .remoteConnectionClosed: return "connection closed"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return "\(first.error)"
        }
        return "\(error)"
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// The end of the range of every key starting with `prefix`: the prefix with its last byte
    /// incremented, as etcd's clients compute it.
    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\0"
    }

    static func string(_ value: Any?) -> String? {
        switch value {
        case let text as String: text
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }

    static func revision(of reply: [String: Any]) -> Int64 {
        let header = reply["header"] as? [String: Any] ?? [:]
        return Int64(string(header["revision"]) ?? "0") ?? 0
    }
}

/// The index of the endpoint to try first.
private final class PreferredEndpoint: Sendable {
    private let box = NIOLockedValueBox(0)
    var value: Int { box.withLockedValue { $0 } }
    func answered(_ index: Int) { box.withLockedValue { $0 = index } }
    func failed(_ index: Int, of count: Int) {
        box.withLockedValue { if $0 == index { $0 = (index + 1) % max(count, 1) } }
    }
}

/// One key and its value as etcd stores it.
public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]
    public var modRevision: Int64
    public var lease: Int64

    public init(key: String, value: [UInt8], modRevision: Int64 = 0, lease: Int64 = 0) {
        self.key = key
        self.value = value
        self.modRevision = modRevision
        self.lease = lease
    }

    init?(json: [String: Any]) {
        guard let key = (json["key"] as? String).flatMap({ Data(base64Encoded: $0) }) else { return nil }
        self.key = String(decoding: key, as: UTF8.self)
        value = (json["value"] as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? []
        modRevision = Int64(EtcdClient.string(json["mod_revision"]) ?? "0") ?? 0
        lease = Int64(EtcdClient.string(json["lease"]) ?? "0") ?? 0
    }
}

/// A change seen by a watch.
public struct WatchEvent: Sendable, Equatable {
    public enum Kind: Sendable { case put, delete }
    public var kind: Kind
    public var pair: KeyValue

    init?(json: [String: Any]) {
        guard let kv = json["kv"] as? [String: Any], let pair = KeyValue(json: kv) else { return nil }
        kind = (json["type"] as? String) == "DELETE" ? .delete : .put
        self.pair = pair
    }
}

/// Puts and deletes applied together when no compared key changed.
public struct EtcdTransaction: Sendable {
    public var unchangedSince: [(key: String, modRevision: Int64)] = []
    public var puts: [(key: String, value: [UInt8])] = []
    public var deletes: [String] = []

    public init() {}
}

/// A request etcd did not carry out.
public struct EtcdError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// No member could be reached (as opposed to a member refusing the request).
    public var unreachable = false
    /// The watch's start revision was compacted away: read everything again.
    public var compacted = false

    public init(message: String, unreachable: Bool = false, compacted: Bool = false) {
        self.message = message
        self.unreachable = unreachable
        self.compacted = compacted
    }

    public var description: String { message }
}
