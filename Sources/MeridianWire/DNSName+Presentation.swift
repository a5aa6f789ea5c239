// Presentation format (RFC 1035 section 5.1). Names, character-strings, the zone-file
// reader and the printers all go through these few functions, so text is read and written
// the same way everywhere.

public enum NameTextError: Error, Hashable, Sendable {
    case empty
    case emptyLabel
    case labelTooLong
    case nameTooLong
    case badEscape
}

extension NameTextError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .empty: "empty domain name"
        case .emptyLabel: "empty label in domain name"
        case .labelTooLong: "label longer than 63 octets"
        case .nameTooLong: "domain name longer than 255 octets"
        case .badEscape: "bad escape sequence in domain name"
        }
    }
}

extension DNSName {
    /// Parses presentation format (`\X` and `\DDD` escapes).
    /// A name without a trailing dot is relative and gets `origin` appended; with no origin
    /// it is taken as absolute.
    public init(parsing text: some StringProtocol, origin: DNSName? = nil) throws(NameTextError) {
        try self.init(presentation: Array(text.utf8), origin: origin)
    }

    /// `init(parsing:origin:)` over UTF-8 bytes, so the zone-file reader parses names
    /// straight from the file's buffer. The name is built in its wire form as it is read:
    /// each label's length octet is reserved and filled in when the label ends.
    @inlinable
    public init<Text: RandomAccessCollection<UInt8>>(presentation text: Text, origin: DNSName? = nil) throws(NameTextError)
    where Text.Index == Int {
        let count = text.count
        guard count > 0 else { throw .empty }
        if count == 1 && text[text.startIndex] == UInt8(ascii: ".") {
            self = .root
            return
        }
        let originWire = origin?.wire ?? [0]
        var wire: [UInt8] = []
        wire.reserveCapacity(count + 2 + originWire.count)
        var labelStart = 0
        wire.append(0)
        var index = text.startIndex
        var absolute = false
        while index < text.endIndex {
            if text[index] == UInt8(ascii: ".") {
                try Self.closeLabel(at: labelStart, in: &wire)
                labelStart = wire.count
                wire.append(0)
                index += 1
                if index == text.endIndex { absolute = true }
            } else {
                guard let next = PresentationText.readOctet(in: text, at: index) else { throw .badEscape }
                wire.append(next.octet)
                index = next.end
            }
        }
        if !absolute {
            try Self.closeLabel(at: labelStart, in: &wire)
            wire.append(contentsOf: originWire)
        }
        guard wire.count <= Self.maxWireLength else { throw .nameTooLong }
        self.init(uncheckedWire: wire)
    }

    /// Fills in the length octet of the label that starts at `start` and runs to the end of `wire`.
    @usableFromInline
    static func closeLabel(at start: Int, in wire: inout [UInt8]) throws(NameTextError) {
        let length = wire.count - start - 1
        guard length > 0 else { throw .emptyLabel }
        guard length <= maxLabelLength else { throw .labelTooLong }
        wire[start] = UInt8(length)
    }
}

extension DNSName: CustomStringConvertible {
    /// Absolute presentation form with a trailing dot; special and non-printable octets escaped.
    public var description: String {
        var text: [UInt8] = []
        text.reserveCapacity(wire.count + 1)
        PresentationText.appendName(wire[...], to: &text)
        return String(decoding: text, as: UTF8.self)
    }
}

/// Escapes in both directions, on UTF-8 bytes.
public enum PresentationText {
    /// The octet written at `index`: the byte itself, or the value of the escape starting
    /// there (`\DDD` is the octet with that decimal value, `\X` is X itself). Returns it with
    /// the index just past what was read, or nil when an escape is cut short or DDD is over 255.
    @inlinable
    public static func readOctet<Text: RandomAccessCollection<UInt8>>(in text: Text, at index: Int) -> (octet: UInt8, end: Int)?
    where Text.Index == Int {
        let byte = text[index]
        guard byte == UInt8(ascii: "\\") else { return (byte, index + 1) }
        let first = index + 1
        guard first < text.endIndex else { return nil }
        guard isDigit(text[first]) else { return (text[first], first + 1) }
        guard first + 2 < text.endIndex, isDigit(text[first + 1]), isDigit(text[first + 2]) else { return nil }
        let value = Int(text[first] - 48) * 100 + Int(text[first + 1] - 48) * 10 + Int(text[first + 2] - 48)
        guard value <= 255 else { return nil }
        return (UInt8(value), first + 3)
    }

    /// Appends one octet of a name (`quoted: false`) or of a quoted character-string.
    /// Inside quotes the characters that delimit names and fields need no escape.
    @inlinable
    public static func appendEscaped(_ octet: UInt8, quoted: Bool, to text: inout [UInt8]) {
        switch octet {
        case UInt8(ascii: "."), UInt8(ascii: ";"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "@"),
             UInt8(ascii: "$"), UInt8(ascii: " "):
            if !quoted { text.append(UInt8(ascii: "\\")) }
            text.append(octet)
        case UInt8(ascii: "\\"), UInt8(ascii: "\""):
            text.append(UInt8(ascii: "\\"))
            text.append(octet)
        case 0x21...0x7E:
            text.append(octet)
        default:
            text.append(UInt8(ascii: "\\"))
            text.append(octet / 100 + 0x30)
            text.append(octet / 10 % 10 + 0x30)
            text.append(octet % 10 + 0x30)
        }
    }

    /// Appends an uncompressed wire name, absolute with a trailing dot (`.` for the root).
    @inlinable
    public static func appendName(_ wire: ArraySlice<UInt8>, to text: inout [UInt8]) {
        var offset = wire.startIndex
        if wire[offset] == 0 {
            text.append(UInt8(ascii: "."))
            return
        }
        while wire[offset] != 0 {
            let length = Int(wire[offset])
            for index in (offset + 1)...(offset + length) {
                appendEscaped(wire[index], quoted: false, to: &text)
            }
            text.append(UInt8(ascii: "."))
            offset += 1 + length
        }
    }
}

@inlinable @inline(__always) func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
