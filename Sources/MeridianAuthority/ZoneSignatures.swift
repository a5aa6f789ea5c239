import MeridianWire

/// Makes RRSIG RDATA for one zone with its keys: at load for every static RRset, and on
/// first use for what only a query decides (a geo answer, a name a wildcard made, the NSEC
/// that denies a name). The loader implements it with the zone's keys; this module only
/// calls it, so the answering code knows nothing of cryptography.
public protocol RRsetSigner: Sendable {
    /// The zone's name, lower case wire form: the RRSIG signer name.
    var signerName: [UInt8] { get }
    /// One RRSIG RDATA per key over the RRset of `type` at `owner` (lower case wire form)
    /// with `rdatas` (uncompressed wire RDATA).
    func rrsigs(owner: [UInt8], type: RRType, originalTTL: UInt32, rdatas: [[UInt8]]) -> [[UInt8]]
    /// When the signatures made now expire, seconds since 1970.
    var expiration: UInt32 { get }
    /// The tags and algorithms of the keys, for operators.
    var keyDescriptions: [String] { get }
}

/// A signed zone's DNSSEC records made at load: RRSIGs of every authoritative RRset and,
/// per name, the NSEC that proves which types it has (for NODATA answers and for referrals
/// without DS), with its RRSIGs.
public final class ZoneSignatures: Sendable {
    public let signer: any RRsetSigner
    /// Per RRset: its RRSIG RDATAs, `entries[first..<first+count]`; count 0 when unsigned
    /// (dynamic records, data below a cut, the NS of a delegation).
    let rrsetFirst: [Int32]
    let rrsetCount: [Int32]
    /// Per node: the NSEC RDATA entry (-1: none), then its RRSIGs as above.
    let nsec: [Int32]
    let nsecSignatureFirst: [Int32]
    let nsecSignatureCount: [Int32]
    /// RDATA pieces: (offset, length) into `bytes`.
    let entryOffset: [Int32]
    let entryLength: [Int32]
    let bytes: [UInt8]
    /// Signatures made at load.
    public let signatureCount: Int
    public let expiration: UInt32
    /// Tells these signatures apart from every other set in the threads' signature caches;
    /// an object's address can be reused once a reload or a re-signing frees it.
    let cacheIdentity = UInt64.random(in: 1 ... .max)

    init(signer: any RRsetSigner, rrsetFirst: [Int32], rrsetCount: [Int32], nsec: [Int32], nsecSignatureFirst: [Int32],
         nsecSignatureCount: [Int32], entryOffset: [Int32], entryLength: [Int32], bytes: [UInt8], signatureCount: Int) {
        self.signer = signer
        self.rrsetFirst = rrsetFirst
        self.rrsetCount = rrsetCount
        self.nsec = nsec
        self.nsecSignatureFirst = nsecSignatureFirst
        self.nsecSignatureCount = nsecSignatureCount
        self.entryOffset = entryOffset
        self.entryLength = entryLength
        self.bytes = bytes
        self.signatureCount = signatureCount
        self.expiration = signer.expiration
    }
}

