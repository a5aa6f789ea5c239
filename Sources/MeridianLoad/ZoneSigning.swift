import MeridianAuthority
import MeridianConfig
import MeridianDNSSEC
import MeridianFiles
import MeridianRouting
import MeridianWire
import MeridianZoneFile

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds since 1970, for signature windows.
func unixTimeNow() -> Int { Int(time(nil)) }

/// Signs zones at load: the keys of `dnssec.keys_directory` add DNSKEY, CDS and CDNSKEY at
/// their zone's apex, and every authoritative RRset is signed with each of them.
enum ZoneSigning {
    /// The TTL of the apex key records.
    static let keyTTL: UInt32 = 3600

    /// The keys of `settings.keysDirectory`, by zone.
    static func keys(_ settings: DNSSECSettings) throws(LoadFailure) -> [DNSName: [ZoneKey]] {
        let keys: [ZoneKey]
        do {
            keys = try KeyFiles.load(directory: settings.keysDirectory)
        } catch {
            throw LoadFailure(lines: error.errors.map(\.description))
        }
        return Dictionary(grouping: keys, by: \.zone.lowercased)
    }

    /// DNSKEY, CDS and CDNSKEY (RFC 7344) of `keys` at `origin`.
    static func apexRecords(origin: DNSName, keys: [ZoneKey]) -> [ZoneRecord] {
        keys.flatMap { key -> [ZoneRecord] in
            let position = SourcePosition(file: key.publicKeyFile ?? "dnssec", line: 1, column: 1)
            return [ZoneRecord(owner: origin, ttl: keyTTL, type: .dnskey, rdata: key.dnskeyRData, position: position),
                    ZoneRecord(owner: origin, ttl: keyTTL, type: .cdnskey, rdata: key.dnskeyRData, position: position),
                    ZoneRecord(owner: origin, ttl: keyTTL, type: .cds, rdata: key.ds(digestType: 2), position: position)]
        }
    }

    /// `zone` signed by `keys` for signatures made at `now` (seconds since 1970).
    static func sign(_ zone: Zone, keys: [ZoneKey], settings: DNSSECSettings, routing: RoutingTable, now: UInt64) -> Zone {
        let window = SignatureWindow.starting(at: now, validity: UInt64(settings.signatureValidity.components.seconds))
        let signer = KeySigner(signerName: zone.origin.lowercased.wire, keys: keys, window: window)
        return zone.signed(by: signer) { pool in
            guard pool >= 0, Int(pool) < routing.pools.count else { return [.a, .aaaa] }
            let edges = routing.pools[Int(pool)].edges
            let data = routing.answerData
            var types: [RRType] = []
            if edges.contains(where: { data.records(of: $0, .ipv4).count > 0 }) { types.append(.a) }
            if edges.contains(where: { data.records(of: $0, .ipv6).count > 0 }) { types.append(.aaaa) }
            return types
        }
    }
}

extension ServerLoader {
    /// `loaded` with every signed zone signed again for `now`: what the server does before
    /// signatures reach `signature_refresh`, from the zones in memory, so that a zone file
    /// broken meanwhile cannot let signatures expire.
    public static func resigned(_ loaded: LoadedServer, now: UInt64) -> LoadedServer {
        guard let settings = loaded.configuration.dnssec else { return loaded }
        var next = loaded
        let zones = loaded.snapshot.zones.map { zone -> Zone in
            guard let signer = zone.signatures?.signer as? KeySigner else { return zone }
            return ZoneSigning.sign(zone, keys: signer.keys, settings: settings, routing: loaded.routing, now: now)
        }
        let old = loaded.snapshot
        next.snapshot = AuthoritySnapshot(zones: zones, udpPayloadSize: old.udpPayloadSize, routing: old.routing, health: old.health,
                                          useClientSubnet: old.useClientSubnet, rateLimit: old.rateLimit,
                                          cookieSecrets: old.cookieSecrets)
        return next
    }

    /// When the signatures of `loaded` should be made again (seconds since 1970): the
    /// earliest signing time plus `signature_refresh`; `nil` when nothing is signed.
    public static func resignDue(_ loaded: LoadedServer) -> UInt64? {
        guard let settings = loaded.configuration.dnssec else { return nil }
        let expirations = loaded.snapshot.zones.compactMap { $0.signatures?.expiration }
        guard let earliest = expirations.min() else { return nil }
        // Expiration = signing hour + validity (see SignatureWindow); signed + refresh is when to sign again.
        let signedAt = UInt64(earliest) - UInt64(settings.signatureValidity.components.seconds)
        return signedAt + UInt64(settings.signatureRefresh.components.seconds)
    }
}

/// A zone's keys as the answering code signs with them.
struct KeySigner: RRsetSigner {
    let signerName: [UInt8]
    let keys: [ZoneKey]
    let window: SignatureWindow

    var expiration: UInt32 { window.expiration }

    var keyDescriptions: [String] { keys.map { "\($0.keyTag)/\($0.algorithm.rawValue)" } }

    func rrsigs(owner: [UInt8], type: RRType, originalTTL: UInt32, rdatas: [[UInt8]]) -> [[UInt8]] {
        keys.map { key in
            RRSIGBuilder.rrsig(owner: owner, type: type, originalTTL: originalTTL, rdatas: rdatas, signer: signerName,
                               window: window, key: key)
        }
    }
}
