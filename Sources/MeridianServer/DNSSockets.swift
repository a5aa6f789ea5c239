#if canImport(Glibc)
import Glibc
#endif
import MeridianConfig
import NIOCore

/// Why a DNS port could not be opened, in the one line an operator needs:
/// `127.0.0.1:5300/udp: address already in use`.
public struct DNSSocketError: Error, CustomStringConvertible, Sendable {
    public let address: ListenAddress
    /// `udp` or `tcp`.
    public let transport: String
    public let operation: String
    public let code: Int32

    public var description: String {
        let reason = String(cString: strerror(code))
        let text = reason.prefix(1).lowercased() + reason.dropFirst()
        return operation == "bind" ? "\(address)/\(transport): \(text)" : "\(address)/\(transport): \(operation): \(text)"
    }
}

/// Every DNS socket, bound before anything else starts (health checks, the control socket,
/// the stats port), so a port that is taken stops the start at once and names itself. On
/// each listen address, `perAddress` UDP sockets and as many listening TCP sockets, sharing
/// it through SO_REUSEPORT: one of each per answering thread, so the kernel spreads
/// datagrams and new connections over the threads evenly. The sockets are plain descriptors until
/// `DNSListeners` takes them (a start that fails before then exits, which closes them).
public struct DNSSockets: Sendable {
    public struct Bound: Sendable {
        public let address: ListenAddress
        public let udp: [Int32]
        public let tcp: [Int32]
    }

    public let bound: [Bound]

    /// The pending-connection queue of each TCP socket.
    static let tcpBacklog: Int32 = 256

    /// Binds every address or none: on failure the sockets already open are closed.
    public static func bind(_ listen: [ListenAddress], perAddress: Int) throws(DNSSocketError) -> DNSSockets {
        var bound: [Bound] = []
        var opened: [Int32] = []
        do throws(DNSSocketError) {
            for address in listen {
                let storage = socketAddress(address)
                var udp: [Int32] = []
                var tcp: [Int32] = []
                for _ in 0..<max(1, perAddress) {
                    let fd = try openSocket(storage, for: address, transport: "udp")
                    opened.append(fd)
                    udp.append(fd)
                }
                for _ in 0..<max(1, perAddress) {
                    let fd = try openSocket(storage, for: address, transport: "tcp")
                    opened.append(fd)
                    tcp.append(fd)
                }
                bound.append(Bound(address: address, udp: udp, tcp: tcp))
            }
        } catch {
            for fd in opened { close(fd) }
            throw error
        }
        return DNSSockets(bound: bound)
    }

    /// Every descriptor held, for the descriptor budget.
    public var count: Int { bound.reduce(0) { $0 + $1.udp.count + $1.tcp.count } }

    private static func socketAddress(_ address: ListenAddress) -> (storage: sockaddr_storage, length: socklen_t) {
        var storage = sockaddr_storage()
        var length: socklen_t = 0
        // The address was validated by the configuration: it always converts.
        let nioAddress = try! SocketAddress(ipAddress: address.host.description, port: Int(address.port))
        nioAddress.withSockAddr { pointer, size in
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: size)) }
            length = socklen_t(size)
        }
        return (storage, length)
    }

    private static func openSocket(_ address: (storage: sockaddr_storage, length: socklen_t), for listenAddress: ListenAddress,
                                   transport: String) throws(DNSSocketError) -> Int32 {
        let family = Int32(address.storage.ss_family)
        let type = transport == "udp" ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(family, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DNSSocketError(address: listenAddress, transport: transport, operation: "socket", code: errno) }
        var on: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        // One socket per answering thread on the same address; the kernel spreads clients.
        // SO_REUSEPORT only shares the port with sockets of the same user. On UDP SO_REUSEADDR
        // is left off: it would let any process that sets it too bind the same address and
        // port and take the queries (or, for a client such as dig, pick the server's port as
        // its own and receive its own query back).
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, size)
        if transport == "udp" {
            var wake = UDPWorker.wakeInterval
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wake, socklen_t(MemoryLayout<timeval>.size))
        } else {
            // A restart binds the TCP port again while the last connections are in TIME_WAIT.
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, size)
            // The TCP worker accepts until there is nothing left, and must not block then.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        // Keep [::] from also taking the IPv4 port, so both families can be listed.
        if family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, size) }
        var storage = address.storage
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, address.length) }
        }
        if result != 0 {
            let code = errno
            close(fd)
            throw DNSSocketError(address: listenAddress, transport: transport, operation: "bind", code: code)
        }
        if transport == "tcp" && listen(fd, tcpBacklog) != 0 {
            let code = errno
            close(fd)
            throw DNSSocketError(address: listenAddress, transport: transport, operation: "listen", code: code)
        }
        return fd
    }
}
