import MeridianRouting

/// Reads the fields routing needs from the records of a MaxMind DB data section (MaxMind DB
/// spec, "Output Data Section"), one pass over each record's map. Six `MMDB_aget_value`
/// calls per record walk the map six times and were most of the load time of a City
/// database; this reader skips what it does not need (city names, postal codes) and reads
/// a shared value (a country, a continent: stored once, reached by pointer) only once.
///
/// It is strict rather than clever: anything it does not expect (a pointer to a pointer,
/// a value running past the section, nesting deeper than any real database, a code that is
/// not ASCII) makes it return nil, and the loader reads that record through libmaxminddb,
/// which then decides whether the record is usable.
struct DataSectionReader {
    let section: UnsafeRawBufferPointer

    // Type numbers of the format; extended types are 7 plus the following byte.
    static let pointer = 1, string = 2, double = 3, map = 7, array = 11, boolean = 14, float = 15
    static let containerTypes = 12...13

    /// One value's header: its type, its size field (pairs, elements, bytes or the boolean
    /// itself; a pointer's target) and where its payload starts.
    struct Header {
        var type: Int
        var size: Int
        var payload: Int
    }

    /// Deeper nesting than this is not in any database routing reads.
    static let maximumDepth = 16

    /// Codes already read from values reached by pointer, per field: target offset → the
    /// code + 2 (1: no string there). A class, so that the reader stays a plain value.
    private final class CodeCache {
        var tables = [UInt32Table(), UInt32Table(), UInt32Table(), UInt32Table()]
    }
    private let codeCache = CodeCache()

    init(section: UnsafeRawBufferPointer) {
        self.section = section
    }

    @inline(__always)
    func header(at offset: Int) -> Header? {
        guard offset < section.count else { return nil }
        let control = Int(section[offset])
        var position = offset + 1
        var type = control >> 5
        if type == Self.pointer {
            let length = (control >> 3) & 3
            guard position + length + 1 <= section.count else { return nil }
            // The control byte's low three bits lead the offset, except in the 32-bit form.
            let high = length == 3 ? 0 : control & 7
            let value = high << (8 * (length + 1)) | Int(bigEndian(at: position, count: length + 1))
            let bias = length == 1 ? 2048 : (length == 2 ? 526_336 : 0)
            return Header(type: Self.pointer, size: value + bias, payload: position + length + 1)
        }
        if type == 0 {
            guard position < section.count else { return nil }
            type = 7 + Int(section[position])
            position += 1
            guard type <= Self.float else { return nil }
        }
        var size = control & 0x1F
        if size >= 29 {
            let extra = size - 28
            guard position + extra <= section.count else { return nil }
            size = (extra == 1 ? 29 : (extra == 2 ? 285 : 65_821)) + Int(bigEndian(at: position, count: extra))
            position += extra
        }
        return Header(type: type, size: size, payload: position)
    }

    /// `count` bytes from `position` as an unsigned big-endian number; the caller checked
    /// that they lie in the section.
    @inline(__always)
    private func bigEndian(at position: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<count { value = value << 8 | UInt64(section[position + index]) }
        return value
    }

    /// The header of the value at `offset`, following one pointer (the format allows no more).
    @inline(__always)
    func resolved(_ found: Header) -> Header? {
        guard found.type == Self.pointer else { return found }
        guard let target = header(at: found.size), target.type != Self.pointer else { return nil }
        return target
    }

    /// The offset just past the value whose header is `found`; a pointer is skipped, not followed.
    func end(of found: Header, depth: Int = 0) -> Int? {
        var position = found.payload
        switch found.type {
        case Self.pointer, Self.boolean, Self.containerTypes:
            break
        case Self.map, Self.array:
            guard depth < Self.maximumDepth else { return nil }
            let values = found.type == Self.map ? found.size * 2 : found.size
            for _ in 0..<values {
                guard let inner = header(at: position), let next = end(of: inner, depth: depth + 1) else { return nil }
                position = next
            }
        default:
            position += found.size
        }
        return position <= section.count ? position : nil
    }

