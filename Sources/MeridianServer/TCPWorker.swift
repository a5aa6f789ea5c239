#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CMeridianIO
import Foundation
import MeridianAuthority
import MeridianWire
import NIOCore

/// One thread answering DNS over TCP (RFC 7766) in an epoll loop of its own: it accepts from
/// its own listening socket on every address (the kernel spreads new connections over the
/// workers' sockets through SO_REUSEPORT), cuts the length-prefixed queries straight from
/// what it read, answers them into one buffer and writes that buffer with one system call. Queries may be pipelined; answers go out in order.
///
/// Hand-written rather than a SwiftNIO pipeline because at low rates, where one read carries
/// one query, NIO's per-event work (selector bookkeeping, the pipeline, pending-write and
/// flush state, reference counting) cost three times the responder's CPU per answer
/// (docs/PERFORMANCE.md, "Partial load"). Nothing here allocates per query: a connection gets
/// a buffer of its own only while it holds part of a query or answers the client has not
/// taken.
///
/// Limits: a connection closes when no complete query arrived for the idle timeout (so a
/// client that trickles bytes cannot hold it); while a client does not read its answers no
/// more of its queries are read or answered (so it cannot make us buffer without end); the
/// total and per-client caps are `TCPAdmission`'s, and over the total the least recently
/// active idle connection of this worker makes room.
final class TCPWorker: @unchecked Sendable {
    /// Bytes taken from a connection per read.
    static let readSize = 64 * 1024
    /// Answers gathered for one write: after this much, a read's remaining queries wait until
    /// the answers are written. One largest answer and its length fit beyond it.
    static let gatherLimit = 64 * 1024
    static let outputCapacity = gatherLimit + 2 + Responder.maxResponseSize
    static let maxEvents: Int32 = 64
    /// New connections taken per wake-up, so a flood of them cannot starve open ones.
    static let acceptsPerWake = 16
    /// How often an idle worker wakes to take a new snapshot, share its counters or stop.
    static let wakeMilliseconds: Int32 = 50
    /// How often idle connections are looked for.
    static let sweepInterval = 100_000_000
    /// How long accepting pauses when the process is out of descriptors or memory.
    static let acceptPause = 100_000_000

    let context: AnsweringContext
    private let listeners: [Int32]
    private let admission: TCPAdmission
    private let idleTimeout: Int
    private let running = ManagedAtomic<Bool>(true)
    /// Ends when the worker's thread has closed its connections.
    let finished: AsyncStream<Void>
    private let finish: AsyncStream<Void>.Continuation

    // Owned by the worker thread.
    private let epoll: Int32
    private let ready: UnsafeMutablePointer<meridian_ready>
    private let readBuffer: UnsafeMutableRawPointer
    private let outputBuffer: UnsafeMutableRawPointer
    private var outputUsed = 0
    /// Connections by slot; a slot is reused after its connection closed, so an event names
    /// its connection by slot and serial (`TCPConnection.token`).
    private var slots: [TCPConnection?] = []
    private var freeSlots: [Int] = []
    private var serial: UInt64 = 0
    private var nextSweep = 0
    private var acceptingResumesAt = 0
    /// A connection was accepted, refused or closed since the counters were last shared:
    /// they are shared at once, so `dnsctl stats` shows connections as they come and go.
    private var connectionsChanged = false

    private static let listenerToken: UInt64 = 1 << 63

