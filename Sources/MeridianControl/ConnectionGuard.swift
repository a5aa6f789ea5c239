import NIOConcurrencyHelpers
import NIOCore

/// The connections one listener (the stats port, the control socket) may hold open. When all
/// are taken, a new connection closes the one that has waited longest without a request
/// being served: a client that opens connections and sends nothing, or trickles a request
/// byte by byte, cannot lock out a scrape or `dnsctl`, and a request being answered (a
/// reload can take seconds) is never cut. Consulted at connection changes only.
public final class ConnectionSlots: Sendable {
    public let capacity: Int

    private struct Entry {
        let channel: any Channel
        /// Monotonic nanoseconds of the last change: opened, request received, answered.
        var since: UInt64
        /// A request was received and its answer is not yet sent.
        var busy: Bool
    }

    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Takes a slot for `channel`, closing the longest-waiting idle connection when all are
    /// taken; false when every connection is busy (the caller closes `channel`).
    func admit(_ channel: any Channel) -> Bool {
        let now = NIODeadline.now().uptimeNanoseconds
        let (admitted, evicted) = entries.withLockedValue { entries -> (Bool, (any Channel)?) in
            var evicted: (any Channel)?
            if entries.count >= capacity {
                guard let oldest = entries.filter({ !$0.value.busy }).min(by: { $0.value.since < $1.value.since }) else {
                    return (false, nil)
                }
                entries[oldest.key] = nil
                evicted = oldest.value.channel
            }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, since: now, busy: false)
            return (true, evicted)
        }
        evicted?.close(promise: nil)
        return admitted
    }

    func mark(_ channel: any Channel, busy: Bool) {
        let now = NIODeadline.now().uptimeNanoseconds
        entries.withLockedValue { entries in
            entries[ObjectIdentifier(channel)]?.busy = busy
            entries[ObjectIdentifier(channel)]?.since = now
        }
    }

    func release(_ channel: any Channel) {
        _ = entries.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// First in a stats or control connection's pipeline, where it sees the raw bytes: takes a
/// slot in `ConnectionSlots`, closes a connection whose request is not complete
/// `requestDeadline` after its first byte (a client trickling a byte every few seconds), and
/// one that sends nothing for `idleTimeout` between requests. The protocol's decoder says
/// when a request is complete through a `RequestCompletionSignal` placed after it.
public final class ConnectionGuard: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = IOData
    public typealias OutboundOut = IOData

    private enum Phase {
        /// Between requests: the idle timeout runs.
        case waiting
        /// Part of a request has arrived: the request deadline runs.
        case reading
        /// A request is being answered: no timer.
        case busy
    }

    private let slots: ConnectionSlots
    private let requestDeadline: TimeAmount
    private let idleTimeout: TimeAmount
    private var phase = Phase.waiting
    private var admitted = false
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    public init(slots: ConnectionSlots, requestDeadline: TimeAmount, idleTimeout: TimeAmount) {
        self.slots = slots
        self.requestDeadline = requestDeadline
        self.idleTimeout = idleTimeout
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard slots.admit(context.channel) else {
            context.close(promise: nil)
            return
        }
        admitted = true
        arm(idleTimeout)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        release(context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        release(context)
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if phase == .waiting {
            phase = .reading
            arm(requestDeadline)
        }
        context.fireChannelRead(data)
    }

    public func flush(context: ChannelHandlerContext) {
        if phase == .busy {
            phase = .waiting
            slots.mark(context.channel, busy: false)
            arm(idleTimeout)
        }
        context.flush()
    }

    /// The decoder has a whole request: it is answered without a deadline.
    func requestReceived() {
        guard admitted, phase != .busy, let context else { return }
        phase = .busy
        timer?.cancel()
        timer = nil
        slots.mark(context.channel, busy: true)
    }

    private func arm(_ delay: TimeAmount) {
        timer?.cancel()
        guard let context else { return }
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }

    private func release(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if admitted {
            admitted = false
            slots.release(context.channel)
        }
        self.context = nil
    }
}

/// Placed after a protocol's decoder: tells the connection's `ConnectionGuard` when a whole
/// request has been decoded (`isComplete` of a decoded part), and passes every part on.
public final class RequestCompletionSignal<Part>: ChannelInboundHandler {
    public typealias InboundIn = Part
    public typealias InboundOut = Part

    private let connectionGuard: ConnectionGuard
    private let isComplete: (Part) -> Bool

    public init(_ connectionGuard: ConnectionGuard, isComplete: @escaping (Part) -> Bool) {
        self.connectionGuard = connectionGuard
        self.isComplete = isComplete
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if isComplete(unwrapInboundIn(data)) { connectionGuard.requestReceived() }
        context.fireChannelRead(data)
    }
}
