import MeridianRouting
import MeridianWire

/// Where a name lands inside one zone (RFC 1034 section 4.3.2, RFC 4592 for wildcards).
enum LookupResult {
    /// The name exists (possibly as an empty non-terminal), or a wildcard matched it.
    case node(Int, wildcard: Bool)
    /// The name is at or below a zone cut: refer to the delegation node.
    case delegation(Int)
    case nxDomain
}

extension Zone {
    /// Looks up a lowercase wire name at or below the origin. `labelOffsets` is scratch
    /// space for the offset of each label.
    @inline(__always)
    func lookup(_ name: UnsafeRawBufferPointer, qtype: RRType, labelOffsets: UnsafeMutablePointer<Int>) -> LookupResult {
        if !hasDelegations {
            let exact = names.find(name)
            if exact >= 0 { return .node(exact, wildcard: false) }
            if !hasWildcards { return .nxDomain }
        }
        var labelCount = 0
        var offset = 0
        while name[offset] != 0 {
            labelOffsets[labelCount] = offset
            labelCount += 1
            offset += 1 + Int(name[offset])
        }
        if labelCount == originLabelCount { return .node(apexNode, wildcard: false) }
        // Walk down from the origin: a zone cut on the way ends the walk with a referral;
        // the deepest existing name is the closest encloser.
        var closest = apexNode
        var depth = originLabelCount + 1
        while depth <= labelCount {
            let suffixStart = labelOffsets[labelCount - depth]
            let node = names.find(UnsafeRawBufferPointer(rebasing: name[suffixStart...]))
            if node < 0 { break }
            let flags = nodes[node].flags
            // DS at a cut belongs to the parent side (RFC 4035 section 3.1.4.1).
            if flags.contains(.delegation) && !(depth == labelCount && qtype == .ds) {
                return .delegation(node)
            }
            closest = node
            if depth == labelCount { return .node(node, wildcard: false) }
            depth += 1
        }
        guard hasWildcards else { return .nxDomain }
        // RFC 4592 section 3.3.1: the source of synthesis is `*.<closest encloser>`.
        let wildcard = names.withName(closest) { encloser -> Int in
            withUnsafeTemporaryAllocation(byteCount: 256, alignment: 8) { buffer in
                buffer[0] = 1
                buffer[1] = UInt8(ascii: "*")
                UnsafeMutableRawBufferPointer(rebasing: buffer[2..<(2 + encloser.count)]).copyMemory(from: encloser)
                return names.find(UnsafeRawBufferPointer(rebasing: buffer[0..<(2 + encloser.count)]))
            }
        }
        return wildcard >= 0 ? .node(wildcard, wildcard: true) : .nxDomain
    }
}

/// Fills the answer, authority and additional sections for a query that landed in `zone`.
struct AnswerBuilder: ~Copyable {
    let zone: Zone
    let snapshot: AuthoritySnapshot
    let qtype: RRType
    /// The address routing decides for (ECS network or packet source).
    let client: ClientAddress
    let scratch: ResponderScratch

    var rcode = RCode.noError
    var authoritative = true
    var truncated = false
    var counts = (0, 0, 0)
    /// ECS scope: prefix length over which a dynamic answer holds; 0 for static data.
    var scope = 0
    /// The pool of a dynamic answer and how many of its edges were used.
    var pool: Int32 = -1
    var edgesChosen: Int32 = 0
    /// The edge a dynamic answer moved away from for load, or -1.
    var shedEdge: Int32 = -1
    /// A name on the way was synthesised from a wildcard.
    var wildcard = false
    /// The answer refers the client to a child zone.
    var referral = false
    /// DO was set and the zone is signed: answers carry RRSIGs and denials NSEC records.
    let dnssec: Bool
    /// Signatures made for this answer rather than taken from the zone's (a miss of the
    /// thread's signature cache).
    var signedNow = 0
    private var answeredCount = 0
    /// The lower case name being answered (the question, then each CNAME target).
    private var currentName = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Length of the question name, written at offset 12.
    private var questionLength = 0

    init(zone: Zone, snapshot: AuthoritySnapshot, qtype: RRType, client: ClientAddress, scratch: ResponderScratch,
         dnssecOK: Bool = false) {
        self.zone = zone
        self.dnssec = dnssecOK && zone.signatures != nil
        self.snapshot = snapshot
        self.qtype = qtype
        self.client = client
        self.scratch = scratch
    }

