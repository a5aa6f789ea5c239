/// EDNS Client Subnet option (RFC 7871 section 6), without heap storage so the query path
/// can parse and echo it freely.
public struct ClientSubnet: Hashable, Sendable {
    public enum Family: UInt16, Sendable { case ipv4 = 1, ipv6 = 2 }

    public var family: Family
    public var sourcePrefix: UInt8
    public var scopePrefix: UInt8
    /// The address, left-aligned; bytes past the source prefix are zero.
    public var address: (UInt64, UInt64)

    public init(family: Family, sourcePrefix: UInt8, scopePrefix: UInt8 = 0, address: (UInt64, UInt64)) {
        self.family = family
        self.sourcePrefix = sourcePrefix
        self.scopePrefix = scopePrefix
        self.address = address
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.family == b.family && a.sourcePrefix == b.sourcePrefix && a.scopePrefix == b.scopePrefix && a.address == b.address
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(sourcePrefix)
        hasher.combine(scopePrefix)
        hasher.combine(address.0)
        hasher.combine(address.1)
    }

    public var maxPrefix: UInt8 { family == .ipv4 ? 32 : 128 }

    /// Number of address octets on the wire for the source prefix.
    public var addressLength: Int { (Int(sourcePrefix) + 7) / 8 }

    /// Parses the option data. Rejects what RFC 7871 section 7.1 tells servers to answer
    /// with FORMERR: unknown family, prefix longer than the family allows, wrong address
    /// length, and bits set beyond the source prefix.
    public static func parse(_ data: UnsafeRawBufferPointer) throws(WireError) -> ClientSubnet {
        guard data.count >= 4 else { throw .badClientSubnet(.shorterThanFourOctets) }
        let rawFamily = UInt16(data[0]) << 8 | UInt16(data[1])
        guard let family = Family(rawValue: rawFamily) else { throw .badClientSubnet(.unknownFamily(rawFamily)) }
        let source = data[2]
        let scope = data[3]
        let maxPrefix: UInt8 = family == .ipv4 ? 32 : 128
        guard source <= maxPrefix else { throw .badClientSubnet(.sourcePrefixTooLong(source)) }
        guard scope <= maxPrefix else { throw .badClientSubnet(.scopePrefixTooLong(scope)) }
        let length = (Int(source) + 7) / 8
        guard data.count - 4 == length else { throw .badClientSubnet(.addressLengthMismatch) }
        var bytes: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &bytes) { out in
            for index in 0..<length { out[index] = data[4 + index] }
        }
        if source % 8 != 0, length > 0 {
            let mask = UInt8(0xFF) >> (source % 8)
            guard data[4 + length - 1] & mask == 0 else { throw .badClientSubnet(.bitsBeyondSourcePrefix) }
        }
        return ClientSubnet(family: family, sourcePrefix: source, scopePrefix: scope, address: bytes)
    }

    /// The address octet at `index` (0-based, network order).
    public func octet(_ index: Int) -> UInt8 {
        withUnsafeBytes(of: address) { $0[index] }
    }

    /// Octets the option takes in OPT RDATA, its code and length included.
    @inlinable public var optionLength: Int { 4 + 4 + addressLength }

    /// Writes the whole option (code, length, then what `optionData` holds) where the
    /// query path answers, without building an array.
    @inlinable
    public func write(into writer: inout MessageWriter) -> Bool {
        guard writer.writeOptionHeader(.clientSubnet, length: 4 + addressLength), writer.writeUInt16(family.rawValue),
              writer.writeUInt8(sourcePrefix), writer.writeUInt8(scopePrefix)
        else { return false }
        for index in 0..<addressLength where !writer.writeUInt8(octet(index)) { return false }
        return true
    }

    /// Option data as written on the wire: family, source, scope, truncated address.
    public var optionData: [UInt8] {
        var data: [UInt8] = [UInt8(family.rawValue >> 8), UInt8(family.rawValue & 0xFF), sourcePrefix, scopePrefix]
        for index in 0..<addressLength { data.append(octet(index)) }
        return data
    }

    /// Builds an option from address octets and a prefix, zeroing bits past the prefix.
    public init(family: Family, sourcePrefix: UInt8, scopePrefix: UInt8 = 0, octets: [UInt8]) {
        var bytes: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &bytes) { out in
            for index in 0..<min(octets.count, 16) where index * 8 < Int(sourcePrefix) {
                let keep = Int(sourcePrefix) - index * 8
                out[index] = keep >= 8 ? octets[index] : octets[index] & ~(UInt8(0xFF) >> keep)
            }
        }
        self.init(family: family, sourcePrefix: sourcePrefix, scopePrefix: scopePrefix, address: bytes)
    }
}

