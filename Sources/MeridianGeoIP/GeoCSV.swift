import MeridianConfig
import MeridianFiles
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The operator's CSV of networks and where they are, as `dnsctl geoip build` reads it:
///
///     # comment lines and blank lines are skipped; the header line is optional
///     network,latitude,longitude,country,continent,subdivision
///     81.2.69.0/24,51.5,-0.12,GB,EU,ENG
///     2001:db8::/32,,,,EU,
///
/// Latitude and longitude are given together or both left empty (a record without a
/// location); country (ISO 3166-1 alpha-2), continent (AF AN AS EU NA OC SA) and
/// subdivision (ISO 3166-2 after the hyphen, `ENG`; `GB-ENG` is accepted too) may each be
/// empty. A subdivision needs a country. Fields may be wrapped in double quotes.
public enum GeoCSV {
    public static let columns = ["network", "latitude", "longitude", "country", "continent", "subdivision"]
    public static let continents: Set<String> = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"]

    /// Reads and parses a file. A file that cannot be read is one error on line 1.
    public static func read(file path: String) -> GeoCSVResult {
        switch FileSystem.read(path) {
        case .success(let bytes):
            return parse(bytes, file: path)
        case .failure(let failure):
            // strerror's wording ("No such file or directory"), which `dnsctl geoip build` has
            // always printed; `FileSystemError.description` is lower-case.
            let reason = String(cString: strerror(failure.code))
            return GeoCSVResult(rows: [], errors: [GeoCSVError(file: path, line: 1, message: "cannot read: \(reason)")])
        }
    }

    /// Parses CSV text; `file` names it in errors.
    public static func parse(_ text: String, file: String) -> GeoCSVResult {
        parse(Array(text.utf8), file: file)
    }

    /// Parses CSV bytes (UTF-8; a line that is not is an error). Every problem is reported,
    /// several per line when a line has several.
    public static func parse(_ bytes: [UInt8], file: String) -> GeoCSVResult {
        var rows: [GeoCSVRow] = []
        var errors: [GeoCSVError] = []
        var firstLine: [MMDBNetwork: Int] = [:]
        var seenContent = false
        var lineNumber = 0
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }  // a byte order mark
        while start < bytes.count {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var slice = bytes[start..<end]
            start = end + 1
            if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
            guard let line = String(validating: slice, as: UTF8.self) else {
                errors.append(GeoCSVError(file: file, line: lineNumber, message: "the line is not UTF-8 text"))
                seenContent = true
                continue
            }
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { Self.unquoted($0.trimmingSpaces) }
            let isFirst = !seenContent
            seenContent = true
            if isFirst, fields.first?.lowercased() == "network" {
                if fields.map({ $0.lowercased() }) != columns {
                    errors.append(GeoCSVError(file: file, line: lineNumber,
                                              message: "the header must be \(columns.joined(separator: ","))"))
                }
                continue
            }
            switch parseRow(fields, line: lineNumber) {
            case .success(let row):
                if let first = firstLine[row.network] {
                    errors.append(GeoCSVError(file: file, line: lineNumber,
                                              message: "duplicate network \(row.network) (first on line \(first))"))
                } else {
                    firstLine[row.network] = lineNumber
                    rows.append(row)
                }
            case .failure(let problems):
                errors += problems.messages.map { GeoCSVError(file: file, line: lineNumber, message: $0) }
            }
        }
        return GeoCSVResult(rows: rows, errors: errors)
    }

    /// A MaxMind DB writer holding every row, for a City-shaped database.
    public static func writer(for rows: [GeoCSVRow], description: String, buildEpoch: UInt64? = nil) -> MMDBWriter {
        var writer = MMDBWriter(databaseType: "Meridian-City", description: description, buildEpoch: buildEpoch)
        for row in rows {
            do {
                try writer.insert(row.network, record: row.record)
            } catch {
                // Rows hold checked networks, short strings and unique keys: nothing to reject.
                preconditionFailure("a parsed row was rejected: \(error)")
            }
        }
        return writer
    }

    private struct Problems: Error {
        var messages: [String]
    }

    private static func parseRow(_ fields: [String], line: Int) -> Result<GeoCSVRow, Problems> {
        guard fields.count == columns.count else {
            return .failure(Problems(messages: [
                "expected \(columns.count) fields (\(columns.joined(separator: ","))), found \(fields.count)",
            ]))
        }
        var problems: [String] = []
        var network: MMDBNetwork?
        do {
            network = try MMDBNetwork(parsing: fields[0])
        } catch {
            problems.append(error.message)
        }

        var latitude: Double?
        var longitude: Double?
        switch (fields[1].isEmpty, fields[2].isEmpty) {
        case (true, true):
            break
        case (false, false):
            latitude = coordinate(fields[1], name: "latitude", limit: 90, problems: &problems)
            longitude = coordinate(fields[2], name: "longitude", limit: 180, problems: &problems)
        default:
            problems.append("latitude and longitude must both be given or both be empty")
        }

        let country = fields[3], continent = fields[4]
        var subdivision = fields[5]
        if !country.isEmpty, !(country.utf8.count == 2 && country.utf8.allSatisfy(isUpperLetter)) {
            problems.append("country \"\(country)\" is not two upper-case letters (ISO 3166-1 alpha-2)")
        }
        if !continent.isEmpty, !continents.contains(continent) {
            problems.append("continent \"\(continent)\" is not one of \(continents.sorted().joined(separator: " "))")
        }
        if !subdivision.isEmpty {
            if country.isEmpty {
                problems.append("a subdivision needs a country")
            } else if let hyphen = subdivision.firstIndex(of: "-"), subdivision[..<hyphen] != country {
                problems.append("subdivision \"\(subdivision)\" does not belong to country \"\(country)\"")
            } else {
                if let hyphen = subdivision.firstIndex(of: "-") {
                    subdivision = String(subdivision[subdivision.index(after: hyphen)...])
                }
                if !((1...3).contains(subdivision.utf8.count) && subdivision.utf8.allSatisfy({ isUpperLetter($0) || isDigit($0) })) {
                    problems.append("subdivision \"\(fields[5])\" is not 1 to 3 upper-case letters or digits (ISO 3166-2 after the hyphen)")
                }
            }
        }

        guard problems.isEmpty, let network else { return .failure(Problems(messages: problems)) }
        return .success(GeoCSVRow(line: line, network: network,
                                  latitude: latitude, longitude: longitude,
                                  country: country.isEmpty ? nil : country,
                                  continent: continent.isEmpty ? nil : continent,
                                  subdivision: subdivision.isEmpty ? nil : subdivision))
    }

    /// A decimal number without exponent (`51.5`, `-0.12`, `+8`) within ±limit.
    private static func coordinate(_ text: String, name: String, limit: Double, problems: inout [String]) -> Double? {
        var digits = Substring(text)
        if let sign = digits.first, sign == "+" || sign == "-" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        let wellFormed = (1...2).contains(parts.count) && parts.allSatisfy { $0.utf8.allSatisfy(isDigit) }
            && !parts.allSatisfy(\.isEmpty)
        guard wellFormed, let value = Double(text) else {
            problems.append("\(name) \"\(text)\" is not a decimal number")
            return nil
        }
        guard value.magnitude <= limit else {
            problems.append("\(name) \(text) is outside -\(Int(limit))...\(Int(limit))")
            return nil
        }
        return value
    }

    private static func unquoted(_ field: String) -> String {
        guard field.utf8.count >= 2, field.hasPrefix("\""), field.hasSuffix("\"") else { return field }
        return String(field.dropFirst().dropLast()).trimmingSpaces
    }
}

