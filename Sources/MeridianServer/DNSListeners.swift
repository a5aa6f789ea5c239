#if canImport(Glibc)
import Glibc
#endif
import Atomics
import Logging
import MeridianAuthority
import MeridianConfig
import MeridianRouting
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix

/// The DNS sockets: on every listen address one UDP socket per event loop (SO_REUSEPORT
/// lets the kernel spread datagrams over the cores) and one TCP listener whose
/// connections are spread over the loops.
public final class DNSListeners: Sendable {
    public let contexts: [LoopContext]
    let group: MultiThreadedEventLoopGroup
    let channels: [any Channel]
    let quiesce: ServerQuiescingHelper
    let connections: ManagedAtomic<Int>
    let logger: Logger

    static let datagramsPerRead = 16
    /// Largest UDP query read whole; longer datagrams are cut and answered FORMERR. Real
    /// queries are a few hundred bytes; EDNS padding and cookies stay far below this.
    static let largestUDPQuery = 16 * 1024

    /// Binds everything or fails with the address that could not be bound.
    public static func start(settings: DNSSettings, snapshot: AuthoritySnapshot, threads: Int,
                             logger: Logger) async throws -> DNSListeners {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let contexts = group.makeIterator().map { LoopContext(eventLoop: $0, snapshot: snapshot) }
        let quiesce = ServerQuiescingHelper(group: group)
        let connections = ManagedAtomic(0)
        var channels: [any Channel] = []
        do {
            for address in settings.listen {
                let socketAddress = try SocketAddress(ipAddress: address.host.description, port: Int(address.port))
                let isIPv6 = socketAddress.protocol == .inet6
                // Keep [::] from also taking the IPv4 port, so both families can be listed.
                let v6Only = ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only)
                for context in contexts {
                    let channel = try await DatagramBootstrap(group: context.eventLoop)
                        .channelOption(.socketOption(.so_reuseaddr), value: 1)
                        .channelOption(ChannelOptions.Types.SocketOption(level: .socket, name: NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
                        // Vector reads (recvmmsg) split one receive buffer evenly across the
                        // messages, so the buffer holds a full-size query for each of them.
                        .channelOption(.datagramVectorReadMessageCount, value: Self.datagramsPerRead)
                        .channelOption(.maxMessagesPerRead, value: UInt(Self.datagramsPerRead))
                        .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(
                            capacity: Self.datagramsPerRead * Self.largestUDPQuery))
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                if isIPv6 {
                                    try channel.syncOptions?.setOption(v6Only, value: 1)
                                }
                                try channel.pipeline.syncOperations.addHandler(UDPQueryHandler(loop: context))
                            }
                        }
                        .bind(to: socketAddress)
                        .get()
                    channels.append(channel)
                }
                let maxConnections = settings.tcpMaxConnections
                let idle = TimeAmount.nanoseconds(Int64(settings.tcpIdleTimeout.components.seconds) * 1_000_000_000
                    + settings.tcpIdleTimeout.components.attoseconds / 1_000_000_000)
                let tcp = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if isIPv6 {
                                try channel.syncOptions?.setOption(v6Only, value: 1)
                            }
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
                        guard let loop = contexts.first(where: { $0.eventLoop === channel.eventLoop }) else {
                            connections.wrappingDecrement(ordering: .relaxed)
                            return channel.close()
                        }
                        return channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandlers([
                                ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .twoBytes)),
                                TCPQueryHandler(loop: loop, idleTimeout: idle, connections: connections),
                            ])
                        }
                    }
                    .bind(to: socketAddress)
                    .get()
                channels.append(tcp)
                logger.info("listening", metadata: ["address": "\(address)", "udp_sockets": "\(contexts.count)"])
            }
        } catch {
            for channel in channels { try? await channel.close() }
            try? await group.shutdownGracefully()
            throw error
        }
        return DNSListeners(group: group, contexts: contexts, channels: channels, quiesce: quiesce,
                            connections: connections, logger: logger)
    }

    private init(group: MultiThreadedEventLoopGroup, contexts: [LoopContext], channels: [any Channel],
                 quiesce: ServerQuiescingHelper, connections: ManagedAtomic<Int>, logger: Logger) {
        self.group = group
        self.contexts = contexts
        self.channels = channels
        self.quiesce = quiesce
        self.connections = connections
        self.logger = logger
    }

    /// Answers per edge and pool name from routing tables no longer served.
    private let retiredAnswers = NIOLockedValueBox<(edges: [String: Int], pools: [String: Int])>(([:], [:]))

    /// Makes every loop serve `snapshot`; returns once all of them do.
    public func publish(_ snapshot: AuthoritySnapshot) async throws {
        for context in contexts {
            let handed = try await context.eventLoop.submit { context.install(snapshot) }.get()
            guard let handed else { continue }
            retiredAnswers.withLockedValue { retired in
                for (index, count) in handed.edgeAnswers.enumerated() where count > 0 {
                    retired.edges[handed.old.routing.edges[index].name, default: 0] += count
                }
                for (index, count) in handed.poolAnswers.enumerated() where count > 0 {
                    retired.pools[handed.old.routing.pools[index].name, default: 0] += count
                }
            }
        }
    }

    /// Dynamic answers per edge and pool name since start, across reloads.
    public func answersByName() async throws -> (edges: [String: Int], pools: [String: Int]) {
        var (edges, pools) = retiredAnswers.withLockedValue { $0 }
        for context in contexts {
            let (routing, counters) = try await context.eventLoop.submit { (context.snapshot.routing, context.counters) }.get()
            for (index, count) in counters.edgeAnswers.enumerated() where index < routing.edges.count {
                edges[routing.edges[index].name, default: 0] += count
            }
            for (index, count) in counters.poolAnswers.enumerated() where index < routing.pools.count {
                pools[routing.pools[index].name, default: 0] += count
            }
        }
        return (edges, pools)
    }

    /// Counters summed over all loops.
    public func counters() async throws -> QueryCounters {
        var total = QueryCounters()
        for context in contexts {
            total.add(try await context.eventLoop.submit { context.counters }.get())
        }
        return total
    }

    /// Stops accepting, lets open TCP connections finish their in-flight answers, closes
    /// the UDP sockets and stops the loops.
    public func shutdown() async {
        let promise = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: promise)
        try? await promise.futureResult.get()
        // The TCP listeners are closed by now; this closes the UDP sockets.
        for channel in channels {
            try? await channel.close()
        }
        try? await group.shutdownGracefully()
    }
}