/// The OPT pseudo-record's contents (RFC 6891 section 6.1).
public struct EDNS: Hashable, Sendable {
    /// Everything but the options, as the OPT record carries it.
    public var fields: OPTFields
    public var options: [Option]

    public var udpPayloadSize: UInt16 { get { fields.udpPayloadSize } set { fields.udpPayloadSize = newValue } }
    public var extendedRCode: UInt8 { get { fields.extendedRCode } set { fields.extendedRCode = newValue } }
    public var version: UInt8 { get { fields.version } set { fields.version = newValue } }
    public var dnssecOK: Bool { get { fields.dnssecOK } set { fields.dnssecOK = newValue } }

    public struct Option: Hashable, Sendable {
        public var code: EDNSOptionCode
        public var data: [UInt8]
        public init(code: EDNSOptionCode, data: [UInt8]) {
            self.code = code
            self.data = data
        }
    }

    public init(udpPayloadSize: UInt16 = 1232, extendedRCode: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false, options: [Option] = []) {
        self.init(OPTFields(udpPayloadSize: udpPayloadSize, extendedRCode: extendedRCode, version: version, dnssecOK: dnssecOK),
                  options: options)
    }

    public init(_ fields: OPTFields, options: [Option] = []) {
        self.fields = fields
        self.options = options
    }

    /// The Client Subnet option, parsed, if present.
    public func clientSubnet() throws(WireError) -> ClientSubnet? {
        guard let option = options.first(where: { $0.code == .clientSubnet }) else { return nil }
        return try withBytes(option.data) { (raw) throws(WireError) in try ClientSubnet.parse(raw) }
    }
}

/// What an OPT record keeps in its CLASS and TTL fields (RFC 6891 section 6.1.3). Plain
/// values, so the query path reads and writes them without touching the heap.
public struct OPTFields: Hashable, Sendable {
    public var udpPayloadSize: UInt16
    public var extendedRCode: UInt8
    public var version: UInt8
    public var dnssecOK: Bool

    /// Octets of an OPT record without options: root owner, type, class, TTL, RDLENGTH.
    @inlinable public static var recordLengthWithoutOptions: Int { 11 }

    @inlinable
    public init(udpPayloadSize: UInt16, extendedRCode: UInt8, version: UInt8, dnssecOK: Bool) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCode = extendedRCode
        self.version = version
        self.dnssecOK = dnssecOK
    }

    /// The fields as read from an OPT record's CLASS and TTL.
    @inlinable
    public init(class: UInt16, ttl: UInt32) {
        self.init(udpPayloadSize: `class`, extendedRCode: UInt8(ttl >> 24), version: UInt8((ttl >> 16) & 0xFF),
                  dnssecOK: ttl & 0x8000 != 0)
    }

    /// What goes in the OPT record's TTL.
    @inlinable public var ttl: UInt32 {
        UInt32(extendedRCode) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0)
    }
}

/// Reads the options of OPT RDATA in place (RFC 6891 section 6.1.2): the query path and
/// `Message.decode` both walk options with it.
public struct EDNSOptionReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var position: Int
    @usableFromInline let end: Int

    /// The options in `bytes[rdata]`.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, rdata: Range<Int>) {
        self.bytes = bytes
        self.position = rdata.lowerBound
        self.end = rdata.upperBound
    }

    /// The next option's code and data, or nil after the last. Throws `badOPT` at the
    /// offset of an option that runs past the end of RDATA.
    @inlinable
    public mutating func next() throws(WireError) -> (code: EDNSOptionCode, data: UnsafeRawBufferPointer)? {
        guard position < end else { return nil }
        guard position + 4 <= end else { throw .badOPT(at: position) }
        let code = UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
        let length = Int(UInt16(bytes[position + 2]) << 8 | UInt16(bytes[position + 3]))
        let dataStart = position + 4
        guard dataStart + length <= end else { throw .badOPT(at: position) }
        position = dataStart + length
        return (EDNSOptionCode(rawValue: code), UnsafeRawBufferPointer(rebasing: bytes[dataStart..<position]))
    }
}

extension MessageWriter {
    /// Writes an OPT record up to its options: root owner, type, `fields` in CLASS and TTL,
    /// and an RDLENGTH of `optionsLength`, the octets of options the caller writes next.
    @inlinable
    public mutating func writeOPT(_ fields: OPTFields, optionsLength: Int) -> Bool {
        writeUInt8(0) && writeUInt16(RRType.opt.rawValue) && writeUInt16(fields.udpPayloadSize)
            && writeUInt32(fields.ttl) && writeUInt16(UInt16(optionsLength))
    }

    /// Writes an option's code and length; its `length` octets of data come next.
    @inlinable
    public mutating func writeOptionHeader(_ code: EDNSOptionCode, length: Int) -> Bool {
        writeUInt16(code.rawValue) && writeUInt16(UInt16(length))
    }
}
