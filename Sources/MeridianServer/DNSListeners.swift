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

/// The DNS sockets: on every listen address one UDP socket per core, each served by its
/// own batched worker thread (SO_REUSEPORT lets the kernel spread clients over them), and
/// one TCP listener whose connections are spread over the NIO event loops.
public final class DNSListeners: Sendable {
    /// TCP: one context per event loop.
    public let contexts: [LoopContext]
    /// UDP: batched workers, `threads` per address.
    let workers: [UDPWorker]
    let group: MultiThreadedEventLoopGroup
    let channels: [any Channel]
    let quiesce: ServerQuiescingHelper
    let connections: ManagedAtomic<Int>
    let logger: Logger


    /// Binds everything or fails with the address that could not be bound.
    public static func start(settings: DNSSettings, snapshot: AuthoritySnapshot, threads: Int,
                             logger: Logger) async throws -> DNSListeners {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let contexts = group.makeIterator().map { LoopContext(eventLoop: $0, snapshot: snapshot) }
        let quiesce = ServerQuiescingHelper(group: group)
        let connections = ManagedAtomic(0)
        var channels: [any Channel] = []
        var workers: [UDPWorker] = []
        do {
            for address in settings.listen {
                let socketAddress = try SocketAddress(ipAddress: address.host.description, port: Int(address.port))
                let isIPv6 = socketAddress.protocol == .inet6
                // Keep [::] from also taking the IPv4 port, so both families can be listed.
                let v6Only = ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only)
                var storage = sockaddr_storage()
                let storageLength = socketAddress.withSockAddr { address, length in
                    withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: length)) }
                    return socklen_t(length)
                }
                for index in 0..<threads {
                    let worker = try UDPWorker(address: storage, addressLength: storageLength, snapshot: snapshot,
                                               name: "\(address)#\(index)")
                    workers.append(worker)
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
                            try channel.pipeline.syncOperations.addHandler(
                                TCPQueryHandler(loop: loop, idleTimeout: idle, connections: connections))
                        }
                    }
                    .bind(to: socketAddress)
                    .get()
                channels.append(tcp)
                logger.info("listening", metadata: ["address": "\(address)", "udp_threads": "\(threads)"])
            }
        } catch {
            for worker in workers { close(worker.fd) }
            for channel in channels { try? await channel.close() }
            try? await group.shutdownGracefully()
            throw error
        }
        for worker in workers { worker.start() }
        return DNSListeners(group: group, contexts: contexts, workers: workers, channels: channels, quiesce: quiesce,
                            connections: connections, logger: logger)
    }

    private init(group: MultiThreadedEventLoopGroup, contexts: [LoopContext], workers: [UDPWorker], channels: [any Channel],
                 quiesce: ServerQuiescingHelper, connections: ManagedAtomic<Int>, logger: Logger) {
        self.group = group
        self.contexts = contexts
        self.workers = workers
        self.channels = channels
        self.quiesce = quiesce
        self.connections = connections
        self.logger = logger
    }

    /// Answers per edge and pool name from routing tables no longer served.
    private let retiredAnswers = NIOLockedValueBox<(edges: [String: Int], pools: [String: Int])>(([:], [:]))

    /// Makes every loop and worker serve `snapshot`; returns once all of them do.
    public func publish(_ snapshot: AuthoritySnapshot) async throws {
        let generations = workers.map { $0.publish(snapshot) }
        for context in contexts {
            try await install(snapshot, on: context).get()
        }
        await waitForWorkers(generations)
    }

    /// Swaps the snapshot on one loop; answer counts of a replaced routing table are kept by name.
    private func install(_ snapshot: AuthoritySnapshot, on context: LoopContext) -> EventLoopFuture<Void> {
        context.eventLoop.submit { context.install(snapshot) }.map { [retiredAnswers] handed in
            guard let handed else { return }
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

    /// Hands `snapshot` to every worker and loop without waiting for them to take it (health
    /// changes: many, small, and ordered by the caller).
    public func publishWithoutWaiting(_ snapshot: AuthoritySnapshot) {
        for worker in workers { _ = worker.publish(snapshot) }
        for context in contexts { _ = install(snapshot, on: context) }
    }

    /// Waits until every UDP worker answers from the generation it was given; an idle worker
    /// wakes within `UDPWorker.wakeInterval`.
    private func waitForWorkers(_ generations: [Int]) async {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if zip(workers, generations).allSatisfy({ $0.serves(generation: $1) }) { return }
            try? await Task.sleep(for: .milliseconds(2))
        }
        logger.warning("a UDP worker did not pick up new data within 5 s")
    }

    /// Dynamic answers per edge and pool name since start, across reloads.
    public func answersByName() async throws -> (edges: [String: Int], pools: [String: Int]) {
        var (edges, pools) = retiredAnswers.withLockedValue { $0 }
        for worker in workers {
            let retired = worker.retiredAnswers.withLockedValue { $0 }
            edges.merge(retired.edges, uniquingKeysWith: +)
            pools.merge(retired.pools, uniquingKeysWith: +)
        }
        var perSource: [(RoutingTable, QueryCounters)] = workers.map { worker in
            let (counters, snapshot) = worker.counters()
            return (snapshot.routing, counters)
        }
        for context in contexts {
            perSource.append(try await context.eventLoop.submit { (context.snapshot.routing, context.counters) }.get())
        }
        for (routing, counters) in perSource {
            for (index, count) in counters.edgeAnswers.enumerated() where index < routing.edges.count {
                edges[routing.edges[index].name, default: 0] += count
            }
            for (index, count) in counters.poolAnswers.enumerated() where index < routing.pools.count {
                pools[routing.pools[index].name, default: 0] += count
            }
        }
        return (edges, pools)
    }

    /// Counters summed over all loops and workers.
    public func counters() async throws -> QueryCounters {
        var total = QueryCounters()
        for worker in workers {
            var counts = worker.counters().0
            counts.edgeAnswers = []
            counts.poolAnswers = []
            total.add(counts)
        }
        for context in contexts {
            total.add(try await context.eventLoop.submit { context.counters }.get())
        }
        return total
    }

    /// Stops accepting, lets open TCP connections finish their in-flight answers, stops the
    /// UDP workers and the loops.
    public func shutdown() async {
        let promise = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: promise)
        for worker in workers { worker.stop() }
        try? await promise.futureResult.get()
        let deadline = ContinuousClock.now + .seconds(2)
        while !workers.allSatisfy(\.isFinished), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        try? await group.shutdownGracefully()
    }
}
