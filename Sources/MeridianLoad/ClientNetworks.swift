import MeridianConfig
import MeridianWire

extension IPAddress {
    /// The address as the query path holds it: octets left-aligned, no heap storage.
    var clientAddress: ClientAddress {
        let bytes = self.bytes
        var octets: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &octets) { out in
            for (position, byte) in bytes.enumerated() { out[position] = byte }
        }
        return ClientAddress(family: bytes.count == 4 ? .ipv4 : .ipv6, octets: octets)
    }
}

extension IPNetwork {
    /// The network as the query path matches it.
    var clientNetwork: ClientNetwork {
        ClientNetwork(containing: address.clientAddress, prefixLength: prefixLength)
    }
}
