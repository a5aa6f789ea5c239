#if canImport(Glibc)
import Glibc
#endif
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
    return String(cString: template)
}

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
