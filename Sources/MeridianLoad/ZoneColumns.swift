import MeridianAuthority
import MeridianWire
import MeridianZoneFile

/// A zone's records between reading and building, one array per field. Owners are numbered
/// in the zone's own name table as they are read, so each name is stored once, in the table
/// the responder will use. That is about 20 bytes a record besides its RDATA, where a
/// `ZoneRecord` with its own owner and RDATA arrays costs some 170: a reload builds the new
/// zone beside the one being served, and this is what it holds on top of both.
struct ZoneColumns: ZoneRecordSink, ZoneRecordList {
    private(set) var names: NameTable.Builder
    /// Per record, in reading order: its owner's entry in `names`, type, TTL, where its RDATA
    /// ends in `rdataBytes` (it starts where the previous record's ends), and its line and
    /// column (a column past 65,535 is kept as 65,535).
    private(set) var nodes: [Int32] = []
    private(set) var types: [RRType] = []
    private(set) var ttls: [UInt32] = []
    private var rdataEnds: [UInt32] = []
    private(set) var rdataBytes: [UInt8] = []
    private var lines: [Int32] = []
    private var textColumns: [UInt16] = []
    /// The files records came from (`$INCLUDE`), each with the first record read from it.
    private var files: [(first: Int, name: String)] = []
    /// How each owner was written, for messages (`names` keeps owners lower-cased): bit `i`
    /// of a record's word is set when octet `i` of its owner is a capital. Empty until an owner
    /// has one, then eight bytes a record; owners with capitals past the 64th octet are kept
    /// whole.
    private var ownerCapitals: [UInt64] = []
    private var longSpelledOwners: [Int: DNSName] = [:]
    /// Classes other than IN, by record: the parser gives none, but a `ZoneRecord` may hold one.
    private var otherClasses: [Int: RRClass] = [:]
    private var lastOwner: [UInt8] = []
    private var lastCapitals: UInt64 = 0
    /// Where a new owner is lower-cased (a name is at most 255 octets).
    private var scratch = [UInt8](repeating: 0, count: 255)
    private var lastNode: Int32 = 0
    private let originLabels: Int

    init(origin: DNSName) {
        originLabels = origin.labelCount
        var names = NameTable.Builder()
        _ = origin.lowercased.wire.withUnsafeBytes { names.insert($0) }
        self.names = names
    }

    /// From the types, which stay until the zone is laid out (the owners go once records are grouped).
    var count: Int { types.count }

    mutating func add(_ record: ZoneRecord) {
        let index = nodes.count
        let owner = record.owner.wire
        if owner != lastOwner {
            lastNode = number(owner)
            lastOwner = owner
            lastCapitals = 0
            for (octet, byte) in owner.enumerated() where byte &- 0x41 < 26 {
                if octet < 64 { lastCapitals |= 1 << UInt64(octet) } else { longSpelledOwners[index] = record.owner }
            }
        } else if !longSpelledOwners.isEmpty, let spelled = longSpelledOwners[index - 1] {
            longSpelledOwners[index] = spelled
        }
        if lastCapitals != 0 && ownerCapitals.isEmpty { ownerCapitals = [UInt64](repeating: 0, count: index) }
        if !ownerCapitals.isEmpty { ownerCapitals.append(lastCapitals) }
        if record.class != .in { otherClasses[index] = record.class }
        nodes.append(lastNode)
        types.append(record.type)
        ttls.append(record.ttl)
        rdataBytes.append(contentsOf: record.rdata)
        rdataEnds.append(UInt32(rdataBytes.count))
        lines.append(Int32(clamping: record.position.line))
        textColumns.append(UInt16(clamping: record.position.column))
        if files.last?.name != record.position.file { files.append((index, record.position.file)) }
    }

    /// The owner's entry in `names`, adding it and every name between it and the origin (the
    /// empty non-terminals) when it is new.
    private mutating func number(_ owner: [UInt8]) -> Int32 {
        let originLabels = originLabels
        return scratch.withUnsafeMutableBytes { scratch in
            let name = UnsafeRawBufferPointer(rebasing: scratch[0..<Self.lowercase(owner, into: scratch)])
            let entry = names.insert(name)
            if entry.inserted {
                var labels = DNSName(uncheckedWire: owner).labelCount
                var start = 0
                while labels > originLabels + 1 {
                    start += 1 + Int(name[start])
                    labels -= 1
                    if !names.insert(UnsafeRawBufferPointer(rebasing: name[start...])).inserted { break }
                }
            }
            return Int32(entry.index)
        }
    }

    /// Lower-cases a wire-form name into `scratch` (length octets are below "A"); returns its length.
    static func lowercase(_ wire: some Collection<UInt8>, into scratch: UnsafeMutableRawBufferPointer) -> Int {
        for (index, byte) in wire.enumerated() { scratch[index] = asciiLowercase(byte) }
        return wire.count
    }

    /// Lets go of what only the checks' messages need (positions, spellings), before the zone
    /// is laid out.
    mutating func dropPositions() {
        lines = []
        textColumns = []
        ownerCapitals = []
        longSpelledOwners = [:]
    }

    /// Lets go of the owners once records are grouped by them.
    mutating func dropNodes() {
        nodes = []
    }

    // MARK: ZoneRecordList

    func owner(at index: Int) -> DNSName {
        if let spelled = longSpelledOwners[index] { return spelled }
        var wire = names.withName(Int(nodes[index])) { Array($0) }
        var capitals = index < ownerCapitals.count ? ownerCapitals[index] : 0
        while capitals != 0 {
            wire[capitals.trailingZeroBitCount] -= 0x20
            capitals &= capitals - 1
        }
        return DNSName(uncheckedWire: wire)
    }

    func type(at index: Int) -> RRType { types[index] }
    func rrClass(at index: Int) -> RRClass { otherClasses[index] ?? .in }
    func ttl(at index: Int) -> UInt32 { ttls[index] }

    func position(at index: Int) -> SourcePosition {
        var run = files.count - 1
        while run > 0 && files[run].first > index { run -= 1 }
        return SourcePosition(file: files[run].name, line: Int(lines[index]), column: Int(textColumns[index]))
    }

    func withLowercasedOwner<R>(at index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        names.withName(Int(nodes[index]), body)
    }

    func withRData<R>(at index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        rdataBytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[rdataRange(index)])) }
    }

    /// Where a record's RDATA lies in `rdataBytes`.
    func rdataRange(_ index: Int) -> Range<Int> {
        (index == 0 ? 0 : Int(rdataEnds[index - 1]))..<Int(rdataEnds[index])
    }
}
