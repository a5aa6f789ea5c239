import MeridianWire

/// Records by reading-order index, as the whole-zone checks read them: a `[ZoneRecord]`, or
/// the columns a loader keeps a large zone in.
public protocol ZoneRecordList: Sendable {
    var count: Int { get }
    /// As written (any case).
    func owner(at index: Int) -> DNSName
    func type(at index: Int) -> RRType
    func rrClass(at index: Int) -> RRClass
    func ttl(at index: Int) -> UInt32
    func position(at index: Int) -> SourcePosition
    /// Calls `body` with the record's RDATA in wire form.
    func withRData<R>(at index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R
    /// Calls `body` with the owner in wire form, lower-cased: what checks and digests compare,
    /// without making a name per record.
    func withLowercasedOwner<R>(at index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R
}

extension Array: ZoneRecordList where Element == ZoneRecord {
    public func owner(at index: Int) -> DNSName { self[index].owner }
    public func type(at index: Int) -> RRType { self[index].type }
    public func rrClass(at index: Int) -> RRClass { self[index].class }
    public func ttl(at index: Int) -> UInt32 { self[index].ttl }
    public func position(at index: Int) -> SourcePosition { self[index].position }
    public func withRData<R>(at index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R { self[index].rdata.withUnsafeBytes(body) }
    public func withLowercasedOwner<R>(at index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        NameKey(self[index].owner).wire.withUnsafeBytes(body)
    }
}

/// Records that passed every whole-zone check. Only `ZoneValidator.validate` makes one, so a zone
/// cannot be built from records that were not validated.
public struct ValidatedZone<Records: ZoneRecordList>: Sendable {
    /// As passed to `validate`.
    public let origin: DNSName
    public let file: String
    public let records: Records
    /// Owners of NS records below the apex (the zone cuts), lower-cased (`DNSName.lowercased`), each once, in order first seen.
    public let cuts: [DNSName]

    /// The records, given up by the zone: a loader that adds to them (the apex's keys) then
    /// holds the only reference and extends them in place.
    public consuming func takeRecords() -> Records { records }
}

/// Every problem found in one or more zone files, each with its FILE:LINE:COL position.
public struct ZoneFileErrors: Error, Sendable {
    public var errors: [ZoneFileError]

    public init(_ errors: [ZoneFileError]) {
        self.errors = errors
    }
}

/// Whole-zone checks after parsing, in the spirit of NSD and named-checkzone: what a zone
/// must contain, which records may share a name, and what may live at or below a
/// delegation. Every problem is reported, each at the record that causes it.
public enum ZoneValidator {
    public static func validate<Records: ZoneRecordList>(_ records: Records, origin: DNSName, file: String) throws(ZoneFileErrors) -> ValidatedZone<Records> {
        var problems = Problems(records: records)
        let contents = ZoneContents(records, apex: origin, problems: &problems)
        checkApex(contents, apex: origin, file: file, problems: &problems)
        checkCoexistence(contents, problems: &problems)
        checkDelegations(contents, problems: &problems)
        let errors = problems.inReadingOrder
        guard errors.isEmpty else { throw ZoneFileErrors(errors) }
        return ValidatedZone(origin: origin, file: file, records: records, cuts: contents.cuts)
    }

    /// The errors `validate` finds, in the same order; empty for a valid zone.
    public static func check(records: some ZoneRecordList, origin: DNSName, file: String) -> [ZoneFileError] {
        do {
            _ = try validate(records, origin: origin, file: file)
            return []
        } catch {
            return error.errors
        }
    }

    /// A zone needs its SOA and NS records at the apex.
    private static func checkApex<Records>(_ contents: ZoneContents, apex: DNSName, file: String, problems: inout Problems<Records>) {
        if contents.soaCount == 0 {
            problems.reportZoneWide("no SOA record at the zone apex \(apex)", file: file)
        }
        if !contents.apexNS {
            problems.reportZoneWide("no NS records at the zone apex \(apex)", file: file)
        }
    }

    /// Records that may not share a name (RFC 2181 section 10.1; DYNC is a CNAME made at
    /// query time, and a DYNA name answers A and AAAA itself).
    private static func checkCoexistence<Records>(_ contents: ZoneContents, problems: inout Problems<Records>) {
        for summary in contents.names.values {
            let name = problems.records.owner(at: summary.owner)
            if summary.cname.first >= 0 {
                if summary.cname.second >= 0 { problems.report("more than one CNAME record at \(name)", summary.cname.second) }
                if summary.otherThanCNAME >= 0 {
                    problems.report("CNAME and other data at \(name)", max(summary.cname.first, summary.otherThanCNAME))
                }
            }
            if summary.dync.first >= 0 && !(summary.cname.first >= 0 && summary.otherThanCNAME >= 0) {
                if summary.dync.second >= 0 { problems.report("more than one DYNC record at \(name)", summary.dync.second) }
                if summary.otherThanDYNC >= 0 {
                    problems.report("DYNC and other data at \(name)", max(summary.dync.first, summary.otherThanDYNC))
                }
            }
            if summary.dyna.first >= 0 {
                if summary.dyna.second >= 0 { problems.report("more than one DYNA record at \(name)", summary.dyna.second) }
                if summary.firstAddress >= 0 {
                    problems.report("DYNA and A/AAAA records at \(name) (a DYNA name answers A and AAAA itself)",
                                    max(summary.dyna.first, summary.firstAddress))
                }
            }
        }
    }

    /// Delegations: at a cut only NS, DS and glue; below it only glue (like NSD).
    private static func checkDelegations<Records>(_ contents: ZoneContents, problems: inout Problems<Records>) {
        guard !contents.cuts.isEmpty else { return }
        for (index, depth) in contents.depths.enumerated() where depth > 0 {
            let owner = problems.records.owner(at: index)
            guard let (cut, atCut) = contents.delegation(containing: NameKey(owner), depth: Int(depth), spelledAs: owner) else { continue }
            let type = problems.records.type(at: index)
            if atCut {
                if ![.ns, .ds, .a, .aaaa, .rrsig, .nsec].contains(type) {
                    problems.report("\(type) record at delegation point \(cut) (only NS, DS and glue allowed)", index)
                }
            } else if type != .a && type != .aaaa {
                problems.report("\(type) record below delegation point \(cut) (only A/AAAA glue allowed)", index)
            }
        }
    }
}

/// Errors keyed by the index of the record they concern (-1: the zone as a whole), so they
/// come out in reading order whichever check found them.
private struct Problems<Records: ZoneRecordList> {
    let records: Records
    private var found: [(index: Int, error: ZoneFileError)] = []

    init(records: Records) {
        self.records = records
    }

    mutating func report(_ message: String, _ index: Int) {
        found.append((index, ZoneFileError(message, at: records.position(at: index))))
    }

    mutating func reportZoneWide(_ message: String, file: String) {
        found.append((-1, ZoneFileError(message, at: SourcePosition(file: file, line: 1, column: 1))))
    }

    var inReadingOrder: [ZoneFileError] {
        found.enumerated()
            .sorted { ($0.element.index, $0.offset) < ($1.element.index, $1.offset) }
            .map(\.element.error)
    }
}

/// What the checks need to know about a zone, gathered in one pass over its records, which
/// also reports what is wrong with single records (class, TTL, place of the owner and SOA).
private struct ZoneContents {
    /// The names that hold a CNAME, DYNC or DYNA record: the only ones the coexistence
    /// rules look at (a zone of a million addresses keeps no summary per name).
    var names: [NameKey: NameSummary] = [:]
    /// Owners of NS records below the apex, lower-cased, in order first seen.
    var cuts: [DNSName] = []
    var cutKeys: Set<NameKey> = []
    var soaCount = 0
    var apexNS = false
    /// Each record's owner's depth below the apex (-1: outside the zone; a name has at most
    /// 127 labels), a byte per record.
    var depths: [Int8] = []

    init<Records>(_ records: Records, apex: DNSName, problems: inout Problems<Records>) {
        let apexKey = NameKey(apex)
        depths.reserveCapacity(records.count)
        // By index and field: binding each record would copy it (three references) a million times.
        for index in 0..<records.count {
            if records.rrClass(at: index) != .in {
                problems.report("only class IN is supported", index)
            }
            let ttl = records.ttl(at: index)
            if ttl > ZoneParser.maxTTL {
                problems.report(ZoneParser.ttlOutOfRange(String(ttl)), index)
            }
            guard let depth = records.withLowercasedOwner(at: index, { NameKey.depth(of: $0, below: apexKey) }) else {
                problems.report("\(records.owner(at: index)) is outside the zone \(apex)", index)
                depths.append(-1)
                continue
            }
            depths.append(Int8(depth))
            let type = records.type(at: index)
            // A key (an array) only for the records a rule looks at by name.
            guard type == .soa || type == .ns || NameSummary.isExclusive(type) else { continue }
            let key = NameKey(lowercasedWire: records.withLowercasedOwner(at: index) { Array($0) })
            noteApexAndCuts(type, at: index, key: key, depth: depth, apex: apex, problems: &problems)
            if NameSummary.isExclusive(type) && names[key] == nil { names[key] = NameSummary(owner: index) }
        }
        guard !names.isEmpty else { return }
        // Most records are at names no rule looks at: a hash of the owner's bytes passes them
        // over without making a key (an array) for each.
        let summarized = Set(names.keys.map { $0.wire.withUnsafeBytes(NameKey.bytesHash) })
        for index in 0..<records.count where depths[index] >= 0 {
            let key = records.withLowercasedOwner(at: index) { owner in
                summarized.contains(NameKey.bytesHash(owner)) ? NameKey(lowercasedWire: Array(owner)) : nil
            }
            if let key { names[key]?.add(records.type(at: index), at: index) }
        }
    }

    /// Counts SOA records (only one, at the apex) and finds NS records at and below the apex.
    private mutating func noteApexAndCuts<Records>(_ type: RRType, at index: Int, key: NameKey, depth: Int, apex: DNSName,
                                                   problems: inout Problems<Records>) {
        switch type {
        case .soa:
            if depth > 0 {
                problems.report("SOA record not at the zone apex \(apex)", index)
            } else {
                soaCount += 1
                if soaCount > 1 { problems.report("more than one SOA record", index) }
            }
        case .ns:
            if depth == 0 {
                apexNS = true
            } else if cutKeys.insert(key).inserted {
                cuts.append(DNSName(uncheckedWire: key.wire))
            }
        default:
            break
        }
    }

    /// The delegation closest to the apex that a name `depth` labels below the apex lies at
    /// or under: the cut as `owner` spells it, and whether the name is the cut itself.
    func delegation(containing key: NameKey, depth: Int, spelledAs owner: DNSName) -> (cut: DNSName, atCut: Bool)? {
        var offsets: [Int] = []
        var offset = 0
        while key.wire[offset] != 0 && offsets.count < depth {
            offsets.append(offset)
            offset += 1 + Int(key.wire[offset])
        }
        for (labels, start) in offsets.enumerated().reversed() where cutKeys.contains(NameKey(lowercasedWire: Array(key.wire[start...]))) {
            return (owner.dropping(labels: labels), start == 0)
        }
        return nil
    }
}

/// What one owner name holds, as far as the coexistence rules care: the first and second
/// record of each exclusive kind and the first record each kind may not share the name with.
private struct NameSummary {
    /// The first record at the name, whose spelling the messages use.
    private(set) var owner: Int

    init(owner: Int) {
        self.owner = owner
    }

    static func isExclusive(_ type: RRType) -> Bool { type == .cname || type == .dync || type == .dyna }

    struct Slot {
        var first = -1
        var second = -1

        mutating func add(_ index: Int) {
            if first < 0 { first = index } else if second < 0 { second = index }
        }
    }

    var cname = Slot()
    var dync = Slot()
    var dyna = Slot()
    /// First record other than CNAME (or DYNC) and DNSSEC data (RRSIG, NSEC).
    var otherThanCNAME = -1
    var otherThanDYNC = -1
    var firstAddress = -1

    /// Adds a record at the name; records are added in reading order.
    mutating func add(_ type: RRType, at index: Int) {
        owner = min(owner, index)
        switch type {
        case .cname: cname.add(index)
        case .dync: dync.add(index)
        case .dyna: dyna.add(index)
        case .a, .aaaa: if firstAddress < 0 { firstAddress = index }
        default: break
        }
        guard type != .rrsig && type != .nsec else { return }
        if type != .cname && otherThanCNAME < 0 { otherThanCNAME = index }
        if type != .dync && otherThanDYNC < 0 { otherThanDYNC = index }
    }
}

/// A name lower-cased for lookups, hashed as one block of bytes (faster than hashing a
/// `DNSName` octet by octet when a zone has a million names).
struct NameKey: Hashable {
    let wire: [UInt8]

    init(_ name: DNSName) {
        // Length octets are at most 63, below "A", so lower-casing the whole wire is safe.
        wire = name.wire.contains { $0 &- 0x41 < 26 } ? name.wire.map(asciiLowercase) : name.wire
    }

    init(lowercasedWire: [UInt8]) {
        wire = lowercasedWire
    }

    func hash(into hasher: inout Hasher) {
        wire.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// A hash of a lower-cased name's bytes, for telling names apart before making a key.
    static func bytesHash(_ wire: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: wire)
        return hasher.finalize()
    }

    static func == (a: NameKey, b: NameKey) -> Bool {
        a.wire == b.wire
    }

    /// How many labels the name has below `apex` (0 at the apex), or nil when it is not
    /// at or below it.
    func depth(below apex: NameKey) -> Int? {
        wire.withUnsafeBytes { Self.depth(of: $0, below: apex) }
    }

    /// `depth(below:)` of a lower-cased name in wire form.
    static func depth(of wire: UnsafeRawBufferPointer, below apex: NameKey) -> Int? {
        let start = wire.count - apex.wire.count
        guard start >= 0 else { return nil }
        var offset = 0
        var labels = 0
        while offset < start {
            offset += 1 + Int(wire[offset])
            labels += 1
        }
        guard offset == start else { return nil }
        let same = apex.wire.withUnsafeBytes { apex in bytesEqual(UnsafeRawBufferPointer(rebasing: wire[start...]), apex) }
        guard same else { return nil }
        return labels
    }
}
