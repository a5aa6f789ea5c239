#if canImport(Glibc)
import Glibc
#endif
import MeridianServer
import MeridianWire
import Testing

@Suite struct ClientAddressTests {
    @Test func ipv4FromTheKernelsSocketAddress() {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(5300).bigEndian
        _ = inet_pton(AF_INET, "192.0.2.7", &address.sin_addr)
        let client = withUnsafeBytes(of: &address) { ClientAddress(socketAddress: $0.baseAddress!) }
        #expect(client == ClientAddress(ipv4: 192, 0, 2, 7))
    }

    @Test func ipv6FromTheKernelsSocketAddress() throws {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(5300).bigEndian
        address.sin6_flowinfo = 0xFFFF_FFFF  // must not leak into the address
        _ = inet_pton(AF_INET6, "2001:db8::42", &address.sin6_addr)
        let client = withUnsafeBytes(of: &address) { ClientAddress(socketAddress: $0.baseAddress!) }
        #expect(client.family == .ipv6)
        var expected: (UInt64, UInt64) = (0, 0)
        let octets: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x42]
        withUnsafeMutableBytes(of: &expected) { out in octets.withUnsafeBytes { out.copyMemory(from: $0) } }
        #expect(client == ClientAddress(family: .ipv6, octets: expected))
    }
}
