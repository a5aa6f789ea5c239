import MeridianFiles
import MeridianWire

/// What reading a zone file produced. A zone is usable only when `errors` is empty; the
/// records read so far are returned either way so tools can show as much as possible.
public struct ZoneParseResult: Sendable {
    public var records: [ZoneRecord]
    public var errors: [ZoneFileError]
    /// Things BIND would warn about but accept (a TTL taken from the SOA minimum).
    public var warnings: [ZoneFileError]

    public init(records: [ZoneRecord] = [], errors: [ZoneFileError] = [], warnings: [ZoneFileError] = []) {
        self.records = records
        self.errors = errors
        self.warnings = warnings
    }
}

/// The problems found while reading a zone into a `ZoneRecordSink`.
public struct ZoneParseDiagnostics: Sendable {
    public var errors: [ZoneFileError] = []
    /// Things BIND would warn about but accept (a TTL taken from the SOA minimum).
    public var warnings: [ZoneFileError] = []

    public init() {}
}

/// Where the parser puts each record as it is read, in reading order: an array for tools
/// and tests, or a loader that keeps records in columns (a zone of millions of records
/// would otherwise hold a `ZoneRecord`, with two arrays of its own, per record).
public protocol ZoneRecordSink {
    mutating func add(_ record: ZoneRecord)
}

extension Array: ZoneRecordSink where Element == ZoneRecord {
    public mutating func add(_ record: ZoneRecord) { append(record) }
}

/// RFC 1035 section 5 master files → `ZoneRecord`s with RDATA in uncompressed wire form.
///
/// Reads `$ORIGIN`, `$TTL`, `$INCLUDE`, parentheses, comments, quoted strings with `\DDD`
/// and `\X` escapes, TTL units, TTL and class in either order, owner inheritance, `@`,
/// relative names, and the RFC 3597 generic form for every type. Every error is collected
/// with its position and reading goes on with the next record.
///
/// TTL defaults, as BIND does: a record without a TTL takes `$TTL`; without `$TTL`, the
/// last TTL written explicitly (RFC 1035); when neither exists and the record is the SOA,
/// its MINIMUM field becomes the default TTL (RFC 2308 era behaviour, reported as a warning);
/// any other record without a usable TTL is an error.
public enum ZoneParser {
    /// Deepest `$INCLUDE` nesting accepted (the zone file itself is level 0).
    public static let maxIncludeDepth = 8
    /// Largest TTL (RFC 2181 section 8).
    public static let maxTTL: UInt32 = 2_147_483_647

    /// The one wording for a TTL over `maxTTL`, shown as written or as a number.
    static func ttlOutOfRange(_ shown: String) -> String {
        "TTL \(shown) out of range (0..\(maxTTL))"
    }

    public static func parse(text: String, fileName: String, origin: DNSName, defaultTTL: UInt32? = nil,
                             includeRoot: String? = nil) -> ZoneParseResult {
        var records: [ZoneRecord] = []
        let diagnostics = parse(text: text, fileName: fileName, origin: origin, defaultTTL: defaultTTL, includeRoot: includeRoot,
                                into: &records)
        return ZoneParseResult(records: records, errors: diagnostics.errors, warnings: diagnostics.warnings)
    }

    /// Reads a zone file. `$INCLUDE` paths are relative to `includeRoot` (the zones
    /// directory), by default the directory that holds the file, and may not leave it.
    public static func parse(file path: String, origin: DNSName, includeRoot: String? = nil) -> ZoneParseResult {
        var records: [ZoneRecord] = []
        let diagnostics = parse(file: path, origin: origin, includeRoot: includeRoot, into: &records)
        return ZoneParseResult(records: records, errors: diagnostics.errors, warnings: diagnostics.warnings)
    }

    /// `parse(text:)`, each record handed to `sink`.
    public static func parse<Sink: ZoneRecordSink>(text: String, fileName: String, origin: DNSName, defaultTTL: UInt32? = nil,
                                                   includeRoot: String? = nil, into sink: inout Sink) -> ZoneParseDiagnostics {
        var loader = ZoneLoader(sink: sink, defaultTTL: defaultTTL, includeRoot: includeRoot)
        loader.read(.whole(Array(text.utf8)), file: fileName, origin: origin, depth: 0)
        sink = loader.sink as! Sink
        return loader.diagnostics
    }

