// Measures what health checking costs: N edges, each probed every second over loopback,
// and reports the checker's CPU as a share of one core.
//
//   .build/release/HealthEndpoints 18100 100 &          # 100 local HTTP endpoints answering 200
//   .build/release/HealthCheckLoad 18100 1000 20 100     # 1,000 edges over them, 20 s
//   .build/release/HealthCheckLoad 18100 1000 20 100 tcp # the same with TCP connect checks
import Foundation
import Logging
import MeridianConfig
import MeridianHealth

let arguments = CommandLine.arguments
guard arguments.count >= 5, let port = Int(arguments[1]), let count = Int(arguments[2]),
      let seconds = Double(arguments[3]), let ports = Int(arguments[4]) else {
    print("usage: HealthCheckLoad FIRST_PORT EDGES SECONDS PORTS [tcp]")
    exit(64)
}
let tcp = arguments.count > 5 && arguments[5] == "tcp"
var logger = Logger(label: "health-load")
logger.logLevel = .warning

let edges = (0..<count).map { index in
    let target = port + index % ports
    return Edge(name: "e\(index)", location: Location(latitude: 0, longitude: 0), addresses: [IPAddress("192.0.2.1")!],
                check: HealthCheck(kind: tcp ? .tcp(host: "127.0.0.1", port: target) : .http(url: "http://127.0.0.1:\(target)/e\(index)"),
                                   interval: .seconds(1), timeout: .seconds(2), rise: 2, fall: 3))
}
let checker = try HealthChecker(edges: edges, stateFile: nil, logger: logger) { _ in }

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

await checker.start()
try await Task.sleep(for: .seconds(3))  // the first round runs at once; measure the steady state
let probesBefore = await checker.snapshot().reduce(0) { $0 + $1.probes }
let cpuBefore = cpuSeconds()
let start = Date()
try await Task.sleep(for: .seconds(seconds))
let elapsed = Date().timeIntervalSince(start)
let cpu = cpuSeconds() - cpuBefore
let reports = await checker.snapshot()
let probes = reports.reduce(0) { $0 + $1.probes } - probesBefore
let notUp = reports.filter { $0.state != .up }.count
print(String(format: "%d edges (%@), %.0f probes/s, checker CPU %.1f%% of one core, %d not up",
             count, tcp ? "TCP" : "HTTP", Double(probes) / elapsed, 100 * cpu / elapsed, notUp))
await checker.shutdown()
