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
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return UInt32(truncatingIfNeeded: seconds)
    }

    /// Seconds since 1970 as `YYYYMMDDHHmmSS`.
    static func appendTimestamp(_ value: UInt32, to out: inout [UInt8]) {
        let seconds = Int(value)
        let (year, month, day) = civilDate(daysSinceEpoch: seconds / 86_400)
        let timeOfDay = seconds % 86_400
        for (number, width) in [(year, 4), (month, 2), (day, 2), (timeOfDay / 3600, 2), (timeOfDay / 60 % 60, 2), (timeOfDay % 60, 2)] {
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

    // Howard Hinnant's days-from-civil and civil-from-days, on the proleptic Gregorian calendar.
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilDate(daysSinceEpoch days: Int) -> (Int, Int, Int) {
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