    /// `parse(file:)`, each record handed to `sink`. The file is read a piece at a time.
    public static func parse<Sink: ZoneRecordSink>(file path: String, origin: DNSName, includeRoot: String? = nil,
                                                   into sink: inout Sink) -> ZoneParseDiagnostics {
        var loader = ZoneLoader(sink: sink, defaultTTL: nil, includeRoot: includeRoot ?? FileSystem.directory(of: path))
        switch FileReader.open(path) {
        case .failure(let error):
            loader.diagnostics.errors.append(ZoneFileError("cannot read zone file: \(error)", at: SourcePosition(file: path, line: 1, column: 1)))
        case .success(let reader):
            if let real = FileSystem.realPath(path) { loader.includeStack.append(real) }
            loader.read(.file(reader), file: path, origin: origin, depth: 0)
        }
        sink = loader.sink as! Sink
        return loader.diagnostics
    }
}

/// The state of one load: where records go, errors so far, the TTL defaults (which, as in
/// BIND, carry across `$INCLUDE`), and the include stack. Origin and owner are per file.
struct ZoneLoader {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    /// How much of a file is read at a time.
    static let pieceSize = 1 << 20

    /// Not a generic parameter: the loader is called from other modules, where a generic
    /// one runs unspecialized and looks up type metadata on every call (8 % of loading a
    /// million records).
    var sink: any ZoneRecordSink
    var diagnostics = ZoneParseDiagnostics()
    /// `$TTL`, or the SOA minimum when the zone had neither `$TTL` nor an explicit TTL first.
    var defaultTTL: UInt32?
    /// The last TTL written on a record (RFC 1035 section 5.1).
    var lastTTL: UInt32?
    let includeRoot: String?
    /// Real paths of the files being read, outermost first.
    var includeStack: [String] = []
    private var root: (display: String, real: String)??

    init(sink: any ZoneRecordSink, defaultTTL: UInt32?, includeRoot: String?) {
        self.sink = sink
        self.defaultTTL = defaultTTL
        self.includeRoot = includeRoot
    }

    /// The text of one file: in memory already, or still to be read.
    enum Text {
        case whole([UInt8])
        case file(FileReader)
    }

    /// Per-file reading state.
    private struct FileState {
        /// The piece of the file being read; offsets in tokens index it.
        var bytes: Bytes
        let file: String
        var origin: DNSName
        var owner: DNSName?
        /// True after an owner name failed to parse: lines inheriting it are skipped quietly.
        var ownerBroken = false
        /// Where the text of `owner` was written, to reuse the parsed name when the next
        /// record spells it the same way under the same origin.
        var ownerText: Range<Int>?

        /// Makes `name`, written as `token`, the owner that following lines inherit; nil
        /// marks the owner broken.
        mutating func setOwner(_ name: DNSName?, writtenAs token: Token) {
            owner = name
            ownerBroken = name == nil
            ownerText = name == nil ? nil : token.contentStart..<token.contentEnd
        }

        func position(_ token: Token) -> SourcePosition {
            SourcePosition(file: file, line: token.line, column: column(of: token.start, lineStart: token.lineStart, in: bytes))
        }

        func position(after token: Token) -> SourcePosition {
            SourcePosition(file: file, line: token.line, column: column(of: token.end, lineStart: token.lineStart, in: bytes))
        }

        func content(_ token: Token) -> Bytes {
            Bytes(rebasing: bytes[token.contentStart..<token.contentEnd])
        }

        func text(_ token: Token) -> String {
            String(decoding: content(token), as: UTF8.self)
        }
    }

