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

    public static func parse(text: String, fileName: String, origin: DNSName, defaultTTL: UInt32? = nil,
                             includeRoot: String? = nil) -> ZoneParseResult {
        var loader = ZoneLoader(defaultTTL: defaultTTL, includeRoot: includeRoot)
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { loader.read($0, file: fileName, origin: origin, depth: 0) }
        return loader.result
    }

    /// Reads a zone file. `$INCLUDE` paths are relative to `includeRoot` (the zones
    /// directory), by default the directory that holds the file, and may not leave it.
    public static func parse(file path: String, origin: DNSName, includeRoot: String? = nil) -> ZoneParseResult {
        var loader = ZoneLoader(defaultTTL: nil, includeRoot: includeRoot ?? FileSystem.directory(of: path))
        switch FileSystem.read(path) {
        case .failure(let error):
            return ZoneParseResult(errors: [ZoneFileError("cannot read zone file: \(error)",
                                                          at: SourcePosition(file: path, line: 1, column: 1))])
        case .success(let bytes):
            if let real = FileSystem.realPath(path) { loader.includeStack.append(real) }
            bytes.withUnsafeBufferPointer { loader.read($0, file: path, origin: origin, depth: 0) }
        }
        return loader.result
    }
}

/// The state of one load: records and errors so far, the TTL defaults (which, as in BIND,
/// carry across `$INCLUDE`), and the include stack. Origin and owner are per file.
struct ZoneLoader {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    var result = ZoneParseResult()
    /// `$TTL`, or the SOA minimum when the zone had neither `$TTL` nor an explicit TTL first.
    var defaultTTL: UInt32?
    /// The last TTL written on a record (RFC 1035 section 5.1).
    var lastTTL: UInt32?
    let includeRoot: String?
    /// Real paths of the files being read, outermost first.
    var includeStack: [String] = []
    private var root: (display: String, real: String)??

    init(defaultTTL: UInt32?, includeRoot: String?) {
        self.defaultTTL = defaultTTL
        self.includeRoot = includeRoot
        result.records.reserveCapacity(64)
    }

    /// Per-file reading state.
    private struct FileState {
        let bytes: Bytes
        let file: String
        var origin: DNSName
        var owner: DNSName?
        /// True after an owner name failed to parse: lines inheriting it are skipped quietly.
        var ownerBroken = false
        /// Where the text of `owner` was written, to reuse the parsed name when the next
        /// record spells it the same way under the same origin.
        var ownerText: Range<Int>?

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

