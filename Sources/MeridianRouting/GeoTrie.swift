import MeridianWire

/// What the GeoIP database says about a network. Codes are packed into integers at load
/// time so routing compares numbers, never strings.
public struct GeoLocation: Hashable, Sendable {
    public var latitude: Double
    public var longitude: Double
    public var hasCoordinates: Bool
    /// ISO 3166-1 alpha-2, packed as two ASCII bytes (0 when unknown).
    public var country: UInt16
    /// Continent code (`EU`), packed as two ASCII bytes (0 when unknown).
    public var continent: UInt16
    /// First-level subdivision ISO code (`CA` of US-CA), up to 3 ASCII bytes packed (0 when unknown).
    public var subdivision: UInt32

    public init(latitude: Double = 0, longitude: Double = 0, hasCoordinates: Bool = false,
                country: String? = nil, continent: String? = nil, subdivision: String? = nil) {
        self.latitude = latitude
        self.longitude = longitude
        self.hasCoordinates = hasCoordinates
        self.country = country.map(packCode) ?? 0
        self.continent = continent.map(packCode) ?? 0
        self.subdivision = subdivision.map(packSubdivision) ?? 0
    }

    public var countryCode: String? { unpack(UInt32(country)) }
    public var continentCode: String? { unpack(UInt32(continent)) }
    public var subdivisionCode: String? { unpack(subdivision) }
}

/// Two-letter code → integer ("DE" → 0x4445).
public func packCode(_ code: String) -> UInt16 {
    let bytes = Array(code.utf8.prefix(2))
    guard bytes.count == 2 else { return 0 }
    return UInt16(bytes[0]) << 8 | UInt16(bytes[1])
}

/// Up to three characters → integer.
public func packSubdivision(_ code: String) -> UInt32 {
    var value: UInt32 = 0
    for byte in code.utf8.prefix(3) { value = value << 8 | UInt32(byte) }
    return value
}

func unpack(_ value: UInt32) -> String? {
    guard value != 0 else { return nil }
    var bytes: [UInt8] = []
    var rest = value
    while rest != 0 {
        bytes.insert(UInt8(rest & 0xFF), at: 0)
        rest >>= 8
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Where the GeoIP database places an address: its record (nil when it has none) and the
/// length of the network that record covers, within the address's own family.
public struct GeoMatch: Sendable, Equatable {
    public var location: GeoLocation?
    public var prefixLength: Int

    public init(location: GeoLocation?, prefixLength: Int) {
        self.location = location
        self.prefixLength = prefixLength
    }
}

/// Answers "where is this address" for `dnsctl explain`; never on the query path, which
/// reads the pools' compiled tries instead.
public protocol GeoLocator: Sendable {
    func locate(_ address: ClientAddress) -> GeoMatch
}

/// The GeoIP database compiled into a binary trie over the IPv6 address space (IPv4 lives
/// at ::/96, as in MaxMind's files). Each node is two 32-bit records: a child node, "no
/// data", or a location. One walk per query finds the location and the prefix length of the
/// network it belongs to, which becomes the ECS scope. No C library on the query path.
public final class GeoTrie: Sendable {
    /// `records[2n]` and `records[2n+1]`: left (bit 0) and right (bit 1) of node n.
    let records: [UInt32]
    let nodeCount: UInt32
    public let locations: [GeoLocation]
    /// Node reached after 96 zero bits, where IPv4 addresses start; -1 when the tree has
    /// no IPv4 part.
    let ipv4Root: Int
    /// Prefix length at which the IPv4 walk starts (96 for an IPv6 tree, 0 for an IPv4 tree).
    let ipv4Depth: Int
    public let hasIPv6: Bool

    public static let noData = UInt32.max

    /// `records` uses: value < nodeCount → child node; `noData` → nothing known;
    /// otherwise `nodeCount + location index`.
    public init(records: [UInt32], nodeCount: UInt32, locations: [GeoLocation], ipv6Tree: Bool) {
        self.records = records
        self.nodeCount = nodeCount
        self.locations = locations
        self.hasIPv6 = ipv6Tree
        if ipv6Tree {
            let (node, depth) = followZeroBits(records, nodeCount: nodeCount, bits: 96)
            self.ipv4Root = depth == 96 && node < nodeCount ? Int(node) : -1
            self.ipv4Depth = 96
        } else {
            self.ipv4Root = 0
            self.ipv4Depth = 0
        }
    }

    public struct Match: Sendable, Equatable {
        /// Index into `locations`, or -1 when the database has nothing for the address.
        public var location: Int
        /// Length of the matching network within the address's own family (0...32 or 0...128).
        public var prefixLength: Int
    }

    /// Finds the network that holds `address`. Allocation-free.
    @inline(__always)
    public func lookup(_ address: ClientAddress) -> Match {
        var node: UInt32
        let bits: Int
        if address.family == .ipv4 {
            guard ipv4Root >= 0 else { return Match(location: -1, prefixLength: 0) }
            node = UInt32(ipv4Root)
            bits = 32
        } else {
            guard hasIPv6 else { return Match(location: -1, prefixLength: 0) }
            node = 0
            bits = 128
        }
        let high = address.octets.0.bigEndian
        let low = address.octets.1.bigEndian
        var depth = 0
        return records.withUnsafeBufferPointer { records in
            while depth < bits {
                let word = depth < 64 ? high : low
                let bit = Int((word >> (63 - UInt64(depth & 63))) & 1)
                let next = records[Int(node) * 2 + bit]
                depth += 1
                if next < nodeCount {
                    node = next
                    continue
                }
                if next == GeoTrie.noData { return Match(location: -1, prefixLength: depth) }
                return Match(location: Int(next - nodeCount), prefixLength: depth)
            }
            return Match(location: -1, prefixLength: depth)
        }
    }

    public var nodes: Int { Int(nodeCount) }
}

extension GeoTrie: GeoLocator {
    public func locate(_ address: ClientAddress) -> GeoMatch {
        let match = lookup(address)
        return GeoMatch(location: match.location >= 0 ? locations[match.location] : nil, prefixLength: match.prefixLength)
    }
}

/// Follows the bit-0 children from the root of a binary trie stored two records per node
/// (values below `nodeCount` are nodes) for up to `bits` steps, stopping at a leaf: where
/// IPv4 addresses start in an IPv6 tree (::/96).
func followZeroBits(_ records: [UInt32], nodeCount: UInt32, bits: Int) -> (value: UInt32, depth: Int) {
    var value: UInt32 = 0
    var depth = 0
    while depth < bits && value < nodeCount {
        value = records[Int(value) * 2]
        depth += 1
    }
    return (value, depth)
}
