#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// A writer of MaxMind DB files, binary format 2.0 (https://maxmind.github.io/MaxMind-DB/).
//
// File layout:
//
//     search tree | 16 zero bytes | data section | "\xAB\xCD\xEFMaxMind.com" | metadata map
//
// The tree is always an IPv6 tree (ip_version 6). IPv4 networks live under ::/96, as in
// MaxMind's own databases, and ::ffff:0:0/96 is by default an alias of that subtree, so an
// IPv4-mapped lookup finds the same record. Each node holds two records (bit 0, bit 1); a
// record is a node index (< node_count), "no data" (== node_count) or a data pointer
// (node_count + 16 + offset into the data section). The record size (24, 28 or 32 bits) is
// the smallest that holds the largest record value, unless one is asked for.

/// An IPv4 or IPv6 network: address bytes in network order and a prefix length. Host bits
/// beyond the prefix are always zero; an address with host bits set is rejected, not masked.
public struct MMDBNetwork: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let address: [UInt8]
    public let prefixLength: Int

    public init(address: [UInt8], prefixLength: Int) throws(MMDBWriterError) {
        guard address.count == 4 || address.count == 16 else {
            throw .invalidAddressLength(address.count)
        }
        guard (0...address.count * 8).contains(prefixLength) else {
            throw .prefixLengthOutOfRange(prefixLength, maximum: address.count * 8)
        }
        self.address = address
        self.prefixLength = prefixLength
        for bit in prefixLength..<(address.count * 8) where self.bit(bit) != 0 {
            var masked = address
            for index in prefixLength..<(address.count * 8) {
                masked[index >> 3] &= ~(0x80 >> UInt8(index & 7))
            }
            throw .hostBitsSet(network: description, expected: MMDBNetwork(unchecked: masked, prefixLength).description)
        }
    }

    private init(unchecked address: [UInt8], _ prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    public var isIPv4: Bool { address.count == 4 }

    /// Bit `index` of the address, counted from the most significant bit of the first byte.
    @inline(__always)
    func bit(_ index: Int) -> Int {
        Int(address[index >> 3] >> UInt8(7 - (index & 7))) & 1
    }

    /// The same network written as IPv4 when it lies inside ::ffff:0:0/96 (IPv4-mapped).
    var unmappingIPv4: MMDBNetwork {
        guard address.count == 16, prefixLength >= 96,
              address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF else { return self }
        return MMDBNetwork(unchecked: Array(address[12...]), prefixLength - 96)
    }

    /// Canonical text: dotted quad for IPv4; RFC 5952 for IPv6 (lower case, the longest run
    /// of two or more zero groups as `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`).
    public var description: String {
        "\(Self.format(address))/\(prefixLength)"
    }

    static func format(_ address: [UInt8]) -> String {
        if address.count == 4 {
            return address.map(String.init).joined(separator: ".")
        }
        if address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
            return "::ffff:" + format(Array(address[12...]))
        }
        let groups = (0..<8).map { UInt16(address[2 * $0]) << 8 | UInt16(address[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8, groups[end] == 0 { end += 1 }
            if end - index > bestLength, end - index >= 2 { bestStart = index; bestLength = end - index }
            index = end
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

/// A value in the data section. Maps keep their keys in the order given (MaxMind readers do
/// not care about the order; keeping it makes files reproducible).
///
/// Only the types a GeoIP2-style record needs are offered. Doubles compare by bit pattern, so
/// `-0.0` and `0.0` stay distinct when records are deduplicated and `nan` equals itself.
public enum MMDBValue: Hashable, Sendable {
    case map([(key: String, value: MMDBValue)])
    case array([MMDBValue])
    case string(String)
    case double(Double)
    case uint16(UInt16)
    case uint32(UInt32)
    case uint64(UInt64)
    case boolean(Bool)

    public static func == (lhs: MMDBValue, rhs: MMDBValue) -> Bool {
        switch (lhs, rhs) {
        case (.map(let a), .map(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let a), .array(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.double(let a), .double(let b)): a.bitPattern == b.bitPattern
        case (.uint16(let a), .uint16(let b)): a == b
        case (.uint32(let a), .uint32(let b)): a == b
        case (.uint64(let a), .uint64(let b)): a == b
        case (.boolean(let a), .boolean(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(typeNumber)
        switch self {
        case .map(let entries):
            hasher.combine(entries.count)
            for entry in entries {
                hasher.combine(entry.key)
                hasher.combine(entry.value)
            }
        case .array(let elements): hasher.combine(elements)
        case .string(let text): hasher.combine(text)
        case .double(let value): hasher.combine(value.bitPattern)
        case .uint16(let value): hasher.combine(value)
        case .uint32(let value): hasher.combine(value)
        case .uint64(let value): hasher.combine(value)
        case .boolean(let value): hasher.combine(value)
        }
    }

    /// The data-section type of the value (MaxMind DB spec, "Output Data Section").
    var typeNumber: Int {
        switch self {
        case .map: 7
        case .array: 11
        case .string: 2
        case .double: 3
        case .uint16: 5
        case .uint32: 6
        case .uint64: 9
        case .boolean: 14
        }
    }

    /// The value for `key` when this is a map.
    public subscript(key: String) -> MMDBValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }
}

extension MMDBValue: ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(arrayLiteral elements: MMDBValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, MMDBValue)...) {
        self = .map(elements.map { (key: $0.0, value: $0.1) })
    }
}

/// Bits per search-tree record.
public enum MMDBRecordSize: Int, Sendable, CaseIterable {
    case bits24 = 24, bits28 = 28, bits32 = 32

    /// The largest record value this size holds.
    var maximumValue: UInt64 { (UInt64(1) << UInt64(rawValue)) - 1 }
}

public enum MMDBWriterError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidAddressLength(Int)
    case prefixLengthOutOfRange(Int, maximum: Int)
    case hostBitsSet(network: String, expected: String)
    case duplicateMapKey(String)
    case valueTooLarge(String)
    /// The tree plus data section need more than the record size (or 32 bits) can address.
    case databaseTooLarge(nodes: Int, dataBytes: Int, recordSize: Int)

    public var description: String {
        switch self {
        case .invalidAddressLength(let count):
            "an address has 4 (IPv4) or 16 (IPv6) bytes, not \(count)"
        case .prefixLengthOutOfRange(let length, let maximum):
            "prefix length /\(length) outside 0...\(maximum)"
        case .hostBitsSet(let network, let expected):
            "\(network) has host bits set beyond its prefix; the network is \(expected)"
        case .duplicateMapKey(let key):
            "map key \"\(key)\" appears twice"
        case .valueTooLarge(let what):
            "\(what) is too large for the MaxMind DB format"
        case .databaseTooLarge(let nodes, let dataBytes, let recordSize):
            "\(nodes) nodes and \(dataBytes) data bytes do not fit \(recordSize)-bit records"
        }
    }
}

/// A finished database file and what went into it.
public struct SerializedMMDB: Sendable {
    /// The whole file.
    public var bytes: [UInt8]
    public var nodeCount: Int
    public var recordSize: MMDBRecordSize
    /// Distinct records in the data section (identical records are stored once).
    public var recordCount: Int
}

/// Builds a MaxMind DB file from networks and their records.
///
///     var writer = MMDBWriter(databaseType: "Meridian-City", description: "edge locations")
///     try writer.insert(MMDBNetwork(address: [81, 2, 69, 0], prefixLength: 24),
///                       record: ["country": ["iso_code": "GB"]])
///     let file = try writer.serialize()
///
/// Networks may be inserted in any order: a more specific network always overrides a less
/// specific one for its own range, whatever came first. Inserting the same network twice
/// keeps the later record. Identical records are stored once, and repeated keys and values
/// inside records become pointers when that is shorter.
public struct MMDBWriter: Sendable {
    public var databaseType: String
    /// Stored as the metadata `description` map under `"en"`.
    public var databaseDescription: String
    /// Locale codes the records' localized names use (GeoIP2 `names` maps); none by default.
    public var languages: [String]
    /// Seconds since the Unix epoch; defaults to the time the writer was made.
    public var buildEpoch: UInt64
    /// nil picks the smallest record size that addresses the whole file.
    public var recordSize: MMDBRecordSize?
    /// Makes ::ffff:0:0/96 lead to the IPv4 subtree (like MaxMind's databases), so that
    /// `::ffff:192.0.2.1` finds what `192.0.2.1` finds. Networks given inside ::ffff:0:0/96
    /// are then stored as the IPv4 networks they stand for.
    public var aliasesIPv4Mapped: Bool

    private var entries: [(network: MMDBNetwork, record: Int)] = []
    private var records: [MMDBValue] = []
    private var recordIndex: [MMDBValue: Int] = [:]

    public init(databaseType: String, description: String, languages: [String] = [], buildEpoch: UInt64? = nil,
                recordSize: MMDBRecordSize? = nil, aliasesIPv4Mapped: Bool = true) {
        self.databaseType = databaseType
        self.databaseDescription = description
        self.languages = languages
        self.buildEpoch = buildEpoch ?? UInt64(max(time(nil), 0))
        self.recordSize = recordSize
        self.aliasesIPv4Mapped = aliasesIPv4Mapped
    }

    /// Networks inserted so far (each insertion counts, also a repeated network).
    public var networkCount: Int { entries.count }

    /// Adds `network` with `record`. Throws when the record cannot be written (a map with a
    /// repeated key, a string or container beyond the format's size limits).
    public mutating func insert(_ network: MMDBNetwork, record: MMDBValue) throws(MMDBWriterError) {
        try Self.validate(record)
        let index: Int
        if let known = recordIndex[record] {
            index = known
        } else {
            index = records.count
            records.append(record)
            recordIndex[record] = index
        }
        entries.append((network: aliasesIPv4Mapped ? network.unmappingIPv4 : network, record: index))
    }

    /// The complete file. Deterministic: the same insertions and settings give the same bytes.
    public func serialize() throws(MMDBWriterError) -> SerializedMMDB {
        var trie = SearchTrie()
        // Shorter prefixes first, so a longer one always lands on top; ties keep insertion order.
        let ordered = entries.indices.sorted { a, b in
            let lengthA = Self.treeLength(entries[a].network), lengthB = Self.treeLength(entries[b].network)
            return lengthA != lengthB ? lengthA < lengthB : a < b
        }
        for index in ordered {
            let entry = entries[index]
            trie.insert(bits: Self.treeLength(entry.network), value: .data(entry.record)) { depth in
                Self.treeBit(entry.network, depth)
            }
        }
        if aliasesIPv4Mapped { trie.aliasIPv4Mapped() }
        trie.collapseUniformSubtrees()

        // Number the reachable nodes breadth-first (the root is node 0) and lay out the data
        // section in the order records are first reached.
        let order = trie.reachableNodes()
        var number = [Int32](repeating: -1, count: trie.nodeCount)
        for (position, node) in order.enumerated() { number[Int(node)] = Int32(position) }
        var data = DataSectionWriter()
        var recordOffsets = [Int](repeating: -1, count: records.count)
        var recordsWritten = 0
        for node in order {
            for side in 0..<2 {
                guard case .data(let record) = trie.child(node, side), recordOffsets[record] < 0 else { continue }
                recordOffsets[record] = data.writeRecord(records[record])
                recordsWritten += 1
            }
        }

        let nodeCount = order.count
        let largest = UInt64(nodeCount) + 16 + UInt64(data.bytes.count)
        let size: MMDBRecordSize
        if let recordSize {
            guard largest <= recordSize.maximumValue else {
                throw .databaseTooLarge(nodes: nodeCount, dataBytes: data.bytes.count, recordSize: recordSize.rawValue)
            }
            size = recordSize
        } else {
            guard let fitting = MMDBRecordSize.allCases.first(where: { largest <= $0.maximumValue }) else {
                throw .databaseTooLarge(nodes: nodeCount, dataBytes: data.bytes.count, recordSize: 32)
            }
            size = fitting
        }

        var file: [UInt8] = []
        let nodeBytes = size.rawValue / 4
        file.reserveCapacity(nodeCount * nodeBytes + 16 + data.bytes.count + 512)
        func value(_ child: SearchTrie.Child) -> UInt32 {
            switch child {
            case .empty: UInt32(nodeCount)
            case .node(let node): UInt32(number[Int(node)])
            case .data(let record): UInt32(nodeCount + 16 + recordOffsets[record])
            }
        }
        for node in order {
            let left = value(trie.child(node, 0)), right = value(trie.child(node, 1))
            switch size {
            case .bits24:
                file += [UInt8(truncatingIfNeeded: left >> 16), UInt8(truncatingIfNeeded: left >> 8), UInt8(truncatingIfNeeded: left),
                         UInt8(truncatingIfNeeded: right >> 16), UInt8(truncatingIfNeeded: right >> 8), UInt8(truncatingIfNeeded: right)]
            case .bits28:
                // The middle byte holds bits 27...24 of the left record, then of the right one.
                file += [UInt8(truncatingIfNeeded: left >> 16), UInt8(truncatingIfNeeded: left >> 8), UInt8(truncatingIfNeeded: left),
                         UInt8(truncatingIfNeeded: (left >> 20) & 0xF0 | (right >> 24) & 0x0F),
                         UInt8(truncatingIfNeeded: right >> 16), UInt8(truncatingIfNeeded: right >> 8), UInt8(truncatingIfNeeded: right)]
            case .bits32:
                for record in [left, right] {
                    file += [UInt8(truncatingIfNeeded: record >> 24), UInt8(truncatingIfNeeded: record >> 16),
                             UInt8(truncatingIfNeeded: record >> 8), UInt8(truncatingIfNeeded: record)]
                }
            }
        }
        file += repeatElement(0, count: 16)
        file += data.bytes
        file += Self.metadataMarker
        var metadata = DataSectionWriter(deduplicating: false)
        _ = metadata.writeRecord(metadataMap(nodeCount: nodeCount, recordSize: size))
        file += metadata.bytes
        return SerializedMMDB(bytes: file, nodeCount: nodeCount, recordSize: size, recordCount: recordsWritten)
    }

    /// `\xAB\xCD\xEF` followed by `MaxMind.com`: where the metadata begins.
    public static let metadataMarker: [UInt8] = [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)

    private func metadataMap(nodeCount: Int, recordSize: MMDBRecordSize) -> MMDBValue {
        .map([
            (key: "binary_format_major_version", value: .uint16(2)),
            (key: "binary_format_minor_version", value: .uint16(0)),
            (key: "build_epoch", value: .uint64(buildEpoch)),
            (key: "database_type", value: .string(databaseType)),
            (key: "description", value: .map([(key: "en", value: .string(databaseDescription))])),
            (key: "ip_version", value: .uint16(6)),
            (key: "languages", value: .array(languages.map(MMDBValue.string))),
            (key: "node_count", value: .uint32(UInt32(nodeCount))),
            (key: "record_size", value: .uint16(UInt16(recordSize.rawValue))),
        ])
    }

    /// Depth of the network in the IPv6 tree: IPv4 networks sit below ::/96.
    private static func treeLength(_ network: MMDBNetwork) -> Int {
        network.isIPv4 ? 96 + network.prefixLength : network.prefixLength
    }

    private static func treeBit(_ network: MMDBNetwork, _ depth: Int) -> Int {
        guard network.isIPv4 else { return network.bit(depth) }
        return depth < 96 ? 0 : network.bit(depth - 96)
    }

    private static func validate(_ value: MMDBValue) throws(MMDBWriterError) {
        switch value {
        case .map(let entries):
            guard entries.count <= DataSectionWriter.maximumSize else { throw .valueTooLarge("a map of \(entries.count) entries") }
            var keys = Set<String>()
            for entry in entries {
                guard keys.insert(entry.key).inserted else { throw .duplicateMapKey(entry.key) }
                guard entry.key.utf8.count <= DataSectionWriter.maximumSize else { throw .valueTooLarge("a map key") }
                try validate(entry.value)
            }
        case .array(let elements):
            guard elements.count <= DataSectionWriter.maximumSize else { throw .valueTooLarge("an array of \(elements.count) elements") }
            for element in elements { try validate(element) }
        case .string(let text):
            guard text.utf8.count <= DataSectionWriter.maximumSize else { throw .valueTooLarge("a string of \(text.utf8.count) bytes") }
        case .double, .uint16, .uint32, .uint64, .boolean:
            break
        }
    }
}

/// The binary trie under construction: two children per node, node 0 is the root.
private struct SearchTrie {
    enum Child: Equatable {
        case empty
        case node(Int32)
        case data(Int)
    }

    /// Two entries per node. 0 is "no data" (the root is never a child), a positive value a
    /// node index, a negative value `-(record + 1)`.
    private var children: [Int32] = [0, 0]

    var nodeCount: Int { children.count / 2 }

    func child(_ node: Int32, _ side: Int) -> Child {
        Self.decode(children[Int(node) * 2 + side])
    }

    private static func decode(_ raw: Int32) -> Child {
        if raw == 0 { return .empty }
        return raw > 0 ? .node(raw) : .data(Int(-raw) - 1)
    }

    private static func encode(_ child: Child) -> Int32 {
        switch child {
        case .empty: 0
        case .node(let node): node
        case .data(let record): -Int32(record) - 1
        }
    }

    /// Sets everything below the prefix of `bits` bits (given by `bit(depth)`) to `value`.
    /// A leaf met on the way is split: both halves keep its value, so the rest of its range
    /// is unchanged.
    mutating func insert(bits: Int, value: Child, bit: (Int) -> Int) {
        let raw = Self.encode(value)
        if bits == 0 {
            children[0] = raw
            children[1] = raw
            return
        }
        var node = 0
        for depth in 0..<(bits - 1) {
            let slot = node * 2 + bit(depth)
            let current = children[slot]
            if current > 0 {
                node = Int(current)
            } else {
                let fresh = nodeCount
                children.append(current)
                children.append(current)
                children[slot] = Int32(fresh)
                node = fresh
            }
        }
        children[node * 2 + bit(bits - 1)] = raw
    }

    /// Replaces every node whose two halves end in the same leaf by that leaf, bottom-up, so
    /// a range split and then refilled with one record costs no nodes (the root stays).
    mutating func collapseUniformSubtrees() {
        for side in 0..<2 {
            let raw = children[side]
            if raw > 0 { children[side] = collapse(raw) }
        }
    }

    private mutating func collapse(_ node: Int32) -> Int32 {
        let base = Int(node) * 2
        for side in 0..<2 where children[base + side] > 0 {
            children[base + side] = collapse(children[base + side])
        }
        let left = children[base], right = children[base + 1]
        return left <= 0 && left == right ? left : node
    }

    /// Points ::ffff:0:0/96 at whatever ::/96 leads to (the IPv4 subtree). Done before
    /// collapsing; collapsing a shared subtree twice gives the same result both times.
    mutating func aliasIPv4Mapped() {
        var target: Int32 = 0
        var node = 0
        for _ in 0..<96 {
            target = children[node * 2]
            guard target > 0 else { break }
            node = Int(target)
        }
        // ::ffff:0:0 is 80 zero bits followed by 16 one bits.
        insert(bits: 96, value: Self.decode(target)) { depth in depth < 80 ? 0 : 1 }
    }

    /// Nodes reachable from the root, breadth-first, each once (an alias is not a copy).
    func reachableNodes() -> [Int32] {
        var seen = [Bool](repeating: false, count: nodeCount)
        var order: [Int32] = [0]
        seen[0] = true
        var next = 0
        while next < order.count {
            let base = Int(order[next]) * 2
            next += 1
            for side in 0..<2 {
                let raw = children[base + side]
                if raw > 0, !seen[Int(raw)] {
                    seen[Int(raw)] = true
                    order.append(raw)
                }
            }
        }
        return order
    }
}

/// Encodes values in the data-section format: a control byte with the type in its top three
/// bits (types above 7 use an extra byte) and the size in its low five bits (29, 30 and 31
/// announce one, two or three further size bytes), then the payload, big-endian.
struct DataSectionWriter {
    private(set) var bytes: [UInt8] = []
    /// Where each value was written in full, with the length of that encoding. A repeat of a
    /// value becomes a pointer there when the pointer is shorter. Only complete encodings are
    /// remembered, never pointers: a pointer must not lead to another pointer.
    private var written: [MMDBValue: (offset: Int, length: Int)] = [:]
    private let deduplicating: Bool

    /// The largest size a control byte can announce: 65,821 + 2^24 − 1.
    static let maximumSize = 65_821 + 0xFF_FFFF

    init(deduplicating: Bool = true) {
        self.deduplicating = deduplicating
    }

    /// Writes a value that a search-tree record will point at and returns its offset; a value
    /// written before is not written again. The tree never points at a pointer.
    mutating func writeRecord(_ value: MMDBValue) -> Int {
        if deduplicating, let known = written[value] { return known.offset }
        let offset = bytes.count
        writeFull(value)
        return offset
    }

    private mutating func write(_ value: MMDBValue) {
        if deduplicating, let known = written[value], Self.pointerLength(to: known.offset) < known.length {
            writePointer(to: known.offset)
        } else {
            writeFull(value)
        }
    }

    private mutating func writeFull(_ value: MMDBValue) {
        let start = bytes.count
        let type = value.typeNumber
        switch value {
        case .map(let entries):
            writeControl(type: type, size: entries.count)
            for entry in entries {
                write(.string(entry.key))
                write(entry.value)
            }
        case .array(let elements):
            writeControl(type: type, size: elements.count)
            for element in elements { write(element) }
        case .string(let text):
            writeControl(type: type, size: text.utf8.count)
            bytes += text.utf8
        case .double(let number):
            writeControl(type: type, size: 8)
            writeBigEndian(number.bitPattern, byteCount: 8)
        case .uint16(let number):
            writeUnsigned(type: type, UInt64(number))
        case .uint32(let number):
            writeUnsigned(type: type, UInt64(number))
        case .uint64(let number):
            writeUnsigned(type: type, number)
        case .boolean(let flag):
            writeControl(type: type, size: flag ? 1 : 0)
        }
        if deduplicating, written[value] == nil {
            written[value] = (offset: start, length: bytes.count - start)
        }
    }

    /// Unsigned integers use as few bytes as their value needs (zero needs none).
    private mutating func writeUnsigned(type: Int, _ number: UInt64) {
        let byteCount = (64 - number.leadingZeroBitCount + 7) / 8
        writeControl(type: type, size: byteCount)
        writeBigEndian(number, byteCount: byteCount)
    }

    private mutating func writeBigEndian(_ number: UInt64, byteCount: Int) {
        for index in stride(from: byteCount - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: number >> UInt64(index * 8)))
        }
    }

    private mutating func writeControl(type: Int, size: Int) {
        precondition(size >= 0 && size <= Self.maximumSize, "size checked when the record was inserted")
        let typeBits = type <= 7 ? UInt8(type) << 5 : 0
        let sizeBits: UInt8
        var extra: [UInt8] = []
        switch size {
        case ..<29:
            sizeBits = UInt8(size)
        case ..<285:
            sizeBits = 29
            extra = [UInt8(size - 29)]
        case ..<65_821:
            sizeBits = 30
            let rest = size - 285
            extra = [UInt8(truncatingIfNeeded: rest >> 8), UInt8(truncatingIfNeeded: rest)]
        default:
            sizeBits = 31
            let rest = size - 65_821
            extra = [UInt8(truncatingIfNeeded: rest >> 16), UInt8(truncatingIfNeeded: rest >> 8), UInt8(truncatingIfNeeded: rest)]
        }
        bytes.append(typeBits | sizeBits)
        if type > 7 { bytes.append(UInt8(type - 7)) }
        bytes += extra
    }

    /// Pointers (type 1): the size bits `SS` choose 11, 19, 27 or 32 bits of offset, and the
    /// 19- and 27-bit forms count from 2,048 and 526,336.
    static func pointerLength(to offset: Int) -> Int {
        switch offset {
        case ..<2_048: 2
        case ..<526_336: 3
        case ..<134_744_064: 4
        default: 5
        }
    }

    private mutating func writePointer(to offset: Int) {
        switch offset {
        case ..<2_048:
            bytes += [0x20 | UInt8(offset >> 8), UInt8(truncatingIfNeeded: offset)]
        case ..<526_336:
            let value = offset - 2_048
            bytes += [0x28 | UInt8(value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
        case ..<134_744_064:
            let value = offset - 526_336
            bytes += [0x30 | UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                      UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
        default:
            bytes += [0x38, UInt8(truncatingIfNeeded: offset >> 24), UInt8(truncatingIfNeeded: offset >> 16),
                      UInt8(truncatingIfNeeded: offset >> 8), UInt8(truncatingIfNeeded: offset)]
        }
    }
}
