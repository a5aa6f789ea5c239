import Atomics
import MeridianAuthority
import MeridianWire

/// The buckets of response rate limiting: one table for the whole process, shared by every
/// UDP worker, allocated once at start and never grown.
///
/// Why one shared table and not one per answering thread: SO_REUSEPORT spreads a client
/// network's queries over every UDP worker whenever the source ports vary (a spoofed flood's
/// do), so per-thread tables would let N workers × `rate` through. The price of sharing is
/// one compare-and-swap on a word that other cores may also write. Measured on the 2-core
/// development machine with this loop built -O: 9-12 ns a decision in plain per-thread
/// memory, 11-14 ns in the shared table from one thread, 18-24 ns from two threads at once
/// (on different keys or on one), against the microsecond a response takes; the debug-build
/// test `RateLimitTableTests.sharedTableCost` prints the same comparison.
///
/// Each bucket is one 64-bit word: a 20-bit tag (high bits of the key's hash) and a 44-bit
/// "theoretical arrival time" in microseconds (the generic cell rate algorithm of ATM
/// networks, equivalent to a token bucket): each admitted response moves it `interval` =
/// 1/rate later, and a response is admitted while it lies at most `tolerance` =
/// (burst - 1) × interval ahead of now. A whole bucket in one word is updated with a single
/// CAS, so no lock and no torn update between the tag and the time.
///
/// A key probes the 8 words of one 64-byte line. A key not found takes the word of the
/// oldest bucket there (an empty one first): a bucket whose time lies in the past is full
/// again and forgets nothing by being replaced, so under overload the buckets evicted are
/// the ones that least recently limited anyone.
package final class RateLimitTable: @unchecked Sendable {
    /// 2^18 buckets, 2 MiB: NSD keeps 1,000,000 and Knot 393,241; a flood from one network
    /// needs one bucket per class and name, and full lines only cost the oldest entries.
    static let defaultBucketCount = 1 << 18
    /// Words probed for one key: one cache line.
    static let lineWords = 8
    static let timeBits: UInt64 = 44
    package static let timeMask: UInt64 = (1 << timeBits) - 1
    /// Retries of a CAS lost to another thread before the response is let through: losing
    /// that often means the bucket is being written right now, not that it is over its rate.
    static let attempts = 4

    private let words: UnsafeMutablePointer<UInt64.AtomicRepresentation>
    /// Selects the first word of a line from a hash.
    private let lineMask: Int
    package let bucketCount: Int
    /// Seeds the key hash, so that nobody outside can aim keys at one line.
    package let seed: UInt64

    package init(bucketCount: Int = defaultBucketCount, seed: UInt64 = .random(in: .min ... .max)) {
        precondition(bucketCount >= Self.lineWords && bucketCount & (bucketCount - 1) == 0, "a power of two of at least one line")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bucketCount * 8, alignment: 64)
        words = raw.bindMemory(to: UInt64.AtomicRepresentation.self, capacity: bucketCount)
        words.initialize(repeating: UInt64.AtomicRepresentation(0), count: bucketCount)
        lineMask = (bucketCount - 1) & ~(Self.lineWords - 1)
        self.bucketCount = bucketCount
        self.seed = seed
    }

    deinit {
        words.deinitialize(count: bucketCount)
        UnsafeMutableRawPointer(words).deallocate()
    }

    /// Whether the bucket of `key` has room for one more response at `now` (microseconds,
    /// any monotonic origin); takes it when it has.
    @inline(__always)
    package func admit(key: UInt64, now: UInt64, interval: UInt64, tolerance: UInt64) -> Bool {
        let now = now & Self.timeMask
        let tag = (key >> Self.timeBits) | 1
        let line = words + (Int(truncatingIfNeeded: key) & lineMask)
        for _ in 0..<Self.attempts {
            var slot = 0
            var seen: UInt64 = 0
            var found = false
            var oldest = Int64.min
            for index in 0..<Self.lineWords {
                let word = UnsafeAtomic<UInt64>(at: line + index).load(ordering: .relaxed)
                if word >> Self.timeBits == tag {
                    slot = index
                    seen = word
                    found = true
                    break
                }
                let age = word == 0 ? Int64.max : -Self.ahead(word & Self.timeMask, of: now)
                if age > oldest {
                    oldest = age
                    slot = index
                    seen = word
                }
            }
            // A bucket made now starts full.
            let time = found ? seen & Self.timeMask : now
            guard let next = Self.spend(time, now: now, interval: interval, tolerance: tolerance) else { return false }
            let desired = tag << Self.timeBits | next
            if UnsafeAtomic<UInt64>(at: line + slot).compareExchange(expected: seen, desired: desired, ordering: .relaxed).exchanged {
                return true
            }
        }
        return true
    }

    /// How far `time` lies ahead of `now` on the 44-bit clock, negative when behind.
    @inline(__always)
    package static func ahead(_ time: UInt64, of now: UInt64) -> Int64 {
        Int64(bitPattern: ((time &- now) & timeMask) << (64 - timeBits)) >> Int64(64 - timeBits)
    }

    /// How far past what an admitted response can leave a bucket's time may lie ahead of a
    /// thread's `now` before it counts as left over from before the clock wrapped: threads
    /// stamp their batches at different moments, so a bucket written by one may lie a little
    /// further ahead of another's clock; a minute is far more than that lag.
    package static let clockSkew: UInt64 = 60_000_000

    /// The bucket's time after one more response at `now`, or nil when the bucket has no
    /// room: the generic cell rate algorithm. A time behind now is a full bucket; one further
    /// ahead than an admitted response and `clockSkew` can leave it belongs to a bucket idle
    /// for longer than the clock's wrap (6 months) and is full too.
    @inline(__always)
    package static func spend(_ time: UInt64, now: UInt64, interval: UInt64, tolerance: UInt64) -> UInt64? {
        let lead = ahead(time, of: now)
        let start = lead < 0 || lead > Int64(tolerance + interval + clockSkew) ? now : time
        if start != now && lead > Int64(tolerance) { return nil }
        return (start &+ interval) & timeMask
    }
}

