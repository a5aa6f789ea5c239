import CMaxMindDB
import Foundation
import MeridianFiles
import MeridianGeoIP
import Testing

// Databases are written by MMDBWriter from CSV text kept in this file, then read back by the
// reference reader, libmaxminddb: through its C API and through its `mmdblookup` tool (Debian
// mmdb-bin, installed by `make test`). No .mmdb file is committed.
//
// What libmaxminddb reports as the netmask: the depth of the tree leaf that answered, counted
// in the IPv6 tree. An IPv4 address is looked up below ::/96, so an IPv4 /24 reports 120
// (96 + 24). A lookup that falls in a less specific network beside a more specific one
// reports the largest block around the address that holds one record: with 81.2.69.0/24
// inside 81.2.0.0/16, 81.2.1.1 reports 96 + 18, because 81.2.0.0/18 is the largest block
// around it that the /24 does not touch.

@Suite struct MMDBWriterTests {
    /// Rows for most tests: nested IPv4 networks, IPv6, a record without location, a record
    /// with nothing at all, written out of order and with comments, blank lines and a header.
    static let cityCSV = """
    network,latitude,longitude,country,continent,subdivision
    # London inside a /16 placed in Paris
    81.2.0.0/16,48.85,2.35,FR,EU,

    81.2.69.0/24,51.5,-0.12,GB,EU,ENG
    2001:db8::/32,35.68,139.69,JP,AS,13
    2001:db8:1::/48,,,DE,EU,
    # no location, no country: only the continent
    203.0.113.0/24,,,,OC,
    10.0.0.0/8,,,,,
    """

    // MARK: - libmaxminddb through its C API

    @Test func cityRecordsReadBackThroughLibmaxminddb() throws {
        try withDatabase(csv: Self.cityCSV) { database, _ in
            let london = try #require(database.lookup("81.2.69.142"))
            #expect(london.netmask == 120)
            #expect(london.double("location", "latitude") == 51.5)
            #expect(london.double("location", "longitude") == -0.12)
            #expect(london.string("country", "iso_code") == "GB")
            #expect(london.string("continent", "code") == "EU")
            #expect(london.string("subdivisions", "0", "iso_code") == "ENG")
            #expect(london.type("location") == UInt32(MMDB_DATA_TYPE_MAP))
            #expect(london.type("subdivisions") == UInt32(MMDB_DATA_TYPE_ARRAY))
            #expect(london.type("location", "latitude") == UInt32(MMDB_DATA_TYPE_DOUBLE))
            #expect(london.type("country", "iso_code") == UInt32(MMDB_DATA_TYPE_UTF8_STRING))

            // The /16 around the /24 keeps its own data.
            let paris = try #require(database.lookup("81.2.1.1"))
            #expect(paris.netmask == 96 + 18)
            #expect(paris.double("location", "latitude") == 48.85)
            #expect(paris.string("country", "iso_code") == "FR")
            #expect(paris.type("subdivisions") == nil)
            let parisFar = try #require(database.lookup("81.2.255.255"))
            #expect(parisFar.netmask == 96 + 17)
            #expect(parisFar.string("country", "iso_code") == "FR")

            // IPv6, and a more specific IPv6 network without a location.
            let tokyo = try #require(database.lookup("2001:db8:ffff::1"))
            #expect(tokyo.netmask == 33)  // 2001:db8:8000::/33 is the half without the /48
            #expect(tokyo.double("location", "longitude") == 139.69)
            #expect(tokyo.string("subdivisions", "0", "iso_code") == "13")
            let germany = try #require(database.lookup("2001:db8:1:2::3"))
            #expect(germany.netmask == 48)
            #expect(germany.string("country", "iso_code") == "DE")
            #expect(germany.type("location") == nil)

            let oceania = try #require(database.lookup("203.0.113.7"))
            #expect(oceania.type("location") == nil)
            #expect(oceania.type("country") == nil)
            #expect(oceania.string("continent", "code") == "OC")
            let nothing = try #require(database.lookup("10.20.30.40"))
            #expect(nothing.type() == UInt32(MMDB_DATA_TYPE_MAP))
            #expect(nothing.size() == 0)

            // IPv4-mapped IPv6 addresses find the IPv4 data (::ffff:0:0/96 is an alias).
            let mapped = try #require(database.lookup("::ffff:81.2.69.142"))
            #expect(mapped.netmask == 120)
            #expect(mapped.string("country", "iso_code") == "GB")

            #expect(database.lookup("192.0.2.1") == nil)
            #expect(database.lookup("2001:db9::1") == nil)
            #expect(database.lookup("::1") == nil)
        }
    }

