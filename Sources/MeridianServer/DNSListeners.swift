#if canImport(Glibc)
import Glibc
#endif
import Logging
import MeridianConfig
import MeridianWire

/// The DNS sockets at work: on every listen address one UDP socket and one listening TCP
/// socket per usable CPU (SO_REUSEPORT lets the kernel spread clients over them), each UDP
/// socket served by its own batched worker thread, and each TCP worker thread accepting from
/// its own TCP socket on every address. Every worker answers through its own `AnsweringContext`, made by the publisher. TCP
/// connections are admitted by `TCPAdmission` (a total and a per-client cap); when the total
/// is reached a new connection closes the least recently active idle one.
final class DNSListeners: Sendable {
    private let udpWorkers: [UDPWorker]
    private let tcpWorkers: [TCPWorker]
    private let tcpListeners: [Int32]
    private let publisher: SnapshotPublisher

    /// Starts serving the sockets `DNSSockets` bound; they are closed when this fails.
    static func start(sockets: DNSSockets, settings: DNSSettings, publisher: SnapshotPublisher, threads: Int,
                      logger: Logger) throws(DNSWorkerError) -> DNSListeners {
        let admission = TCPAdmission(maximum: settings.tcpMaxConnections, maximumPerClient: settings.tcpMaxConnectionsPerClient)
        var udpWorkers: [UDPWorker] = []
        var tcpWorkers: [TCPWorker] = []
        let tcpThreads = sockets.bound.map(\.tcp.count).min() ?? 0
        do throws(DNSWorkerError) {
            for index in 0..<tcpThreads {
                let context = publisher.makeContext(name: "tcp#\(index)")
                do throws(DNSWorkerError) {
                    tcpWorkers.append(try TCPWorker(listeners: sockets.bound.map { $0.tcp[index] }, context: context,
                                                    admission: admission, idleTimeout: settings.tcpIdleTimeout))
                } catch {
                    publisher.retire(context)
                    throw error
                }
            }
        } catch {
            for worker in tcpWorkers {
                worker.closeUnstarted()
                publisher.retire(worker.context)
            }
            for bound in sockets.bound {
                for fd in bound.udp + bound.tcp { close(fd) }
            }
            throw error
        }
        for bound in sockets.bound {
            for (index, fd) in bound.udp.enumerated() {
                udpWorkers.append(UDPWorker(fd: fd, context: publisher.makeContext(name: "udp \(bound.address)#\(index)")))
            }
            logger.info("listening", metadata: ["address": "\(bound.address)", "udp_threads": "\(bound.udp.count)",
                                                "tcp_threads": "\(bound.tcp.count)"])
        }
        for (number, worker) in udpWorkers.enumerated() { worker.start(number: number) }
        for (number, worker) in tcpWorkers.enumerated() { worker.start(number: number) }
        return DNSListeners(udpWorkers: udpWorkers, tcpWorkers: tcpWorkers, tcpListeners: sockets.bound.flatMap(\.tcp),
                            publisher: publisher)
    }

    private init(udpWorkers: [UDPWorker], tcpWorkers: [TCPWorker], tcpListeners: [Int32], publisher: SnapshotPublisher) {
        self.udpWorkers = udpWorkers
        self.tcpWorkers = tcpWorkers
        self.tcpListeners = tcpListeners
        self.publisher = publisher
    }

    /// Stops every worker: each finishes the batch or the reads in hand, TCP workers write
    /// the answers their clients have not taken yet as far as the sockets take them, and
    /// close their connections. Then the listening sockets close.
    func shutdown() async {
        for worker in udpWorkers { worker.stop() }
        for worker in tcpWorkers { worker.stop() }
        for worker in udpWorkers {
            for await _ in worker.finished {}
            publisher.retire(worker.context)
        }
        for worker in tcpWorkers {
            for await _ in worker.finished {}
            publisher.retire(worker.context)
        }
        for listener in tcpListeners { close(listener) }
    }
}
