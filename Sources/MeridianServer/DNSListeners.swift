#if canImport(Glibc)
import Glibc
#endif
import Atomics
import Logging
import MeridianConfig
import NIOCore
import NIOExtras
import NIOPosix

/// The DNS sockets: on every listen address one UDP socket per usable CPU, each served by its
/// own batched worker thread (SO_REUSEPORT lets the kernel spread clients over them), and
/// one TCP listener whose connections are spread over the NIO event loops. Every worker and
/// every event loop answers through its own `AnsweringContext`, made by the publisher.
final class DNSListeners: Sendable {
    private let workers: [UDPWorker]
    private let tcpContexts: [AnsweringContext]
    private let publisher: SnapshotPublisher
    private let group: MultiThreadedEventLoopGroup
    private let quiesce: ServerQuiescingHelper
    private let logger: Logger

    /// Binds everything or fails with the address that could not be bound.
    static func start(settings: DNSSettings, publisher: SnapshotPublisher, threads: Int, logger: Logger) async throws -> DNSListeners {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let tcpContexts = group.makeIterator().enumerated().map { index, loop in
            publisher.makeContext(name: "tcp#\(index)", owner: .eventLoop(loop))
        }
        let quiesce = ServerQuiescingHelper(group: group)
        let connections = ManagedAtomic(0)
        var channels: [any Channel] = []
        var workers: [UDPWorker] = []
        do {
            for address in settings.listen {
                let socketAddress = try SocketAddress(ipAddress: address.host.description, port: Int(address.port))
                for index in 0..<threads {
                    let context = publisher.makeContext(name: "udp \(address)#\(index)", owner: .worker)
                    workers.append(try socketAddress.withSockAddr { pointer, length in
                        var storage = sockaddr_storage()
                        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: length)) }
                        return try UDPWorker(address: storage, addressLength: socklen_t(length), context: context)
                    })
                }
                channels.append(try await bindTCP(socketAddress, settings: settings, group: group, contexts: tcpContexts,
                                                  quiesce: quiesce, connections: connections))
                logger.info("listening", metadata: ["address": "\(address)", "udp_threads": "\(threads)"])
            }
        } catch {
            for worker in workers {
                close(worker.fd)
                publisher.retire(worker.context)
            }
            for channel in channels { try? await channel.close() }
            for context in tcpContexts { publisher.retire(context) }
            try? await group.shutdownGracefully()
            throw error
        }
        for worker in workers { worker.start() }
        return DNSListeners(workers: workers, tcpContexts: tcpContexts, publisher: publisher, group: group, quiesce: quiesce,
                            logger: logger)
    }

    private init(workers: [UDPWorker], tcpContexts: [AnsweringContext], publisher: SnapshotPublisher,
                 group: MultiThreadedEventLoopGroup, quiesce: ServerQuiescingHelper, logger: Logger) {
        self.workers = workers
        self.tcpContexts = tcpContexts
        self.publisher = publisher
        self.group = group
        self.quiesce = quiesce
        self.logger = logger
    }

    private static func bindTCP(_ address: SocketAddress, settings: DNSSettings, group: MultiThreadedEventLoopGroup,
                                contexts: [AnsweringContext], quiesce: ServerQuiescingHelper,
                                connections: ManagedAtomic<Int>) async throws -> any Channel {
        // Keep [::] from also taking the IPv4 port, so both families can be listed.
        let v6Only = ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only)
        let isIPv6 = address.protocol == .inet6
        let maxConnections = settings.tcpMaxConnections
        let idle = TimeAmount.nanoseconds(Int64(settings.tcpIdleTimeout.components.seconds) * 1_000_000_000
            + settings.tcpIdleTimeout.components.attoseconds / 1_000_000_000)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if isIPv6 { try channel.syncOptions?.setOption(v6Only, value: 1) }
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 128 * 1024))
            .childChannelInitializer { channel in
                // Over the limit: refuse the connection at once rather than queue it.
                if connections.wrappingIncrementThenLoad(ordering: .relaxed) > maxConnections {
                    connections.wrappingDecrement(ordering: .relaxed)
                    return channel.close()
                }
                guard case let context? = contexts.first(where: { context in
                    if case .eventLoop(let loop) = context.owner { return loop === channel.eventLoop }
                    return false
                }) else {
                    connections.wrappingDecrement(ordering: .relaxed)
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        TCPQueryHandler(answering: context, idleTimeout: idle, connections: connections))
                }
            }
            .bind(to: address)
            .get()
    }

    /// Stops accepting, lets open TCP connections finish their in-flight answers, then stops
    /// the UDP workers and the event loops.
    func shutdown() async {
        let promise = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: promise)
        for worker in workers { worker.stop() }
        try? await promise.futureResult.get()
        for worker in workers {
            for await _ in worker.finished {}
            publisher.retire(worker.context)
        }
        for context in tcpContexts {
            await context.refreshSharedCounts()
            publisher.retire(context)
        }
        try? await group.shutdownGracefully()
    }
}
