import MeridianZoneFile

/// Base64 as key files write it: the zone-file reader's codec (DNSKEY presentation is zone
/// file syntax), with the blanks BIND puts inside long keys allowed.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        BinaryText.appendBase64(bytes[...], to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let characters = Array(text.utf8.filter { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A) })
        return characters.withUnsafeBufferPointer { BinaryText.decodeBase64([$0]) }
    }
}