    mutating func build(qnameLength: Int, writer: inout MessageWriter) {
        questionLength = qnameLength
        // The name being resolved: first the question (owner written as a pointer to it),
        // then each in-zone CNAME target.
        var current = UnsafeRawBufferPointer(rebasing: scratch.qname[0..<qnameLength])
        var owner = UnsafeRawBufferPointer(rebasing: scratch.qnameOriginal[0..<qnameLength])
        var negative = false
        var referral = -1
        var hop = 0
        // The name that exists but lacks the type (NODATA), for its NSEC.
        var noDataNode = -1
        var synthesisedNode = false
        resolution: while true {
            currentName = current
            switch zone.lookup(current, qtype: qtype, labelOffsets: scratch.labelOffsets) {
            case .nxDomain:
                // RFC 6604: after a CNAME the code describes the last name in the chain.
                rcode = .nxDomain
                negative = true
                break resolution
            case .delegation(let node):
                if hop == 0 { authoritative = false }
                referral = node
                break resolution
            case .node(let node, let synthesised):
                if synthesised { wildcard = true }
                synthesisedNode = synthesised
                // Dynamic names: DYNC answers every type with a CNAME to the chosen edge;
                // DYNA answers A and AAAA (and ANY, minimally, with A) from its pool.
                let dync = zone.rrset(of: node, type: .dync)
                if dync >= 0 {
                    writeDynamic(rrset: dync, node: synthesised ? -1 : node, kind: .cname, owner: owner, writer: &writer)
                    break resolution
                }
                if qtype == .a || qtype == .aaaa || qtype == .any {
                    let dyna = zone.rrset(of: node, type: .dyna)
                    if dyna >= 0 {
                        writeDynamic(rrset: dyna, node: synthesised ? -1 : node, kind: qtype == .aaaa ? .ipv6 : .ipv4, owner: owner,
                                     writer: &writer)
                        break resolution
                    }
                }
                let exact = qtype == .any ? firstRRset(of: node)
                    : (qtype == .dyna || qtype == .dync) ? -1 : zone.rrset(of: node, type: qtype)
                if exact >= 0 {
                    guard writeAnswer(rrset: exact, owner: owner, writer: &writer, synthesised: synthesised) else { return }
                    break resolution
                }
                let cname = zone.rrset(of: node, type: .cname)
                guard cname >= 0 else {
                    negative = true
                    noDataNode = node
                    break resolution
                }
                // A CNAME loop: the chain so far is the answer (RFC 1034 section 3.6.2).
                if alreadyAnswered(cname) { break resolution }
                guard writeAnswer(rrset: cname, owner: owner, writer: &writer, synthesised: synthesised) else { return }
                hop += 1
                // Follow the target only inside this zone; outside it belongs to the resolver.
                let rdata = zone.rdatas[Int(zone.rrsets[cname].firstRData)]
                let length = Int(rdata.length)
                zone.rdataBytes.withUnsafeBytes { bytes in
                    let start = Int(rdata.offset)
                    for index in 0..<length {
                        scratch.targetOriginal[index] = bytes[start + index]
                        scratch.target[index] = asciiLowercase(bytes[start + index])
                    }
                }
                current = UnsafeRawBufferPointer(rebasing: scratch.target[0..<length])
                owner = UnsafeRawBufferPointer(rebasing: scratch.targetOriginal[0..<length])
                guard hop < Responder.maxCNAMEHops, isInZone(current) else { break resolution }
            }
        }
        if rcode == .servFail { return }
        if negative {
            writeSOA(writer: &writer)
            if dnssec && !truncated { writeDenial(node: synthesisedNode ? -1 : noDataNode, writer: &writer) }
        } else if referral >= 0 {
            self.referral = true
            writeReferral(node: referral, writer: &writer)
            return
        }
        writeAdditional(writer: &writer)
    }

    private func alreadyAnswered(_ rrset: Int) -> Bool {
        for index in 0..<answeredCount where scratch.answered[index] == Int32(rrset) { return true }
        return false
    }

    /// ANY is answered minimally (RFC 8482 section 4.1): one RRset of the name.
    private func firstRRset(of node: Int) -> Int {
        let entry = zone.nodes[node]
        for index in Int(entry.firstRRset)..<Int(entry.firstRRset + entry.rrsetCount) {
            let type = zone.rrsets[index].type
            if type != .dyna && type != .dync { return index }
        }
        return -1
    }

