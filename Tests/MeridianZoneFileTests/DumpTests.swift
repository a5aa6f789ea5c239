import MeridianWire
import MeridianZoneFile
import Testing

@Test func dumpSortsInCanonicalOrder() {
    // The example of RFC 4034 section 6.1, shuffled, with types to order at each name.
    let result = parse("""
        $TTL 1
        *.z.example. A 192.0.2.7
        z.example. A 192.0.2.6
        zABC.a.EXAMPLE. A 192.0.2.5
        \\200.z.example. A 192.0.2.9
        Z.a.example. A 192.0.2.4
        a.example. TXT "second type at a"
        a.example. A 192.0.2.2
        \\001.z.example. A 192.0.2.8
        yljkjljk.a.example. A 192.0.2.3
        example. NS ns
        example. SOA ns hm 1 2 3 4 5
        example. A 192.0.2.1
        a.example. A 192.0.2.10
        """, origin: "example.")
    #expect(result.errors.isEmpty)
    #expect(ZoneDump.dump(result.records) == """
        example. 1 IN SOA ns.example. hm.example. 1 2 3 4 5
        example. 1 IN A 192.0.2.1
        example. 1 IN NS ns.example.
        a.example. 1 IN A 192.0.2.2
        a.example. 1 IN A 192.0.2.10
        a.example. 1 IN TXT "second type at a"
        yljkjljk.a.example. 1 IN A 192.0.2.3
        Z.a.example. 1 IN A 192.0.2.4
        zABC.a.EXAMPLE. 1 IN A 192.0.2.5
        z.example. 1 IN A 192.0.2.6
        \\001.z.example. 1 IN A 192.0.2.8
        *.z.example. 1 IN A 192.0.2.7
        \\200.z.example. 1 IN A 192.0.2.9

        """)
}

@Test func dumpReadsBackToTheSameRecords() {
    let text = """
        $ORIGIN example.
        $TTL 300
        @     IN SOA ns1 hostmaster ( 2026112501 1h 10m 2w 5m )
        @     IN NS  ns1
        @        MX  10 mail
        @        TXT "v=spf1 -all" "two"
        @        CAA 0 issue "ca.example"
        ns1   IN A   198.51.100.53
        ns1      AAAA 2001:db8::53
        api   30 IN DYNA inference
        cdn   30 IN DYNC inference
        _sip._tcp SRV 10 60 5060 sip
        sip      NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
        ssh      SSHFP 1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac
        _443._tcp TLSA 3 1 1 0123456789ABCDEF
        host     HINFO "PC" "Linux"
        sub      NS ns.sub
        sub      DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
        ns.sub   A 192.0.2.1
        old      DNAME new
        ptr      PTR host
        x        TYPE65534 \\# 3 010203
        """
    let first = parse(text)
    #expect(first.errors.isEmpty)
    let dumped = ZoneDump.dump(first.records)
    let second = parse(dumped, origin: ".")
    #expect(second.errors.isEmpty)
    #expect(ZoneDump.dump(second.records) == dumped)
    #expect(Set(second.records.map { [$0.owner.description, String($0.ttl), $0.type.description] + $0.rdata.map(String.init) })
        == Set(first.records.map { [$0.owner.description, String($0.ttl), $0.type.description] + $0.rdata.map(String.init) }))
    #expect(ZoneValidator.check(records: second.records, origin: name("example."), file: "x").isEmpty)
    #expect(ZoneValidator.dump(second.records) == dumped)
}
