import MeridianAuthority
import MeridianWire
import Testing

/// The lookup semantics as data: one zone in zone-file text, and for each question the
/// expected code, flags and sections.
let exampleZone = """
$ORIGIN example.test.
$TTL 3600
@        IN SOA ns1 hostmaster 2026010101 3600 600 86400 300
@        IN NS  ns1
@        IN NS  ns2.elsewhere.test.
@        IN MX  10 mail
ns1      IN A   192.0.2.1
mail     IN A   192.0.2.2
mail     IN AAAA 2001:db8::2
www      IN CNAME web
web      IN A   192.0.2.3
chain1   IN CNAME chain2
chain2   IN CNAME www
loop1    IN CNAME loop2
loop2    IN CNAME loop1
out      IN CNAME www.elsewhere.test.
towild   IN CNAME x.wild
*.wild   IN A   192.0.2.4
*.wild   IN TXT "wild"
a.b.c    IN A   192.0.2.5
*.c      IN A   192.0.2.6
sub      IN NS  ns.sub
sub      IN NS  ns.elsewhere.test.
ns.sub   IN A   192.0.2.7
_sip._tcp IN SRV 0 5 5060 mail
"""

struct LookupCase: CustomTestStringConvertible, Sendable {
    var name: String
    var type: RRType
    var rcode: RCode
    var aa = true
    var answer: [String] = []
    var authority: [String] = []
    var additional: [String] = []
    var testDescription: String { "\(name) \(type)" }
}

let soa = "example.test. 300 SOA ns1.example.test. hostmaster.example.test. 2026010101 3600 600 86400 300"

let lookupCases: [LookupCase] = [
    LookupCase(name: "web.example.test.", type: .a, rcode: .noError, answer: ["web.example.test. 3600 A 192.0.2.3"]),
    LookupCase(name: "www.example.test.", type: .a, rcode: .noError,
               answer: ["web.example.test. 3600 A 192.0.2.3", "www.example.test. 3600 CNAME web.example.test."]),
    LookupCase(name: "www.example.test.", type: .cname, rcode: .noError, answer: ["www.example.test. 3600 CNAME web.example.test."]),
    LookupCase(name: "chain1.example.test.", type: .a, rcode: .noError,
               answer: ["chain1.example.test. 3600 CNAME chain2.example.test.", "chain2.example.test. 3600 CNAME www.example.test.",
                        "web.example.test. 3600 A 192.0.2.3", "www.example.test. 3600 CNAME web.example.test."]),
    LookupCase(name: "loop1.example.test.", type: .a, rcode: .noError,
               answer: ["loop1.example.test. 3600 CNAME loop2.example.test.", "loop2.example.test. 3600 CNAME loop1.example.test."]),
    LookupCase(name: "out.example.test.", type: .a, rcode: .noError, answer: ["out.example.test. 3600 CNAME www.elsewhere.test."]),
    LookupCase(name: "towild.example.test.", type: .a, rcode: .noError,
               answer: ["towild.example.test. 3600 CNAME x.wild.example.test.", "x.wild.example.test. 3600 A 192.0.2.4"]),
    LookupCase(name: "nope.example.test.", type: .a, rcode: .nxDomain, authority: [soa]),
    LookupCase(name: "ns1.example.test.", type: .aaaa, rcode: .noError, authority: [soa]),
    LookupCase(name: "x.wild.example.test.", type: .a, rcode: .noError, answer: ["x.wild.example.test. 3600 A 192.0.2.4"]),
    LookupCase(name: "deep.x.wild.example.test.", type: .txt, rcode: .noError, answer: ["deep.x.wild.example.test. 3600 TXT \"wild\""]),
    LookupCase(name: "x.wild.example.test.", type: .mx, rcode: .noError, authority: [soa]),
    LookupCase(name: "wild.example.test.", type: .a, rcode: .noError, authority: [soa]),
    // b.c is an empty non-terminal: it exists, so no wildcard applies and it has no data.
    LookupCase(name: "b.c.example.test.", type: .a, rcode: .noError, authority: [soa]),
    LookupCase(name: "x.b.c.example.test.", type: .a, rcode: .nxDomain, authority: [soa]),
    LookupCase(name: "z.c.example.test.", type: .a, rcode: .noError, answer: ["z.c.example.test. 3600 A 192.0.2.6"]),
    LookupCase(name: "host.sub.example.test.", type: .a, rcode: .noError, aa: false,
               authority: ["sub.example.test. 3600 NS ns.elsewhere.test.", "sub.example.test. 3600 NS ns.sub.example.test."],
               additional: ["ns.sub.example.test. 3600 A 192.0.2.7"]),
    LookupCase(name: "sub.example.test.", type: .ns, rcode: .noError, aa: false,
               authority: ["sub.example.test. 3600 NS ns.elsewhere.test.", "sub.example.test. 3600 NS ns.sub.example.test."],
               additional: ["ns.sub.example.test. 3600 A 192.0.2.7"]),
    LookupCase(name: "example.test.", type: .mx, rcode: .noError, answer: ["example.test. 3600 MX 10 mail.example.test."],
               additional: ["mail.example.test. 3600 A 192.0.2.2", "mail.example.test. 3600 AAAA 2001:db8::2"]),
    LookupCase(name: "example.test.", type: .ns, rcode: .noError,
               answer: ["example.test. 3600 NS ns1.example.test.", "example.test. 3600 NS ns2.elsewhere.test."],
               additional: ["ns1.example.test. 3600 A 192.0.2.1"]),
    LookupCase(name: "_sip._tcp.example.test.", type: .srv, rcode: .noError,
               answer: ["_sip._tcp.example.test. 3600 SRV 0 5 5060 mail.example.test."],
               additional: ["mail.example.test. 3600 A 192.0.2.2", "mail.example.test. 3600 AAAA 2001:db8::2"]),
    LookupCase(name: "web.example.test.", type: .any, rcode: .noError, answer: ["web.example.test. 3600 A 192.0.2.3"]),
    LookupCase(name: "www.other.test.", type: .a, rcode: .refused, aa: false),
]

