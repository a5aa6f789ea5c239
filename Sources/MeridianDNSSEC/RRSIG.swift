import MeridianWire

/// When signatures hold: RRSIG inception and expiration, seconds since 1970 as RFC 4034
/// writes them (serial-number arithmetic makes the 32-bit wrap harmless).
public struct SignatureWindow: Sendable, Equatable {
    public var inception: UInt32
    public var expiration: UInt32

    public init(inception: UInt32, expiration: UInt32) {
        self.inception = inception
        self.expiration = expiration
    }

    /// The window of signatures made at `now`: from an hour before (clocks of validators
    /// run slow too) to `validity` later. Both ends are rounded down to the hour, so every
    /// node of a fleet signing within the same hour writes the same window, and an Ed25519
    /// signature over the same RRset is the same byte for byte.
    public static func starting(at now: UInt64, validity: UInt64) -> SignatureWindow {
        let hour = now / 3600 * 3600
        return SignatureWindow(inception: UInt32(truncatingIfNeeded: hour - 3600),
                               expiration: UInt32(truncatingIfNeeded: hour + validity))
    }
}

/// RRSIG records over RRsets in canonical form (RFC 4034 sections 3.1.8.1 and 6).
public enum RRSIGBuilder {
    /// The RDATA of an RRSIG over the RRset of `type` at `owner` with `rdatas` (uncompressed
    /// wire RDATA, in any order), signed by `key` of the zone `signer`. `labels` is the owner's
    /// label count without a leading `*` (RFC 4034 section 3.1.3); `nil` computes it.
    public static func rrsig(owner: [UInt8], type: RRType, originalTTL: UInt32, rdatas: [[UInt8]], signer: [UInt8],
                             window: SignatureWindow, key: any DNSSECSigner, labels: UInt8? = nil) -> [UInt8] {
        let lowerOwner = owner.map(asciiLowercase)
        var rdata: [UInt8] = []
        rdata.reserveCapacity(18 + signer.count + 64)
        append16(type.rawValue, to: &rdata)
        rdata.append(key.algorithm.rawValue)
        rdata.append(labels ?? Self.labels(of: lowerOwner))
        append32(originalTTL, to: &rdata)
        append32(window.expiration, to: &rdata)
        append32(window.inception, to: &rdata)
        append16(key.keyTag, to: &rdata)
        rdata += signer.map(asciiLowercase)
        var signed = rdata
        // RFC 4034 section 6.3: RRs in canonical order, which sorts their canonical RDATA as
        // left-justified octet strings; duplicates are one RR.
        let canonical = Set(rdatas.map { canonicalRData(type: type, $0) }).sorted { $0.lexicographicallyPrecedes($1) }
        for item in canonical {
            signed += lowerOwner
            append16(type.rawValue, to: &signed)
            append16(RRClass.in.rawValue, to: &signed)
            append32(originalTTL, to: &signed)
            append16(UInt16(item.count), to: &signed)
            signed += item
        }
        return rdata + key.sign(signed)
    }

    /// The label count RRSIG records: a wildcard's `*` does not count.
    public static func labels(of wire: [UInt8]) -> UInt8 {
        var count = 0
        var offset = 0
        while offset < wire.count, wire[offset] != 0 {
            count += 1
            offset += 1 + Int(wire[offset])
        }
        if wire.count > 2, wire[0] == 1, wire[1] == UInt8(ascii: "*") { count -= 1 }
        return UInt8(count)
    }

    /// RDATA with the domain names of the types RFC 4034 section 6.2 lists (as RFC 6840
    /// section 5.1 trimmed it) in lower case; other RDATA as it is.
    public static func canonicalRData(type: RRType, _ rdata: [UInt8]) -> [UInt8] {
        guard lowercasedTypes.contains(type), let layout = RDataLayout.of(type) else { return rdata }
        var out = rdata
        var offset = 0
        for field in layout.fields {
            guard offset < out.count else { break }
            switch field {
            case .name:
                while offset < out.count, out[offset] != 0 {
                    let length = Int(out[offset])
                    for index in (offset + 1)..<min(out.count, offset + 1 + length) { out[index] = asciiLowercase(out[index]) }
                    offset += 1 + length
                }
                offset += 1
            case .uint8: offset += 1
            case .uint16: offset += 2
            case .uint32, .period: offset += 4
            case .characterString: offset += 1 + Int(out[offset])
            default: return out
            }
        }
        return out
    }

    static let lowercasedTypes: Set<RRType> = [.ns, .cname, .soa, .ptr, .minfo, .mx, .rp, .afsdb, .rt, .naptr, .kx, .srv, .dname]

    private static func append16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    private static func append32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 24))
        bytes.append(UInt8((value >> 16) & 0xFF))
        bytes.append(UInt8((value >> 8) & 0xFF))
        bytes.append(UInt8(value & 0xFF))
    }
}
