/// Resource record types. An open set (RFC 3597): any 16-bit value is a valid type and
/// passes through unchanged; the mnemonics below are the ones Meridian knows by name.
public struct RRType: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    @inlinable public static var a: RRType { RRType(1) }
    @inlinable public static var ns: RRType { RRType(2) }
    @inlinable public static var cname: RRType { RRType(5) }
    @inlinable public static var soa: RRType { RRType(6) }
    @inlinable public static var ptr: RRType { RRType(12) }
    @inlinable public static var hinfo: RRType { RRType(13) }
    @inlinable public static var mx: RRType { RRType(15) }
    @inlinable public static var txt: RRType { RRType(16) }
    @inlinable public static var aaaa: RRType { RRType(28) }
    @inlinable public static var srv: RRType { RRType(33) }
    @inlinable public static var naptr: RRType { RRType(35) }
    @inlinable public static var dname: RRType { RRType(39) }
    @inlinable public static var opt: RRType { RRType(41) }
    @inlinable public static var ds: RRType { RRType(43) }
    @inlinable public static var sshfp: RRType { RRType(44) }
    @inlinable public static var rrsig: RRType { RRType(46) }
    @inlinable public static var nsec: RRType { RRType(47) }
    @inlinable public static var dnskey: RRType { RRType(48) }
    @inlinable public static var tlsa: RRType { RRType(52) }
    @inlinable public static var spf: RRType { RRType(99) }
    @inlinable public static var ixfr: RRType { RRType(251) }
    @inlinable public static var axfr: RRType { RRType(252) }
    @inlinable public static var mailb: RRType { RRType(253) }
    @inlinable public static var maila: RRType { RRType(254) }
    @inlinable public static var any: RRType { RRType(255) }
    @inlinable public static var caa: RRType { RRType(257) }
    @inlinable public static var minfo: RRType { RRType(14) }
    @inlinable public static var rp: RRType { RRType(17) }
    @inlinable public static var afsdb: RRType { RRType(18) }
    @inlinable public static var rt: RRType { RRType(21) }
    @inlinable public static var loc: RRType { RRType(29) }
    @inlinable public static var kx: RRType { RRType(36) }
    @inlinable public static var cert: RRType { RRType(37) }
    @inlinable public static var apl: RRType { RRType(42) }
    @inlinable public static var ipseckey: RRType { RRType(45) }
    @inlinable public static var dhcid: RRType { RRType(49) }
    @inlinable public static var nsec3: RRType { RRType(50) }
    @inlinable public static var nsec3param: RRType { RRType(51) }
    @inlinable public static var smimea: RRType { RRType(53) }
    @inlinable public static var cds: RRType { RRType(59) }
    @inlinable public static var cdnskey: RRType { RRType(60) }
    @inlinable public static var openpgpkey: RRType { RRType(61) }
    @inlinable public static var csync: RRType { RRType(62) }
    @inlinable public static var zonemd: RRType { RRType(63) }
    @inlinable public static var svcb: RRType { RRType(64) }
    @inlinable public static var https: RRType { RRType(65) }
    @inlinable public static var nid: RRType { RRType(104) }
    @inlinable public static var l32: RRType { RRType(105) }
    @inlinable public static var l64: RRType { RRType(106) }
    @inlinable public static var lp: RRType { RRType(107) }
    @inlinable public static var eui48: RRType { RRType(108) }
    @inlinable public static var eui64: RRType { RRType(109) }
    @inlinable public static var uri: RRType { RRType(256) }
    /// Meridian's dynamic record kinds. They exist only in zone files and in the
    /// authority data; they are never written to the wire. Values are from the
    /// private-use range (RFC 6895 section 3.1: 65280-65534).
    @inlinable public static var dyna: RRType { RRType(65_401) }
    @inlinable public static var dync: RRType { RRType(65_402) }
    /// Types that only make sense in a query (RFC 6895 meta and q-types).
    public var isMetaOrQueryOnly: Bool {
        (rawValue >= 128 && rawValue <= 255) || self == .opt
    }

    public static let mnemonics: [(RRType, String)] = [
        (.a, "A"), (.ns, "NS"), (.cname, "CNAME"), (.soa, "SOA"), (.ptr, "PTR"), (.hinfo, "HINFO"),
        (.mx, "MX"), (.txt, "TXT"), (.aaaa, "AAAA"), (.srv, "SRV"), (.naptr, "NAPTR"), (.dname, "DNAME"),
        (.opt, "OPT"), (.ds, "DS"), (.sshfp, "SSHFP"), (.rrsig, "RRSIG"), (.nsec, "NSEC"), (.dnskey, "DNSKEY"),
        (.tlsa, "TLSA"), (.spf, "SPF"), (.ixfr, "IXFR"), (.axfr, "AXFR"), (.mailb, "MAILB"), (.maila, "MAILA"),
        (.any, "ANY"), (.caa, "CAA"), (.dyna, "DYNA"), (.dync, "DYNC"),
        (.minfo, "MINFO"), (.rp, "RP"), (.rt, "RT"), (.afsdb, "AFSDB"), (.loc, "LOC"), (.kx, "KX"), (.cert, "CERT"),
        (.apl, "APL"), (.ipseckey, "IPSECKEY"), (.dhcid, "DHCID"), (.nsec3, "NSEC3"), (.nsec3param, "NSEC3PARAM"),
        (.smimea, "SMIMEA"), (.cds, "CDS"), (.cdnskey, "CDNSKEY"), (.openpgpkey, "OPENPGPKEY"), (.csync, "CSYNC"),
        (.zonemd, "ZONEMD"), (.svcb, "SVCB"), (.https, "HTTPS"), (.nid, "NID"), (.l32, "L32"), (.l64, "L64"),
        (.lp, "LP"), (.eui48, "EUI48"), (.eui64, "EUI64"), (.uri, "URI"),
    ]

    /// Parses a mnemonic (`AAAA`) or the generic form (`TYPE65534`, RFC 3597), case-insensitively.
    public init?(mnemonic text: some StringProtocol) {
        let upper = text.uppercased()
        if let known = Self.mnemonics.first(where: { $0.1 == upper }) {
            self = known.0
            return
        }
        guard upper.hasPrefix("TYPE"), let value = UInt16(upper.dropFirst(4)), !upper.dropFirst(4).hasPrefix("+") else {
            return nil
        }
        self.init(value)
    }
}

