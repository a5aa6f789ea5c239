import MeridianWire

/// Names that zone files may use instead of numbers in RDATA, and RRSIG times.
enum RDataMnemonics {
    /// DNSSEC algorithm mnemonics as BIND accepts them (several names for some numbers).
    static let algorithms: [(String, UInt8)] = [
        ("RSAMD5", 1), ("DH", 2), ("DSA", 3), ("RSASHA1", 5), ("NSEC3DSA", 6), ("DSA-NSEC3-SHA1", 6),
        ("NSEC3RSASHA1", 7), ("RSASHA1-NSEC3-SHA1", 7), ("RSASHA256", 8), ("RSASHA512", 10), ("ECCGOST", 12),
        ("ECDSAP256SHA256", 13), ("ECDSA256", 13), ("ECDSAP384SHA384", 14), ("ECDSA384", 14),
        ("ED25519", 15), ("ED448", 16), ("INDIRECT", 252), ("PRIVATEDNS", 253), ("PRIVATEOID", 254),
    ]

    /// CERT certificate types (RFC 4398 section 2.1).
    static let certificateTypes: [(String, UInt16)] = [
        ("PKIX", 1), ("SPKI", 2), ("PGP", 3), ("IPKIX", 4), ("ISPKI", 5), ("IPGP", 6), ("ACPKIX", 7),
        ("IACPKIX", 8), ("URI", 253), ("OID", 254),
    ]

    static func lookup<Value>(_ text: UnsafeBufferPointer<UInt8>, in table: [(String, Value)]) -> Value? {
        let upper = String(decoding: text, as: UTF8.self).uppercased()
        return table.first { $0.0 == upper }?.1
    }

    /// The first name of a number, as BIND prints it.
    static func algorithmName(_ value: UInt8) -> String? {
        algorithms.first { $0.1 == value }?.0
    }

    static func certificateTypeName(_ value: UInt16) -> String? {
        certificateTypes.first { $0.1 == value }?.0
    }

    // MARK: Times

    /// `YYYYMMDDHHmmSS` in UTC to seconds since 1970, kept modulo 2^32 as RFC 4034
    /// section 3.1.5 says (serial arithmetic). Nil when a field is out of range or before 1970.
    static func timestamp(_ text: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard text.count == 14, text.allSatisfy(TextFields.isDigitByte) else { return nil }
        func number(_ start: Int, _ length: Int) -> Int {
            text[start..<(start + length)].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        let year = number(0, 4), month = number(4, 2), day = number(6, 2)
        let hour = number(8, 2), minute = number(10, 2), second = number(12, 2)
        guard year >= 1970, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60
        else { return nil }
        let seconds = CivilTime.daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return UInt32(truncatingIfNeeded: seconds)
    }

    /// Seconds since 1970 as `YYYYMMDDHHmmSS`.
    static func appendTimestamp(_ value: UInt32, to out: inout [UInt8]) {
        let time = CivilTime.split(Int(value))
        for (number, width) in [(time.year, 4), (time.month, 2), (time.day, 2), (time.hour, 2), (time.minute, 2), (time.second, 2)] {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(number / divisor % 10) + 0x30)
                divisor /= 10
            }
        }
    }

    private static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
