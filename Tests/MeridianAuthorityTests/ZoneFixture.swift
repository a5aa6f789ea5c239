import MeridianAuthority
import MeridianLoad
import MeridianRouting
import MeridianWire
import MeridianZoneFile
import Testing

/// Builds a snapshot from zone-file text, through the loader the server uses, and asks it
/// questions through the real responder.
struct ZoneFixture: Sendable {
    let snapshot: AuthoritySnapshot

    init(_ zones: [(origin: String, text: String)], udpPayloadSize: Int = 1232, routing: RoutingTable = .empty,
         health: HealthTable? = nil, cookieSecrets: CookieSecrets? = nil) throws {
        let pools = Dictionary(uniqueKeysWithValues: routing.pools.enumerated().map { ($1.name, $0) })
        var built: [Zone] = []
        for zone in zones {
            let origin = try DNSName(parsing: zone.origin)
            do {
                built.append(try ZoneFileLoader.load(text: zone.text, fileName: "\(zone.origin)zone", origin: origin, pools: pools))
            } catch {
                throw FixtureError(errors: error.errors.map(\.description))
            }
        }
        snapshot = AuthoritySnapshot(zones: built, udpPayloadSize: udpPayloadSize, routing: routing, health: health,
                                     cookieSecrets: cookieSecrets)
    }

    init(snapshot: AuthoritySnapshot) { self.snapshot = snapshot }

    struct FixtureError: Error, CustomStringConvertible {
        var errors: [String]
        var description: String { errors.joined(separator: "\n") }
    }

    /// Sends raw bytes; returns the raw response (empty when dropped).
    func respond(raw query: [UInt8], over transport: Transport = .udp, from client: ClientAddress = ClientAddress(ipv4: 192, 0, 2, 99)) -> [UInt8] {
        exchange(raw: query, over: transport, from: client).response
    }

    /// Sends raw bytes at Unix time `now` (what server cookies are made and checked at);
    /// returns the raw response (empty when dropped) and the responder's outcome.
    func exchange(raw query: [UInt8], over transport: Transport = .udp, from client: ClientAddress = ClientAddress(ipv4: 192, 0, 2, 99),
                  at now: UInt32 = 0, scratch given: ResponderScratch? = nil) -> (response: [UInt8], outcome: Outcome) {
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Responder.maxResponseSize, alignment: 16)
        defer { output.deallocate() }
        // Scratch memory belongs to one thread at a time; tests run in parallel.
        let scratch = given ?? ResponderScratch()
        scratch.unixTime = now
        let outcome = query.withUnsafeBytes { bytes in
            Responder.respond(to: bytes, from: client, over: transport,
                              using: snapshot, scratch: scratch, into: output)
        }
        return (Array(output[0..<outcome.length]), outcome)
    }

    func ask(_ name: String, _ type: RRType, edns: EDNS? = EDNS(), over transport: Transport = .udp,
             from client: ClientAddress = ClientAddress(ipv4: 192, 0, 2, 99), scratch: ResponderScratch? = nil) throws -> Message {
        let query = Message.query(id: 0x1234, name: try DNSName(parsing: name), type: type, edns: edns)
        let response = exchange(raw: query.encode(), over: transport, from: client, scratch: scratch).response
        return try Message.decode(response)
    }
}

/// Records as `owner TTL TYPE RDATA` lines, sorted, for readable comparisons.
func lines(_ records: [ResourceRecord]) -> [String] {
    records.map { "\($0.name.description.lowercased()) \($0.ttl) \($0.type) \(RDataText.format(type: $0.type, rdata: $0.rdata))" }.sorted()
}
