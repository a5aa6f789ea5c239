import MeridianWire

/// Where a piece of input came from, for errors an operator can jump to.
public struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One record as read from a zone file, RDATA already in uncompressed wire form.
/// For the dynamic kinds (`DYNA`, `DYNC`) the RDATA is the pool name in UTF-8.
public struct ZoneRecord: Hashable, Sendable {
    public var owner: DNSName
    public var ttl: UInt32
    public var `class`: RRClass
    public var type: RRType
    public var rdata: [UInt8]
    public var position: SourcePosition

    public init(owner: DNSName, ttl: UInt32, class: RRClass = .in, type: RRType, rdata: [UInt8], position: SourcePosition) {
        self.owner = owner
        self.ttl = ttl
        self.class = `class`
        self.type = type
        self.rdata = rdata
        self.position = position
    }

    /// The pool a `DYNA`/`DYNC` record names.
    public var poolName: String? {
        type == .dyna || type == .dync ? String(decoding: rdata, as: UTF8.self) : nil
    }
}

/// An error in a zone file, printed as `FILE:LINE:COL: message`.
public struct ZoneFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var position: SourcePosition
    public var message: String

    public init(_ message: String, at position: SourcePosition) {
        self.message = message
        self.position = position
    }

    public var description: String { "\(position): \(message)" }
}
