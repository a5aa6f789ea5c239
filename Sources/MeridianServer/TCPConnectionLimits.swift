import Atomics
import MeridianWire
import NIOConcurrencyHelpers
import NIOCore

/// What happened to a TCP connection, for the counters.
enum TCPConnectionEvent {
    case accepted, closed, refused, evicted
}

/// The process-wide TCP connection limits: `maximum` open connections in all and
/// `maximumPerClient` from one client address. Consulted once per accepted connection, never
/// per query, so the per-client table may take a lock.
final class TCPAdmission: Sendable {
    enum Verdict {
        case admitted
        /// Admitted over the total: the caller must make room by evicting an idle
        /// connection, or give the place back with `release`.
        case overTotal
        /// The client already holds its share; nothing was taken.
        case clientAtLimit
    }

    let maximum: Int
    let maximumPerClient: Int
    private let open = ManagedAtomic(0)
    /// Open connections per client address: at most `maximum` entries, each removed with the
    /// client's last connection.
    private let perClient = NIOLockedValueBox<[ClientAddress: Int]>([:])

    init(maximum: Int, maximumPerClient: Int) {
        self.maximum = maximum
        self.maximumPerClient = maximumPerClient
    }

    func admit(_ client: ClientAddress) -> Verdict {
        let allowed = perClient.withLockedValue { counts in
            let current = counts[client, default: 0]
            guard current < maximumPerClient else { return false }
            counts[client] = current + 1
            return true
        }
        guard allowed else { return .clientAtLimit }
        return open.wrappingIncrementThenLoad(ordering: .relaxed) > maximum ? .overTotal : .admitted
    }

    /// Gives back the place `admit` took for `client`.
    func release(_ client: ClientAddress) {
        open.wrappingDecrement(ordering: .relaxed)
        perClient.withLockedValue { counts in
            guard let current = counts[client] else { return }
            counts[client] = current > 1 ? current - 1 : nil
        }
    }
}

/// The TCP connections of one event loop, for choosing which one to close when the table is
/// full: the least recently active one that has nothing in flight (no partial query read,
/// no answer waiting for the client to read it). NSD and Knot likewise close idle
/// connections under load rather than refuse new clients, so one client that keeps many
/// connections barely alive cannot lock everyone else out. Touched only on its event loop.
final class LoopTCPConnections: @unchecked Sendable {
    let eventLoop: any EventLoop
    let answering: AnsweringContext
    private var handlers: [TCPQueryHandler] = []

    init(eventLoop: any EventLoop, answering: AnsweringContext) {
        self.eventLoop = eventLoop
        self.answering = answering
    }

    func add(_ handler: TCPQueryHandler) {
        handler.slot = handlers.count
        handlers.append(handler)
    }

    func remove(_ handler: TCPQueryHandler) {
        let slot = handler.slot
        guard slot >= 0, slot < handlers.count, handlers[slot] === handler else { return }
        let last = handlers.removeLast()
        if slot < handlers.count {
            handlers[slot] = last
            last.slot = slot
        }
        handler.slot = -1
    }

    /// Closes the least recently active idle connection; false when every one is busy. A scan
    /// rather than an ordered list: it runs only when the table is full, and keeping an order
    /// would cost every query.
    func evictLeastRecentlyActive() -> Bool {
        var oldest: TCPQueryHandler?
        for handler in handlers where handler.isIdle {
            if let current = oldest, current.lastActivity <= handler.lastActivity { continue }
            oldest = handler
        }
        guard let oldest else { return false }
        remove(oldest)
        oldest.evict()
        return true
    }
}
