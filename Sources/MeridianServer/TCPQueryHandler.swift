import MeridianAuthority
import MeridianWire
import NIOCore

/// Answers length-framed queries on one TCP connection (RFC 7766): queries may be
/// pipelined, answers go out in order. Frames are cut here, straight from what the socket
/// read, and the answers to one read go out in one buffer: a general frame decoder and a
/// buffer per answer cost more than answering. The connection closes when no complete query has
/// arrived for the idle timeout, so a client that trickles bytes cannot hold it, and reading
/// pauses while the client does not read its answers, so it cannot make us buffer without end.
final class TCPQueryHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let answering: AnsweringContext
    private let idleTimeout: TimeAmount
    private let admission: TCPAdmission
    private let loopConnections: LoopTCPConnections
    private let client: ClientAddress
    private let clientPort: UInt16
    private var channel: (any Channel)?
    private var idleTask: Scheduled<Void>?
    /// When the last complete query was answered, or the connection opened (monotonic
    /// nanoseconds). The idle timer is not moved for every query (cancelling and scheduling a
    /// task costs more than answering); when it fires early it sets itself again for the
    /// rest of the time. Eviction picks the connection where this is oldest.
    private(set) var lastActivity = monotonicNanoseconds()
    /// Position in `loopConnections`, -1 when not listed.
    var slot = -1
    private var released = false
    private var pendingFlush = false
    private var readPending = false
    /// The start of a frame whose rest has not arrived (at most one frame, 65,537 bytes).
    private var partial: ByteBuffer?

    /// Serves one connection that `admission` admitted for `client`.
    init(connections: LoopTCPConnections, client: ClientAddress, clientPort: UInt16, idleTimeout: TimeAmount, admission: TCPAdmission) {
        self.answering = connections.answering
        self.loopConnections = connections
        self.client = client
        self.clientPort = clientPort
        self.idleTimeout = idleTimeout
        self.admission = admission
    }

    /// Nothing in flight: no query half read, no answer the client has not taken.
    var isIdle: Bool { partial == nil && channel?.isWritable == true }

    /// Closed to make room for a new client.
    func evict() {
        channel?.close(promise: nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
        loopConnections.add(self)
        answering.countTCP(.accepted)
        if context.channel.isActive { armIdleTimer(context: context, in: idleTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        releasePlace()
    }

    func channelActive(context: ChannelHandlerContext) {
        if idleTask == nil { armIdleTimer(context: context, in: idleTimeout) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        releasePlace()
        context.fireChannelInactive()
    }

    /// Once per connection, whichever of inactive and removed comes first.
    private func releasePlace() {
        idleTask?.cancel()
        idleTask = nil
        guard !released else { return }
        released = true
        loopConnections.remove(self)
        admission.release(client)
        answering.countTCP(.closed)
        channel = nil
    }

    private func armIdleTimer(context: ChannelHandlerContext, in delay: TimeAmount) {
        idleTask?.cancel()
        let channel = context.channel
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        idleTask = context.eventLoop.scheduleTask(in: delay) {
            let handler = handler.value
            let idle = TimeAmount.nanoseconds(Int64(monotonicNanoseconds() - handler.lastActivity))
            if idle >= handler.idleTimeout {
                channel.close(promise: nil)
            } else {
                handler.armIdleTimer(context: boundContext.value, in: handler.idleTimeout - idle)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        if var held = partial {
            partial = nil
            held.writeBuffer(&input)
            input = held
        }
        var responses: ByteBuffer?
        let logging = answering.queryLogMode
        while let length = input.getInteger(at: input.readerIndex, as: UInt16.self), input.readableBytes >= 2 + Int(length) {
            input.moveReaderIndex(forwardBy: 2)
            let arrival = monotonicNanoseconds()
            let arrivalTime = logging.isOn ? realtimeNanoseconds() : 0
            answering.readWallClock()
            let outcome = input.withUnsafeReadableBytes { bytes in
                let query = UnsafeRawBufferPointer(rebasing: bytes[0..<Int(length)])
                let outcome = answering.answer(query, from: client, over: .tcp, into: answering.output)
                if logging.isOn {
                    answering.logExchange(logging, query: query,
                                          response: UnsafeRawBufferPointer(rebasing: answering.output[0..<outcome.length]),
                                          client: client, port: clientPort, over: .tcp, queryTime: arrivalTime,
                                          responseTime: realtimeNanoseconds())
                }
                return outcome
            }
            input.moveReaderIndex(forwardBy: Int(length))
            lastActivity = monotonicNanoseconds()
            answering.recordResponseTime(nanoseconds: lastActivity - arrival, answers: 1)
            guard outcome.length > 0 else { continue }
            if responses == nil { responses = context.channel.allocator.buffer(capacity: outcome.length + 2) }
            responses!.writeInteger(UInt16(outcome.length))
            responses!.writeBytes(UnsafeRawBufferPointer(rebasing: answering.output[0..<outcome.length]))
        }
        if input.readableBytes > 0 {
            input.discardReadBytes()
            partial = input
        }
        if let responses {
            context.write(wrapOutboundOut(responses), promise: nil)
            pendingFlush = true
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if pendingFlush {
            pendingFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    // Back-pressure: hold reads while our answers are not being taken.
    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readPending {
            readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Shutting down: every query read so far has been answered, so flush and close.
        if event is ChannelShouldQuiesceEvent {
            context.flush()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