    /// Serves connections from `listeners`, listening TCP sockets that `DNSSockets` bound
    /// (the worker leaves them open: `DNSListeners` closes them once every worker stopped).
    init(listeners: [Int32], context: AnsweringContext, admission: TCPAdmission, idleTimeout: Duration) throws(DNSWorkerError) {
        epoll = meridian_epoll_create()
        guard epoll >= 0 else { throw DNSWorkerError(operation: "epoll_create", code: errno) }
        self.listeners = listeners
        self.context = context
        self.admission = admission
        self.idleTimeout = Int(idleTimeout.components.seconds) * 1_000_000_000
            + Int(idleTimeout.components.attoseconds / 1_000_000_000)
        (finished, finish) = AsyncStream.makeStream()
        ready = .allocate(capacity: Int(Self.maxEvents))
        readBuffer = .allocate(byteCount: Self.readSize, alignment: 16)
        outputBuffer = .allocate(byteCount: Self.outputCapacity, alignment: 16)
        for (index, listener) in listeners.enumerated() {
            guard meridian_epoll_add(epoll, listener, meridian_epoll_in,
                                     Self.listenerToken | UInt64(index)) == 0 else {
                let code = errno
                Glibc.close(epoll)
                throw DNSWorkerError(operation: "epoll_ctl", code: code)
            }
        }
    }

    deinit {
        ready.deallocate()
        readBuffer.deallocate()
        outputBuffer.deallocate()
    }

    /// Starts the thread, named `meridian-tcpN`.
    func start(number: Int) {
        startThread(named: "meridian-tcp\(number)") { [self] in run() }
    }

    /// Gives back what `init` opened, for a worker that never ran.
    func closeUnstarted() {
        Glibc.close(epoll)
    }

    /// Asks the thread to stop; within a wake interval it writes what answers it can, closes
    /// its connections, and `finished` ends.
    func stop() {
        running.store(false, ordering: .releasing)
    }

    private func run() {
        while running.load(ordering: .relaxed) {
            let found = meridian_epoll_wait(epoll, ready, Self.maxEvents, Self.wakeMilliseconds)
            let now = monotonicNanoseconds()
            // After the wait, so queries that arrive after a publish get the new data.
            context.checkpoint()
            if found > 0 {
                context.readWallClock()
                let logging = context.queryLogMode
                for index in 0..<Int(found) {
                    let event = ready[index]
                    if event.token & Self.listenerToken != 0 {
                        accept(from: listeners[Int(event.token & ~Self.listenerToken)], now: now)
                    } else if let connection = connection(for: event.token) {
                        serve(connection, events: event.events, logging: logging)
                    }
                }
            }
            if now >= nextSweep { sweep(now: now) }
            if connectionsChanged {
                connectionsChanged = false
                context.shareCounters(now: now)
            } else {
                context.shareCountersIfDue(now: now)
            }
        }
        for case let connection? in slots {
            if let pending = connection.pendingOutput { _ = pending.withUnsafeReadableBytes { send(connection.fd, $0) } }
            close(connection)
        }
        Glibc.close(epoll)
        context.shareCounters()
        finish.finish()
    }

    @inline(__always)
    private func connection(for token: UInt64) -> TCPConnection? {
        let slot = Int(token & 0xFFFF_FFFF)
        guard slot < slots.count, let connection = slots[slot], connection.token == token else { return nil }
        return connection
    }

    // MARK: Connections

