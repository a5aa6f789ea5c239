/// A 128-bit SipHash key: the two 64-bit words the algorithm keys its state with.
public struct SipHashKey: Hashable, Sendable {
    public var k0: UInt64
    public var k1: UInt64

    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// The key from its 16 octets as the SipHash paper and RFC 9018 write them: `k0` is
    /// the first eight read little-endian, `k1` the last eight.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "a SipHash key is 16 octets")
        var k0: UInt64 = 0, k1: UInt64 = 0
        for index in 0..<8 {
            k0 |= UInt64(bytes[index]) << (8 * index)
            k1 |= UInt64(bytes[8 + index]) << (8 * index)
        }
        self.init(k0: k0, k1: k1)
    }
}

/// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), the keyed
/// hash RFC 9018 builds server cookies with.
///
/// Written here because nothing on this machine offers it to Swift: the standard library's
/// `Hasher` is SipHash-1-3 with a per-process seed and takes no key, swift-crypto has no
/// SipHash, and the copy inside swift-nio-ssl's BoringSSL is a private C symbol, which the
/// responder's module (no C, no Foundation) could not import anyway. The tests hold it to
/// the paper's 64 reference vectors.
public enum SipHash24 {
    /// The 64-bit tag of `message`. The reference implementation writes it out
    /// little-endian: `tag.littleEndian`'s memory is the tag's octets.
    public static func hash(_ message: UnsafeRawBufferPointer, key: SipHashKey) -> UInt64 {
        var state = State(key: key)
        let whole = message.count & ~7
        var offset = 0
        while offset < whole {
            state.compress(UInt64(littleEndian: message.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        // The last block: the remaining octets, and the message length modulo 256 on top.
        var last = UInt64(truncatingIfNeeded: message.count) << 56
        for index in 0..<(message.count - whole) { last |= UInt64(message[whole + index]) << (8 * index) }
        state.compress(last)
        return state.finalize()
    }

    struct State {
        var v0: UInt64
        var v1: UInt64
        var v2: UInt64
        var v3: UInt64

        /// The initial state: the key mixed with "somepseudorandomlygeneratedbytes".
        init(key: SipHashKey) {
            v0 = 0x736f_6d65_7073_6575 ^ key.k0
            v1 = 0x646f_7261_6e64_6f6d ^ key.k1
            v2 = 0x6c79_6765_6e65_7261 ^ key.k0
            v3 = 0x7465_6462_7974_6573 ^ key.k1
        }

        /// One message word through the two compression rounds ("2" of SipHash-2-4).
        mutating func compress(_ word: UInt64) {
            v3 ^= word
            round()
            round()
            v0 ^= word
        }

        /// The four finalization rounds ("4" of SipHash-2-4).
        mutating func finalize() -> UInt64 {
            v2 ^= 0xff
            round()
            round()
            round()
            round()
            return v0 ^ v1 ^ v2 ^ v3
        }

        mutating func round() {
            v0 &+= v1
            v1 = rotate(v1, 13) ^ v0
            v0 = rotate(v0, 32)
            v2 &+= v3
            v3 = rotate(v3, 16) ^ v2
            v0 &+= v3
            v3 = rotate(v3, 21) ^ v0
            v2 &+= v1
            v1 = rotate(v1, 17) ^ v2
            v2 = rotate(v2, 32)
        }

        func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 {
            (value &<< bits) | (value &>> (64 - bits))
        }
    }
}
