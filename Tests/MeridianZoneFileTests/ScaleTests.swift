import MeridianWire
import MeridianZoneFile
import Testing

/// A zone large enough that anything quadratic in the parser, validator or dump would stall
/// the suite (release-mode timing of a million records is measured outside the tests).
@Test func largeZoneLoadsValidatesAndDumps() {
    var text = "$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n"
    let count = 20_000
    for index in 0..<count {
        switch index % 3 {
        case 0: text += "host\(index) IN A 10.\(index >> 16).\((index >> 8) & 255).\(index & 255)\n"
        case 1: text += "host\(index) 60 AAAA 2001:db8::\(String(index, radix: 16)):1\n"
        default: text += "txt\(index) TXT ( \"v=spf1 -all\"\n  \"x\" )\n"
        }
    }
    let result = parse(text)
    #expect(result.errors.isEmpty)
    #expect(result.records.count == count + 3)
    #expect(ZoneValidator.check(records: result.records, origin: name("example."), file: "big").isEmpty)
    let dump = ZoneDump.dump(result.records)
    #expect(dump.utf8.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } == count + 3)
}
