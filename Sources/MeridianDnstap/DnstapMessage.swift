/// One dnstap event (dnstap.proto, `Dnstap` carrying a `Message`) as an authoritative server
/// writes it: an AUTH_QUERY with the query as received, or an AUTH_RESPONSE with the
/// answer as sent. The wire messages are borrowed, not copied: an encoder writes them
/// straight into its output.
///
/// Encoded by hand rather than through swift-protobuf: the log's writer thread encodes two
/// messages per answer at full rate, and a generated message (an object, a `Data` per
/// bytes field, a `Data` for the result) costs more than answering the query did. The
/// schema is a dozen scalar and bytes fields, so the encoder is short.
public struct DnstapMessage {
    public enum Kind: UInt8, Sendable {
        case authQuery = 1
        case authResponse = 2
    }

    public enum SocketProtocol: UInt8, Sendable {
        case udp = 1
        case tcp = 2
    }

    public var kind: Kind
    public var transport: SocketProtocol
    /// The client's address: 4 octets (IPv4) or 16 (IPv6); the family follows from the count.
    public var clientAddress: UnsafeRawBufferPointer
    public var clientPort: UInt16
    /// When the query arrived, in nanoseconds since the Unix epoch.
    public var queryTime: Int64
    /// When the answer left (AUTH_RESPONSE only).
    public var responseTime: Int64
    /// The query as received (AUTH_QUERY) or the answer as sent (AUTH_RESPONSE).
    public var wireMessage: UnsafeRawBufferPointer

    public init(kind: Kind, transport: SocketProtocol, clientAddress: UnsafeRawBufferPointer, clientPort: UInt16, queryTime: Int64,
                responseTime: Int64, wireMessage: UnsafeRawBufferPointer) {
        self.kind = kind
        self.transport = transport
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.queryTime = queryTime
        self.responseTime = responseTime
        self.wireMessage = wireMessage
    }

    // Field numbers from dnstap.proto.
    private enum Field {
        static let identity: UInt32 = 1, version: UInt32 = 2, message: UInt32 = 14, type: UInt32 = 15
        static let messageType: UInt32 = 1, socketFamily: UInt32 = 2, socketProtocol: UInt32 = 3, queryAddress: UInt32 = 4
        static let queryPort: UInt32 = 6, queryTimeSec: UInt32 = 8, queryTimeNsec: UInt32 = 9, queryMessage: UInt32 = 10
        static let responseTimeSec: UInt32 = 12, responseTimeNsec: UInt32 = 13, responseMessage: UInt32 = 14
    }

    private static let typeMessage: UInt64 = 1
    private static let familyINET: UInt64 = 1, familyINET6: UInt64 = 2

    /// The size of the inner `Message`.
    private var messageSize: Int {
        var size = ProtobufWriter.varintFieldSize(Field.messageType, UInt64(kind.rawValue))
            + ProtobufWriter.varintFieldSize(Field.socketFamily, Self.familyINET)
            + ProtobufWriter.varintFieldSize(Field.socketProtocol, UInt64(transport.rawValue))
            + ProtobufWriter.bytesFieldSize(Field.queryAddress, clientAddress.count)
            + ProtobufWriter.varintFieldSize(Field.queryPort, UInt64(clientPort))
            + ProtobufWriter.varintFieldSize(Field.queryTimeSec, UInt64(queryTime / 1_000_000_000))
            + ProtobufWriter.fixed32FieldSize(Field.queryTimeNsec)
            + ProtobufWriter.bytesFieldSize(Field.queryMessage, wireMessage.count)
        if kind == .authResponse {
            size += ProtobufWriter.varintFieldSize(Field.responseTimeSec, UInt64(responseTime / 1_000_000_000))
                + ProtobufWriter.fixed32FieldSize(Field.responseTimeNsec)
        }
        return size
    }

