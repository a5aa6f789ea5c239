import MeridianWire

/// How the query arrived; it sets the size limit of the answer.
public enum Transport: Sendable {
    case udp
    case tcp
}

/// What happened to one query, for counters and logs.
public struct Outcome: Sendable {
    /// Bytes of response written; 0 means the query is dropped.
    public var length: Int
    public var rcode: RCode
    public var truncated: Bool
    public var authoritative: Bool
    /// The question's type (0 when there was no readable question).
    public var qtype: RRType = RRType(0)
    /// For dynamic answers: the pool and how many edges went into the answer (their
    /// indices are in `ResponderScratch.chosenEdges`).
    public var pool: Int32 = -1
    public var edgesChosen: Int32 = 0
    /// The edge the answer moved away from because it sheds the client's network, or -1.
    public var shedEdge: Int32 = -1
    /// Records in the answer section.
    public var answerCount: UInt16 = 0
    /// The index in the snapshot's zones of the zone that answered; -1 when none did.
    public var zone: Int32 = -1
    /// The answer was synthesised from a wildcard (RFC 4592), somewhere in its CNAME chain.
    public var wildcard = false
    /// The answer is a referral to a delegated child zone.
    public var referral = false
    /// Where the OPT record starts in the response; -1 when the response has none.
    public var optOffset: Int32 = -1
    /// The query carried a server cookie that verified (`cookie == .valid`): the client has
    /// shown it receives what is sent to its address (RFC 7873), so the rate limiter, which
    /// reads this flag, need not doubt it.
    public var hasValidServerCookie: Bool = false
    /// What the query's COOKIE option was, for the cookie counters.
    public var cookie: CookieResult = .absent
    /// The answer carried DNSSEC records (DO set, signed zone).
    public var signed = false
    /// Signatures made for this answer (misses of the thread's signature cache).
    public var signaturesMade: Int32 = 0

    public static let dropped = Outcome(length: 0, rcode: .noError, truncated: false, authoritative: false)
}

/// Working memory for the responder, allocated once per thread or event loop and reused for
/// every query so the query path does not allocate.
public final class ResponderScratch {
    let compression: UnsafeMutablePointer<UInt16>
    static let compressionCapacity = 256
    /// The question name as the client wrote it, and lowercased.
    let qnameOriginal: UnsafeMutableRawBufferPointer
    let qname: UnsafeMutableRawBufferPointer
    /// The current CNAME target, as written and lowercased.
    let targetOriginal: UnsafeMutableRawBufferPointer
    let target: UnsafeMutableRawBufferPointer
    /// RRsets put in the answer section whose targets may need additional records.
    let answered: UnsafeMutablePointer<Int32>
    static let answeredCapacity = 16
    /// Edges chosen for the last dynamic answer.
    public let chosenEdges: UnsafeMutablePointer<UInt16>
    /// Offset of each label of the name being looked up.
    let labelOffsets: UnsafeMutablePointer<Int>
    /// Seconds since the Unix epoch, for server cookies and signature expiry. The caller sets
    /// it from the wall clock before each UDP batch or TCP query, so the responder reads no
    /// clock itself.
    public var unixTime: UInt32 = 0
    /// Signatures this thread made for answers only a query decides (geo answers, names a
    /// wildcard made, denials), so that the next such answer costs a copy.
    let signatureCache = SignatureCache()
    /// How many RRsets the signature cache of each answering thread holds.
    public static let signatureCacheSlots = SignatureCache.slots

    public init() {
        compression = .allocate(capacity: Self.compressionCapacity)
        qnameOriginal = .allocate(byteCount: 256, alignment: 8)
        qname = .allocate(byteCount: 256, alignment: 8)
        targetOriginal = .allocate(byteCount: 256, alignment: 8)
        target = .allocate(byteCount: 256, alignment: 8)
        answered = .allocate(capacity: Self.answeredCapacity)
        chosenEdges = .allocate(capacity: Int(UInt16.max) + 1)
        labelOffsets = .allocate(capacity: 130)
    }

    deinit {
        compression.deallocate()
        qnameOriginal.deallocate()
        qname.deallocate()
        targetOriginal.deallocate()
        target.deallocate()
        answered.deallocate()
        chosenEdges.deallocate()
        labelOffsets.deallocate()
    }
}

