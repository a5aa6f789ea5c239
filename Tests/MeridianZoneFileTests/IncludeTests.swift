import MeridianWire
import MeridianZoneFile
import Testing

/// `$INCLUDE` against real files in a scratch directory: paths are relative to the zones
/// directory and may not leave it, by `..`, by absolute path or by symbolic link.
@Suite final class IncludeTests {
    let directory = TemporaryDirectory()

    deinit {
        directory.remove()
    }

    init() {
        directory.makeDirectory("zones")
        directory.makeDirectory("zones/sub")
        directory.write("outside.inc", "evil 1 A 192.0.2.66\n")
        directory.write("zones/hosts.inc", "www 1 A 192.0.2.1\nmail 1 A 192.0.2.2\n")
        directory.write("zones/sub/deep.inc", "$TTL 7\ndeep A 192.0.2.3\n")
        directory.write("zones/broken.inc", "ok 1 A 192.0.2.4\nbad 1 A 1.2.3\n")
        directory.write("zones/self.inc", "$INCLUDE self.inc\n")
        directory.write("zones/a.inc", "$INCLUDE b.inc\n")
        directory.write("zones/b.inc", "$INCLUDE a.inc\n")
        for level in 0..<10 {
            directory.write("zones/level\(level).inc", "l\(level) 1 A 192.0.2.\(level)\n$INCLUDE level\(level + 1).inc\n")
        }
        directory.write("zones/level10.inc", "l10 1 A 192.0.2.10\n")
        directory.link("zones/link-out.inc", to: directory.path + "/outside.inc")
        directory.link("zones/link-in.inc", to: "hosts.inc")
    }

    var zones: String { directory.path + "/zones" }

    func load(_ text: String) -> ZoneParseResult {
        parse(text, includeRoot: zones)
    }

    @Test func includesRelativeToTheZonesDirectory() {
        let result = load("$INCLUDE hosts.inc\n$INCLUDE \"sub/deep.inc\" deep.example.\nafter A 192.0.2.9\n")
        #expect(located(result.errors) == [])
        #expect(lines(result.records) == [
            "www.example. 1 IN A 192.0.2.1", "mail.example. 1 IN A 192.0.2.2",
            "deep.deep.example. 7 IN A 192.0.2.3",
            // $TTL set inside an included file carries on afterwards (as in BIND); the origin does not.
            "after.example. 7 IN A 192.0.2.9",
        ])
        #expect(result.records[0].position == SourcePosition(file: zones + "/hosts.inc", line: 1, column: 1))
        #expect(result.records[2].position == SourcePosition(file: zones + "/sub/deep.inc", line: 2, column: 1))
    }

    @Test func relativeOriginArgument() {
        let result = load("$INCLUDE hosts.inc sub\n")
        #expect(lines(result.records) == ["www.sub.example. 1 IN A 192.0.2.1", "mail.sub.example. 1 IN A 192.0.2.2"])
    }

    @Test func errorsInsideIncludedFilesNameThatFile() {
        let result = load("$INCLUDE broken.inc\nbad2 1 A 1.2\n")
        #expect(result.errors.map(\.description) == [
            zones + "/broken.inc:2:9: bad IPv4 address \"1.2.3\"",
            "test.zone:2:10: bad IPv4 address \"1.2\"",
        ])
        #expect(lines(result.records) == ["ok.example. 1 IN A 192.0.2.4"])
    }

    @Test func absolutePathInsideIsAllowed() {
        let result = load("$INCLUDE \(zones)/hosts.inc\n")
        #expect(located(result.errors) == [])
        #expect(result.records.count == 2)
    }

    @Test func symlinkStayingInsideIsAllowed() {
        let result = load("$INCLUDE link-in.inc\n")
        #expect(located(result.errors) == [])
        #expect(result.records.count == 2)
    }

    @Test(arguments: ["../outside.inc", "sub/../../outside.inc", "link-out.inc", "/etc/passwd", "/../../etc/passwd", ".."])
    func pathsEscapingTheZonesDirectory(_ path: String) {
        let result = load("$TTL 1\n$INCLUDE \(path)\nok A 192.0.2.1\n")
        #expect(located(result.errors) == ["2:10: $INCLUDE path escapes the zones directory"])
        #expect(lines(result.records) == ["ok.example. 1 IN A 192.0.2.1"])
    }

    @Test func absolutePathOutsideIsRejectedEvenWhenMissing() {
        let result = load("$INCLUDE \(directory.path)/missing.inc\n")
        #expect(located(result.errors) == ["1:10: $INCLUDE path escapes the zones directory"])
    }

    @Test func missingFile() {
        let result = load("$INCLUDE nope.inc\n$INCLUDE sub\n")
        #expect(located(result.errors) == [
            "1:10: cannot read $INCLUDE file \"\(zones)/nope.inc\": no such file or directory",
            "2:10: cannot read $INCLUDE file \"\(zones)/sub\": is a directory",
        ])
    }

    @Test func loops() {
        let selfLoop = load("$INCLUDE self.inc\n")
        #expect(selfLoop.errors.map(\.description) == [zones + "/self.inc:1:10: $INCLUDE loop: \"\(zones)/self.inc\" is already being read"])
        let twoFiles = load("$INCLUDE a.inc\n")
        #expect(twoFiles.errors.map(\.description) == [zones + "/b.inc:1:10: $INCLUDE loop: \"\(zones)/a.inc\" is already being read"])
    }

    @Test func nestingDepthIsLimited() {
        let result = load("$INCLUDE level1.inc\n")
        // The zone is level 0; level1.inc … level8.inc load, level9.inc is one too deep.
        #expect(result.records.map(\.owner.description) == (1...8).map { "l\($0).example." })
        #expect(result.errors.map(\.description) == [zones + "/level8.inc:2:10: $INCLUDE nested too deeply (more than 8 levels)"])
    }

    @Test func parseFileUsesTheFilesDirectoryByDefault() {
        directory.write("zones/example.zone", "$TTL 1\n@ SOA ns host 1 2 3 4 5\n$INCLUDE hosts.inc\n$INCLUDE ../outside.inc\n")
        let result = ZoneParser.parse(file: zones + "/example.zone", origin: name("example."))
        #expect(result.records.count == 3)
        #expect(result.errors.map(\.description) == [zones + "/example.zone:4:10: $INCLUDE path escapes the zones directory"])
    }

    @Test func parseFileDetectsIncludingItself() {
        directory.write("zones/loop.zone", "$INCLUDE loop.zone\n")
        let result = ZoneParser.parse(file: zones + "/loop.zone", origin: name("example."), includeRoot: zones)
        #expect(located(result.errors) == ["1:10: $INCLUDE loop: \"\(zones)/loop.zone\" is already being read"])
    }

    @Test func parseFileReportsMissingFile() {
        let result = ZoneParser.parse(file: zones + "/absent.zone", origin: name("example."))
        #expect(result.errors.map(\.description) == [zones + "/absent.zone:1:1: cannot read zone file: no such file or directory"])
    }

    @Test func rootGivenAsAFileMeansItsDirectory() {
        let result = parse("$INCLUDE hosts.inc\n", includeRoot: zones + "/example-does-not-matter.zone")
        // A root that does not exist at all is reported.
        #expect(located(result.errors) == ["1:10: zones directory \"\(zones)/example-does-not-matter.zone\" not found"])
        directory.write("zones/real.zone", "")
        let viaFile = parse("$INCLUDE hosts.inc\n", includeRoot: zones + "/real.zone")
        #expect(located(viaFile.errors) == [])
        #expect(viaFile.records.count == 2)
    }
}