    @Test func metadataFieldsHaveTheTypesLibmaxminddbRequires() throws {
        var writer = MMDBWriter(databaseType: "Meridian-Test", description: "metadata check",
                                languages: ["en", "de"], buildEpoch: 1_764_000_000)
        try writer.insert(network("192.0.2.0/24"), record: ["x": .uint16(1)])
        let file = try writer.serialize()
        try withDatabase(bytes: file.bytes) { database in
            let metadata = database.metadata
            #expect(metadata.node_count == UInt32(file.nodeCount))
            #expect(metadata.record_size == 24)
            #expect(file.recordSize == .bits24)
            #expect(metadata.ip_version == 6)
            #expect(String(cString: metadata.database_type) == "Meridian-Test")
            #expect(metadata.binary_format_major_version == 2)
            #expect(metadata.binary_format_minor_version == 0)
            #expect(metadata.build_epoch == 1_764_000_000)
            #expect(metadata.languages.count == 2)
            #expect(String(cString: metadata.languages.names[0]!) == "en")
            #expect(String(cString: metadata.languages.names[1]!) == "de")
            #expect(metadata.description.count == 1)
            let description = try #require(metadata.description.descriptions[0])
            #expect(String(cString: description.pointee.language) == "en")
            #expect(String(cString: description.pointee.description) == "metadata check")
        }
        // The metadata is the last thing in the file, after the last marker.
        let marker = MMDBWriter.metadataMarker
        let markerStart = try #require(lastRange(of: marker, in: file.bytes))
        #expect(markerStart > file.bytes.count - 400)
        // The 16 zero bytes between tree and data.
        let treeBytes = file.nodeCount * 6
        #expect(file.bytes[treeBytes..<(treeBytes + 16)].allSatisfy { $0 == 0 })
    }

    @Test func everyValueTypeKeepsItsTypeAndValue() throws {
        let long29 = String(repeating: "a", count: 29)          // size in one extra byte
        let long300 = String(repeating: "b", count: 300)        // two extra bytes
        let long70000 = String(repeating: "c", count: 70_000)   // three extra bytes
        let record: MMDBValue = [
            "empty": "",
            "utf8": "Zürich – 東京",
            "s29": .string(long29),
            "s300": .string(long300),
            "s70000": .string(long70000),
            "double": .double(-33.8688),
            "zero16": .uint16(0),
            "max16": .uint16(.max),
            "u32": .uint32(70_000),
            "max32": .uint32(.max),
            "zero64": .uint64(0),
            "max64": .uint64(.max),
            "true": true,
            "false": false,
            "array": .array((0..<40).map { .uint32(UInt32($0)) }),
            "emptyArray": [],
            "emptyMap": [:],
            "nested": ["deeper": ["deepest": [1.5, "two", true]]],
        ]
        var writer = MMDBWriter(databaseType: "Types", description: "every type")
        try writer.insert(network("2001:db8::/32"), record: record)
        try withDatabase(bytes: try writer.serialize().bytes) { database in
            let found = try #require(database.lookup("2001:db8::1"))
            #expect(found.string("empty") == "")
            #expect(found.string("utf8") == "Zürich – 東京")
            #expect(found.string("s29") == long29)
            #expect(found.string("s300") == long300)
            #expect(found.string("s70000") == long70000)
            #expect(found.double("double") == -33.8688)
            #expect(found.type("zero16") == UInt32(MMDB_DATA_TYPE_UINT16))
            #expect(found.data("zero16")?.uint16 == 0)
            #expect(found.data("max16")?.uint16 == .max)
            #expect(found.type("u32") == UInt32(MMDB_DATA_TYPE_UINT32))
            #expect(found.data("u32")?.uint32 == 70_000)
            #expect(found.data("max32")?.uint32 == .max)
            #expect(found.type("max64") == UInt32(MMDB_DATA_TYPE_UINT64))
            #expect(found.data("zero64")?.uint64 == 0)
            #expect(found.data("max64")?.uint64 == .max)
            #expect(found.type("true") == UInt32(MMDB_DATA_TYPE_BOOLEAN))
            #expect(found.data("true")?.boolean == true)
            #expect(found.data("false")?.boolean == false)
            #expect(found.type("array") == UInt32(MMDB_DATA_TYPE_ARRAY))
            #expect(found.size("array") == 40)
            #expect(found.data("array", "39")?.uint32 == 39)
            #expect(found.size("emptyArray") == 0)
            #expect(found.type("emptyMap") == UInt32(MMDB_DATA_TYPE_MAP))
            #expect(found.size("emptyMap") == 0)
            #expect(found.double("nested", "deeper", "deepest", "0") == 1.5)
            #expect(found.string("nested", "deeper", "deepest", "1") == "two")
            #expect(found.data("nested", "deeper", "deepest", "2")?.boolean == true)
        }
    }

