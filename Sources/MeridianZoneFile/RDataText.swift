import MeridianWire

/// RDATA in presentation format, both ways. `format` prints what `ZoneParser` reads back to
/// the same octets: names absolute with a trailing dot, strings quoted, hex upper case, and
/// the RFC 3597 generic form for types without a layout or RDATA that does not fit its layout.
public enum RDataText {
    public static func format(type: RRType, rdata: [UInt8]) -> String {
        var writer = PresentationWriter(capacity: rdata.count * 2 + 16)
        writer.rdata(type: type, rdata)
        return writer.string
    }

    /// `\# LENGTH HEX` (RFC 3597 section 5); `\# 0` for empty RDATA.
    public static func generic(_ rdata: [UInt8]) -> String {
        var writer = PresentationWriter(capacity: rdata.count * 2 + 16)
        writer.generic(rdata)
        return writer.string
    }

    /// Parses RDATA text of one record (what follows the type in a zone file), with names
    /// relative to `origin`. Errors carry the column in `text` and line 1.
    public static func parse(type: RRType, text: String, origin: DNSName = .root,
                             fileName: String = "<rdata>") throws(ZoneFileError) -> [UInt8] {
        let bytes = Array(text.utf8)
        let result: Result<[UInt8], ZoneFileError> = bytes.withUnsafeBufferPointer { buffer in
            var lexer = ZoneLexer(buffer)
            var tokens: [Token] = []
            var all: [Token] = []
            while let entry = lexer.nextEntry(into: &tokens) {
                if let error = entry.error {
                    return .failure(ZoneFileError(error.message, at: SourcePosition(
                        file: fileName, line: error.line, column: column(of: error.offset, lineStart: error.lineStart, in: buffer))))
                }
                all.append(contentsOf: tokens)
            }
            var parser = RDataParser(bytes: buffer, tokens: all, first: 0, origin: origin)
            do throws(FieldError) {
                return .success(try parser.parse(type: type))
            } catch {
                let offset: Int
                let token: Token?
                if let index = error.token {
                    token = all[index]
                    offset = all[index].start
                } else {
                    token = all.last
                    offset = all.last?.end ?? 0
                }
                let position = SourcePosition(file: fileName, line: token?.line ?? 1,
                                              column: column(of: offset, lineStart: token?.lineStart ?? 0, in: buffer))
                return .failure(ZoneFileError(error.message, at: position))
            }
        }
        return try result.get()
    }

    @inline(__always)
    static func readUInt32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        let base = bytes.startIndex
        return UInt32(bytes[base]) << 24 | UInt32(bytes[base + 1]) << 16 | UInt32(bytes[base + 2]) << 8 | UInt32(bytes[base + 3])
    }
}
