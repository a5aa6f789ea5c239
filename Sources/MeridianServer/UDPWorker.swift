#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CMeridianIO
import Foundation
import MeridianAuthority
import MeridianRouting
import MeridianWire

/// One thread answering one UDP socket in batches, as gdnsd does: a blocking recvmmsg for
/// up to `batch` datagrams, the responder for each, one sendmmsg for the answers. Several
/// workers share an address through SO_REUSEPORT and the kernel spreads clients over them.
/// Nothing on this path allocates or locks: the worker's answering context takes a new
/// snapshot only when the publisher's generation changes.
final class UDPWorker: @unchecked Sendable {
    static let batch = 64
    /// Largest datagram read whole; longer ones are cut and answered FORMERR.
    static let receiveSize = 16 * 1024
    /// Each answer's buffer: udp_payload is at most 4096.
    static let sendSize = 4096
    /// How often an idle worker wakes to take a new snapshot, share its counters or stop.
    static let wakeInterval = timeval(tv_sec: 0, tv_usec: 50_000)

    let fd: Int32
    let context: AnsweringContext
    private let running = ManagedAtomic<Bool>(true)
    /// Ends when the worker's thread has closed its socket.
    let finished: AsyncStream<Void>
    private let finish: AsyncStream<Void>.Continuation

    // Memory owned by the worker thread.
    private let receiveBuffers: UnsafeMutableRawPointer
    private let sendBuffers: UnsafeMutableRawPointer
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let receiveVectors: UnsafeMutablePointer<iovec>
    private let sendVectors: UnsafeMutablePointer<iovec>
    private let receiveMessages: UnsafeMutablePointer<meridian_mmsghdr>
    private let sendMessages: UnsafeMutablePointer<meridian_mmsghdr>
    /// Each received datagram's answer length (0: none sent), for the query log after the batch left.
    private let answerLengths: UnsafeMutablePointer<Int>

    /// Serves `fd`, a UDP socket `DNSSockets` bound; the worker closes it when it stops.
    init(fd: Int32, context: AnsweringContext) {
        self.fd = fd
        self.context = context
        (finished, finish) = AsyncStream.makeStream()

        let batch = Self.batch
        receiveBuffers = .allocate(byteCount: batch * Self.receiveSize, alignment: 16)
        sendBuffers = .allocate(byteCount: batch * Self.sendSize, alignment: 16)
        addresses = .allocate(capacity: batch)
        receiveVectors = .allocate(capacity: batch)
        sendVectors = .allocate(capacity: batch)
        receiveMessages = .allocate(capacity: batch)
        sendMessages = .allocate(capacity: batch)
        answerLengths = .allocate(capacity: batch)
        for index in 0..<batch {
            receiveVectors[index] = iovec(iov_base: receiveBuffers + index * Self.receiveSize, iov_len: Self.receiveSize)
        }
    }

    deinit {
        receiveBuffers.deallocate()
        sendBuffers.deallocate()
        addresses.deallocate()
        receiveVectors.deallocate()
        sendVectors.deallocate()
        receiveMessages.deallocate()
        sendMessages.deallocate()
        answerLengths.deallocate()
    }

    /// Starts the thread, named `meridian-udpN` (Linux keeps 15 bytes of a thread's name, so
    /// `top -H` and `perf` show this and not the whole context name).
    func start(number: Int) {
        startThread(named: "meridian-udp\(number)") { [self] in run() }
    }

    /// Asks the thread to stop; it does within a wake interval, then `finished` ends.
    func stop() {
        running.store(false, ordering: .releasing)
    }

