import MeridianControl

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
    /// A latency in milliseconds: `0.42 ms`, `12.3 ms`, `250 ms`.
    static func milliseconds(_ value: Double) -> String {
        if value < 1 { return ReadableText.decimal(value, places: 2) + " ms" }
        if value < 100 { return ReadableText.decimal(value, places: 1) + " ms" }
        return ReadableText.decimal(value, places: 0) + " ms"
    }

    /// A duration in seconds at a readable unit: `850 ns`, `12 µs`, `3.5 ms`, `1.2 s`.
    static func seconds(_ value: Double) -> String {
        if value < 1e-6 { return ReadableText.decimal(value * 1e9, places: 0) + " ns" }
        if value < 1e-3 { return ReadableText.decimal(value * 1e6, places: value < 1e-5 ? 1 : 0) + " µs" }
        if value < 1 { return ReadableText.decimal(value * 1e3, places: value < 1e-2 ? 1 : 0) + " ms" }
        return ReadableText.decimal(value, places: 1) + " s"
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
