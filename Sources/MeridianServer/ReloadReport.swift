import MeridianAuthority
import MeridianConfig
import MeridianLoad

/// What a successful reload changed, for logs and `dnsctl reload`.
public struct ReloadReport: Sendable {
    /// Zones, edges and pools added, removed or changed.
    public var changes: [String]
    /// Settings that changed but take effect only after a restart.
    public var notes: [String]
    /// Zones served with a serial that did not increase with their records, or went backwards.
    public var warnings: [String]

    init(from old: LoadedServer, to new: LoadedServer) {
        changes = Self.zoneChanges(from: old, to: new) + Self.routingChanges(from: old.configuration, to: new.configuration)
        notes = []
        warnings = new.serialProblems
        if new.configuration.dns != old.configuration.dns {
            notes.append("dns settings changed (listen, udp_payload or TCP limits): restart meridian to apply them")
        }
        if new.configuration.stats != old.configuration.stats || new.configuration.control != old.configuration.control {
            notes.append("stats.listen or control.socket changed: restart meridian to apply them")
        }
    }

    static func zoneChanges(from old: LoadedServer, to new: LoadedServer) -> [String] {
        var changes: [String] = []
        let before = Dictionary(old.zones.map { ($0.origin, $0.serial) }, uniquingKeysWith: { first, _ in first })
        let digests = Dictionary(old.zoneVersions.map { ($0.origin, $0.digest) }, uniquingKeysWith: { first, _ in first })
        let newDigests = Dictionary(new.zoneVersions.map { ($0.origin, $0.digest) }, uniquingKeysWith: { first, _ in first })
        let after = Set(new.zones.map(\.origin))
        for zone in new.zones {
            if let serial = before[zone.origin] {
                if serial != zone.serial {
                    changes.append("zone \(zone.origin) serial \(serial) → \(zone.serial)")
                } else if digests[zone.origin] != newDigests[zone.origin] {
                    changes.append("zone \(zone.origin) records changed, serial \(serial) unchanged")
                }
            } else {
                changes.append("zone \(zone.origin) added (serial \(zone.serial))")
            }
        }
        for zone in old.zones where !after.contains(zone.origin) {
            changes.append("zone \(zone.origin) removed")
        }
        return changes
    }

    static func routingChanges(from old: MeridianConfiguration, to new: MeridianConfiguration) -> [String] {
        var changes: [String] = []
        for name in new.edgeOrder {
            if old.edges[name] == nil { changes.append("edge \(name) added") } else if old.edges[name] != new.edges[name] { changes.append("edge \(name) changed") }
        }
        for name in old.edgeOrder where new.edges[name] == nil { changes.append("edge \(name) removed") }
        for name in new.poolOrder {
            if old.pools[name] == nil { changes.append("pool \(name) added") } else if old.pools[name] != new.pools[name] { changes.append("pool \(name) changed") }
        }
        for name in old.poolOrder where new.pools[name] == nil { changes.append("pool \(name) removed") }
        if old.geoip != new.geoip { changes.append("geoip settings changed") }
        if old.cookies != new.cookies { changes.append("cookie settings or secrets changed") }
        return changes
    }
}