/// The one function that answers every query: UDP, TCP, tests and benchmarks all call it.
/// It is pure over its inputs, never throws, and writes into memory the caller reuses.
public enum Responder {
    /// Output size that holds any response (TCP). UDP callers may pass less: what does not
    /// fit is truncated like anything over the client's limit.
    public static let maxResponseSize = 65_535
    /// The smallest output buffer accepted: a classic 512-byte message.
    public static let minimumOutputSize = 512
    /// Classic DNS limit for clients without EDNS (RFC 1035 section 4.2.1).
    static let classicUDPLimit = 512
    /// CNAME hops followed inside a zone before giving up (loops end here too).
    static let maxCNAMEHops = 8

    public static func respond(to query: UnsafeRawBufferPointer, from client: ClientAddress, over transport: Transport,
                               using snapshot: AuthoritySnapshot, scratch: ResponderScratch,
                               into output: UnsafeMutableRawBufferPointer) -> Outcome {
        precondition(output.count >= minimumOutputSize)
        // Anything shorter than a header, or a response, is dropped: there is no one to answer.
        guard query.count >= Header.size else { return .dropped }
        let id = UInt16(query[0]) << 8 | UInt16(query[1])
        let flagsIn = UInt16(query[2]) << 8 | UInt16(query[3])
        guard flagsIn & Header.Flags.qr.rawValue == 0 else { return .dropped }
        let opcode = Opcode(rawValue: UInt8((flagsIn >> 11) & 0x0F))
        let qdCount = UInt16(query[4]) << 8 | UInt16(query[5])
        var request = Request(id: id, opcode: opcode, flags: flagsIn)

        var writer = MessageWriter(buffer: output, limit: maxResponseSize,
                                   compressionTable: scratch.compression, compressionCapacity: ResponderScratch.compressionCapacity)
        guard opcode == .query else {
            return writeError(.notImp, request: request, questionLength: 0, payload: snapshot.udpPayloadSize, writer: &writer, scratch: scratch)
        }
        guard qdCount == 1 else {
            return writeError(.formErr, request: request, questionLength: 0, payload: snapshot.udpPayloadSize, writer: &writer, scratch: scratch)
        }
        var questionLength = 0
        var reader = WireReader(query, offset: Header.size)
        do {
            questionLength = try reader.readName(into: scratch.qnameOriginal)
            request.qtype = RRType(try reader.readUInt16())
            request.qclass = RRClass(try reader.readUInt16())
            try parseRecords(query, reader: &reader, request: &request, readCookie: snapshot.cookieSecrets != nil)
        } catch {
            // Nothing of a malformed query is vouched for: no cookie goes back, and no OPT
            // either, as NSD and Knot answer two OPT records or a malformed option.
            request.edns.cookie = nil
            request.edns.present = false
            if case .badCookie = error { request.edns.cookieResult = .malformed }
            // A name parsed before the failure is still echoed when it parsed completely.
            return writeError(.formErr, request: request, questionLength: request.qclass == nil ? 0 : questionLength, payload: snapshot.udpPayloadSize, writer: &writer, scratch: scratch)
        }
        for index in 0..<questionLength { scratch.qname[index] = asciiLowercase(scratch.qnameOriginal[index]) }
        if request.edns.present && request.edns.fields.version > 0 {
            return writeError(.badVers, request: request, questionLength: questionLength, payload: snapshot.udpPayloadSize, writer: &writer, scratch: scratch)
        }
        // From here on every response echoes the client cookie with a server cookie.
        if var cookie = request.edns.cookie, let secrets = snapshot.cookieSecrets {
            request.edns.cookieResult = ServerCookie.answer(&cookie, from: client, at: scratch.unixTime, secrets: secrets)
            request.edns.cookie = cookie
        }
        // QCLASS ANY is answered from the IN data, the only class served, as Knot does (NSD
        // answers the same records but clears AA). Every other class is refused.
        guard request.qclass == .in || request.qclass == .any else {
            return writeError(.refused, request: request, questionLength: questionLength, payload: snapshot.udpPayloadSize, writer: &writer, scratch: scratch)
        }
        let qname = UnsafeRawBufferPointer(rebasing: scratch.qname[0..<questionLength])
        // Zone transfers are not served. As NSD and Knot answer: AXFR over UDP is not
        // implemented at all (RFC 5936 section 4.2 defines it over TCP only); a transfer of a
        // name that is not a zone's apex is NOTAUTH; one of a zone Meridian serves is
        // REFUSED, a policy refusal, as NSD without provide-xfr gives (Knot says NOTAUTH).
        // MAILA, MAILB and OPT as QTYPE are looked up like any type: no such data.
        // NXNAME is a meta-type of compact denial; asking for it is malformed (RFC 9824 section 3.5).
        if request.qtype == Zone.nxname {
            return writeError(.formErr, request: request, questionLength: questionLength, payload: snapshot.udpPayloadSize, writer: &writer, scratch: scratch)
        }
        if request.qtype == .axfr || request.qtype == .ixfr {
            let rcode: RCode = request.qtype == .axfr && transport == .udp ? .notImp
                : (snapshot.apexes.find(qname) >= 0 ? .refused : .notAuth)
            return writeError(rcode, request: request, questionLength: questionLength, payload: snapshot.udpPayloadSize, writer: &writer, scratch: scratch)
        }
        let zoneIndex = findZone(qname, in: snapshot, parentSideForDS: request.qtype == .ds)
        guard zoneIndex >= 0 else {
            return writeError(.refused, request: request, questionLength: questionLength, payload: snapshot.udpPayloadSize, writer: &writer, scratch: scratch)
        }
        let zone = snapshot.zones[zoneIndex]
        // Signatures past their end are never sent. Re-signing keeps them from getting there;
        // a clock that jumps past it gets SERVFAIL until the re-signing (checked every second)
        // catches up, so that a validating resolver asks another server.
        if request.edns.present, request.edns.fields.dnssecOK, let signatures = zone.signatures, scratch.unixTime >= signatures.expiration {
            return writeError(.servFail, request: request, questionLength: questionLength, payload: snapshot.udpPayloadSize,
                              writer: &writer, scratch: scratch)
        }
        // Whom the answer is for: the ECS network when allowed and given (RFC 7871 7.1.2:
        // source prefix 0 means "use the resolver's address"), else the packet's source.
        var routedClient = client
        if !snapshot.useClientSubnet {
            request.edns.clientSubnet = nil
        } else if let subnet = request.edns.clientSubnet, subnet.sourcePrefix > 0 {
            routedClient = ClientAddress(family: subnet.family == .ipv4 ? .ipv4 : .ipv6, octets: subnet.address)
        }
        writer.limit = responseLimit(request: request, transport: transport, snapshot: snapshot)
        writeHeaderAndQuestion(request: request, questionLength: questionLength, writer: &writer, scratch: scratch)
        var answer = AnswerBuilder(zone: zone, snapshot: snapshot, qtype: request.qtype, client: routedClient, scratch: scratch,
                                   dnssecOK: request.edns.present && request.edns.fields.dnssecOK)
        answer.build(qnameLength: questionLength, writer: &writer)
        var flags = Header.Flags.qr
        if answer.authoritative { flags.insert(.aa) }
        if answer.truncated { flags.insert(.tc) }
        if var subnet = request.edns.clientSubnet {
            // The scope is the network over which this answer holds: 0 for answers that do
            // not depend on the client, and longer than the source prefix when the database
            // splits the source network (RFC 7871 7.2.1): a resolver then keeps the answer for
            // the part that shares it, not for addresses that would get another one.
            subnet.scopePrefix = subnet.sourcePrefix == 0 ? 0 : UInt8(answer.scope)
            request.edns.clientSubnet = subnet
        }
        var outcome = finish(request: request, rcode: answer.rcode, flags: flags, counts: answer.counts,
                             payload: snapshot.udpPayloadSize, writer: &writer)
        outcome.pool = answer.pool
        outcome.edgesChosen = answer.edgesChosen
        outcome.shedEdge = answer.shedEdge
        outcome.zone = Int32(zoneIndex)
        outcome.wildcard = answer.wildcard
        outcome.referral = answer.referral
        outcome.signed = answer.dnssec
        outcome.signaturesMade = Int32(answer.signedNow)
        return outcome
    }

