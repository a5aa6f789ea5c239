import MeridianConfig
import Testing

@Suite struct RRLConfigTests {
    @Test func onByDefault() throws {
        let config = try MeridianConfiguration.parse(yaml: "", file: "t.yaml")
        #expect(config.rrl == RRLSettings(rate: 20, slip: 2, ipv4Prefix: 24, ipv6Prefix: 56, exempt: []))
    }

    @Test func everyKey() throws {
        let config = try MeridianConfiguration.parse(yaml: """
            rrl:
              rate: 50
              slip: 0
              ipv4_prefix: 32
              ipv6_prefix: 48
              exempt: ["192.0.2.0/24", "2001:db8::/32"]
            """, file: "t.yaml")
        #expect(config.rrl.rate == 50 && config.rrl.slip == 0)
        #expect(config.rrl.ipv4Prefix == 32 && config.rrl.ipv6Prefix == 48)
        #expect(config.rrl.exempt.map(\.description) == ["192.0.2.0/24", "2001:db8::/32"])
        #expect(try MeridianConfiguration.parse(yaml: "rrl:\n  rate: 0\n", file: "t.yaml").rrl.rate == 0)
    }

    @Test(arguments: [
        ("rrl:\n  rate: -1\n", "t.yaml:2:9: rrl.rate: -1 is outside 0...1000000"),
        ("rrl:\n  rate: fast\n", "t.yaml:2:9: rrl.rate: expected a whole number, not \"fast\""),
        ("rrl:\n  slip: 11\n", "t.yaml:2:9: rrl.slip: 11 is outside 0...10"),
        ("rrl:\n  ipv4_prefix: 33\n", "t.yaml:2:16: rrl.ipv4_prefix: 33 is outside 0...32"),
        ("rrl:\n  ipv6_prefix: 129\n", "t.yaml:2:16: rrl.ipv6_prefix: 129 is outside 0...128"),
        ("rrl:\n  rat: 5\n", "t.yaml:2:3: rrl: unknown key \"rat\"; did you mean \"rate\"?"),
        ("rrl:\n  exempt: \"192.0.2.0/24\"\n", "t.yaml:2:11: rrl.exempt: expected a list, not text"),
        ("rrl:\n  exempt:\n    - 192.0.2.1/24\n",
         "t.yaml:3:7: rrl.exempt[0]: 192.0.2.1/24 has host bits set beyond the /24 prefix; the network is 192.0.2.0/24"),
        ("rrl:\n  exempt: [10.0.0.0/8, 10.0.0.0/8]\n", "t.yaml:2:24: rrl.exempt[1]: 10.0.0.0/8 is listed twice"),
    ])
    func rejected(yaml: String, error: String) {
        #expect(problems(yaml) == [error])
    }
}