extension RRType: CustomStringConvertible {
    public var description: String {
        Self.mnemonics.first(where: { $0.0 == self })?.1 ?? "TYPE\(rawValue)"
    }
}

/// Record classes. Meridian serves IN; the others pass through the codec.
public struct RRClass: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static var `in`: RRClass { RRClass(1) }
    @inlinable public static var ch: RRClass { RRClass(3) }
    @inlinable public static var hs: RRClass { RRClass(4) }
    @inlinable public static var none: RRClass { RRClass(254) }
    @inlinable public static var any: RRClass { RRClass(255) }
    public init?(mnemonic text: some StringProtocol) {
        switch text.uppercased() {
        case "IN": self = .in
        case "CH": self = .ch
        case "HS": self = .hs
        case "NONE": self = .none
        case "ANY": self = .any
        case let upper where upper.hasPrefix("CLASS"):
            guard let value = UInt16(upper.dropFirst(5)) else { return nil }
            self.init(value)
        default: return nil
        }
    }
}

extension RRClass: CustomStringConvertible {
    public var description: String {
        switch self {
        case .in: "IN"
        case .ch: "CH"
        case .hs: "HS"
        case .none: "NONE"
        case .any: "ANY"
        default: "CLASS\(rawValue)"
        }
    }
}

public struct Opcode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
    @inlinable public static var query: Opcode { Opcode(rawValue: 0) }
    @inlinable public static var iquery: Opcode { Opcode(rawValue: 1) }
    @inlinable public static var status: Opcode { Opcode(rawValue: 2) }
    @inlinable public static var notify: Opcode { Opcode(rawValue: 4) }
    @inlinable public static var update: Opcode { Opcode(rawValue: 5) }
}

/// Response codes, including the extended ones that need the OPT record's upper bits.
public struct RCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static var noError: RCode { RCode(rawValue: 0) }
    @inlinable public static var formErr: RCode { RCode(rawValue: 1) }
    @inlinable public static var servFail: RCode { RCode(rawValue: 2) }
    @inlinable public static var nxDomain: RCode { RCode(rawValue: 3) }
    @inlinable public static var notImp: RCode { RCode(rawValue: 4) }
    @inlinable public static var refused: RCode { RCode(rawValue: 5) }
    /// Not authoritative for the zone (RFC 2136 section 2.2): the answer to a zone transfer
    /// asked for a name that is not a zone this server serves.
    @inlinable public static var notAuth: RCode { RCode(rawValue: 9) }
    @inlinable public static var badVers: RCode { RCode(rawValue: 16) }
    /// The 4 bits that go in the header.
    @inlinable public var headerBits: UInt8 { UInt8(rawValue & 0x0F) }
    /// The 8 bits that go in the OPT record's TTL field.
    @inlinable public var extendedBits: UInt8 { UInt8((rawValue >> 4) & 0xFF) }
}

extension RCode: CustomStringConvertible {
    public var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formErr: "FORMERR"
        case .servFail: "SERVFAIL"
        case .nxDomain: "NXDOMAIN"
        case .notImp: "NOTIMP"
        case .refused: "REFUSED"
        case .notAuth: "NOTAUTH"
        case .badVers: "BADVERS"
        default: "RCODE\(rawValue)"
        }
    }
}

/// EDNS option codes (RFC 6891 section 6.1.2). Unknown codes are ignored by the server.
public struct EDNSOptionCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public static var clientSubnet: EDNSOptionCode { EDNSOptionCode(rawValue: 8) }
    @inlinable public static var cookie: EDNSOptionCode { EDNSOptionCode(rawValue: 10) }
    @inlinable public static var padding: EDNSOptionCode { EDNSOptionCode(rawValue: 12) }
}
