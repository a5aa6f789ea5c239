import MeridianLoad
import MeridianWire
import Testing

/// Serial discipline on reload: a zone whose records changed under the same serial, or whose
/// serial went backwards in RFC 1982 arithmetic, is reported; layout and order are not changes.
struct ZoneVersionTests {
    static func version(serial: UInt32, records: String) throws -> ZoneVersion {
        let text = "$TTL 300\n@ IN SOA ns1 hostmaster \(serial) 3600 600 86400 300\n@ IN NS ns1\n" + records
        let read = try ZoneFileLoader.read(text: text, fileName: "serial.test.zone", origin: DNSName(parsing: "serial.test."))
        return ZoneVersion(read.zone)
    }

    @Test func orderCommentsAndLayoutAreNotChanges() throws {
        let first = try Self.version(serial: 7, records: "ns1 A 192.0.2.1\nwww A 192.0.2.2\nwww A 192.0.2.3\n")
        let second = try Self.version(serial: 7, records: "; reordered\nwww A 192.0.2.3\n\nWWW  IN  A  192.0.2.2\nns1 300 A 192.0.2.1\n")
        #expect(first.serial == 7)
        #expect(first.digest == second.digest)
        #expect(second.problem(after: first) == nil)
    }

    @Test func changedRecordsUnderTheSameSerialAreReported() throws {
        let first = try Self.version(serial: 7, records: "ns1 A 192.0.2.1\n")
        for edited in ["ns1 A 192.0.2.9\n", "ns1 60 A 192.0.2.1\n", "ns1 A 192.0.2.1\nnew A 192.0.2.4\n"] {
            let second = try Self.version(serial: 7, records: edited)
            let problem = try #require(second.problem(after: first))
            #expect(problem.hasPrefix("serial.test.zone:2:"))
            #expect(problem.contains("records changed but the serial stayed 7"))
        }
    }

    @Test(arguments: [
        (UInt32(7), UInt32(8), false), (7, 6, true), (4_294_967_295, 0, false), (0, 4_294_967_295, true),
        (1, 2_147_483_648, false), (1, 2_147_483_650, true), (100, 100, false),
    ])
    func serialsCompareInRFC1982Arithmetic(previous: UInt32, next: UInt32, backwards: Bool) throws {
        let old = try Self.version(serial: previous, records: "ns1 A 192.0.2.1\n")
        let new = try Self.version(serial: next, records: "ns1 A 192.0.2.2\n")
        let problem = new.problem(after: old)
        if backwards {
            #expect(problem?.contains("serial went backwards from \(previous) to \(next)") == true)
        } else if previous != next {
            #expect(problem == nil)
        }
    }
}
