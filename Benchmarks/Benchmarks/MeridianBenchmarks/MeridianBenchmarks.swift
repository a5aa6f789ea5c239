import Benchmark
#if canImport(Glibc)
import Glibc
#endif
import MeridianAuthority
import MeridianGeoIP
import MeridianRouting
import MeridianWire
import MeridianZoneFile

// The responder per query (static, NXDOMAIN, geo with ECS), the geo lookup, zone parsing and
// compiling the full GeoLite2-City database. Allocation counts of the responder are held at
// zero by the thresholds committed in Thresholds/.

let zoneText = """
$ORIGIN bench.example.
$TTL 300
@     IN SOA ns1 hostmaster 1 3600 600 1209600 300
@     IN NS  ns1
ns1   IN A   198.51.100.53
www   IN A   198.51.100.80
api   30 IN DYNA inference
"""

/// Edges at the demo's six sites.
let edges: [EdgeSpec] = [
    ("fra1", 50.11, 8.68), ("iad1", 39.04, -77.49), ("sfo1", 37.77, -122.42),
    ("sin1", 1.35, 103.82), ("gru1", -23.55, -46.63), ("nrt1", 35.68, 139.69),
].enumerated().map { index, edge in
    EdgeSpec(name: edge.0, latitude: edge.1, longitude: edge.2, ipv4: [[192, 0, 2, UInt8(10 * (index + 1))]], ipv6: [], cname: nil)
}

/// The sample City database when present (`make run` or `bench/run` fetch it), else nil.
let cityPath = "../data/GeoLite2-City.mmdb"
let city: GeoTrie? = try? GeoDatabaseLoader.load(path: cityPath).trie

func snapshot() -> AuthoritySnapshot {
    let origin = try! DNSName(parsing: "bench.example.")
    let parsed = ZoneParser.parse(text: zoneText, fileName: "bench.example.zone", origin: origin)
    let pool = PoolSpec(name: "inference", edges: Array(0..<6), policy: .nearest, answers: 1, fallback: .listed, servfailWhenAllDown: false)
    let routing = RoutingTable(edges: edges, pools: [pool], geo: city, overrides: [])
    let zone = ZoneBuilder.build(origin: origin, records: parsed.records, pools: ["inference": 0])
    return AuthoritySnapshot(zones: [zone], routing: routing)
}

func subnetQuery(_ name: String, octets: [UInt8]) -> [UInt8] {
    let subnet = ClientSubnet(family: .ipv4, sourcePrefix: 24, octets: octets)
    return Message.query(id: 7, name: try! DNSName(parsing: name), type: .a,
                         edns: EDNS(options: [EDNS.Option(code: .clientSubnet, data: subnet.optionData)])).encode()
}

let responderMetrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .throughput]

let benchmarks: @Sendable () -> Void = {
    let data = snapshot()
    let client = ClientAddress(ipv4: 192, 0, 2, 1)
    let configuration = Benchmark.Configuration(metrics: responderMetrics, scalingFactor: .kilo,
                                                maxDuration: .seconds(3), maxIterations: 1_000)
    let cases: [(String, [UInt8])] = [
        ("Responder static A", Message.query(id: 1, name: try! DNSName(parsing: "www.bench.example."), type: .a).encode()),
        ("Responder NXDOMAIN", Message.query(id: 2, name: try! DNSName(parsing: "nope.bench.example."), type: .a).encode()),
        ("Responder geo A with ECS", subnetQuery("api.bench.example.", octets: [81, 2, 69, 0])),
    ]
    for (name, query) in cases {
        Benchmark(name, configuration: configuration) { benchmark in
            let scratch = ResponderScratch()
            let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
            defer { output.deallocate() }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let outcome = query.withUnsafeBytes {
                    Responder.respond(to: $0, from: client, over: .udp, using: data, scratch: scratch, into: output)
                }
                blackHole(outcome.length)
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("Geo lookup (GeoLite2-City trie walk)", configuration: .init(metrics: [.wallClock, .mallocCountTotal, .throughput],
                                                                             scalingFactor: .kilo, maxDuration: .seconds(3))) { benchmark in
        guard let city else { return }
        var state: UInt32 = 0x1234_5678
        for _ in benchmark.scaledIterations {
            state = state &* 1_664_525 &+ 1_013_904_223
            let address = ClientAddress(ipv4: UInt8(state >> 24), UInt8((state >> 16) & 0xFF), UInt8((state >> 8) & 0xFF), 1)
            blackHole(city.lookup(address).location)
        }
    }

    Benchmark("Zone parsing (100,000 records)", configuration: .init(metrics: [.wallClock, .peakMemoryResident],
                                                                    maxDuration: .seconds(10), maxIterations: 5)) { benchmark in
        var text = "$ORIGIN big.example.\n$TTL 300\n@ IN SOA ns hostmaster 1 3600 600 86400 300\n@ IN NS ns\n"
        for index in 0..<100_000 { text += "host\(index) IN A 10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)\n" }
        let origin = try! DNSName(parsing: "big.example.")
        benchmark.startMeasurement()
        blackHole(ZoneParser.parse(text: text, fileName: "big.example.zone", origin: origin).records.count)
    }

    Benchmark("GeoLite2-City load and compile", configuration: .init(metrics: [.wallClock, .peakMemoryResident],
                                                                      maxDuration: .seconds(20), maxIterations: 3)) { benchmark in
        guard let (trie, _) = try? GeoDatabaseLoader.load(path: cityPath) else { return }
        let pool = PoolSpec(name: "inference", edges: Array(0..<6), policy: .nearest, answers: 1, fallback: .listed, servfailWhenAllDown: false)
        blackHole(RoutingTable(edges: edges, pools: [pool], geo: trie, overrides: []).pools.count)
    }
}
