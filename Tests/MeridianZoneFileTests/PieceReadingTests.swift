import MeridianWire
import MeridianZoneFile
import Testing

/// A zone file is read a megabyte at a time: an entry cut by the end of a piece, a quoted
/// string or parentheses spanning lines across it, an error just after it, all read as they
/// are when the whole text is in memory, with the same lines and columns.
@Suite final class PieceReadingTests {
    let directory = TemporaryDirectory()

    deinit {
        directory.remove()
    }

    /// About 3.5 MiB of records of every shape, so that each kind of entry meets a piece's end.
    static let text: String = {
        var text = "$TTL 300\n@ IN SOA ns1 hostmaster ( 1 3600\n  600 86400 300 )\n@ IN NS ns1\n"
        for index in 0..<100_000 {
            switch index % 7 {
            case 0: text += "h\(index) IN A 198.18.\((index >> 8) & 255).\(index & 255)\n"
            case 1: text += "  60 AAAA 2001:db8::\(String(index, radix: 16))\n"
            case 2: text += "t\(index) TXT ( \"first part \(index)\" ; a comment\n    \"second; part\" )\n"
            case 3: text += "m\(index) MX 10 mail\(index).example.\n"
            case 4: text += "q\(index) TXT \"quoted \\\"escaped\\\" \(String(repeating: "x", count: index % 50))\"\n"
            case 5: text += "\n; a comment line \(index)\n"
            default: text += index % 1_001 == 6 ? "bad\(index) A 198.18.300.1\n" : "c\(index) CNAME h\(index - 6)\n"
            }
        }
        return text
    }()

    @Test func aFileReadInPiecesReadsAsTheWholeText() {
        directory.write("big.zone", Self.text)
        let whole = ZoneParser.parse(text: Self.text, fileName: directory.path + "/big.zone", origin: name("example."))
        let pieces = ZoneParser.parse(file: directory.path + "/big.zone", origin: name("example."))
        #expect(Self.text.utf8.count > 3 << 20)
        #expect(whole.records.count > 80_000)
        #expect(pieces.records.count == whole.records.count)
        #expect(pieces.records == whole.records)
        #expect(!whole.errors.isEmpty)
        #expect(pieces.errors == whole.errors)
        #expect(pieces.warnings == whole.warnings)
    }

    @Test func anEntryLongerThanAPieceIsReadWhole() {
        // One TXT record whose parentheses span 2 MiB of lines, most of it comments.
        let strings = (0..<2_100).map { _ in "  \"s\" ; " + String(repeating: "y", count: 1_000) + "\n" }.joined()
        let text = "$TTL 300\nlong TXT (\n" + strings + ")\nafter A 192.0.2.1\nbroken A 1.2.3\n"
        directory.write("long.zone", text)
        let result = ZoneParser.parse(file: directory.path + "/long.zone", origin: name("example."))
        #expect(text.utf8.count > 2 << 20)
        #expect(result.records.map(\.type) == [.txt, .a])
        #expect(result.records.first?.rdata.count == 2_100 * 2)
        #expect(located(result.errors) == ["2105:10: bad IPv4 address \"1.2.3\""])
    }
}
