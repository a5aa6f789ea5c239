import Atomics
import MeridianWire

/// One answering thread's queries and answers on their way to the query log's writer: a
/// single-producer, single-consumer ring of variable-length records. The answering thread
/// copies each exchange in and moves on; when the ring is full (the writer or its reader is
/// slow) the exchange is dropped and counted, never waited for. Only the two positions are
/// shared, each on its own cache line.
package final class QueryLogRing: @unchecked Sendable {
    package static let capacity = 1 << 21
    /// A record longer than this is dropped: it would crowd out hundreds of ordinary ones.
    package static let largestRecord = capacity / 8

    private static let mask = capacity - 1
    private let storage: UnsafeMutableRawPointer
    /// The producer's position at slot 0, the consumer's at slot 8: 64 bytes apart.
    private let positions: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>
    private var published: UnsafeAtomic<Int> { UnsafeAtomic(at: positions) }
    private var released: UnsafeAtomic<Int> { UnsafeAtomic(at: positions + 8) }

    // The answering thread's.
    private var head = 0
    private var knownTail = 0
    // The writer's.
    private var tail = 0

    package init() {
        // Pages are touched only once records are written: an unused ring costs address space, not memory.
        storage = .allocate(byteCount: Self.capacity, alignment: 64)
        positions = .allocate(capacity: 16)
        (positions).initialize(to: UnsafeAtomic<Int>.Storage(0))
        (positions + 8).initialize(to: UnsafeAtomic<Int>.Storage(0))
    }

    deinit {
        storage.deallocate()
        positions.deallocate()
    }

    // MARK: The answering thread

    /// Copies one exchange in; false when there is no room.
    @inline(__always)
    package func append(flags: QueryLogRecord.Flags, client: ClientAddress, port: UInt16, queryTime: Int64, responseTime: Int64,
                query: UnsafeRawBufferPointer, response: UnsafeRawBufferPointer) -> Bool {
        let size = (QueryLogRecord.headerSize + query.count + response.count + 7) & ~7
        guard size <= Self.largestRecord else { return false }
        var offset = head & Self.mask
        let filler = offset + size > Self.capacity ? Self.capacity - offset : 0
        if head + filler + size - knownTail > Self.capacity {
            knownTail = released.load(ordering: .acquiring)
            if head + filler + size - knownTail > Self.capacity { return false }
        }
        if filler > 0 {
            // The record does not fit before the end: the rest of the ring is skipped.
            QueryLogRecord.writeFiller(at: storage + offset, size: filler)
            head += filler
            offset = 0
        }
        QueryLogRecord.write(at: storage + offset, size: size, flags: flags, client: client, port: port, queryTime: queryTime,
                             responseTime: responseTime, query: query, response: response)
        head += size
        published.store(head, ordering: .releasing)
        return true
    }

    // MARK: The writer thread

    /// Hands every record written so far to `body`, then gives their room back; false when
    /// there was none.
    package func drain(_ body: (QueryLogRecord) -> Void) -> Bool {
        let end = published.load(ordering: .acquiring)
        guard tail != end else { return false }
        while tail != end {
            let record = QueryLogRecord(storage + (tail & Self.mask))
            if !record.flags.contains(.filler) { body(record) }
            tail += record.size
        }
        released.store(tail, ordering: .releasing)
        return true
    }
}

/// One exchange as the answering thread wrote it into a `QueryLogRing`: a 48-byte header
/// (size, flags, client port and address, the two times, the two lengths), then the query
/// and the answer as they were on the wire.
package struct QueryLogRecord {
    package struct Flags: OptionSet, Sendable {
        package let rawValue: UInt8
        package init(rawValue: UInt8) { self.rawValue = rawValue }
        package static let query = Flags(rawValue: 1)
        package static let response = Flags(rawValue: 2)
        package static let tcp = Flags(rawValue: 4)
        package static let ipv6 = Flags(rawValue: 8)
        /// Not a record: the room left before the ring's end.
        package static let filler = Flags(rawValue: 0x80)
    }

    static let headerSize = 48
    let base: UnsafeRawPointer

    init(_ base: UnsafeRawPointer) { self.base = base }

    package var size: Int { Int(base.load(as: UInt32.self)) }
    package var flags: Flags { Flags(rawValue: base.load(fromByteOffset: 4, as: UInt8.self)) }
    package var port: UInt16 { base.load(fromByteOffset: 6, as: UInt16.self) }
    /// The client's address: 4 or 16 octets.
    package var address: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + 8, count: flags.contains(.ipv6) ? 16 : 4) }
    package var queryTime: Int64 { base.load(fromByteOffset: 24, as: Int64.self) }
    package var responseTime: Int64 { base.load(fromByteOffset: 32, as: Int64.self) }
    package var query: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + Self.headerSize, count: Int(base.load(fromByteOffset: 40, as: UInt16.self)))
    }
    package var response: UnsafeRawBufferPointer {
        let queryLength = Int(base.load(fromByteOffset: 40, as: UInt16.self))
        return UnsafeRawBufferPointer(start: base + Self.headerSize + queryLength, count: Int(base.load(fromByteOffset: 42, as: UInt16.self)))
    }

    static func writeFiller(at base: UnsafeMutableRawPointer, size: Int) {
        base.storeBytes(of: UInt32(size), as: UInt32.self)
        base.storeBytes(of: Flags.filler.rawValue, toByteOffset: 4, as: UInt8.self)
    }

    @inline(__always)
    static func write(at base: UnsafeMutableRawPointer, size: Int, flags: Flags, client: ClientAddress, port: UInt16, queryTime: Int64,
                      responseTime: Int64, query: UnsafeRawBufferPointer, response: UnsafeRawBufferPointer) {
        base.storeBytes(of: UInt32(size), as: UInt32.self)
        base.storeBytes(of: flags.union(client.family == .ipv6 ? .ipv6 : []).rawValue, toByteOffset: 4, as: UInt8.self)
        base.storeBytes(of: port, toByteOffset: 6, as: UInt16.self)
        base.storeBytes(of: client.octets.0, toByteOffset: 8, as: UInt64.self)
        base.storeBytes(of: client.octets.1, toByteOffset: 16, as: UInt64.self)
        base.storeBytes(of: queryTime, toByteOffset: 24, as: Int64.self)
        base.storeBytes(of: responseTime, toByteOffset: 32, as: Int64.self)
        base.storeBytes(of: UInt16(query.count), toByteOffset: 40, as: UInt16.self)
        base.storeBytes(of: UInt16(response.count), toByteOffset: 42, as: UInt16.self)
        if let source = query.baseAddress, !query.isEmpty {
            (base + headerSize).copyMemory(from: source, byteCount: query.count)
        }
        if let source = response.baseAddress, !response.isEmpty {
            (base + headerSize + query.count).copyMemory(from: source, byteCount: response.count)
        }
    }
}
