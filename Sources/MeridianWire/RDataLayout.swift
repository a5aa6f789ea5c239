/// One field of an RDATA layout. The zone-file parser, the presentation printer, the wire
/// reader and the name compressor all read the same table (Knot's `descriptor.c` idea), so a
/// type is described once.
public enum RDataField: Hashable, Sendable {
    /// A domain name. `compressible` is true only for the RFC 1035 types whose RDATA names
    /// may be compressed (RFC 3597 section 4); newer types carry names uncompressed.
    case name(compressible: Bool)
    case uint8
    case uint16
    case uint32
    /// A 32-bit time value that zone files may write with units (`1h30m`): SOA timers.
    case period
    case ipv4
    case ipv6
    /// One length-prefixed character-string.
    case characterString
    /// One or more character-strings up to the end of RDATA (TXT).
    case characterStrings
    /// CAA tag: a length-prefixed string written unquoted.
    case caaTag
    /// The rest of RDATA as one unquoted-or-quoted text value without a length (CAA value).
    case textRemainder
    /// The rest of RDATA written as hexadecimal (SSHFP, TLSA, DS digests).
    case hexRemainder
}

public struct RDataLayout: Sendable {
    public let fields: [RDataField]

    /// True when RDATA contains a name that may be compressed on the wire.
    public var hasCompressibleName: Bool {
        fields.contains { if case .name(true) = $0 { return true } else { return false } }
    }

    /// True when RDATA contains any domain name.
    public var hasName: Bool {
        fields.contains { if case .name = $0 { return true } else { return false } }
    }

    /// The layout of a type, or nil for types carried as opaque RDATA (RFC 3597).
    public static func of(_ type: RRType) -> RDataLayout? {
        switch type {
        case .a: ipv4
        case .aaaa: ipv6
        case .ns, .cname, .ptr: compressedName
        case .dname: uncompressedName
        case .soa: soa
        case .mx: mx
        case .txt, .spf: txt
        case .hinfo: hinfo
        case .srv: srv
        case .naptr: naptr
        case .sshfp: sshfp
        case .tlsa: tlsa
        case .caa: caa
        case .ds: ds
        default: nil
        }
    }

    static let ipv4 = RDataLayout(fields: [.ipv4])
    static let ipv6 = RDataLayout(fields: [.ipv6])
    static let compressedName = RDataLayout(fields: [.name(compressible: true)])
    static let uncompressedName = RDataLayout(fields: [.name(compressible: false)])
    static let soa = RDataLayout(fields: [.name(compressible: true), .name(compressible: true), .uint32, .period, .period, .period, .period])
    static let mx = RDataLayout(fields: [.uint16, .name(compressible: true)])
    static let txt = RDataLayout(fields: [.characterStrings])
    static let hinfo = RDataLayout(fields: [.characterString, .characterString])
    static let srv = RDataLayout(fields: [.uint16, .uint16, .uint16, .name(compressible: false)])
    static let naptr = RDataLayout(fields: [.uint16, .uint16, .characterString, .characterString, .characterString, .name(compressible: false)])
    static let sshfp = RDataLayout(fields: [.uint8, .uint8, .hexRemainder])
    static let tlsa = RDataLayout(fields: [.uint8, .uint8, .uint8, .hexRemainder])
    static let caa = RDataLayout(fields: [.uint8, .caaTag, .textRemainder])
    static let ds = RDataLayout(fields: [.uint16, .uint8, .uint8, .hexRemainder])
}