    private func accept(from listener: Int32, now: Int) {
        guard acceptingResumesAt == 0 else { return }
        var peer = sockaddr_storage()
        for _ in 0..<Self.acceptsPerWake {
            let fd = meridian_accept(listener, &peer)
            guard fd >= 0 else {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return
                case EINTR, ECONNABORTED, EPROTO: continue
                default:
                    // Out of descriptors or memory: the listener would stay readable and wake
                    // this loop for nothing. Stop watching it for a moment.
                    pauseAccepting(now: now)
                    return
                }
            }
            let client = withUnsafePointer(to: &peer) { ClientAddress(socketAddress: UnsafeRawPointer($0)) }
            // sin_port and sin6_port are both at offset 2, in network order.
            let port = withUnsafeBytes(of: &peer) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
            admit(fd, client: client, port: port, now: now)
        }
    }

    private func admit(_ fd: Int32, client: ClientAddress, port: UInt16, now: Int) {
        connectionsChanged = true
        switch admission.admit(client) {
        case .admitted:
            break
        case .clientAtLimit:
            context.countTCP(.refused)
            Glibc.close(fd)
            return
        case .overTotal:
            guard evictLeastRecentlyActive() else {
                admission.release(client)
                context.countTCP(.refused)
                Glibc.close(fd)
                return
            }
            context.countTCP(.evicted)
        }
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        let slot = freeSlots.popLast() ?? slots.count
        serial &+= 1
        let connection = TCPConnection(fd: fd, client: client, port: port, token: serial << 32 | UInt64(slot), now: now)
        guard meridian_epoll_add(epoll, fd, meridian_epoll_in, connection.token) == 0 else {
            if slot < slots.count { freeSlots.append(slot) }
            admission.release(client)
            context.countTCP(.refused)
            Glibc.close(fd)
            return
        }
        if slot == slots.count { slots.append(connection) } else { slots[slot] = connection }
        context.countTCP(.accepted)
    }

    private func close(_ connection: TCPConnection) {
        let slot = Int(connection.token & 0xFFFF_FFFF)
        guard slots[slot] === connection else { return }
        // Closing the descriptor also takes it out of the epoll set.
        Glibc.close(connection.fd)
        slots[slot] = nil
        freeSlots.append(slot)
        admission.release(connection.client)
        context.countTCP(.closed)
        connectionsChanged = true
    }

    /// Closes the least recently active connection with nothing in flight; false when every
    /// one is busy. NSD and Knot likewise close idle connections under load rather than
    /// refuse new clients, so one client that keeps many connections barely alive cannot
    /// lock everyone else out. A scan rather than an ordered list: it runs only when the
    /// table is full, and keeping an order would cost every query.
    private func evictLeastRecentlyActive() -> Bool {
        var oldest: TCPConnection?
        for case let connection? in slots where connection.isIdle {
            if let current = oldest, current.lastActivity <= connection.lastActivity { continue }
            oldest = connection
        }
        guard let oldest else { return false }
        close(oldest)
        return true
    }

    /// Closes connections on which no complete query arrived for the idle timeout, whatever
    /// they hold: a client that neither asks nor reads has had its time.
    private func sweep(now: Int) {
        nextSweep = now + Self.sweepInterval
        if acceptingResumesAt != 0 && now >= acceptingResumesAt { resumeAccepting() }
        for case let connection? in slots where now - connection.lastActivity >= idleTimeout {
            close(connection)
        }
    }

    private func pauseAccepting(now: Int) {
        for listener in listeners { _ = meridian_epoll_remove(epoll, listener) }
        acceptingResumesAt = now + Self.acceptPause
        nextSweep = min(nextSweep, acceptingResumesAt)
    }

    private func resumeAccepting() {
        acceptingResumesAt = 0
        for (index, listener) in listeners.enumerated() {
            _ = meridian_epoll_add(epoll, listener, meridian_epoll_in, Self.listenerToken | UInt64(index))
        }
    }

    // MARK: Queries and answers

    /// Does what `events` allow on `connection`: writes answers the client had not taken,
    /// answers queries held back meanwhile, then reads and answers new ones.
    private func serve(_ connection: TCPConnection, events: UInt32, logging: QueryLog.Mode) {
        if connection.pendingOutput != nil {
            guard writePending(connection) else { return close(connection) }
            if connection.pendingOutput != nil { return }
            if var held = connection.pendingInput {
                connection.pendingInput = nil
                guard answerHeld(&held, on: connection, logging: logging) else { return close(connection) }
                if connection.pendingOutput != nil { return }
            }
        }
        // Readable, or hung up or failed (which a read reports).
        if events & ~meridian_epoll_out != 0 && !connection.readClosed {
            guard read(connection, logging: logging) else { return close(connection) }
        }
        // The client sent all it will: once its answers are out the connection is done (what
        // is held then is part of a query that can no longer be completed).
        if connection.readClosed && connection.pendingOutput == nil { return close(connection) }
        watch(connection)
    }

    /// Reads once and answers every whole query read; false when the connection failed.
    private func read(_ connection: TCPConnection, logging: QueryLog.Mode) -> Bool {
        let count = Glibc.read(connection.fd, readBuffer, Self.readSize)
        guard count > 0 else {
            if count == 0 { connection.readClosed = true }
            return count == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
        }
        let bytes = UnsafeRawBufferPointer(start: readBuffer, count: count)
        if var held = connection.pendingInput {
            // Part of a query is waiting for its rest: what was read goes behind it.
            connection.pendingInput = nil
            held.writeBytes(bytes)
            return answerHeld(&held, on: connection, logging: logging)
        }
        guard let consumed = answer(bytes, on: connection, logging: logging) else { return false }
        if consumed < count {
            var rest = ByteBufferAllocator().buffer(capacity: count - consumed)
            rest.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            connection.pendingInput = rest
        }
        return true
    }

    /// Answers the whole queries in `held` and keeps the rest on the connection, in a buffer
    /// no larger than it needs: a client that trickles a query byte by byte holds no more
    /// memory than it sent. False when a write failed.
    private func answerHeld(_ held: inout ByteBuffer, on connection: TCPConnection, logging: QueryLog.Mode) -> Bool {
        guard let consumed = held.withUnsafeReadableBytes({ answer($0, on: connection, logging: logging) }) else { return false }
        held.moveReaderIndex(forwardBy: consumed)
        let left = held.readableBytes
        if left == 0 {
            connection.pendingInput = nil
        } else if held.capacity > 2 * left + 4096 {
            var smaller = ByteBufferAllocator().buffer(capacity: left)
            smaller.writeBuffer(&held)
            connection.pendingInput = smaller
        } else {
            held.discardReadBytes()
            connection.pendingInput = held
        }
        return true
    }

    /// Answers whole queries from the start of `bytes` and writes the answers, until no whole
    /// query is left or the client stops taking answers. Returns the bytes used, or nil when
    /// a write failed.
    private func answer(_ bytes: UnsafeRawBufferPointer, on connection: TCPConnection, logging: QueryLog.Mode) -> Int? {
        var consumed = 0
        while true {
            // Response time runs from here to the answers' departure, as a UDP batch's does:
            // the answers to one read leave together.
            let arrival = monotonicNanoseconds()
            let (used, replies) = gatherAnswers(UnsafeRawBufferPointer(rebasing: bytes[consumed...]), on: connection,
                                                logging: logging)
            consumed += used
            if outputUsed > 0 {
                guard writeGathered(connection) else { return nil }
            }
            if used > 0 {
                let departure = monotonicNanoseconds()
                connection.lastActivity = departure
                context.recordResponseTime(nanoseconds: departure - arrival, answers: replies)
            }
            if used == 0 || connection.pendingOutput != nil || consumed == bytes.count { return consumed }
        }
    }

    /// Answers whole queries from the start of `bytes` into the output buffer, framed, until
    /// it holds `gatherLimit` bytes; returns the bytes of queries answered and how many
    /// answers there are (a query may get none).
    @inline(__always)
    private func gatherAnswers(_ bytes: UnsafeRawBufferPointer, on connection: TCPConnection,
                               logging: QueryLog.Mode) -> (used: Int, replies: Int) {
        var offset = 0
        var replies = 0
        while bytes.count - offset >= 2 && outputUsed < Self.gatherLimit {
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            guard bytes.count - offset - 2 >= length else { break }
            let query = UnsafeRawBufferPointer(rebasing: bytes[(offset + 2)..<(offset + 2 + length)])
            offset += 2 + length
            let arrivalTime = logging.isOn ? realtimeNanoseconds() : 0
            let space = UnsafeMutableRawBufferPointer(start: outputBuffer + outputUsed + 2, count: Responder.maxResponseSize)
            let outcome = context.answer(query, from: connection.client, over: .tcp, into: space)
            if logging.isOn {
                context.logExchange(logging, query: query, response: UnsafeRawBufferPointer(rebasing: space[0..<outcome.length]),
                                    client: connection.client, port: connection.port, over: .tcp, queryTime: arrivalTime,
                                    responseTime: realtimeNanoseconds())
            }
            guard outcome.length > 0 else { continue }
            outputBuffer.storeBytes(of: UInt16(outcome.length).bigEndian, toByteOffset: outputUsed, as: UInt16.self)
            outputUsed += 2 + outcome.length
            replies += 1
        }
        return (offset, replies)
    }

    /// Writes the gathered answers; what the socket does not take waits on the connection.
    /// False when the write failed.
    private func writeGathered(_ connection: TCPConnection) -> Bool {
        defer { outputUsed = 0 }
        let written = send(connection.fd, UnsafeRawBufferPointer(start: outputBuffer, count: outputUsed))
        guard written >= 0 else { return false }
        if written < outputUsed {
            var rest = ByteBufferAllocator().buffer(capacity: outputUsed - written)
            rest.writeBytes(UnsafeRawBufferPointer(start: outputBuffer + written, count: outputUsed - written))
            connection.pendingOutput = rest
        }
        return true
    }

    /// Writes answers the client had not taken; false when the write failed.
    private func writePending(_ connection: TCPConnection) -> Bool {
        guard var pending = connection.pendingOutput else { return true }
        let written = pending.withUnsafeReadableBytes { send(connection.fd, $0) }
        guard written >= 0 else { return false }
        pending.moveReaderIndex(forwardBy: written)
        connection.pendingOutput = pending.readableBytes > 0 ? pending : nil
        return true
    }

    /// Sends as much of `bytes` as the socket takes now; -1 on an error other than a full socket.
    private func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        var written = 0
        while written < bytes.count {
            // MSG_NOSIGNAL: a client that went away is an error here, not a SIGPIPE.
            let result = Glibc.send(fd, bytes.baseAddress! + written, bytes.count - written, Int32(MSG_NOSIGNAL))
            if result > 0 {
                written += result
            } else if result < 0 && errno == EINTR {
                continue
            } else if result < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else {
                return -1
            }
        }
        return written
    }

    /// Asks epoll for what the connection waits for: the client to take its answers, or the
    /// next queries.
    @inline(__always)
    private func watch(_ connection: TCPConnection) {
        let wanted = connection.pendingOutput != nil ? meridian_epoll_out : meridian_epoll_in
        guard wanted != connection.watching else { return }
        connection.watching = wanted
        if meridian_epoll_modify(epoll, connection.fd, wanted, connection.token) != 0 { close(connection) }
    }
}