    // MARK: - Reading the rest of the query

    struct EDNSInfo {
        var present = false
        var fields = OPTFields(class: 0, ttl: 0)
        var clientSubnet: ClientSubnet?
        /// The client's COOKIE option, and once checked the one to send back.
        var cookie: CookieOption?
        var cookieResult = CookieResult.absent
    }

    struct Request {
        var id: UInt16
        var opcode: Opcode
        var flags: UInt16
        var qtype = RRType(0)
        var qclass: RRClass?
        var edns = EDNSInfo()

        init(id: UInt16, opcode: Opcode, flags: UInt16) {
            self.id = id
            self.opcode = opcode
            self.flags = flags
        }
    }

    /// Walks answer, authority and additional records of the query to find OPT, checking
    /// that everything is well formed (a readable header with a malformed body is FORMERR).
    /// The COOKIE option is read when cookies are on, and only in EDNS version 0: other
    /// versions get BADVERS, whose options mean nothing yet. Of repeated COOKIE options the
    /// first counts, as RFC 7873 says nothing of repeats and the others could only disagree.
    static func parseRecords(_ query: UnsafeRawBufferPointer, reader: inout WireReader, request: inout Request,
                             readCookie: Bool) throws(WireError) {
        let anCount = Int(UInt16(query[6]) << 8 | UInt16(query[7]))
        let nsCount = Int(UInt16(query[8]) << 8 | UInt16(query[9]))
        let arCount = Int(UInt16(query[10]) << 8 | UInt16(query[11]))
        for index in 0..<(anCount + nsCount + arCount) {
            let nameStart = reader.offset
            try reader.skipName()
            let type = RRType(try reader.readUInt16())
            let rrClass = try reader.readUInt16()
            let ttl = try reader.readUInt32()
            let length = Int(try reader.readUInt16())
            let dataStart = reader.offset
            try reader.skip(length)
            guard type == .opt else { continue }
            // OPT belongs in the additional section, once, owned by the root (RFC 6891 6.1.1).
            guard index >= anCount + nsCount, query[nameStart] == 0 else { throw .badOPT(at: nameStart) }
            guard !request.edns.present else { throw .duplicateOPT }
            request.edns.present = true
            request.edns.fields = OPTFields(class: rrClass, ttl: ttl)
            var options = EDNSOptionReader(query, rdata: dataStart..<(dataStart + length))
            while let option = try options.next() {
                switch option.code {
                case .clientSubnet:
                    guard request.edns.clientSubnet == nil else { throw .badClientSubnet(.repeated) }
                    request.edns.clientSubnet = try ClientSubnet.parse(option.data)
                case .cookie where readCookie && request.edns.cookie == nil && request.edns.fields.version == 0:
                    request.edns.cookie = try CookieOption.parse(option.data)
                default:
                    continue
                }
            }
        }
        guard reader.remaining == 0 else { throw .trailingData(at: reader.offset) }
    }

