#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Columns padded to their widest cell; `rightAligned` columns (numbers) pad on the left.
struct TextTable {
    var header: [String]
    var rightAligned: Set<Int> = []
    var rows: [[String]] = []

    func render(indent: String = "") -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var out = indent
            for (index, cell) in cells.enumerated() {
                let padding = String(repeating: " ", count: max(0, widths[index] - cell.count))
                let last = index == cells.count - 1
                if rightAligned.contains(index) {
                    out += padding + cell
                } else {
                    out += last ? cell : cell + padding
                }
                if !last { out += "  " }
            }
            return out.trimmingTrailingSpaces()
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}

enum Format {
    /// 1234567 → `1,234,567`.
    static func grouped<T: BinaryInteger>(_ value: T) -> String {
        let digits = Array(String(value.magnitude))
        var out = value < 0 ? "-" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    /// Fixed decimals without Foundation: `decimal(51.5, 2)` → `51.50`.
    static func decimal(_ value: Double, _ places: Int) -> String {
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

    /// Seconds as `2d 3h 4m`, `1h 02m 05s`, `4m 05s`, `12s`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-" }
        let whole = Int(seconds)
        let days = whole / 86_400, hours = whole / 3600 % 24, minutes = whole / 60 % 60, secs = whole % 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if days > 0 { return "\(days)d \(hours)h \(two(minutes))m" }
        if hours > 0 { return "\(hours)h \(two(minutes))m \(two(secs))s" }
        if minutes > 0 { return "\(minutes)m \(two(secs))s" }
        return "\(secs)s"
    }

    /// A latency in milliseconds: `0.42 ms`, `12.3 ms`, `250 ms`.
    static func milliseconds(_ value: Double) -> String {
        if value < 1 { return decimal(value, 2) + " ms" }
        if value < 100 { return decimal(value, 1) + " ms" }
        return decimal(value, 0) + " ms"
    }

    /// A duration in seconds at a readable unit: `850 ns`, `12 µs`, `3.5 ms`, `1.2 s`.
    static func seconds(_ value: Double) -> String {
        if value < 1e-6 { return decimal(value * 1e9, 0) + " ns" }
        if value < 1e-3 { return decimal(value * 1e6, value < 1e-5 ? 1 : 0) + " µs" }
        if value < 1 { return decimal(value * 1e3, value < 1e-2 ? 1 : 0) + " ms" }
        return decimal(value, 1) + " s"
    }

    /// Local wall-clock time of an epoch: `12:03:11`, with the date when it is not today.
    static func time(_ epoch: Double) -> String {
        var seconds = time_t(epoch)
        var now = Glibc.time(nil)
        var moment = tm(), today = tm()
        localtime_r(&seconds, &moment)
        localtime_r(&now, &today)
        let sameDay = moment.tm_year == today.tm_year && moment.tm_yday == today.tm_yday
        return strftime(sameDay ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &moment)
    }

    /// Local date and time of an epoch: `2026-11-25 12:03:11`.
    static func dateTime(_ epoch: Double) -> String {
        var seconds = time_t(epoch)
        var moment = tm()
        localtime_r(&seconds, &moment)
        return strftime("%Y-%m-%d %H:%M:%S", &moment)
    }

    /// Local date of an epoch: `2026-11-25`.
    static func date(_ epoch: Double) -> String {
        var seconds = time_t(epoch)
        var moment = tm()
        localtime_r(&seconds, &moment)
        return strftime("%Y-%m-%d", &moment)
    }

    private static func strftime(_ format: String, _ moment: inout tm) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = Glibc.strftime(&buffer, buffer.count, format, &moment)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `3s ago`, `4 min ago`, `2 h ago`.
    static func ago(_ epoch: Double) -> String {
        let seconds = max(0, Int((Double(Glibc.time(nil)) - epoch).rounded()))
        if seconds < 120 { return "\(seconds)s ago" }
        if seconds < 7200 { return "\(seconds / 60) min ago" }
        return "\(seconds / 3600) h ago"
    }
}
