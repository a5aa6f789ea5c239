import Testing
import MeridianConfig

/// Every problem `parse` reports for `yaml`, as printed (`t.yaml:LINE:COL: KEYPATH: message`).
func problems(_ yaml: String) -> [String] {
    do {
        _ = try MeridianConfiguration.parse(yaml: yaml, file: "t.yaml")
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// Three edges on lines 1-4, for the pool and override cases below (line 5 is blank).
let threeEdges = """
    edges:
      fra1: {location: [50.11, 8.68], addresses: ["192.0.2.10"]}
      iad1: {location: [39.04, -77.49], addresses: ["192.0.2.20"]}
      sin1: {location: [1.35, 103.82], addresses: ["198.51.100.40"]}


    """

/// A configuration file that must be rejected, and exactly what must be said about it.
struct Rejected: Sendable, CustomTestStringConvertible {
    let name: String
    let yaml: String
    let errors: [String]

    init(_ name: String, _ yaml: String, _ errors: [String]) {
        self.name = name
        self.yaml = yaml
        self.errors = errors
    }

    var testDescription: String { name }
}

@Suite struct AcceptedConfigTests {
    @Test(arguments: ["", "# nothing here yet\n", "---\n", "dns:\nstats:\ngeoip:\nedges:\npools:\n"])
    func emptyMeansDefaults(yaml: String) throws {
        let config = try MeridianConfiguration.parse(yaml: yaml, file: "empty.yaml")
        #expect(config == MeridianConfiguration(sourceFile: "empty.yaml"))
        #expect(config.dns.listen.map(\.description) == ["127.0.0.1:5300"])
        #expect(config.dns.udpPayload == 1232)
        #expect(config.dns.tcpIdleTimeout == .seconds(10))
        #expect(config.dns.tcpMaxConnections == 1024)
        #expect(config.dns.tcpMaxConnectionsPerClient == 16)
        #expect(config.stats == nil)
        #expect(config.geoip == nil)
        #expect(config.control.socket == "run/meridian.sock")
        #expect(config.zones.directory == "zones")
        #expect(config.health.stateFile == "run/admin-state.json")
        #expect(config.edges.isEmpty && config.pools.isEmpty)
    }

    @Test func listenAddresses() throws {
        let config = try MeridianConfiguration.parse(yaml: """
            dns:
              listen: ["[::1]:5300", "[2001:DB8::53]:53", "0.0.0.0:53", "[::]:5353"]
            stats: {listen: "[::1]:9300"}
            """, file: "t.yaml")
        #expect(config.dns.listen.map(\.description) == ["[::1]:5300", "[2001:db8::53]:53", "0.0.0.0:53", "[::]:5353"])
        #expect(config.dns.listen[0].host == .v6(high: 0, low: 1))
        #expect(config.stats?.listen.description == "[::1]:9300")

        let single = try MeridianConfiguration.parse(yaml: "dns: {listen: 192.0.2.53:53}", file: "t.yaml")
        #expect(single.dns.listen.map(\.description) == ["192.0.2.53:53"])
    }

    @Test(arguments: [("250ms", Duration.milliseconds(250)), ("10s", .seconds(10)), ("1m30s", .seconds(90)), ("1h", .seconds(3600))])
    func durations(text: String, duration: Duration) throws {
        let config = try MeridianConfiguration.parse(yaml: "dns:\n  tcp_idle_timeout: \(text)\n", file: "t.yaml")
        #expect(config.dns.tcpIdleTimeout == duration)
    }

    @Test func everyOptionSpelledOut() throws {
        let config = try MeridianConfiguration.parse(yaml: """
            dns:
              listen: ["127.0.0.1:53"]
              udp_payload: 4096
              tcp_idle_timeout: 250ms
              tcp_max_connections: 1
              tcp_max_connections_per_client: 3
            control: {socket: /run/meridian/control.sock}
            zones: {directory: /etc/meridian/zones}
            health: {state_file: /var/lib/meridian/state.json}
            geoip:
              database: ./GeoIP2-Country.mmdb
              client_subnet: false
              overrides:
                - {network: 2001:db8::/32, location: [-33.87, 151.21]}
                - network: 192.168.0.0/16
                  edges: [b, a]
            edges:
              a:
                location: [-90, 180]
                addresses: [192.0.2.1, "2001:db8::1", 192.0.2.2]
                check:
                  http: "https://health.example.net:8443/ready?full=1"
                  expect_status: 204
                  expect_body: OK
                  host: edge-a.example.net
                  tls_verify: false
                  interval: 1m
                  timeout: 59s
                  rise: 1
                  fall: 100
              b:
                location: [90.0, -180.0]
                cname: b.edges.example.net.
                check: {tcp: "[2001:db8::1]:443"}
              c:
                location: [1e1, -1.5]
                addresses: ["198.51.100.1"]
                check: {tcp: "db.example.net:5432"}
              d:
                location: [0, 0]
                addresses: ["203.0.113.4"]
                check:
            pools:
              near:
                edges: [a, b, c]
                policy: nearest
                answers: 3
                fallback: [48.85, 2.35]
                when_all_down: servfail
              regions:
                edges: [a, b, c, d]
                policy: map
                map:
                  US-CA: [c]
                  DE: [a, b]
                  OC: [d]
                  default: [b]
            """, file: "t.yaml")
        #expect(config.dns.udpPayload == 4096 && config.dns.tcpIdleTimeout == .milliseconds(250) && config.dns.tcpMaxConnections == 1)
        #expect(config.dns.tcpMaxConnectionsPerClient == 3)
        #expect(config.control.socket == "/run/meridian/control.sock")
        #expect(config.zones.directory == "/etc/meridian/zones")
        #expect(config.health.stateFile == "/var/lib/meridian/state.json")
        #expect(config.geoip == GeoIPSettings(database: "./GeoIP2-Country.mmdb", clientSubnet: false, overrides: [
            .init(network: try IPNetwork(parsing: "2001:db8::/32"), target: .location(Location(latitude: -33.87, longitude: 151.21))),
            .init(network: try IPNetwork(parsing: "192.168.0.0/16"), target: .edges(["b", "a"])),
        ]))

        let a = try #require(config.edges["a"])
        #expect(a.ipv4.map(\.description) == ["192.0.2.1", "192.0.2.2"])
        #expect(a.ipv6.map(\.description) == ["2001:db8::1"])
        #expect(a.cname == nil)
        #expect(a.check == HealthCheck(
            kind: .https(url: "https://health.example.net:8443/ready?full=1"), expectStatus: [204], expectBody: "OK",
            host: "edge-a.example.net", tlsVerify: false, interval: .seconds(60), timeout: .seconds(59), rise: 1, fall: 100))
        let b = try #require(config.edges["b"])
        #expect(b.addresses.isEmpty && b.cname == "b.edges.example.net.")
        #expect(b.check?.kind == .tcp(host: "2001:db8::1", port: 443))
        #expect(b.check?.interval == .seconds(5) && b.check?.timeout == .seconds(2))
        #expect(config.edges["c"]?.location == Location(latitude: 10, longitude: -1.5))
        #expect(config.edges["c"]?.check?.kind == .tcp(host: "db.example.net", port: 5432))
        #expect(config.edges["d"]?.check == nil)

        #expect(config.pools["near"] == Pool(
            name: "near", edges: ["a", "b", "c"], policy: .nearest, answers: 3,
            fallback: .location(Location(latitude: 48.85, longitude: 2.35)), whenAllDown: .servfail))
        #expect(config.pools["regions"] == Pool(
            name: "regions", edges: ["a", "b", "c", "d"], policy: .map,
            map: [("US-CA", ["c"]), ("DE", ["a", "b"]), ("OC", ["d"]), ("default", ["b"])]))
        #expect(config.pools["regions"]?.mapOrder == ["US-CA", "DE", "OC", "default"])
    }

    @Test func loadFeedsAndShedding() throws {
        let config = try MeridianConfiguration.parse(yaml: """
            edges:
              fra1:
                location: [50.11, 8.68]
                addresses: ["192.0.2.10"]
                load:
                  metrics: "http://10.0.0.5:8000/metrics"
                  signals:
                    - { metric: "vllm:num_requests_waiting", low: 4, high: 16 }
                    - { metric: "vllm:kv_cache_usage_perc", low: 0.85, high: 0.98, labels: { model_name: "llama" } }
              iad1:
                location: [39.04, -77.49]
                addresses: ["192.0.2.20"]
                load: {metrics: "https://10.0.0.6/metrics", interval: 5s, timeout: 2s, stale_after: 5, max_step: 0.5,
                       signals: [{metric: "tgi_queue_size", low: 0, high: 10}]}
            pools:
              inference: {edges: [fra1, iad1], policy: nearest, shed_prefix: {ipv4: 20, ipv6: 48}, load_ttl: 10}
              plain: {edges: [fra1], policy: nearest}
            """, file: "t.yaml")
        #expect(config.edges["fra1"]?.load == LoadFeed(metrics: "http://10.0.0.5:8000/metrics", signals: [
            .init(metric: "vllm:num_requests_waiting", low: 4, high: 16),
            .init(metric: "vllm:kv_cache_usage_perc", low: 0.85, high: 0.98, labels: ["model_name": "llama"]),
        ]))
        #expect(config.edges["iad1"]?.load == LoadFeed(metrics: "https://10.0.0.6/metrics", interval: .seconds(5), timeout: .seconds(2),
                                                        staleAfter: 5, maxStep: 0.5, signals: [.init(metric: "tgi_queue_size", low: 0, high: 10)]))
        #expect(config.pools["inference"]?.shedPrefixIPv4 == 20 && config.pools["inference"]?.shedPrefixIPv6 == 48)
        #expect(config.pools["inference"]?.loadTTL == 10)
        #expect(config.pools["plain"]?.shedPrefixIPv4 == 24 && config.pools["plain"]?.shedPrefixIPv6 == 56 && config.pools["plain"]?.loadTTL == nil)
    }

    @Test func httpCheckTargets() {
        #expect(HTTPCheckTarget(url: "http://127.0.0.1:18001/healthz") == HTTPCheckTarget(isTLS: false, host: "127.0.0.1", port: 18001, path: "/healthz"))
        #expect(HTTPCheckTarget(url: "https://example.net") == HTTPCheckTarget(isTLS: true, host: "example.net", port: 443, path: "/"))
        #expect(HTTPCheckTarget(url: "http://[2001:db8::1]?x=1#top") == HTTPCheckTarget(isTLS: false, host: "2001:db8::1", port: 80, path: "/?x=1"))
        #expect(HTTPCheckTarget(url: "http://user@example.net/") == nil)
        #expect(HTTPCheckTarget(url: "http:///healthz") == nil)
    }
}

