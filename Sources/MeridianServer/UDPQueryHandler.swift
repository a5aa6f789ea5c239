import MeridianAuthority
import MeridianWire
import NIOCore

/// Answers datagrams. Replies are flushed once per read batch.
final class UDPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let loop: LoopContext
    private var pendingFlush = false

    init(loop: LoopContext) {
        self.loop = loop
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let outcome = loop.answer(envelope.data, from: ClientAddress(envelope.remoteAddress), over: .udp)
        guard outcome.length > 0 else { return }
        var response = context.channel.allocator.buffer(capacity: outcome.length)
        response.writeBytes(UnsafeRawBufferPointer(rebasing: loop.output[0..<outcome.length]))
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: response)), promise: nil)
        pendingFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if pendingFlush {
            pendingFlush = false
            context.flush()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors and the like concern one client; the socket keeps serving.
    }
}