    /// Reads a file's entries. A file is read a piece at a time: an entry that reaches the end
    /// of a piece may go on in the next, so it is read again once more of the file is in.
    mutating func read(_ text: Text, file: String, origin: DNSName, depth: Int) {
        var state = FileState(bytes: Bytes(start: nil, count: 0), file: file, origin: origin)
        var buffer: [UInt8]
        var reader: FileReader?
        switch text {
        case .whole(let bytes):
            buffer = bytes
        case .file(let file):
            buffer = []
            buffer.reserveCapacity(Self.pieceSize)
            reader = file
        }
        var line = 1
        var tokens: [Token] = []
        tokens.reserveCapacity(16)
        while true {
            if let piece = reader {
                // At least as much again as is held: an entry longer than a piece (an unclosed
                // parenthesis runs to the end of the file) is read again a number of times that
                // grows with the log of its length, not with its length.
                switch piece.append(upTo: max(Self.pieceSize, buffer.count), to: &buffer) {
                case .failure(let error):
                    fail("cannot read \(depth == 0 ? "zone file" : "$INCLUDE file \"\(file)\""): \(error)",
                         at: SourcePosition(file: file, line: line, column: 1))
                    return
                case .success(let count):
                    if count == 0 { reader = nil }
                }
            }
            let atEnd = reader == nil
            let consumed = buffer.withUnsafeBufferPointer { bytes in
                state.bytes = bytes
                // The owner's text is found again in this piece; the name itself carries over.
                state.ownerText = nil
                return readEntries(bytes, startingAt: &line, atEnd: atEnd, tokens: &tokens, state: &state, depth: depth)
            }
            if atEnd { return }
            buffer.removeSubrange(0..<consumed)
        }
    }

    /// Reads the entries of one piece of a file, the first on line `line`; returns how many
    /// bytes were read, leaving out an entry that reaches the end of the piece unless `atEnd`.
    private mutating func readEntries(_ bytes: Bytes, startingAt line: inout Int, atEnd: Bool, tokens: inout [Token],
                                      state: inout FileState, depth: Int) -> Int {
        var lexer = ZoneLexer(bytes, line: line)
        var consumed = 0
        while let entry = lexer.nextEntry(into: &tokens) {
            if !atEnd && lexer.offset == bytes.count { break }
            consumed = lexer.offset
            line = lexer.line
            if let error = entry.error {
                let position = SourcePosition(file: state.file, line: error.line,
                                              column: column(of: error.offset, lineStart: error.lineStart, in: bytes))
                diagnostics.errors.append(ZoneFileError(error.message, at: position))
                // The entry is dropped, but lines after it that inherit its owner should still
                // get that owner, not an older one.
                if !entry.startsWithBlank, let first = tokens.first, !first.quoted,
                   bytes[first.contentStart] != UInt8(ascii: "$") {
                    state.setOwner(try? TextFields.name(state.content(first), origin: state.origin), writtenAs: first)
                }
                continue
            }
            guard let first = tokens.first else { continue }
            if !entry.startsWithBlank && !first.quoted && bytes[first.contentStart] == UInt8(ascii: "$") {
                directive(tokens, state: &state, depth: depth)
            } else {
                record(tokens, inheritsOwner: entry.startsWithBlank, state: &state)
            }
        }
        return consumed
    }

    private mutating func fail(_ message: String, at position: SourcePosition) {
        diagnostics.errors.append(ZoneFileError(message, at: position))
    }

    // MARK: Records

    private mutating func record(_ tokens: [Token], inheritsOwner: Bool, state: inout FileState) {
        let first = tokens[0]
        guard let owner = owner(first, inherited: inheritsOwner, state: &state),
              let fields = ttlAndClass(tokens, from: inheritsOwner ? 0 : 1, state: state),
              let type = recordType(tokens, at: fields.typeIndex, state: state),
              let rdata = rdata(tokens, from: fields.typeIndex + 1, type: type, state: state)
        else { return }
        let position = state.position(first)
        guard let ttl = recordTTL(written: fields.ttl, type: type, rdata: rdata, at: position) else { return }
        sink.add(ZoneRecord(owner: owner, ttl: ttl, class: .in, type: type, rdata: rdata, position: position))
    }

    /// The owner of a record: the previous one for a line starting with a blank, else the
    /// first token, which following lines then inherit. Nil when there is none (reported,
    /// except for lines that inherit an owner already reported as bad).
    private mutating func owner(_ first: Token, inherited: Bool, state: inout FileState) -> DNSName? {
        if inherited {
            if state.owner == nil && !state.ownerBroken {
                fail("no owner name to inherit (a line starting with a blank uses the previous owner)", at: state.position(first))
            }
            return state.owner
        }
        guard !first.quoted else {
            fail("expected an owner name, not a quoted string", at: state.position(first))
            state.setOwner(nil, writtenAs: first)
            return nil
        }
        let owner: DNSName
        if let previous = state.owner, let range = state.ownerText, bytesEqual(UnsafeRawBufferPointer(Bytes(rebasing: state.bytes[range])), UnsafeRawBufferPointer(state.content(first))) {
            owner = previous
        } else {
            do {
                owner = try TextFields.name(state.content(first), origin: state.origin)
            } catch {
                fail("bad owner name \(RDataParser.quote(state.content(first))): \(error)", at: state.position(first))
                state.setOwner(nil, writtenAs: first)
                return nil
            }
        }
        state.setOwner(owner, writtenAs: first)
        return owner
    }

    /// TTL and class, in either order, each at most once, starting at `start`. Returns the
    /// TTL written, if any, and where the type should be; nil after reporting a bad field.
    private mutating func ttlAndClass(_ tokens: [Token], from start: Int, state: FileState) -> (ttl: UInt32?, typeIndex: Int)? {
        var ttl: UInt32?
        var sawClass = false
        var index = start
        while index < tokens.count {
            let token = tokens[index]
            if token.quoted { break }
            let text = state.content(token)
            if ttl == nil && TextFields.isDigitByte(text[0]) {
                guard let value = ttlValue(token, state: state) else { return nil }
                ttl = value
            } else if !sawClass, let rrClass = ZoneParser.classOf(text) {
                guard rrClass == .in else {
                    fail("only class IN is supported", at: state.position(token))
                    return nil
                }
                sawClass = true
            } else {
                break
            }
            index += 1
        }
        return (ttl, index)
    }

    /// A TTL as records and `$TTL` write it (`3600`, `1h30m`), or nil after reporting why
    /// the token is not one.
    private mutating func ttlValue(_ token: Token, state: FileState) -> UInt32? {
        guard !token.quoted, let value = TextFields.duration(state.content(token)) else {
            fail("bad TTL \(RDataParser.quote(state.content(token)))", at: state.position(token))
            return nil
        }
        guard value <= UInt64(ZoneParser.maxTTL) else {
            fail(ZoneParser.ttlOutOfRange(value == .max ? state.text(token) : String(value)), at: state.position(token))
            return nil
        }
        return UInt32(value)
    }

    /// The type named at `index`, when a zone file may hold records of it.
    private mutating func recordType(_ tokens: [Token], at index: Int, state: FileState) -> RRType? {
        guard index < tokens.count else {
            fail("missing record type", at: state.position(after: tokens[tokens.count - 1]))
            return nil
        }
        let token = tokens[index]
        guard !token.quoted, let type = ZoneParser.typeOf(state.content(token)) else {
            fail("unknown record type \(state.text(token))", at: state.position(token))
            return nil
        }
        guard !type.isMetaOrQueryOnly else {
            fail("type \(type) cannot appear in a zone file", at: state.position(token))
            return nil
        }
        return type
    }

    /// RDATA from the tokens after the type. A missing field is reported just after the
    /// record's last token.
    private mutating func rdata(_ tokens: [Token], from index: Int, type: RRType, state: FileState) -> [UInt8]? {
        var parser = RDataParser(bytes: state.bytes, tokens: tokens, first: index, origin: state.origin)
        do {
            return try parser.parse(type: type)
        } catch {
            if let bad = error.token {
                fail(error.message, at: state.position(tokens[bad]))
            } else {
                fail(error.message, at: state.position(after: tokens[tokens.count - 1]))
            }
            return nil
        }
    }

    /// The TTL a record gets: the one written, else the defaults described at `ZoneParser`.
    private mutating func recordTTL(written: UInt32?, type: RRType, rdata: [UInt8], at position: SourcePosition) -> UInt32? {
        if let written {
            lastTTL = written
            return written
        }
        if let defaultTTL { return defaultTTL }
        if let lastTTL { return lastTTL }
        guard type == .soa, rdata.count >= 4 else {
            fail("no TTL given and no $TTL or earlier TTL to use", at: position)
            return nil
        }
        let minimum = RDataText.readUInt32(rdata[(rdata.count - 4)...])
        guard minimum <= ZoneParser.maxTTL else {
            fail(ZoneParser.ttlOutOfRange(String(minimum)), at: position)
            return nil
        }
        diagnostics.warnings.append(ZoneFileError("no TTL given; using the SOA minimum \(minimum) as the default TTL", at: position))
        defaultTTL = minimum
        return minimum
    }

    // MARK: Directives

    private mutating func directive(_ tokens: [Token], state: inout FileState, depth: Int) {
        switch state.text(tokens[0]).uppercased() {
        case "$ORIGIN":
            guard hasArguments(tokens, of: "$ORIGIN", first: "domain name", atMost: 1, state: state),
                  let origin = name(tokens[1], relativeTo: state.origin, state: state)
            else { return }
            state.origin = origin
            state.ownerText = nil
        case "$TTL":
            guard hasArguments(tokens, of: "$TTL", first: "TTL", atMost: 1, state: state),
                  let value = ttlValue(tokens[1], state: state)
            else { return }
            defaultTTL = value
        case "$INCLUDE":
            include(tokens, state: state, depth: depth)
        case "$GENERATE":
            fail("$GENERATE is not supported", at: state.position(tokens[0]))
        default:
            fail("unknown directive \(state.text(tokens[0]))", at: state.position(tokens[0]))
        }
    }

    /// Whether a directive has its first argument and no more than `limit` arguments;
    /// reports what is missing or extra.
    private mutating func hasArguments(_ tokens: [Token], of directive: String, first what: String, atMost limit: Int,
                                       state: FileState) -> Bool {
        guard tokens.count >= 2 else {
            fail("missing \(what) after \(directive)", at: state.position(after: tokens[0]))
            return false
        }
        guard tokens.count <= 1 + limit else {
            let extra = tokens[1 + limit]
            fail("unexpected \(RDataParser.quote(state.content(extra))) after \(directive)", at: state.position(extra))
            return false
        }
        return true
    }

    private mutating func name(_ token: Token, relativeTo origin: DNSName, state: FileState) -> DNSName? {
        guard !token.quoted else {
            fail("expected a domain name, not a quoted string", at: state.position(token))
            return nil
        }
        do {
            return try TextFields.name(state.content(token), origin: origin)
        } catch {
            fail("bad domain name \(RDataParser.quote(state.content(token))): \(error)", at: state.position(token))
            return nil
        }
    }

    // MARK: $INCLUDE

    private mutating func include(_ tokens: [Token], state: FileState, depth: Int) {
        guard let arguments = includeArguments(tokens, state: state) else { return }
        let at = arguments.at
        guard depth < ZoneParser.maxIncludeDepth else {
            fail("$INCLUDE nested too deeply (more than \(ZoneParser.maxIncludeDepth) levels)", at: at)
            return
        }
        guard let root = resolvedRoot() else {
            if includeRoot == nil {
                fail("$INCLUDE is not allowed without a zones directory", at: at)
            } else {
                fail("zones directory \"\(includeRoot ?? "")\" not found", at: at)
            }
            return
        }
        guard let file = includedFile(arguments.path, root: root, at: at) else { return }
        guard !includeStack.contains(file.real) else {
            fail("$INCLUDE loop: \"\(file.display)\" is already being read", at: at)
            return
        }
        let reader: FileReader
        switch FileReader.open(file.real) {
        case .failure(let error):
            fail("cannot read $INCLUDE file \"\(file.display)\": \(error)", at: at)
            return
        case .success(let opened):
            reader = opened
        }
        includeStack.append(file.real)
        read(.file(reader), file: file.display, origin: arguments.origin, depth: depth + 1)
        includeStack.removeLast()
    }

    /// `$INCLUDE FILE [ORIGIN]`: the path with its escapes read, the origin for the included
    /// file, and where the path is written (for messages about it).
    private mutating func includeArguments(_ tokens: [Token], state: FileState) -> (path: String, origin: DNSName, at: SourcePosition)? {
        guard hasArguments(tokens, of: "$INCLUDE", first: "file name", atMost: 2, state: state) else { return nil }
        let pathToken = tokens[1]
        var pathBytes: [UInt8] = []
        do {
            try TextFields.unescape(state.content(pathToken), into: &pathBytes)
        } catch {
            fail("bad escape sequence in \(RDataParser.quote(state.content(pathToken)))", at: state.position(pathToken))
            return nil
        }
        var origin = state.origin
        if tokens.count == 3 {
            guard let given = name(tokens[2], relativeTo: state.origin, state: state) else { return nil }
            origin = given
        }
        let at = state.position(pathToken)
        guard !pathBytes.isEmpty, !pathBytes.contains(0) else {
            fail("bad $INCLUDE file name", at: at)
            return nil
        }
        return (String(decoding: pathBytes, as: UTF8.self), origin, at)
    }

    /// The file an `$INCLUDE` path names, as a real path (for reading and loop checks) and
    /// as the operator wrote it (for messages), provided it lies inside the zones directory.
    private mutating func includedFile(_ path: String, root: (display: String, real: String),
                                       at: SourcePosition) -> (real: String, display: String)? {
        // First the path as written: it may not climb out of the zones directory…
        let candidate: String
        let display: String
        if path.hasPrefix("/") {
            guard let normalized = FileSystem.lexicallyNormalized(path),
                  FileSystem.isInside(normalized, directory: root.real)
                    || (root.display.hasPrefix("/") && FileSystem.isInside(normalized, directory: FileSystem.lexicallyNormalized(root.display) ?? root.display))
            else {
                fail("$INCLUDE path escapes the zones directory", at: at)
                return nil
            }
            candidate = normalized
            display = path
        } else {
            guard FileSystem.lexicallyNormalized(path) != nil else {
                fail("$INCLUDE path escapes the zones directory", at: at)
                return nil
            }
            candidate = FileSystem.join(root.real, path)
            display = FileSystem.join(root.display, path)
        }
        // …then the file it really is, after symbolic links.
        switch FileSystem.resolve(candidate) {
        case .failure(let error):
            fail("cannot read $INCLUDE file \"\(display)\": \(error)", at: at)
            return nil
        case .success(let real):
            guard FileSystem.isInside(real, directory: root.real), real != root.real else {
                fail("$INCLUDE path escapes the zones directory", at: at)
                return nil
            }
            return (real, display)
        }
    }

    /// The zones directory as given (for messages) and as a real path (for checks).
    /// A path naming a file stands for the directory that holds it.
    private mutating func resolvedRoot() -> (display: String, real: String)? {
        if let root { return root }
        var resolved: (display: String, real: String)?
        if let includeRoot, let real = FileSystem.realPath(includeRoot) {
            resolved = FileSystem.isDirectory(real)
                ? (includeRoot, real)
                : (FileSystem.directory(of: includeRoot), FileSystem.directory(of: real))
        }
        root = .some(resolved)
        return resolved
    }
}

