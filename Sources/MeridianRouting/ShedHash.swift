import MeridianWire

/// Where a client network falls for one edge's shedding: a fixed hash of the network and
/// the edge, uniform over 32 bits. A network is shed from an edge while its position is
/// below the edge's threshold, so raising the fraction only adds networks (the ones shed
/// stay shed), lowering it returns them in reverse order, and every node, with no
/// coordination and across restarts, sheds the same ones. Not secret: a client cannot choose
/// its network, only where it asks from.
public enum ShedHash {
    /// The key of an edge: FNV-1a over its name, spread.
    public static func key(edgeName: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in edgeName.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return murmurFinalize(hash)
    }

    /// The hash of a client network (already masked to the shed prefix).
    @inline(__always)
    public static func network(_ network: ClientAddress) -> UInt64 {
        murmurFinalize(murmurFinalize(network.octets.0 ^ UInt64(network.family.rawValue)) ^ network.octets.1)
    }

    /// The network's position for the edge with `key`, from 0 to 2^32 - 1.
    @inline(__always)
    public static func position(network: UInt64, key: UInt64) -> UInt64 {
        murmurFinalize(network ^ key) >> 32
    }
}
