import MeridianConfig
import NIOCore
import NIOPosix

/// Passes when a TCP connection to `host:port` is established within the timeout; the
/// connection is closed at once without sending anything.
public struct TCPProbe: HealthProbe {
    public let host: String
    public let port: Int
    public let timeout: Duration
    /// Set when `host` is an address, so no resolver is involved.
    private let address: SocketAddress?

    public init(host: String, port: Int, timeout: Duration) {
        self.host = host
        self.port = port
        self.timeout = timeout
        address = IPAddress(host) == nil ? nil : try? SocketAddress(ipAddress: host, port: port)
    }

    public func check(on eventLoop: any EventLoop) -> EventLoopFuture<ProbeResult> {
        let start = NIODeadline.now()
        // The connect timeout covers name resolution and every address tried.
        let bootstrap = ClientBootstrap(group: eventLoop).connectTimeout(TimeAmount(timeout))
        let connected = address.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: host, port: port)
        return connected.hop(to: eventLoop).map { channel in
            let latency = Duration(NIODeadline.now() - start)
            channel.close(promise: nil)
            return ProbeResult(passed: true, latency: latency, reason: "connected")
        }.recover { error in
            let reason: String
            switch ProbeFailure.classify(error, timeout: timeout) {
            case .reason(let text): reason = text
            case .certificateVerificationFailed: reason = "TLS: certificate not trusted"
            }
            return ProbeResult(passed: false, latency: Duration(NIODeadline.now() - start), reason: reason)
        }
    }
}
