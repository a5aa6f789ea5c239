#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CMeridianIO
import Foundation
import MeridianAuthority
import MeridianRouting
import MeridianWire
import NIOConcurrencyHelpers
import NIOCore

/// One thread answering one UDP socket in batches, as gdnsd does: a blocking recvmmsg for
/// up to `batch` datagrams, the responder for each, one sendmmsg for the answers. Several
/// workers share an address through SO_REUSEPORT and the kernel spreads clients over them.
/// Nothing on this path allocates or locks: the snapshot is re-read only when its
/// generation number changes, and counters are copied out a few times per second.
final class UDPWorker: @unchecked Sendable {
    static let batch = 64
    /// Largest datagram read whole; longer ones are cut and answered FORMERR.
    static let receiveSize = 16 * 1024
    /// Each answer's buffer: udp_payload is at most 4096.
    static let sendSize = 4096
    /// How often an idle worker wakes to pick up a new snapshot or stop.
    static let wakeInterval = timeval(tv_sec: 0, tv_usec: 50_000)

    let fd: Int32
    let name: String
    private let published: NIOLockedValueBox<AuthoritySnapshot>
    private let generation = ManagedAtomic<Int>(0)
    /// The generation this worker serves; `publish` waits for it.
    private let servedGeneration = ManagedAtomic<Int>(0)
    private let running = ManagedAtomic<Bool>(true)
    private let finished = ManagedAtomic<Bool>(false)
    private let countersCopy: NIOLockedValueBox<QueryCounters>
    /// Answers per edge and pool name from routing tables this worker no longer serves.
    let retiredAnswers = NIOLockedValueBox<(edges: [String: Int], pools: [String: Int])>(([:], [:]))
    private var thread: Thread?

    // Memory owned by the worker thread.
    private let receiveBuffers: UnsafeMutableRawPointer
    private let sendBuffers: UnsafeMutableRawPointer
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let receiveVectors: UnsafeMutablePointer<iovec>
    private let sendVectors: UnsafeMutablePointer<iovec>
    private let receiveMessages: UnsafeMutablePointer<meridian_mmsghdr>
    private let sendMessages: UnsafeMutablePointer<meridian_mmsghdr>

    /// Opens and binds the socket; fails with errno text.
    init(address: sockaddr_storage, addressLength: socklen_t, snapshot: AuthoritySnapshot, name: String) throws {
        let family = Int32(address.ss_family)
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UDPWorkerError(message: "socket: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, socklen_t(MemoryLayout<Int32>.size))
        if family == AF_INET6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        var wake = Self.wakeInterval
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wake, socklen_t(MemoryLayout<timeval>.size))
        var bindAddress = address
        let bound = withUnsafePointer(to: &bindAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, addressLength) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw UDPWorkerError(message: "bind \(name) (UDP): \(reason)")
        }
        self.fd = fd
        self.name = name
        self.published = NIOLockedValueBox(snapshot)
        self.countersCopy = NIOLockedValueBox(QueryCounters(edges: snapshot.routing.edges.count, pools: snapshot.routing.pools.count))