    // MARK: - Zone selection

    /// The closest enclosing zone: the longest suffix of `qname` that is a zone origin.
    /// DS records live on the parent side of a cut (RFC 4035 section 3.1.4.1), so a DS query
    /// for a zone's apex goes to the parent zone when it is served here too.
    @inline(__always)
    static func findZone(_ qname: UnsafeRawBufferPointer, in snapshot: AuthoritySnapshot, parentSideForDS: Bool) -> Int {
        var offset = 0
        var apexMatch = -1
        while qname.count - offset > snapshot.longestOrigin && qname[offset] != 0 { offset += 1 + Int(qname[offset]) }
        while true {
            let index = snapshot.apexes.find(UnsafeRawBufferPointer(rebasing: qname[offset...]))
            if index >= 0 {
                guard parentSideForDS && offset == 0 && qname[0] != 0 else { return index }
                apexMatch = index
            }
            let length = Int(qname[offset])
            if length == 0 { return apexMatch }
            offset += 1 + length
        }
    }

    // MARK: - Writing

    @inline(__always)
    static func responseLimit(request: Request, transport: Transport, snapshot: AuthoritySnapshot) -> Int {
        guard transport == .udp else { return maxResponseSize }
        guard request.edns.present else { return classicUDPLimit }
        // RFC 6891 6.2.5: values below 512 are treated as 512.
        return min(max(Int(request.edns.fields.udpPayloadSize), classicUDPLimit), snapshot.udpPayloadSize)
            - optLength(request)
    }