    @Test func networksMayComeInAnyOrder() throws {
        let entries: [(String, MMDBValue)] = [
            ("0.0.0.0/0", ["name": "v4 default"]),
            ("81.2.0.0/16", ["name": "the /16"]),
            ("81.2.69.0/24", ["name": "the /24"]),
            ("81.2.69.128/25", ["name": "the /25"]),
            ("81.2.69.200/32", ["name": "one host"]),
            ("2001:db8::/32", ["name": "v6"]),
        ]
        func build(_ order: [(String, MMDBValue)]) throws -> [UInt8] {
            var writer = MMDBWriter(databaseType: "Order", description: "order", buildEpoch: 1)
            for (text, record) in order { try writer.insert(network(text), record: record) }
            return try writer.serialize().bytes
        }
        let forward = try build(entries)
        #expect(try build(entries.reversed()) == forward)
        #expect(try build([entries[3], entries[0], entries[5], entries[2], entries[4], entries[1]]) == forward)
        try withDatabase(bytes: forward) { database in
            let cases: [(String, String, UInt16)] = [
                ("1.2.3.4", "v4 default", 96 + 2),
                ("81.2.1.1", "the /16", 96 + 18),
                ("81.2.69.1", "the /24", 96 + 25),
                ("81.2.69.129", "the /25", 96 + 26),
                ("81.2.69.200", "one host", 128),
                ("81.2.69.201", "the /25", 128),
                ("2001:db8::1", "v6", 32),
            ]
            for (address, name, netmask) in cases {
                let found = try #require(database.lookup(address), "\(address)")
                #expect(found.string("name") == name, "\(address)")
                #expect(found.netmask == netmask, "\(address)")
            }
        }
    }

    @Test func theLaterOfTwoEqualNetworksWins() throws {
        var writer = MMDBWriter(databaseType: "Twice", description: "twice")
        try writer.insert(network("192.0.2.0/24"), record: ["n": "first"])
        try writer.insert(network("192.0.2.0/24"), record: ["n": "second"])
        try withDatabase(bytes: try writer.serialize().bytes) { database in
            #expect(database.lookup("192.0.2.9")?.string("n") == "second")
        }
    }

    @Test func identicalRecordsAreStoredOnce() throws {
        var writer = MMDBWriter(databaseType: "Dedup", description: "dedup")
        let record: MMDBValue = ["location": ["latitude": 50.11, "longitude": 8.68], "country": ["iso_code": "DE"]]
        for index in 0..<1_000 {
            try writer.insert(network("10.\(index / 256).\(index % 256).0/24"), record: record)
        }
        try writer.insert(network("2001:db8::/32"), record: record)
        let file = try writer.serialize()
        #expect(file.recordCount == 1)
        // 1,000 adjacent /24s holding one record merge into 10.0.0.0/14 and 10.3.0.0/15, ...:
        // a handful of nodes, not thousands.
        #expect(file.nodeCount < 200)
        try withDatabase(bytes: file.bytes) { database in
            #expect(database.lookup("10.3.231.1")?.string("country", "iso_code") == "DE")
            #expect(database.lookup("10.3.232.1") == nil)
            #expect(database.lookup("2001:db8::5")?.double("location", "latitude") == 50.11)
        }
    }

    @Test func repeatedKeysAndValuesBecomePointers() throws {
        var writer = MMDBWriter(databaseType: "Pointers", description: "pointers")
        for index in 0..<500 {
            try writer.insert(network("198.18.\(index / 256).\(index % 256)/32"),
                              record: ["location": ["latitude": .double(Double(index) / 10), "longitude": 8.68],
                                       "country": ["iso_code": "DE"], "continent": ["code": "EU"]])
        }
        let file = try writer.serialize()
        #expect(file.recordCount == 500)
        // Each record repeats "location", "latitude", "longitude", "country", "iso_code", "DE",
        // "continent", "code", "EU" and 8.68: 76 bytes written out, far less as pointers.
        let dataBytes = file.bytes.count - file.nodeCount * 6 - 16
        #expect(dataBytes < 500 * 40)
        try withDatabase(bytes: file.bytes) { database in
            for index in [0, 1, 255, 256, 499] {
                let found = try #require(database.lookup("198.18.\(index / 256).\(index % 256)"))
                #expect(found.double("location", "latitude") == Double(index) / 10)
                #expect(found.double("location", "longitude") == 8.68)
                #expect(found.string("country", "iso_code") == "DE")
                #expect(found.string("continent", "code") == "EU")
            }
        }
    }

    @Test func withoutTheAliasIPv4MappedAddressesFindNothing() throws {
        var writer = MMDBWriter(databaseType: "NoAlias", description: "no alias", aliasesIPv4Mapped: false)
        try writer.insert(network("81.2.69.0/24"), record: ["n": "v4"])
        try withDatabase(bytes: try writer.serialize().bytes) { database in
            #expect(database.lookup("81.2.69.1")?.string("n") == "v4")
            #expect(database.lookup("::ffff:81.2.69.1") == nil)
        }
        // With the alias, a network written inside ::ffff:0:0/96 is the IPv4 network it stands for.
        var aliased = MMDBWriter(databaseType: "Alias", description: "alias")
        try aliased.insert(network("::ffff:81.2.69.0/120"), record: ["n": "mapped"])
        try withDatabase(bytes: try aliased.serialize().bytes) { database in
            #expect(database.lookup("81.2.69.1")?.netmask == 120)
            #expect(database.lookup("81.2.69.1")?.string("n") == "mapped")
            #expect(database.lookup("::ffff:81.2.69.1")?.string("n") == "mapped")
        }
    }

