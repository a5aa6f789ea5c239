import Testing
import MeridianConfig

@Suite struct IPAddressTests {
    /// Input text and its canonical RFC 5952 form (examples mostly from RFC 5952 itself).
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),          // first of two equal runs
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),                 // the longest run
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),        // one zero group stays
        ("2001:db8::2:1", "2001:db8::2:1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("fe80::0001:0000", "fe80::1:0"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),                // IPv4-mapped keeps the dotted quad
        ("::ffff:c000:0201", "::ffff:192.0.2.1"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
    ])
    func canonicalText(input: String, canonical: String) throws {
        let address = try IPAddress(parsing: input)
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    @Test(arguments: [
        ("", "empty address"),
        ("1.2.3", "\"1.2.3\" is not an IPv4 address: expected four numbers separated by dots"),
        ("1.2.3.4.5", "\"1.2.3.4.5\" is not an IPv4 address: expected four numbers separated by dots"),
        ("256.1.1.1", "\"256.1.1.1\" is not an IPv4 address: \"256\" is not a number 0...255"),
        ("01.2.3.4", "\"01.2.3.4\" is not an IPv4 address: \"01\" has a leading zero"),
        ("1..2.3", "\"1..2.3\" is not an IPv4 address: \"\" is not a number 0...255"),
        (" 1.2.3.4", "\" 1.2.3.4\" is not an IPv4 address: \" 1\" is not a number 0...255"),
        ("localhost", "\"localhost\" is not an IPv4 address: expected four numbers separated by dots"),
        ("1:2:3:4:5:6:7:8:9", "\"1:2:3:4:5:6:7:8:9\" is not an IPv6 address: expected 8 groups or \"::\""),
        ("1:2:3:4:5:6:7", "\"1:2:3:4:5:6:7\" is not an IPv6 address: expected 8 groups or \"::\""),
        ("1::2::3", "\"1::2::3\" is not an IPv6 address: \"::\" may appear only once"),
        ("1:::2", "\"1:::2\" is not an IPv6 address: empty group"),
        (":1::", "\":1::\" is not an IPv6 address: empty group"),
        ("12345::", "\"12345::\" is not an IPv6 address: \"12345\" is not a group of 1 to 4 hex digits"),
        ("g::", "\"g::\" is not an IPv6 address: \"g\" is not a group of 1 to 4 hex digits"),
        ("1:2:3:4::5:6:7:8", "\"1:2:3:4::5:6:7:8\" is not an IPv6 address: too many groups"),
        ("fe80::1%eth0", "\"fe80::1%eth0\" is not an IPv6 address: zone indexes are not supported"),
        ("[::1]", "\"[::1]\" is not an IPv6 address: remove the brackets"),
        ("1.2.3.4::", "\"1.2.3.4::\" is not an IPv6 address: \"1.2.3.4\" is not a group of 1 to 4 hex digits"),
        ("::1.2.3", "\"1.2.3\" is not an IPv4 address: expected four numbers separated by dots"),
    ])
    func rejected(input: String, message: String) {
        #expect(throws: AddressSyntaxError(message)) { try IPAddress(parsing: input) }
        #expect(IPAddress(input) == nil)
    }

    @Test func bytesInNetworkOrder() throws {
        let v4 = try IPAddress(parsing: "192.0.2.10")
        #expect(v4.bytes == [192, 0, 2, 10])
        #expect(IPAddress(bytes: [192, 0, 2, 10]) == v4)
        #expect(v4.isIPv4 && !v4.isIPv6 && v4.bitWidth == 32)

        let v6 = try IPAddress(parsing: "2001:db8::10")
        #expect(v6.bytes == [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [0x10])
        #expect(IPAddress(bytes: v6.bytes) == v6)
        #expect(v6.isIPv6 && v6.bitWidth == 128)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
    }

    @Test func ordering() throws {
        let sorted = ["2001:db8::1", "10.0.0.2", "::1", "10.0.0.1"].compactMap { IPAddress($0) }.sorted()
        #expect(sorted.map(\.description) == ["10.0.0.1", "10.0.0.2", "::1", "2001:db8::1"])
    }
}

