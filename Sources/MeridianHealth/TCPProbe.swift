import MeridianConfig
import NIOCore
import NIOPosix

/// Passes when a TCP connection to `host:port` is established within the timeout; the
/// connection is closed at once without sending anything.
public struct TCPProbe: HealthProbe {
    public let host: String
    public let port: Int
    public let timeout: Duration
    let group: any EventLoopGroup

    public init(host: String, port: Int, timeout: Duration, eventLoopGroup: any EventLoopGroup) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.group = eventLoopGroup
    }

    public func check() async -> ProbeResult {
        let clock = ContinuousClock()
        let start = clock.now
        // The connect timeout covers name resolution and every address tried.
        let bootstrap = ClientBootstrap(group: group).connectTimeout(TimeAmount(timeout))
        do {
            let channel: any Channel
            if IPAddress(host) != nil, let address = try? SocketAddress(ipAddress: host, port: port) {
                channel = try await bootstrap.connect(to: address).get()
            } else {
                channel = try await bootstrap.connect(host: host, port: port).get()
            }
            let latency = clock.now - start
            channel.close(promise: nil)
            return ProbeResult(passed: true, latency: latency, reason: "connected")
        } catch {
            let reason: String
            switch ProbeFailure.classify(error, timeout: timeout) {
            case .reason(let text): reason = text
            case .certificateVerificationFailed: reason = "TLS: certificate not trusted"
            }
            return ProbeResult(passed: false, latency: clock.now - start, reason: reason)
        }
    }
}
