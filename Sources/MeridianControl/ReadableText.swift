/// Numbers and durations of the replies as operators read them, shared by `dnsctl`'s text
/// output and the stats dashboard. Written out by hand rather than with Foundation's
/// formatters, which follow the locale: this output must read the same everywhere.
public enum ReadableText {
    /// 1234567 → `1,234,567`.
    public static func grouped<T: BinaryInteger>(_ value: T) -> String {
        let digits = Array(String(value.magnitude))
        var out = value < 0 ? "-" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    /// Counts largest first, equal counts by name: the order a reader scans them in.
    public static func largestFirst(_ counts: [String: UInt64]) -> [(name: String, count: UInt64)] {
        counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map { ($0.key, $0.value) }
    }

    /// Fixed decimals, halves rounded away from zero: `decimal(51.5, places: 2)` → `51.50`.
    public static func decimal(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        while fraction.count < places { fraction = "0" + fraction }
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return places == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }

    /// Seconds in their largest units: `2d 3h 4m`, `1h 2m 5s`, `4m 5s`, `12s`. `padded`
    /// writes minutes and seconds after a larger unit with two digits (`1h 02m 05s`) so that
    /// a column of them lines up; `placeholder` stands for a negative or non-finite value.
    public static func duration(_ seconds: Double, padded: Bool, placeholder: String) -> String {
        guard seconds.isFinite, seconds >= 0 else { return placeholder }
        let whole = Int(seconds)
        let days = whole / 86_400, hours = whole / 3600 % 24, minutes = whole / 60 % 60, secs = whole % 60
        func minor(_ count: Int) -> String { padded && count < 10 ? "0\(count)" : "\(count)" }
        if days > 0 { return "\(days)d \(hours)h \(minor(minutes))m" }
        if hours > 0 { return "\(hours)h \(minor(minutes))m \(minor(secs))s" }
        if minutes > 0 { return "\(minutes)m \(minor(secs))s" }
        return "\(secs)s"
    }
}
