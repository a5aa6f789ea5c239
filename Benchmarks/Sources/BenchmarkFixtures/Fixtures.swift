import MeridianAuthority
import MeridianLoad
import MeridianRouting
import MeridianWire
import MeridianZoneFile

/// The zone and pool the micro-benchmarks and `ResponderLoop` answer from: a few static
/// records and `api`, a DYNA name over the demo's six edges.
public enum BenchmarkFixture {
    public static let zoneText = """
    $ORIGIN bench.example.
    $TTL 300
    @     IN SOA ns1 hostmaster 1 3600 600 1209600 300
    @     IN NS  ns1
    ns1   IN A   198.51.100.53
    www   IN A   198.51.100.80
    api   30 IN DYNA inference
    """

    /// Edges at the demo's six sites.
    public static let edges: [EdgeSpec] = [
        ("fra1", 50.11, 8.68), ("iad1", 39.04, -77.49), ("sfo1", 37.77, -122.42),
        ("sin1", 1.35, 103.82), ("gru1", -23.55, -46.63), ("nrt1", 35.68, 139.69),
    ].enumerated().map { index, edge in
        EdgeSpec(name: edge.0, latitude: edge.1, longitude: edge.2, ipv4: [[192, 0, 2, UInt8(10 * (index + 1))]], ipv6: [], cname: nil)
    }

    /// The pool `inference`: nearest edge, one answer.
    public static let pool = PoolSpec(name: "inference", edges: Array(0..<6), policy: .nearest, answers: 1,
                                      fallback: .listed, servfailWhenAllDown: false)

    /// The zone served with routing compiled from `geo` (without one, every client gets
    /// the pool's listed order).
    public static func snapshot(geo: GeoTrie?) -> AuthoritySnapshot {
        let origin = try! DNSName(parsing: "bench.example.")
        let routing = RoutingTable(edges: edges, pools: [pool], geo: geo, overrides: [])
        let zone = try! ZoneFileLoader.load(text: zoneText, fileName: "bench.example.zone", origin: origin, pools: ["inference": 0])
        return AuthoritySnapshot(zones: [zone], routing: routing)
    }

    /// An A query for `name` carrying a Client Subnet option for `octets`/24.
    public static func subnetQuery(_ name: String, octets: [UInt8]) -> [UInt8] {
        let subnet = ClientSubnet(family: .ipv4, sourcePrefix: 24, octets: octets)
        return Message.query(id: 7, name: try! DNSName(parsing: name), type: .a,
                             edns: EDNS(options: [EDNS.Option(code: .clientSubnet, data: subnet.optionData)])).encode()
    }
}
