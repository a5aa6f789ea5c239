/// Base64 (RFC 4648 section 4) and base32hex (RFC 4648 section 7) for keys, signatures and
/// NSEC3 hashes. Written here because the pure modules cannot use Foundation's codec.
package enum BinaryText {
    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let base32HexAlphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUV".utf8)

    @inline(__always) static func base64Value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x41...0x5A: byte - 0x41
        case 0x61...0x7A: byte - 0x61 + 26
        case 0x30...0x39: byte - 0x30 + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    /// Decodes base64 text split over several pieces (zone files break long keys anywhere);
    /// nil unless it is whole 4-character groups with `=` padding in the last one only.
    package static func decodeBase64(_ pieces: [UnsafeBufferPointer<UInt8>]) -> [UInt8]? {
        var characters: [UInt8] = []
        for piece in pieces { characters.append(contentsOf: piece) }
        guard !characters.isEmpty, characters.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(characters.count / 4 * 3)
        for start in stride(from: 0, to: characters.count, by: 4) {
            let isLast = start + 4 == characters.count
            var group: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = characters[start + offset]
                var value: UInt8 = 0
                if byte == UInt8(ascii: "=") {
                    guard isLast, offset >= 2 else { return nil }
                    padding += 1
                } else {
                    guard padding == 0, let decoded = base64Value(byte) else { return nil }
                    value = decoded
                }
                group = group << 6 | UInt32(value)
            }
            out.append(UInt8(group >> 16 & 0xFF))
            if padding < 2 { out.append(UInt8(group >> 8 & 0xFF)) }
            if padding < 1 { out.append(UInt8(group & 0xFF)) }
        }
        return out
    }

    package static func appendBase64(_ data: ArraySlice<UInt8>, to out: inout [UInt8]) {
        var index = data.startIndex
        while index < data.endIndex {
            let remaining = data.endIndex - index
            let b0 = UInt32(data[index])
            let b1 = remaining > 1 ? UInt32(data[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(data[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            out.append(base64Alphabet[Int(group >> 18 & 0x3F)])
            out.append(base64Alphabet[Int(group >> 12 & 0x3F)])
            out.append(remaining > 1 ? base64Alphabet[Int(group >> 6 & 0x3F)] : UInt8(ascii: "="))
            out.append(remaining > 2 ? base64Alphabet[Int(group & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
    }

    /// Unpadded base32hex in either case (NSEC3 hashes are written without `=`); nil when a
    /// character is outside the alphabet or the length cannot come from whole octets.
    static func decodeBase32Hex(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt64 = 0
        var bits = 0
        for byte in text {
            let value: UInt8
            switch byte {
            case 0x30...0x39: value = byte - 0x30
            case 0x41...0x56: value = byte - 0x41 + 10
            case 0x61...0x76: value = byte - 0x61 + 10
            default: return nil
            }
            accumulator = accumulator << 5 | UInt64(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(accumulator >> UInt64(bits) & 0xFF))
            }
        }
        // Leftover bits must be fewer than 5 and zero, or the text was cut mid-octet.
        guard bits < 5, accumulator & ((1 << UInt64(bits)) - 1) == 0 else { return nil }
        return out
    }

    static func appendBase32Hex(_ data: ArraySlice<UInt8>, to out: inout [UInt8]) {
        var accumulator: UInt64 = 0
        var bits = 0
        for octet in data {
            accumulator = accumulator << 8 | UInt64(octet)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(base32HexAlphabet[Int(accumulator >> UInt64(bits) & 0x1F)])
            }
        }
        if bits > 0 {
            out.append(base32HexAlphabet[Int(accumulator << UInt64(5 - bits) & 0x1F)])
        }
    }
}