    /// Answers from a pool: the first healthy edges nearest to the client that do not shed
    /// its network. TTL is halved when a nearer edge was passed over as down, so clients
    /// return to it soon after it recovers (INTERFACE.md), and is the pool's `load_ttl` when
    /// one was passed over for load. A pool whose edges lack the asked family gives NODATA.
    private mutating func writeDynamic(rrset index: Int, node: Int, kind: AnswerKind, owner: UnsafeRawBufferPointer,
                                       writer: inout MessageWriter) {
        let rrset = zone.rrsets[index]
        let routing = snapshot.routing
        let pool = Int(rrset.pool)
        guard pool >= 0 else {
            rcode = .servFail
            return
        }
        let decision = routing.route(pool: pool, client: client)
        scope = decision.scope
        let selection = routing.select(pool: pool, list: decision.list, kind: kind, health: snapshot.health, client: client,
                                       into: scratch.chosenEdges)
        // An answer that depends on the shed hash holds for the hashed network at most:
        // resolvers must not hand one network's shed decision to its neighbours.
        if selection.loadDependent { scope = max(scope, routing.shedPrefix(pool: pool, family: client.family)) }
        if selection.servfail {
            rcode = .servFail
            return
        }
        guard selection.count > 0 else {
            writeSOA(writer: &writer)
            if dnssec && !truncated { writeDenial(node: node, writer: &writer) }
            return
        }
        var ttl = selection.skippedNearer ? max(1, rrset.ttl / 2) : rrset.ttl
        if selection.shedNearer {
            let loadTTL = routing.answerData.poolLoadTTL[pool]
            ttl = min(ttl, loadTTL >= 0 ? UInt32(loadTTL) : max(1, rrset.ttl / 2))
        }
        let mark = writer.mark
        let data = routing.answerData
        let chosen = scratch.chosenEdges
        let type = kind == .cname ? RRType.cname : (kind == .ipv4 ? RRType.a : RRType.aaaa)
        let size = kind == .ipv4 ? 4 : 16
        var written = 0
        let fits = data.bytes.withUnsafeBytes { bytes -> Bool in
            for position in 0..<selection.count {
                let edge = Int(chosen[position])
                let (start, count) = data.records(of: edge, kind)
                for record in 0..<count {
                    guard writer.writeName(owner), writer.writeUInt16(type.rawValue), writer.writeUInt16(RRClass.in.rawValue),
                          writer.writeUInt32(ttl) else { return false }
                    if kind == .cname {
                        let target = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + data.cnameLength(of: edge))])
                        guard writer.writeRData(target, type: .cname, layout: RDataLayout.of(.cname)) else { return false }
                    } else {
                        let address = UnsafeRawBufferPointer(rebasing: bytes[(start + record * size)..<(start + (record + 1) * size)])
                        guard writer.writeUInt16(UInt16(size)), writer.writeBytes(address) else { return false }
                    }
                    written += 1
                }
            }
            return true
        }
        guard fits else {
            writer.rollBack(to: mark)
            truncated = true
            return
        }
        counts.0 += written
        if dnssec {
            let cache = scratch.signatureCache
            cache.begin(zone: zone, owner: currentName, type: type, ttl: rrset.ttl)
            data.bytes.withUnsafeBytes { bytes in
                for position in 0..<selection.count {
                    let edge = Int(chosen[position])
                    let (start, count) = data.records(of: edge, kind)
                    if kind == .cname {
                        cache.append(rdata: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + data.cnameLength(of: edge))]))
                    } else {
                        for record in 0..<count {
                            cache.append(rdata: UnsafeRawBufferPointer(rebasing: bytes[(start + record * size)..<(start + (record + 1) * size)]))
                        }
                    }
                }
            }
            guard writeCachedSignatures(type: type, originalTTL: rrset.ttl, owner: owner, ttl: ttl, section: 0, writer: &writer) else {
                return
            }
        }
        self.pool = Int32(pool)
        edgesChosen = Int32(selection.count)
        shedEdge = selection.shedEdge
    }

    private func isInZone(_ name: UnsafeRawBufferPointer) -> Bool {
        let origin = zone.origin.wire
        guard name.count >= origin.count else { return false }
        let start = name.count - origin.count
        // The suffix must start on a label boundary.
        var offset = 0
        while offset < start { offset += 1 + Int(name[offset]) }
        guard offset == start else { return false }
        return origin.withUnsafeBytes { memcmpEqual($0.baseAddress!, name.baseAddress! + start, origin.count) }
    }

    /// Writes one RRset to the answer section (with its RRSIGs when signing); on overflow
    /// sets TC and returns false. An RRset a wildcard made is signed for the name asked, as
    /// if it existed, so it needs no proof that the name does not.
    private mutating func writeAnswer(rrset: Int, owner: UnsafeRawBufferPointer, writer: inout MessageWriter,
                                      synthesised: Bool = false) -> Bool {
        guard let written = writeRRset(rrset, owner: owner, ttl: zone.rrsets[rrset].ttl, writer: &writer) else {
            truncated = true
            return false
        }
        counts.0 += written
        if dnssec {
            let ttl = zone.rrsets[rrset].ttl
            let ok = synthesised
                ? writeOnlineSignatures(rrset: rrset, owner: owner, ttl: ttl, section: 0, writer: &writer)
                : writeStoredSignatures(of: rrset, owner: owner, ttl: ttl, section: 0, writer: &writer)
            guard ok else { return false }
        }
        if answeredCount < ResponderScratch.answeredCapacity {
            scratch.answered[answeredCount] = Int32(rrset)
            answeredCount += 1
        }
        return true
    }

    /// Writes a whole RRset or nothing; returns the number of records written.
    private func writeRRset(_ index: Int, owner: UnsafeRawBufferPointer, ttl: UInt32, writer: inout MessageWriter) -> Int? {
        let rrset = zone.rrsets[index]
        let mark = writer.mark
        let layout = RDataLayout.of(rrset.type)
        let ok = zone.rdataBytes.withUnsafeBytes { bytes -> Bool in
            for rdataIndex in Int(rrset.firstRData)..<Int(rrset.firstRData + rrset.rdataCount) {
                let rdata = zone.rdatas[rdataIndex]
                let start = Int(rdata.offset)
                guard writer.writeName(owner),
                      writer.writeUInt16(rrset.type.rawValue),
                      writer.writeUInt16(RRClass.in.rawValue),
                      writer.writeUInt32(ttl),
                      writer.writeRData(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(rdata.length))]),
                                        type: rrset.type, layout: layout)
                else { return false }
            }
            return true
        }
        guard ok else {
            writer.rollBack(to: mark)
            return nil
        }
        return Int(rrset.rdataCount)
    }

    /// NXDOMAIN and NODATA carry the SOA, with the negative-caching TTL (RFC 2308 section 3).
    private mutating func writeSOA(writer: inout MessageWriter) {
        let originLength = zone.origin.wire.count
        if let soa = zone.negativeSOA, questionLength >= originLength, !questionSharesLabel(aboveOrigin: soa.labelsAboveOrigin) {
            // The question ends in the origin (its zone was found that way).
            let pointer = 0xC000 | UInt16(Header.size + questionLength - originLength)
            let start = writer.position
            let mark = writer.mark
            guard writer.writeUInt16(pointer), soa.bytes.withUnsafeBytes({ writer.writeBytes($0) }) else {
                writer.rollBack(to: mark)
                truncated = true
                return
            }
            writer.patchUInt16(pointer, at: start + 2 + soa.pointers.0)
            writer.patchUInt16(pointer, at: start + 2 + soa.pointers.1)
            counts.1 += 1
            if dnssec {
                _ = zone.origin.wire.withUnsafeBytes { origin in
                    writeStoredSignatures(of: zone.soaRRset, owner: origin, ttl: zone.negativeTTL, section: 1, writer: &writer)
                }
            }
            return
        }
        let written = zone.origin.wire.withUnsafeBytes { origin in
            writeRRset(zone.soaRRset, owner: origin, ttl: zone.negativeTTL, writer: &writer)
        }
        if let written {
            counts.1 += written
            if dnssec {
                _ = zone.origin.wire.withUnsafeBytes { origin in
                    writeStoredSignatures(of: zone.soaRRset, owner: origin, ttl: zone.negativeTTL, section: 1, writer: &writer)
                }
            }
        } else {
            truncated = true
        }
    }

    // MARK: DNSSEC

    /// Writes RRSIGs over a zone RRset answered for a name a wildcard made: signed for that
    /// name.
    private mutating func writeOnlineSignatures(rrset index: Int, owner: UnsafeRawBufferPointer, ttl: UInt32, section: Int,
                                                writer: inout MessageWriter) -> Bool {
        let rrset = zone.rrsets[index]
        let cache = scratch.signatureCache
        cache.begin(zone: zone, owner: currentName, type: rrset.type, ttl: rrset.ttl)
        zone.rdataBytes.withUnsafeBytes { bytes in
            for rdataIndex in Int(rrset.firstRData)..<Int(rrset.firstRData + rrset.rdataCount) {
                let rdata = zone.rdatas[rdataIndex]
                cache.append(rdata: UnsafeRawBufferPointer(rebasing: bytes[Int(rdata.offset)..<Int(rdata.offset + rdata.length)]))
            }
        }
        return writeCachedSignatures(type: rrset.type, originalTTL: rrset.ttl, owner: owner, ttl: ttl, section: section, writer: &writer)
    }

    /// Writes RRSIGs over the RRset just given to the thread's signature cache, for the name
    /// being answered: from the cache, or made now and kept there. On overflow rolls back,
    /// sets TC and returns false.
    private mutating func writeCachedSignatures(type: RRType, originalTTL: UInt32, owner: UnsafeRawBufferPointer, ttl: UInt32,
                                                section: Int, writer: inout MessageWriter) -> Bool {
        guard let signatures = zone.signatures else { return true }
        let cache = scratch.signatureCache
        if !cache.lookup() {
            let made = signatures.signer.rrsigs(owner: cache.owner, type: type, originalTTL: originalTTL, rdatas: cache.rdatas)
            signedNow += made.count
            cache.store(made)
        }
        let mark = writer.mark
        let written = cache.withSignatures { stored -> Int? in
            var offset = 0
            var count = 0
            while offset + 2 <= stored.count {
                let length = Int(stored[offset]) << 8 | Int(stored[offset + 1])
                guard writer.writeName(owner), writer.writeUInt16(RRType.rrsig.rawValue), writer.writeUInt16(RRClass.in.rawValue),
                      writer.writeUInt32(ttl), writer.writeUInt16(UInt16(length)),
                      writer.writeBytes(UnsafeRawBufferPointer(rebasing: stored[(offset + 2)..<(offset + 2 + length)])) else { return nil }
                offset += 2 + length
                count += 1
            }
            return count
        }
        guard let written else {
            writer.rollBack(to: mark)
            truncated = true
            return false
        }
        addCount(written, section: section)
        return true
    }

    /// The RRSIGs the zone holds for `rrset`.
    private mutating func writeStoredSignatures(of rrset: Int, owner: UnsafeRawBufferPointer, ttl: UInt32, section: Int,
                                                writer: inout MessageWriter) -> Bool {
        guard let signatures = zone.signatures else { return true }
        let first = Int(signatures.rrsetFirst[rrset])
        return writeEntries(signatures, first: first, count: Int(signatures.rrsetCount[rrset]), owner: owner, type: .rrsig, ttl: ttl,
                            section: section, writer: &writer)
    }

    /// RDATA entries of `signatures` as records of `type` at `owner`; on overflow rolls back,
    /// sets TC and returns false (RFC 4035 section 3.1.1: signatures that do not fit truncate).
    private mutating func writeEntries(_ signatures: ZoneSignatures, first: Int, count: Int, owner: UnsafeRawBufferPointer, type: RRType,
                                       ttl: UInt32, section: Int, writer: inout MessageWriter) -> Bool {
        guard count > 0 else { return true }
        let mark = writer.mark
        let ok = signatures.bytes.withUnsafeBytes { bytes -> Bool in
            for entry in first..<(first + count) {
                let start = Int(signatures.entryOffset[entry])
                let length = Int(signatures.entryLength[entry])
                guard writer.writeName(owner), writer.writeUInt16(type.rawValue), writer.writeUInt16(RRClass.in.rawValue),
                      writer.writeUInt32(ttl), writer.writeUInt16(UInt16(length)),
                      writer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])) else { return false }
            }
            return true
        }
        guard ok else {
            writer.rollBack(to: mark)
            truncated = true
            return false
        }
        addCount(count, section: section)
        return true
    }

    private mutating func addCount(_ count: Int, section: Int) {
        switch section {
        case 0: counts.0 += count
        case 1: counts.1 += count
        default: counts.2 += count
        }
    }

    /// The proof of a negative answer, after its SOA. NODATA at a name the zone holds: the
    /// name's NSEC, made at load. Otherwise compact denial (RFC 9824): an NSEC at the name
    /// asked whose bitmap holds NXNAME for a name that does not exist (the answer is then
    /// NOERROR, as it must be for DO clients), or only RRSIG and NSEC for a name a wildcard
    /// made without the type.
    private mutating func writeDenial(node: Int, writer: inout MessageWriter) {
        guard let signatures = zone.signatures else { return }
        let owner = currentName
        if node >= 0, signatures.nsec[node] >= 0 {
            let entry = Int(signatures.nsec[node])
            guard writeEntries(signatures, first: entry, count: 1, owner: owner, type: .nsec, ttl: zone.negativeTTL, section: 1,
                               writer: &writer) else { return }
            _ = writeEntries(signatures, first: Int(signatures.nsecSignatureFirst[node]), count: Int(signatures.nsecSignatureCount[node]),
                             owner: owner, type: .rrsig, ttl: zone.negativeTTL, section: 1, writer: &writer)
            return
        }
        // NSEC RDATA: next name `\000.owner`, then the fixed bitmap; written and keyed in
        // pieces, so a denial the thread signed before allocates nothing.
        let nonexistent = rcode == .nxDomain
        let bitmap = nonexistent ? Zone.nxnameBitmap : Zone.emptyNameBitmap
        let length = 2 + owner.count + bitmap.count
        let mark = writer.mark
        let written = bitmap.withUnsafeBytes { bitmapBytes in
            Zone.nextNamePrefix.withUnsafeBytes { prefix in
                writer.writeName(owner) && writer.writeUInt16(RRType.nsec.rawValue) && writer.writeUInt16(RRClass.in.rawValue)
                    && writer.writeUInt32(zone.negativeTTL) && writer.writeUInt16(UInt16(length)) && writer.writeBytes(prefix)
                    && writer.writeBytes(owner) && writer.writeBytes(bitmapBytes)
            }
        }
        guard written else {
            writer.rollBack(to: mark)
            truncated = true
            return
        }
        counts.1 += 1
        let cache = scratch.signatureCache
        cache.begin(zone: zone, owner: owner, type: .nsec, ttl: zone.negativeTTL)
        bitmap.withUnsafeBytes { bitmapBytes in
            Zone.nextNamePrefix.withUnsafeBytes { prefix in cache.append(rdataPieces: prefix, owner, bitmapBytes) }
        }
        guard writeCachedSignatures(type: .nsec, originalTTL: zone.negativeTTL, owner: owner, ttl: zone.negativeTTL, section: 1,
                                    writer: &writer) else { return }
        if nonexistent { rcode = .noError }
    }

    /// Whether the question's label just above the zone's origin is one of `labels`.
    private func questionSharesLabel(aboveOrigin labels: ([UInt8], [UInt8])) -> Bool {
        let apex = questionLength - zone.origin.wire.count
        guard apex > 0 else { return false }
        var offset = 0
        while offset + 1 + Int(scratch.qname[offset]) < apex { offset += 1 + Int(scratch.qname[offset]) }
        let label = UnsafeRawBufferPointer(rebasing: scratch.qname[offset..<apex])
        return label.elementsEqual(labels.0) || label.elementsEqual(labels.1)
    }

    /// A referral: the cut's NS RRset in authority and the addresses of its name servers
    /// that this zone holds (glue) in additional. Without the glue the referral is useless,
    /// so glue that does not fit sets TC (RFC 9471).
    private mutating func writeReferral(node: Int, writer: inout MessageWriter) {
        let ns = zone.rrset(of: node, type: .ns)
        let written = zone.names.withName(node) { name in writeRRset(ns, owner: name, ttl: zone.rrsets[ns].ttl, writer: &writer) }
        guard let written else {
            truncated = true
            return
        }
        counts.1 += written
        // Signed referrals: the DS RRset and its RRSIGs, or the cut's NSEC proving there is
        // no DS (RFC 4035 section 3.1.4).
        if dnssec, let signatures = zone.signatures {
            let ds = zone.rrset(of: node, type: .ds)
            let ok = zone.names.withName(node) { name -> Bool in
                if ds >= 0 {
                    guard let dsWritten = writeRRset(ds, owner: name, ttl: zone.rrsets[ds].ttl, writer: &writer) else {
                        truncated = true
                        return false
                    }
                    counts.1 += dsWritten
                    return writeStoredSignatures(of: ds, owner: name, ttl: zone.rrsets[ds].ttl, section: 1, writer: &writer)
                }
                guard signatures.nsec[node] >= 0 else { return true }
                return writeEntries(signatures, first: Int(signatures.nsec[node]), count: 1, owner: name, type: .nsec,
                                    ttl: zone.negativeTTL, section: 1, writer: &writer)
                    && writeEntries(signatures, first: Int(signatures.nsecSignatureFirst[node]),
                                    count: Int(signatures.nsecSignatureCount[node]), owner: name, type: .rrsig,
                                    ttl: zone.negativeTTL, section: 1, writer: &writer)
            }
            guard ok else { return }
        }
        if !addAddresses(forTargetsOf: ns, writer: &writer) { truncated = true }
    }

    /// A/AAAA of in-zone targets of the answer's NS, MX and SRV records (RFC 1035 3.3, RFC 2782).
    /// Data below a zone cut is not ours to give as an answer's extra.
    private mutating func writeAdditional(writer: inout MessageWriter) {
        for index in 0..<answeredCount {
            _ = addAddresses(forTargetsOf: Int(scratch.answered[index]), writer: &writer, authoritativeOnly: true)
        }
    }

    /// Returns false when something did not fit.
    private mutating func addAddresses(forTargetsOf rrsetIndex: Int, writer: inout MessageWriter, authoritativeOnly: Bool = false) -> Bool {
        let rrset = zone.rrsets[rrsetIndex]
        for rdataIndex in Int(rrset.firstRData)..<Int(rrset.firstRData + rrset.rdataCount) {
            let target = Int(zone.rdatas[rdataIndex].additionalNode)
            guard target >= 0 else { continue }
            if authoritativeOnly && zone.nodes[target].flags.contains(.belowCut) { continue }
            for family in 0..<2 {
                let set = zone.rrset(of: target, type: family == 0 ? .a : .aaaa)
                guard set >= 0 else { continue }
                let ok = zone.names.withName(target) { name -> Bool in
                    guard let written = writeRRset(set, owner: name, ttl: zone.rrsets[set].ttl, writer: &writer) else { return false }
                    counts.2 += written
                    // Authoritative additional data goes with its RRSIGs (RFC 4035 section 3.1.1); glue has none.
                    guard dnssec, !zone.nodes[target].flags.contains(.belowCut) else { return true }
                    let mark = writer.mark
                    let wasTruncated = truncated
                    if !writeStoredSignatures(of: set, owner: name, ttl: zone.rrsets[set].ttl, section: 2, writer: &writer) {
                        // Signatures of extra data that do not fit are left out, not truncated for.
                        writer.rollBack(to: mark)
                        truncated = wasTruncated
                    }
                    return true
                }
                guard ok else { return false }
            }
        }
        return true
    }
}