    @Test func anIPv6DefaultAlsoCoversIPv4AddressesOutsideIPv4Networks() throws {
        var writer = MMDBWriter(databaseType: "Default", description: "default")
        try writer.insert(network("::/0"), record: ["n": "default"])
        try writer.insert(network("81.2.69.0/24"), record: ["n": "london"])
        try withDatabase(bytes: try writer.serialize().bytes) { database in
            #expect(database.lookup("2001:db8::1")?.string("n") == "default")
            #expect(database.lookup("81.2.69.1")?.string("n") == "london")
            #expect(database.lookup("::ffff:81.2.69.1")?.string("n") == "london")
            // ::/96 lies inside ::/0, and IPv4 addresses are looked up below ::/96.
            #expect(database.lookup("192.0.2.1")?.string("n") == "default")
        }
    }

    @Test func anEmptyDatabaseOpensAndFindsNothing() throws {
        let file = try MMDBWriter(databaseType: "Empty", description: "empty").serialize()
        #expect(file.nodeCount == 1)
        #expect(file.recordCount == 0)
        try withDatabase(bytes: file.bytes) { database in
            #expect(database.lookup("192.0.2.1") == nil)
            #expect(database.lookup("2001:db8::1") == nil)
        }
    }

    // MARK: - Record sizes and size

    @Test(arguments: MMDBRecordSize.allCases)
    func everyRecordSizeReadsTheSame(size: MMDBRecordSize) throws {
        let rows = try parsedRows(Self.cityCSV)
        var writer = GeoCSV.writer(for: rows, description: "sizes", buildEpoch: 1)
        writer.recordSize = size
        let file = try writer.serialize()
        #expect(file.recordSize == size)
        #expect(file.bytes[(file.nodeCount * size.rawValue / 4)...].starts(with: [UInt8](repeating: 0, count: 16)))
        try withDatabase(bytes: file.bytes) { database in
            #expect(database.metadata.record_size == UInt16(size.rawValue))
            #expect(database.lookup("81.2.69.142")?.string("subdivisions", "0", "iso_code") == "ENG")
            #expect(database.lookup("81.2.68.1")?.string("country", "iso_code") == "FR")
            #expect(database.lookup("2001:db8:1::9")?.string("country", "iso_code") == "DE")
            #expect(database.lookup("::ffff:203.0.113.1")?.string("continent", "code") == "OC")
        }
    }

    /// A data section beyond 2^24 bytes: record values no longer fit 24 bits, so the writer
    /// picks 28-bit records and the top four bits of each record go into the shared middle byte
    /// of its node (high nibble left, low nibble right). Records after the large one are reached
    /// through 4-byte pointers (27-bit offsets) to keys written after it.
    @Test func largeDataSectionsSwitchTo28BitRecords() throws {
        var writer = MMDBWriter(databaseType: "Large", description: "large")
        let blob = String(repeating: "x", count: 16_800_000)
        // 8000::/1 sits at depth 1, so its record is written first and the others after 16.8 MB.
        try writer.insert(network("8000::/1"), record: ["blob": .string(blob)])
        for (text, name) in [("81.2.68.0/24", "left"), ("81.2.69.0/24", "right"), ("2001:db8::/32", "v6")] {
            try writer.insert(network(text), record: ["name": .string(name), "location": ["latitude": 1.5, "longitude": 2.5]])
        }
        try writer.insert(network("192.0.2.0/24"), record: ["name": "other", "location": ["latitude": 3.5, "longitude": 2.5]])
        let file = try writer.serialize()
        #expect(file.recordSize == .bits28)
        try withDatabase(bytes: file.bytes) { database in
            #expect(database.metadata.record_size == 28)
            #expect(database.lookup("81.2.68.1")?.string("name") == "left")
            #expect(database.lookup("81.2.69.1")?.string("name") == "right")
            #expect(database.lookup("2001:db8::1")?.double("location", "latitude") == 1.5)
            #expect(database.lookup("192.0.2.1")?.double("location", "latitude") == 3.5)
            #expect(database.lookup("192.0.2.1")?.double("location", "longitude") == 2.5)
            #expect(database.lookup("8000::1")?.size("blob") == blob.utf8.count)
        }
        writer.recordSize = .bits24
        #expect(throws: MMDBWriterError.self) { try writer.serialize() }
    }

