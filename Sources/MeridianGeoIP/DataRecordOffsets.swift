/// Which data-section offsets hold records, one bit per byte: the rank of an offset among
/// them numbers the record. Neighbouring leaves point at neighbouring records, so this
/// stays in cache where a hash table of offsets would not.
struct DataRecordOffsets: Sequence {
    private let marks: [UInt64]
    /// Per word of `marks`: how many records lie in the words before it.
    private let before: [UInt32]
    let count: Int

    /// The size of the bitmap for a data section of `dataSize` bytes.
    static func words(dataSize: Int) -> Int { (dataSize + 63) / 64 }

    /// Marks `offset` as holding a record, in a bitmap of `words(dataSize:)` words.
    @inline(__always)
    static func mark(_ offset: UInt32, in marks: inout [UInt64]) {
        marks[Int(offset >> 6)] |= 1 << UInt64(offset & 63)
    }

    init(marks: [UInt64]) {
        var before = [UInt32](repeating: 0, count: marks.count)
        var count = 0
        for word in 0..<marks.count {
            before[word] = UInt32(count)
            count += marks[word].nonzeroBitCount
        }
        self.marks = marks
        self.before = before
        self.count = count
    }

    /// The record's number: how many records lie before `offset`, which must be marked.
    @inline(__always)
    func number(of offset: UInt32) -> Int {
        let word = Int(offset >> 6)
        return Int(before[word]) + (marks[word] & ((1 << UInt64(offset & 63)) - 1)).nonzeroBitCount
    }

    /// The marked offsets in file order.
    func makeIterator() -> Iterator { Iterator(marks: marks) }

    struct Iterator: IteratorProtocol {
        fileprivate let marks: [UInt64]
        private var word = -1
        private var bits: UInt64 = 0

        fileprivate init(marks: [UInt64]) { self.marks = marks }

        mutating func next() -> UInt32? {
            while bits == 0 {
                word += 1
                guard word < marks.count else { return nil }
                bits = marks[word]
            }
            let offset = UInt32(word * 64 + bits.trailingZeroBitCount)
            bits &= bits - 1
            return offset
        }
    }
}
