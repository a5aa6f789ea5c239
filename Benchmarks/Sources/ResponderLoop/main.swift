#if canImport(Glibc)
import Glibc
#endif
import MeridianAuthority
import MeridianRouting
import MeridianWire
import MeridianZoneFile

// Answers one kind of query in a tight loop, for profiling the responder under `perf`:
//   swift run -c release ResponderLoop nxdomain 20000000
//   perf record -g .build/release/ResponderLoop geo 20000000
// Kinds: static, nxdomain, geo (DYNA from the client's address, no database: fallback order)
// and ecs (DYNA with an ECS option). Prints nanoseconds per query.

let zoneText = """
$ORIGIN bench.example.
$TTL 300
@     IN SOA ns1 hostmaster 1 3600 600 1209600 300
@     IN NS  ns1
ns1   IN A   198.51.100.53
www   IN A   198.51.100.80
api   30 IN DYNA inference
"""

let arguments = CommandLine.arguments
let kind = arguments.count > 1 ? arguments[1] : "static"
let count = arguments.count > 2 ? Int(arguments[2]) ?? 10_000_000 : 10_000_000

let origin = try DNSName(parsing: "bench.example.")
let parsed = ZoneParser.parse(text: zoneText, fileName: "bench.example.zone", origin: origin)
let edges = [("fra1", 50.11, 8.68), ("iad1", 39.04, -77.49), ("sin1", 1.35, 103.82)].enumerated().map { index, edge in
    EdgeSpec(name: edge.0, latitude: edge.1, longitude: edge.2, ipv4: [[192, 0, 2, UInt8(10 * (index + 1))]], ipv6: [], cname: nil)
}
let pool = PoolSpec(name: "inference", edges: [0, 1, 2], policy: .nearest, answers: 1, fallback: .listed, servfailWhenAllDown: false)
let routing = RoutingTable(edges: edges, pools: [pool], geo: nil, overrides: [])
let zone = ZoneBuilder.build(origin: origin, records: parsed.records, pools: ["inference": 0])
let snapshot = AuthoritySnapshot(zones: [zone], routing: routing)

let query: [UInt8]
switch kind {
case "nxdomain": query = Message.query(id: 2, name: try DNSName(parsing: "nope.bench.example."), type: .a, edns: EDNS()).encode()
case "geo": query = Message.query(id: 3, name: try DNSName(parsing: "api.bench.example."), type: .a, edns: EDNS()).encode()
case "ecs":
    let subnet = ClientSubnet(family: .ipv4, sourcePrefix: 24, octets: [81, 2, 69, 0])
    query = Message.query(id: 4, name: try DNSName(parsing: "api.bench.example."), type: .a,
                          edns: EDNS(options: [EDNS.Option(code: .clientSubnet, data: subnet.optionData)])).encode()
default: query = Message.query(id: 1, name: try DNSName(parsing: "www.bench.example."), type: .a, edns: EDNS()).encode()
}

let scratch = ResponderScratch()
let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
let client = ClientAddress(ipv4: 127, 0, 0, 1)
var total = 0
var start = timespec()
clock_gettime(CLOCK_MONOTONIC, &start)
query.withUnsafeBytes { bytes in
    for _ in 0..<count {
        total &+= Responder.respond(to: bytes, from: client, over: .udp, using: snapshot, scratch: scratch, into: output).length
    }
}
var end = timespec()
clock_gettime(CLOCK_MONOTONIC, &end)
let nanoseconds = Double(end.tv_sec - start.tv_sec) * 1e9 + Double(end.tv_nsec - start.tv_nsec)
let perQuery = (nanoseconds / Double(count) * 10).rounded() / 10
print("\(kind): \(perQuery) ns per query (\(total / count) bytes each)")
