import MeridianConfig
import Testing

@Suite struct DnstapConfigTests {
    @Test func offByDefault() throws {
        #expect(try MeridianConfiguration.parse(yaml: "", file: "/etc/meridian/t.yaml").log.dnstap == nil)
    }

    @Test func everyKeyAndPathsFromTheConfigFile() throws {
        let config = try MeridianConfiguration.parse(yaml: """
            log:
              level: notice
              dnstap:
                file: queries.dnstap
                queries: false
                sample: 0.1
                identity: ns1.example
            """, file: "/etc/meridian/t.yaml")
        let dnstap = try #require(config.log.dnstap)
        #expect(dnstap.destination == .file("/etc/meridian/queries.dnstap"))
        #expect(!dnstap.queries && dnstap.responses && dnstap.sample == 0.1 && dnstap.identity == "ns1.example")
        #expect(dnstap.sourceLine == 3)
        let socket = try MeridianConfiguration.parse(yaml: "log:\n  dnstap: {socket: /run/dnstap.sock}\n", file: "t.yaml")
        #expect(socket.log.dnstap == DnstapSettings(destination: .socket("/run/dnstap.sock"), sourceLine: 2))
    }

    @Test(arguments: [
        ("log:\n  dnstap: {}\n", "t.yaml:2:3: log.dnstap: needs file or socket: where the log goes"),
        ("log:\n  dnstap: {file: a, socket: b}\n", "t.yaml:2:3: log.dnstap: give either file or socket, not both"),
        ("log:\n  dnstap: {file: a, sample: 0}\n", "t.yaml:2:29: log.dnstap.sample: 0.0 is outside (0...1]"),
        ("log:\n  dnstap: {file: a, sample: 1.5}\n", "t.yaml:2:29: log.dnstap.sample: 1.5 is outside (0...1]"),
        ("log:\n  dnstap: {file: a, queries: false, responses: false}\n",
         "t.yaml:2:3: log.dnstap: queries and responses are both false: nothing would be logged (remove log.dnstap instead)"),
        ("log:\n  dnstap: {file: a, query: true}\n", "t.yaml:2:21: log.dnstap: unknown key \"query\" (expected file, socket, queries, responses, sample, identity)"),
        ("log:\n  dnstap: {socket: /\(String(repeating: "s", count: 110))}\n",
         "t.yaml:2:20: log.dnstap.socket: the path is 111 bytes long; a Unix socket path may have at most 103"),
    ])
    func rejected(yaml: String, error: String) {
        #expect(problems(yaml) == [error])
    }
}
