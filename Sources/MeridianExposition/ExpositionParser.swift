/// Reads the Prometheus text exposition format (version 0.0.4, what vLLM, TGI, SGLang and
/// Triton serve on `/metrics`, and the `# EOF` line of OpenMetrics) into samples. Written here
/// because no package on hand parses it without Foundation, and the load feeds must read
/// pages from servers Meridian does not control: every line is checked, a malformed one is
/// an error with its line number, and the caller bounds the body before it gets here.
public enum ExpositionParser {
    /// Every sample of `text`, in order.
    public static func parse(_ text: String) throws(ExpositionError) -> [Sample] {
        var samples: [Sample] = []
        var lineNumber = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var cursor = Cursor(bytes: Array(line), line: lineNumber)
            if cursor.bytes.last == UInt8(ascii: "\r") { cursor.bytes.removeLast() }
            cursor.skipBlanks()
            if cursor.atEnd { continue }
            if cursor.peek == UInt8(ascii: "#") {
                try cursor.comment()
                continue
            }
            samples.append(try cursor.sample())
        }
        return samples
    }

    /// The sum of `metric`'s samples whose labels include every pair of `labels`; nil when
    /// no sample matches. NaN samples are skipped: a gauge with nothing to report says so.
    public static func sum(of metric: String, labels: [String: String] = [:], in samples: [Sample]) -> Double? {
        var total: Double?
        for sample in samples where sample.name == metric && !sample.value.isNaN {
            guard labels.allSatisfy({ key, value in sample.labels.contains { $0.name == key && $0.value == value } }) else { continue }
            total = (total ?? 0) + sample.value
        }
        return total
    }
}

/// One line of a metrics page: `name{label="value",...} value [timestamp]`.
public struct Sample: Sendable, Equatable {
    public struct Label: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var name: String
    public var labels: [Label]
    public var value: Double
    /// Milliseconds since the epoch, when the line has one.
    public var timestamp: Int64?

    public init(name: String, labels: [Label] = [], value: Double, timestamp: Int64? = nil) {
        self.name = name
        self.labels = labels
        self.value = value
        self.timestamp = timestamp
    }
}

/// A line that does not follow the format, with its number.
public struct ExpositionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public var description: String { "line \(line): \(message)" }
}

private struct Cursor {
    var bytes: [UInt8]
    let line: Int
    var offset = 0

    var atEnd: Bool { offset >= bytes.count }
    var peek: UInt8 { bytes[offset] }

    func failure(_ message: String) -> ExpositionError {
        ExpositionError(line: line, message: message)
    }

    mutating func skipBlanks() {
        while !atEnd && (peek == 0x20 || peek == 0x09) { offset += 1 }
    }

    /// `# HELP name text`, `# TYPE name type`, `# EOF`, or any other comment.
    mutating func comment() throws(ExpositionError) {
        offset += 1
        skipBlanks()
        let keyword = token()
        guard keyword == "HELP" || keyword == "TYPE" else { return }
        skipBlanks()
        guard isNameStart(atEnd ? 0 : peek, colon: true) else { throw failure("# \(keyword) needs a metric name") }
        _ = try metricName()
        guard keyword == "TYPE" else { return }
        skipBlanks()
        let type = token()
        guard ["counter", "gauge", "histogram", "summary", "untyped", "info", "stateset", "gaugehistogram", "unknown"]
            .contains(type) else { throw failure("unknown metric type \"\(type)\"") }
    }

    mutating func sample() throws(ExpositionError) -> Sample {
        let name = try metricName()
        var labels: [Sample.Label] = []
        skipBlanks()
        if !atEnd && peek == UInt8(ascii: "{") {
            labels = try labelSet()
            skipBlanks()
        }
        guard !atEnd else { throw failure("\(name) has no value") }
        let valueText = token()
        guard let value = Self.number(valueText) else { throw failure("\(name): bad value \"\(valueText)\"") }
        skipBlanks()
        var timestamp: Int64?
        if !atEnd {
            let text = token()
            guard let parsed = Int64(text) else { throw failure("\(name): bad timestamp \"\(text)\"") }
            timestamp = parsed
            skipBlanks()
            guard atEnd else { throw failure("\(name): unexpected text after the timestamp") }
        }
        return Sample(name: name, labels: labels, value: value, timestamp: timestamp)
    }

    /// The characters up to the next blank.
    mutating func token() -> String {
        let start = offset
        while !atEnd && peek != 0x20 && peek != 0x09 { offset += 1 }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    mutating func metricName() throws(ExpositionError) -> String {
        try identifier(colon: true, what: "metric name")
    }

    mutating func identifier(colon: Bool, what: String) throws(ExpositionError) -> String {
        let start = offset
        guard !atEnd, isNameStart(peek, colon: colon) else { throw failure("expected a \(what)") }
        offset += 1
        while !atEnd && (isNameStart(peek, colon: colon) || (peek >= UInt8(ascii: "0") && peek <= UInt8(ascii: "9"))) { offset += 1 }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    func isNameStart(_ byte: UInt8, colon: Bool) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_") || (colon && byte == UInt8(ascii: ":"))
    }

    /// `{name="value",...}`, a trailing comma allowed.
    mutating func labelSet() throws(ExpositionError) -> [Sample.Label] {
        offset += 1
        var labels: [Sample.Label] = []
        while true {
            skipBlanks()
            guard !atEnd else { throw failure("unclosed label set") }
            if peek == UInt8(ascii: "}") {
                offset += 1
                return labels
            }
            let name = try identifier(colon: false, what: "label name")
            skipBlanks()
            guard !atEnd, peek == UInt8(ascii: "=") else { throw failure("expected = after label \(name)") }
            offset += 1
            skipBlanks()
            guard !atEnd, peek == UInt8(ascii: "\"") else { throw failure("label \(name): value must be quoted") }
            let value = try quoted()
            if labels.contains(where: { $0.name == name }) { throw failure("label \(name) given twice") }
            labels.append(Sample.Label(name: name, value: value))
            skipBlanks()
            guard !atEnd else { throw failure("unclosed label set") }
            if peek == UInt8(ascii: ",") {
                offset += 1
            } else if peek != UInt8(ascii: "}") {
                throw failure("expected , or } after label \(name)")
            }
        }
    }

    /// A label value: `\\`, `\"` and `\n` are its only escapes.
    mutating func quoted() throws(ExpositionError) -> String {
        offset += 1
        var value: [UInt8] = []
        while true {
            guard !atEnd else { throw failure("unterminated label value") }
            let byte = peek
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard !atEnd else { throw failure("unterminated label value") }
                switch peek {
                case UInt8(ascii: "\\"): value.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "\""): value.append(UInt8(ascii: "\""))
                case UInt8(ascii: "n"): value.append(0x0A)
                default: throw failure("bad escape \\\(Character(Unicode.Scalar(peek))) in a label value")
                }
                offset += 1
            default:
                value.append(byte)
            }
        }
    }

    /// A Go `ParseFloat` value as the format allows: decimals, exponents, `NaN`, `+Inf`, `-Inf`.
    static func number(_ text: String) -> Double? {
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            guard let first = text.utf8.first, first != UInt8(ascii: "+") || text.utf8.count > 1,
                  text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
                                                                        UInt8(ascii: "+"), UInt8(ascii: "-")].contains($0) })
            else { return nil }
            return Double(text)
        }
    }
}