    mutating func read(_ bytes: Bytes, file: String, origin: DNSName, depth: Int) {
        var lexer = ZoneLexer(bytes)
        var state = FileState(bytes: bytes, file: file, origin: origin)
        var tokens: [Token] = []
        tokens.reserveCapacity(16)
        while let entry = lexer.nextEntry(into: &tokens) {
            if let error = entry.error {
                let position = SourcePosition(file: file, line: error.line,
                                              column: column(of: error.offset, lineStart: error.lineStart, in: bytes))
                result.errors.append(ZoneFileError(error.message, at: position))
                // The entry is dropped, but lines after it that inherit its owner should still
                // get that owner, not an older one.
                if !entry.startsWithBlank, let first = tokens.first, !first.quoted,
                   bytes[first.contentStart] != UInt8(ascii: "$") {
                    state.owner = try? TextFields.name(state.content(first), origin: state.origin)
                    state.ownerBroken = state.owner == nil
                    state.ownerText = state.owner == nil ? nil : first.contentStart..<first.contentEnd
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
    }

    private mutating func fail(_ message: String, at position: SourcePosition) {
        result.errors.append(ZoneFileError(message, at: position))
    }

    // MARK: Records

    private mutating func record(_ tokens: [Token], inheritsOwner: Bool, state: inout FileState) {
        let first = tokens[0]
        var index = 0
        let owner: DNSName
        if inheritsOwner {
            guard let inherited = state.owner else {
                if !state.ownerBroken {
                    fail("no owner name to inherit (a line starting with a blank uses the previous owner)", at: state.position(first))
                }
                return
            }
            owner = inherited
        } else {
            guard !first.quoted else {
                fail("expected an owner name, not a quoted string", at: state.position(first))
                state.owner = nil
                state.ownerBroken = true
                return
            }
            if let previous = state.owner, let range = state.ownerText,
               state.bytes[range].elementsEqual(state.content(first)) {
                owner = previous
            } else {
                do {
                    owner = try TextFields.name(state.content(first), origin: state.origin)
                } catch {
                    fail("bad owner name \(RDataParser.quote(state.content(first))): \(error)", at: state.position(first))
                    state.owner = nil
                    state.ownerBroken = true
                    return
                }
            }
            state.owner = owner
            state.ownerBroken = false
            state.ownerText = first.contentStart..<first.contentEnd
            index = 1
        }

        // TTL and class, in either order, each at most once.
        var ttl: UInt32?
        var sawClass = false
        while index < tokens.count {
            let token = tokens[index]
            if token.quoted { break }
            let text = state.content(token)
            if ttl == nil && TextFields.isDigitByte(text[0]) {
                guard let value = TextFields.duration(text) else {
                    fail("bad TTL \(RDataParser.quote(text))", at: state.position(token))
                    return
                }
                guard value <= UInt64(ZoneParser.maxTTL) else {
                    fail("TTL \(value == .max ? state.text(token) : String(value)) out of range (0..\(ZoneParser.maxTTL))",
                         at: state.position(token))
                    return
                }
                ttl = UInt32(value)
                index += 1
                continue
            }
            if !sawClass, let rrClass = Self.classOf(text) {
                guard rrClass == .in else {
                    fail("only class IN is supported", at: state.position(token))
                    return
                }
                sawClass = true
                index += 1
                continue
            }
            break
        }
        guard index < tokens.count else {
            fail("missing record type", at: state.position(after: tokens[tokens.count - 1]))
            return
        }
        let typeToken = tokens[index]
        guard !typeToken.quoted, let type = Self.typeOf(state.content(typeToken)) else {
            fail("unknown record type \(state.text(typeToken))", at: state.position(typeToken))
            return
        }
        guard !type.isMetaOrQueryOnly else {
            fail("type \(type) cannot appear in a zone file", at: state.position(typeToken))
            return
        }
        index += 1

        let rdata: [UInt8]
        do {
            var parser = RDataParser(bytes: state.bytes, tokens: tokens, first: index, origin: state.origin)
            rdata = try parser.parse(type: type)
        } catch {
            if let bad = error.token {
                fail(error.message, at: state.position(tokens[bad]))
            } else {
                fail(error.message, at: state.position(after: tokens[tokens.count - 1]))
            }
            return
        }

        let recordTTL: UInt32
        if let ttl {
            recordTTL = ttl
            lastTTL = ttl
        } else if let defaultTTL {
            recordTTL = defaultTTL
        } else if let lastTTL {
            recordTTL = lastTTL
        } else if type == .soa, rdata.count >= 4 {
            let minimum = RDataText.readUInt32(rdata[(rdata.count - 4)...])
            guard minimum <= ZoneParser.maxTTL else {
                fail("TTL \(minimum) out of range (0..\(ZoneParser.maxTTL))", at: state.position(first))
                return
            }
            result.warnings.append(ZoneFileError("no TTL given; using the SOA minimum \(minimum) as the default TTL",
                                                 at: state.position(first)))
            defaultTTL = minimum
            recordTTL = minimum
        } else {
            fail("no TTL given and no $TTL or earlier TTL to use", at: state.position(first))
            return
        }
        result.records.append(ZoneRecord(owner: owner, ttl: recordTTL, class: .in, type: type, rdata: rdata,
                                          position: state.position(first)))
    }

    /// The class a token names, without allocating for the common type mnemonics.
    static func classOf(_ text: Bytes) -> RRClass? {
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
        let known: [RRType] = [
            .a, .ns, .cname, .soa, .ptr, .hinfo, .mx, .txt, .aaaa, .srv, .naptr, .dname, .opt, .ds, .sshfp,
            .rrsig, .nsec, .dnskey, .tlsa, .spf, .ixfr, .axfr, .mailb, .maila, .any, .caa, .dyna, .dync,
        ]
        for type in known {
            if let key = packedMnemonic(type.description.utf8) { table[key] = type }
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
    static func typeOf(_ text: Bytes) -> RRType? {
        if let key = packedMnemonic(text), let type = typeTable[key] { return type }
        return RRType(mnemonic: String(decoding: text, as: UTF8.self))
    }

    // MARK: Directives

    private mutating func directive(_ tokens: [Token], state: inout FileState, depth: Int) {
        switch state.text(tokens[0]).uppercased() {
        case "$ORIGIN":
            guard tokens.count >= 2 else {
                fail("missing domain name after $ORIGIN", at: state.position(after: tokens[0]))
                return
            }
            guard tokens.count == 2 else {
                fail("unexpected \(RDataParser.quote(state.content(tokens[2]))) after $ORIGIN", at: state.position(tokens[2]))
                return
            }
            guard let origin = name(tokens[1], relativeTo: state.origin, state: state) else { return }
            state.origin = origin
            state.ownerText = nil
        case "$TTL":
            guard tokens.count >= 2 else {
                fail("missing TTL after $TTL", at: state.position(after: tokens[0]))
                return
            }
            guard tokens.count == 2 else {
                fail("unexpected \(RDataParser.quote(state.content(tokens[2]))) after $TTL", at: state.position(tokens[2]))
                return
            }
            let token = tokens[1]
            guard !token.quoted, let value = TextFields.duration(state.content(token)) else {
                fail("bad TTL \(RDataParser.quote(state.content(token)))", at: state.position(token))
                return
            }
            guard value <= UInt64(ZoneParser.maxTTL) else {
                fail("TTL \(value == .max ? state.text(token) : String(value)) out of range (0..\(ZoneParser.maxTTL))",
                     at: state.position(token))
                return
            }
            defaultTTL = UInt32(value)
        case "$INCLUDE":
            include(tokens, state: state, depth: depth)
        case "$GENERATE":
            fail("$GENERATE is not supported", at: state.position(tokens[0]))
        default:
            fail("unknown directive \(state.text(tokens[0]))", at: state.position(tokens[0]))
        }
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
        guard tokens.count >= 2 else {
            fail("missing file name after $INCLUDE", at: state.position(after: tokens[0]))
            return
        }
        guard tokens.count <= 3 else {
            fail("unexpected \(RDataParser.quote(state.content(tokens[3]))) after $INCLUDE", at: state.position(tokens[3]))
            return
        }
        let pathToken = tokens[1]
        var pathBytes: [UInt8] = []
        do {
            try TextFields.unescape(state.content(pathToken), into: &pathBytes)
        } catch {
            fail("bad escape sequence in \(RDataParser.quote(state.content(pathToken)))", at: state.position(pathToken))
            return
        }
        let path = String(decoding: pathBytes, as: UTF8.self)
        let at = state.position(pathToken)
        var origin = state.origin
        if tokens.count == 3 {
            guard let given = name(tokens[2], relativeTo: state.origin, state: state) else { return }
            origin = given
        }
        guard !path.isEmpty, !pathBytes.contains(0) else {
            fail("bad $INCLUDE file name", at: at)
            return
        }
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

        // First the path as written: it may not climb out of the zones directory…
        let candidate: String
        let display: String
        if path.hasPrefix("/") {
            guard let normalized = FileSystem.lexicallyNormalized(path),
                  FileSystem.isInside(normalized, directory: root.real)
                    || (root.display.hasPrefix("/") && FileSystem.isInside(normalized, directory: FileSystem.lexicallyNormalized(root.display) ?? root.display))
            else {
                fail("$INCLUDE path escapes the zones directory", at: at)
                return
            }
            candidate = normalized
            display = path
        } else {
            guard FileSystem.lexicallyNormalized(path) != nil else {
                fail("$INCLUDE path escapes the zones directory", at: at)
                return
            }
            candidate = FileSystem.join(root.real, path)
            display = FileSystem.join(root.display, path)
        }
        // …then the file it really is, after symbolic links.
        let real: String
        switch FileSystem.resolve(candidate) {
        case .failure(let error):
            fail("cannot read $INCLUDE file \"\(display)\": \(error)", at: at)
            return
        case .success(let resolved):
            real = resolved
        }
        guard FileSystem.isInside(real, directory: root.real), real != root.real else {
            fail("$INCLUDE path escapes the zones directory", at: at)
            return
        }
        guard !includeStack.contains(real) else {
            fail("$INCLUDE loop: \"\(display)\" is already being read", at: at)
            return
        }
        let bytes: [UInt8]
        switch FileSystem.read(real) {
        case .failure(let error):
            fail("cannot read $INCLUDE file \"\(display)\": \(error)", at: at)
            return
        case .success(let contents):
            bytes = contents
        }
        includeStack.append(real)
        bytes.withUnsafeBufferPointer { read($0, file: display, origin: origin, depth: depth + 1) }
        includeStack.removeLast()
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
