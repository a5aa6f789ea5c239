import NIOConcurrencyHelpers
import NIOCore

/// The connections a listener has accepted and its serving loop has not yet taken.
///
/// SwiftNIO's async server channel (NIO issue 2637) can accept a connection, wrap it, and
/// then never deliver it: the listener closed, or its loop was cancelled, in between. The
/// dropped `NIOAsyncChannel` traps ("Deinited NIOAsyncWriter without calling finish()") once
/// the connection becomes active, and its socket would stay open. So every wrapped
/// connection is held here until the loop takes it, and `closeTheRest()` finishes and
/// closes the ones it never took.
public final class AcceptedConnections<Inbound: Sendable, Outbound: Sendable>: Sendable {
    public typealias Connection = NIOAsyncChannel<Inbound, Outbound>

    private struct State {
        var waiting: [ObjectIdentifier: Connection] = [:]
        /// The listener is gone: a connection accepted now is refused.
        var closed = false
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Wraps `channel`, in the listener's child initializer on the channel's event loop.
    /// Once the listener is closed, closes `channel` and throws: NIO drops a channel whose
    /// initializer failed without closing its socket.
    public func wrap(_ channel: any Channel) throws -> Connection {
        let connection = try state.withLockedValue { state -> Connection? in
            guard !state.closed else { return nil }
            let connection = try Connection(wrappingChannelSynchronously: channel)
            state.waiting[ObjectIdentifier(channel)] = connection
            return connection
        }
        guard let connection else {
            channel.close(promise: nil)
            throw ChannelError.ioOnClosedChannel
        }
        return connection
    }

    /// The serving loop has `connection` and will run it to its end.
    public func take(_ connection: Connection) {
        _ = state.withLockedValue { $0.waiting.removeValue(forKey: ObjectIdentifier(connection.channel)) }
    }

    /// Finishes and closes every connection never taken, and refuses new ones. Called when
    /// the serving loop has ended.
    public func closeTheRest() async {
        let orphans = state.withLockedValue { state -> [Connection] in
            state.closed = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for orphan in orphans {
            try? await orphan.executeThenClose { _, _ in }
        }
    }
}
