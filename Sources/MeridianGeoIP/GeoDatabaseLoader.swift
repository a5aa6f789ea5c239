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

/// An open MaxMind DB file. libmaxminddb opens and validates a private copy of it
/// (`PrivateFileCopy`, so nothing done to the file afterwards can fault a lookup) and answers
/// `dnsctl explain` (`MMDB_lookup_sockaddr`); `compile` turns it into a `GeoTrie` for building
/// the pools' tries (gdnsd's approach), after which the trie can go: queries never call into
/// the C library, so its thread-safety and speed do not matter on the hot path.
public final class GeoDatabase: @unchecked Sendable {
    // @unchecked: the handle is only read after `init`, and libmaxminddb lookups on an open
    // database may run on several threads at once; `deinit` is the only writer.
    public let path: String
    public let databaseType: String
    public let ipVersion: Int
    public let buildEpoch: UInt64
    private let mmdb: UnsafeMutablePointer<MMDB_s>
    private let reader = RecordReader()

    public init(path: String) throws(GeoDatabaseError) {
        // On the heap: data-record entries keep a pointer to it.
        let copy = try PrivateFileCopy(of: path)
        let mmdb = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        mmdb.initialize(to: MMDB_s())
        // The mapping outlives the copy's descriptor.
        let status = MMDB_open(copy.path, UInt32(MMDB_MODE_MMAP), mmdb)
        guard status == MMDB_SUCCESS else {
            var reason = String(cString: MMDB_strerror(status))
            if status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR {
                reason += errno != 0 ? " (\(String(cString: strerror(errno))))" : ""
            }
            mmdb.deallocate()
            reader.free()
            throw GeoDatabaseError(path: path, message: "cannot open GeoIP database: \(reason)")
        }
        let metadata = mmdb.pointee.metadata
        var problem: String?
        if metadata.binary_format_major_version != 2 {
            problem = "unsupported MaxMind DB format version \(metadata.binary_format_major_version)"
        } else if ![24, 28, 32].contains(metadata.record_size) || metadata.node_count == 0 || metadata.node_count >= UInt32.max / 2 {
            problem = "implausible metadata: \(metadata.node_count) nodes of record size \(metadata.record_size)"
        } else if metadata.ip_version != 4 && metadata.ip_version != 6 {
            problem = "unknown ip_version \(metadata.ip_version)"
        } else if mmdb.pointee.file_content == nil {
            problem = "database not mapped"
        } else if Int(metadata.node_count) * Int(metadata.record_size) / 4 > Int(mmdb.pointee.file_size) {
            problem = "search tree larger than the file"
        }
        if let problem {
            MMDB_close(mmdb)
            mmdb.deallocate()
            reader.free()
            throw GeoDatabaseError(path: path, message: problem)
        }
        self.path = path
        self.mmdb = mmdb
        self.databaseType = metadata.database_type.map { String(cString: $0) } ?? "unknown"
        self.ipVersion = Int(metadata.ip_version)
        self.buildEpoch = metadata.build_epoch
    }

    deinit {
        MMDB_close(mmdb)
        mmdb.deallocate()
        reader.free()
    }

    /// Copies the search tree node for node and reads every data record once, checking each
    /// record's bounds: a corrupt file is an error here, never a crash later.
    public func compile() throws(GeoDatabaseError) -> (trie: GeoTrie, summary: GeoDatabaseSummary) {
        let metadata = mmdb.pointee.metadata
        let nodeCount = metadata.node_count
        let dataSize = mmdb.pointee.data_section_size
        guard UInt64(nodeCount) + UInt64(dataSize) < UInt64(GeoTrie.noData) else {
            throw GeoDatabaseError(path: path, message: "database too large: \(nodeCount) nodes and \(dataSize) bytes of data")
        }
        var tree = try readSearchTree()
        let offsets = DataRecordOffsets(marks: tree.marks)
        let (locations, locationOfRecord) = try readLocations(offsets)
        Self.pointLeavesAtLocations(&tree.records, nodeCount: nodeCount, offsets: offsets, locationOfRecord: locationOfRecord)
        let trie = GeoTrie(records: tree.records, nodeCount: nodeCount, locations: locations, ipv6Tree: metadata.ip_version == 6)
        let summary = GeoDatabaseSummary(
            databaseType: databaseType, ipVersion: Int(metadata.ip_version), nodes: Int(nodeCount), records: offsets.count,
            locations: locations.count, withCoordinates: locations.filter(\.hasCoordinates).count,
            withCountry: locations.filter { $0.country != 0 || $0.continent != 0 }.count, buildEpoch: metadata.build_epoch)
        return (trie, summary)
    }

