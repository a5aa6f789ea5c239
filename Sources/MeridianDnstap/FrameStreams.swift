/// Frame Streams (fstrm), the framing dnstap travels in: data frames are a big-endian
/// 32-bit length and the payload; control frames start with a zero length (the escape),
/// then their own length, a type and fields. A file holds START, data frames and STOP. A
/// socket first agrees on the content type: the writer sends READY, the reader ACCEPT, the
/// writer START; at the end STOP, answered by FINISH.
public enum FrameStreams {
    /// The content type dnstap readers ask for.
    public static let dnstapContentType = "protobuf:dnstap.Dnstap"
    /// Control frames longer than this are not Frame Streams from a reader we can talk to.
    public static let maximumControlLength = 512

    public enum ControlType: UInt32, Sendable {
        case accept = 1
        case start = 2
        case stop = 3
        case ready = 4
        case finish = 5
    }

    private static let contentTypeField: UInt32 = 1

    /// The whole control frame, escape and length included.
    public static func controlFrame(_ type: ControlType, contentType: String? = nil) -> [UInt8] {
        var body: [UInt8] = []
        appendBigEndian(type.rawValue, to: &body)
        if let contentType {
            appendBigEndian(contentTypeField, to: &body)
            appendBigEndian(UInt32(contentType.utf8.count), to: &body)
            body.append(contentsOf: contentType.utf8)
        }
        var frame: [UInt8] = []
        appendBigEndian(0, to: &frame)
        appendBigEndian(UInt32(body.count), to: &frame)
        return frame + body
    }

    /// A control frame's body (what follows the escape and the length): its type and the
    /// content types it names; nil when it is not well formed.
    public static func parseControl(_ body: [UInt8]) -> (type: ControlType, contentTypes: [String])? {
        guard body.count >= 4, let type = ControlType(rawValue: bigEndian(body, at: 0)) else { return nil }
        var contentTypes: [String] = []
        var offset = 4
        while offset < body.count {
            guard body.count - offset >= 8 else { return nil }
            let field = bigEndian(body, at: offset)
            let length = Int(bigEndian(body, at: offset + 4))
            offset += 8
            guard length <= body.count - offset else { return nil }
            if field == contentTypeField {
                contentTypes.append(String(decoding: body[offset..<offset + length], as: UTF8.self))
            }
            offset += length
        }
        return (type, contentTypes)
    }

    /// The big-endian 32-bit value at `offset`.
    public static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    public static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }
}
