/// The NSEC type bitmap (RFC 4034 section 4.1.2): windows of up to 32 octets, in increasing
/// window order, each ending in a non-zero octet.
public enum TypeBitmap {
    public static func append(_ sortedTypes: [UInt16], to out: inout [UInt8]) {
        var position = 0
        while position < sortedTypes.count {
            let window = sortedTypes[position] >> 8
            var octets = [UInt8](repeating: 0, count: 32)
            var used = 0
            while position < sortedTypes.count, sortedTypes[position] >> 8 == window {
                let low = Int(sortedTypes[position] & 0xFF)
                octets[low / 8] |= 0x80 >> UInt8(low % 8)
                used = low / 8 + 1
                position += 1
            }
            out.append(UInt8(window))
            out.append(UInt8(used))
            out.append(contentsOf: octets[..<used])
        }
    }

    public static func isValid(_ bitmap: ArraySlice<UInt8>, allowEmpty: Bool) -> Bool {
        guard !bitmap.isEmpty || allowEmpty else { return false }
        var offset = bitmap.startIndex
        var previousWindow = -1
        while offset < bitmap.endIndex {
            guard offset + 2 <= bitmap.endIndex else { return false }
            let window = Int(bitmap[offset])
            let length = Int(bitmap[offset + 1])
            guard window > previousWindow, (1...32).contains(length), offset + 2 + length <= bitmap.endIndex,
                  bitmap[offset + 1 + length] != 0
            else { return false }
            previousWindow = window
            offset += 2 + length
        }
        return true
    }

    /// The types a valid bitmap lists, in increasing order.
    public static func types(_ bitmap: ArraySlice<UInt8>) -> [RRType] {
        var types: [RRType] = []
        var offset = bitmap.startIndex
        while offset < bitmap.endIndex {
            let window = UInt16(bitmap[offset])
            let length = Int(bitmap[offset + 1])
            for index in 0..<length {
                let octet = bitmap[offset + 2 + index]
                for bit in 0..<8 where octet & (0x80 >> UInt8(bit)) != 0 {
                    types.append(RRType(window << 8 | UInt16(index * 8 + bit)))
                }
            }
            offset += 2 + length
        }
        return types
    }
}