    /// 50,000 networks (IPv4 /24s and IPv6 /48s) from a generated CSV: the parser, writer and reader at
    /// scale. (24-bit records address about 16.7 million nodes and data bytes together; a
    /// database that needs 28 bits is covered above.)
    @Test func fiftyThousandNetworks() throws {
        var csv = "network,latitude,longitude,country,continent,subdivision\n"
        var expected: [(address: String, latitude: Double, country: String, netmask: UInt16)] = []
        let countries = ["DE", "FR", "GB", "US", "JP", "BR", "AU", "ZA"]
        for index in 0..<50_000 {
            let latitude = Double(index - 25_000) / 1_000  // unique: no two rows share a record
            let longitude = Double(index % 36_000) / 200 - 90
            let country = countries[index % countries.count]
            let sample = index % 97 == 0
            if index % 5 == 4 {
                // IPv6 /48s
                let group = String(index, radix: 16)
                csv += "2001:db8:\(group)::/48,\(latitude),\(longitude),\(country),EU,\n"
                if sample { expected.append(("2001:db8:\(group):1::1", latitude, country, 48)) }
            } else {
                // IPv4 /24s spread over 64.0.0.0/2 (an odd multiplier permutes the 2^22 /24s).
                let value = (0x40_0000 | UInt32(truncatingIfNeeded: index &* 2_654_435_761) & 0x3F_FFFF) << 8
                let prefix = "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255)"
                csv += "\(prefix).0/24,\(latitude),\(longitude),\(country),EU,\n"
                if sample { expected.append(("\(prefix).77", latitude, country, 120)) }
            }
        }
        let parsed = GeoCSV.parse(csv, file: "big.csv")
        #expect(parsed.errors.isEmpty, "\(parsed.errors.prefix(3))")
        #expect(parsed.rows.count == 50_000)
        let file = try GeoCSV.writer(for: parsed.rows, description: "big").serialize()
        #expect(file.recordCount == 50_000)
        #expect(file.recordSize == .bits24)
        try withDatabase(bytes: file.bytes) { database in
            #expect(database.metadata.node_count == UInt32(file.nodeCount))
            #expect(expected.count > 500)
            for item in expected {
                let found = try #require(database.lookup(item.address), "\(item.address)")
                #expect(found.netmask == item.netmask)
                #expect(found.double("location", "latitude") == item.latitude)
                #expect(found.string("country", "iso_code") == item.country)
            }
        }
    }

    // MARK: - Damaged files

    /// A cut anywhere — through the tree, the data, the marker or the metadata — is refused by
    /// MMDB_open, so a loader can rely on it to reject a half-copied file.
    @Test func truncatedFilesAreRejectedByMMDBOpen() throws {
        let rows = try parsedRows(Self.cityCSV)
        let bytes = try GeoCSV.writer(for: rows, description: "cut").serialize().bytes
        let marker = try #require(lastRange(of: MMDBWriter.metadataMarker, in: bytes))
        let cuts = [0, 1, 100, bytes.count / 2, marker - 1, marker + 5, marker + 14, marker + 20, bytes.count - 10, bytes.count - 1]
        try withTemporaryDirectory { directory in
            let whole = directory + "/whole.mmdb"
            try Data(bytes).write(to: URL(fileURLWithPath: whole))
            #expect(openStatus(whole) == MMDB_SUCCESS)
            for cut in cuts {
                let path = directory + "/cut-\(cut).mmdb"
                try Data(bytes[..<cut]).write(to: URL(fileURLWithPath: path))
                #expect(openStatus(path) != MMDB_SUCCESS, "cut at \(cut) of \(bytes.count)")
            }
        }
    }

    // MARK: - mmdblookup