    /// The search tree, read straight from the mapped file: records of 24, 28 or 32 bits,
    /// two per node (MaxMind DB spec, "Search Tree Section"), several times faster than
    /// MMDB_read_node per node. Leaves hold `nodeCount + offset` until the records are read;
    /// `marks` has a bit set for each data-section offset a leaf points at.
    private func readSearchTree() throws(GeoDatabaseError) -> (records: [UInt32], marks: [UInt64]) {
        let metadata = mmdb.pointee.metadata
        let nodeCount = metadata.node_count
        // Checked in init.
        let tree = mmdb.pointee.file_content!
        let recordSize = Int(metadata.record_size)
        let nodeBytes = recordSize / 4
        let separator: UInt32 = 16
        let dataSize = mmdb.pointee.data_section_size
        var records = [UInt32](repeating: GeoTrie.noData, count: Int(nodeCount) * 2)
        var marks = [UInt64](repeating: 0, count: DataRecordOffsets.words(dataSize: Int(dataSize)))
        for number in 0..<Int(nodeCount) {
            let (left, right) = Self.children(of: tree + number * nodeBytes, recordSize: recordSize)
            for side in 0..<2 {
                let value = side == 0 ? left : right
                if value < nodeCount {
                    records[number * 2 + side] = value
                } else if value > nodeCount {
                    guard value >= nodeCount + separator, value - nodeCount - separator < dataSize else {
                        throw GeoDatabaseError(path: path, message: "corrupt search tree at node \(number): record \(value) points outside the data section")
                    }
                    let offset = value - nodeCount - separator
                    DataRecordOffsets.mark(offset, in: &marks)
                    records[number * 2 + side] = nodeCount + offset
                }
            }
        }
        return (records, marks)
    }

    /// The two records of the node at `node`, big-endian; in 28-bit records the middle byte
    /// holds the top four bits of each.
    @inline(__always)
    private static func children(of node: UnsafePointer<UInt8>, recordSize: Int) -> (left: UInt32, right: UInt32) {
        switch recordSize {
        case 24:
            (UInt32(node[0]) << 16 | UInt32(node[1]) << 8 | UInt32(node[2]),
             UInt32(node[3]) << 16 | UInt32(node[4]) << 8 | UInt32(node[5]))
        case 28:
            (UInt32(node[3] & 0xF0) << 20 | UInt32(node[0]) << 16 | UInt32(node[1]) << 8 | UInt32(node[2]),
             UInt32(node[3] & 0x0F) << 24 | UInt32(node[4]) << 16 | UInt32(node[5]) << 8 | UInt32(node[6]))
        default:
            (UInt32(node[0]) << 24 | UInt32(node[1]) << 16 | UInt32(node[2]) << 8 | UInt32(node[3]),
             UInt32(node[4]) << 24 | UInt32(node[5]) << 16 | UInt32(node[6]) << 8 | UInt32(node[7]))
        }
    }

