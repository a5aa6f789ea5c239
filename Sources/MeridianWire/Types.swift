/// Resource record types. An open set (RFC 3597): any 16-bit value is a valid type and
/// passes through unchanged; the mnemonics below are the ones Meridian knows by name.
public struct RRType: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public static let a = RRType(1)
    public static let ns = RRType(2)
    public static let cname = RRType(5)
    public static let soa = RRType(6)
    public static let ptr = RRType(12)
    public static let hinfo = RRType(13)
    public static let mx = RRType(15)
    public static let txt = RRType(16)
    public static let aaaa = RRType(28)
    public static let srv = RRType(33)
    public static let naptr = RRType(35)
    public static let dname = RRType(39)
    public static let opt = RRType(41)
    public static let ds = RRType(43)
    public static let sshfp = RRType(44)
    public static let rrsig = RRType(46)
    public static let nsec = RRType(47)
    public static let dnskey = RRType(48)
    public static let tlsa = RRType(52)
    public static let spf = RRType(99)
    public static let ixfr = RRType(251)
    public static let axfr = RRType(252)
    public static let mailb = RRType(253)
    public static let maila = RRType(254)
    public static let any = RRType(255)
    public static let caa = RRType(257)

    /// Meridian's dynamic record kinds. They exist only in zone files and in the
    /// authority data; they are never written to the wire. Values are from the
    /// private-use range (RFC 6895 section 3.1: 65280-65534).
    public static let dyna = RRType(65_401)
    public static let dync = RRType(65_402)

    /// Types that only make sense in a query (RFC 6895 meta and q-types).
    public var isMetaOrQueryOnly: Bool {
        (rawValue >= 128 && rawValue <= 255) || self == .opt
    }

    static let mnemonics: [(RRType, String)] = [
        (.a, "A"), (.ns, "NS"), (.cname, "CNAME"), (.soa, "SOA"), (.ptr, "PTR"), (.hinfo, "HINFO"),
        (.mx, "MX"), (.txt, "TXT"), (.aaaa, "AAAA"), (.srv, "SRV"), (.naptr, "NAPTR"), (.dname, "DNAME"),
        (.opt, "OPT"), (.ds, "DS"), (.sshfp, "SSHFP"), (.rrsig, "RRSIG"), (.nsec, "NSEC"), (.dnskey, "DNSKEY"),
        (.tlsa, "TLSA"), (.spf, "SPF"), (.ixfr, "IXFR"), (.axfr, "AXFR"), (.mailb, "MAILB"), (.maila, "MAILA"),
        (.any, "ANY"), (.caa, "CAA"), (.dyna, "DYNA"), (.dync, "DYNC"),
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

    public static let `in` = RRClass(1)
    public static let ch = RRClass(3)
    public static let hs = RRClass(4)
    public static let none = RRClass(254)
    public static let any = RRClass(255)

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
    public static let query = Opcode(rawValue: 0)
    public static let iquery = Opcode(rawValue: 1)
    public static let status = Opcode(rawValue: 2)
    public static let notify = Opcode(rawValue: 4)
    public static let update = Opcode(rawValue: 5)
}

/// Response codes, including the extended ones that need the OPT record's upper bits.
public struct RCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = RCode(rawValue: 0)
    public static let formErr = RCode(rawValue: 1)
    public static let servFail = RCode(rawValue: 2)
    public static let nxDomain = RCode(rawValue: 3)
    public static let notImp = RCode(rawValue: 4)
    public static let refused = RCode(rawValue: 5)
    public static let badVers = RCode(rawValue: 16)

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
        case .badVers: "BADVERS"
        default: "RCODE\(rawValue)"
        }
    }
}

/// EDNS option codes (RFC 6891 section 6.1.2). Unknown codes are ignored by the server.
public struct EDNSOptionCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let clientSubnet = EDNSOptionCode(rawValue: 8)
    public static let cookie = EDNSOptionCode(rawValue: 10)
    public static let padding = EDNSOptionCode(rawValue: 12)
}