@Suite struct LookupTests {
    static let fixture = try! ZoneFixture([("example.test.", exampleZone)])

    @Test(arguments: lookupCases)
    func lookup(_ expected: LookupCase) throws {
        let response = try Self.fixture.ask(expected.name, expected.type)
        #expect(response.rcode == expected.rcode)
        #expect(response.header.flags.contains(.qr))
        #expect(response.header.flags.contains(.aa) == expected.aa)
        #expect(!response.header.flags.contains(.tc))
        #expect(response.header.id == 0x1234)
        #expect(lines(response.answers) == expected.answer.sorted())
        #expect(lines(response.authority) == expected.authority.sorted())
        #expect(lines(response.additional) == expected.additional.sorted())
        #expect(response.edns?.udpPayloadSize == 1232)
    }

    @Test func questionEchoesTheClientsCase() throws {
        let response = try Self.fixture.ask("WeB.ExAmPlE.TeSt.", .a)
        #expect(response.questions.first?.name.description == "WeB.ExAmPlE.TeSt.")
        #expect(response.answers.count == 1)
    }

    @Test func closestEnclosingZoneWins() throws {
        let child = """
        $ORIGIN sub.example.test.
        @ 60 IN SOA ns.sub hostmaster 7 3600 600 86400 60
        @ 60 IN NS ns.sub
        ns 60 IN A 192.0.2.7
        host 60 IN A 192.0.2.77
        """
        let fixture = try ZoneFixture([("example.test.", exampleZone), ("sub.example.test.", child)])
        let response = try fixture.ask("host.sub.example.test.", .a)
        #expect(response.header.flags.contains(.aa))
        #expect(lines(response.answers) == ["host.sub.example.test. 60 A 192.0.2.77"])
    }
}