    @inline(__always)
    private func bytes(of found: Header) -> UnsafeRawBufferPointer? {
        guard found.type == Self.string, found.payload + found.size <= section.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: section[found.payload..<(found.payload + found.size)])
    }

    /// Calls `body` with each key and the header of its value; stops when `body` returns
    /// false. Returns false when the map is not well formed.
    @inline(__always)
    func forEachEntry(of map: Header, depth: Int, _ body: (UnsafeRawBufferPointer, Header) -> Bool) -> Bool {
        var position = map.payload
        for _ in 0..<map.size {
            guard let key = header(at: position), let resolvedKey = resolved(key), let name = bytes(of: resolvedKey) else { return false }
            let valueStart = key.type == Self.pointer ? key.payload : resolvedKey.payload + resolvedKey.size
            guard let value = header(at: valueStart) else { return false }
            if !body(name, value) { return true }
            guard let next = end(of: value, depth: depth + 1) else { return false }
            position = next
        }
        return true
    }

    /// The value of `name` in `map` (the first, as `MMDB_aget_value` finds it): nil when the
    /// map is broken, .some(nil) when there is no such key or `map` is no map.
    private func member(_ name: StaticString, of map: Header, depth: Int) -> Header?? {
        guard map.type == Self.map else { return .some(nil) }
        var found: Header?
        let wellFormed = forEachEntry(of: map, depth: depth) { key, value in
            guard equal(key, name) else { return true }
            found = value
            return false
        }
        return wellFormed ? .some(found) : .none
    }

    /// nil: cannot tell; .some(nil): no string there; otherwise the code packed as
    /// `packCode` (two characters, 0 when shorter) or `packSubdivision` (up to three) does.
    private func code(_ value: Header?, length: Int) -> UInt32?? {
        guard let value else { return .some(nil) }
        guard let found = resolved(value) else { return .none }
        guard found.type == Self.string else { return .some(nil) }
        guard let text = bytes(of: found), text.allSatisfy({ $0 > 0 && $0 < 0x80 }) else { return .none }
        if length == 2 {
            return .some(text.count >= 2 ? UInt32(text[0]) << 8 | UInt32(text[1]) : 0)
        }
        var packed: UInt32 = 0
        for byte in text.prefix(3) { packed = packed << 8 | UInt32(byte) }
        return .some(packed)
    }

    private func number(_ value: Header?) -> Double?? {
        guard let value else { return .some(nil) }
        guard let found = resolved(value) else { return .none }
        switch found.type {
        case Self.double:
            guard found.size == 8, found.payload + 8 <= section.count else { return .none }
            return .some(Double(bitPattern: bigEndian(at: found.payload, count: 8)))
        case Self.float:
            guard found.size == 4, found.payload + 4 <= section.count else { return .none }
            return .some(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bigEndian(at: found.payload, count: 4)))))
        default:
            return .some(nil)
        }
    }

    /// The code under `key` in the map `value` holds (`country.iso_code`, `continent.code`,
    /// the first of `subdivisions`), remembered by pointer target.
    private func code(in value: Header, field: Int, key: StaticString, length: Int) -> UInt32?? {
        if value.type == Self.pointer, let known = codeCache.tables[field][UInt32(truncatingIfNeeded: value.size)] {
            return .some(known == 1 ? nil : known - 2)
        }
        guard var container = resolved(value) else { return .none }
        if field == Self.subdivisionsField {
            // libmaxminddb would look for a key "0" in a map; leave that case to it.
            guard container.type != Self.map else { return .none }
            guard container.type == Self.array, container.size > 0 else { return .some(nil) }
            guard let first = header(at: container.payload), let map = resolved(first) else { return .none }
            container = map
        }
        guard let member = member(key, of: container, depth: 1), let found = code(member, length: length) else { return .none }
        if value.type == Self.pointer, value.size < Int(UInt32.max) {
            codeCache.tables[field][UInt32(value.size)] = found.map { $0 + 2 } ?? 1
        }
        return .some(found)
    }

    private static let countryField = 0, continentField = 1, subdivisionsField = 2, registeredCountryField = 3

    /// What the record at `offset` says, or nil when this reader cannot tell.
    func location(at offset: Int) -> GeoLocation? {
        guard let start = header(at: offset), let record = resolved(start), record.type == Self.map else { return nil }
        var latitude: Double?
        var longitude: Double?
        var country: UInt32?
        var registeredCountry: UInt32?
        var continent: UInt32?
        var subdivision: UInt32?
        var seen = 0
        var failed = false
        let wellFormed = forEachEntry(of: record, depth: 0) { key, value in
            let field: Int
            switch key.count {
            case 7 where equal(key, "country"): field = Self.countryField
            case 8 where equal(key, "location"): field = 4
            case 9 where equal(key, "continent"): field = Self.continentField
            case 12 where equal(key, "subdivisions"): field = Self.subdivisionsField
            case 18 where equal(key, "registered_country"): field = Self.registeredCountryField
            default: return true
            }
            // Like MMDB_aget_value, only the first of two equal keys counts.
            guard seen & (1 << field) == 0 else { return true }
            seen |= 1 << field
            let found: UInt32??
            switch field {
            case 4:
                guard let map = resolved(value), let lat = member("latitude", of: map, depth: 1),
                      let lon = member("longitude", of: map, depth: 1),
                      let latValue = number(lat), let lonValue = number(lon) else { failed = true; return false }
                latitude = latValue
                longitude = lonValue
                return true
            case Self.subdivisionsField:
                found = code(in: value, field: field, key: "iso_code", length: 3)
            case Self.continentField:
                found = code(in: value, field: field, key: "code", length: 2)
            default:
                found = code(in: value, field: field, key: "iso_code", length: 2)
            }
            guard let found else { failed = true; return false }
            switch field {
            case Self.countryField: country = found
            case Self.continentField: continent = found
            case Self.subdivisionsField: subdivision = found
            default: registeredCountry = found
            }
            return true
        }
        guard wellFormed, !failed else { return nil }
        var location = GeoLocation()
        if let latitude, let longitude {
            // Out of range is an error the libmaxminddb path reports with its offset.
            guard (-90...90).contains(latitude), (-180...180).contains(longitude) else { return nil }
            location.latitude = latitude
            location.longitude = longitude
            location.hasCoordinates = true
        }
        location.country = UInt16(truncatingIfNeeded: country ?? registeredCountry ?? 0)
        location.continent = UInt16(truncatingIfNeeded: continent ?? 0)
        location.subdivision = subdivision ?? 0
        return location
    }

    @inline(__always)
    private func equal(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        let expected = name.utf8Start
        for index in 0..<bytes.count where bytes[index] != expected[index] { return false }
        return true
    }
}