/// Type and class mnemonics, read without allocating for the common ones.
extension ZoneParser {
    /// The class a token names, without allocating for the common type mnemonics.
    static func classOf(_ text: UnsafeBufferPointer<UInt8>) -> RRClass? {
        guard text.count >= 2 else { return nil }
        let a = text[0] & 0xDF
        let b = text[1] & 0xDF
        if text.count == 2 && a == UInt8(ascii: "I") && b == UInt8(ascii: "N") { return .in }
        switch (a, b) {
        case (UInt8(ascii: "C"), UInt8(ascii: "H")), (UInt8(ascii: "H"), UInt8(ascii: "S")), (UInt8(ascii: "N"), UInt8(ascii: "O")),
             (UInt8(ascii: "A"), UInt8(ascii: "N")), (UInt8(ascii: "C"), UInt8(ascii: "L")):
            return RRClass(mnemonic: String(decoding: text, as: UTF8.self))
        default:
            return nil
        }
    }

    /// Mnemonics known by name, keyed by their packed upper-case bytes.
    private static let typeTable: [UInt64: RRType] = {
        var table: [UInt64: RRType] = [:]
        for (type, mnemonic) in RRType.mnemonics {
            if let key = packedMnemonic(mnemonic.utf8) { table[key] = type }
        }
        return table
    }()

    /// Up to 7 upper-cased bytes and the length in one integer.
    private static func packedMnemonic(_ bytes: some Collection<UInt8>) -> UInt64? {
        guard bytes.count <= 7 else { return nil }
        var key: UInt64 = 0
        for byte in bytes {
            let upper = byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
            key = key << 8 | UInt64(upper)
        }
        return key | UInt64(bytes.count) << 56
    }

    /// The type a mnemonic or `TYPEnnn` names.
    static func typeOf(_ text: UnsafeBufferPointer<UInt8>) -> RRType? {
        if let key = packedMnemonic(text), let type = typeTable[key] { return type }
        return RRType(mnemonic: String(decoding: text, as: UTF8.self))
    }
}
