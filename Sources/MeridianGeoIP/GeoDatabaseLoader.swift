#if canImport(Glibc)
import Glibc
#endif
import CMaxMindDB
import MeridianRouting
import MeridianWire

/// A GeoIP database that cannot be used, with the file it came from.
public struct GeoDatabaseError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path):0: \(message)" }
}

/// What loading found, for logs and `dnsctl check`.
public struct GeoDatabaseSummary: Sendable {
    public var databaseType: String
    public var ipVersion: Int
    public var nodes: Int
    public var records: Int
    public var locations: Int
    public var withCoordinates: Int
    public var withCountry: Int
    public var buildEpoch: UInt64
}

/// Reads a MaxMind DB file through libmaxminddb once, at load time, and compiles it into a
/// `GeoTrie` (gdnsd's approach): the search tree is copied node for node and every data
/// record becomes a small `GeoLocation`. Queries never call into the C library, so its
/// thread-safety and speed do not matter on the hot path.
public enum GeoDatabaseLoader {
    public static func load(path: String) throws(GeoDatabaseError) -> (trie: GeoTrie, summary: GeoDatabaseSummary) {
        // On the heap: data-record entries keep a pointer to it while the tree is read.
        let mmdb = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        mmdb.initialize(to: MMDB_s())
        defer { mmdb.deallocate() }
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), mmdb)
        guard status == MMDB_SUCCESS else {
            var reason = String(cString: MMDB_strerror(status))
            if status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR {
                reason += errno != 0 ? " (\(String(cString: strerror(errno))))" : ""
            }
            throw GeoDatabaseError(path: path, message: "cannot open GeoIP database: \(reason)")
        }
        defer { MMDB_close(mmdb) }
        let metadata = mmdb.pointee.metadata
        guard metadata.binary_format_major_version == 2 else {
            throw GeoDatabaseError(path: path, message: "unsupported MaxMind DB format version \(metadata.binary_format_major_version)")
        }
        guard [24, 28, 32].contains(metadata.record_size), metadata.node_count > 0, metadata.node_count < UInt32.max / 2 else {
            throw GeoDatabaseError(path: path, message: "implausible metadata: \(metadata.node_count) nodes of record size \(metadata.record_size)")
        }
        guard metadata.ip_version == 4 || metadata.ip_version == 6 else {
            throw GeoDatabaseError(path: path, message: "unknown ip_version \(metadata.ip_version)")
        }
        let nodeCount = metadata.node_count
        let databaseType = metadata.database_type.map { String(cString: $0) } ?? "unknown"

        var records = [UInt32](repeating: GeoTrie.noData, count: Int(nodeCount) * 2)
        var locationByOffset: [UInt32: UInt32] = [:]
        var locationIndex: [GeoLocation: UInt32] = [:]
        var locations: [GeoLocation] = []
        let reader = RecordReader()
        defer { reader.free() }
        // The search tree is read straight from the mapped file: records of 24, 28 or 32 bits,
        // two per node (MaxMind DB spec, "Search Tree Section"). Decoding them here is several
        // times faster than MMDB_read_node per node; the data records are still read through
        // libmaxminddb.
        guard let tree = mmdb.pointee.file_content else {
            throw GeoDatabaseError(path: path, message: "database not mapped")
        }
        let recordSize = Int(metadata.record_size)
        let nodeBytes = recordSize / 4
        guard Int(nodeCount) * nodeBytes <= Int(mmdb.pointee.file_size) else {
            throw GeoDatabaseError(path: path, message: "search tree larger than the file")
        }
        let separator: UInt32 = 16
        let dataSize = mmdb.pointee.data_section_size
        var dataRecords = 0
        for number in 0..<Int(nodeCount) {
            let base = tree + number * nodeBytes
            let left: UInt32
            let right: UInt32
            switch recordSize {
            case 24:
                left = UInt32(base[0]) << 16 | UInt32(base[1]) << 8 | UInt32(base[2])
                right = UInt32(base[3]) << 16 | UInt32(base[4]) << 8 | UInt32(base[5])
            case 28:
                left = UInt32(base[3] & 0xF0) << 20 | UInt32(base[0]) << 16 | UInt32(base[1]) << 8 | UInt32(base[2])
                right = UInt32(base[3] & 0x0F) << 24 | UInt32(base[4]) << 16 | UInt32(base[5]) << 8 | UInt32(base[6])
            default:
                left = UInt32(base[0]) << 24 | UInt32(base[1]) << 16 | UInt32(base[2]) << 8 | UInt32(base[3])
                right = UInt32(base[4]) << 24 | UInt32(base[5]) << 16 | UInt32(base[6]) << 8 | UInt32(base[7])
            }
            for side in 0..<2 {
                let value = side == 0 ? left : right
                let slot = number * 2 + side
                if value < nodeCount {
                    records[slot] = value
                    continue
                }
                if value == nodeCount {
                    records[slot] = GeoTrie.noData
                    continue
                }
                guard value >= nodeCount + separator, value - nodeCount - separator < dataSize else {
                    throw GeoDatabaseError(path: path, message: "corrupt search tree at node \(number): record \(value) points outside the data section")
                }
                let offset = value - nodeCount - separator
                if let known = locationByOffset[offset] {
                    records[slot] = nodeCount + known
                    continue
                }
                dataRecords += 1
                var entry = MMDB_entry_s(mmdb: mmdb, offset: offset)
                let location = try reader.read(&entry, path: path)
                let index: UInt32
                if let existing = locationIndex[location] {
                    index = existing
                } else {
                    index = UInt32(locations.count)
                    locationIndex[location] = index
                    locations.append(location)
                }
                locationByOffset[offset] = index
                records[slot] = nodeCount + index
            }
        }
        let trie = GeoTrie(records: records, nodeCount: nodeCount, locations: locations, ipv6Tree: metadata.ip_version == 6)
        let summary = GeoDatabaseSummary(
            databaseType: databaseType, ipVersion: Int(metadata.ip_version), nodes: Int(nodeCount), records: dataRecords,
            locations: locations.count, withCoordinates: locations.filter(\.hasCoordinates).count,
            withCountry: locations.filter { $0.country != 0 || $0.continent != 0 }.count, buildEpoch: metadata.build_epoch)
        return (trie, summary)
    }
}

