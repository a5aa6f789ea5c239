// swift-tools-version: 6.1
import PackageDescription

// Micro-benchmarks of Meridian's query path, run with `swift package benchmark` from this
// directory (see docs/PERFORMANCE.md). A separate package so the main build and CI do not
// compile the benchmark framework.
let package = Package(
    name: "MeridianBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Meridian", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The zone, edges and queries both the benchmarks and ResponderLoop answer.
        .target(
            name: "BenchmarkFixtures",
            dependencies: [.product(name: "MeridianCore", package: "Meridian")],
            path: "Sources/BenchmarkFixtures"
        ),
        .executableTarget(
            name: "MeridianBenchmarks",
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MeridianCore", package: "Meridian"),
            ],
            path: "Benchmarks/MeridianBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The cost of health checking: many edges probed over loopback (docs/PERFORMANCE.md).
        .executableTarget(
            name: "HealthCheckLoad",
            dependencies: [.product(name: "MeridianHealthKit", package: "Meridian"), .product(name: "Logging", package: "swift-log")],
            path: "Sources/HealthCheckLoad"
        ),
        // The responder in a loop, for `perf record` (docs/PERFORMANCE.md).
        .executableTarget(
            name: "ResponderLoop",
            dependencies: ["BenchmarkFixtures", .product(name: "MeridianCore", package: "Meridian")],
            path: "Sources/ResponderLoop"
        ),
        .executableTarget(
            name: "HealthEndpoints",
            dependencies: [.product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")],
            path: "Sources/HealthEndpoints"
        ),
    ],
    swiftLanguageModes: [.v6]
)
