import MeridianWire
import MeridianZoneFile
import Testing

/// The start every validator case shares: a well-formed apex.
let apex = """
    $TTL 300
    @ IN SOA ns1 hostmaster 1 3600 600 1209600 300
    @ IN NS ns1
    ns1 IN A 192.0.2.53

    """

/// Zone text (after `apex`, which is lines 1-4) and the validator's errors as `LINE:COL: message`.
let validatorCases: [ZoneCase] = [
    ZoneCase("a good zone", """
        www A 192.0.2.1
        www AAAA 2001:db8::1
        alias CNAME www
        api 30 DYNA inference
        api TXT "DYNA may share its name with other data"
        cdn 30 DYNC inference
        sub NS ns.sub
        sub NS ns.other.
        sub DS 1 2 5 00
        ns.sub A 192.0.2.10
        ns.sub AAAA 2001:db8::10
        sub A 192.0.2.11
        signed CNAME www
        signed RRSIG CNAME 8 3 300 20360101000000 20351201000000 1 example. AAAA
        """, []),
    ZoneCase("records outside the zone", "www.other. A 192.0.2.1\nexample.net. A 192.0.2.2\n",
             ["5:1: www.other. is outside the zone example.", "6:1: example.net. is outside the zone example."]),
    ZoneCase("SOA not at the apex, and a second SOA", "www SOA ns1 hm 1 2 3 4 5\n@ SOA ns1 hm 2 2 3 4 5\n",
             ["5:1: SOA record not at the zone apex example.", "6:1: more than one SOA record"]),
    ZoneCase("CNAME and other data", "www A 192.0.2.1\nwww CNAME other\nx CNAME a\nx CNAME b\n@ CNAME www\n",
             ["6:1: CNAME and other data at www.example.", "8:1: more than one CNAME record at x.example.",
              "9:1: CNAME and other data at example."]),
    ZoneCase("CNAME before the other data", "www CNAME other\nwww TXT x\n", ["6:1: CNAME and other data at www.example."]),
    ZoneCase("DYNC is alone at its name", "a DYNC p\na A 192.0.2.1\nb DYNC p\nb DYNC q\nc DYNC p\nc CNAME x\nd DYNC p\nd DYNA p\n",
             ["6:1: DYNC and other data at a.example.", "8:1: more than one DYNC record at b.example.",
              "10:1: CNAME and other data at c.example.", "12:1: DYNC and other data at d.example."]),
    ZoneCase("DYNA and addresses", "a DYNA p\na A 192.0.2.1\nb AAAA ::1\nb DYNA p\nc DYNA p\nc DYNA q\nd DYNA p\nd CNAME x\n",
             ["6:1: DYNA and A/AAAA records at a.example. (a DYNA name answers A and AAAA itself)",
              "8:1: DYNA and A/AAAA records at b.example. (a DYNA name answers A and AAAA itself)",
              "10:1: more than one DYNA record at c.example.", "12:1: CNAME and other data at d.example."]),
    ZoneCase("data at and below a delegation",
             "sub NS ns.sub\nsub TXT x\nsub MX 10 mail\nwww.sub A 192.0.2.1\nwww.sub TXT y\ndeeper.sub NS ns\nx.y.sub CNAME z\n",
             ["6:1: TXT record at delegation point sub.example. (only NS, DS and glue allowed)",
              "7:1: MX record at delegation point sub.example. (only NS, DS and glue allowed)",
              "9:1: TXT record below delegation point sub.example. (only A/AAAA glue allowed)",
              "10:1: NS record below delegation point sub.example. (only A/AAAA glue allowed)",
              "11:1: CNAME record below delegation point sub.example. (only A/AAAA glue allowed)"]),
    ZoneCase("names beside a delegation are not below it", "sub NS ns.sub\nsubway TXT x\nwww.subway A 192.0.2.1\n", []),
]

@Test(arguments: validatorCases)
func validates(_ zone: ZoneCase) {
    let result = parse(apex + zone.text)
    #expect(located(result.errors) == [])
    let errors = ZoneValidator.check(records: result.records, origin: name(zone.origin), file: "test.zone")
    #expect(located(errors) == zone.expected)
}

@Test func zoneWithoutSOAOrNS() {
    let result = parse("$TTL 1\nwww A 192.0.2.1\n")
    let errors = ZoneValidator.check(records: result.records, origin: name("example."), file: "z.zone")
    #expect(errors.map(\.description) == [
        "z.zone:1:1: no SOA record at the zone apex example.",
        "z.zone:1:1: no NS records at the zone apex example.",
    ])
}

@Test func nsOnlyBelowTheApexDoesNotCount() {
    let result = parse("$TTL 1\n@ SOA ns hm 1 2 3 4 5\nsub NS ns\n")
    let errors = ZoneValidator.check(records: result.records, origin: name("example."), file: "z.zone")
    #expect(located(errors) == ["1:1: no NS records at the zone apex example."])
}

@Test func ttlOutOfRangeFromOtherSources() {
    let record = ZoneRecord(owner: name("www.example."), ttl: 4_000_000_000, type: .a, rdata: [192, 0, 2, 1],
                            position: SourcePosition(file: "api", line: 3, column: 1))
    let soa = parse("$TTL 1\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n").records
    let errors = ZoneValidator.check(records: soa + [record], origin: name("example."), file: "api")
    #expect(errors.map(\.description) == ["api:3:1: TTL 4000000000 out of range (0..2147483647)"])
}

@Test func namesCompareWithoutCase() {
    let result = parse(apex + "WWW CNAME x\nwww A 192.0.2.1\n")
    let errors = ZoneValidator.check(records: result.records, origin: name("EXAMPLE."), file: "test.zone")
    #expect(located(errors) == ["6:1: CNAME and other data at WWW.example."])
}

@Test func validatedZoneCarriesItsCutsOnceLowerCased() throws {
    let result = parse(apex + "Sub NS ns.sub\nsub NS ns.other.\nb NS ns.b\nns.sub A 192.0.2.10\nsub DS 1 2 5 00\n")
    let zone = try ZoneValidator.validate(result.records, origin: name("example."), file: "test.zone")
    #expect(zone.cuts.map(\.description) == ["sub.example.", "b.example."])
    #expect(zone.cuts.allSatisfy { $0.wire == $0.lowercased.wire })
    #expect(zone.records == result.records)
    #expect(zone.file == "test.zone")
}

@Test(arguments: validatorCases)
func validateThrowsWhatCheckReports(_ zone: ZoneCase) {
    let result = parse(apex + zone.text)
    let origin = name(zone.origin)
    do {
        _ = try ZoneValidator.validate(result.records, origin: origin, file: "test.zone")
        #expect(zone.expected.isEmpty)
    } catch {
        #expect(located(error.errors) == zone.expected)
        #expect(error.errors == ZoneValidator.check(records: result.records, origin: origin, file: "test.zone"))
    }
}
