/// Whether `count` bytes at `a` and `b` are equal, compared eight at a time: names and
/// keys are compared on the query path and a million times while a zone loads, where the
/// standard library's generic `elementsEqual` compares byte by byte through witnesses.
@inline(__always)
public func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    var index = 0
    while index + 8 <= count {
        if a.loadUnaligned(fromByteOffset: index, as: UInt64.self) != b.loadUnaligned(fromByteOffset: index, as: UInt64.self) { return false }
        index += 8
    }
    while index < count {
        if a.load(fromByteOffset: index, as: UInt8.self) != b.load(fromByteOffset: index, as: UInt8.self) { return false }
        index += 1
    }
    return true
}

/// Whether two byte buffers hold the same bytes.
@inline(__always)
public func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard let left = a.baseAddress, let right = b.baseAddress else { return true }
    return memcmpEqual(left, right, a.count)
}
