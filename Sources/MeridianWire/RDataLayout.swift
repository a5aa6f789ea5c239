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
    /// The rest of RDATA written as base64, possibly split by blanks (keys, signatures).
    case base64Remainder
    /// A DNSSEC algorithm number, also written by its mnemonic (`RSASHA256`). BIND prints the
    /// mnemonic in CERT only, the number elsewhere.
    case algorithm(printedAsMnemonic: Bool)
    /// A type number written as its mnemonic (RRSIG type covered).
    case rrType
    /// A 32-bit time written as `YYYYMMDDHHmmSS` (UTC) or as plain seconds (RRSIG).
    case timestamp
    /// NSEC/NSEC3/CSYNC type bitmap (RFC 4034 section 4.1.2): a list of type mnemonics.
    case typeBitmap
    /// A length-prefixed octet string written as hex, `-` when empty (NSEC3 salt).
    case salt
    /// A length-prefixed octet string written as base32hex (NSEC3 next hashed owner).
    case base32Hex
    /// Six octets written `xx-xx-xx-xx-xx-xx` (EUI48).
    case eui48
    /// Eight octets written `xx-xx-xx-xx-xx-xx-xx-xx` (EUI64).
    case eui64
    /// Eight octets written as four 16-bit hex groups `xxxx:xxxx:xxxx:xxxx` (NID, L64).
    case ilnp64
    /// CERT certificate type: a number or a mnemonic (`PKIX`).
    case certificateType
    /// LOC RDATA as a whole (RFC 1876): 16 octets written as coordinates, altitude and sizes.
    case location
    /// IPSECKEY gateway type, algorithm and gateway (RFC 4025), whose length depends on the type.
    case ipsecGateway
    /// APL items up to the end of RDATA (RFC 3123).
    case addressPrefixes
    /// SVCB/HTTPS SvcParams up to the end of RDATA (RFC 9460).
    case serviceParameters
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
        case .ds, .cds: ds
        case .minfo: minfo
        case .rp: rp
        case .afsdb, .kx, .rt, .lp: preferenceAndName
        case .uri: uri
        case .openpgpkey, .dhcid: base64
        case .smimea: tlsa
        case .dnskey, .cdnskey: dnskey
        case .rrsig: rrsig
        case .nsec: nsec
        case .nsec3: nsec3
        case .nsec3param: nsec3param
        case .csync: csync
        case .zonemd: zonemd
        case .eui48: eui48
        case .eui64: eui64
        case .nid, .l64: ilnp64
        case .l32: l32
        case .cert: cert
        case .loc: loc
        case .ipseckey: ipseckey
        case .apl: apl
        case .svcb, .https: svcb
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
    static let ds = RDataLayout(fields: [.uint16, .algorithm(printedAsMnemonic: false), .uint8, .hexRemainder])
    static let minfo = RDataLayout(fields: [.name(compressible: true), .name(compressible: true)])
    // Names of types newer than RFC 1035 are never compressed on output (RFC 3597 section 4).
    static let rp = RDataLayout(fields: [.name(compressible: false), .name(compressible: false)])
    static let preferenceAndName = RDataLayout(fields: [.uint16, .name(compressible: false)])
    static let uri = RDataLayout(fields: [.uint16, .uint16, .textRemainder])
    static let base64 = RDataLayout(fields: [.base64Remainder])
    static let dnskey = RDataLayout(fields: [.uint16, .uint8, .algorithm(printedAsMnemonic: false), .base64Remainder])
    static let rrsig = RDataLayout(fields: [.rrType, .algorithm(printedAsMnemonic: false), .uint8, .uint32, .timestamp, .timestamp, .uint16,
                                            .name(compressible: false), .base64Remainder])
    static let nsec = RDataLayout(fields: [.name(compressible: false), .typeBitmap])
    static let nsec3 = RDataLayout(fields: [.uint8, .uint8, .uint16, .salt, .base32Hex, .typeBitmap])
    static let nsec3param = RDataLayout(fields: [.uint8, .uint8, .uint16, .salt])
    static let csync = RDataLayout(fields: [.uint32, .uint16, .typeBitmap])
    static let zonemd = RDataLayout(fields: [.uint32, .uint8, .uint8, .hexRemainder])
    static let eui48 = RDataLayout(fields: [.eui48])
    static let eui64 = RDataLayout(fields: [.eui64])
    static let ilnp64 = RDataLayout(fields: [.uint16, .ilnp64])
    static let l32 = RDataLayout(fields: [.uint16, .ipv4])
    static let cert = RDataLayout(fields: [.certificateType, .uint16, .algorithm(printedAsMnemonic: true), .base64Remainder])
    static let loc = RDataLayout(fields: [.location])
    static let ipseckey = RDataLayout(fields: [.uint8, .ipsecGateway, .base64Remainder])
    static let apl = RDataLayout(fields: [.addressPrefixes])
    static let svcb = RDataLayout(fields: [.uint16, .name(compressible: false), .serviceParameters])
}
