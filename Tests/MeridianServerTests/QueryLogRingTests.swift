import CMallocCounter
import MeridianServer
import MeridianWire
import Testing

@Suite struct QueryLogRingTests {
    private let client = ClientAddress(ipv4: 192, 0, 2, 7)

    /// Appends one exchange whose bytes say which it is.
    private func append(_ ring: QueryLogRing, _ index: Int, size: Int = 100) -> Bool {
        let query = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: size)
        let response = [UInt8](repeating: UInt8(truncatingIfNeeded: index &+ 1), count: size + 20)
        return query.withUnsafeBytes { query in
            response.withUnsafeBytes { response in
                ring.append(flags: [.query, .response], client: client, port: UInt16(index), queryTime: Int64(index),
                            responseTime: Int64(index) + 1, query: query, response: response)
            }
        }
    }

    private func drainIndices(_ ring: QueryLogRing) -> [Int] {
        var seen: [Int] = []
        _ = ring.drain { record in
            let index = Int(record.port)
            #expect(record.queryTime == Int64(index) && record.responseTime == Int64(index) + 1)
            #expect(Array(record.address) == [192, 0, 2, 7])
            #expect(record.query.allSatisfy { $0 == UInt8(truncatingIfNeeded: index) })
            #expect(record.response.count == record.query.count + 20)
            #expect(record.response.allSatisfy { $0 == UInt8(truncatingIfNeeded: index &+ 1) })
            seen.append(index)
        }
        return seen
    }

    @Test func recordsComeOutInOrderAcrossTheEndOfTheRing() {
        let ring = QueryLogRing()
        var next = 0
        var expected = 0
        // Several times around a ring with records of sizes that do not divide it.
        for round in 0..<40 {
            var appended: [Int] = []
            for _ in 0..<(1000 + round * 37) {
                guard append(ring, next, size: 100 + next % 900) else { break }
                appended.append(next)
                next += 1
            }
            #expect(drainIndices(ring) == appended)
            expected += appended.count
        }
        #expect(next == expected)
        #expect(next > 3 * QueryLogRing.capacity / 1000)
    }

    @Test func aFullRingRefusesUntilItIsDrained() {
        let ring = QueryLogRing()
        var count = 0
        while append(ring, count, size: 1000) { count += 1 }
        #expect(count > 0 && count < QueryLogRing.capacity / 1000)
        #expect(!append(ring, count, size: 1000))
        #expect(drainIndices(ring).count == count)
        #expect(!ring.drain { _ in }, "nothing left")
        #expect(append(ring, count, size: 1000))
    }

    @Test func aRecordLargerThanTheLimitIsRefused() {
        let ring = QueryLogRing()
        #expect(!append(ring, 1, size: QueryLogRing.largestRecord))
        #expect(append(ring, 2, size: 1000))
    }

    @Test func appendingAllocatesNothing() {
        #expect(malloc_counter_active() == 1, "the malloc counter is not linked into the test binary")
        let ring = QueryLogRing()
        let query = [UInt8](repeating: 1, count: 60)
        let response = [UInt8](repeating: 2, count: 200)
        let flags = QueryLogRecord.Flags.query.union(.response)
        query.withUnsafeBytes { query in
            response.withUnsafeBytes { response in
                malloc_counter_start()
                for index in 0..<5000 {
                    _ = ring.append(flags: flags, client: client, port: 53, queryTime: Int64(index),
                                    responseTime: Int64(index), query: query, response: response)
                }
                #expect(malloc_counter_stop() == 0)
            }
        }
    }
}
