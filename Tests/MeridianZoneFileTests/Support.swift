#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MeridianWire
import MeridianZoneFile
import Testing

/// A zone-file case: text in, and either dump lines or `LINE:COL: message` lines out.
struct ZoneCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var expected: [String]
    var origin = "example."

    init(_ name: String, _ text: String, _ expected: [String], origin: String = "example.") {
        self.name = name
        self.text = text
        self.expected = expected
        self.origin = origin
    }

    var testDescription: String { name }
}

func name(_ text: String) -> DNSName {
    try! DNSName(parsing: text)
}

func parse(_ text: String, origin: String = "example.", defaultTTL: UInt32? = nil, includeRoot: String? = nil) -> ZoneParseResult {
    ZoneParser.parse(text: text, fileName: "test.zone", origin: name(origin), defaultTTL: defaultTTL, includeRoot: includeRoot)
}

/// Dump lines of the records, in file order.
func lines(_ records: [ZoneRecord]) -> [String] {
    records.map(ZoneDump.line)
}

/// Errors as `LINE:COL: message`, dropping the file name.
func located(_ errors: [ZoneFileError]) -> [String] {
    errors.map { "\($0.position.line):\($0.position.column): \($0.message)" }
}

func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var pending: UInt8?
    for character in hex where character != " " {
        let nibble = UInt8(character.hexDigitValue!)
        if let high = pending {
            out.append(high << 4 | nibble)
            pending = nil
        } else {
            pending = nibble
        }
    }
    return out
}

/// A scratch directory made with mkdtemp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/meridian-zone-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func write(_ relative: String, _ contents: String) {
        let full = path + "/" + relative
        let file = fopen(full, "w")
        precondition(file != nil, "cannot write \(full)")
        let bytes = Array(contents.utf8)
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }

    func makeDirectory(_ relative: String) {
        mkdir(path + "/" + relative, 0o755)
    }

    func link(_ relative: String, to target: String) {
        symlink(target, path + "/" + relative)
    }

    func remove() {
        removeTree(path)
    }

    private func removeTree(_ directory: String) {
        guard let handle = opendir(directory) else { return }
        while let entry = readdir(handle) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if entryName == "." || entryName == ".." { continue }
            let full = directory + "/" + entryName
            var info = stat()
            if lstat(full, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                removeTree(full)
            } else {
                unlink(full)
            }
        }
        closedir(handle)
        rmdir(directory)
    }
}