extension Zone {
    /// This zone with every authoritative RRset signed by `signer`, and an NSEC per name.
    /// `dynamicTypes` gives the types a DYNA record answers (A, AAAA, or both) by pool index,
    /// for the type bitmaps; DYNC answers CNAME.
    public func signed(by signer: any RRsetSigner, dynamicTypes: (Int32) -> [RRType]) -> Zone {
        var entryOffset: [Int32] = []
        var entryLength: [Int32] = []
        var bytes: [UInt8] = []
        var signatureCount = 0
        func add(_ piece: [UInt8]) -> Int32 {
            entryOffset.append(Int32(bytes.count))
            entryLength.append(Int32(piece.count))
            bytes += piece
            return Int32(entryOffset.count - 1)
        }
        func addSignatures(_ signatures: [[UInt8]]) -> (Int32, Int32) {
            let first = Int32(entryOffset.count)
            for signature in signatures { _ = add(signature) }
            signatureCount += signatures.count
            return (first, Int32(signatures.count))
        }
        var rrsetFirst = [Int32](repeating: 0, count: rrsets.count)
        var rrsetCount = [Int32](repeating: 0, count: rrsets.count)
        var nsec = [Int32](repeating: -1, count: nodes.count)
        var nsecFirst = [Int32](repeating: 0, count: nodes.count)
        var nsecCount = [Int32](repeating: 0, count: nodes.count)
        for (nodeIndex, node) in nodes.enumerated() {
            let owner = names.withName(nodeIndex) { Array($0) }
            let isCut = node.flags.contains(.delegation)
            // Data below a cut (glue) is not ours to sign.
            if node.flags.contains(.belowCut) && !isCut { continue }
            var types: [RRType] = []
            for index in Int(node.firstRRset)..<Int(node.firstRRset + node.rrsetCount) {
                let rrset = rrsets[index]
                switch rrset.type {
                case .dyna:
                    types += dynamicTypes(rrset.pool)
                    continue
                case .dync:
                    types.append(.cname)
                    continue
                default:
                    types.append(rrset.type)
                }
                // At a cut only DS is the parent's (RFC 4035 section 2.2).
                if isCut && rrset.type != .ds { continue }
                let records = (Int(rrset.firstRData)..<Int(rrset.firstRData + rrset.rdataCount)).map { rdataIndex -> [UInt8] in
                    let rdata = rdatas[rdataIndex]
                    return Array(rdataBytes[Int(rdata.offset)..<Int(rdata.offset + rdata.length)])
                }
                (rrsetFirst[index], rrsetCount[index]) = addSignatures(
                    signer.rrsigs(owner: owner, type: rrset.type, originalTTL: rrset.ttl, rdatas: records))
            }
            // A wildcard's own NSEC would deny names it makes; those are answered as they come.
            if owner.count > 2 && owner[0] == 1 && owner[1] == UInt8(ascii: "*") { continue }
            let nsecRData = Self.minimalNSEC(owner: owner, types: types)
            nsec[nodeIndex] = add(nsecRData)
            (nsecFirst[nodeIndex], nsecCount[nodeIndex]) = addSignatures(
                signer.rrsigs(owner: owner, type: .nsec, originalTTL: negativeTTL, rdatas: [nsecRData]))
        }
        let signatures = ZoneSignatures(signer: signer, rrsetFirst: rrsetFirst, rrsetCount: rrsetCount, nsec: nsec,
                                        nsecSignatureFirst: nsecFirst, nsecSignatureCount: nsecCount, entryOffset: entryOffset,
                                        entryLength: entryLength, bytes: bytes, signatureCount: signatureCount)
        return Zone(copying: self, signatures: signatures)
    }

    /// The NSEC at `owner` that covers nothing but the owner (RFC 4470's minimal covering,
    /// as RFC 9824 uses it): next name `\000.owner`, the owner's types plus RRSIG and NSEC.
    public static func minimalNSEC(owner: [UInt8], types: [RRType]) -> [UInt8] {
        var rdata: [UInt8] = [1, 0] + owner.map(asciiLowercase)
        TypeBitmap.append(Set(types).union([.rrsig, .nsec]).map(\.rawValue).sorted(), to: &rdata)
        return rdata
    }

    /// NXNAME (RFC 9824): the pseudo-type in the bitmap of the NSEC denying a name.
    public static let nxname = RRType(128)

    /// The start of a minimal NSEC's next name: the label `\000` before the owner.
    static let nextNamePrefix: [UInt8] = [1, 0]
    /// Bitmaps of the NSEC denying a name (RRSIG, NSEC, NXNAME) and of one for a name a
    /// wildcard made without the type asked (RRSIG, NSEC).
    static let nxnameBitmap = Array(minimalNSEC(owner: [0], types: [nxname]).dropFirst(3))
    static let emptyNameBitmap = Array(minimalNSEC(owner: [0], types: []).dropFirst(3))
}
