import MeridianDnstap
import Testing

/// A protobuf reader written for these tests from the wire format's definition: fields by
/// number, each as a varint, a fixed32 or bytes.
private struct Fields {
    enum Value: Equatable { case varint(UInt64), fixed32(UInt32), bytes([UInt8]) }
    var values: [UInt32: [Value]] = [:]

    init?(_ bytes: [UInt8]) {
        var offset = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
        while offset < bytes.count {
            guard let key = varint() else { return nil }
            let field = UInt32(key >> 3)
            switch key & 7 {
            case 0:
                guard let value = varint() else { return nil }
                values[field, default: []].append(.varint(value))
            case 5:
                guard offset + 4 <= bytes.count else { return nil }
                let value = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                    | UInt32(bytes[offset + 3]) << 24
                offset += 4
                values[field, default: []].append(.fixed32(value))
            case 2:
                guard let length = varint(), offset + Int(length) <= bytes.count else { return nil }
                values[field, default: []].append(.bytes(Array(bytes[offset..<offset + Int(length)])))
                offset += Int(length)
            default:
                return nil
            }
        }
    }

    subscript(_ field: UInt32) -> Value? { values[field]?.first }

    func nested(_ field: UInt32) -> Fields? {
        guard case .bytes(let bytes) = self[field] else { return nil }
        return Fields(bytes)
    }
}

@Suite struct DnstapMessageTests {
    private func encode(_ message: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> DnstapMessage, identity: String = "ns1",
                        version: String = "Meridian 1.0") -> [UInt8] {
        let identity = Array(identity.utf8), version = Array(version.utf8)
        return identity.withUnsafeBytes { identity in
            version.withUnsafeBytes { version in
                let address: [UInt8] = [127, 0, 0, 7]
                let wire: [UInt8] = Array(repeating: 0xAB, count: 300)
                return address.withUnsafeBytes { address in
                    wire.withUnsafeBytes { wire in
                        let message = message(address, wire)
                        let size = message.encodedSize(identity: identity, version: version)
                        var output = [UInt8](repeating: 0, count: size + 16)
                        let written = output.withUnsafeMutableBytes { message.encode(identity: identity, version: version, into: $0.baseAddress!) }
                        #expect(written == size)
                        return Array(output[0..<written])
                    }
                }
            }
        }
    }

    @Test func anAuthQueryCarriesTheClientTheTimeAndTheQuery() throws {
        let bytes = encode { address, wire in
            DnstapMessage(kind: .authQuery, transport: .udp, clientAddress: address, clientPort: 53_001,
                          queryTime: 1_796_288_461_123_456_789, responseTime: 0, wireMessage: wire)
        }
        let top = try #require(Fields(bytes))
        #expect(top[1] == .bytes(Array("ns1".utf8)))
        #expect(top[2] == .bytes(Array("Meridian 1.0".utf8)))
        #expect(top[15] == .varint(1))
        let message = try #require(top.nested(14))
        #expect(message[1] == .varint(1))
        #expect(message[2] == .varint(1))
        #expect(message[3] == .varint(1))
        #expect(message[4] == .bytes([127, 0, 0, 7]))
        #expect(message[6] == .varint(53_001))
        #expect(message[8] == .varint(1_796_288_461))
        #expect(message[9] == .fixed32(123_456_789))
        #expect(message[10] == .bytes(Array(repeating: 0xAB, count: 300)))
        #expect(message[12] == nil && message[14] == nil)
    }

    @Test func anAuthResponseOverTCPCarriesBothTimesAndTheAnswer() throws {
        let bytes = encode({ address, wire in
            DnstapMessage(kind: .authResponse, transport: .tcp, clientAddress: address, clientPort: 1,
                          queryTime: 5_000_000_001, responseTime: 6_999_999_999, wireMessage: wire)
        }, identity: "")
        let top = try #require(Fields(bytes))
        #expect(top[1] == nil)
        let message = try #require(top.nested(14))
        #expect(message[1] == .varint(2))
        #expect(message[3] == .varint(2))
        #expect(message[8] == .varint(5) && message[9] == .fixed32(1))
        #expect(message[12] == .varint(6) && message[13] == .fixed32(999_999_999))
        #expect(message[14] == .bytes(Array(repeating: 0xAB, count: 300)))
        #expect(message[10] == nil)
    }

    @Test func anIPv6ClientIsFamilyINET6() throws {
        let address = [UInt8](repeating: 0, count: 15) + [1]
        let bytes = address.withUnsafeBytes { address in
            let message = DnstapMessage(kind: .authQuery, transport: .udp, clientAddress: address, clientPort: 0, queryTime: 0,
                                        responseTime: 0, wireMessage: UnsafeRawBufferPointer(start: nil, count: 0))
            let empty = UnsafeRawBufferPointer(start: nil, count: 0)
            var output = [UInt8](repeating: 0, count: message.encodedSize(identity: empty, version: empty))
            _ = output.withUnsafeMutableBytes { message.encode(identity: empty, version: empty, into: $0.baseAddress!) }
            return output
        }
        let message = try #require(Fields(bytes)?.nested(14))
        #expect(message[2] == .varint(2))
        #expect(message[4] == .bytes(address))
    }
}

@Suite struct FrameStreamsTests {
    @Test func controlFramesRoundTrip() throws {
        let frame = FrameStreams.controlFrame(.ready, contentType: FrameStreams.dnstapContentType)
        #expect(Array(frame[0..<4]) == [0, 0, 0, 0])
        #expect(Int(FrameStreams.bigEndian(frame, at: 4)) == frame.count - 8)
        let parsed = try #require(FrameStreams.parseControl(Array(frame[8...])))
        #expect(parsed.type == .ready)
        #expect(parsed.contentTypes == ["protobuf:dnstap.Dnstap"])
        let stop = FrameStreams.controlFrame(.stop)
        #expect(stop == [0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3])
    }

    @Test func malformedControlFramesAreRefused() {
        #expect(FrameStreams.parseControl([0, 0, 0]) == nil)
        #expect(FrameStreams.parseControl([0, 0, 0, 9]) == nil)
        // A content type field longer than the frame.
        #expect(FrameStreams.parseControl([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 65]) == nil)
    }
}
