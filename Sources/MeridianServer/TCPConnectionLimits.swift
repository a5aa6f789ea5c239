import Atomics
import MeridianWire
import NIOConcurrencyHelpers

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
