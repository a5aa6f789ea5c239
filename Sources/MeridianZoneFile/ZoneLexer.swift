/// One token of a master file: a word or a quoted string. Offsets index the file's bytes;
/// escapes are left as written and interpreted by whoever reads the field.
struct Token {
    /// First byte of the token as written (the opening quote of a quoted string).
    var start: Int
    /// The token's text without quotes.
    var contentStart: Int
    var contentEnd: Int
    /// Just after the token as written (after the closing quote).
    var end: Int
    var line: Int
    var lineStart: Int
    var quoted: Bool
}

/// A lexical problem in one entry; the entry is skipped.
struct LexError {
    var message: String
    var offset: Int
    var line: Int
    var lineStart: Int
}

/// Splits master-file text into entries (RFC 1035 section 5.1): one line, or several
/// joined by parentheses, with `;` comments removed and quoted strings kept whole.
struct ZoneLexer {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var offset = 0
    private(set) var line: Int
    private(set) var lineStart = 0

    /// `line`: the line number of the first byte (a file read a piece at a time starts
    /// pieces part way through).
    init(_ bytes: UnsafeBufferPointer<UInt8>, line: Int = 1) {
        self.bytes = bytes
        self.line = line
    }

    /// Reads the next entry into `tokens`. Returns nil at the end of input; otherwise whether
    /// the entry began with blank space (the owner is inherited) and its first lexical error.
    mutating func nextEntry(into tokens: inout [Token]) -> (startsWithBlank: Bool, error: LexError?)? {
        tokens.removeAll(keepingCapacity: true)
        let count = bytes.count
        guard offset < count else { return nil }
        let startsWithBlank = bytes[offset] == 0x20 || bytes[offset] == 0x09
        var depth = 0
        var openParen: LexError?
        var error: LexError?
        scan: while offset < count {
            let byte = bytes[offset]
            switch byte {
            case 0x20, 0x09, 0x0D:
                offset += 1
            case 0x0A:
                offset += 1
                line += 1
                lineStart = offset
                if depth == 0 { break scan }
            case UInt8(ascii: ";"):
                while offset < count && bytes[offset] != 0x0A { offset += 1 }
            case UInt8(ascii: "("):
                if depth == 0 {
                    openParen = LexError(message: "unbalanced parenthesis", offset: offset, line: line, lineStart: lineStart)
                } else if error == nil {
                    // BIND, NSD and Knot all reject "( (": parentheses group lines, they do not nest.
                    error = LexError(message: "nested parenthesis", offset: offset, line: line, lineStart: lineStart)
                }
                depth += 1
                offset += 1
            case UInt8(ascii: ")"):
                if depth == 0 {
                    if error == nil {
                        error = LexError(message: "unbalanced parenthesis", offset: offset, line: line, lineStart: lineStart)
                    }
                } else {
                    depth -= 1
                }
                offset += 1
            case UInt8(ascii: "\""):
                let start = offset
                offset += 1
                var closed = false
                while offset < count {
                    let inner = bytes[offset]
                    if inner == UInt8(ascii: "\"") { closed = true; break }
                    if inner == 0x0A { break }
                    if inner == UInt8(ascii: "\\") && offset + 1 < count && bytes[offset + 1] != 0x0A {
                        offset += 2
                    } else {
                        offset += 1
                    }
                }
                let contentEnd = offset
                if closed {
                    offset += 1
                } else if error == nil {
                    error = LexError(message: "unterminated quoted string", offset: start, line: line, lineStart: lineStart)
                }
                tokens.append(Token(start: start, contentStart: start + 1, contentEnd: contentEnd, end: offset,
                                    line: line, lineStart: lineStart, quoted: true))
            default:
                let start = offset
                while offset < count {
                    let inner = bytes[offset]
                    if isDelimiter(inner) { break }
                    if inner == UInt8(ascii: "\\") && offset + 1 < count && bytes[offset + 1] != 0x0A {
                        offset += 2
                    } else {
                        offset += 1
                    }
                }
                tokens.append(Token(start: start, contentStart: start, contentEnd: offset, end: offset,
                                    line: line, lineStart: lineStart, quoted: false))
            }
        }
        if depth > 0, error == nil { error = openParen }
        return (startsWithBlank, error)
    }

    @inline(__always)
    private func isDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x09, 0x0D, 0x0A, UInt8(ascii: ";"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\""): true
        default: false
        }
    }
}

/// 1-based column of `offset` on the line that starts at `lineStart`, counting characters
/// (UTF-8 continuation bytes do not advance the column).
func column(of offset: Int, lineStart: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var column = 1
    var index = lineStart
    while index < offset && index < bytes.count {
        if bytes[index] & 0xC0 != 0x80 { column += 1 }
        index += 1
    }
    return column
}
