import MeridianConfig
import MeridianGeoIP
import MeridianRouting
import MeridianWire

/// Turns the configuration's edges, pools and overrides, plus the compiled GeoIP database,
/// into the frozen `RoutingTable` the responder reads. Names become indices here.
public enum RoutingBuilder {
    /// What a routing table is built from besides the GeoIP database; equal inputs and the
    /// same database give the same table, so a reload can keep the one it has.
    public struct Inputs: Equatable, Sendable {
        public var edges: [EdgeSpec]
        public var pools: [PoolSpec]
        public var overrides: [OverrideSpec]
    }

    public static func build(_ inputs: Inputs, geo: GeoTrie?, locator: (any GeoLocator)? = nil) -> RoutingTable {
        RoutingTable(edges: inputs.edges, pools: inputs.pools, geo: geo, overrides: inputs.overrides, locator: locator)
    }

    public static func inputs(of table: RoutingTable) -> Inputs {
        Inputs(edges: table.edges, pools: table.pools, overrides: table.configuredOverrides)
    }

    public static func inputs(_ configuration: MeridianConfiguration) -> Inputs {
        let edgeNames = configuration.edgeOrder
        let index = Dictionary(uniqueKeysWithValues: edgeNames.enumerated().map { ($1, $0) })
        let edges = configuration.orderedEdges.map { edge in
            EdgeSpec(name: edge.name, latitude: edge.location.latitude, longitude: edge.location.longitude,
                     ipv4: edge.ipv4.map(\.bytes), ipv6: edge.ipv6.map(\.bytes),
                     cname: edge.cname.flatMap { try? DNSName(parsing: $0) })
        }
        let pools = configuration.orderedPools.map { pool -> PoolSpec in
            let members = pool.edges.compactMap { index[$0] }
            let policy: PoolSpec.Policy
            switch pool.policy {
            case .nearest: policy = .nearest
            case .map: policy = .map(pool.mapOrder.map { key in (key, (pool.map[key] ?? []).compactMap { index[$0] }) })
            }
            let fallback: PoolSpec.Fallback
            switch pool.fallback {
            case nil: fallback = .listed
            case .edges(let names): fallback = .edges(names.compactMap { index[$0] })
            case .location(let place): fallback = .location(latitude: place.latitude, longitude: place.longitude)
            }
            return PoolSpec(name: pool.name, edges: members, policy: policy, answers: pool.answers,
                            fallback: fallback, servfailWhenAllDown: pool.whenAllDown == .servfail,
                            shedPrefixIPv4: pool.shedPrefixIPv4, shedPrefixIPv6: pool.shedPrefixIPv6, loadTTL: pool.loadTTL)
        }
        let overrides = (configuration.geoip?.overrides ?? []).map { override -> OverrideSpec in
            let target: OverrideSpec.Target
            switch override.target {
            case .location(let place): target = .location(latitude: place.latitude, longitude: place.longitude)
            case .edges(let names): target = .edges(names.compactMap { index[$0] })
            }
            let network = override.network.address.clientAddress
            return OverrideSpec(family: network.family, octets: network.octets,
                                prefixLength: override.network.prefixLength, target: target)
        }
        return Inputs(edges: edges, pools: pools, overrides: overrides)
    }
}