/// One accepted connection, touched only by its worker's thread.
private final class TCPConnection {
    let fd: Int32
    let client: ClientAddress
    let port: UInt16
    /// Slot in the worker's table (low 32 bits) and the worker's serial number for it.
    let token: UInt64
    /// When the last complete query was answered, or the connection opened (monotonic
    /// nanoseconds): idle timeouts and eviction go by it.
    var lastActivity: Int
    /// Bytes read and not yet answered: part of a query, or whole queries held back while
    /// the client does not take its answers.
    var pendingInput: ByteBuffer?
    /// Answers the socket did not take yet.
    var pendingOutput: ByteBuffer?
    /// The client closed its side: no more queries will come.
    var readClosed = false
    /// The epoll events the connection is registered for.
    var watching = meridian_epoll_in

    init(fd: Int32, client: ClientAddress, port: UInt16, token: UInt64, now: Int) {
        self.fd = fd
        self.client = client
        self.port = port
        self.token = token
        self.lastActivity = now
    }

    /// Nothing in flight: no query half read, no answer the client has not taken.
    var isIdle: Bool { pendingInput == nil && pendingOutput == nil }
}

/// A TCP worker could not be set up.
struct DNSWorkerError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32

    var description: String { "TCP worker: \(operation): \(String(cString: strerror(code)))" }
}