        let batch = Self.batch
        receiveBuffers = .allocate(byteCount: batch * Self.receiveSize, alignment: 16)
        sendBuffers = .allocate(byteCount: batch * Self.sendSize, alignment: 16)
        addresses = .allocate(capacity: batch)
        receiveVectors = .allocate(capacity: batch)
        sendVectors = .allocate(capacity: batch)
        receiveMessages = .allocate(capacity: batch)
        sendMessages = .allocate(capacity: batch)
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
    }

    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "meridian-udp-\(name)"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Hands the worker new data; `waitUntilServed` returns once it answers from it.
    func publish(_ snapshot: AuthoritySnapshot) -> Int {
        published.withLockedValue { $0 = snapshot }
        return generation.wrappingIncrementThenLoad(ordering: .releasing)
    }

    func serves(generation wanted: Int) -> Bool {
        servedGeneration.load(ordering: .acquiring) >= wanted || finished.load(ordering: .acquiring)
    }

    /// Counters as of the worker's last copy (at most a wake interval old).
    func counters() -> (QueryCounters, AuthoritySnapshot) {
        (countersCopy.withLockedValue { $0 }, published.withLockedValue { $0 })
    }

    func stop() {
        running.store(false, ordering: .releasing)
    }

    var isFinished: Bool { finished.load(ordering: .acquiring) }

    private func run() {
        let scratch = ResponderScratch()
        var snapshot = published.withLockedValue { $0 }
        var served = 0
        var counters = QueryCounters(edges: snapshot.routing.edges.count, pools: snapshot.routing.pools.count)
        var lastCopy = monotonicNanoseconds()
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
            let now = monotonicNanoseconds()
            if now - lastCopy > 100_000_000 {
                let copy = counters
                countersCopy.withLockedValue { $0 = copy }
                lastCopy = now
            }
            // Checked after the wait, so a datagram that arrives after a publish is answered
            // from the new data even if the worker was idle when it was published.
            let current = generation.load(ordering: .acquiring)
            if current != served {
                let next = published.withLockedValue { $0 }
                if next.routing !== snapshot.routing {
                    let old = snapshot.routing
                    let (edgeCounts, poolCounts) = (counters.edgeAnswers, counters.poolAnswers)
                    retiredAnswers.withLockedValue { retired in
                        for (index, count) in edgeCounts.enumerated() where count > 0 { retired.edges[old.edges[index].name, default: 0] += count }
                        for (index, count) in poolCounts.enumerated() where count > 0 { retired.pools[old.pools[index].name, default: 0] += count }
                    }
                    counters.edgeAnswers = [Int](repeating: 0, count: next.routing.edges.count)
                    counters.poolAnswers = [Int](repeating: 0, count: next.routing.pools.count)
                }
                snapshot = next
                served = current
                servedGeneration.store(current, ordering: .releasing)
            }
            guard received > 0 else { continue }
            defer {
                // The kernel wrote the source address lengths; the rest of each entry is reused.
                for index in 0..<Int(received) { receiveMessages[index].msg_hdr.msg_namelen = addressSize }
            }
            var replies = 0
            // Response time runs from the batch's arrival to its replies' departure: a query
            // waits for those before it, and the replies leave together.
            let arrival = now
            for index in 0..<Int(received) {
                let query = UnsafeRawBufferPointer(start: receiveBuffers + index * Self.receiveSize,
                                                   count: Int(receiveMessages[index].msg_len))
                let output = UnsafeMutableRawBufferPointer(start: sendBuffers + index * Self.sendSize, count: Self.sendSize)
                let client = ClientAddress(socketAddress: addresses + index)
                let outcome = Responder.respond(to: query, from: client, over: .udp, using: snapshot, scratch: scratch, into: output)
                counters.count(outcome, transport: .udp, chosen: scratch.chosenEdges)
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
            counters.countResponseTime(nanoseconds: monotonicNanoseconds() - arrival, queries: replies)
        }
        let copy = counters
        countersCopy.withLockedValue { $0 = copy }
        close(fd)
        finished.store(true, ordering: .releasing)
    }
}

/// Threads worth running per task: the CPUs the process may use (a `taskset` or cpuset
/// limits them), not all the machine's cores; more would only take turns on the same CPU.
public func usableCPUs() -> Int {
    let allowed = Int(meridian_allowed_cpus())
    return allowed > 0 ? allowed : System.coreCount
}

struct UDPWorkerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension ClientAddress {
    /// The source of a datagram, read straight from the kernel's sockaddr.
    @inline(__always)
    init(socketAddress storage: UnsafeMutablePointer<sockaddr_storage>) {
        var octets: (UInt64, UInt64) = (0, 0)
        let raw = UnsafeRawPointer(storage)
        if Int32(storage.pointee.ss_family) == AF_INET6 {
            // sockaddr_in6: family (2), port (2), flow info (4), address (16).
            withUnsafeMutableBytes(of: &octets) { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw + 8, count: 16)) }
            self.init(family: .ipv6, octets: octets)
        } else {
            withUnsafeMutableBytes(of: &octets) { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw + 4, count: 4)) }
            self.init(family: .ipv4, octets: octets)
        }
    }
}
