import Benchmark
import BenchmarkFixtures
#if canImport(Glibc)
import Glibc
#endif
import MeridianAuthority
import MeridianGeoIP
import MeridianRouting
import MeridianWire
import MeridianZoneFile

// The responder per query (static, NXDOMAIN, geo with ECS), the geo lookup, zone parsing and
// compiling the full GeoLite2-City database. The responder's allocation count is shown here;
// `make test` holds it at zero (ResponderTests.answeringAllocatesNothing and
// DynamicAnswerTests.geoAnswersAllocateNothing).

/// The sample City database when present (`make run` or `bench/run` fetch it), else nil.
let cityPath = "../data/GeoLite2-City.mmdb"
let city: GeoTrie? = try? GeoDatabaseLoader.load(path: cityPath).trie

let responderMetrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .throughput]

let benchmarks: @Sendable () -> Void = {
    let data = BenchmarkFixture.snapshot(geo: city)
    let client = ClientAddress(ipv4: 192, 0, 2, 1)
    let configuration = Benchmark.Configuration(metrics: responderMetrics, scalingFactor: .kilo,
                                                maxDuration: .seconds(3), maxIterations: 1_000)
    let cases: [(String, [UInt8])] = [
        ("Responder static A", Message.query(id: 1, name: try! DNSName(parsing: "www.bench.example."), type: .a).encode()),
        ("Responder NXDOMAIN", Message.query(id: 2, name: try! DNSName(parsing: "nope.bench.example."), type: .a).encode()),
        ("Responder geo A with ECS", BenchmarkFixture.subnetQuery("api.bench.example.", octets: [81, 2, 69, 0])),
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
        blackHole(RoutingTable(edges: BenchmarkFixture.edges, pools: [BenchmarkFixture.pool], geo: trie, overrides: []).pools.count)
    }
}
