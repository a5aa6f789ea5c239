#if canImport(Glibc)
import Glibc
#endif
import MeridianAuthority
import MeridianWire
import NIOCore

/// Everything one event loop needs to answer queries: the snapshot it currently serves,
/// the responder's scratch memory and an output buffer, and its own counters. It is only
/// touched on its event loop, so queries take no lock and share no cache lines; a reload
/// replaces `snapshot` by submitting a task to the loop, and the old snapshot is freed
/// when the last loop lets go of it.
public final class LoopContext: @unchecked Sendable {
    public let eventLoop: any EventLoop
    var snapshot: AuthoritySnapshot
    let scratch = ResponderScratch()
    let output: UnsafeMutableRawBufferPointer
    var counters = QueryCounters()

    init(eventLoop: any EventLoop, snapshot: AuthoritySnapshot) {
        self.eventLoop = eventLoop
        self.snapshot = snapshot
        self.output = .allocate(byteCount: Responder.maxResponseSize, alignment: 16)
    }

    deinit { output.deallocate() }

    /// Answers one query; returns the response bytes' length in `output` (0: drop).
    @inline(__always)
    func answer(_ query: ByteBuffer, from client: ClientAddress, over transport: Transport) -> Outcome {
        let outcome = query.withUnsafeReadableBytes { bytes in
            Responder.respond(to: bytes, from: client, over: transport, using: snapshot, scratch: scratch, into: output)
        }
        counters.count(outcome, transport: transport)
        return outcome
    }
}

/// Per-loop counters, summed when someone asks (single writer, no atomics).
public struct QueryCounters: Sendable {
    public var udpQueries = 0
    public var tcpQueries = 0
    public var dropped = 0
    public var truncated = 0
    /// Indexed by the 4-bit header rcode; BADVERS is counted apart.
    public var byRCode = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    public var badVers = 0

    @inline(__always)
    mutating func count(_ outcome: Outcome, transport: Transport) {
        if transport == .udp { udpQueries += 1 } else { tcpQueries += 1 }
        guard outcome.length > 0 else {
            dropped += 1
            return
        }
        if outcome.truncated { truncated += 1 }
        if outcome.rcode == .badVers {
            badVers += 1
            return
        }
        withUnsafeMutableBytes(of: &byRCode) { raw in
            let counts = raw.bindMemory(to: Int.self)
            counts[Int(outcome.rcode.headerBits)] += 1
        }
    }

    public mutating func add(_ other: QueryCounters) {
        udpQueries += other.udpQueries
        tcpQueries += other.tcpQueries
        dropped += other.dropped
        truncated += other.truncated
        badVers += other.badVers
        withUnsafeMutableBytes(of: &byRCode) { mine in
            withUnsafeBytes(of: other.byRCode) { theirs in
                let a = mine.bindMemory(to: Int.self)
                let b = theirs.bindMemory(to: Int.self)
                for index in 0..<16 { a[index] += b[index] }
            }
        }
    }
}

extension ClientAddress {
    /// The source address of a datagram or connection.
    init(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4):
            var storage: (UInt64, UInt64) = (0, 0)
            // sockaddr_in: family (2), port (2), address (4).
            withUnsafeMutableBytes(of: &storage) { out in
                withUnsafeBytes(of: v4.address) { bytes in out.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[4..<8])) }
            }
            self.init(family: .ipv4, octets: storage)
        case .v6(let v6):
            var storage: (UInt64, UInt64) = (0, 0)
            // sockaddr_in6: family (2), port (2), flow info (4), address (16).
            withUnsafeMutableBytes(of: &storage) { out in
                withUnsafeBytes(of: v6.address) { bytes in out.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[8..<24])) }
            }
            self.init(family: .ipv6, octets: storage)
        default:
            self = .unspecifiedIPv4
        }
    }
}
