import Testing
import MeridianConfig

/// The `meridian.yaml` at the package root is what `make run` starts with: it must load.
@Suite struct DemoConfigTests {
    static let packageRoot = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")

    @Test func demoFileLoads() throws {
        let path = Self.packageRoot + "/meridian.yaml"
        let config = try MeridianConfiguration.load(path: path)
        #expect(config.sourceFile == path)
        #expect(config.dns.listen.map(\.description) == ["127.0.0.1:5300", "[::1]:5300"])
        #expect(config.dns.udpPayload == 1232)
        #expect(config.dns.tcpIdleTimeout == .seconds(10))
        #expect(config.dns.tcpMaxConnections == 1024)
        #expect(config.stats?.listen.description == "127.0.0.1:9300")
        // Relative to the file's directory, wherever `make run` or a test starts from.
        #expect(config.control.socket == Self.packageRoot + "/run/meridian.sock")
        #expect(config.zones.directory == Self.packageRoot + "/zones")
        #expect(config.health.stateFile == Self.packageRoot + "/run/admin-state.json")

        let geoip = try #require(config.geoip)
        #expect(geoip.database == Self.packageRoot + "/data/GeoLite2-City.mmdb")
        #expect(geoip.clientSubnet)
        #expect(geoip.overrides.map(\.network.description) == ["10.0.0.0/8", "192.168.0.0/16"])
        #expect(geoip.overrides.last?.target == .edges(["fra1", "iad1"]))

        #expect(config.edgeOrder == ["fra1", "iad1", "sfo1", "sin1", "gru1", "nrt1"])
        for (index, edge) in config.orderedEdges.enumerated() {
            let check = try #require(edge.check)
            #expect(check.kind == .http(url: "http://127.0.0.1:1800\(index + 1)/healthz"))
            #expect(check.expectStatus == [200] && check.interval == .seconds(5) && check.timeout == .seconds(2))
            #expect(check.rise == 2 && check.fall == 3)
            #expect(edge.cname == "\(edge.name).edge.example.net.")
            #expect(edge.ipv4.count == 1 && edge.ipv6.count == 1)
        }
        let fra1 = try #require(config.edges["fra1"])
        #expect(fra1.location == Location(latitude: 50.11, longitude: 8.68))
        #expect(fra1.addresses == [IPAddress("192.0.2.10")!, IPAddress("2001:db8::10")!])

        #expect(config.poolOrder == ["inference", "inference-regional"])
        let inference = try #require(config.pools["inference"])
        #expect(inference.policy == .nearest)
        #expect(inference.edges == config.edgeOrder)
        #expect(inference.answers == 1)
        #expect(inference.fallback == .edges(["iad1", "fra1"]))
        #expect(inference.whenAllDown == .all)
        let regional = try #require(config.pools["inference-regional"])
        #expect(regional.policy == .map)
        #expect(regional.mapOrder.first == "EU" && regional.mapOrder.last == "default")
        #expect(regional.map["US-CA"] == ["sfo1", "iad1"])
        #expect(Set(regional.map.keys) == Set(regional.mapOrder))
    }
}
