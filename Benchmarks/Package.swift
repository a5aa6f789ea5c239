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
    ],
    targets: [
        .executableTarget(
            name: "MeridianBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MeridianCore", package: "Meridian"),
            ],
            path: "Benchmarks/MeridianBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
