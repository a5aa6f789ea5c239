import MeridianAuthority
import MeridianLoad
import MeridianRouting
import MeridianServer
import MeridianWire

/// A zone with a DYNA name over two edges, served through the loader the server uses.
enum TwoEdges {
    static let zone = """
    $ORIGIN shell.test.
    $TTL 300
    @    IN SOA ns hostmaster 1 3600 600 86400 60
    @    IN NS  ns
    ns   IN A   192.0.2.53
    api  30 IN DYNA inference
    """

    static let fra = EdgeSpec(name: "fra1", latitude: 50.11, longitude: 8.68, ipv4: [[192, 0, 2, 10]], ipv6: [], cname: nil)
    static let iad = EdgeSpec(name: "iad1", latitude: 39.04, longitude: -77.49, ipv4: [[192, 0, 2, 20]], ipv6: [], cname: nil)

    /// Every client goes to the first listed edge (no GeoIP database, fallback to the listed order).
    static func snapshot(edges: [EdgeSpec], serial: Int = 1) throws -> AuthoritySnapshot {
        let routing = RoutingTable(edges: edges, pools: [PoolSpec(name: "inference", edges: Array(edges.indices), policy: .nearest,
                                                                   answers: 1, fallback: .listed, servfailWhenAllDown: false)],
                                   geo: nil, overrides: [])
        let text = zone.replacingSerial(with: serial)
        let zone = try ZoneFileLoader.load(text: text, fileName: "shell.test.zone", origin: DNSName(parsing: "shell.test."),
                                           pools: ["inference": 0])
        return AuthoritySnapshot(zones: [zone], routing: routing)
    }

    static let query = Message.query(id: 9, name: try! DNSName(parsing: "api.shell.test."), type: .a).encode()
}

extension String {
    func replacingSerial(with serial: Int) -> String {
        var lines = split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for index in lines.indices where lines[index].contains("IN SOA") {
            lines[index] = "@    IN SOA ns hostmaster \(serial) 3600 600 86400 60"
        }
        return lines.joined(separator: "\n")
    }
}

extension AnsweringContext {
    /// Answers `query` as a UDP worker would; returns the response's rcode.
    func answerOnce(_ query: [UInt8]) -> RCode {
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        let outcome = query.withUnsafeBytes { answer($0, from: ClientAddress(ipv4: 198, 51, 100, 7), over: .udp, into: output) }
        return outcome.rcode
    }
}