extension AuthoritySnapshot {
    /// The zone that answers for `name` (the deepest origin it is under), as the responder
    /// finds it; nil when none is served here.
    public func zone(answering name: DNSName) -> Zone? {
        let index = name.lowercased.wire.withUnsafeBytes { Responder.findZone($0, in: self, parentSideForDS: false) }
        return index >= 0 ? zones[index] : nil
    }

    /// The pool behind a dynamic name (DYNA or DYNC, including through a wildcard), for
    /// `dnsctl explain`; nil when the name is static or not served here.
    public func dynamicRecord(for name: DNSName) -> (pool: Int, type: RRType)? {
        let wire = name.lowercased.wire
        return wire.withUnsafeBytes { qname -> (Int, RRType)? in
            let zoneIndex = Responder.findZone(qname, in: self, parentSideForDS: false)
            guard zoneIndex >= 0 else { return nil }
            let zone = zones[zoneIndex]
            let offsets = UnsafeMutablePointer<Int>.allocate(capacity: 130)
            defer { offsets.deallocate() }
            guard case .node(let node, _) = zone.lookup(qname, qtype: .a, labelOffsets: offsets) else { return nil }
            for type in [RRType.dync, RRType.dyna] {
                let rrset = zone.rrset(of: node, type: type)
                if rrset >= 0, zone.rrsets[rrset].pool >= 0 { return (Int(zone.rrsets[rrset].pool), type) }
            }
            return nil
        }
    }
}