    /// The size of the whole `Dnstap` message with this identity and version.
    public func encodedSize(identity: UnsafeRawBufferPointer, version: UnsafeRawBufferPointer) -> Int {
        let inner = messageSize
        return (identity.isEmpty ? 0 : ProtobufWriter.bytesFieldSize(Field.identity, identity.count))
            + (version.isEmpty ? 0 : ProtobufWriter.bytesFieldSize(Field.version, version.count))
            + ProtobufWriter.bytesFieldSize(Field.message, inner)
            + ProtobufWriter.varintFieldSize(Field.type, Self.typeMessage)
    }

    /// Writes the `Dnstap` message at `output`, which has room for `encodedSize`; returns the bytes written.
    public func encode(identity: UnsafeRawBufferPointer, version: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer) -> Int {
        var writer = ProtobufWriter(output)
        if !identity.isEmpty { writer.bytesField(Field.identity, identity) }
        if !version.isEmpty { writer.bytesField(Field.version, version) }
        writer.lengthPrefix(Field.message, messageSize)
        writer.varintField(Field.messageType, UInt64(kind.rawValue))
        writer.varintField(Field.socketFamily, clientAddress.count == 16 ? Self.familyINET6 : Self.familyINET)
        writer.varintField(Field.socketProtocol, UInt64(transport.rawValue))
        writer.bytesField(Field.queryAddress, clientAddress)
        writer.varintField(Field.queryPort, UInt64(clientPort))
        writer.varintField(Field.queryTimeSec, UInt64(queryTime / 1_000_000_000))
        writer.fixed32Field(Field.queryTimeNsec, UInt32(queryTime % 1_000_000_000))
        if kind == .authQuery {
            writer.bytesField(Field.queryMessage, wireMessage)
        } else {
            writer.varintField(Field.responseTimeSec, UInt64(responseTime / 1_000_000_000))
            writer.fixed32Field(Field.responseTimeNsec, UInt32(responseTime % 1_000_000_000))
            writer.bytesField(Field.responseMessage, wireMessage)
        }
        writer.varintField(Field.type, Self.typeMessage)
        return writer.position
    }
}

/// Protocol Buffers' wire format, the part dnstap uses: varints, fixed32 and length-delimited fields.
struct ProtobufWriter {
    private let base: UnsafeMutableRawPointer
    private(set) var position = 0

    init(_ base: UnsafeMutableRawPointer) { self.base = base }

    private static let wireVarint: UInt32 = 0, wireFixed32: UInt32 = 5, wireLengthDelimited: UInt32 = 2

    static func varintSize(_ value: UInt64) -> Int {
        // One byte per seven bits, at least one.
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    static func varintFieldSize(_ field: UInt32, _ value: UInt64) -> Int {
        varintSize(UInt64(field << 3)) + varintSize(value)
    }

    static func fixed32FieldSize(_ field: UInt32) -> Int { varintSize(UInt64(field << 3)) + 4 }

    static func bytesFieldSize(_ field: UInt32, _ count: Int) -> Int {
        varintSize(UInt64(field << 3)) + varintSize(UInt64(count)) + count
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: position, as: UInt8.self)
            position += 1
            value >>= 7
        }
        base.storeBytes(of: UInt8(value), toByteOffset: position, as: UInt8.self)
        position += 1
    }

    mutating func varintField(_ field: UInt32, _ value: UInt64) {
        varint(UInt64(field << 3 | Self.wireVarint))
        varint(value)
    }

    mutating func fixed32Field(_ field: UInt32, _ value: UInt32) {
        varint(UInt64(field << 3 | Self.wireFixed32))
        base.storeBytes(of: value.littleEndian, toByteOffset: position, as: UInt32.self)
        position += 4
    }

    mutating func lengthPrefix(_ field: UInt32, _ count: Int) {
        varint(UInt64(field << 3 | Self.wireLengthDelimited))
        varint(UInt64(count))
    }

    mutating func bytesField(_ field: UInt32, _ bytes: UnsafeRawBufferPointer) {
        lengthPrefix(field, bytes.count)
        if let source = bytes.baseAddress, !bytes.isEmpty {
            (base + position).copyMemory(from: source, byteCount: bytes.count)
        }
        position += bytes.count
    }
}
