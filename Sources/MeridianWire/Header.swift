/// The fixed 12-byte DNS message header (RFC 1035 section 4.1.1).
public struct Header: Hashable, Sendable {
    public var id: UInt16
    public var flags: Flags
    public var opcode: Opcode
    /// The low 4 bits of the response code; the rest lives in the OPT record.
    public var rcodeLow: UInt8
    public var qdCount: UInt16
    public var anCount: UInt16
    public var nsCount: UInt16
    public var arCount: UInt16

    @inlinable public static var size: Int { 12 }

    public init(id: UInt16 = 0, flags: Flags = [], opcode: Opcode = .query, rcodeLow: UInt8 = 0,
                qdCount: UInt16 = 0, anCount: UInt16 = 0, nsCount: UInt16 = 0, arCount: UInt16 = 0) {
        self.id = id
        self.flags = flags
        self.opcode = opcode
        self.rcodeLow = rcodeLow & 0x0F
        self.qdCount = qdCount
        self.anCount = anCount
        self.nsCount = nsCount
        self.arCount = arCount
    }

    /// Header bits other than opcode and rcode.
    public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt16
        @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
        @inlinable public static var qr: Flags { Flags(rawValue: 0x8000) }
        @inlinable public static var aa: Flags { Flags(rawValue: 0x0400) }
        @inlinable public static var tc: Flags { Flags(rawValue: 0x0200) }
        @inlinable public static var rd: Flags { Flags(rawValue: 0x0100) }
        @inlinable public static var ra: Flags { Flags(rawValue: 0x0080) }
        @inlinable public static var z: Flags { Flags(rawValue: 0x0040) }
        @inlinable public static var ad: Flags { Flags(rawValue: 0x0020) }
        @inlinable public static var cd: Flags { Flags(rawValue: 0x0010) }
        static let mask: UInt16 = 0x87F0
    }

    /// The second 16-bit word of the header.
    public var flagsWord: UInt16 {
        (flags.rawValue & Flags.mask) | (UInt16(opcode.rawValue) << 11) | UInt16(rcodeLow & 0x0F)
    }

    public init(id: UInt16, flagsWord: UInt16, qdCount: UInt16, anCount: UInt16, nsCount: UInt16, arCount: UInt16) {
        self.init(id: id, flags: Flags(rawValue: flagsWord & Flags.mask), opcode: Opcode(rawValue: UInt8((flagsWord >> 11) & 0x0F)),
                  rcodeLow: UInt8(flagsWord & 0x0F), qdCount: qdCount, anCount: anCount, nsCount: nsCount, arCount: arCount)
    }
}