@Suite struct RejectedConfigTests {
    @Test(arguments: [
        // The document and its sections
        Rejected("root is a list", "- a\n- b\n", [
            "t.yaml:1:1: expected a mapping (key: value lines), not a list",
        ]),
        Rejected("unknown top-level key", "dsn:\n  listen: \"127.0.0.1:53\"\n", [
            "t.yaml:1:1: unknown key \"dsn\"; did you mean \"dns\"?",
        ]),
        Rejected("unknown key, nothing close", "dns:\n  port: 53\n", [
            "t.yaml:2:3: dns: unknown key \"port\" (expected listen, udp_payload, tcp_idle_timeout, tcp_max_connections, tcp_max_connections_per_client)",
        ]),
        Rejected("unknown keys with suggestions", "dns:\n  lisen: []\nzones:\n  dierctory: z\nhealth:\n  statefile: s\n", [
            "t.yaml:2:3: dns: unknown key \"lisen\"; did you mean \"listen\"?",
            "t.yaml:4:3: zones: unknown key \"dierctory\"; did you mean \"directory\"?",
            "t.yaml:6:3: health: unknown key \"statefile\"; did you mean \"state_file\"?",
        ]),
        Rejected("section is not a mapping", "dns: 53\n", [
            "t.yaml:1:6: dns: expected a mapping (key: value lines), not text",
        ]),
        Rejected("key is not text", "dns:\n  [listen]: 1\n", [
            "t.yaml:2:3: dns: keys must be text, not a list",
        ]),

        // dns
        Rejected("listen without a port", "dns:\n  listen: [\"127.0.0.1\"]\n", [
            "t.yaml:2:12: dns.listen[0]: \"127.0.0.1\": missing port (write 127.0.0.1:53)",
        ]),
        Rejected("IPv6 listen without brackets", "dns:\n  listen: [\"::1:5300\"]\n", [
            "t.yaml:2:12: dns.listen[0]: \"::1:5300\": put an IPv6 address in brackets, like [::1]:5300",
        ]),
        Rejected("listen on a host name", "dns:\n  listen: localhost:53\n", [
            "t.yaml:2:11: dns.listen: \"localhost\" is not an IPv4 address: expected four numbers separated by dots",
        ]),
        Rejected("empty and repeated listen lists", "dns:\n  listen: []\nstats:\n  listen: [\"127.0.0.1:9300\"]\n", [
            "t.yaml:2:11: dns.listen: needs at least one address",
            "t.yaml:4:11: stats.listen: expected text, not a list",
        ]),
        Rejected("stats on a DNS address", "dns:\n  listen: [\"127.0.0.1:5300\"]\nstats:\n  listen: 127.0.0.1:5300\n", [
            "t.yaml:4:11: stats.listen: 127.0.0.1:5300 is also a dns.listen address",
        ]),
        Rejected("same listen address twice", "dns:\n  listen: [\"[::1]:53\", \"[0::1]:53\"]\n", [
            "t.yaml:2:24: dns.listen[1]: [::1]:53 is listed twice",
        ]),
        Rejected("udp_payload out of range", "dns:\n  udp_payload: 511\n", [
            "t.yaml:2:16: dns.udp_payload: 511 is outside 512...4096",
        ]),
        Rejected("udp_payload quoted or not a number", "dns:\n  udp_payload: \"1232\"\n  tcp_max_connections: 1k\n", [
            "t.yaml:2:16: dns.udp_payload: expected a whole number, not the quoted text \"1232\"",
            "t.yaml:3:24: dns.tcp_max_connections: expected a whole number, not \"1k\"",
        ]),
        Rejected("tcp_max_connections zero", "dns:\n  tcp_max_connections: 0\n", [
            "t.yaml:2:24: dns.tcp_max_connections: must be at least 1, not 0",
        ]),
        Rejected("duration without a unit", "dns:\n  tcp_idle_timeout: 10\n", [
            "t.yaml:2:21: dns.tcp_idle_timeout: \"10\" needs a unit: write 10s or 10ms (units: ms, s, m, h, d)",
        ]),
        Rejected("zero duration", "dns:\n  tcp_idle_timeout: 0s\n", [
            "t.yaml:2:21: dns.tcp_idle_timeout: must be longer than 0",
        ]),
        Rejected("duration with a fraction", "dns:\n  tcp_idle_timeout: 1.5s\n", [
            "t.yaml:2:21: dns.tcp_idle_timeout: \"1.5s\": fractions are not supported; use a smaller unit, such as 1500ms for 1.5s",
        ]),

        // control, zones, health
        Rejected("empty paths", "control:\n  socket: \"\"\nzones:\n  directory: \" \"\nhealth: {state_file: \"\"}\n", [
            "t.yaml:2:11: control.socket: must not be empty",
            "t.yaml:4:14: zones.directory: must not be empty",
            "t.yaml:5:22: health.state_file: must not be empty",
        ]),
        Rejected("socket path too long", "control:\n  socket: \(String(repeating: "d/", count: 60))s\n", [
            "t.yaml:2:11: control.socket: the path is 121 bytes long; a Unix socket path may have at most 103",
        ]),

        // geoip
        Rejected("geoip without a database", "geoip:\n  client_subnet: yes\n", [
            "t.yaml:1:1: geoip: missing required key \"database\" (the MaxMind DB file)",
            "t.yaml:2:18: geoip.client_subnet: expected true or false, not \"yes\"",
        ]),
        Rejected("overrides", threeEdges + """
            geoip:
              database: x.mmdb
              overrides:
                - network: 10.1.0.0/8
                  location: [50.11, 8.68]
                - network: 10.0.0.0
                  location: [50.11, 8.68]
                - network: 192.168.0.0/16
                - network: 172.16.0.0/12
                  location: [1, 2]
                  edges: [fra1]
                - network: 2001:db8::/32
                  edges: [fra2]
                - {network: 2001:db8::/32, edges: [fra1]}
                - location: [1, 2]
            """, [
            "t.yaml:9:16: geoip.overrides[0].network: 10.1.0.0/8 has host bits set beyond the /8 prefix; the network is 10.0.0.0/8",
            "t.yaml:11:16: geoip.overrides[1].network: \"10.0.0.0\" is not a network: missing prefix length (e.g. 10.0.0.0/8)",
            "t.yaml:13:7: geoip.overrides[2]: an override needs a location or edges",
            "t.yaml:16:7: geoip.overrides[3]: give either location or edges, not both",
            "t.yaml:18:15: geoip.overrides[4].edges[0]: unknown edge \"fra2\"; did you mean \"fra1\"?",
            "t.yaml:19:17: geoip.overrides[5].network: 2001:db8::/32 is already overridden on line 17",
            "t.yaml:20:7: geoip.overrides[6]: missing required key \"network\"",
        ]),

        // edges
        Rejected("edge fields", """
            edges:
              1fra: {location: [1, 2], addresses: ["192.0.2.1"]}
              fra1:
                addresses: ["192.0.2.010", "2001:db8::g", "192.0.2.1", "192.0.2.1"]
              iad1:
                location: [95, -77.49]
              sfo1:
                location: [37.77, -222.4]
                cname: sfo1.example.net
              sin1:
                location: [1.35]
                cname: "sin1..example.net."
              gru1:
                location: [north, 1]
                addresses: "192.0.2.5"
            """, [
            "t.yaml:2:3: edges: edge name \"1fra\" must start with a letter",
            "t.yaml:3:3: edges.fra1: missing required key \"location\" ([latitude, longitude])",
            "t.yaml:4:17: edges.fra1.addresses[0]: \"192.0.2.010\" is not an IPv4 address: \"010\" has a leading zero",
            "t.yaml:4:32: edges.fra1.addresses[1]: \"2001:db8::g\" is not an IPv6 address: \"g\" is not a group of 1 to 4 hex digits",
            "t.yaml:4:60: edges.fra1.addresses[3]: 192.0.2.1 is listed twice",
            "t.yaml:5:3: edges.iad1: an edge needs addresses (for DYNA), a cname (for DYNC), or both",
            "t.yaml:6:16: edges.iad1.location: latitude 95 outside -90...90",
            "t.yaml:8:23: edges.sfo1.location: longitude -222.4 outside -180...180",
            "t.yaml:9:12: edges.sfo1.cname: \"sfo1.example.net\" must be absolute, ending with a dot: \"sfo1.example.net.\"",
            "t.yaml:11:15: edges.sin1.location: expected [latitude, longitude]",
            "t.yaml:12:12: edges.sin1.cname: \"sin1..example.net.\" has an empty label",
            "t.yaml:14:16: edges.gru1.location: latitude must be a number, not \"north\"",
            "t.yaml:15:16: edges.gru1.addresses: expected a list, not text",
        ]),
        Rejected("edge is not a mapping", "edges:\n  fra1: [50.11, 8.68]\n", [
            "t.yaml:2:9: edges.fra1: expected a mapping (key: value lines), not a list",
        ]),
        Rejected("checks", """
            edges:
              fra1:
                location: [50.11, 8.68]
                addresses: ["192.0.2.10"]
                check:
                  http: "ftp://127.0.0.1/healthz"
                  tls_verify: false
                  interval: 2s
                  timeout: 2s
                  rise: 0
                  fall: 101
              iad1:
                location: [39.04, -77.49]
                addresses: ["192.0.2.20"]
                check:
                  tcp: "127.0.0.1"
                  expect_status: [200]
                  interval: 5
              sfo1:
                location: [37.77, -122.42]
                addresses: ["198.51.100.30"]
                check:
                  http: "http://127.0.0.1:18003/healthz"
                  tcp: "127.0.0.1:18003"
              sin1:
                location: [1.35, 103.82]
                addresses: ["198.51.100.40"]
                check:
                  expect_status: [200]
              gru1:
                location: [-23.55, -46.63]
                addresses: ["203.0.113.50"]
                check:
                  http: "http://127.0.0.1:18005/healthz"
                  tls_verify: false
                  expect_status: [200, 700]
                  timeout: 1m
                  host: "bad host"
                  retries: 3
            """, [
            "t.yaml:6:13: edges.fra1.check.http: \"ftp://127.0.0.1/healthz\" must start with http:// or https://",
            "t.yaml:9:16: edges.fra1.check.timeout: timeout 2s must be shorter than interval 2s",
            "t.yaml:10:13: edges.fra1.check.rise: 0 is outside 1...100",
            "t.yaml:11:13: edges.fra1.check.fall: 101 is outside 1...100",
            "t.yaml:16:12: edges.iad1.check.tcp: \"127.0.0.1\": missing port (write HOST:PORT)",
            "t.yaml:17:7: edges.iad1.check: expect_status applies only to http checks",
            "t.yaml:18:17: edges.iad1.check.interval: \"5\" needs a unit: write 5s or 5ms (units: ms, s, m, h, d)",
            "t.yaml:24:7: edges.sfo1.check: a check is either http or tcp, not both",
            "t.yaml:28:5: edges.sin1.check: a check needs http: URL or tcp: \"HOST:PORT\"",
            "t.yaml:35:7: edges.gru1.check: tls_verify applies only to https:// URLs",
            "t.yaml:36:28: edges.gru1.check.expect_status[1]: 700 is outside 100...599",
            "t.yaml:37:16: edges.gru1.check.timeout: timeout 1m must be shorter than interval 5s",
            "t.yaml:38:13: edges.gru1.check.host: \"bad host\" cannot be a Host header: use visible ASCII characters and no spaces",
            "t.yaml:39:7: edges.gru1.check: unknown key \"retries\" (expected http, tcp, expect_status, expect_body, host, tls_verify, interval, timeout, rise, fall)",
        ]),
        Rejected("timing", """
            edges:
              a:
                location: [0, 0]
                addresses: ["192.0.2.1"]
                check: {http: "http://192.0.2.1/", interval: 1500ms}
              b:
                location: [0, 0]
                addresses: ["192.0.2.1"]
                check: {http: "http://192.0.2.1/", interval: 5, timeout: 10s}
            """, [
            "t.yaml:5:50: edges.a.check.interval: timeout 2s must be shorter than interval 1s500ms",
            "t.yaml:9:50: edges.b.check.interval: \"5\" needs a unit: write 5s or 5ms (units: ms, s, m, h, d)",
        ]),
        Rejected("check targets", """
            edges:
              a: {location: [0, 0], addresses: ["192.0.2.1"], check: {tcp: "[192.0.2.1]:80"}}
              b: {location: [0, 0], addresses: ["192.0.2.1"], check: {tcp: "bad..name:80"}}
              c: {location: [0, 0], addresses: ["192.0.2.1"], check: {tcp: "192.0.2.1:99999"}}
              d: {location: [0, 0], addresses: ["192.0.2.1"], check: {http: "http://user:pw@192.0.2.1/"}}
              e: {location: [0, 0], addresses: ["192.0.2.1"], check: {http: "http://2001:db8::1/"}}
            """, [
            "t.yaml:2:64: edges.a.check.tcp: \"[192.0.2.1]:80\": \"192.0.2.1\" in brackets is not an IPv6 address",
            "t.yaml:3:64: edges.b.check.tcp: \"bad..name:80\": host \"bad..name\" has an empty label",
            "t.yaml:4:64: edges.c.check.tcp: \"192.0.2.1:99999\": port \"99999\" is not a number 1...65535",
            "t.yaml:5:65: edges.d.check.http: \"http://user:pw@192.0.2.1/\": user info is not supported in check URLs",
            "t.yaml:6:65: edges.e.check.http: \"http://2001:db8::1/\": put an IPv6 address in brackets, like [2001:db8::1]:80",
        ]),

        // pools
        Rejected("pool edges and policy", threeEdges + """
            pools:
              p:
                edges: [fra1, fra2, iad1, iad1, xyz]
                policy: nearst
            """, [
            "t.yaml:8:19: pools.p.edges[1]: unknown edge \"fra2\"; did you mean \"fra1\"?",
            "t.yaml:8:31: pools.p.edges[3]: edge \"iad1\" is listed twice",
            "t.yaml:8:37: pools.p.edges[4]: unknown edge \"xyz\" (edges: fra1, iad1, sin1)",
            "t.yaml:9:13: pools.p.policy: unknown policy \"nearst\"; did you mean \"nearest\"?",
        ]),
        Rejected("pool required keys", threeEdges + """
            pools:
              p:
                answers: 1
              "bad name": {edges: [fra1], policy: map}
              q:
                edges: []
                policy: nearest
                map: {EU: [fra1]}
            """, [
            "t.yaml:7:3: pools.p: missing required key \"edges\"",
            "t.yaml:7:3: pools.p: missing required key \"policy\" (nearest or map)",
            "t.yaml:9:3: pools: pool name \"bad name\" may only contain letters, digits, \"-\" and \"_\"",
            "t.yaml:9:39: pools.bad name.policy: policy map needs a map (region codes to edges)",
            "t.yaml:11:12: pools.q.edges: needs at least one edge",
            "t.yaml:13:5: pools.q: map is only used with policy: map",
        ]),
        Rejected("pool answers, fallback, when_all_down", threeEdges + """
            pools:
              p:
                edges: [fra1, iad1]
                policy: nearest
                answers: 3
                fallback: [sin1, fra1, fra1]
                when_all_down: fail
              q:
                edges: [fra1]
                policy: nearest
                answers: 0
                fallback: [95, 8]
              r:
                edges: [fra1]
                policy: nearest
                fallback: [50, fra1]
            """, [
            "t.yaml:10:14: pools.p.answers: answers 3 is more than the 2 edges of this pool",
            "t.yaml:11:16: pools.p.fallback[0]: edge \"sin1\" is not in this pool's edges",
            "t.yaml:11:28: pools.p.fallback[2]: edge \"fra1\" is listed twice",
            "t.yaml:12:20: pools.p.when_all_down: unknown when_all_down value \"fail\" (expected all or servfail)",
            "t.yaml:16:14: pools.q.answers: must be at least 1, not 0",
            "t.yaml:17:16: pools.q.fallback: latitude 95 outside -90...90",
            "t.yaml:21:15: pools.r.fallback: expected [latitude, longitude] or a list of edge names",
        ]),
        Rejected("pool map", threeEdges + """
            pools:
              m:
                edges: [fra1, iad1]
                policy: map
                map:
                  eu: [fra1]
                  UK: [fra1]
                  US-CA: [sin1]
                  DE: []
                  NA:
                  XX-1: [fra1]
                  default: [iad1, iad1]
            """, [
            "t.yaml:11:7: pools.m.map: region codes are upper case: write \"EU\"",
            "t.yaml:12:7: pools.m.map: \"UK\" is not an ISO 3166-1 code; the United Kingdom is \"GB\"",
            "t.yaml:13:15: pools.m.map.US-CA[0]: edge \"sin1\" is not in this pool's edges",
            "t.yaml:14:11: pools.m.map.DE: needs at least one edge",
            "t.yaml:15:10: pools.m.map.NA: needs a list of edges",
            "t.yaml:16:7: pools.m.map: \"XX-1\": \"XX\" is not an ISO 3166-1 country code",
            "t.yaml:17:23: pools.m.map.default[1]: edge \"iad1\" is listed twice",
        ]),
        Rejected("load feeds and shedding", """
            edges:
              a:
                location: [1, 2]
                addresses: ["192.0.2.1"]
                load:
                  metrics: "ftp://x/metrics"
                  interval: 1s
                  timeout: 2s
                  max_step: 0
                  signals:
                    - { metric: "q", low: 5, high: 5 }
                    - { low: 1, high: two }
              b:
                location: [1, 2]
                addresses: ["192.0.2.2"]
                load: {interval: 1s}
            pools:
              p: {edges: [a, b], policy: nearest, shed_prefix: {ipv4: 33}, load_ttl: -1}
            """, [
            "t.yaml:6:16: edges.a.load.metrics: \"ftp://x/metrics\" must start with http:// or https://",
            "t.yaml:8:16: edges.a.load: timeout 2s must be shorter than interval 1s",
            "t.yaml:9:17: edges.a.load.max_step: 0.0 is outside (0...1]",
            "t.yaml:11:40: edges.a.load.signals[0].high: high 5.0 must be above low 5.0",
            "t.yaml:12:11: edges.a.load.signals[1]: missing required key \"metric\"",
            "t.yaml:12:27: edges.a.load.signals[1].high: expected a number",
            "t.yaml:16:5: edges.b.load: missing required key \"metrics\" (the URL of the edge's Prometheus metrics)",
            "t.yaml:16:5: edges.b.load: missing required key \"signals\" (the gauges that say how loaded the edge is)",
            // The default timeout, 1s, is not shorter than this interval.
            "t.yaml:16:22: edges.b.load: timeout 1s must be shorter than interval 1s",
            "t.yaml:18:59: pools.p.shed_prefix.ipv4: 33 is outside 0...32",
            "t.yaml:18:74: pools.p.load_ttl: -1 is outside 0...2147483647",
        ]),
        Rejected("no edges defined", "pools:\n  p: {edges: [fra1], policy: nearest}\n", [
            "t.yaml:2:15: pools.p.edges[0]: unknown edge \"fra1\" (no edges are defined)",
        ]),
    ])
    func rejected(_ example: Rejected) {
        #expect(problems(example.yaml) == example.errors)
    }

