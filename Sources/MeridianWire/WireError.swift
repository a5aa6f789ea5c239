/// Why a message could not be read. Offsets are byte positions in the message.
public enum WireError: Error, Hashable, Sendable {
    case truncated(at: Int)
    case labelTooLong(at: Int)
    case nameTooLong(at: Int)
    case pointerLoop(at: Int)
    /// A compression pointer that points at or after itself, or past the message.
    case badPointer(at: Int)
    case badRData(type: RRType, at: Int)
    case trailingData(at: Int)
    case duplicateOPT
    case badOPT(at: Int)
    case badClientSubnet(ClientSubnetProblem)
    /// A COOKIE option whose length fits neither a client cookie nor a client and a server cookie.
    case badCookie(length: Int)
}

extension WireError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated(let at): "message truncated at offset \(at)"
        case .labelTooLong(let at): "label longer than 63 octets at offset \(at)"
        case .nameTooLong(let at): "name longer than 255 octets at offset \(at)"
        case .pointerLoop(let at): "compression pointer loop at offset \(at)"
        case .badPointer(let at): "compression pointer not pointing backwards at offset \(at)"
        case .badRData(let type, let at): "malformed \(type) RDATA at offset \(at)"
        case .trailingData(let at): "unexpected data after the last record at offset \(at)"
        case .duplicateOPT: "more than one OPT record"
        case .badOPT(let at): "malformed OPT record at offset \(at)"
        case .badClientSubnet(let problem): "malformed EDNS Client Subnet option: \(problem)"
        case .badCookie(let length): "malformed COOKIE option: \(length) octets (8, or 16 to 40)"
        }
    }
}

/// `Array.withUnsafeBytes` with typed throws kept intact.
@inlinable
public func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(WireError) -> R) throws(WireError) -> R {
    let result: Result<R, WireError> = array.withUnsafeBytes { raw in Result { () throws(WireError) in try body(raw) } }
    return try result.get()
}

/// What is wrong with a Client Subnet option. Values, not text: hostile queries reach this
/// path, and building a message for each would allocate.
public enum ClientSubnetProblem: Hashable, Sendable, CustomStringConvertible {
    case shorterThanFourOctets
    case unknownFamily(UInt16)
    case sourcePrefixTooLong(UInt8)
    case scopePrefixTooLong(UInt8)
    case addressLengthMismatch
    case bitsBeyondSourcePrefix
    case repeated

    public var description: String {
        switch self {
        case .shorterThanFourOctets: "option shorter than 4 octets"
        case .unknownFamily(let family): "unknown address family \(family)"
        case .sourcePrefixTooLong(let prefix): "source prefix \(prefix) too long"
        case .scopePrefixTooLong(let prefix): "scope prefix \(prefix) too long"
        case .addressLengthMismatch: "address length does not match source prefix"
        case .bitsBeyondSourcePrefix: "address bits set beyond the source prefix"
        case .repeated: "option repeated"
        }
    }
}