/// One accepted row.
public struct GeoCSVRow: Hashable, Sendable {
    public var line: Int
    public var network: MMDBNetwork
    public var latitude: Double?
    public var longitude: Double?
    public var country: String?
    public var continent: String?
    /// The part after the hyphen of ISO 3166-2 (`ENG` for GB-ENG).
    public var subdivision: String?

    public init(line: Int, network: MMDBNetwork, latitude: Double? = nil, longitude: Double? = nil,
                country: String? = nil, continent: String? = nil, subdivision: String? = nil) {
        self.line = line
        self.network = network
        self.latitude = latitude
        self.longitude = longitude
        self.country = country
        self.continent = continent
        self.subdivision = subdivision
    }

    /// The row as a GeoIP2 City record, with only the parts the row gives:
    /// `{"location": {"latitude", "longitude"}, "country": {"iso_code"}, "continent": {"code"},
    /// "subdivisions": [{"iso_code"}]}`.
    public var record: MMDBValue {
        var entries: [(key: String, value: MMDBValue)] = []
        if let latitude, let longitude {
            entries.append((key: "location", value: ["latitude": .double(latitude), "longitude": .double(longitude)]))
        }
        if let country { entries.append((key: "country", value: ["iso_code": .string(country)])) }
        if let continent { entries.append((key: "continent", value: ["code": .string(continent)])) }
        if let subdivision { entries.append((key: "subdivisions", value: [["iso_code": .string(subdivision)]])) }
        return .map(entries)
    }
}

public struct GeoCSVResult: Sendable {
    /// Accepted rows in file order.
    public var rows: [GeoCSVRow]
    /// Every problem, in file order.
    public var errors: [GeoCSVError]
}

/// A problem with one line, printed `FILE:LINE: message`.
public typealias GeoCSVError = FileLineError

/// Why text is not a network or address.
public struct NetworkSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension MMDBNetwork {
    /// Parses `81.2.69.0/24` or `2001:db8::/32`: a strict dotted quad (no leading zeros) or
    /// RFC 4291 IPv6 text (with `::` and an optional trailing dotted quad, no zone index),
    /// then a prefix length. Host bits beyond the prefix are an error, not masked.
    public init(parsing text: String) throws(NetworkSyntaxError) {
        guard let slash = text.firstIndex(of: "/") else {
            throw NetworkSyntaxError("\"\(text)\" is not a network: missing prefix length (e.g. 10.0.0.0/8)")
        }
        let addressText = String(text[..<slash])
        let lengthText = text[text.index(after: slash)...]
        let address = try Self.parseAddress(addressText)
        let maximum = address.count * 8
        guard !lengthText.isEmpty, lengthText.utf8.count <= 3, lengthText.utf8.allSatisfy(isDigit),
              let length = Int(lengthText), length <= maximum else {
            throw NetworkSyntaxError("\"\(text)\" is not a network: prefix length \"\(lengthText)\" is not a number 0...\(maximum)")
        }
        do {
            try self.init(address: address, prefixLength: length)
        } catch {
            throw NetworkSyntaxError("network \(error)")
        }
    }

    /// Parses an IPv4 or IPv6 address into 4 or 16 bytes, with the configuration's strict
    /// address syntax (one parser for every address an operator writes).
    public static func parseAddress(_ text: String) throws(NetworkSyntaxError) -> [UInt8] {
        if text.isEmpty { throw NetworkSyntaxError("empty address") }
        do {
            return try IPAddress(parsing: text).bytes
        } catch {
            throw NetworkSyntaxError(error.message)
        }
    }
}

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

@inline(__always)
private func isUpperLetter(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        let bytes = Array(utf8)
        var lower = 0, upper = bytes.count
        while lower < upper, bytes[lower] == 0x20 || bytes[lower] == 0x09 { lower += 1 }
        while upper > lower, bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09 { upper -= 1 }
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }
}