    private func run() {
        let batch = Self.batch
        let addressSize = socklen_t(MemoryLayout<sockaddr_storage>.size)
        for index in 0..<batch {
            receiveMessages[index] = meridian_mmsghdr(
                msg_hdr: msghdr(msg_name: UnsafeMutableRawPointer(addresses + index), msg_namelen: addressSize,
                                msg_iov: receiveVectors + index, msg_iovlen: 1,
                                msg_control: nil, msg_controllen: 0, msg_flags: 0),
                msg_len: 0)
        }
        while running.load(ordering: .relaxed) {
            let received = meridian_recvmmsg(fd, receiveMessages, UInt32(batch), meridian_msg_waitforone, nil)
            // Response time runs from the batch's arrival to its replies' departure: a query
            // waits for those before it, and the replies leave together.
            let arrival = monotonicNanoseconds()
            context.shareCountersIfDue(now: arrival)
            // After the wait, so a datagram that arrives after a publish is answered from the
            // new data even if the worker was idle when it was published.
            context.checkpoint()
            guard received > 0 else { continue }
            context.readWallClock()
            let logging = context.queryLogMode
            let arrivalTime = logging.isOn ? realtimeNanoseconds() : 0
            let replies = answer(count: Int(received), now: arrival)
            send(replies)
            context.recordResponseTime(nanoseconds: monotonicNanoseconds() - arrival, answers: replies)
            // After the answers left: logging adds nothing to their response time.
            if logging.isOn { log(count: Int(received), logging, arrivalTime: arrivalTime) }
            // The kernel wrote the source address lengths; the rest of each entry is reused.
            for index in 0..<Int(received) { receiveMessages[index].msg_hdr.msg_namelen = addressSize }
        }
        context.shareCounters()
        close(fd)
        finish.finish()
    }

    /// Answers the received datagrams into the send buffers; returns how many replies there
    /// are. `now` is the batch's arrival, the clock rate limiting reads.
    @inline(__always)
    private func answer(count: Int, now: Int) -> Int {
        var replies = 0
        for index in 0..<count {
            let query = UnsafeRawBufferPointer(start: receiveBuffers + index * Self.receiveSize,
                                               count: Int(receiveMessages[index].msg_len))
            let output = UnsafeMutableRawBufferPointer(start: sendBuffers + index * Self.sendSize, count: Self.sendSize)
            let client = ClientAddress(socketAddress: UnsafeRawPointer(addresses + index))
            let outcome = context.answer(query, from: client, over: .udp, into: output, now: now)
            answerLengths[index] = outcome.length
            guard outcome.length > 0 else { continue }
            sendVectors[replies] = iovec(iov_base: output.baseAddress, iov_len: outcome.length)
            sendMessages[replies] = meridian_mmsghdr(
                msg_hdr: msghdr(msg_name: UnsafeMutableRawPointer(addresses + index),
                                msg_namelen: receiveMessages[index].msg_hdr.msg_namelen,
                                msg_iov: sendVectors + replies, msg_iovlen: 1,
                                msg_control: nil, msg_controllen: 0, msg_flags: 0),
                msg_len: 0)
            replies += 1
        }
        return replies
    }

    /// Copies the batch's queries and answers to the query log.
    @inline(never)
    private func log(count: Int, _ mode: QueryLog.Mode, arrivalTime: Int64) {
        let departure = realtimeNanoseconds()
        for index in 0..<count {
            let source = UnsafeRawPointer(addresses + index)
            // sin_port and sin6_port are both at offset 2, in network order.
            let port = UInt16(bigEndian: source.load(fromByteOffset: 2, as: UInt16.self))
            context.logExchange(mode,
                                query: UnsafeRawBufferPointer(start: receiveBuffers + index * Self.receiveSize,
                                                              count: Int(receiveMessages[index].msg_len)),
                                response: UnsafeRawBufferPointer(start: sendBuffers + index * Self.sendSize, count: answerLengths[index]),
                                client: ClientAddress(socketAddress: source), port: port, over: .udp, queryTime: arrivalTime,
                                responseTime: departure)
        }
    }

    @inline(__always)
    private func send(_ replies: Int) {
        var sent = 0
        while sent < replies {
            let result = meridian_sendmmsg(fd, sendMessages + sent, UInt32(replies - sent), 0)
            if result > 0 {
                sent += Int(result)
            } else if errno == EINTR || errno == EAGAIN {
                continue
            } else {
                // One bad destination must not stall the rest of the batch.
                sent += 1
            }
        }
    }
}