    @Test func allProblemsTogetherInFileOrder() {
        let yaml = """
            dns:
              listen: ["127.0.0.1:5300", "[::1]"]
              udp_payload: 9000
            stats:
              lisen: "127.0.0.1:9300"
            edges:
              fra1:
                location: [95, 8.68]
                addresses: ["192.0.2.10"]
                check:
                  http: "http://127.0.0.1:18001/healthz"
                  interval: 5
              iad1:
                location: [39.04, -77.49]
                addresses: ["192.0.2.20"]
            pools:
              inference:
                edges: [fra1, iad2]
                policy: nearest
            """
        #expect(problems(yaml) == [
            "t.yaml:2:30: dns.listen[1]: \"[::1]\": missing port (write [::1]:53)",
            "t.yaml:3:16: dns.udp_payload: 9000 is outside 512...4096",
            "t.yaml:5:3: stats: unknown key \"lisen\"; did you mean \"listen\"?",
            "t.yaml:8:16: edges.fra1.location: latitude 95 outside -90...90",
            "t.yaml:12:17: edges.fra1.check.interval: \"5\" needs a unit: write 5s or 5ms (units: ms, s, m, h, d)",
            "t.yaml:18:19: pools.inference.edges[1]: unknown edge \"iad2\"; did you mean \"iad1\"?",
        ])
    }

    @Test func errorFields() throws {
        do {
            _ = try MeridianConfiguration.parse(yaml: "edges:\n  fra1:\n    location: [95, 8.68]\n    addresses: [\"192.0.2.10\"]\n", file: "meridian.yaml")
            Issue.record("accepted")
        } catch {
            let only = try #require(error.errors.first)
            #expect(error.errors.count == 1)
            #expect(only == ConfigError(file: "meridian.yaml", line: 3, column: 16, keyPath: "edges.fra1.location", message: "latitude 95 outside -90...90"))
            #expect(error.description == "meridian.yaml:3:16: edges.fra1.location: latitude 95 outside -90...90")
        }
    }
}

