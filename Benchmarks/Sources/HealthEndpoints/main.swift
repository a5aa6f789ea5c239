// Local HTTP endpoints for HealthCheckLoad: PORTS servers from FIRST_PORT on 127.0.0.1, each
// answering every request with 200 "ok".   HealthEndpoints FIRST_PORT PORTS
import NIOCore
import NIOHTTP1
import NIOPosix

final class Handler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "2")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
let port = Int(CommandLine.arguments[1])!
let ports = Int(CommandLine.arguments[2])!
var channels: [any Channel] = []
for p in port..<(port + ports) {
let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(Handler())
        }
    }
    .bind(host: "127.0.0.1", port: p).get()
channels.append(channel)
}
try await channels[0].closeFuture.get()
