#if canImport(Glibc)
import Glibc
#endif
import Logging
import MeridianConfig
import MeridianWire
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix

/// The DNS sockets at work: on every listen address one UDP socket per usable CPU, each
/// served by its own batched worker thread (SO_REUSEPORT lets the kernel spread clients over
/// them), and one TCP listener whose connections are spread over the NIO event loops. Every
/// worker and every event loop answers through its own `AnsweringContext`, made by the
/// publisher. TCP connections are admitted by `TCPAdmission` (a total and a per-client cap);
/// when the total is reached a new connection closes the least recently active idle one.
final class DNSListeners: Sendable {
    private let workers: [UDPWorker]
    private let tcpContexts: [AnsweringContext]
    private let publisher: SnapshotPublisher
    private let group: MultiThreadedEventLoopGroup
    /// One per TCP listener (a helper follows a single server channel). Released before the
    /// event loops stop: a helper's deinit completes a promise on one of them.
    private let quiescers: NIOLockedValueBox<[ServerQuiescingHelper]>
    private let logger: Logger

    /// Starts serving the sockets `DNSSockets` bound; they are closed when this fails.
    static func start(sockets: DNSSockets, settings: DNSSettings, publisher: SnapshotPublisher, threads: Int,
                      logger: Logger) async throws -> DNSListeners {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let loops = group.makeIterator().enumerated().map { index, loop in
            LoopTCPConnections(eventLoop: loop, answering: publisher.makeContext(name: "tcp#\(index)", owner: .eventLoop(loop)))
        }
        let admission = TCPAdmission(maximum: settings.tcpMaxConnections, maximumPerClient: settings.tcpMaxConnectionsPerClient)
        var quiescers: [ServerQuiescingHelper] = []
        var channels: [any Channel] = []
        var workers: [UDPWorker] = []
        var taken = 0
        do {
            for bound in sockets.bound {
                for (index, fd) in bound.udp.enumerated() {
                    let context = publisher.makeContext(name: "udp \(bound.address)#\(index)", owner: .worker)
                    workers.append(UDPWorker(fd: fd, context: context))
                }
                let quiesce = ServerQuiescingHelper(group: group)
                quiescers.append(quiesce)
                channels.append(try await serveTCP(bound.tcp, settings: settings, group: group, loops: loops, admission: admission,
                                                   quiesce: quiesce))
                taken += 1
                logger.info("listening", metadata: ["address": "\(bound.address)", "udp_threads": "\(bound.udp.count)"])
            }
        } catch {
            for worker in workers {
                close(worker.fd)
                publisher.retire(worker.context)
            }
            for bound in sockets.bound.dropFirst(taken) { close(bound.tcp) }
            for channel in channels { try? await channel.close() }
            for loop in loops { publisher.retire(loop.answering) }
            quiescers = []
            try? await group.shutdownGracefully()
            throw error
        }
        for (number, worker) in workers.enumerated() { worker.start(number: number) }
        return DNSListeners(workers: workers, tcpContexts: loops.map(\.answering), publisher: publisher, group: group,
                            quiescers: quiescers, logger: logger)
    }

    private init(workers: [UDPWorker], tcpContexts: [AnsweringContext], publisher: SnapshotPublisher,
                 group: MultiThreadedEventLoopGroup, quiescers: [ServerQuiescingHelper], logger: Logger) {
        self.workers = workers
        self.tcpContexts = tcpContexts
        self.publisher = publisher
        self.group = group
        self.quiescers = NIOLockedValueBox(quiescers)
        self.logger = logger
    }

    private static func serveTCP(_ fd: Int32, settings: DNSSettings, group: MultiThreadedEventLoopGroup,
                                 loops: [LoopTCPConnections], admission: TCPAdmission,
                                 quiesce: ServerQuiescingHelper) async throws -> any Channel {
        let idle = TimeAmount.nanoseconds(Int64(settings.tcpIdleTimeout.components.seconds) * 1_000_000_000
            + settings.tcpIdleTimeout.components.attoseconds / 1_000_000_000)
        return try await ServerBootstrap(group: group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 128 * 1024))
            .childChannelInitializer { channel in
                guard let connections = loops.first(where: { $0.eventLoop === channel.eventLoop }) else {
                    return channel.close()
                }
                let client = ClientAddress(channel.remoteAddress)
                switch admission.admit(client) {
                case .admitted:
                    break
                case .clientAtLimit:
                    connections.answering.countTCP(.refused)
                    return channel.close()
                case .overTotal:
                    guard connections.evictLeastRecentlyActive() else {
                        admission.release(client)
                        connections.answering.countTCP(.refused)
                        return channel.close()
                    }
                    connections.answering.countTCP(.evicted)
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        TCPQueryHandler(connections: connections, client: client, clientPort: UInt16(channel.remoteAddress?.port ?? 0),
                                        idleTimeout: idle, admission: admission))
                }
            }
            .withBoundSocket(fd)
            .get()
    }

    /// Stops accepting, lets open TCP connections finish their in-flight answers, then stops
    /// the UDP workers and the event loops.
    func shutdown() async {
        let closed = quiescers.withLockedValue { quiescers in
            defer { quiescers = [] }
            return quiescers.map { quiesce in
                let promise = group.next().makePromise(of: Void.self)
                quiesce.initiateShutdown(promise: promise)
                return promise.futureResult
            }
        }
        for worker in workers { worker.stop() }
        for listener in closed { try? await listener.get() }
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
