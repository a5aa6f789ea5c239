#if canImport(Glibc)
import Glibc
#endif
import BenchmarkFixtures
import MeridianAuthority
import MeridianWire

// Answers one kind of query in a tight loop, for profiling the responder under `perf`:
//   swift run -c release ResponderLoop nxdomain 20000000
//   perf record -g .build/release/ResponderLoop geo 20000000
// Kinds: static, nxdomain, geo (DYNA from the client's address, no database: fallback order)
// and ecs (DYNA with an ECS option). Prints nanoseconds per query.

let arguments = CommandLine.arguments
let kind = arguments.count > 1 ? arguments[1] : "static"
let count = arguments.count > 2 ? Int(arguments[2]) ?? 10_000_000 : 10_000_000

let snapshot = BenchmarkFixture.snapshot(geo: nil)

let query: [UInt8]
switch kind {
case "nxdomain": query = Message.query(id: 2, name: try DNSName(parsing: "nope.bench.example."), type: .a, edns: EDNS()).encode()
case "geo": query = Message.query(id: 3, name: try DNSName(parsing: "api.bench.example."), type: .a, edns: EDNS()).encode()
case "ecs": query = BenchmarkFixture.subnetQuery("api.bench.example.", octets: [81, 2, 69, 0])
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
