import MeridianConfig
import Testing

@Suite struct FleetConfigTests {
    @Test func absentMeansAlone() throws {
        #expect(try MeridianConfiguration.parse(yaml: "", file: "t.yaml").fleet == nil)
    }

    @Test func everyKey() throws {
        let config = try MeridianConfiguration.parse(yaml: """
            fleet:
              node: ns1-fra
              etcd: ["https://10.0.0.1:2379/", "http://10.0.0.2:2379"]
              prefix: /dns/prod
              health_quorum: "0.34"
              lease_ttl: 4s
              data: published
              published_directory: /var/lib/meridian/published
              tls: {ca: ca.pem, cert: node.pem, key: node-key.pem}
            """, file: "t.yaml")
        let fleet = try #require(config.fleet)
        #expect(fleet.node == "ns1-fra")
        #expect(fleet.endpoints == ["https://10.0.0.1:2379", "http://10.0.0.2:2379"])
        #expect(fleet.prefix == "/dns/prod/")
        #expect(fleet.healthQuorum == .fraction(0.34))
        #expect(fleet.leaseTTL == .seconds(4))
        #expect(fleet.data == .published)
        #expect(fleet.publishedDirectory == "/var/lib/meridian/published")
        #expect(fleet.tls == FleetSettings.TLS(ca: "ca.pem", cert: "node.pem", key: "node-key.pem"))
    }

    @Test func defaults() throws {
        let fleet = try #require(try MeridianConfiguration.parse(
            yaml: "fleet:\n  node: a\n  etcd: [\"http://127.0.0.1:2379\"]\n", file: "t.yaml").fleet)
        #expect(fleet.prefix == "/meridian/" && fleet.healthQuorum == .majority && fleet.leaseTTL == .seconds(10))
        #expect(fleet.data == .local && fleet.tls == nil && fleet.publishedDirectory == "published")
    }

    @Test(arguments: [
        ("fleet:\n  etcd: [\"http://a:1\"]\n", "t.yaml:2:3: fleet: missing key \"node\" (this node's name, unique in the fleet)"),
        ("fleet:\n  node: a\n", "t.yaml:2:3: fleet: missing key \"etcd\" (the client URLs of the etcd cluster)"),
        ("fleet:\n  node: a b\n  etcd: [\"http://a:1\"]\n", "t.yaml:2:9: fleet.node: \"a b\" may hold only ASCII letters, digits, -, _ and ."),
        ("fleet:\n  node: a\n  etcd: [\"a:1\"]\n", "t.yaml:3:10: fleet.etcd[0]: \"a:1\" is not an http:// or https:// URL of an etcd member"),
        ("fleet:\n  node: a\n  etcd: []\n", "t.yaml:3:9: fleet.etcd: must list at least one etcd endpoint"),
        ("fleet:\n  node: a\n  etcd: [\"http://a:1\"]\n  health_quorum: most\n",
         "t.yaml:4:18: fleet.health_quorum: expected majority, any, all or a fraction in (0, 1], not \"most\""),
        ("fleet:\n  node: a\n  etcd: [\"http://a:1\"]\n  health_quorum: 1.5\n",
         "t.yaml:4:18: fleet.health_quorum: expected majority, any, all or a fraction in (0, 1], not \"1.5\""),
        ("fleet:\n  node: a\n  etcd: [\"http://a:1\"]\n  lease_ttl: 500ms\n", "t.yaml:4:14: fleet.lease_ttl: must be between 1s and 1h"),
        ("fleet:\n  node: a\n  etcd: [\"http://a:1\"]\n  data: shared\n",
         "t.yaml:4:9: fleet.data: unknown data source \"shared\" (expected local or published)"),
        ("fleet:\n  node: a\n  etcd: [\"http://a:1\"]\n  tls: {cert: c.pem}\n", "t.yaml:4:8: fleet.tls: cert and key go together"),
        ("fleet:\n  node: a\n  etcd: [\"http://a:1\"]\n  health_quorom: all\n",
         "t.yaml:4:3: fleet: unknown key \"health_quorom\"; did you mean \"health_quorum\"?"),
    ])
    func rejected(yaml: String, error: String) {
        #expect(problems(yaml) == [error])
    }

    /// The quorum rules as the README states them, on 1 to 5 observers.
    @Test func quorum() {
        #expect(!HealthQuorum.majority.isDown(down: 1, observers: 3))
        #expect(HealthQuorum.majority.isDown(down: 2, observers: 3))
        #expect(!HealthQuorum.majority.isDown(down: 1, observers: 2))
        #expect(HealthQuorum.majority.isDown(down: 1, observers: 1))
        #expect(HealthQuorum.any.isDown(down: 1, observers: 5))
        #expect(!HealthQuorum.all.isDown(down: 4, observers: 5))
        #expect(HealthQuorum.all.isDown(down: 5, observers: 5))
        #expect(!HealthQuorum.fraction(0.34).isDown(down: 1, observers: 3))
        #expect(HealthQuorum.fraction(0.34).isDown(down: 2, observers: 3))
        #expect(HealthQuorum.fraction(0.3333).isDown(down: 1, observers: 3))
        for quorum in [HealthQuorum.majority, .any, .all, .fraction(0.5)] {
            #expect(!quorum.isDown(down: 0, observers: 3), "nobody sees it down")
            #expect(!quorum.isDown(down: 0, observers: 0), "no observer, no verdict")
        }
    }

    /// A node serving a publication takes its data and keeps its own node-local sections.
    @Test func servingAPublication() throws {
        let node = try MeridianConfiguration.parse(yaml: """
            dns: {listen: ["127.0.0.1:5353"]}
            control: {socket: node.sock}
            health: {state_file: node-state.json}
            zones: {directory: own-zones}
            edges:
              old1: {location: [0, 0], addresses: ["192.0.2.1"]}
            fleet: {node: n1, etcd: ["http://127.0.0.1:2379"], data: published}
            """, file: "node.yaml")
        let published = try MeridianConfiguration.parse(yaml: """
            dns: {listen: ["0.0.0.0:53"]}
            control: {socket: publisher.sock}
            zones: {serial_check: error}
            rrl: {rate: 7}
            edges:
              new1: {location: [1, 1], addresses: ["192.0.2.2"]}
            pools:
              p: {edges: [new1], policy: nearest}
            fleet: {node: publisher, etcd: ["http://127.0.0.1:2379"]}
            """, file: "published.yaml")
        let merged = node.serving(published: published, zonesDirectory: "published/7/zones")
        #expect(merged.dns == node.dns && merged.control == node.control && merged.health == node.health)
        #expect(merged.fleet == node.fleet)
        #expect(merged.zones.directory == "published/7/zones" && merged.zones.serialCheck == .error)
        #expect(merged.edgeOrder == ["new1"] && merged.poolOrder == ["p"] && merged.rrl.rate == 7)
    }
}