@Suite struct IPNetworkTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("192.0.2.1/32", "192.0.2.1/32"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("::/0", "::/0"),
        ("2001:db8:0:1::/64", "2001:db8:0:1::/64"),
        ("2001:db8::1/128", "2001:db8::1/128"),
        ("2001:db8:8000::/33", "2001:db8:8000::/33"),
    ])
    func parses(input: String, canonical: String) throws {
        #expect(try IPNetwork(parsing: input).description == canonical)
    }

    @Test(arguments: [
        ("10.1.0.0/8", "10.1.0.0/8 has host bits set beyond the /8 prefix; the network is 10.0.0.0/8"),
        ("192.0.2.1/24", "192.0.2.1/24 has host bits set beyond the /24 prefix; the network is 192.0.2.0/24"),
        ("2001:db8::1/64", "2001:db8::1/64 has host bits set beyond the /64 prefix; the network is 2001:db8::/64"),
        ("2001:db8:4000::/33", "2001:db8:4000::/33 has host bits set beyond the /33 prefix; the network is 2001:db8::/33"),
        ("10.0.0.0", "\"10.0.0.0\" is not a network: missing prefix length (e.g. 10.0.0.0/8)"),
        ("10.0.0.0/33", "\"10.0.0.0/33\" is not a network: prefix length \"33\" is not a number 0...32"),
        ("10.0.0.0/-1", "\"10.0.0.0/-1\" is not a network: prefix length \"-1\" is not a number 0...32"),
        ("10.0.0.0/", "\"10.0.0.0/\" is not a network: prefix length \"\" is not a number 0...32"),
        ("::/129", "\"::/129\" is not a network: prefix length \"129\" is not a number 0...128"),
        ("10.0.0/8", "\"10.0.0\" is not an IPv4 address: expected four numbers separated by dots"),
    ])
    func rejected(input: String, message: String) {
        #expect(throws: AddressSyntaxError(message)) { try IPNetwork(parsing: input) }
    }

    @Test func containment() throws {
        let network = try IPNetwork(parsing: "10.0.0.0/8")
        #expect(network.contains(IPAddress("10.255.1.2")!))
        #expect(!network.contains(IPAddress("11.0.0.0")!))
        #expect(!network.contains(IPAddress("::ffff:10.0.0.1")!))
        let v6 = try IPNetwork(parsing: "2001:db8::/33")
        #expect(v6.contains(IPAddress("2001:db8:7fff::1")!))
        #expect(!v6.contains(IPAddress("2001:db8:8000::")!))
        #expect(try IPNetwork(parsing: "::/0").contains(IPAddress("2001:db8::1")!))
        #expect(IPNetwork(containing: IPAddress("192.0.2.77")!, prefixLength: 24).description == "192.0.2.0/24")
    }
}

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:5300", "127.0.0.1", 5300),
        ("0.0.0.0:53", "0.0.0.0", 53),
        ("[::1]:5300", "::1", 5300),
        ("[::]:53", "::", 53),
        ("[2001:DB8::53]:65535", "2001:db8::53", 65535),
    ])
    func parses(input: String, host: String, port: Int) throws {
        let address = try ListenAddress(parsing: input)
        #expect(address.host == IPAddress(host))
        #expect(Int(address.port) == port)
        #expect(ListenAddress(address.description) == address)
    }

    @Test func printsIPv6InBrackets() {
        #expect(ListenAddress("[2001:0db8::0053]:53")?.description == "[2001:db8::53]:53")
        #expect(ListenAddress("192.0.2.1:53")?.description == "192.0.2.1:53")
    }

    @Test(arguments: [
        ("127.0.0.1", "\"127.0.0.1\": missing port (write 127.0.0.1:53)"),
        ("::1:53", "\"::1:53\": put an IPv6 address in brackets, like [::1]:5300"),
        ("[::1]", "\"[::1]\": missing port (write [::1]:53)"),
        ("[::1:53", "\"[::1:53\": missing \"]\" after the IPv6 address"),
        ("[127.0.0.1]:53", "\"[127.0.0.1]:53\": brackets are only for IPv6 addresses"),
        ("127.0.0.1:0", "\"127.0.0.1:0\": port \"0\" is not a number 1...65535"),
        ("127.0.0.1:65536", "\"127.0.0.1:65536\": port \"65536\" is not a number 1...65535"),
        ("127.0.0.1:", "\"127.0.0.1:\": port \"\" is not a number 1...65535"),
        ("127.0.0.1:dns", "\"127.0.0.1:dns\": port \"dns\" is not a number 1...65535"),
        ("localhost:53", "\"localhost\" is not an IPv4 address: expected four numbers separated by dots"),
    ])
    func rejected(input: String, message: String) {
        #expect(throws: AddressSyntaxError(message)) { try ListenAddress(parsing: input) }
    }
}
