// Small text grammars of the configuration file, kept free of YAML so they are easy to test.

/// A value that does not fit its grammar; the loader adds file, position and key path.
public struct ValueError: Error {
    public let message: String
    public init(_ message: String) { self.message = message }
}

// MARK: Durations

public enum DurationText {
    private static let units: [(name: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// Parses `250ms`, `10s`, `5m`, `1h`, `14d`, or a combination from largest to smallest unit
    /// such as `1m30s`. Bare numbers are refused: `10` could mean seconds or milliseconds.
    public static func parse(_ text: String) throws(ValueError) -> Duration {
        let hint = "expected a duration such as 250ms, 10s, 1m30s or 1h"
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw ValueError("\"\(text)\" needs a unit: write \(text)s or \(text)ms (units: ms, s, m, h, d)")
        }
        var total: Int64 = 0
        var previousRank = -1
        var rest = Substring(text)
        if rest.isEmpty { throw ValueError(hint) }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(digits.count)
            if rest.first == "." {
                throw ValueError("\"\(text)\": fractions are not supported; use a smaller unit, such as 1500ms for 1.5s")
            }
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard !digits.isEmpty, !unit.isEmpty else { throw ValueError("\"\(text)\": \(hint)") }
            guard let rank = units.firstIndex(where: { $0.name == unit }) else {
                throw ValueError("\"\(text)\": unknown unit \"\(unit)\" (units: ms, s, m, h, d)")
            }
            guard rank > previousRank else {
                throw ValueError("\"\(text)\": write units from largest to smallest, each once, as in 1h30m or 1m30s")
            }
            previousRank = rank
            let tooLong = ValueError("\"\(text)\" is too long a duration")
            guard let count = Int64(digits) else { throw tooLong }
            let (part, overflow) = count.multipliedReportingOverflow(by: units[rank].milliseconds)
            let (sum, overflowSum) = total.addingReportingOverflow(part)
            guard !overflow, !overflowSum else { throw tooLong }
            total = sum
        }
        return .milliseconds(total)
    }

    /// The shortest text `parse` reads back as the same duration (whole milliseconds).
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        var milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if milliseconds <= 0 { return "\(milliseconds)ms" }
        var text = ""
        for unit in units where milliseconds >= unit.milliseconds {
            text += "\(milliseconds / unit.milliseconds)\(unit.name)"
            milliseconds %= unit.milliseconds
        }
        return text
    }
}

// MARK: Numbers

public enum NumberText {
    /// A decimal integer: optional sign, then digits only (no `0x`, `1_000` or `1:30`, which
    /// YAML 1.1 would also read as numbers).
    public static func integer(_ text: String) -> Int? {
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// A finite decimal number such as `50.11`, `-122.4`, `1e3` (no `nan`, `inf` or hex).
    public static func decimal(_ text: String) -> Double? {
        var rest = Substring(text)
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let whole = rest.prefix { $0.isASCII && $0.isNumber }
        rest = rest.dropFirst(whole.count)
        var fraction: Substring = ""
        if rest.first == "." {
            rest = rest.dropFirst()
            fraction = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(fraction.count)
        }
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        if rest.first == "e" || rest.first == "E" {
            rest = rest.dropFirst()
            if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
            let exponent = rest.prefix { $0.isASCII && $0.isNumber }
            guard !exponent.isEmpty else { return nil }
            rest = rest.dropFirst(exponent.count)
        }
        guard rest.isEmpty, let value = Double(text), value.isFinite else { return nil }
        return value
    }
}

// MARK: Names

public enum NameText {
    /// Edge and pool names: they appear in zone files, `dnsctl` arguments and metric labels,
    /// so they are short words: a letter, then letters, digits, `-` or `_`.
    public static func checkIdentifier(_ name: String, kind: String) throws(ValueError) {
        guard let first = name.first, first.isASCII, first.isLetter else {
            throw ValueError("\(kind) name \"\(name)\" must start with a letter")
        }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ValueError("\(kind) name \"\(name)\" may only contain letters, digits, \"-\" and \"_\"")
        }
        guard name.utf8.count <= 63 else { throw ValueError("\(kind) name \"\(name)\" is longer than 63 characters") }
    }

    /// A host name in presentation form: labels of letters, digits, `-` and `_`, each 1...63
    /// octets, 253 octets in all. With `absolute`, a trailing dot is required. The message
    /// completes a sentence that starts with the quoted name.
    public static func checkHostName(_ name: String, absolute: Bool) throws(ValueError) {
        if absolute, !name.hasSuffix(".") {
            throw ValueError("must be absolute, ending with a dot: \"\(name).\"")
        }
        let body = name.hasSuffix(".") ? name.dropLast() : Substring(name)
        guard !body.isEmpty else { throw ValueError("names the root, not a host") }
        guard body.utf8.count <= 253 else { throw ValueError("is longer than 253 characters") }
        for label in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { throw ValueError("has an empty label") }
            guard label.utf8.count <= 63 else { throw ValueError("has a label longer than 63 octets: \"\(label)\"") }
            guard label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw ValueError("has a label with characters other than letters, digits, \"-\" and \"_\": \"\(label)\"")
            }
        }
    }
}

// MARK: Suggestions

public enum Suggestion {
    /// The candidate closest to `word` within two edits (insert, delete, substitute, swap of
    /// neighbours), or `nil`. Candidates shorter than five characters allow one edit only, so
    /// `fail` does not suggest `all`.
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != word {
            let distance = editDistance(word, candidate)
            if distance <= (candidate.count < 5 ? 1 : 2), distance < candidate.count, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// `; did you mean "x"?` or nothing.
    public static func hint(for word: String, in candidates: some Sequence<String>) -> String {
        closest(to: word, in: candidates).map { "; did you mean \"\($0)\"?" } ?? ""
    }

    /// Optimal string alignment distance.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