@Suite struct YAMLSyntaxTests {
    @Test(arguments: [
        ("dns:\n  listen: [\"127.0.0.1:5300\"\nzones: {}\n",
         "t.yaml:3:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at 2:11)"),
        ("dns:\n  listen: x\n udp_payload: 512\n",
         "t.yaml:3:2: YAML syntax error: did not find expected key (while parsing a block mapping at 1:1)"),
        ("dns:\n\tlisten: x\n",
         "t.yaml:2:1: YAML syntax error: found character that cannot start any token (while scanning for the next token at 2:1)"),
        ("dns:\n  udp_payload: 1232\n  listen: []\n  udp_payload: 512\n",
         "t.yaml:4:3: duplicate key \"udp_payload\" (first written at 2:3)"),
        ("dns: {}\nzones: {}\ndns: {}\n",
         "t.yaml:3:1: duplicate key \"dns\" (first written at 1:1)"),
        ("dns: {}\n---\nzones: {}\n",
         "t.yaml:2:1: YAML syntax error: but found another document (expected a single document in the stream at 1:1)"),
        ("dns: *settings\n",
         "t.yaml:1:6: YAML syntax error: found undefined alias"),
    ])
    func reportedWithPosition(yaml: String, error: String) {
        #expect(problems(yaml) == [error])
    }

    @Test func anchorsAndAliasesWork() throws {
        let config = try MeridianConfiguration.parse(yaml: """
            edges:
              a: {location: &here [50.11, 8.68], addresses: ["192.0.2.1"]}
              b: {location: *here, addresses: ["192.0.2.2"]}
            """, file: "t.yaml")
        #expect(config.edges["a"]?.location == config.edges["b"]?.location)
    }
}