/// Reads the fields routing needs from one data record with `MMDB_aget_value`
/// (`MMDB_get_value` is variadic, which Swift cannot call). The lookup paths are C strings
/// made once.
final class RecordReader {
    private let latitude: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let longitude: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let country: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let registeredCountry: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let continent: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let subdivision: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private var strings: [UnsafeMutablePointer<CChar>] = []

    init() {
        var made: [UnsafeMutablePointer<CChar>] = []
        func path(_ parts: String...) -> UnsafeMutablePointer<UnsafePointer<CChar>?> {
            let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: parts.count + 1)
            for (index, part) in parts.enumerated() {
                let copy = strdup(part)!
                made.append(copy)
                array[index] = UnsafePointer(copy)
            }
            array[parts.count] = nil
            return array
        }
        latitude = path("location", "latitude")
        longitude = path("location", "longitude")
        country = path("country", "iso_code")
        registeredCountry = path("registered_country", "iso_code")
        continent = path("continent", "code")
        subdivision = path("subdivisions", "0", "iso_code")
        strings = made
    }

    func free() {
        for string in strings { Glibc.free(string) }
        for array in [latitude, longitude, country, registeredCountry, continent, subdivision] { array.deallocate() }
    }

    func read(_ entry: inout MMDB_entry_s, path: String) throws(GeoDatabaseError) -> GeoLocation {
        var location = GeoLocation()
        if let lat = try double(&entry, latitude, path), let lon = try double(&entry, longitude, path) {
            guard (-90...90).contains(lat), (-180...180).contains(lon) else {
                throw GeoDatabaseError(path: path, message: "location \(lat), \(lon) out of range in data record at offset \(entry.offset)")
            }
            location.latitude = lat
            location.longitude = lon
            location.hasCoordinates = true
        }
        if let code = try string(&entry, country, path) {
            location.country = packCode(code)
        } else if let code = try string(&entry, registeredCountry, path) {
            location.country = packCode(code)
        }
        if let code = try string(&entry, continent, path) { location.continent = packCode(code) }
        if let code = try string(&entry, subdivision, path) { location.subdivision = packSubdivision(code) }
        return location
    }

    private func value(_ entry: inout MMDB_entry_s, _ keys: UnsafeMutablePointer<UnsafePointer<CChar>?>,
                       _ path: String) throws(GeoDatabaseError) -> MMDB_entry_data_s? {
        var data = MMDB_entry_data_s()
        let status = MMDB_aget_value(&entry, &data, keys)
        // A missing key is normal (a record without a subdivision); a broken record is not.
        if status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || status == MMDB_INVALID_LOOKUP_PATH_ERROR { return nil }
        guard status == MMDB_SUCCESS else {
            throw GeoDatabaseError(path: path, message: "corrupt data record at offset \(entry.offset): \(String(cString: MMDB_strerror(status)))")
        }
        return data.has_data ? data : nil
    }

    private func double(_ entry: inout MMDB_entry_s, _ keys: UnsafeMutablePointer<UnsafePointer<CChar>?>, _ path: String) throws(GeoDatabaseError) -> Double? {
        guard let data = try value(&entry, keys, path) else { return nil }
        switch Int32(data.type) {
        case MMDB_DATA_TYPE_DOUBLE: return data.double_value
        case MMDB_DATA_TYPE_FLOAT: return Double(data.float_value)
        default: return nil
        }
    }

    private func string(_ entry: inout MMDB_entry_s, _ keys: UnsafeMutablePointer<UnsafePointer<CChar>?>, _ path: String) throws(GeoDatabaseError) -> String? {
        guard let data = try value(&entry, keys, path), Int32(data.type) == MMDB_DATA_TYPE_UTF8_STRING, let text = data.utf8_string else { return nil }
        let bytes = UnsafeRawBufferPointer(start: text, count: Int(data.data_size))
        return String(decoding: bytes, as: UTF8.self)
    }
}
