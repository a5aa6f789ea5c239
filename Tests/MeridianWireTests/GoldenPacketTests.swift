import MeridianWire
import Testing

/// Queries captured from real clients: a UDP socket received what `dig` and `kdig` sent
/// (`dig @127.0.0.1 -p PORT +subnet=198.51.100.0/24 +nocookie Api.Inference.Example AAAA`,
/// `dig ... +noedns inference.example MX`, `kdig ... +subnet=2001:db8::/56 www.example. A`).
enum Golden {
    static let digAAAAWithSubnet = "e604012000010000000000010341706909496e666572656e6365074578616d706c6500001c000100002904d000000000000b0008000700011800c63364"
    static let digMXNoEDNS = "1a110120000100000000000009696e666572656e6365076578616d706c6500000f0001"
    static let kdigAWithIPv6Subnet = "242d0120000100000000000103777777076578616d706c650000010001000029100000000000000f0008000b0002380020010db8000000"
}

func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var iterator = hex.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        result.append(UInt8(String([high, low]), radix: 16)!)
    }
    return result
}

@Suite struct GoldenPacketTests {
    @Test func digQueryWithClientSubnet() throws {
        let message = try Message.decode(bytes(hex: Golden.digAAAAWithSubnet))
        #expect(message.header.id == 0xE604)
        #expect(message.header.flags.contains(.rd))
        #expect(message.header.flags.contains(.ad))
        #expect(message.questions == [Question(name: try DNSName(parsing: "Api.Inference.Example."), type: .aaaa)])
        #expect(message.questions[0].name.description == "Api.Inference.Example.")
        let edns = try #require(message.edns)
        #expect(edns.udpPayloadSize == 1232)
        #expect(edns.version == 0)
        let subnet = try #require(try edns.clientSubnet())
        #expect(subnet.family == .ipv4)
        #expect(subnet.sourcePrefix == 24)
        #expect(subnet.scopePrefix == 0)
        #expect((0..<3).map(subnet.octet) == [198, 51, 100])
        // Re-encoding gives back the same bytes: no compression is possible in a lone question.
        #expect(message.encode() == bytes(hex: Golden.digAAAAWithSubnet))
    }

    @Test func digQueryWithoutEDNS() throws {
        let message = try Message.decode(bytes(hex: Golden.digMXNoEDNS))
        #expect(message.edns == nil)
        #expect(message.questions.first?.type == .mx)
        #expect(message.encode() == bytes(hex: Golden.digMXNoEDNS))
    }

    @Test func kdigQueryWithIPv6Subnet() throws {
        let message = try Message.decode(bytes(hex: Golden.kdigAWithIPv6Subnet))
        let edns = try #require(message.edns)
        #expect(edns.udpPayloadSize == 4096)
        let subnet = try #require(try edns.clientSubnet())
        #expect(subnet.family == .ipv6)
        #expect(subnet.sourcePrefix == 56)
        #expect((0..<7).map(subnet.octet) == [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0])
        #expect(message.encode() == bytes(hex: Golden.kdigAWithIPv6Subnet))
    }
}
