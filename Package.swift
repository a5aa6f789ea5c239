// swift-tools-version: 6.1
import PackageDescription

// Shared settings: Swift 6 language mode everywhere, plus the upcoming features the
// house style asks for, so every module reads the same way.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let atomics = Target.Dependency.product(name: "Atomics", package: "swift-atomics")

let package = Package(
    name: "Meridian",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "meridian", targets: ["meridian"]),
        .executable(name: "dnsctl", targets: ["dnsctl"]),
        // The pure layers, for the benchmark package in Benchmarks/.
        .library(name: "MeridianCore", targets: ["MeridianWire", "MeridianZoneFile", "MeridianAuthority", "MeridianRouting", "MeridianGeoIP",
                                                 "MeridianLoad"]),
        .library(name: "MeridianHealthKit", targets: ["MeridianHealth", "MeridianConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // Pure layers: no sockets, no C libraries, no Foundation.
        .target(name: "MeridianWire", swiftSettings: swiftSettings),
        .target(name: "MeridianZoneFile", dependencies: ["MeridianWire", "MeridianFiles"], swiftSettings: swiftSettings),

        // Reading operators' files (whole-file reads, directories, file state) and writing to stderr, with libc only.
        .target(name: "MeridianFiles", swiftSettings: swiftSettings),
        .target(name: "MeridianAuthority", dependencies: ["MeridianWire", "MeridianRouting"], swiftSettings: swiftSettings),

        // The Prometheus text exposition format, read from inference servers' /metrics. Pure.
        .target(name: "MeridianExposition", swiftSettings: swiftSettings),

        // Geo routing: client location -> ordered edges. Pure; the GeoIP adapter fills it.
        .target(name: "MeridianRouting", dependencies: ["MeridianWire"], swiftSettings: swiftSettings),

        // libmaxminddb, read at load time only.
        .systemLibrary(name: "CMaxMindDB", pkgConfig: "libmaxminddb", providers: [.apt(["libmaxminddb-dev"])]),
        .target(name: "MeridianGeoIP", dependencies: ["CMaxMindDB", "MeridianRouting", "MeridianWire", "MeridianConfig", "MeridianFiles"], swiftSettings: swiftSettings),

        // From the operator's files (configuration, zones, GeoIP database) to one validated
        // snapshot: the only way in, for the server, dnsctl, the tests and the benchmarks. No NIO.
        .target(
            name: "MeridianLoad",
            dependencies: ["MeridianFiles", "MeridianWire", "MeridianZoneFile", "MeridianAuthority", "MeridianRouting",
                           "MeridianGeoIP", "MeridianConfig", "MeridianDNSSEC"],
            swiftSettings: swiftSettings
        ),

        // Configuration file: YAML with positions, validated as a whole.
        .target(name: "MeridianConfig", dependencies: ["MeridianFiles", .product(name: "Yams", package: "Yams")], swiftSettings: swiftSettings),

        // DNSSEC: keys (BIND key files, DNSKEY, DS), RRSIG over canonical RRsets, with swift-crypto.
        .target(
            name: "MeridianDNSSEC",
            dependencies: ["MeridianWire", "MeridianFiles", "MeridianZoneFile", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),

        // The fleet's store: an etcd v3 client (JSON gateway) and what a fleet keeps in etcd.
        .target(
            name: "MeridianFleet",
            dependencies: ["MeridianConfig", "MeridianFiles", nioCore, nioPosix,
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "NIOFoundationCompat", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl")],
            swiftSettings: swiftSettings
        ),

        // Health checks: HTTP(S) and TCP probes, thresholds, drains; publishes health tables.
        .target(
            name: "MeridianHealth",
            dependencies: ["MeridianConfig", "MeridianFleet", "MeridianRouting", "MeridianFiles", "MeridianExposition", nioCore, nioPosix, logging,
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl")],
            swiftSettings: swiftSettings
        ),

        // dnstap messages and Frame Streams control frames, encoded for the query log. Pure.
        .target(name: "MeridianDnstap", swiftSettings: swiftSettings),

        // recvmmsg/sendmmsg for the UDP workers.
        .target(name: "CMeridianIO"),

        // The shell: sockets, answering threads, the service tree, reloads and signals.
        .target(
            name: "MeridianServer",
            dependencies: ["MeridianWire", "MeridianAuthority", "MeridianZoneFile", "MeridianConfig", "MeridianRouting", "MeridianLoad",
                           "CMeridianIO", "MeridianHealth", "MeridianFleet", "MeridianControl", "MeridianStats", "MeridianFiles",
                           "MeridianDnstap", nioCore, nioPosix, logging, lifecycle, atomics,
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle")],
            swiftSettings: swiftSettings
        ),

        // Control socket messages, server and client, shared by the daemon and dnsctl.
        .target(name: "MeridianControl", dependencies: [nioCore, nioPosix, logging], swiftSettings: swiftSettings),

        // The stats port: Prometheus metrics, JSON API and the dashboard.
        .target(
            name: "MeridianStats",
            dependencies: ["MeridianControl", "MeridianWire", nioCore, nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"), logging],
            swiftSettings: swiftSettings
        ),

        .executableTarget(name: "meridian", dependencies: ["MeridianServer", "MeridianLoad", "MeridianConfig", "MeridianFiles", "MeridianHealth",
                                                   "MeridianFleet", logging],
                          swiftSettings: swiftSettings),
        // dnsctl links the loading module for its offline commands, never the daemon's I/O.
        .executableTarget(
            name: "dnsctl",
            dependencies: ["MeridianLoad", "MeridianFiles", "MeridianConfig", "MeridianZoneFile", "MeridianAuthority", "MeridianWire",
                           "MeridianGeoIP", "MeridianRouting", "MeridianControl", "MeridianFleet", "MeridianDNSSEC", argumentParser, nioCore, nioPosix],
            swiftSettings: swiftSettings
        ),

        // Test support: counts malloc calls of the current thread, to prove the responder allocates nothing.
        .target(name: "CMallocCounter", path: "Tests/CMallocCounter"),

        .testTarget(name: "MeridianWireTests", dependencies: ["MeridianWire"], swiftSettings: swiftSettings),
        .testTarget(name: "MeridianZoneFileTests", dependencies: ["MeridianZoneFile", "MeridianWire"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MeridianAuthorityTests",
            dependencies: ["MeridianAuthority", "MeridianLoad", "MeridianZoneFile", "MeridianWire", "MeridianRouting", "CMallocCounter",
                           "MeridianDNSSEC", "MeridianConfig", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MeridianRoutingTests", dependencies: ["MeridianRouting", "MeridianWire"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MeridianGeoIPTests",
            dependencies: ["MeridianGeoIP", "MeridianFiles", "MeridianRouting", "MeridianWire", "CMaxMindDB"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianServerTests",
            dependencies: ["MeridianServer", "MeridianLoad", "MeridianAuthority", "MeridianRouting", "MeridianWire", "CMallocCounter",
                           "MeridianConfig", "MeridianDnstap", "MeridianFiles", lifecycle, logging, nioCore, nioPosix],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MeridianConfigTests", dependencies: ["MeridianConfig"], swiftSettings: swiftSettings),
        .testTarget(name: "MeridianDnstapTests", dependencies: ["MeridianDnstap"], swiftSettings: swiftSettings),
        .testTarget(name: "MeridianFleetTests", dependencies: ["MeridianFleet"], swiftSettings: swiftSettings),
        .testTarget(name: "MeridianDNSSECTests", dependencies: ["MeridianDNSSEC", "MeridianFiles", "MeridianWire", .product(name: "Crypto", package: "swift-crypto")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "MeridianExpositionTests", dependencies: ["MeridianExposition"], exclude: ["Pages"], swiftSettings: swiftSettings),
        .testTarget(name: "MeridianControlTests", dependencies: ["MeridianControl", nioCore, nioPosix, logging], swiftSettings: swiftSettings),
        .testTarget(
            name: "MeridianStatsTests",
            dependencies: ["MeridianStats", "MeridianControl", nioCore, nioPosix, logging],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeridianHealthTests",
            dependencies: ["MeridianHealth", "MeridianConfig", "MeridianFiles", "MeridianRouting", nioCore, nioPosix, logging,
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl")],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
