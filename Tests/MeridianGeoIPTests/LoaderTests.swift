#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MeridianGeoIP
import MeridianRouting
import MeridianWire
import Testing

/// The loader reads real MMDB files through libmaxminddb; the files are written by our own
/// writer from the readable CSV below (see MMDBWriterTests for how they read in mmdblookup).
let loaderCSV = """
network,latitude,longitude,country,continent,subdivision
81.2.69.0/24,51.5,-0.12,GB,EU,ENG
81.2.0.0/16,52.0,-1.0,GB,EU,
8.8.8.0/24,37.75,-97.82,US,NA,
12.34.0.0/16,,,US,NA,
2001:200::/32,35.69,139.75,JP,AS,13
"""

func writeDatabase(_ csv: String) throws -> String {
    let rows = GeoCSV.parse(csv, file: "fixture.csv")
    #expect(rows.errors.isEmpty)
    let bytes = try GeoCSV.writer(for: rows.rows, description: "test", buildEpoch: 1).serialize().bytes
    return try writeTemporary(bytes)
}

func writeTemporary(_ bytes: [UInt8]) throws -> String {
    var template = Array("/tmp/meridian-geo-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    #expect(fd >= 0)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

let sampleDatabase = "data/GeoLite2-City.mmdb"

func client(_ octets: [UInt8]) -> ClientAddress {
    var storage: (UInt64, UInt64) = (0, 0)
    withUnsafeMutableBytes(of: &storage) { out in for (index, byte) in octets.enumerated() { out[index] = byte } }
    return ClientAddress(family: octets.count == 4 ? .ipv4 : .ipv6, octets: storage)
}

@Suite struct LoaderTests {
    @Test func compilesTheTreeAndTheRecords() throws {
        let path = try writeDatabase(loaderCSV)
        defer { unlink(path) }
        let (trie, summary) = try GeoDatabaseLoader.load(path: path)
        #expect(summary.ipVersion == 6)
        #expect(summary.databaseType == "Meridian-City")
        #expect(summary.withCoordinates == 4)

        let london = trie.lookup(client([81, 2, 69, 142]))
        #expect(london.prefixLength == 24)
        let place = try #require(london.location >= 0 ? trie.locations[london.location] : nil)
        #expect(place.hasCoordinates && place.latitude == 51.5 && place.longitude == -0.12)
        #expect(place.countryCode == "GB" && place.continentCode == "EU" && place.subdivisionCode == "ENG")

        // Beside the /24 the /16 is split: the reported network is the largest block around
        // the address with one record (81.2.0.0/18 here), which is what the ECS scope says.
        let around = trie.lookup(client([81, 2, 1, 1]))
        #expect(around.prefixLength == 18)
        #expect(trie.locations[around.location].latitude == 52.0)

        let noCoordinates = trie.lookup(client([12, 34, 5, 6]))
        #expect(noCoordinates.location >= 0 && !trie.locations[noCoordinates.location].hasCoordinates)
        #expect(trie.locations[noCoordinates.location].countryCode == "US")

        let unknown = trie.lookup(client([10, 1, 2, 3]))
        #expect(unknown.location == -1)

        let tokyo = trie.lookup(client([0x20, 0x01, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))
        #expect(tokyo.prefixLength == 32)
        #expect(trie.locations[tokyo.location].countryCode == "JP")
    }

    /// Records shaped as GeoIP2 City records are, and records shaped as they should not be:
    /// the loader's own reader of the data section must place every network exactly where
    /// libmaxminddb's `MMDB_aget_value` places it (explain reads through libmaxminddb).
    static let oddRecords: [(network: String, record: MMDBValue)] = {
        let names: MMDBValue = ["de": "München", "en": "Munich", "ja": "ミュンヘン", "zh-CN": "慕尼黑"]
        let germany: MMDBValue = ["geoname_id": .uint32(2_921_044), "iso_code": "DE", "names": names]
        let europe: MMDBValue = ["code": "EU", "geoname_id": .uint32(6_255_148), "names": names]
        let full: MMDBValue = [
            "city": ["geoname_id": .uint32(2_867_714), "names": names],
            "continent": europe, "country": germany,
            "location": ["accuracy_radius": .uint16(20), "latitude": 48.1374, "longitude": 11.5755, "time_zone": "Europe/Berlin"],
            "postal": ["code": "80331"], "registered_country": germany,
            "subdivisions": [["geoname_id": .uint32(2_951_839), "iso_code": "BY", "names": names], ["iso_code": "09"]],
        ]
        return [
            ("198.51.100.0/26", full),
            // Only the registered country.
            ("198.51.100.64/26", ["registered_country": ["iso_code": "US"], "continent": ["code": "NA"]]),
            // A country beside the registered one wins, even when it is too short to use.
            ("198.51.100.128/26", ["country": ["iso_code": "F"], "registered_country": ["iso_code": "FR"]]),
            ("198.51.100.192/26", ["country": ["iso_code": "DEU"], "subdivisions": [["iso_code": "ENGX"]], "location": ["latitude": 10.0]]),
            // Wrong types where maps, strings and numbers belong.
            ("203.0.113.0/26", ["location": ["latitude": "48.1", "longitude": 11.5], "country": "DE", "continent": .array(["EU"])]),
            ("203.0.113.64/26", ["subdivisions": ["0": ["iso_code": "BY"]], "country": ["iso_code": .uint16(7)]]),
            ("203.0.113.128/26", ["subdivisions": .array([]), "location": ["longitude": -0.0, "latitude": 0.0], "continent": ["code": ""]]),
            ("203.0.113.192/26", ["boolean": true, "big": .uint64(.max), "nested": .array([.array([.map([("a", .array([]))])])]),
                                  "country": ["names": names, "iso_code": "JP"]]),
            ("2001:db8:100::/48", ["location": ["latitude": -33.8688, "longitude": 151.2093], "continent": europe]),
            ("2001:db8:200::/48", .map([])),
        ]
    }()

    @Test func ownRecordReaderAgreesWithLibmaxminddb() throws {
        var writer = MMDBWriter(databaseType: "GeoIP2-City", description: "odd records")
        for (network, record) in Self.oddRecords {
            try writer.insert(MMDBNetwork(parsing: network), record: record)
        }
        let path = try writeTemporary(try writer.serialize().bytes)
        defer { unlink(path) }
        let database = try GeoDatabase(path: path)
        let (trie, _) = try database.compile()
        var placed = 0
        for (network, _) in Self.oddRecords {
            let probe = client(try MMDBNetwork(parsing: network).address)
            let fromLibrary = database.locate(probe)
            #expect(trie.locate(probe) == fromLibrary, "\(network)")
            if fromLibrary.location != nil { placed += 1 }
        }
        #expect(placed == Self.oddRecords.count)
        let munich = try #require(trie.locate(client([198, 51, 100, 1])).location)
        #expect(munich.latitude == 48.1374 && munich.countryCode == "DE" && munich.continentCode == "EU" && munich.subdivisionCode == "BY")
        #expect(trie.locate(client([198, 51, 100, 65])).location?.countryCode == "US")
        #expect(trie.locate(client([198, 51, 100, 65])).location?.continentCode == "NA")
        #expect(trie.locate(client([198, 51, 100, 129])).location?.countryCode == nil)
        #expect(trie.locate(client([198, 51, 100, 193])).location?.subdivisionCode == "ENG")
        #expect(trie.locate(client([198, 51, 100, 193])).location?.hasCoordinates == false)
    }

    /// The same over a real City database, when one is at hand (`make run` downloads the sample).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: sampleDatabase)))
    func ownRecordReaderAgreesWithLibmaxminddbOnTheSampleDatabase() throws {
        let database = try GeoDatabase(path: sampleDatabase)
        let (trie, summary) = try database.compile()
        #expect(summary.withCoordinates > 10_000)
        var generator = SystemRandomNumberGenerator()
        var differ: [String] = []
        for round in 0..<40_000 {
            let octets: [UInt8] = round % 4 == 0
                ? [0x20, 0x01 + UInt8.random(in: 0...0x0f, using: &generator)] + (0..<14).map { _ in UInt8.random(in: 0...255, using: &generator) }
                : (0..<4).map { _ in UInt8.random(in: 1...223, using: &generator) }
            let probe = client(octets)
            if trie.locate(probe) != database.locate(probe) { differ.append(octets.map(String.init).joined(separator: ".")) }
        }
        #expect(differ.isEmpty, "\(differ.prefix(5))")
    }

    @Test func rejectsAFileThatIsNotADatabase() throws {
        let path = try writeTemporary(Array("this is not a MaxMind database\n".utf8))
        defer { unlink(path) }
        #expect {
            try GeoDatabaseLoader.load(path: path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("cannot open GeoIP database")
        }
    }

    @Test func rejectsATruncatedDatabase() throws {
        let rows = GeoCSV.parse(loaderCSV, file: "fixture.csv")
        let bytes = try GeoCSV.writer(for: rows.rows, description: "test", buildEpoch: 1).serialize().bytes
        for cut in [bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            let path = try writeTemporary(Array(bytes[..<cut]))
            defer { unlink(path) }
            #expect(throws: GeoDatabaseError.self) { try GeoDatabaseLoader.load(path: path) }
        }
    }

    @Test func reportsAMissingFile() {
        #expect {
            try GeoDatabaseLoader.load(path: "/nonexistent/GeoLite2-City.mmdb")
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent/GeoLite2-City.mmdb:0: cannot open GeoIP database")
        }
    }
}