    /// Every data record read once, in file order, with equal locations sharing one entry;
    /// `locationOfRecord` gives each record's location by the record's number.
    private func readLocations(_ offsets: DataRecordOffsets) throws(GeoDatabaseError) -> (locations: [GeoLocation], locationOfRecord: [UInt32]) {
        let section = DataSectionReader(section: UnsafeRawBufferPointer(start: mmdb.pointee.data_section,
                                                                        count: Int(mmdb.pointee.data_section_size)))
        var locationOfRecord = [UInt32](repeating: 0, count: offsets.count)
        var distinct = DistinctIndex(capacity: offsets.count / 2)
        var locations: [GeoLocation] = []
        for (record, offset) in offsets.enumerated() {
            let location: GeoLocation
            if let read = section.location(at: Int(offset)) {
                location = read
            } else {
                var entry = MMDB_entry_s(mmdb: mmdb, offset: offset)
                location = try reader.read(&entry, path: path)
            }
            let index = locations.withUnsafeBufferPointer { known in
                distinct.index(hash: location.loadHash, next: UInt32(known.count)) { known[Int($0)] == location }
            }
            if index == locations.count { locations.append(location) }
            locationOfRecord[record] = index
        }
        return (locations, locationOfRecord)
    }

    /// Turns each leaf from `nodeCount + data offset` into `nodeCount + location`.
    private static func pointLeavesAtLocations(_ records: inout [UInt32], nodeCount: UInt32, offsets: DataRecordOffsets,
                                               locationOfRecord: [UInt32]) {
        records.withUnsafeMutableBufferPointer { records in
            for slot in records.indices where records[slot] >= nodeCount && records[slot] != GeoTrie.noData {
                records[slot] = nodeCount + locationOfRecord[offsets.number(of: records[slot] - nodeCount)]
            }
        }
    }
}

extension GeoDatabase: GeoLocator {
    /// The record libmaxminddb finds for `address` and the length of its network within the
    /// address's own family.
    public func locate(_ address: ClientAddress) -> GeoMatch {
        var storage = sockaddr_storage()
        var status: Int32 = 0
        let result: MMDB_lookup_result_s = withUnsafeMutablePointer(to: &storage) { pointer in
            let raw = UnsafeMutableRawPointer(pointer)
            if address.family == .ipv4 {
                var inet = sockaddr_in()
                inet.sin_family = sa_family_t(AF_INET)
                withUnsafeMutableBytes(of: &inet.sin_addr) { Self.copyOctets(of: address, into: $0) }
                raw.storeBytes(of: inet, as: sockaddr_in.self)
            } else {
                var inet6 = sockaddr_in6()
                inet6.sin6_family = sa_family_t(AF_INET6)
                withUnsafeMutableBytes(of: &inet6.sin6_addr) { Self.copyOctets(of: address, into: $0) }
                raw.storeBytes(of: inet6, as: sockaddr_in6.self)
            }
            return raw.withMemoryRebound(to: sockaddr.self, capacity: 1) { MMDB_lookup_sockaddr(mmdb, $0, &status) }
        }
        guard status == MMDB_SUCCESS else { return GeoMatch(location: nil, prefixLength: 0) }
        // An IPv4 address in an IPv6 tree is reported with the IPv6 netmask (::/96 + bits).
        var prefix = Int(result.netmask)
        if address.family == .ipv4 && ipVersion == 6 { prefix = max(0, prefix - 96) }
        guard result.found_entry else { return GeoMatch(location: nil, prefixLength: prefix) }
        var entry = result.entry
        return GeoMatch(location: try? reader.read(&entry, path: path), prefixLength: prefix)
    }

    /// The address's first `destination.count` octets (4 for IPv4, 16 for IPv6), in network order.
    private static func copyOctets(of address: ClientAddress, into destination: UnsafeMutableRawBufferPointer) {
        withUnsafeBytes(of: address.octets) { octets in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: octets[0..<destination.count]))
        }
    }
}

/// The loader's entry point for tools that want the compiled tree alone.
public enum GeoDatabaseLoader {
    public static func load(path: String) throws(GeoDatabaseError) -> (trie: GeoTrie, summary: GeoDatabaseSummary) {
        try GeoDatabase(path: path).compile()
    }
}

/// Reads the fields routing needs from one data record with `MMDB_aget_value`
/// (`MMDB_get_value` is variadic, which Swift cannot call). The lookup paths are C strings
/// made once.
final class RecordReader: @unchecked Sendable {
    // Immutable after init: the C-string paths are only read.
    private let latitude: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let longitude: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let country: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let registeredCountry: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let continent: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let subdivision: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let strings: [UnsafeMutablePointer<CChar>]

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
