/// An address prefix such as `10.0.0.0/8` or `2001:db8::/32`. Host bits beyond the prefix
/// are always zero: text with host bits set is rejected rather than silently masked, because
/// `10.1.0.0/8` is far more often a typo for `10.1.0.0/16` than a wish for `10.0.0.0/8`.
public struct IPNetwork: Hashable, Sendable {
    public let address: IPAddress
    public let prefixLength: Int

    /// A network from an address whose host bits are already zero.
    public init(address: IPAddress, prefixLength: Int) throws(AddressSyntaxError) {
        guard (0...address.bitWidth).contains(prefixLength) else {
            throw AddressSyntaxError("prefix length /\(prefixLength) outside 0...\(address.bitWidth)")
        }
        let network = Self.mask(address, prefixLength)
        guard network == address else {
            throw AddressSyntaxError(
                "\(address)/\(prefixLength) has host bits set beyond the /\(prefixLength) prefix; "
                    + "the network is \(network)/\(prefixLength)")
        }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The network of the given length that contains `address` (host bits cleared).
    public init(containing address: IPAddress, prefixLength: Int) {
        precondition((0...address.bitWidth).contains(prefixLength), "prefix length out of range")
        self.address = Self.mask(address, prefixLength)
        self.prefixLength = prefixLength
    }

    /// Parses `ADDRESS/LENGTH`; `nil` when the text is not a valid network.
    public init?(_ text: some StringProtocol) {
        guard let network = try? IPNetwork(parsing: String(text)) else { return nil }
        self = network
    }

    /// Parses `ADDRESS/LENGTH`, explaining what is wrong.
    public init(parsing text: String) throws(AddressSyntaxError) {
        guard let slash = text.firstIndex(of: "/") else {
            throw AddressSyntaxError("\"\(text)\" is not a network: missing prefix length (e.g. 10.0.0.0/8)")
        }
        let address = try IPAddress(parsing: String(text[..<slash]))
        let lengthText = text[text.index(after: slash)...]
        guard !lengthText.isEmpty, lengthText.count <= 3, lengthText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let length = Int(lengthText), length <= address.bitWidth else {
            throw AddressSyntaxError(
                "\"\(text)\" is not a network: prefix length \"\(lengthText)\" is not a number 0...\(address.bitWidth)")
        }
        try self.init(address: address, prefixLength: length)
    }

    /// Whether `other` lies inside this network (always false across address families).
    public func contains(_ other: IPAddress) -> Bool {
        other.isIPv4 == address.isIPv4 && Self.mask(other, prefixLength) == address
    }

    private static func mask(_ address: IPAddress, _ length: Int) -> IPAddress {
        switch address {
        case .v4(let value):
            return .v4(length == 0 ? 0 : value & (UInt32.max << (32 - length)))
        case .v6(let high, let low):
            func keep(_ word: UInt64, _ bits: Int) -> UInt64 {
                bits <= 0 ? 0 : bits >= 64 ? word : word & (UInt64.max << (64 - bits))
            }
            return .v6(high: keep(high, length), low: keep(low, length - 64))
        }
    }
}

extension IPNetwork: CustomStringConvertible {
    public var description: String { "\(address)/\(prefixLength)" }
}

/// An address and port to listen on, written `127.0.0.1:5300` or `[::1]:5300`.
public struct ListenAddress: Hashable, Sendable {
    public var host: IPAddress
    public var port: UInt16

    public init(host: IPAddress, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `IPV4:PORT` or `[IPV6]:PORT`; `nil` when the text is neither.
    public init?(_ text: some StringProtocol) {
        guard let address = try? ListenAddress(parsing: String(text)) else { return nil }
        self = address
    }

    /// Parses `IPV4:PORT` or `[IPV6]:PORT`, explaining what is wrong. Port 0 is refused:
    /// a server must be reachable at the address its configuration names.
    public init(parsing text: String) throws(AddressSyntaxError) {
        let hostText: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw AddressSyntaxError("\"\(text)\": missing \"]\" after the IPv6 address")
            }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else {
                throw AddressSyntaxError("\"\(text)\": missing port (write [\(hostText)]:53)")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw AddressSyntaxError("\"\(text)\": missing port (write \(text):53)")
            }
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            if hostText.contains(":") {
                throw AddressSyntaxError("\"\(text)\": put an IPv6 address in brackets, like [::1]:5300")
            }
        }
        let host = try IPAddress(parsing: String(hostText))
        if text.hasPrefix("["), host.isIPv4 {
            throw AddressSyntaxError("\"\(text)\": brackets are only for IPv6 addresses")
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), (1...65535).contains(port) else {
            throw AddressSyntaxError("\"\(text)\": port \"\(portText)\" is not a number 1...65535")
        }
        self.init(host: host, port: UInt16(port))
    }
}

extension ListenAddress: CustomStringConvertible {
    public var description: String {
        host.isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }
}