    /// Bytes our OPT record takes: reserved so it always fits after the records.
    @inline(__always)
    static func optLength(_ request: Request) -> Int {
        guard request.edns.present else { return 0 }
        return OPTFields.recordLengthWithoutOptions + (request.edns.clientSubnet?.optionLength ?? 0)
            + (request.edns.cookie?.optionLength ?? 0)
    }

    @inline(__always)
    static func writeHeaderAndQuestion(request: Request, questionLength: Int, writer: inout MessageWriter, scratch: ResponderScratch) {
        _ = writer.writeUInt16(request.id)
        _ = writer.writeUInt16(0)
        _ = writer.writeUInt16(questionLength > 0 ? 1 : 0)
        _ = writer.writeUInt16(0)
        _ = writer.writeUInt16(0)
        _ = writer.writeUInt16(0)
        if questionLength > 0 {
            let question = UnsafeRawBufferPointer(rebasing: scratch.qnameOriginal[0..<questionLength])
            _ = writer.writeNameUncompressed(question)
            writer.markQuestion(question)
            _ = writer.writeUInt16(request.qtype.rawValue)
            _ = writer.writeUInt16(request.qclass?.rawValue ?? 1)
        }
    }

    /// Writes a response that carries only a code (and the question when it was readable).
    static func writeError(_ rcode: RCode, request: Request, questionLength: Int, payload: Int,
                           writer: inout MessageWriter, scratch: ResponderScratch) -> Outcome {
        writer.limit = classicUDPLimit
        writeHeaderAndQuestion(request: request, questionLength: questionLength, writer: &writer, scratch: scratch)
        var request = request
        // ECS is echoed only on answers computed for it.
        request.edns.clientSubnet = nil
        return finish(request: request, rcode: rcode, flags: .qr, counts: (0, 0, 0), payload: payload, writer: &writer)
    }

    /// Header flags and counts, then OPT. The OPT space was reserved by the limit.
    @inline(__always)
    static func finish(request: Request, rcode: RCode, flags: Header.Flags, counts: (Int, Int, Int), payload: Int,
                       writer: inout MessageWriter) -> Outcome {
        var additional = counts.2
        var optOffset: Int32 = -1
        if request.edns.present {
            writer.limit = maxResponseSize
            optOffset = Int32(writer.position)
            let fields = OPTFields(udpPayloadSize: UInt16(clamping: payload), extendedRCode: rcode.extendedBits, version: 0,
                                   dnssecOK: request.edns.fields.dnssecOK)
            let subnet = request.edns.clientSubnet
            let cookie = request.edns.cookie
            _ = writer.writeOPT(fields, optionsLength: (subnet?.optionLength ?? 0) + (cookie?.optionLength ?? 0))
            _ = subnet?.write(into: &writer)
            _ = cookie?.write(into: &writer)
            additional += 1
        }
        let opcodeBits = UInt16(request.opcode.rawValue) << 11
        let copied = request.flags & (Header.Flags.rd.rawValue | Header.Flags.cd.rawValue)
        writer.patchUInt16(flags.rawValue | opcodeBits | copied | UInt16(rcode.headerBits), at: 2)
        writer.patchUInt16(UInt16(counts.0), at: 6)
        writer.patchUInt16(UInt16(counts.1), at: 8)
        writer.patchUInt16(UInt16(additional), at: 10)
        var outcome = Outcome(length: writer.position, rcode: rcode, truncated: flags.contains(.tc), authoritative: flags.contains(.aa),
                              qtype: request.qtype, answerCount: UInt16(counts.0), optOffset: optOffset)
        outcome.cookie = request.edns.cookieResult
        outcome.hasValidServerCookie = request.edns.cookieResult == .valid
        return outcome
    }
}