/// The key of one bucket: client network, response class and, by class, the name:
///
/// - positive, NODATA, large and ANY answers: the question's name and type (BIND's "identical
///   responses"), so a flood for one name does not starve the network's other names;
/// - NXDOMAIN, wildcard and referral answers: the zone (BIND's and Knot's "imputed name"),
///   because their names are the attacker's to vary: one bucket per random name would never fill;
/// - errors: nothing more, as in BIND and Knot: garbage has no name worth telling apart.
package struct RateLimitKey {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    @inline(__always)
    package mutating func mix(_ value: UInt64) {
        state = (state ^ value) &* 0x9E37_79B9_7F4A_7C15
        state ^= state >> 29
    }

    /// The key of `outcome`'s response in `response` (its question, written by the
    /// responder uncompressed) for a client of `network`.
    @inline(__always)
    static func of(_ outcome: Outcome, class responseClass: ResponseClass, network: ClientAddress,
                   response: UnsafeMutableRawBufferPointer, seed: UInt64) -> UInt64 {
        var key = RateLimitKey(seed: seed)
        key.mix(UInt64(network.family.rawValue) << 8 | UInt64(responseClass.rawValue))
        key.mix(network.octets.0)
        key.mix(network.octets.1)
        switch responseClass {
        case .error:
            break
        case .nxDomain, .wildcard, .referral:
            key.mix(UInt64(bitPattern: Int64(outcome.zone)))
        case .positive, .noData, .large, .any:
            key.mixQuestionName(response)
            key.mix(UInt64(outcome.qtype.rawValue))
        }
        return key.finish()
    }

    /// The question's name, lowercased, 8 octets at a time: the label lengths are walked to
    /// find its end, then whole words are loaded and lowercased together (no octet of a wire
    /// name below 0x41 is a letter, so length octets pass through unchanged).
    @inline(__always)
    mutating func mixQuestionName(_ response: UnsafeMutableRawBufferPointer) {
        var end = Header.size
        while end < response.count {
            let length = Int(response[end])
            guard length & 0xC0 == 0 else { break }
            end += 1 + length
            if length == 0 { break }
        }
        end = min(end, response.count)
        var offset = Header.size
        let base = UnsafeRawPointer(response.baseAddress!)
        while offset + 8 <= end {
            mix(Self.lowercased(base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end {
            tail |= UInt64(response[offset]) << shift
            shift += 8
            offset += 1
        }
        mix(Self.lowercased(tail) ^ shift << 53)
    }

    /// ASCII upper-case letters in all eight octets of `word` made lower-case at once.
    @inline(__always)
    package static func lowercased(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high = ones &* 0x80
        let seven = word & ~high
        // Bit 7 of each octet: at least "A", and above "Z", computed on the low seven bits.
        let atLeastA = seven &+ ones &* (0x80 - 0x41)
        let aboveZ = seven &+ ones &* (0x80 - 0x5B)
        let upper = atLeastA & ~aboveZ & ~word & high
        return word | upper >> 2
    }

    /// A final avalanche, so that the line index and the tag, taken from opposite ends of
    /// the hash, both depend on every input bit.
    @inline(__always)
    package func finish() -> UInt64 { murmurFinalize(state) }
}