    @Test func mmdblookupReadsTheFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/city.mmdb"
            let rows = try parsedRows(Self.cityCSV)
            try Data(try GeoCSV.writer(for: rows, description: "for mmdblookup").serialize().bytes).write(to: URL(fileURLWithPath: path))
            #expect(try mmdblookup(path, "81.2.69.142", "location", "latitude") == "51.500000 <double>")
            #expect(try mmdblookup(path, "81.2.69.142", "location", "longitude") == "-0.120000 <double>")
            #expect(try mmdblookup(path, "81.2.69.142", "country", "iso_code") == "\"GB\" <utf8_string>")
            #expect(try mmdblookup(path, "81.2.69.142", "subdivisions", "0", "iso_code") == "\"ENG\" <utf8_string>")
            #expect(try mmdblookup(path, "81.2.1.1", "country", "iso_code") == "\"FR\" <utf8_string>")
            #expect(try mmdblookup(path, "::ffff:81.2.69.142", "continent", "code") == "\"EU\" <utf8_string>")
            #expect(try mmdblookup(path, "2001:db8::1", "location", "latitude") == "35.680000 <double>")
            #expect(try mmdblookup(path, "2001:db8:1::1", "country", "iso_code") == "\"DE\" <utf8_string>")
            // The whole record prints, pointers followed.
            let whole = try mmdblookup(path, "81.2.69.142")
            for fragment in ["\"location\":", "\"subdivisions\":", "\"ENG\" <utf8_string>", "51.500000 <double>"] {
                #expect(whole.contains(fragment), "\(fragment)")
            }
            let verbose = try run("/usr/bin/mmdblookup", ["--file", path, "--ip", "81.2.69.142", "--verbose"])
            #expect(verbose.output.contains("Record prefix length: 120"))
            #expect(verbose.output.contains("Type:          Meridian-City"))
            let missing = try run("/usr/bin/mmdblookup", ["--file", path, "--ip", "192.0.2.1"])
            #expect(missing.output.contains("Could not find an entry"))
        }
    }

    // MARK: - CSV

    @Test func csvErrorsAreAllReportedWithTheirLines() {
        let text = """
        network,latitude,longitude,country,continent,subdivision
        # every line below has something wrong except 5 and 11
        81.2.69.1/24,51.5,-0.12,GB,EU,ENG
        81.2.0.0/16,98,2.35,fr,XX,
        192.0.2.0/24,1,2,US,NA,US-CA
        2001:db8::/32,1,,,EU,
        1.2.3.0/24,1,2,,,CA
        1.2.3.0/24,1,2
        300.1.1.1/8,abc,1e5,,,
        192.0.2.0/24,1,2,,,
        10.0.0.0/8,-90,180,,AN,
        10.0.0.0/33,0,0,,,
        2001:db8::/129,,,,,
        2001:db8:::/32,,,,,
        10.0.0.0,,,,,
        1.2.3.0/24,1,2,US,NA,GB-ENG
        1.2.3.0/24,1,2,US,NA,TOOLONG
        1.2.3.0/24,-,+,USA,,
        010.0.0.0/8,,,,,
        """
        let result = GeoCSV.parse(text, file: "ops.csv")
        #expect(result.rows.map(\.line) == [5, 11])
        #expect(result.errors.map(\.description) == [
            "ops.csv:3: network 81.2.69.1/24 has host bits set beyond its prefix; the network is 81.2.69.0/24",
            "ops.csv:4: latitude 98 is outside -90...90",
            "ops.csv:4: country \"fr\" is not two upper-case letters (ISO 3166-1 alpha-2)",
            "ops.csv:4: continent \"XX\" is not one of AF AN AS EU NA OC SA",
            "ops.csv:6: latitude and longitude must both be given or both be empty",
            "ops.csv:7: a subdivision needs a country",
            "ops.csv:8: expected 6 fields (network,latitude,longitude,country,continent,subdivision), found 3",
            "ops.csv:9: \"300.1.1.1\" is not an IPv4 address: \"300\" is not a number 0...255",
            "ops.csv:9: latitude \"abc\" is not a decimal number",
            "ops.csv:9: longitude \"1e5\" is not a decimal number",
            "ops.csv:10: duplicate network 192.0.2.0/24 (first on line 5)",
            "ops.csv:12: \"10.0.0.0/33\" is not a network: prefix length \"33\" is not a number 0...32",
            "ops.csv:13: \"2001:db8::/129\" is not a network: prefix length \"129\" is not a number 0...128",
            "ops.csv:14: \"2001:db8:::\" is not an IPv6 address: empty group",
            "ops.csv:15: \"10.0.0.0\" is not a network: missing prefix length (e.g. 10.0.0.0/8)",
            "ops.csv:16: subdivision \"GB-ENG\" does not belong to country \"US\"",
            "ops.csv:17: subdivision \"TOOLONG\" is not 1 to 3 upper-case letters or digits (ISO 3166-2 after the hyphen)",
            "ops.csv:18: latitude \"-\" is not a decimal number",
            "ops.csv:18: longitude \"+\" is not a decimal number",
            "ops.csv:18: country \"USA\" is not two upper-case letters (ISO 3166-1 alpha-2)",
            "ops.csv:19: \"010.0.0.0\" is not an IPv4 address: \"010\" has a leading zero",
        ])
        // US-CA is stored as the subdivision code after the hyphen.
        #expect(result.rows.first?.subdivision == "CA")
    }

    @Test func csvHeaderIsOptionalAndChecked() {
        let withoutHeader = GeoCSV.parse("81.2.69.0/24,51.5,-0.12,GB,EU,ENG\n", file: "a.csv")
        #expect(withoutHeader.errors.isEmpty)
        #expect(withoutHeader.rows.count == 1)
        let wrongHeader = GeoCSV.parse("network,lat,lon,country,continent,subdivision\n81.2.69.0/24,51.5,-0.12,GB,EU,ENG\n", file: "b.csv")
        #expect(wrongHeader.errors.map(\.description) == ["b.csv:1: the header must be network,latitude,longitude,country,continent,subdivision"])
        // A header after the first row is not a header.
        let lateHeader = GeoCSV.parse("81.2.69.0/24,51.5,-0.12,GB,EU,ENG\nnetwork,latitude,longitude,country,continent,subdivision\n", file: "c.csv")
        #expect(!lateHeader.errors.isEmpty)
        #expect(Set(lateHeader.errors.map(\.line)) == [2])
    }

    @Test func csvAcceptsCommonSpellings() throws {
        // A byte order mark, CRLF line ends, quoted fields, spaces around fields, an upper-case
        // header, signs and bare decimals, IPv6 with an embedded dotted quad, and a full address.
        let text = "\u{FEFF}Network,Latitude,Longitude,Country,Continent,Subdivision\r\n"
            + "\"81.2.69.0/24\", \"51.5\" ,-0.12,GB,EU,\"ENG\"\r\n"
            + "   \r\n"
            + "  # indented comment\r\n"
            + "192.0.2.0/24,+.5,-180,,NA,\r\n"
            + "::ffff:198.51.100.0/120,90,180.0,US,NA,US-NY\r\n"
            + "2001:0db8:0000:0000:0000:0000:0000:0000/32,0,0,,,\r\n"
            + "0.0.0.0/0,,,,,"
        let result = GeoCSV.parse(text, file: "spellings.csv")
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.rows.map(\.line) == [2, 5, 6, 7, 8])
        #expect(result.rows.map(\.network.description) == ["81.2.69.0/24", "192.0.2.0/24", "::ffff:198.51.100.0/120", "2001:db8::/32", "0.0.0.0/0"])
        #expect(result.rows[1].latitude == 0.5)
        #expect(result.rows[1].longitude == -180)
        #expect(result.rows[2].subdivision == "NY")
        #expect(result.rows[0].record == [
            "location": ["latitude": 51.5, "longitude": -0.12],
            "country": ["iso_code": "GB"],
            "continent": ["code": "EU"],
            "subdivisions": [["iso_code": "ENG"]],
        ])
        #expect(result.rows[1].record == ["location": ["latitude": 0.5, "longitude": -180.0], "continent": ["code": "NA"]])
        #expect(result.rows[4].record == [:])
    }

    @Test func csvFileIsReadFromDisk() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/ops.csv"
            try (Self.cityCSV + "\nnot a network,,,,,\n").write(toFile: path, atomically: true, encoding: .utf8)
            let result = GeoCSV.read(file: path)
            #expect(result.rows.count == 6)
            #expect(result.errors.map(\.description) == ["\(path):11: \"not a network\" is not a network: missing prefix length (e.g. 10.0.0.0/8)"])
            let missing = GeoCSV.read(file: directory + "/nope.csv")
            #expect(missing.errors.map(\.description) == ["\(directory)/nope.csv:1: cannot read: No such file or directory"])
            try Data([0x31, 0x2E, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: directory + "/binary.csv"))
            #expect(GeoCSV.read(file: directory + "/binary.csv").errors.map(\.message) == ["the line is not UTF-8 text"])
        }
    }

    @Test func networkTextRoundTrips() throws {
        let cases: [(String, String)] = [
            ("81.2.69.0/24", "81.2.69.0/24"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("255.255.255.255/32", "255.255.255.255/32"),
            ("2001:DB8::/32", "2001:db8::/32"),
            ("2001:db8:0:0:1:0:0:0/80", "2001:db8:0:0:1::/80"),
            ("2001:db8:0:1:0:0:0:0/64", "2001:db8:0:1::/64"),
            ("::/0", "::/0"),
            ("::1/128", "::1/128"),
            ("fe80::/10", "fe80::/10"),
            ("2001:db8::1.2.3.4/128", "2001:db8::102:304/128"),
            ("::ffff:1.2.3.0/120", "::ffff:1.2.3.0/120"),
            ("1:2:3:4:5:6:7:8/128", "1:2:3:4:5:6:7:8/128"),
            ("1:0:3:4:5:6:7:8/128", "1:0:3:4:5:6:7:8/128"),
        ]
        for (text, canonical) in cases {
            #expect(try MMDBNetwork(parsing: text).description == canonical, "\(text)")
        }
        for bad in ["", "/8", "1.2.3/8", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/+8", "1::2::/8", "12345::/16", "::ffff:1.2.3/120",
                    "fe80::1%eth0/128", "1:2:3:4:5:6:7:8:9/128", "1:2:3:4:5:6:7/112", "1.2.3.4.5/32", "g::/16"] {
            #expect(throws: NetworkSyntaxError.self, "\(bad)") { try MMDBNetwork(parsing: bad) }
        }
        #expect(throws: MMDBWriterError.invalidAddressLength(5)) { try MMDBNetwork(address: [1, 2, 3, 4, 5], prefixLength: 8) }
        #expect(throws: MMDBWriterError.prefixLengthOutOfRange(33, maximum: 32)) { try MMDBNetwork(address: [1, 2, 3, 4], prefixLength: 33) }
    }

    @Test func recordsTheFormatCannotHoldAreRefused() throws {
        var writer = MMDBWriter(databaseType: "Bad", description: "bad")
        #expect(throws: MMDBWriterError.duplicateMapKey("a")) {
            try writer.insert(network("192.0.2.0/24"), record: ["x": .map([(key: "a", value: 1.0), (key: "a", value: 2.0)])])
        }
        #expect(writer.networkCount == 0)
    }

    // MARK: - Helpers


    func network(_ text: String) throws -> MMDBNetwork {
        try MMDBNetwork(parsing: text)
    }

    func parsedRows(_ csv: String) throws -> [GeoCSVRow] {
        let parsed = GeoCSV.parse(csv, file: "test.csv")
        try #require(parsed.errors.isEmpty, "\(parsed.errors)")
        return parsed.rows
    }

    func lastRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in stride(from: haystack.count - needle.count, through: 0, by: -1)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    /// A fresh directory for one test, removed afterwards.
    func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meridian-mmdb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    /// Writes the bytes to a temporary file and opens it with libmaxminddb.
    func withDatabase(bytes: [UInt8], _ body: (OpenDatabase) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/test.mmdb"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let database = try OpenDatabase(path: path)
            try body(database)
        }
    }

    func withDatabase(csv: String, _ body: (OpenDatabase, SerializedMMDB) throws -> Void) throws {
        let file = try GeoCSV.writer(for: try parsedRows(csv), description: "test").serialize()
        try withDatabase(bytes: file.bytes) { try body($0, file) }
    }

    func openStatus(_ path: String) -> Int32 {
        var mmdb = MMDB_s()
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), &mmdb)
        if status == MMDB_SUCCESS { MMDB_close(&mmdb) }
        return status
    }

    struct OpenError: Error, CustomStringConvertible {
        var description: String
    }

    /// A database opened with libmaxminddb, closed when released.
    /// The MMDB_s lives at a fixed address because every looked-up entry points back to it.
    final class OpenDatabase {
        private let mmdb: UnsafeMutablePointer<MMDB_s>

        init(path: String) throws {
            mmdb = .allocate(capacity: 1)
            mmdb.initialize(to: MMDB_s())
            let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), mmdb)
            guard status == MMDB_SUCCESS else {
                mmdb.deallocate()
                throw OpenError(description: "MMDB_open: \(String(cString: MMDB_strerror(status)))")
            }
        }

        deinit {
            MMDB_close(mmdb)
            mmdb.deallocate()
        }

        var metadata: MMDB_metadata_s { mmdb.pointee.metadata }

        /// The record for an address, or nil when the tree has none for it.
        func lookup(_ address: String) -> Found? {
            var gaiError: Int32 = 0
            var mmdbError: Int32 = 0
            let result = MMDB_lookup_string(mmdb, address, &gaiError, &mmdbError)
            precondition(gaiError == 0 && mmdbError == MMDB_SUCCESS, "lookup of \(address) failed")
            guard result.found_entry else { return nil }
            return Found(entry: result.entry, netmask: result.netmask)
        }
    }

    /// A record found by a lookup, with its fields read through `MMDB_aget_value`.
    struct Found {
        var entry: MMDB_entry_s
        var netmask: UInt16

        /// The value at a path of map keys and array indexes, or nil when there is none.
        func data(_ path: String...) -> MMDB_entry_data_s? {
            data(path)
        }

        func type(_ path: String...) -> UInt32? {
            data(path).map(\.type)
        }

        func size(_ path: String...) -> Int? {
            data(path).map { Int($0.data_size) }
        }

        func double(_ path: String...) -> Double? {
            guard let value = data(path), value.type == UInt32(MMDB_DATA_TYPE_DOUBLE) else { return nil }
            return value.double_value
        }

        func string(_ path: String...) -> String? {
            guard let value = data(path), value.type == UInt32(MMDB_DATA_TYPE_UTF8_STRING), let text = value.utf8_string else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: text, count: Int(value.data_size)), as: UTF8.self)
        }

        private func data(_ path: [String]) -> MMDB_entry_data_s? {
            let strings = path.map { strdup($0)! }
            defer { strings.forEach { free($0) } }
            var pointers: [UnsafePointer<CChar>?] = strings.map { UnsafePointer($0) }
            pointers.append(nil)
            var entry = self.entry
            var data = MMDB_entry_data_s()
            let status = pointers.withUnsafeBufferPointer { MMDB_aget_value(&entry, &data, $0.baseAddress) }
            guard status == MMDB_SUCCESS, data.has_data else { return nil }
            return data
        }
    }

    /// Runs a program and returns its standard output and exit status.
    func run(_ program: String, _ arguments: [String]) throws -> (output: String, status: Int32) {
        guard FileManager.default.isExecutableFile(atPath: program) else {
            throw OpenError(description: "\(program) is missing: install the Debian package mmdb-bin (make test does)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: output, as: UTF8.self), process.terminationStatus)
    }

    /// `mmdblookup --file PATH --ip ADDRESS PATH...`, trimmed; the value line for a path.
    func mmdblookup(_ file: String, _ address: String, _ path: String...) throws -> String {
        let result = try run("/usr/bin/mmdblookup", ["--file", file, "--ip", address] + path)
        try #require(result.status == 0, "mmdblookup failed: \(result.output)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
